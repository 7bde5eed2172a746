"""The report pages: the dashboard, a report's page, drill-down, export, print and the
exchange-rates page; what each persona may see."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Sum
from django.urls import reverse

from wasl.accounts.services import organisation_update, user_update
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for
from wasl.deals.services import deal_create, pipeline_create
from wasl.reports import registry
from wasl.reports.filters import ReportFilters, deals_in_scope
from wasl.reports.models import ExchangeRate
from wasl.reports.money import set_rate
from wasl.reports.results import Chart, Column, Figure, Report, Table
from wasl.reports.tests import sales_data

pytestmark = pytest.mark.django_db

clock, organisation, sales = sales_data.clock, sales_data.organisation, sales_data.sales

SEEN: list[ReportFilters] = []


def build_fake(user: Any, filters: ReportFilters) -> Report:
    """A small report over the deals in scope, with every kind of part a page renders."""
    SEEN.append(filters)
    deals = deals_in_scope(user, filters)
    total = deals.aggregate(n=Count("id"), value=Sum("amount"))
    rows = [
        {
            "owner": row["owner__username"],
            "deals": row["n"],
            "value": row["value"],
            "_drill": {"deals": f"owner:{row['owner__username']}"},
        }
        for row in deals.values("owner__username")
        .annotate(n=Count("id"), value=Sum("amount"))
        .order_by("owner__username")
    ]
    return Report(
        key="funnel",
        title="Deal count",
        filters=filters,
        figures=[
            Figure("open_deals", "Open deals", total["n"], "count", "all", 4, 0.25, [1, 3, 2, 4]),
            Figure("open_value", "Open value", total["value"] or Decimal(0), "money"),
            Figure("churn_rate", "Churn rate", 0.125, "percent", None, 0.1, 0.25),
        ],
        tables=[
            Table(
                "by-owner",
                "Per owner",
                [
                    Column("owner", "Owner"),
                    Column("deals", "Deals", "count"),
                    Column("value", "Value", "money"),
                ],
                rows,
            )
        ],
        charts=[
            Chart(
                "bar",
                [r["owner"] for r in rows],
                [{"label": "Deals", "data": [r["deals"] for r in rows]}],
            )
        ],
        warnings=["1 deal in GBP has no exchange rate and is left out of the amounts."],
    )


def drill_fake(user: Any, filters: ReportFilters, cell: str) -> tuple[str, Any]:
    deals = deals_in_scope(user, filters)
    if cell == "all":
        return "deal", deals
    if cell.startswith("owner:"):
        return "deal", deals.filter(owner__username=cell.removeprefix("owner:"))
    from wasl.core.errors import NotFound

    raise NotFound()


FAKE = registry.ReportDefinition(
    key="funnel",
    title="Deal count",
    description="Deals in scope.",
    build=build_fake,
    drill=drill_fake,
)


@pytest.fixture(autouse=True)
def english(request, db):
    if "sales" in request.fixturenames:
        return  # the crafted sales history keeps its Jalali, IRR organisation
    organisation_update(
        actor=None, language="en", calendar="gregorian", digits="latin", currency="USD"
    )
    SEEN.clear()


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "funnel", FAKE)
    return FAKE


@pytest.fixture
def deals(personas):
    pipeline = pipeline_create(
        actor=None,
        name="Sales",
        stages=[{"name": "New", "probability": 10}, {"name": "Won", "kind": "won"}],
    )
    made = {}
    for owner, title, amount in [
        (personas.rep_a, "Alpha fleet", "1000"),
        (personas.rep_a, "Alpha parts", "500"),
        (personas.rep_b, "Beta secret", "7000"),
        (personas.rep_b, "Beta other", "300"),
        (personas.rep_b, "Beta third", "200"),
        (personas.rep_c, "Gamma far", "9000"),
    ]:
        made[title] = deal_create(
            actor=owner, title=title, pipeline=pipeline, amount=Decimal(amount), currency="USD"
        )
    return made


def figure_text(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}">(?:<a [^>]*>)?([^<]*)', html)
    assert match, f"no figure {key}"
    return match.group(1)


def figure_link(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}"><a [^>]*href="([^"]+)"', html)
    assert match, f"no link on figure {key}"
    return match.group(1).replace("&amp;", "&")


# ---------------------------------------------------------------- a report's page


def test_a_report_page_shows_figures_change_chart_table_and_warnings(personas, fake, deals):
    response = client_for(personas.rep_a).get(reverse("reports:report", args=["funnel"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Deal count" in html
    assert figure_text(html, "open_deals") == "2"
    assert figure_text(html, "open_value") == "$1,500.00"
    assert figure_text(html, "churn_rate") == "12.5%"
    # Up a quarter: good news for deals (green), bad news for churn (red).
    assert re.search(r'text-success" data-change="up"><i [^>]*></i> Up 25.0% on the previous', html)
    assert re.search(r'text-danger" data-change="up"', html)
    assert 'data-spark="[1.0, 3.0, 2.0, 4.0]"' in html
    assert 'data-chart="chart-funnel-0-data"' in html
    assert '<script id="chart-funnel-0-data" type="application/json">' in html
    assert "vendor/chart/chart.umd.min.js" in html
    assert "has no exchange rate" in html
    assert 'data-table="by-owner"' in html
    # The period shown is this quarter, the default.
    assert SEEN[-1].period.key == "this_quarter"


def test_a_rep_sees_only_their_own_numbers_and_a_manager_their_teams(personas, fake, deals):
    rep_html = client_for(personas.rep_a).get(reverse("reports:report", args=["funnel"]))
    manager_html = client_for(personas.manager_a).get(reverse("reports:report", args=["funnel"]))
    admin_html = client_for(personas.admin).get(reverse("reports:report", args=["funnel"]))

    assert figure_text(rep_html.content.decode(), "open_deals") == "2"
    assert "rep_b" not in rep_html.content.decode()
    assert figure_text(manager_html.content.decode(), "open_deals") == "5"
    assert "rep_c" not in manager_html.content.decode()
    assert figure_text(admin_html.content.decode(), "open_deals") == "6"


def test_a_rep_cannot_narrow_the_report_to_another_reps_numbers(personas, fake, deals):
    url = reverse("reports:report", args=["funnel"])
    response = client_for(personas.rep_a).get(url, {"owner": str(personas.rep_b.public_id)})

    html = response.content.decode()
    assert response.status_code == 200
    assert figure_text(html, "open_deals") == "2"
    assert "The default filters are shown instead." in html
    assert SEEN[-1].owner_id is None


def test_a_manager_narrows_to_one_rep_of_their_team_but_not_to_another_team(personas, fake, deals):
    url = reverse("reports:report", args=["funnel"])
    client = client_for(personas.manager_a)
    own = client.get(url, {"owner": str(personas.rep_b.public_id)}).content.decode()
    other = client.get(url, {"team": str(personas.rep_c.team.public_id)}).content.decode()

    assert figure_text(own, "open_deals") == "3"
    # The owner select offers the team's people only.
    assert str(personas.rep_b.public_id) in own
    assert str(personas.rep_c.public_id) not in own
    assert figure_text(other, "open_deals") == "5"
    assert "The default filters are shown instead." in other


def test_an_unknown_report_is_not_found(personas):
    client = client_for(personas.admin)
    assert client.get(reverse("reports:report", args=["no-such-report"])).status_code == 404
    assert (
        client.get(reverse("reports:drill", args=["no-such-report"]), {"cell": "x"}).status_code
        == 404
    )
    assert client.get(reverse("reports:export", args=["no-such-report"])).status_code == 404


def test_a_custom_range_is_typed_in_the_viewers_jalali_calendar(personas, fake, deals):
    user_update(actor=None, user=personas.rep_a, calendar="jalali")
    response = client_for(personas.rep_a).get(
        reverse("reports:report", args=["funnel"]),
        {"period": "custom", "start": "1405/01/01", "end": "1405/01/31"},
    )

    assert response.status_code == 200
    period = SEEN[-1].period
    assert (period.start, period.end) == (dt.date(2026, 3, 21), dt.date(2026, 4, 21))
    html = response.content.decode()
    # The export and drill links carry the range as ISO dates.
    assert "start=2026-03-21&amp;end=2026-04-20" in html
    assert 'value="1405/01/01"' in html


def test_a_custom_range_ending_before_it_starts_is_refused_on_the_form(personas, fake, deals):
    response = client_for(personas.rep_a).get(
        reverse("reports:report", args=["funnel"]),
        {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"},
    )

    assert response.status_code == 200
    assert "The range ends before it starts." in response.content.decode()
    assert SEEN[-1].period.key == "this_quarter"


def test_a_persian_user_gets_a_right_to_left_page_with_persian_digits(personas, fake, deals):
    user_update(actor=None, user=personas.rep_a, language="fa", calendar="jalali", digits="native")
    html = (
        client_for(personas.rep_a).get(reverse("reports:report", args=["funnel"])).content.decode()
    )

    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert figure_text(html, "open_deals") == "۲"
    assert figure_text(html, "churn_rate") == "۱۲٫۵٪"
    assert "vendor/vazirmatn" in html


# ---------------------------------------------------------------- drill-down


def test_the_drill_down_lists_the_records_behind_the_number_linking_to_each(personas, fake, deals):
    client = client_for(personas.manager_a)
    page = client.get(reverse("reports:report", args=["funnel"])).content.decode()
    shown = int(figure_text(page, "open_deals"))

    response = client.get(figure_link(page, "open_deals"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-total="{shown}"' in html
    assert html.count('<tr><th scope="row"') == shown
    assert f'href="/deals/{deals["Beta secret"].public_id}/"' in html
    assert "Gamma far" not in html


def test_table_numbers_link_to_their_records(personas, fake, deals):
    client = client_for(personas.manager_a)
    page = client.get(reverse("reports:report", args=["funnel"])).content.decode()
    link = re.search(
        r'<td class="text-end wasl-num text-nowrap"><a href="([^"]+cell=owner%3Arep_b[^"]*)">3</a>',
        page,
    )
    assert link, "the rep_b row's count links to its records"

    html = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert 'data-total="3"' in html and "Alpha fleet" not in html


def test_a_rep_cannot_drill_into_another_reps_records(personas, fake, deals):
    client = client_for(personas.rep_a)
    url = reverse("reports:drill", args=["funnel"])

    narrowed = client.get(url, {"cell": "all", "owner": str(personas.rep_b.public_id)})
    by_cell = client.get(url, {"cell": "owner:rep_b"})

    assert narrowed.status_code == 404
    assert by_cell.status_code == 200
    assert 'data-total="0"' in by_cell.content.decode()
    assert "Beta secret" not in by_cell.content.decode()


def test_a_bad_drill_cell_is_not_found(personas, fake, deals):
    client = client_for(personas.admin)
    url = reverse("reports:drill", args=["funnel"])
    assert client.get(url, {"cell": "nonsense"}).status_code == 404
    assert client.get(url).status_code == 404


def test_the_drill_down_pages_by_25(personas, fake, deals):
    pipeline = deals["Alpha fleet"].pipeline
    for n in range(25):
        deal_create(
            actor=personas.rep_a,
            title=f"Deal {n:02}",
            pipeline=pipeline,
            amount=Decimal(1),
            currency="USD",
        )
    client = client_for(personas.rep_a)
    first = client.get(reverse("reports:drill", args=["funnel"]), {"cell": "all"}).content.decode()
    assert 'data-total="27"' in first and first.count('<tr><th scope="row"') == 25
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(reverse("reports:drill", args=["funnel"]) + next_url).content.decode()
    # Newest first: the two made before the 25 come last.
    assert second.count('<tr><th scope="row"') == 2 and "Alpha fleet" in second


# ---------------------------------------------------------------- export


def test_the_csv_export_parses_back_to_the_numbers_on_the_page(personas, fake, deals):
    client = client_for(personas.manager_a)
    url = reverse("reports:export", args=["funnel"])
    response = client.get(url, {"format": "csv", "owner": str(personas.rep_b.public_id)})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "rep_b" in cells and "3" in cells
    assert "rep_a" not in cells


def test_the_xlsx_export_holds_the_table_of_the_page(personas, fake, deals):
    import openpyxl

    client = client_for(personas.manager_a)
    page = client.get(reverse("reports:report", args=["funnel"])).content.decode()
    response = client.get(reverse("reports:export", args=["funnel"]), {"format": "xlsx"})

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    values = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    for owner, count in (("rep_a", "2"), ("rep_b", "3")):
        assert owner in values and count in values
        assert re.search(
            rf"<th scope=\"row\" class=\"fw-normal\">{owner}</th><td[^>]*><a [^>]*>{count}</a>",
            page,
        )


def test_an_unknown_export_format_is_not_found(personas, fake):
    response = client_for(personas.rep_a).get(
        reverse("reports:export", args=["funnel"]), {"format": "pdf"}
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- dashboard and print


def test_the_dashboard_shows_the_kpi_cards_and_lists_the_reports(
    personas, fake, deals, monkeypatch
):
    monkeypatch.setitem(
        registry._REGISTRY,
        "kpis",
        registry.ReportDefinition(
            key="kpis", title="KPIs", description="", build=build_fake, drill=drill_fake
        ),
    )
    response = client_for(personas.rep_a).get(reverse("reports:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "My numbers" in html
    assert figure_text(html, "open_deals") == "2"
    assert "/reports/kpis/records/?cell=all" in figure_link(html, "open_deals")
    assert f'href="{reverse("reports:report", args=["funnel"])}"' in html
    # The KPI report's chart is on a rep's default dashboard.
    assert 'data-chart="card-kpis-0-data"' in html
    assert reverse("reports:exchange-rates") not in html


def test_the_dashboard_heading_follows_the_role(personas, fake):
    assert (
        "My teams" in client_for(personas.manager_a).get(reverse("reports:index")).content.decode()
    )
    admin = client_for(personas.admin).get(reverse("reports:index")).content.decode()
    assert "All teams" in admin
    assert reverse("reports:exchange-rates") in admin


def test_the_dashboard_works_before_the_kpi_report_exists(personas, monkeypatch):
    monkeypatch.delitem(registry._REGISTRY, "kpis", raising=False)
    response = client_for(personas.rep_a).get(reverse("reports:index"))
    assert response.status_code == 200


def test_the_printable_dashboard_has_no_menu_and_a_print_button(personas, fake, deals, monkeypatch):
    monkeypatch.setitem(
        registry._REGISTRY,
        "kpis",
        registry.ReportDefinition(
            key="kpis", title="KPIs", description="", build=build_fake, drill=drill_fake
        ),
    )
    html = client_for(personas.rep_a).get(reverse("reports:print")).content.decode()

    assert "navbar" not in html
    assert "data-wasl-print" in html
    assert "reports/reports.css" in html
    assert figure_text(html, "open_deals") == "2"


# ---------------------------------------------------------------- exchange rates


def test_only_admins_reach_the_exchange_rates(personas):
    rate = set_rate(actor=None, currency="EUR", rate_date=dt.date(2026, 1, 1), rate="1.1")
    for user in (personas.rep_a, personas.manager_a, personas.readonly):
        client = client_for(user)
        assert client.get(reverse("reports:exchange-rates")).status_code == 403
        assert (
            client.post(
                reverse("reports:exchange-rates"),
                {"currency": "GBP", "rate_date": "2026-01-01", "rate": "1.3"},
            ).status_code
            == 403
        )
        assert (
            client.post(reverse("reports:exchange-rate-delete", args=[rate.public_id])).status_code
            == 403
        )
    assert ExchangeRate.objects.count() == 1


def test_an_admin_adds_a_rate_with_a_jalali_date_and_persian_digits(personas):
    user_update(actor=None, user=personas.admin, calendar="jalali")
    client = client_for(personas.admin)
    response = client.post(
        reverse("reports:exchange-rates"),
        {"currency": "eur", "rate_date": "۱۴۰۵/۰۱/۰۱", "rate": "۱۲۳۴٫۵"},
    )

    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.rate_date, rate.rate) == (
        "EUR",
        dt.date(2026, 3, 21),
        Decimal("1234.5"),
    )
    assert AuditEntry.objects.filter(object_public_id=rate.public_id, action="create").exists()
    html = client.get(reverse("reports:exchange-rates")).content.decode()
    assert "1405/01/01" in html and "EUR" in html


def test_a_bad_rate_is_refused_and_nothing_is_written(personas):
    client = client_for(personas.admin)
    response = client.post(
        reverse("reports:exchange-rates"),
        {"currency": "EUR", "rate_date": "2026-01-01", "rate": "-2"},
    )
    assert response.status_code == 422
    assert ExchangeRate.objects.count() == 0
    own = client.post(
        reverse("reports:exchange-rates"),
        {"currency": "USD", "rate_date": "2026-01-01", "rate": "2"},
    )
    assert own.status_code == 422
    assert "needs no rate" in own.content.decode()


def test_an_admin_edits_and_deletes_a_rate(personas):
    rate = set_rate(actor=None, currency="EUR", rate_date=dt.date(2026, 1, 1), rate="1.1")
    client = client_for(personas.admin)
    edit = reverse("reports:exchange-rate-edit", args=[rate.public_id])
    assert client.get(edit).status_code == 200

    assert client.post(edit, {"rate": "1.25"}).status_code == 302
    rate.refresh_from_db()
    assert rate.rate == Decimal("1.25")

    assert (
        client.post(reverse("reports:exchange-rate-delete", args=[rate.public_id])).status_code
        == 302
    )
    assert not ExchangeRate.objects.exists()
    assert AuditEntry.objects.filter(object_public_id=rate.public_id, action="delete").exists()


def test_an_unknown_rate_is_not_found(personas):
    client = client_for(personas.admin)
    missing = "00000000-0000-0000-0000-000000000001"
    assert client.get(reverse("reports:exchange-rate-edit", args=[missing])).status_code == 404
    assert client.post(reverse("reports:exchange-rate-delete", args=[missing])).status_code == 404


# ---------------------------------------------------------------- every real report


def _links(html: str) -> list[tuple[str, str]]:
    """(URL, text) of every link to a drill-down on a page."""
    found = re.findall(r'<a [^>]*href="(/reports/[a-z-]+/records/\?[^"]+)"[^>]*>([^<]*)</a>', html)
    return [(url.replace("&amp;", "&"), text) for url, text in found]


@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_every_report_renders_and_each_number_drills_to_as_many_records(personas, sales, who):
    user = getattr(personas, who)
    user_update(actor=None, user=user, language="en", digits="latin")
    client = client_for(user)
    checked = 0
    drilled_pages = []
    for definition in registry.all_reports():
        url = reverse("reports:report", args=[definition.key])
        response = client.get(url)
        assert response.status_code == 200, definition.key
        html = response.content.decode()
        assert 'dir="ltr"' in html
        for link, text in _links(html):
            drilled = client.get(link)
            assert drilled.status_code == 200, link
            drilled_pages.append(drilled.content.decode())
            number = text.replace(",", "")
            if number.isdigit():
                assert f'data-total="{number}"' in drilled.content.decode(), (link, text)
                checked += 1
        exported = client.get(reverse("reports:export", args=[definition.key]), {"format": "csv"})
        assert exported.status_code == 200, definition.key
    assert checked > 0
    listed = "".join(drilled_pages)
    assert ">D1</a>" in listed
    # Other reps' deals are listed for the administrator only.
    for other in ("D2", "D3", "D7"):
        assert (f">{other}</a>" in listed) == (who == "admin"), other


def test_the_settings_page_links_to_the_exchange_rates(personas):
    html = client_for(personas.admin).get(reverse("settings:index")).content.decode()
    assert f'href="{reverse("reports:exchange-rates")}"' in html


def test_the_forecast_takes_a_unit_and_a_target_and_refuses_a_bad_one(personas, sales):
    user_update(actor=None, user=personas.admin, language="en", digits="latin")
    client = client_for(personas.admin)
    url = reverse("reports:report", args=["forecast"])
    page = client.get(url).content.decode()
    assert 'id="f-unit"' in page and 'id="f-target"' in page
    assert (
        'id="f-unit"' not in client.get(reverse("reports:report", args=["churn"])).content.decode()
    )

    good = client.get(url, {"unit": "quarter", "target": "۵۰۰۰"})
    assert good.status_code == 200
    assert "unit=quarter&amp;target=5000" in good.content.decode()

    bad = client.get(url, {"target": "-3"})
    assert bad.status_code == 200
    assert "Enter an amount above zero." in bad.content.decode()
    assert "target=" not in re.search(r'href="([^"]*export[^"]*)"', bad.content.decode()).group(1)


def test_activities_behind_a_number_link_to_the_record_they_belong_to(personas, sales):
    from wasl.activities.services import activity_create

    for user in (personas.rep_a, personas.rep_b):
        user_update(actor=None, user=user, language="en", digits="latin")
    deal = sales.deals["D1"]
    done = sales_data.NOW - dt.timedelta(days=2)
    activity_create(actor=personas.rep_a, kind="call", subject="Called about D1", deal=deal,
                    done_at=done)  # fmt: skip
    activity_create(actor=personas.rep_b, kind="call", subject="Rep B's call", done_at=done)
    client = client_for(personas.rep_a)
    page = client.get(reverse("reports:report", args=["activity"])).content.decode()
    assert figure_text(page, "calls") == "1"

    html = client.get(figure_link(page, "calls")).content.decode()
    assert 'data-total="1"' in html
    assert f'href="/deals/{deal.public_id}/">Called about D1</a>' in html
    assert "Rep B" not in html
    # The same link followed by rep B lists rep B's call alone.
    other = client_for(personas.rep_b).get(figure_link(page, "calls")).content.decode()
    assert "Rep B&#x27;s call" in other and "Called about D1" not in other


def test_an_arabic_user_gets_hijri_periods_and_arabic_digits(personas, fake, deals):
    user_update(actor=None, user=personas.rep_a, language="ar", calendar="hijri", digits="native")
    response = client_for(personas.rep_a).get(
        reverse("reports:report", args=["funnel"]), {"period": "this_month"}
    )

    html = response.content.decode()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert figure_text(html, "open_deals") == "٢"
    shown = re.search(r'id="period-shown">([^<]*)<', html).group(1)
    assert re.search("[٠-٩]", shown) and not re.search("[0-9]", shown), shown
    period = SEEN[-1].period
    assert period.calendar == "hijri" and period.unit == "month"


def _static(user: Any, filters: ReportFilters) -> Report:
    return Report(
        key="churn",
        title="Static",
        filters=filters,
        figures=[Figure("n", "N", 3, "count", "all")],
        charts=[Chart("line", ["a", "b"], [{"label": "N", "data": [1, 2]}])],
    )


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "admin"])
def test_a_report_page_costs_few_statements_beyond_the_report(
    personas, monkeypatch, django_assert_max_num_queries, who
):
    monkeypatch.setitem(
        registry._REGISTRY,
        "churn",
        registry.ReportDefinition(key="churn", title="Static", description="", build=_static),
    )
    client = client_for(getattr(personas, who))
    url = reverse("reports:report", args=["churn"])
    client.get(url)
    with django_assert_max_num_queries(8):
        response = client.get(url, {"period": "last_month"})
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["rep_a", "admin"])
def test_the_dashboard_costs_few_statements_beyond_the_kpi_report(
    personas, monkeypatch, django_assert_max_num_queries, who
):
    monkeypatch.setitem(
        registry._REGISTRY,
        "kpis",
        registry.ReportDefinition(key="kpis", title="KPIs", description="", build=_static),
    )
    client = client_for(getattr(personas, who))
    client.get(reverse("reports:index"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reports:index"))
    assert response.status_code == 200
    assert 'data-figure="n"' in response.content.decode()
