"""Deal reports against numbers worked out by hand from `sales_data` (see its docstring)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from wasl.core.errors import Invalid, NotFound
from wasl.deals.models import Stage
from wasl.reports import registry
from wasl.reports.filters import parse_filters
from wasl.reports.tests import sales_data

# The shared data set, as fixtures of this module.
clock, organisation, sales = sales_data.clock, sales_data.organisation, sales_data.sales

FARVARDIN = {"period": "this_month"}  # 2026-03-21 .. 2026-04-20, read on 2026-04-15


def run(user: Any, key: str, **params: str):
    filters = parse_filters(user, params)
    return registry.get(key).build(user, filters), filters


def row(table, name: str, column: str = "stage") -> dict[str, Any]:
    return next(r for r in table.rows if r[column] == name)


def assert_drills_add_up(user: Any, key: str, params: dict[str, str]) -> int:
    """Every figure and cell with a drill id lists as many records as it shows."""
    report, filters = run(user, key, **params)
    definition = registry.get(key)
    checked = 0
    for figure in report.figures:
        if figure.drill:
            _kind, records = definition.drill(user, filters, figure.drill)
            assert records.count() == figure.value, (key, figure.key)
            checked += 1
    for table in report.tables:
        for r in table.rows:
            for column, cell in r.get("_drill", {}).items():
                _kind, records = definition.drill(user, filters, cell)
                assert records.count() == r[column], (key, table.key, column, cell)
                checked += 1
    return checked


def test_funnel_counts_each_deal_once_per_stage_and_converts_currencies(sales, personas):
    report, _f = run(personas.admin, "funnel", **FARVARDIN)
    funnel = report.table("funnel")
    lead, proposal, won = (row(funnel, n) for n in ("Lead", "Proposal", "Won"))
    # D1 entered Lead twice and Proposal twice in the period: once each.
    assert (lead["entered"], proposal["entered"], won["entered"]) == (3, 3, 2)
    # D2's 500 USD at the rate of the period's last day (20); D4's GBP has no rate.
    assert lead["value"] == Decimal("13000.00")  # D1 1000 + D2 10000 + D3 2000
    assert proposal["value"] == Decimal("11000.00")
    assert won["value"] == Decimal("1900.00")  # D1 + D6 (won at 00:30 on Nowruz)
    assert (lead["moved_on"], lead["to_next"]) == (2, 0.6667)
    assert (lead["reached_won"], lead["to_won"]) == (1, 0.3333)
    assert (proposal["moved_on"], proposal["to_won"]) == (1, 0.3333)
    assert report.warnings == ["1 deal in GBP has no exchange rate and is left out of the amounts."]
    assert report.figure("entered").value == 3 and report.figure("won").value == 2


def test_funnel_stall_times_from_the_moves_out_of_each_stage(sales, personas):
    report, _f = run(personas.admin, "stage-durations", **FARVARDIN)
    table = report.table("stage-durations")
    lead, proposal = row(table, "Lead"), row(table, "Proposal")
    # Out of Lead: 2, 2, 4 and 12 days; out of Proposal: 1, 3 and 2 days.
    assert (lead["moves"], lead["median"], lead["p90"], lead["mean"]) == (4, 3.0, 9.6, 5.0)
    assert (proposal["moves"], proposal["median"], proposal["p90"]) == (3, 2.0, 2.8)
    assert proposal["mean"] == 2.0
    # Still in Lead: D3 (23 days) and D7 (45 days); in Proposal: D4 (24 days).
    assert (lead["over"], proposal["over"]) == (2, 1)
    over = report.table("deals-over").rows
    assert [(r["deal"], r["stage"]) for r in over] == [
        ("D7", "Lead"),
        ("D4", "Proposal"),
        ("D3", "Lead"),
    ]


def test_the_deals_over_list_keeps_the_longest_across_stages_and_counts_them_all(
    sales, personas, monkeypatch
):
    monkeypatch.setattr("wasl.reports.sales.OVER_LIST_LIMIT", 2)
    report, _f = run(personas.admin, "stage-durations", **FARVARDIN)
    over = report.table("deals-over").rows
    # The two longest of D7 (Lead, 45 days), D4 (Proposal, 24) and D3 (Lead, 23).
    assert [(r["deal"], r["stage"]) for r in over] == [("D7", "Lead"), ("D4", "Proposal")]
    table = report.table("stage-durations")
    assert (row(table, "Lead")["over"], row(table, "Proposal")["over"]) == (2, 1)
    assert report.figure("over").value == 3


def test_a_stages_rotting_days_replace_its_usual_time(sales, personas):
    Stage.objects.filter(pk=sales.stages["Lead"].pk).update(rotting_days=40)
    report, _f = run(personas.admin, "stage-durations", **FARVARDIN)
    lead = row(report.table("stage-durations"), "Lead")
    assert (lead["usual"], lead["over"]) == (40.0, 1)  # D7 only


def test_a_reps_funnel_covers_only_their_deals_and_a_managers_their_team(sales, personas):
    rep, _f = run(personas.rep_a, "funnel", **FARVARDIN)
    assert [r["entered"] for r in rep.table("funnel").rows] == [1, 2, 2]  # D1; D1 D4; D1 D6
    manager, _f = run(personas.manager_a, "funnel", **FARVARDIN)
    assert [r["entered"] for r in manager.table("funnel").rows] == [2, 3, 2]
    other, _f = run(personas.manager_b, "funnel", **FARVARDIN)
    assert [r["entered"] for r in other.table("funnel").rows] == [1, 0, 0]
    narrowed, _f = run(personas.admin, "funnel", owner=str(personas.rep_b.public_id), **FARVARDIN)
    assert [r["entered"] for r in narrowed.table("funnel").rows] == [1, 1, 0]


def test_win_loss_at_the_jalali_month_boundary(sales, personas):
    farvardin, _f = run(personas.admin, "win-loss", **FARVARDIN)
    assert farvardin.figure("won").value == 2  # D1 and D6; D5 was won on the 20th
    assert farvardin.figure("won_value").value == Decimal("1900.00")
    assert farvardin.figure("lost").value == 1
    # D2 lost on 03-28: the USD rate of that day is 10.
    assert farvardin.figure("lost_value").value == Decimal("5000.00")
    assert farvardin.figure("win_rate").value == 0.6667
    reason = row(farvardin.table("reasons"), "Price", "name")
    assert (reason["count"], reason["value"], reason["share"]) == (1, Decimal("5000.00"), 1.0)
    assert row(farvardin.table("competitors"), "Acme", "name")["count"] == 1
    assert [r["bucket"] for r in farvardin.table("trend").rows] == ["Farvardin 1405"]
    esfand, _f = run(personas.admin, "win-loss", period="last_month")
    assert esfand.figure("won").value == 1
    assert esfand.figure("won_value").value == Decimal("700.00")
    assert esfand.figure("lost").value == 0


def test_win_loss_trend_by_month_in_the_viewers_calendar(sales, personas):
    report, _f = run(
        personas.admin, "win-loss", period="custom", start="2026-03-01", end="2026-04-30"
    )
    trend = report.table("trend").rows
    assert [r["bucket"] for r in trend] == ["Esfand 1404", "Farvardin 1405", "Ordibehesht 1405"]
    assert [(r["won"], r["lost"]) for r in trend] == [(1, 0), (2, 1), (0, 0)]
    with pytest.raises(Invalid):
        run(personas.admin, "win-loss", unit="fortnight")


def test_sales_cycle_win_rate_and_deal_size(sales, personas):
    report, _f = run(personas.admin, "sales-cycle", **FARVARDIN)
    # D1 took 8 days, D6 none.
    assert report.figure("median_cycle").value == 4.0
    assert report.figure("mean_cycle").value == 4.0
    assert report.figure("win_rate").value == 0.6667
    assert report.figure("average_size").value == Decimal("950.00")
    owners = report.table("owner")
    assert (row(owners, "rep_a", "name")["won"], row(owners, "rep_a", "name")["lost"]) == (2, 0)
    assert row(owners, "rep_b", "name")["win_rate"] == 0.0
    pipelines = report.table("pipeline").rows
    assert [(r["name"], r["won"], r["lost"]) for r in pipelines] == [("Sales", 2, 1)]


def test_forecast_weights_open_deals_by_expected_close_against_won(sales, personas):
    report, _f = run(personas.admin, "forecast", period="this_quarter", target="10000")
    buckets = report.table("buckets").rows
    assert [r["bucket"] for r in buckets] == ["Farvardin 1405", "Ordibehesht 1405", "Khordad 1405"]
    # D4 (GBP, no rate) in Farvardin, D3 in Ordibehesht, D7 (100 USD at today's 20) in Khordad.
    assert [r["open"] for r in buckets] == [1, 1, 1]
    assert [r["open_value"] for r in buckets] == [0, Decimal("2000.00"), Decimal("2000.00")]
    assert [r["weighted"] for r in buckets] == [0, Decimal("200.00"), Decimal("800.00")]
    assert [r["won_value"] for r in buckets] == [Decimal("1900.00"), 0, 0]
    assert report.figure("weighted").value == Decimal("1000.00")
    assert report.figure("expected").value == Decimal("2900.00")
    assert report.figure("coverage").value == 0.29
    owners = {r["name"]: r for r in report.table("owner").rows}
    assert (owners["rep_a"]["open"], owners["rep_a"]["won"]) == (1, 2)
    assert owners["rep_b"]["weighted"] == Decimal("800.00")
    teams = {r["name"]: r for r in report.table("team").rows}
    assert (teams["Team A"]["open"], teams["Team B"]["open"]) == (2, 1)
    assert "GBP" in " ".join(report.warnings)
    quarters, _f = run(personas.admin, "forecast", period="this_year", unit="quarter")
    assert len(quarters.table("buckets").rows) == 4
    with pytest.raises(Invalid):
        run(personas.admin, "forecast", target="-5")


@pytest.mark.parametrize(
    "key", ["funnel", "stage-durations", "sales-cycle", "win-loss", "forecast"]
)
@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a"])
def test_drill_down_lists_add_up_to_every_number(sales, personas, key, who):
    checked = assert_drills_add_up(getattr(personas, who), key, FARVARDIN)
    assert checked > 0


def test_drill_down_lists_only_what_the_viewer_sees(sales, personas):
    filters = parse_filters(personas.rep_a, FARVARDIN)
    lead = sales.stages["Lead"]
    _kind, deals = registry.get("funnel").drill(
        personas.rep_a, filters, f"entered:{lead.public_id}"
    )
    assert sorted(d.title for d in deals) == ["D1"]
    with pytest.raises(NotFound):
        registry.get("funnel").drill(personas.rep_a, filters, "entered:not-a-stage")
    with pytest.raises(NotFound):
        registry.get("win-loss").drill(personas.rep_a, filters, "won:99")


def test_an_owner_the_viewer_may_not_see_is_refused_like_an_unknown_one(sales, personas):
    with pytest.raises(Invalid) as hidden:
        parse_filters(personas.rep_a, {"owner": str(personas.rep_b.public_id)})
    with pytest.raises(Invalid) as unknown:
        parse_filters(personas.rep_a, {"owner": "6c1f4a5e-0000-4000-8000-000000000000"})
    assert hidden.value.fields == unknown.value.fields
    with pytest.raises(Invalid):
        parse_filters(personas.manager_a, {"team": str(personas.manager_b.team.public_id)})
    assert parse_filters(personas.manager_a, {"owner": str(personas.rep_b.public_id)}).owner_id
    with pytest.raises(Invalid):
        parse_filters(personas.admin, {"period": "custom", "start": "2026-13-01", "end": "x"})


def test_the_period_is_read_in_the_users_own_calendar(sales, personas):
    personas.admin.calendar = "gregorian"
    filters = parse_filters(personas.admin, {"period": "this_month"})
    assert (filters.period.start, filters.period.end) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    report, _f = run(personas.admin, "win-loss", period="this_month")
    assert report.figure("won").value == 0


def test_at_l_a_reps_and_a_managers_stalled_deals_are_counted_from_the_index_alone(sales, personas):
    """The stage-entered index carries the owner and team, so the counts of deals over a
    stage's usual time never read the table's rows for a rep or a manager (at L, a rep's
    counts read ~19,000 rows each without them)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wasl.core.testing import load_sqlite_statistics
    from wasl.deals.tests.test_open_deal_queries import L_STATISTICS, _sql_plan
    from wasl.reports.sales import _over_list

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    load_sqlite_statistics(L_STATISTICS)
    stages = list(Stage.objects.filter(pipeline=sales.pipeline, kind="open"))
    usual = {stage.pk: {"threshold": 86400} for stage in stages}
    for user in (personas.rep_a, personas.manager_a):
        filters = parse_filters(user, FARVARDIN)
        with CaptureQueriesContext(connection) as captured:
            _over_list(user, filters, stages, usual)
        counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
        assert len(counts) == len(stages)
        for sql in counts:
            plan = _sql_plan(sql)
            assert "COVERING INDEX deal_stage_entered" in plan, plan
