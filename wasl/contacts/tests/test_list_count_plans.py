"""The capped count of a list filtered by tag or by kind: what it counts, and the plan
SQLite picks for it with the statistics of the L benchmark database (1,000,000 contacts,
2,000,000 activities), where probing every one of a rep's rows cost 40–50 ms a page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.contacts.services import contact_create
from wasl.core.testing import L_ACTIVITY_STATISTICS, client_for, load_sqlite_statistics

pytestmark = pytest.mark.django_db

# sqlite_stat1 of the L benchmark database after a full ANALYZE.
L_STATISTICS = {
    "contacts_contact": {
        "contact_company": "1000000 11",
        "contact_last_name": "1000000 8929 1",
        "contact_owner_name": "1000000 71429 638 1",
        "contact_owner_upd": "1000000 71429 1 1",
        "contact_team_upd": "1000000 333334 1 1",
        "contact_upd": "1000000 1 1",
        "contacts_contact_name_key_ce2b9956": "1000000 208",
        "sqlite_autoindex_contacts_contact_1": "1000000 1",
    },
    "contacts_contact_tags": {
        "contacts_contact_tags_contact_id_ff2c136b": "520669 2",
        "contacts_contact_tags_contact_id_tag_id_bd41f44b_uniq": "520669 2 1",
        "contacts_contact_tags_tag_id_84637693": "520669 26034",
    },
    "activities_activity": L_ACTIVITY_STATISTICS,
}


def _count_statement(client: Client, url: str, params: dict[str, str]) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    counts = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT")
    ]
    assert len(counts) == 1, counts
    return counts[0]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_tag_filtered_count_counts_the_visible_tagged_contacts(personas, monkeypatch):
    from wasl.contacts import views

    monkeypatch.setattr(views.CONTACTS, "count_cap", 3)
    for index in range(2):
        contact_create(
            actor=personas.rep_a, first_name="Tagged", last_name=str(index), tags=["VIP"]
        )
    contact_create(actor=personas.rep_a, first_name="Plain", last_name="One")
    for index in range(5):
        contact_create(actor=personas.rep_b, first_name="Other", last_name=str(index), tags=["VIP"])
    html = client_for(personas.rep_a).get("/contacts/", {"tag": "vip"}).content.decode()
    assert "2 records" in html
    html = client_for(personas.admin).get("/contacts/", {"tag": "vip"}).content.decode()
    assert "3+ records" in html


def test_a_kind_filtered_count_counts_the_reps_activities_of_that_kind(personas):
    for index in range(3):
        activity_create(actor=personas.rep_a, kind=Activity.Kind.CALL, subject=f"Call {index}")
    activity_create(actor=personas.rep_a, kind=Activity.Kind.NOTE, subject="A note")
    activity_create(actor=personas.rep_b, kind=Activity.Kind.CALL, subject="Not mine")
    html = client_for(personas.rep_a).get("/activities/", {"kind": "call"}).content.decode()
    assert "3 records" in html


def test_the_tag_count_starts_from_the_tags_rows_at_l_size(personas):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    contact_create(actor=personas.rep_a, first_name="Tagged", last_name="One", tags=["VIP"])
    load_sqlite_statistics(L_STATISTICS)
    sql = _count_statement(client_for(personas.rep_a), "/contacts/", {"tag": "vip"})
    plan = _plan(sql)
    # Not the rep's 71,000 contacts each probed for the tag: the tag's rows, each looked up.
    assert "contacts_contact_tags_tag_id" in plan, plan
    assert "contact_owner" not in plan, plan


def test_the_kind_count_reads_one_index_alone_at_l_size(personas):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    activity_create(actor=personas.rep_a, kind=Activity.Kind.CALL, subject="Call")
    load_sqlite_statistics(L_STATISTICS)
    sql = _count_statement(client_for(personas.rep_a), "/activities/", {"kind": "call"})
    plan = _plan(sql)
    # Either owner index carries the kind (activities migrations 0006 and 0007).
    assert re.search(r"COVERING INDEX activity_owner_(upd|done)_kind \(owner_id=\?\)", plan), plan
