"""The open-activity indexes and the filters that use them.

The open and overdue lists read partial indexes over activities not done
(`WHERE done_at IS NULL`). A database only uses such an index when the query carries that
very condition, and SQLite only prefers it when it knows open activities are many rows:
these tests pin both, with the statistics of the 2M-activity benchmark database loaded
into SQLite's planner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from wasl.activities import services
from wasl.activities.models import Activity
from wasl.activities.selectors import activity_list, filter_status, my_open_tasks
from wasl.core.testing import load_sqlite_statistics

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
OPEN_INDEXES = ("activity_open_due", "activity_open_upd", "activity_open_owner_upd")

# sqlite_stat1 of the L benchmark database (2,000,000 activities, 79,735 of them open, 16
# users of whom 14 own activities), as ANALYZE wrote it.
L_USER_STATISTICS = {
    "accounts_user_team_id_27b7f1fa": "16 4",
    "sqlite_autoindex_accounts_user_1": "16 1",
    "sqlite_autoindex_accounts_user_2": "16 1",
}
L_STATISTICS = {
    "activity_owner_upd_kind": "2000000 142858 1 1 1",
    "activity_team_upd": "2000000 666667 1 1",
    "activity_upd": "2000000 1 1",
    "activity_owner_done_kind": "2000000 142858 1 1 1 1 1",
    "activity_due": "2000000 3 1",
    "activity_done": "2000000 3 1 1 1 1",
    "activity_contact": "2000000 3 1",
    "activity_company": "2000000 21 1",
    "activity_lead": "2000000 24 1",
    "activity_deal": "2000000 9 1",
    "activity_open_due": "79735 2 1 1 1 1",
    "activity_open_upd": "79735 1 1",
    "activity_open_owner_upd": "79735 5696 1 1",
}


@pytest.fixture
def activities(personas):
    now = timezone.now()

    def make(subject, actor=personas.rep_a, **fields):
        return services.activity_create(
            actor=actor, subject=subject, **{"kind": "task", "due_at": now, **fields}
        )

    return {
        "overdue": make("overdue", due_at=now - 2 * HOUR),
        "later": make("later", kind="call", due_at=now + 2 * HOUR),
        "undated": make("undated", due_at=None),
        "done": make("done", due_at=now - 3 * HOUR, done_at=now - HOUR),
        "note": make("a note", kind="note", due_at=None),
        "theirs": make("theirs", actor=personas.rep_c, due_at=now - HOUR),
    }


def subjects(queryset) -> set[str]:
    return {a.subject for a in queryset}


def test_the_open_activity_indexes_are_partial_over_activities_not_done():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (%s, %s, %s)",
                OPEN_INDEXES,
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN (%s, %s, %s)",
                OPEN_INDEXES,
            )
        found = dict(cursor.fetchall())
    assert set(found) == set(OPEN_INDEXES)
    for name, sql in found.items():
        bare = sql.replace('"', "").replace("(", "").replace(")", "")
        assert bare.endswith("WHERE done_at IS NULL"), (name, sql)


def test_open_overdue_and_done_keep_their_meaning(personas, activities):
    now = timezone.now()
    mine = activity_list(actor=personas.rep_a)
    assert subjects(filter_status(mine, "open", now=now)) == {"overdue", "later", "undated"}
    assert subjects(filter_status(mine, "overdue", now=now)) == {"overdue"}
    # A note is done when it is written.
    assert subjects(filter_status(mine, "done", now=now)) == {"done", "a note"}
    everyone = activity_list(actor=personas.admin)
    assert subjects(filter_status(everyone, "overdue", now=now)) == {"overdue", "theirs"}


def test_my_open_tasks_put_overdue_first_and_undated_last_by_due_order_alone(personas, activities):
    rows = list(my_open_tasks(actor=personas.rep_a, now=timezone.now()))
    assert [a.subject for a in rows] == ["overdue", "later", "undated"]
    sql = str(my_open_tasks(actor=personas.rep_a, now=timezone.now()).query)
    assert "CASE" not in sql  # an expression first in the order would need a sort


def test_the_open_filter_carries_the_index_condition_literally(personas):
    sql, _params = filter_status(
        Activity.objects.all(), "open", now=timezone.now()
    ).query.sql_with_params()
    assert '"activities_activity"."done_at" IS NULL' in sql
    if connection.vendor == "sqlite":
        assert 'likelihood("activities_activity"."done_at" IS NULL, 0.1)' in sql
    else:
        assert "likelihood" not in sql


def _plan(queryset) -> str:
    return queryset.explain()


@pytest.fixture
def l_statistics():
    """SQLite's planner with the L database's statistics for the activities table."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    load_sqlite_statistics(
        {"activities_activity": L_STATISTICS, "accounts_user": L_USER_STATISTICS}
    )


def test_at_l_the_admins_open_list_by_due_date_walks_the_open_index(personas, l_statistics):
    admin = personas.admin
    rows = filter_status(activity_list(actor=admin), "open", now=timezone.now())
    # The list's keyset order: undated last.
    plan = _plan(rows.order_by(F("due_at").asc(nulls_last=True), "id")[:26])
    assert "activity_open_due" in plan and "TEMP B-TREE" not in plan, plan


def test_at_l_the_admins_overdue_list_walks_the_open_index_newest_first(personas, l_statistics):
    rows = filter_status(activity_list(actor=personas.admin), "overdue", now=timezone.now())
    plan = _plan(rows.order_by("-updated_at", "-id")[:26])
    assert "activity_open_upd" in plan and "TEMP B-TREE" not in plan, plan


def test_at_l_a_reps_open_list_walks_the_owners_open_index(personas, l_statistics):
    rows = filter_status(activity_list(actor=personas.rep_a), "open", now=timezone.now())
    plan = _plan(rows.order_by("-updated_at", "-id")[:26])
    assert "activity_open_owner_upd" in plan and "TEMP B-TREE" not in plan, plan


def test_at_l_the_home_pages_tasks_come_in_index_order(personas, l_statistics):
    now = timezone.now()
    rows = my_open_tasks(actor=personas.rep_a, now=now).filter(due_at__lt=now)[:16]
    plan = _plan(rows)
    assert "TEMP B-TREE" not in plan and "activity_done" not in plan, plan


def test_postgresql_proves_the_open_index_usable_for_the_open_filter(personas, activities):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    rows = filter_status(Activity.objects.all(), "open", now=timezone.now())
    assert "activity_open_due" in _plan(rows.order_by("due_at", "id")[:26])
    overdue = filter_status(Activity.objects.all(), "overdue", now=timezone.now())
    assert "activity_open_upd" in _plan(overdue.order_by("-updated_at", "-id")[:26])
