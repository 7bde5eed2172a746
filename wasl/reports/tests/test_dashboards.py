"""Dashboard configuration: defaults per role, adding, removing, reordering and resetting
cards, through the services and the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wasl.accounts.services import organisation_update
from wasl.core.errors import Forbidden, Invalid
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for
from wasl.reports import dashboards, registry
from wasl.reports.dashboards import (
    dashboard_add_card,
    dashboard_cards,
    dashboard_move_card,
    dashboard_remove_card,
    dashboard_reset,
)
from wasl.reports.filters import ReportFilters
from wasl.reports.models import Dashboard
from wasl.reports.results import Chart, Figure, Report

pytestmark = pytest.mark.django_db

BUILT: list[str] = []


def _kpis(user: Any, filters: ReportFilters) -> Report:
    BUILT.append("kpis")
    return Report(
        key="kpis",
        title="KPIs",
        filters=filters,
        figures=[
            Figure("leads", "Leads", 12, "count", "leads"),
            Figure("win_rate", "Win rate", 0.5, "percent"),
            Figure("new_revenue", "New revenue", 900, "money"),
        ],
        charts=[Chart("line", ["a", "b"], [{"label": "Leads", "data": [1, 2]}])],
    )


def _chart_report(key: str):
    def build(user: Any, filters: ReportFilters) -> Report:
        BUILT.append(key)
        return Report(
            key=key,
            title=key.title(),
            filters=filters,
            charts=[Chart("bar", ["x", "y"], [{"label": key, "data": [3, 4]}])],
        )

    return registry.ReportDefinition(key=key, title=key.title(), description="", build=build)


@pytest.fixture(autouse=True)
def reports(db, monkeypatch):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    BUILT.clear()
    monkeypatch.setattr(registry, "_REGISTRY", {})
    registry._REGISTRY["kpis"] = registry.ReportDefinition(
        key="kpis", title="KPIs", description="", build=_kpis
    )
    for key in ("funnel", "forecast", "activity", "churn"):
        registry._REGISTRY[key] = _chart_report(key)


def refs(user) -> list[str]:
    return [card.ref for card in dashboard_cards(user=user)]


def test_a_reps_default_dashboard_is_every_kpi_its_chart_and_the_forecast(personas):
    assert refs(personas.rep_a) == [
        "figure:leads",
        "figure:win_rate",
        "figure:new_revenue",
        "chart:kpis:0",
        "chart:forecast:0",
    ]


def test_a_managers_default_adds_the_activity_chart(personas):
    assert refs(personas.manager_a)[-1] == "chart:activity:0"
    assert refs(personas.admin)[-1] == "chart:activity:0"


def test_charts_of_reports_not_written_yet_are_left_out_of_the_default(personas):
    del registry._REGISTRY["forecast"]
    assert "chart:forecast:0" not in refs(personas.rep_a)


def test_adding_a_card_keeps_the_default_and_puts_the_card_last(personas):
    rep = personas.rep_a
    dashboard_add_card(actor=rep, card="chart:churn:0")

    assert refs(rep)[-1] == "chart:churn:0"
    assert refs(rep)[:3] == ["figure:leads", "figure:win_rate", "figure:new_revenue"]
    entry = AuditEntry.objects.get(object_public_id=Dashboard.objects.get(owner=rep).public_id)
    assert entry.changes["cards"][1][-1] == "chart:churn:0"
    # Another user's dashboard is not touched.
    assert "chart:churn:0" not in refs(personas.rep_b)


def test_a_card_already_there_or_unknown_is_refused(personas):
    rep = personas.rep_a
    with pytest.raises(Invalid):
        dashboard_add_card(actor=rep, card="figure:leads")
    with pytest.raises(Invalid):
        dashboard_add_card(actor=rep, card="chart:no-such-report:0")
    with pytest.raises(Invalid):
        dashboard_add_card(actor=rep, card="'; drop table")


def test_removing_and_moving_cards(personas):
    rep = personas.rep_a
    dashboard_remove_card(actor=rep, card="figure:win_rate")
    assert refs(rep) == ["figure:leads", "figure:new_revenue", "chart:kpis:0", "chart:forecast:0"]

    dashboard_move_card(actor=rep, card="chart:forecast:0", offset=-1)
    dashboard_move_card(actor=rep, card="figure:leads", offset=1)
    assert refs(rep) == ["figure:new_revenue", "figure:leads", "chart:forecast:0", "chart:kpis:0"]

    # At the ends a move stays put.
    dashboard_move_card(actor=rep, card="figure:new_revenue", offset=-1)
    assert refs(rep)[0] == "figure:new_revenue"
    with pytest.raises(Invalid):
        dashboard_move_card(actor=rep, card="chart:churn:0", offset=1)


def test_resetting_goes_back_to_the_default(personas):
    rep = personas.rep_a
    dashboard_remove_card(actor=rep, card="figure:leads")
    assert dashboards.is_customised(user=rep)

    dashboard_reset(actor=rep)

    assert not dashboards.is_customised(user=rep)
    assert refs(rep)[0] == "figure:leads"
    assert AuditEntry.objects.filter(action="delete", object_repr__startswith="Dashboard").exists()


def test_an_inactive_user_cannot_change_a_dashboard(personas):
    rep = personas.rep_a
    rep.is_active = False
    with pytest.raises(Forbidden):
        dashboard_add_card(actor=rep, card="chart:churn:0")


def test_the_dashboard_builds_each_report_once_for_its_cards(personas):
    from wasl.reports.filters import parse_filters

    rep = personas.rep_a
    dashboard_add_card(actor=rep, card="chart:funnel:0")
    BUILT.clear()
    board = dashboards.build_dashboard(user=rep, filters=parse_filters(rep, {}))

    assert sorted(BUILT) == ["forecast", "funnel", "kpis"]
    assert [c.ref.ref for c in board.cards][-1] == "chart:funnel:0"
    assert all(c.chart is not None for c in board.cards if c.ref.kind == "chart")
    assert board.customised


def test_a_lazy_dashboard_builds_the_kpi_report_alone(personas):
    from wasl.reports.filters import parse_filters

    rep = personas.rep_a
    BUILT.clear()
    board = dashboards.build_dashboard(user=rep, filters=parse_filters(rep, {}), lazy=True)

    assert BUILT == ["kpis"]
    charts = {c.ref.ref: c for c in board.cards if c.ref.kind == "chart"}
    assert charts["chart:kpis:0"].chart is not None and not charts["chart:kpis:0"].lazy
    assert charts["chart:forecast:0"].lazy and charts["chart:forecast:0"].title == "Forecast"


def test_the_dashboard_page_loads_other_reports_charts_afterwards(personas):
    client = client_for(personas.rep_a)
    html = client.get(reverse("reports:index")).content.decode()
    load = reverse("reports:dashboard-chart", args=["chart:forecast:0"])
    assert f'hx-get="{load}"' in html
    assert 'data-chart="card-kpis-0-data"' in html
    assert BUILT.count("forecast") == 0

    card = client.get(load, {"period": "last_month"})
    assert card.status_code == 200
    assert 'data-chart="card-forecast-0-data"' in card.content.decode()
    assert "period=last_month" in card.content.decode()
    assert client.get(reverse("reports:dashboard-chart", args=["figure:leads"])).status_code == 404
    assert client.get(reverse("reports:dashboard-chart", args=["chart:nope:0"])).status_code == 404
    assert (
        client.get(reverse("reports:dashboard-chart", args=["chart:forecast:5"])).status_code == 404
    )


def test_cards_whose_report_went_away_are_skipped(personas):
    from wasl.reports.filters import parse_filters

    rep = personas.rep_a
    dashboard_add_card(actor=rep, card="chart:churn:0")
    del registry._REGISTRY["churn"]
    board = dashboards.build_dashboard(user=rep, filters=parse_filters(rep, {}))
    assert board.missing == ["chart:churn:0"]


# ---------------------------------------------------------------- the page


def test_the_page_lists_the_cards_and_adds_moves_removes_and_resets(personas):
    client = client_for(personas.manager_a)
    url = reverse("reports:dashboard-edit")
    page = client.get(url).content.decode()
    assert 'data-card="figure:leads"' in page
    assert 'value="chart:churn:0"' in page  # offered, not shown yet
    assert "Back to the default" not in page

    assert client.post(url, {"action": "add", "card": "chart:churn:0"}).status_code == 302
    assert client.post(url, {"action": "up", "card": "chart:churn:0"}).status_code == 302
    assert client.post(url, {"action": "remove", "card": "figure:leads"}).status_code == 302
    assert refs(personas.manager_a) == [
        "figure:win_rate",
        "figure:new_revenue",
        "chart:kpis:0",
        "chart:forecast:0",
        "chart:churn:0",
        "chart:activity:0",
    ]
    page = client.get(url).content.decode()
    assert "Back to the default" in page

    client.post(url, {"action": "reset"})
    assert not dashboards.is_customised(user=personas.manager_a)


def test_the_dashboard_shows_the_cards_in_the_users_order(personas):
    rep = personas.rep_a
    dashboard_move_card(actor=rep, card="figure:new_revenue", offset=-2)
    html = client_for(rep).get(reverse("reports:index")).content.decode()
    assert html.index('data-figure="new_revenue"') < html.index('data-figure="leads"')


def test_the_page_refuses_an_unknown_card_with_a_message(personas):
    client = client_for(personas.rep_a)
    response = client.post(
        reverse("reports:dashboard-edit"), {"action": "add", "card": "chart:nope:0"}, follow=True
    )
    assert "Choose a card to add." in response.content.decode()
    assert not dashboards.is_customised(user=personas.rep_a)


def test_the_dashboard_pages_need_a_signed_in_user(db):
    response = Client().get(reverse("reports:dashboard-edit"))
    assert response.status_code == 302
    assert Client().post(reverse("reports:dashboard-edit"), {"action": "reset"}).status_code == 302
