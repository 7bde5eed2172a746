"""Contacts in a real browser: create one with a Persian name from the list and find it by
typing Arabic letters in the global search, log a call on its 360 page, another rep's
contact is a 404 page, and the list fits a phone's width."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.contacts.services import company_create, contact_create
from wasl.core.testing import make_user

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def rep(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


def signed_in(page, site, user="sara"):
    sign_in(page, site, user, PASSWORD)
    page.wait_for_url(f"{site}/")


def test_quick_add_a_persian_contact_then_find_it_with_arabic_letters(page, site, rep):
    signed_in(page, site)
    page.goto(f"{site}/contacts/")
    form = page.locator("#inline-create")
    form.get_by_placeholder("First name").fill("یاسمن")
    form.get_by_placeholder("Last name").fill("کریمی")
    form.get_by_placeholder("Phone").fill("09121234567")
    form.get_by_role("button", name="Add").click()
    row = page.locator("#list-rows tr").first
    row.get_by_role("link", name="یاسمن کریمی").wait_for()
    screenshot(page, "contacts-list-after-quick-add")

    box = page.get_by_role("combobox", name="Search contacts, companies, leads and deals")
    box.press_sequentially("ياسمن كريمي", delay=20)
    hit = page.locator("#global-search-results a.wasl-hit").first
    hit.wait_for()
    assert hit.inner_text().startswith("یاسمن کریمی")
    hit.click()
    page.wait_for_url(f"{site}/contacts/**")
    assert "یاسمن کریمی" in page.locator("h1").inner_text()


def test_log_a_call_on_the_360_page_and_see_it_on_the_timeline(page, site, rep):
    company = company_create(actor=rep, name="Pars Trading")
    contact = contact_create(
        actor=rep, first_name="مریم", last_name="احمدی", phones=["09121234567"], company=company
    )
    signed_in(page, site)
    page.goto(f"{site}/contacts/{contact.public_id}/")
    assert page.locator('a[href^="tel:"]').first.get_attribute("href") == "tel:+989121234567"
    assert "wa.me/989121234567" in page.locator('a[href*="wa.me"]').first.get_attribute("href")
    quick = page.locator("#quick-add")
    quick.wait_for()
    quick.get_by_role("button", name="Log a call").click()
    quick.get_by_placeholder("Subject").fill("Asked for a quote")
    page.locator("#qa-outcome").select_option("connected")
    quick.get_by_role("button", name="Add", exact=True).click()
    entry = page.locator("#timeline-items li", has_text="Asked for a quote")
    entry.wait_for()
    assert "Connected" in entry.inner_text()
    screenshot(page, "contact-360-after-call")


def test_another_reps_contact_is_a_404_page(page, site, rep):
    other = make_user("omid", "rep", "Shiraz", password=PASSWORD)
    theirs = contact_create(actor=other, first_name="Hidden", last_name="Person")
    signed_in(page, site)
    response = page.goto(f"{site}/contacts/{theirs.public_id}/")
    assert response.status == 404
    assert "Hidden" not in page.content()
    assert page.locator("h1").inner_text() == "Not found"
    screenshot(page, "contact-404")


def test_the_list_fits_a_phone_width_with_the_table_scrolling_inside(page, site, rep):
    for index in range(8):
        contact_create(
            actor=rep,
            first_name="نام‌بسیار‌طولانی",
            last_name=f"خانوادگی {index}",
            emails=[f"a.very.long.address.{index}@example-company.com"],
            phones=["09121234567"],
            tags=["VIP", "Tehran"],
        )
    signed_in(page, site)
    page.set_viewport_size(PHONE)
    page.goto(f"{site}/contacts/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    inner = page.evaluate(
        "(() => { const t = document.querySelector('.table-responsive');"
        " return t.scrollWidth - t.clientWidth; })()"
    )
    assert inner > 0  # the wide table scrolls inside its container
    screenshot(page, "contacts-list-phone")
