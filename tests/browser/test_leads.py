"""Leads in a real browser: quick add on the list, disqualify asks why, and converting
shows the contact it will reuse before landing on that contact."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.contacts.services import contact_create
from wasl.core.testing import make_user
from wasl.leads.models import Lead
from wasl.leads.services import lead_create

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def rep(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


def test_quick_add_a_lead_on_the_list(page, site, rep):
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/leads/")
    form = page.locator("#inline-create")
    form.get_by_placeholder("First name").fill("Parisa")
    form.get_by_placeholder("Company").fill("Kavir Steel")
    form.get_by_role("button", name="Add").click()

    page.locator("#list-rows").get_by_role("link", name="Parisa").wait_for()
    assert Lead.objects.get(first_name="Parisa").owner == rep
    screenshot(page, "leads-list-en")


def test_disqualifying_asks_for_the_reason(page, site, rep):
    lead = lead_create(actor=rep, first_name="Omid", company_name="Spam Co")
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/leads/{lead.public_id}/")

    page.get_by_role("button", name="Disqualify…").click()
    # Wait for the collapse to finish opening: a click during its animation can be lost.
    page.locator("#disqualify.show").wait_for()
    with page.expect_navigation():
        page.get_by_role("button", name="Disqualify", exact=True).click()
    page.get_by_text("Say why the lead is disqualified.").wait_for()
    page.get_by_label("Why is it disqualified?").fill("Not a real company")
    with page.expect_navigation():
        page.get_by_role("button", name="Disqualify", exact=True).click()

    page.locator("#lead-disqualify-reason").wait_for()
    assert page.locator("#lead-status").inner_text() == "Disqualified"


def test_convert_shows_the_contact_it_reuses_and_lands_on_it(page, site, rep):
    contact = contact_create(
        actor=rep, first_name="Sara", last_name="Ahmadi", emails=["sara@pars.example"]
    )
    lead = lead_create(actor=rep, first_name="Sara", last_name="Ahmadi", email="sara@pars.example")
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/leads/{lead.public_id}/")
    screenshot(page, "lead-page-en")

    page.get_by_role("link", name="Convert").first.click()
    preview = page.locator("#conversion-preview")
    assert "Reuse your contact" in preview.inner_text()
    assert preview.locator('[data-reuse="contact"]').inner_text() == "Sara Ahmadi"
    screenshot(page, "lead-convert-en")
    page.get_by_role("button", name="Convert").click()

    page.wait_for_url(f"{site}/contacts/{contact.public_id}/")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.converted_contact == contact
