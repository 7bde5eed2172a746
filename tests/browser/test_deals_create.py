"""New deals in a real browser: the list's quick add puts the row at the top without a page
load, and the board's "New deal" opens the form on that pipeline's first stage."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.core.testing import make_user
from wasl.deals.models import Deal
from wasl.deals.services import pipeline_create

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def sales(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    rep = make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")
    pipeline_create(actor=None, name="Sales", is_default=True)
    renewals = pipeline_create(
        actor=None, name="Renewals", stages=[{"name": "Due"}, {"name": "Done", "kind": "won"}]
    )
    return rep, renewals


def test_quick_add_a_deal_then_open_one_from_the_board(page, site, sales):
    rep, renewals = sales
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")

    page.goto(f"{site}/deals/")
    form = page.locator("#inline-create")
    form.locator("input[name=title]").fill("Fleet tyres")
    form.locator("input[name=amount]").fill("1200")
    form.get_by_role("button", name="Add").click()
    page.locator("#list-rows tr").filter(has_text="Fleet tyres").wait_for()
    assert page.url == f"{site}/deals/"
    screenshot(page, "deal-quick-add")

    page.goto(f"{site}/deals/board/?pipeline={renewals.public_id}")
    page.get_by_role("link", name="New deal").click()
    page.wait_for_url(f"**/deals/new/?pipeline={renewals.public_id}")
    stage = page.locator("#id_stage")
    assert stage.locator("option:checked").inner_text() == "Due"
    page.locator("#id_title").fill("Support contract")
    page.locator("#id_expected_close").fill("2027-01-31")
    screenshot(page, "deal-new-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/deals/*-*/")
    deal = Deal.objects.get(title="Support contract")
    assert deal.pipeline == renewals and deal.owner == rep
    assert str(deal.expected_close) == "2027-01-31"
