"""Task pages in a real browser: one-click completion from My tasks, and the week calendar
in Persian (Jalali dates, Persian digits, right to left, a day list at phone width)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.core.testing import make_user

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"
TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")


@pytest.fixture
def rep(site):
    organisation_update(
        actor=None, language="en", calendar="gregorian", digits="latin", time_zone="UTC"
    )
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


def no_sideways_scroll(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_task_is_completed_with_one_click_from_my_tasks(page, site, rep):
    now = timezone.now()
    late = activity_create(
        actor=rep, kind="call", subject="Call Ali back", due_at=now - dt.timedelta(days=1)
    )
    activity_create(
        actor=rep, kind="task", subject="Send the quote", due_at=now + dt.timedelta(hours=3)
    )
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/activities/tasks/")
    row = page.locator(f"#act-{late.public_id}")
    assert "wasl-task-overdue" in (row.get_attribute("class") or "")
    screenshot(page, "tasks-en")

    page.get_by_role("button", name="Mark “Call Ali back” done").click()
    page.locator(f"#act-{late.public_id}.wasl-task-done").wait_for()
    assert page.get_by_role("button", name="Reopen “Call Ali back”").is_visible()
    page.locator("#wasl-notices .alert").first.wait_for()
    late.refresh_from_db()
    assert late.done_at is not None
    assert Activity.objects.get(subject="Send the quote").done_at is None
    screenshot(page, "tasks-en-completed")

    quote = Activity.objects.get(subject="Send the quote")
    row = page.locator(f"#act-{quote.public_id}")
    row.get_by_text("More").click()
    row.get_by_role("button", name="Tomorrow").click()
    page.wait_for_function("document.querySelector('#wasl-notices').innerText.includes('Moved')")
    quote.refresh_from_db()
    assert quote.due_at.date() == timezone.localdate() + dt.timedelta(days=1)

    page.set_viewport_size(PHONE)
    page.goto(f"{site}/activities/tasks/?status=all")
    assert no_sideways_scroll(page) <= 0
    screenshot(page, "tasks-en-phone")


def test_the_week_in_persian_is_jalali_with_persian_digits_and_right_to_left(page, site, rep):
    organisation_update(
        actor=None,
        language="fa",
        calendar="jalali",
        digits="native",
        time_zone="Asia/Tehran",
        week_start=5,
    )
    activity_create(
        actor=rep,
        kind="meeting",
        subject="جلسه با شرکت پارسیان",
        due_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=TEHRAN),
    )
    activity_create(
        actor=rep,
        kind="call",
        subject="تماس با علی",
        due_at=dt.datetime(2026, 11, 21, 9, 30, tzinfo=TEHRAN),
    )
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/activities/week/?week=2026-11-23")

    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "fa"
    days = page.locator(".wasl-week-day")
    assert days.count() == 7
    headers = [days.nth(i).locator("h2").inner_text() for i in range(7)]
    assert headers[0].startswith("شنبه") and "۳۰ آبان" in headers[0]
    assert headers[2].startswith("دوشنبه") and "۲ آذر" in headers[2]
    for header in headers:
        assert re.search("[۰-۹]", header) and not re.search("[0-9]", header), header
    monday = days.nth(2).inner_text()
    assert "جلسه با شرکت پارسیان" in monday and "۱۰:۰۰" in monday
    assert "تماس با علی" in days.nth(0).inner_text()

    # Right to left: Saturday is the rightmost column, the next days follow leftwards.
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert first["x"] > second["x"]
    heading = page.locator("h1").inner_text()
    assert re.search("[۰-۹]", heading) and not re.search("[0-9]", heading), heading
    screenshot(page, "week-fa")

    page.get_by_role("link", name=re.compile("هفته‌ی بعد")).click()
    page.wait_for_url(re.compile(r"week=2026-11-28"))
    assert "۷ آذر" in page.locator(".wasl-week-day").first.inner_text()

    # At phone width the week is a list of days, one under another, without sideways scroll.
    page.set_viewport_size(PHONE)
    page.goto(f"{site}/activities/week/?week=2026-11-23")
    days = page.locator(".wasl-week-day")
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second["y"] > first["y"] and abs(second["x"] - first["x"]) < 2
    assert no_sideways_scroll(page) <= 0
    screenshot(page, "week-fa-phone")
