"""The dashboard and a report in a real browser, in English and in Persian: the charts are
drawn (Chart.js instances on non-blank canvases), right-to-left pages reverse the x axis,
and the report fits a phone's width."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update, user_update
from wasl.core.testing import make_user
from wasl.deals.services import deal_create, deal_move_to_stage, pipeline_create

pytestmark = pytest.mark.browser

PASSWORD = "Gozaresh-2026-ok"
PERSIAN_DIGIT = re.compile("[۰-۹]")

# How many pixels of each chart canvas are painted; a drawn chart has axes, bars or lines.
PAINTED = """() => Array.from(document.querySelectorAll('canvas[data-chart], canvas.wasl-spark'))
  .map((canvas) => {
    const chart = window.Chart && Chart.getChart(canvas);
    if (!chart || !canvas.width || !canvas.height) return 0;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
    return painted;
  })"""


@pytest.fixture
def manager(site, page):
    # Report pages build several reports; a busy machine needs more than the usual 10 s.
    page.set_default_timeout(30_000)
    organisation_update(
        actor=None, language="en", calendar="gregorian", digits="latin", currency="USD"
    )
    boss = make_user("maryam", "manager", "North", password=PASSWORD, first_name="Maryam")
    rep = make_user("reza", "rep", "North", password=PASSWORD, first_name="Reza")
    from wasl.accounts.services import team_update

    team_update(actor=None, team=rep.team, manager=boss)
    pipeline = pipeline_create(
        actor=None,
        name="Sales",
        stages=[
            {"name": "New", "probability": 10},
            {"name": "Proposal", "probability": 50},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    stages = {s.name: s for s in pipeline.stages.all()}
    today = dt.date.today()
    for n in range(6):
        deal = deal_create(
            actor=rep,
            title=f"Deal {n}",
            pipeline=pipeline,
            amount=Decimal(1000 * (n + 1)),
            currency="USD",
            expected_close=today + dt.timedelta(days=10 * n),
        )
        if n % 2:
            deal_move_to_stage(actor=rep, deal=deal, stage=stages["Proposal"])
        if n == 5:
            deal_move_to_stage(actor=rep, deal=deal, stage=stages["Won"])
    return boss


def charts_drawn(page) -> list[int]:
    page.wait_for_function(
        "() => !document.querySelector('[data-lazy-chart]') && "
        "document.querySelectorAll('canvas[data-chart]').length > 0 && "
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".every((c) => window.Chart && Chart.getChart(c))"
    )
    page.wait_for_timeout(400)  # the draw animation is 250 ms
    return page.evaluate(PAINTED)


def test_the_dashboard_and_a_report_draw_their_charts_in_english(page, site, manager):
    sign_in(page, site, "maryam", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/reports/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    painted = charts_drawn(page)
    assert painted and all(n > 20 for n in painted), painted
    assert page.locator("#dashboard-figures .wasl-figure").count() >= 4
    assert "My teams" in page.locator("h1").inner_text()
    # The forecast and activity charts came after the page, and were drawn too.
    assert page.locator("#dashboard-charts canvas[data-chart]").count() >= 3
    screenshot(page, "reports-dashboard-en")

    page.goto(f"{site}/reports/funnel/")
    painted = charts_drawn(page)
    assert painted and all(n > 20 for n in painted), painted
    reverse = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart]'))"
        ".options.scales.x.reverse"
    )
    assert reverse is False
    screenshot(page, "reports-funnel-en")


def test_persian_pages_are_right_to_left_with_reversed_axes_and_persian_digits(page, site, manager):
    user_update(actor=None, user=manager, language="fa", calendar="jalali", digits="native")
    sign_in(page, site, "maryam", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/reports/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    painted = charts_drawn(page)
    assert painted and all(n > 20 for n in painted), painted
    figure = page.locator("#dashboard-figures [data-figure]").first.inner_text()
    assert PERSIAN_DIGIT.search(figure) and not re.search("[0-9]", figure), figure
    screenshot(page, "reports-dashboard-fa")

    page.goto(f"{site}/reports/forecast/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    painted = charts_drawn(page)
    assert painted and all(n > 20 for n in painted), painted
    options = page.evaluate(
        "() => { const c = Chart.getChart(document.querySelector('canvas[data-chart]'));"
        " return {reverse: c.options.scales.x.reverse, font: Chart.defaults.font.family,"
        " drawn: c.scales.x.ticks.map((t) =>"
        " c.options.scales.x.ticks.callback.call(c.scales.x, t.value)).join(' ')}; }"
    )
    assert options["reverse"] is True
    assert "Vazirmatn" in options["font"]
    assert PERSIAN_DIGIT.search(options["drawn"]), options
    assert not re.search("[0-9]", options["drawn"]), options
    screenshot(page, "reports-forecast-fa")

    page.set_viewport_size(PHONE)
    page.goto(f"{site}/reports/forecast/")
    charts_drawn(page)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the report scrolls sideways by {overflow}px at 390px"
    screenshot(page, "reports-forecast-fa-phone")


def test_the_custom_range_fields_appear_for_a_custom_period(page, site, manager):
    sign_in(page, site, "maryam", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/reports/funnel/")
    start = page.get_by_label("From")
    assert not start.is_visible()
    page.get_by_label("Period").select_option("custom")
    start.fill("2026-01-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*period=custom.*"))
    assert "2026-01-01" in page.locator("#period-shown").inner_text()
    charts_drawn(page)


def test_the_printable_dashboard_draws_every_chart_without_the_menu(page, site, manager):
    sign_in(page, site, "maryam", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/reports/print/")
    painted = charts_drawn(page)
    assert len(painted) >= 4 and all(n > 20 for n in painted), painted
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").count()
    assert not page.get_by_role("button", name="Print").is_visible()
    # Two charts a row on A4 (186 mm of paper: about 700 CSS pixels).
    width = page.evaluate(
        "() => document.querySelector('#dashboard-charts > div').getBoundingClientRect().width"
    )
    row = page.evaluate("() => document.querySelector('#dashboard-charts').clientWidth")
    assert 0.4 * row <= width <= 0.55 * row, (width, row)
    page.pdf(path=str(screenshot(page, "reports-print").with_suffix(".pdf")))
