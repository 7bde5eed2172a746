"""The KPI figures on the customers' book of test_customers, plus a few leads and open
deals, with each period's numbers worked out by hand.

The period is Esfand 1404 + Farvardin 1405 (2026-02-20 .. 2026-04-20, sixty days); the
previous period is the sixty days before it (2025-12-22 .. 2026-02-19).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from wasl.deals.models import Deal
from wasl.leads.services import lead_convert
from wasl.reports import registry
from wasl.reports.results import Report
from wasl.reports.tests.test_activity import check_drills, frozen, make_lead
from wasl.reports.tests.test_customers import (  # noqa: F401 (fixtures)
    book,
    esfand_farvardin,
    stages,
    tehran,
    utc,
)


@pytest.fixture
def kpi_book(book):  # noqa: F811
    p = book
    make_lead(p.rep_a, utc(2026, 1, 15), first_name="Previous")
    make_lead(p.rep_a, utc(2026, 3, 1), first_name="Arash")
    converted = make_lead(p.rep_b, utc(2026, 4, 1), first_name="Bahar")
    with frozen(utc(2026, 4, 2)):
        lead_convert(actor=p.rep_b, lead=converted)
    Deal.objects.filter(title="Alborz renewal").update(
        created_at=utc(2026, 3, 1), amount=Decimal("2500")
    )
    Deal.objects.filter(title="Caspian extension").update(
        created_at=utc(2026, 2, 1), amount=Decimal("800")
    )
    Deal.objects.filter(title="Ekbatan upgrade").update(created_at=utc(2026, 4, 25))
    # Behsaz's first deal took ten days from creation to winning; the others none.
    Deal.objects.filter(company__name="Behsaz", currency="USD").update(
        created_at=utc(2026, 3, 10, 20, 0)
    )
    return p


def build(user: Any) -> Report:
    return registry.get("kpis").build(user, esfand_farvardin(user))


def test_kpi_figures_of_the_period_and_the_previous_one(kpi_book):
    report = build(kpi_book.admin)
    figures = {f.key: f for f in report.figures}
    assert (figures["leads"].value, figures["leads"].previous) == (2, 1)
    assert figures["leads"].change == 1.0
    assert (figures["conversion_rate"].value, figures["conversion_rate"].previous) == (0.5, 0.0)
    assert figures["conversion_rate"].change is None
    assert (figures["open_deals"].value, figures["open_deals"].previous) == (1, 1)
    assert figures["open_value"].value == Decimal("2500.00")
    assert figures["open_value"].previous == Decimal("800.00")
    # Alborz 500, Behsaz 100 USD at 1200 and 200, Sara 300; Caspian's EUR has no rate.
    assert figures["new_revenue"].value == Decimal("121000.00")
    assert figures["new_revenue"].previous == Decimal("1000.00")
    assert figures["new_revenue"].change == 120.0
    assert figures["win_rate"].value == pytest.approx(0.8333)  # 5 won, 1 lost
    assert figures["cycle_days"].value == 2.0  # ten days over five won deals
    assert figures["churn_rate"].value == pytest.approx(0.3333)
    assert figures["clv"].value == Decimal("20516.67")
    # Before the period: Alborz 1000, Dena 700, Ekbatan 400.
    assert figures["clv"].previous == Decimal("700.00")
    assert any("EUR" in warning for warning in report.warnings)


def test_each_spark_ends_with_the_previous_and_current_values(kpi_book):
    for figure in build(kpi_book.admin).figures:
        assert len(figure.spark) == 8
        assert figure.spark[-1] == figure.value
        assert figure.spark[-2] == figure.previous


def test_kpis_agree_with_the_customer_reports(kpi_book):
    filters = esfand_farvardin(kpi_book.admin)
    kpis = {f.key: f.value for f in registry.get("kpis").build(kpi_book.admin, filters).figures}
    churn = registry.get("churn").build(kpi_book.admin, filters).figure("churn_rate").value
    clv = registry.get("lifetime-value").build(kpi_book.admin, filters).figure("average").value
    assert (kpis["churn_rate"], kpis["clv"]) == (churn, clv)


def test_a_reps_kpis_cover_only_their_deals(kpi_book):
    figures = {f.key: f.value for f in build(kpi_book.rep_b).figures}
    # Rep B: Caspian's EUR deal won (no rate) and its extension lost; Bahar's lead.
    assert figures["new_revenue"] == Decimal("0")
    assert figures["win_rate"] == 0.5
    assert (figures["leads"], figures["conversion_rate"]) == (1, 1.0)
    other = {f.key: f.value for f in build(kpi_book.manager_b).figures}
    assert (other["leads"], other["new_revenue"], other["open_deals"]) == (0, Decimal("0"), 0)


def test_open_deals_at_each_period_end_match_the_deals_open_then(kpi_book):
    from wasl.reports.kpis import _ends, _rate_day, open_at, spark_periods
    from wasl.reports.money import MoneyTotal, RateTable

    # Imported history: a deal closed before its creation is never open; another closed
    # in the middle of the spark counts up to then.
    Deal.objects.filter(title="Alborz renewal").update(
        created_at=utc(2025, 9, 1), closed_at=utc(2025, 8, 1)
    )
    Deal.objects.filter(title="Caspian extension").update(
        created_at=utc(2025, 6, 1), closed_at=utc(2025, 11, 1)
    )
    for user in (kpi_book.admin, kpi_book.rep_a, kpi_book.rep_b, kpi_book.manager_a):
        filters = esfand_farvardin(user)
        figures = {f.key: f for f in registry.get("kpis").build(user, filters).figures}
        periods = spark_periods(filters.period, filters.calendar)
        rates = RateTable.load(filters.currency)
        for index, moment in enumerate(_ends(periods, filters.tz)):
            deals = open_at(user, filters, moment)
            assert figures["open_deals"].spark[index] == deals.count()
            expected = MoneyTotal(rates)
            for deal in deals:
                expected.add(deal.amount, deal.currency, _rate_day(periods[index], filters.today))
            assert figures["open_value"].spark[index] == expected.total


def test_kpi_drill_downs_list_the_records_behind_the_figures(kpi_book):
    user = kpi_book.admin
    filters = esfand_farvardin(user)
    report = registry.get("kpis").build(user, filters)
    assert check_drills("kpis", user, filters, report) == 2  # leads and open deals
    drill = registry.get("kpis").drill
    assert drill is not None
    kind, won = drill(user, filters, "won")
    assert kind == "deal" and won.count() == 5
    irr = sum(won.filter(currency="IRR").values_list("amount", flat=True), Decimal(0))
    assert irr == Decimal("1000.00")  # 500 + 200 + 300; the USD deal converts to 120000
    _kind, open_deals = drill(user, filters, "open_deals")
    assert list(open_deals.values_list("title", flat=True)) == ["Alborz renewal"]


def test_the_kpis_endpoint_answers_figures_with_previous_values_and_sparks(kpi_book, api_as):
    params = {"period": "custom", "start": "2026-02-20", "end": "2026-04-20"}
    response = api_as(kpi_book.manager_a).get("reports/kpis", **params)
    assert response.status_code == 200
    figures = {f["key"]: f for f in response.json()["figures"]}
    # Team A: Alborz, Behsaz, Sara and Caspian's deals; Dena is team B's.
    assert figures["new_revenue"]["value"] == "121000.00"
    assert figures["leads"]["value"] == 2
    assert len(figures["leads"]["spark"]) == 8
    records = api_as(kpi_book.manager_a).get("reports/kpis/records", cell="leads", **params)
    assert len(records.json()["items"]) == 2


@pytest.mark.parametrize("calendar", ["gregorian", "jalali", "hijri"])
def test_every_report_builds_on_an_empty_book_in_each_calendar(personas, calendar):
    from wasl.accounts.services import user_update
    from wasl.reports.filters import parse_filters

    for user in (personas.admin, personas.manager_b, personas.readonly):
        user_update(actor=None, user=user, calendar=calendar)
        for key in ("activity", "lead-sources", "retention", "churn", "lifetime-value", "at-risk"):
            for period in ("this_week", "last_month", "this_year"):
                filters = parse_filters(user, {"period": period})
                report = registry.get(key).build(user, filters)
                report.as_dict()
        kpis = registry.get("kpis").build(user, parse_filters(user, {"period": "this_quarter"}))
        figures = {f.key: f for f in kpis.figures}
        assert figures["leads"].value == 0 and figures["churn_rate"].value is None
        assert len(figures["clv"].spark) == 8


def test_money_and_rate_figures_link_to_the_deals_and_leads_behind_them(kpi_book):
    user = kpi_book.admin
    filters = esfand_farvardin(user)
    definition = registry.get("kpis")
    figures = {f.key: f for f in definition.build(user, filters).figures}
    assert definition.drill is not None
    drilled = {
        key: definition.drill(user, filters, figures[key].drill)[1]
        for key in ("conversion_rate", "open_value", "new_revenue", "cycle_days", "win_rate")
    }
    assert drilled["conversion_rate"].count() == 1  # Bahar, converted
    assert list(drilled["open_value"].values_list("title", flat=True)) == ["Alborz renewal"]
    assert drilled["new_revenue"].count() == drilled["cycle_days"].count() == 5
    closed = drilled["win_rate"]
    assert closed.count() == 6  # five won, one lost: the win rate's 5 / 6
    assert closed.filter(stage__kind="lost").count() == 1


# sqlite_stat1 of the L benchmark database's customer summary after a full ANALYZE
# (reports migration 0010; the open deals' index analysed by migration 0011).
L_SUMMARY_STATISTICS = {
    "reports_customerattribution": {
        "customer_purchases": "75177 37589 2 1 1 1 1 1 1 1",
        "customer_of_deal": "300000 1 1 1",
        "customer_activities": "1458386 729193 6 1",
        "customer_touches": "1758386 879193 7 1",
        "customer_purchase_time": "75177 1 1 1 1",
        "customer_open_due": "164602 1384 692 1 1 1 1 1",
    },
    "reports_customerepisode": {
        "customer_episode_buyer": "158594 79297 3 1 1",
        "customer_episode_span": "580346 290173 3 1 1",
        "customer_episode_ends": "580346 1 1 1 1",
    },
    "reports_customertotals": {
        "customer_totals_last_activity": "56730 1",
        "customer_totals_last_purchase": "56730 1",
        "sqlite_autoindex_reports_customertotals_1": "56730 28365 1",
    },
}


def test_at_l_only_the_kpi_ranges_read_the_currency_led_indexes(kpi_book):
    """Led by the currency, the KPIs' open-deal indexes would draw SQLite's planner into
    skip-scans for the other deal sums; their always-true condition keeps them to the
    statements that state it (docs/reports.md). The same holds for the summary's
    time-led purchases index, which only the lifetime-value ranges read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wasl.core.testing import load_sqlite_statistics
    from wasl.deals.tests.test_open_deal_queries import L_STATISTICS, _sql_plan
    from wasl.reports.filters import parse_filters

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    load_sqlite_statistics({**L_STATISTICS, **L_SUMMARY_STATISTICS})
    user = kpi_book.admin
    with CaptureQueriesContext(connection) as captured:
        for key in (
            "kpis",
            "win-loss",
            "sales-cycle",
            "forecast",
            "retention",
            "lifetime-value",
            "churn",
            "at-risk",
        ):
            for viewer in (user, kpi_book.rep_a, kpi_book.manager_a):
                registry.get(key).build(viewer, parse_filters(viewer, {}))
    ranges = overdue = 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = _sql_plan(sql)
        if "deal_currency_" in plan:
            assert '"amount" IS NOT NULL' in sql, (sql, plan)
        if "part_currency" in sql:
            assert "deal_currency_created" in plan or "deal_currency_closed" in plan, plan
            ranges += 1
        if "customer_purchase_time" in plan:
            assert '"amount" IS NOT NULL' in sql, (sql, plan)
        if "part_index" in sql and '"reports_customerattribution"."amount" IS NOT NULL' in sql:
            assert "COVERING INDEX customer_purchase_time" in plan, plan
            ranges += 1
        if '"open_due" <' in sql:
            # The at-risk's overdue deals, from the open deals' index alone.
            assert "COVERING INDEX customer_open_due" in plan, plan
            overdue += 1
    # The creations and the closes of the open deals (the administrator's, the rep's, the
    # manager's) and the administrator's purchases of the lifetime value.
    assert ranges == 7
    assert overdue == 3  # the at-risk of each viewer
