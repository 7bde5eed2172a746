"""The board's next tasks and "my day"'s open deals: what they answer, and the plans SQLite
picks for them with the statistics of the L benchmark database (300,000 deals, 2,000,000
activities), where a wrong plan costs 150–250 ms a page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wasl.activities.services import activity_complete, activity_create
from wasl.core.testing import L_ACTIVITY_STATISTICS, load_sqlite_statistics
from wasl.deals.models import Deal
from wasl.deals.selectors import board_next_tasks, my_open_deals_by_stage
from wasl.deals.services import deal_move_to_stage

pytestmark = pytest.mark.django_db

# sqlite_stat1 of the L benchmark database after a full ANALYZE.
L_STATISTICS = {
    "deals_deal": {
        "deal_board_totals": "300000 100000 18750 2344 2 2 2 2",
        "deal_closed_outcome": "300000 3 3 3 2 1 1 1 1",
        "deal_currency_closed": "135398 16925 1 1 1 1 1 1",
        "deal_currency_created": "300000 37500 1 1 1 1 1 1",
        "deal_company": "300000 4",
        "deal_expected_close": "300000 354 55 9 1 1 1 1",
        "deal_owner_open": "164602 11758 3920 1176 152 2",
        "deal_owner_upd": "300000 21429 1 1",
        "deal_pipeline_stage": "300000 100000 18750",
        "deal_stage_entered": "300000 18750 1 1 1",
        "deal_stage_upd": "300000 18750 1 1",
        "deal_team_upd": "300000 100000 1 1",
        "deal_upd": "300000 1 1",
        "sqlite_autoindex_deals_deal_1": "300000 1",
    },
    "activities_activity": L_ACTIVITY_STATISTICS,
    "deals_stage": {"deals_stage_pipeline_id_f7e13c40": "16 6"},
    "accounts_user": {"accounts_user_team_id_27b7f1fa": "16 4"},
}


@pytest.fixture
def l_statistics(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    load_sqlite_statistics(L_STATISTICS)


def _sql_plan(sql: str) -> str:
    """The plan of a captured statement (its parameters already written in)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_the_next_task_is_the_earliest_due_open_one_undated_last(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    now = timezone.now()
    first = make_deal(rep, "First")
    second = make_deal(rep, "Second")
    quiet = make_deal(rep, "Quiet")

    def task(deal, subject, **fields):
        return activity_create(actor=rep, subject=subject, deal=deal, **fields)

    task(first, "Later call", kind="call", due_at=now + dt.timedelta(days=2))
    task(first, "Soon meeting", kind="meeting", due_at=now + dt.timedelta(hours=1))
    done = task(first, "Done already", kind="task", due_at=now - dt.timedelta(days=1))
    activity_complete(actor=rep, activity=done)
    task(first, "A note", kind="note")
    task(second, "Undated", kind="task")
    task(second, "Dated", kind="task", due_at=now + dt.timedelta(days=30))
    task(quiet, "A note only", kind="note")

    found = board_next_tasks([first.pk, second.pk, quiet.pk, first.pk])

    assert {pk: t.subject for pk, t in found.items()} == {
        first.pk: "Soon meeting",
        second.pk: "Dated",
    }
    assert board_next_tasks([]) == {}


def test_my_open_deals_leave_out_closed_ones_and_others_deals(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    make_deal(rep, "Open", amount=Decimal("100"), currency="USD", stage=stages["Proposal"])
    make_deal(rep, "Open too", amount=Decimal("50"), currency="USD", stage=stages["Proposal"])
    won = make_deal(rep, "Won", amount=Decimal("70"), currency="USD", stage=stages["Proposal"])
    deal_move_to_stage(actor=rep, deal=won, stage=stages["Won"])
    make_deal(personas.rep_b, "Theirs", amount=Decimal("9"), currency="USD")

    rows = my_open_deals_by_stage(actor=rep)

    assert [(r["stage"], r["count"], r["total"]) for r in rows] == [("Proposal", 2, Decimal("150"))]
    assert Deal.objects.filter(owner=rep, closed_at__isnull=False).count() == 1


def test_at_l_the_boards_next_tasks_come_through_the_deal_index(l_statistics, personas):
    with CaptureQueriesContext(connection) as captured:
        board_next_tasks(range(1, 16))
    (query,) = [q["sql"] for q in captured.captured_queries]
    plan = _sql_plan(query)
    assert "activity_deal" in plan and "activity_done" not in plan, plan


def test_at_l_my_open_deals_are_read_from_the_open_deal_index(l_statistics, personas):
    with CaptureQueriesContext(connection) as captured:
        my_open_deals_by_stage(actor=personas.rep_a)
    (query,) = [q["sql"] for q in captured.captured_queries]
    plan = _sql_plan(query)
    assert "deal_owner_open" in plan and "deal_closed_outcome" not in plan, plan


def test_board_cards_are_fetched_by_id_on_postgresql(personas, pipeline, stages, make_deal):
    """An OR of per-stage `IN (subquery)` made PostgreSQL hash every deal (120 ms at 300k
    deals); it reads the stages' first ids in one UNION, then the cards by id."""
    from wasl.deals.selectors import board_cards, board_deals

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    for n in range(3):
        make_deal(personas.rep_a, f"Lead {n}", stage=stages["Lead"])
    make_deal(personas.rep_a, "Proposal", stage=stages["Proposal"])
    deals = board_deals(actor=personas.rep_a)
    with CaptureQueriesContext(connection) as captured:
        pages = board_cards(deals, [stages["Lead"], stages["Proposal"]], limit=2)
    assert [d.title for d in pages[stages["Lead"].pk][0]] == ["Lead 2", "Lead 1"]
    assert pages[stages["Lead"].pk][1] is not None
    assert [d.title for d in pages[stages["Proposal"].pk][0]] == ["Proposal"]
    assert pages[stages["Proposal"].pk][1] is None
    cards = captured.captured_queries[-1]["sql"]
    assert "UNION" not in cards and "SubPlan" not in cards
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + cards.replace("%", "%%"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "SubPlan" not in plan, plan
