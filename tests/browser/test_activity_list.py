"""The activity list in a real browser: quick add, a filter that swaps the table and pushes
the URL, bulk "mark done", delete after confirming, another rep's activities invisible,
and no sideways scroll at phone width."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.core.testing import make_user

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def reps(site, page):
    # The machine is shared: give slow loads room rather than fail on them.
    page.set_default_timeout(30_000)
    organisation_update(
        actor=None, language="en", calendar="gregorian", digits="latin", time_zone="UTC"
    )
    sara = make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")
    omid = make_user("omid", "rep", "Tehran", password=PASSWORD, first_name="Omid")
    return sara, omid


def subjects(page) -> list[str]:
    return [s.strip() for s in page.locator("#list-rows tr td:nth-child(2)").all_inner_texts()]


def test_the_activity_list_adds_filters_and_acts_on_the_selection(page, site, reps):
    sara, omid = reps
    now = timezone.now()
    call = activity_create(
        actor=sara, kind="call", subject="Call Ali back", due_at=now - dt.timedelta(days=1)
    )
    activity_create(actor=sara, kind="meeting", subject="Visit the showroom", due_at=now)
    activity_create(actor=omid, kind="task", subject="Omid's own task")

    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/activities/")
    assert set(subjects(page)) == {"Call Ali back", "Visit the showroom"}
    assert "Omid's own task" not in page.content()

    # Quick add: the new row comes in at the top without a page load.
    form = page.locator("#inline-create")
    form.locator("input[name=subject]").fill("Send the price list")
    form.get_by_role("button", name="Add").click()
    page.locator("#list-rows tr").filter(has_text="Send the price list").wait_for()
    assert subjects(page)[0] == "Send the price list"
    assert Activity.objects.filter(subject="Send the price list", owner=sara).exists()

    # A filter swaps the table and keeps the URL shareable.
    page.locator("#f-kind").select_option("call")
    page.wait_for_url("**kind=call**")
    page.locator("#list-rows tr").first.wait_for()
    assert subjects(page) == ["Call Ali back"]
    # The swapped table's popovers stay closed until asked for.
    page.wait_for_timeout(300)
    assert not page.locator("#column-chooser").is_visible()
    page.get_by_role("button", name="Columns").click()
    expect(page.locator("#column-chooser")).to_be_visible()
    page.keyboard.press("Escape")
    screenshot(page, "activity-list-en")

    # Mark the selection done.
    page.locator(f"#list-rows input[value='{call.public_id}']").check()
    page.get_by_role("button", name="Mark done").click()
    page.locator("#list-rows .badge", has_text="Done").wait_for()
    page.locator("#wasl-notices").get_by_text("Mark done: 1 record.").wait_for()
    call.refresh_from_db()
    assert call.done_at is not None

    # Delete asks first.
    page.goto(f"{site}/activities/?kind=meeting")
    meeting = Activity.objects.get(subject="Visit the showroom")
    page.locator(f"#list-rows input[value='{meeting.public_id}']").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.locator("#list-empty").wait_for()
    assert not Activity.objects.filter(pk=meeting.pk).exists()
    assert Activity.objects.filter(subject="Omid's own task").exists()


def test_the_activity_list_fits_a_phone(page, site, reps):
    sara, _omid = reps
    for n in range(5):
        activity_create(actor=sara, kind="task", subject=f"Follow up {n}")
    page.set_viewport_size(PHONE)
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/activities/")
    page.locator("#list-rows tr").first.wait_for()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(page, "activity-list-phone")
