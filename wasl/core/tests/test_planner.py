"""The migration step that gives SQLite's planner statistics for the indexes a migration
adds."""

from __future__ import annotations

import pytest
from django.db import connection

from wasl.core.planner import analyse_new_indexes

pytestmark = pytest.mark.django_db


class _Editor:
    connection = connection


def _stat(index: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = %s", [index])
        row = cursor.fetchone()
    return row[0] if row else None


def test_new_indexes_get_statistics_where_the_database_keeps_them(personas):
    # An index of a table with rows (ANALYZE writes nothing for an empty one).
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE idx = 'accounts_user_team_id_27b7f1fa'")
    assert _stat("accounts_user_team_id_27b7f1fa") is None
    analyse_new_indexes("accounts_user_team_id_27b7f1fa")(None, _Editor())
    assert _stat("accounts_user_team_id_27b7f1fa") is not None


def test_a_database_without_statistics_is_left_without(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            pytest.skip("this test database already keeps statistics")
    analyse_new_indexes("deal_closed_outcome")(None, _Editor())
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone() is None
