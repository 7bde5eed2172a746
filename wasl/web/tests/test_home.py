"""The home page, global search, record links and task actions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wasl.accounts.selectors import organisation_get
from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.contacts.selectors import upcoming_important_dates
from wasl.contacts.services import contact_create
from wasl.core.calendars import format_date
from wasl.core.testing import make_user
from wasl.deals.selectors import my_open_deals_by_stage
from wasl.deals.services import deal_create, pipeline_ensure_default

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("sara", "rep", "Tehran")


@pytest.fixture
def client(rep):
    client = Client()
    client.force_login(rep)
    return client


def fill_my_day(rep, *, rows: int = 5):
    now = timezone.now()
    pipeline_ensure_default(actor=None)
    contact = contact_create(
        actor=rep, first_name="علی", last_name="کریمی", birthday=dt.date(1990, 1, 2)
    )
    for n in range(rows):
        activity_create(
            actor=rep,
            kind=Activity.Kind.CALL if n % 2 else Activity.Kind.TASK,
            subject=f"Follow up {n}",
            due_at=now - dt.timedelta(days=n),
            contact=contact,
        )
        deal_create(actor=rep, title=f"Deal {n}", amount=Decimal("1000.50"), currency="USD")
    return contact


def test_home_lists_todays_and_overdue_tasks_deals_and_recent_activity(client, rep):
    fill_my_day(rep)
    activity_create(
        actor=rep, kind="task", subject="Next week", due_at=timezone.now() + dt.timedelta(days=7)
    )
    html = client.get(reverse("web:home")).content.decode()
    assert "Follow up 0" in html and "Follow up 4" in html
    assert "Next week" not in html.split('id="recent-title"')[0]
    assert "overdue" in html
    assert "$5,002.50" in html  # five open deals of $1,000.50
    assert 'id="my-tasks"' in html


def test_home_page_costs_a_fixed_number_of_queries(client, rep, django_assert_max_num_queries):
    fill_my_day(rep, rows=20)
    client.get(reverse("web:home"))
    with django_assert_max_num_queries(15):
        response = client.get(reverse("web:home"))
    assert response.status_code == 200


def test_home_shows_jalali_dates_with_persian_digits(client, rep):
    organisation_update(actor=None, language="fa", calendar="jalali", digits="native")
    fill_my_day(rep, rows=1)
    html = client.get(reverse("web:home")).content.decode()
    assert '<html lang="fa" dir="rtl"' in html
    # "Today" is the organisation's today: in Tehran it starts 3.5 hours before UTC's.
    today = timezone.localdate(timezone=ZoneInfo(organisation_get().time_zone))
    assert format_date(today, "jalali", "native", "fa", style="long") in html


def test_completing_a_task_answers_the_row_and_a_trigger(client, rep):
    fill_my_day(rep, rows=1)
    task = Activity.objects.get(subject="Follow up 0")
    response = client.post(
        reverse("web:task-complete", args=[task.public_id]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "wasl:tasks-changed" in json.loads(response["HX-Trigger"])
    task.refresh_from_db()
    assert task.done_at is not None
    again = client.post(reverse("web:task-complete", args=[task.public_id]))
    assert again.status_code == 409


def test_logging_a_call_outcome_completes_it(client, rep):
    fill_my_day(rep, rows=2)
    call = Activity.objects.get(subject="Follow up 1")
    client.post(reverse("web:task-complete", args=[call.public_id]), {"outcome": "no_answer"})
    call.refresh_from_db()
    assert (call.outcome, call.done_at is not None) == ("no_answer", True)


def test_rescheduling_reads_the_users_calendar(client, rep):
    organisation_update(actor=None, calendar="jalali", time_zone="Asia/Tehran")
    fill_my_day(rep, rows=1)
    task = Activity.objects.get(subject="Follow up 0")
    response = client.post(
        reverse("web:task-reschedule", args=[task.public_id]), {"due": "۱۴۰۵/۰۹/۰۲"}
    )
    assert response.status_code == 200
    task.refresh_from_db()
    tehran = dt.timezone(dt.timedelta(hours=3, minutes=30))
    assert timezone.localtime(task.due_at, tehran).date() == dt.date(2026, 11, 23)
    bad = client.post(reverse("web:task-reschedule", args=[task.public_id]), {"due": "soon"})
    assert bad.status_code == 422


def test_another_reps_task_is_not_found(client, rep):
    other = make_user("omid", "rep", "Shiraz")
    task = activity_create(actor=other, kind="task", subject="Theirs", due_at=timezone.now())
    response = client.post(reverse("web:task-complete", args=[task.public_id]))
    assert response.status_code == 404


def test_search_finds_a_persian_name_typed_with_arabic_letters(client, rep):
    contact = contact_create(actor=rep, first_name="یاسر", last_name="کاظمی")
    response = client.get(
        reverse("web:search"), {"q": "ياسر كاظمي"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "یاسر کاظمی" in html
    assert f"/r/contact/{contact.public_id}/" in html or str(contact.public_id) in html
    assert "Contacts" in html


def test_search_never_shows_another_reps_records(client, rep):
    other = make_user("omid", "rep", "Shiraz")
    contact_create(actor=other, first_name="Hidden", last_name="Person")
    html = client.get(reverse("web:search"), {"q": "Hidden"}, headers={"HX-Request": "true"})
    assert "Hidden" not in html.content.decode()


def test_the_record_resolver_404s_until_the_page_exists(client, rep):
    contact = contact_create(actor=rep, first_name="Ali")
    from wasl.core.links import url_exists

    response = client.get(reverse("web:resolve", args=["contact", contact.public_id]))
    if url_exists("contacts:contact-detail"):
        assert response.status_code == 302
    else:
        assert response.status_code == 404
    assert client.get(reverse("web:resolve", args=["planet", contact.public_id])).status_code == 404


def test_upcoming_birthdays_cross_the_year_end(rep):
    contact_create(actor=rep, first_name="January", birthday=dt.date(1988, 1, 3))
    contact_create(actor=rep, first_name="December", birthday=dt.date(1990, 12, 30))
    contact_create(actor=rep, first_name="March", birthday=dt.date(1990, 3, 1))
    contact_create(
        actor=rep,
        first_name="Contract",
        important_dates=[{"kind": "contract_end", "date": dt.date(2027, 1, 1)}],
    )
    found = upcoming_important_dates(actor=rep, today=dt.date(2026, 12, 25), days=14)
    assert [(u.kind, u.contact.first_name, u.date) for u in found] == [
        ("birthday", "December", dt.date(2026, 12, 30)),
        ("contract_end", "Contract", dt.date(2027, 1, 1)),
        ("birthday", "January", dt.date(2027, 1, 3)),
    ]
    assert found[0].days_away == 5


def test_leap_day_birthdays_are_remembered_on_the_28th_in_common_years(rep):
    contact_create(actor=rep, first_name="Leap", birthday=dt.date(2000, 2, 29))
    found = upcoming_important_dates(actor=rep, today=dt.date(2027, 2, 20), days=14)
    assert [(u.contact.first_name, u.date) for u in found] == [("Leap", dt.date(2027, 2, 28))]


def test_my_open_deals_are_summed_by_stage(rep):
    pipeline_ensure_default(actor=None)
    deal_create(actor=rep, title="A", amount=Decimal("10"), currency="USD")
    deal_create(actor=rep, title="B", amount=Decimal("5"), currency="USD")
    other = make_user("omid", "rep", "Shiraz")
    deal_create(actor=other, title="C", amount=Decimal("99"), currency="USD")
    rows = my_open_deals_by_stage(actor=rep)
    assert [(r["count"], r["total"]) for r in rows] == [(2, Decimal("15"))]


def test_a_tasks_menu_loads_its_reschedule_and_call_outcome_forms(client, rep):
    fill_my_day(rep, rows=2)
    call = Activity.objects.get(subject="Follow up 1")
    html = client.get(reverse("web:task-actions", args=[call.public_id])).content.decode()
    assert 'name="due"' in html and "waslDatepicker" in html
    assert 'name="outcome"' in html
    home = client.get(reverse("web:home")).content.decode()
    assert "waslDatepicker" not in home  # the forms load only when a menu opens


def test_the_menu_offers_only_pages_the_role_may_open(rep):
    from wasl.web.navigation import nav_items

    manager = make_user("mina", "manager", "Tehran")
    admin = make_user("root", "admin", "Tehran")
    keys = {
        user.username: {item["key"] for item in nav_items(user)} for user in (rep, manager, admin)
    }
    assert "automation" not in keys["sara"]
    assert "settings" not in keys["sara"]
    assert {"automation", "reports", "imports"} <= keys["mina"]
    assert "settings" not in keys["mina"]
    assert {"automation", "settings"} <= keys["root"]
    # What the rep is offered, the rep may open.
    client = Client()
    client.force_login(rep)
    for item in nav_items(rep):
        assert client.get(item["url"]).status_code == 200, item["key"]


# ---------------------------------------------------------------- a full day, kept light

HOME_TASKS = 15


def test_a_full_day_shows_the_first_tasks_and_links_to_the_rest(client, rep):
    fill_my_day(rep, rows=HOME_TASKS + 3)
    html = client.get(reverse("web:home")).content.decode()
    tasks = html.split('id="my-tasks"')[1].split("</ul>")[0]
    assert tasks.count("/complete/") == HOME_TASKS
    assert "Follow up 17" in tasks  # the oldest overdue come first
    assert "Follow up 0" not in tasks
    assert f">{HOME_TASKS}+</span>" in html
    assert f'href="{reverse("activities:task-list")}" id="all-tasks"' in html


def test_a_day_that_fits_has_no_link_to_the_rest(client, rep):
    fill_my_day(rep, rows=3)
    html = client.get(reverse("web:home")).content.decode()
    assert 'id="all-tasks"' not in html
    assert ">3</span>" in html


def test_a_reps_full_day_weighs_under_40_kb(client, rep):
    """Every task linked to a contact and a deal, long subjects, two weeks of birthdays and
    deals in several currencies: the page stays within the 40 KB a list page may weigh."""
    now = timezone.now()
    pipeline_ensure_default(actor=None)
    for n in range(40):
        contact = contact_create(
            actor=rep,
            first_name="مریم",
            last_name=f"نجفی {n}",
            birthday=(now + dt.timedelta(days=n % 14)).date().replace(year=1990),
        )
        deal = deal_create(
            actor=rep,
            title=f"پروژه پیاده‌سازی دار الفجر للاستثمار {n}",
            amount=Decimal("1250000"),
            currency=("USD", "EUR", "AED", "IRR", "SAR")[n % 5],
        )
        activity_create(
            actor=rep,
            kind=("call", "task", "meeting")[n % 3],
            subject=f"جلسه مذاکره درباره قرارداد پشتیبانی {n}",
            due_at=now - dt.timedelta(hours=n),
            contact=contact,
            deal=deal,
        )
    response = client.get(reverse("web:home"))
    html = response.content.decode()
    assert html.count("/complete/") == HOME_TASKS
    assert html.count('<a href="/r/contact/') >= HOME_TASKS + 14  # tasks and birthdays
    assert len(response.content) <= 40 * 1024, len(response.content)


def test_my_deals_are_one_row_per_stage_with_a_total_per_currency(client, rep):
    pipeline_ensure_default(actor=None)
    deal_create(actor=rep, title="A", amount=Decimal("10"), currency="USD")
    deal_create(actor=rep, title="B", amount=Decimal("5"), currency="USD")
    deal_create(actor=rep, title="C", amount=Decimal("7"), currency="EUR")
    html = client.get(reverse("web:home")).content.decode()
    table = html.split('id="deals-title"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 1
    assert '<td class="text-end wasl-num">3</td>' in body
    assert "$15.00" in body and "€7.00" in body
    footer = table.split("<tfoot>")[1]
    assert footer.count("<tr>") == 1 and "$15.00" in footer and "€7.00" in footer


def test_a_task_row_completes_with_one_click_and_loads_its_menu_on_demand(client, rep):
    fill_my_day(rep, rows=2)
    call = Activity.objects.get(subject="Follow up 1")
    html = client.get(reverse("web:home")).content.decode()
    complete = reverse("web:task-complete", args=[call.public_id])
    actions = reverse("web:task-actions", args=[call.public_id])
    assert f'hx-post="{complete}"' in html
    assert f'aria-controls="more-{call.public_id}" hx-get="{actions}"' in html
    assert 'id="my-tasks" hx-target="closest li" hx-swap="outerHTML"' in html
    assert f'id="more-{call.public_id}"' not in html  # the menu comes with its forms
    menu = client.get(actions).content.decode()
    assert f'id="more-{call.public_id}"' in menu and 'x-bind="panel"' in menu
    assert f'hx-post="{complete}"' in menu and 'name="outcome"' in menu
    # The row answered after completing it replaces the row (closest li) in place.
    done = client.post(complete, headers={"HX-Request": "true"}).content.decode()
    assert done.startswith("<li") and "Done" in done and "/complete/" not in done


def test_another_reps_tasks_are_not_on_my_day_and_their_menus_are_not_found(client, rep):
    other = make_user("omid", "rep", "Shiraz")
    theirs = activity_create(actor=other, kind="call", subject="Theirs", due_at=timezone.now())
    html = client.get(reverse("web:home")).content.decode()
    assert "Theirs" not in html
    assert client.get(reverse("web:task-actions", args=[theirs.public_id])).status_code == 404
    moved = client.post(
        reverse("web:task-reschedule", args=[theirs.public_id]), {"due": "2030-01-01"}
    )
    assert moved.status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None and theirs.due_at.year != 2030


def test_a_read_only_user_cannot_complete_a_teammates_task(rep):
    viewer = make_user("nazanin", "readonly", "Tehran")
    task = activity_create(actor=rep, kind="task", subject="Mine", due_at=timezone.now())
    client = Client()
    client.force_login(viewer)
    response = client.post(reverse("web:task-complete", args=[task.public_id]))
    assert response.status_code in (403, 404)
    task.refresh_from_db()
    assert task.done_at is None
    assert "Mine" not in client.get(reverse("web:home")).content.decode()


@pytest.mark.browser
def test_my_days_task_menu_opens_closes_and_a_task_completes_in_a_real_browser(page, site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    sara = make_user("sara", "rep", "Tehran", password="Kh0sh-amadid-2026")
    call = activity_create(actor=sara, kind="call", subject="Call Ali back", due_at=timezone.now())
    activity_create(actor=sara, kind="task", subject="Send the quote", due_at=timezone.now())
    from tests.browser.fixtures import screenshot, sign_in

    sign_in(page, site, "sara", "Kh0sh-amadid-2026")
    page.wait_for_url(f"{site}/")
    more = page.locator(f'[aria-controls="more-{call.public_id}"]')
    more.click()
    menu = page.locator(f"#more-{call.public_id}")
    menu.get_by_label("Call outcome").wait_for()
    assert more.get_attribute("aria-expanded") == "true"
    screenshot(page, "home-task-menu")
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")
    assert more.get_attribute("aria-expanded") == "false"
    more.click()  # opens again without loading twice
    menu.wait_for(state="visible")
    assert page.locator(f"#more-{call.public_id}").count() == 1
    page.mouse.click(5, 5)
    menu.wait_for(state="hidden")

    page.get_by_role("button", name="Mark “Send the quote” done").click()
    page.locator("#my-tasks li", has_text="Send the quote").get_by_text("Done").wait_for()
    page.locator("#wasl-notices .alert").first.wait_for()
    assert Activity.objects.get(subject="Send the quote").done_at is not None
    call.refresh_from_db()
    assert call.done_at is None
