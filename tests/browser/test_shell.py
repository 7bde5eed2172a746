"""The shell in a real browser: sign-in, preferences, right-to-left, Jalali dates, phone
width and the global search."""

from __future__ import annotations

import re

import pytest

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.contacts.services import contact_create
from wasl.core.testing import make_user

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"
PERSIAN_DIGIT = re.compile("[۰-۹]")


@pytest.fixture
def rep(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


def test_sign_in_shows_an_error_then_lands_on_my_day(page, site, rep):
    sign_in(page, site, "sara", "wrong password")
    error = page.locator("#login-error")
    error.wait_for()
    assert "correct" in error.inner_text().lower()
    screenshot(page, "sign-in-error")
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    assert page.locator("h1").first.inner_text().startswith("My day")
    screenshot(page, "home-en")


def test_persian_preferences_make_the_page_rtl_with_jalali_persian_digits(page, site, rep):
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/preferences/")
    page.get_by_label("Language").select_option("fa")
    page.get_by_label("Calendar").select_option("jalali")
    page.get_by_label("Digits").select_option("native")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/preferences/")
    page.goto(f"{site}/")
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "fa"
    today = page.locator("#today").inner_text()
    assert PERSIAN_DIGIT.search(today), today
    assert not re.search("[0-9]", today), today
    screenshot(page, "home-fa")

    page.set_viewport_size(PHONE)
    page.goto(f"{site}/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    screenshot(page, "home-fa-phone")


def test_the_global_search_finds_a_persian_name_typed_with_arabic_letters(page, site, rep):
    contact = contact_create(actor=rep, first_name="یاسر", last_name="کاظمی")
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    box = page.get_by_role("combobox", name="Search contacts, companies, leads and deals")
    box.press_sequentially("ياسر كاظمي", delay=20)
    hit = page.locator("#global-search-results a.wasl-hit").first
    hit.wait_for()
    assert hit.inner_text().startswith("یاسر کاظمی")
    assert str(contact.public_id) in (hit.get_attribute("href") or "")
    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('wasl-hit')")
    screenshot(page, "search-arabic-letters")


def test_the_date_picker_writes_a_jalali_date(page, site, rep):
    from django.utils import timezone

    from wasl.activities.services import activity_create

    organisation_update(actor=None, language="fa", calendar="jalali", digits="native")
    activity_create(actor=rep, kind="task", subject="Call back", due_at=timezone.now())
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.locator("#my-tasks [aria-controls^=more-]").first.click()
    page.locator(".wasl-date button[aria-controls]").first.click()
    popup = page.locator(".wasl-date-popup").first
    popup.wait_for()
    before = page.locator(".wasl-date input").first.input_value()
    assert page.evaluate("document.activeElement.classList.contains('wasl-day')")
    first_day = page.evaluate("document.activeElement.dataset.time")
    page.keyboard.press("ArrowDown")  # a week later
    page.wait_for_function(f"document.activeElement.dataset.time !== '{first_day}'")
    page.keyboard.press("Enter")
    value = page.locator(".wasl-date input").first.input_value()
    assert re.fullmatch("[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}", value), value
    from wasl.core.calendars import parse_date

    assert (parse_date(value, "jalali") - parse_date(before, "jalali")).days == 7
    screenshot(page, "date-picker-fa")
