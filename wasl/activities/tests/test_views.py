"""Task pages: my tasks, team tasks, the week calendar, the activity list and the
one-click writes, through the Django test client."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wasl.accounts.services import organisation_update, user_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_complete, activity_create
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for

pytestmark = pytest.mark.django_db

TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")


@pytest.fixture(autouse=True)
def english_gregorian():
    organisation_update(
        actor=None,
        language="en",
        calendar="gregorian",
        digits="latin",
        time_zone="UTC",
        week_start=0,
    )


def task(owner, subject="Call Sara", *, kind="task", due=None, actor=None, **fields):
    return activity_create(
        actor=actor or owner, owner=owner, kind=kind, subject=subject, due_at=due, **fields
    )


HX = {"HX-Request": "true"}


# ---------------------------------------------------------------- my tasks / team tasks


def test_my_tasks_lists_my_open_tasks_with_the_overdue_highlighted(personas):
    now = timezone.now()
    task(personas.rep_a, "Late call", kind="call", due=now - dt.timedelta(days=2))
    task(personas.rep_a, "Tomorrow's meeting", kind="meeting", due=now + dt.timedelta(days=1))
    done = task(personas.rep_a, "Already done", due=now - dt.timedelta(days=1))
    activity_complete(actor=personas.rep_a, activity=done)
    task(personas.rep_b, "Someone else's task", due=now)

    response = client_for(personas.rep_a).get(reverse("activities:task-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Late call" in html and "Tomorrow&#x27;s meeting" in html
    assert "Already done" not in html and "Someone else" not in html
    assert html.index("Late call") < html.index("Tomorrow&#x27;s meeting")
    before = html[: html.index("Late call")]
    assert "wasl-task-overdue" in before[before.rindex("<li") :]
    assert html.count("wasl-task-overdue") == 1
    assert "Overdue" in html


def test_status_done_lists_done_tasks_with_a_reopen_button(personas):
    done = task(personas.rep_a, "Finished report")
    activity_complete(actor=personas.rep_a, activity=done)
    html = (
        client_for(personas.rep_a)
        .get(reverse("activities:task-list"), {"status": "done"})
        .content.decode()
    )
    assert "Finished report" in html
    assert reverse("activities:activity-reopen", args=[done.public_id]) in html


def test_filters_by_kind_and_due_range_in_the_users_calendar(personas):
    task(personas.rep_a, "A call", kind="call", due=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC))
    task(personas.rep_a, "A task", due=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC))
    task(personas.rep_a, "Later call", kind="call", due=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
    client = client_for(personas.rep_a)
    html = client.get(
        reverse("activities:task-list"),
        {"status": "all", "kind": "call", "due_from": "2026-11-20", "due_to": "2026-11-30"},
    ).content.decode()
    assert "A call" in html and "A task" not in html and "Later call" not in html

    user_update(actor=None, user=personas.rep_a, calendar="jalali")
    html = client.get(
        reverse("activities:task-list"),
        {"status": "all", "due_from": "1405/09/02", "due_to": "1405/09/02"},
    ).content.decode()
    assert "A call" in html and "A task" in html and "Later call" not in html


def test_an_invalid_filter_is_ignored_not_an_error(personas):
    task(personas.rep_a, "Still listed", due=timezone.now())
    response = client_for(personas.rep_a).get(
        reverse("activities:task-list"),
        {"kind": "party", "status": "whatever", "due_from": "not a date", "cursor": "%%%"},
    )
    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_a_manager_sees_the_team_tasks_and_may_filter_by_assignee(personas):
    now = timezone.now()
    task(personas.rep_a, "Rep A task", due=now)
    task(personas.rep_b, "Rep B task", due=now)
    task(personas.rep_c, "Other team task", due=now)
    client = client_for(personas.manager_a)

    mine = client.get(reverse("activities:task-list")).content.decode()
    assert "Rep A task" not in mine
    team = client.get(reverse("activities:task-list"), {"scope": "team"}).content.decode()
    assert "Rep A task" in team and "Rep B task" in team and "Other team task" not in team
    assert 'name="owner"' in team
    only_b = client.get(
        reverse("activities:task-list"),
        {"scope": "team", "owner": str(personas.rep_b.public_id)},
    ).content.decode()
    assert "Rep B task" in only_b and "Rep A task" not in only_b


def test_a_rep_asking_for_team_tasks_sees_only_their_own(personas):
    now = timezone.now()
    task(personas.rep_a, "Mine", due=now)
    task(personas.rep_b, "Teammate's", due=now)
    html = (
        client_for(personas.rep_a)
        .get(reverse("activities:task-list"), {"scope": "team"})
        .content.decode()
    )
    assert "Mine" in html and "Teammate" not in html
    assert "Team tasks" not in html


def test_read_only_users_see_team_tasks_without_actions(personas):
    item = task(personas.rep_a, "Visible to read-only", due=timezone.now())
    html = (
        client_for(personas.readonly)
        .get(reverse("activities:task-list"), {"scope": "team"})
        .content.decode()
    )
    assert "Visible to read-only" in html
    assert reverse("activities:activity-complete", args=[item.public_id]) not in html


def test_the_task_list_costs_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    def fill(count):
        for n in range(count):
            task(personas.rep_a, f"T{n}", kind="call", due=timezone.now() - dt.timedelta(hours=n))

    client = client_for(personas.manager_a)
    fill(3)
    client.get(reverse("activities:task-list"), {"scope": "team"})
    with django_assert_max_num_queries(15) as small:
        client.get(reverse("activities:task-list"), {"scope": "team"})
    fill(22)
    with django_assert_max_num_queries(15) as large:
        client.get(reverse("activities:task-list"), {"scope": "team"})
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_next_page_comes_as_rows_for_htmx(personas):
    for n in range(30):
        task(personas.rep_a, f"Task {n:02d}", due=timezone.now() + dt.timedelta(hours=n))
    client = client_for(personas.rep_a)
    first = client.get(reverse("activities:task-list")).content.decode()
    assert "Task 24" in first and "Task 25" not in first
    cursor_url = first.split('id="list-more"><a class="btn btn-sm btn-outline-secondary" href="')[
        1
    ].split('"')[0]
    more = client.get(
        reverse("activities:task-list") + cursor_url.replace("&amp;", "&"), headers=HX
    ).content.decode()
    assert "<html" not in more
    assert "Task 25" in more and "Task 29" in more and "Task 24" not in more


# ---------------------------------------------------------------- one-click writes


def test_one_click_completes_a_task_and_answers_the_row(personas):
    item = task(personas.rep_a, "Send the quote", due=timezone.now())
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-complete", args=[item.public_id]), headers=HX
    )
    assert response.status_code == 200
    assert f'id="act-{item.public_id}"' in response.content.decode()
    assert "wasl-task-done" in response.content.decode()
    trigger = json.loads(response["HX-Trigger"])
    assert "wasl:tasks-changed" in trigger and trigger["wasl:notice"]["level"] == "success"
    item.refresh_from_db()
    assert item.done_at is not None
    assert AuditEntry.objects.filter(object_public_id=item.public_id, action="update").exists()


def test_completing_without_htmx_redirects_back(personas):
    item = task(personas.rep_a, "Plain form")
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-complete", args=[item.public_id]),
        {"next": "/activities/tasks/?status=all"},
    )
    assert response.status_code == 302 and response["Location"] == "/activities/tasks/?status=all"
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-reopen", args=[item.public_id]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("activities:task-list")


def test_completing_twice_is_a_conflict_and_writes_nothing(personas):
    item = task(personas.rep_a, "Once")
    client = client_for(personas.rep_a)
    url = reverse("activities:activity-complete", args=[item.public_id])
    client.post(url, headers=HX)
    response = client.post(url, headers=HX)
    assert response.status_code == 409
    assert response["HX-Reswap"] == "none"


def test_logging_a_call_outcome_completes_the_call(personas):
    call = task(personas.rep_a, "Call Ali", kind="call", due=timezone.now())
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-complete", args=[call.public_id]),
        {"outcome": "no_answer"},
        headers=HX,
    )
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.outcome == "no_answer" and call.done_at is not None


def test_an_unknown_outcome_is_refused(personas):
    call = task(personas.rep_a, "Call Ali", kind="call")
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-complete", args=[call.public_id]),
        {"outcome": "shouted"},
        headers=HX,
    )
    assert response.status_code == 422
    call.refresh_from_db()
    assert call.done_at is None


def test_reopen_makes_a_done_task_open_again(personas):
    item = task(personas.rep_a, "Undo me")
    activity_complete(actor=personas.rep_a, activity=item)
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-reopen", args=[item.public_id]), headers=HX
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.done_at is None


def test_reschedule_to_tomorrow_keeps_the_time_of_day(personas):
    due = timezone.now().replace(hour=14, minute=30, second=0, microsecond=0)
    item = task(personas.rep_a, "Move me", due=due)
    client_for(personas.rep_a).post(
        reverse("activities:activity-reschedule", args=[item.public_id]),
        {"when": "tomorrow"},
        headers=HX,
    )
    item.refresh_from_db()
    assert item.due_at.date() == timezone.localdate() + dt.timedelta(days=1)
    assert (item.due_at.hour, item.due_at.minute) == (14, 30)


def test_reschedule_to_a_jalali_date_and_time_in_the_users_zone(personas):
    user_update(actor=None, user=personas.rep_a, calendar="jalali", time_zone="Asia/Tehran")
    item = task(personas.rep_a, "Move me", due=timezone.now())
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-reschedule", args=[item.public_id]),
        {"due": "۱۴۰۵/۰۹/۰۲", "time": "10:00"},
        headers=HX,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.due_at == dt.datetime(2026, 11, 23, 10, 0, tzinfo=TEHRAN)


def test_reschedule_without_a_date_is_refused(personas):
    item = task(personas.rep_a, "Move me", due=timezone.now())
    before = Activity.objects.get(pk=item.pk).due_at
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-reschedule", args=[item.public_id]),
        {"due": "someday"},
        headers=HX,
    )
    assert response.status_code == 422
    assert Activity.objects.get(pk=item.pk).due_at == before


def test_another_reps_task_is_not_found_and_read_only_is_forbidden(personas):
    item = task(personas.rep_b, "Not yours")
    url = reverse("activities:activity-complete", args=[item.public_id])
    assert client_for(personas.rep_a).post(url, headers=HX).status_code == 404
    assert client_for(personas.rep_c).post(url).status_code == 404
    assert client_for(personas.readonly).post(url).status_code == 403
    item.refresh_from_db()
    assert item.done_at is None


def test_a_manager_completes_a_team_members_task(personas):
    item = task(personas.rep_b, "For the manager")
    response = client_for(personas.manager_a).post(
        reverse("activities:activity-complete", args=[item.public_id]), headers=HX
    )
    assert response.status_code == 200


def test_writes_need_post_and_csrf(personas):
    item = task(personas.rep_a, "Guarded")
    url = reverse("activities:activity-complete", args=[item.public_id])
    assert client_for(personas.rep_a).get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(personas.rep_a)
    assert strict.post(url).status_code == 403
    item.refresh_from_db()
    assert item.done_at is None


def test_pages_need_sign_in():
    response = Client().get(reverse("activities:task-list"))
    assert response.status_code == 302 and "sign-in" in response["Location"]


# ---------------------------------------------------------------- week calendar


def _columns(html: str) -> list[str]:
    parts = html.split('class="wasl-week-day')[1:]
    assert len(parts) == 7
    return parts


def test_the_week_shows_seven_days_from_the_organisations_first_weekday(personas):
    monday = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    task(personas.rep_a, "Monday call", kind="call", due=monday)
    task(personas.rep_a, "Sunday meeting", kind="meeting", due=monday + dt.timedelta(days=6))
    task(personas.rep_a, "Next Monday", due=monday + dt.timedelta(days=7))
    client = client_for(personas.rep_a)

    html = client.get(reverse("activities:week"), {"week": "2026-11-25"}).content.decode()
    columns = _columns(html)
    assert 'data-date="2026-11-23"' in columns[0] and "Monday call" in columns[0]
    assert "Sunday meeting" in columns[6] and "Next Monday" not in html
    assert "?week=2026-11-16" in html and "?week=2026-11-30" in html

    organisation_update(actor=None, week_start=6)
    columns = _columns(
        client.get(reverse("activities:week"), {"week": "2026-11-25"}).content.decode()
    )
    assert 'data-date="2026-11-22"' in columns[0]
    assert "Monday call" in columns[1]


def test_the_week_in_persian_uses_jalali_dates_saturday_first_and_tehran_time(personas):
    organisation_update(
        actor=None,
        language="fa",
        calendar="jalali",
        digits="native",
        time_zone="Asia/Tehran",
        week_start=5,
    )
    task(
        personas.rep_a,
        "تماس با علی",
        kind="call",
        due=dt.datetime(2026, 11, 23, 10, 0, tzinfo=TEHRAN),
    )
    # 23:50 Tehran on Monday is 20:20 UTC: still Monday in the user's zone.
    task(personas.rep_a, "دیروقت", due=dt.datetime(2026, 11, 23, 23, 50, tzinfo=TEHRAN))

    response = client_for(personas.rep_a).get(reverse("activities:week"), {"week": "2026-11-23"})
    html = response.content.decode()
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    columns = _columns(html)
    assert "شنبه" in columns[0] and "۳۰ آبان" in columns[0]
    monday = columns[2]
    assert "دوشنبه" in monday and "۲ آذر" in monday and "۲ آذر ۱۴۰۵" in monday
    assert "تماس با علی" in monday and "۱۰:۰۰" in monday
    assert "دیروقت" in monday and "۲۳:۵۰" in monday
    assert "Monday" not in html and "Previous week" not in html


def test_the_week_marks_overdue_items_and_today(personas):
    now = timezone.now()
    task(personas.rep_a, "Missed", due=now - dt.timedelta(minutes=5))
    html = client_for(personas.rep_a).get(reverse("activities:week")).content.decode()
    assert "wasl-is-today" in html
    missed = html[: html.index("Missed")]
    assert "wasl-task-overdue" in missed[missed.rindex("<li") :]


def test_the_week_of_a_manager_shows_the_team_and_a_rep_only_their_own(personas):
    now = timezone.now()
    task(personas.rep_b, "Teammate meeting", kind="meeting", due=now + dt.timedelta(minutes=5))
    manager = client_for(personas.manager_a).get(reverse("activities:week"), {"scope": "team"})
    assert "Teammate meeting" in manager.content.decode()
    rep = client_for(personas.rep_a).get(reverse("activities:week"), {"scope": "team"})
    assert "Teammate meeting" not in rep.content.decode()


def test_the_week_completes_an_item_and_answers_the_calendar_item(personas):
    item = task(personas.rep_a, "Week task", due=timezone.now())
    response = client_for(personas.rep_a).post(
        reverse("activities:activity-complete", args=[item.public_id]),
        {"view": "week"},
        headers=HX,
    )
    assert f'id="week-{item.public_id}"' in response.content.decode()


def test_the_week_costs_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    client = client_for(personas.manager_a)
    now = timezone.now()

    def fill(count):
        for n in range(count):
            owner = personas.rep_a if n % 2 else personas.rep_b
            task(owner, f"W{n}", kind="meeting", due=now + dt.timedelta(minutes=n))

    fill(2)
    client.get(reverse("activities:week"), {"scope": "team"})
    with django_assert_max_num_queries(15) as small:
        client.get(reverse("activities:week"), {"scope": "team"})
    fill(30)
    with django_assert_max_num_queries(15) as large:
        client.get(reverse("activities:week"), {"scope": "team"})
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_bad_week_parameter_shows_this_week(personas):
    response = client_for(personas.rep_a).get(reverse("activities:week"), {"week": "soon"})
    assert response.status_code == 200
    assert "wasl-is-today" in response.content.decode()


# ---------------------------------------------------------------- activity list


def test_a_25_row_task_page_weighs_at_most_40_kb(personas, contact_of):
    contact = contact_of(personas.rep_a, first_name="Sara", last_name="Ahmadi")
    for n in range(30):
        task(
            personas.rep_a if n % 2 else personas.rep_b,
            f"Follow up with the customer {n}",
            kind="call" if n % 3 else "task",
            due=timezone.now() + dt.timedelta(hours=n - 5),
            contact=contact,
            actor=personas.manager_a,
        )
    client = client_for(personas.manager_a)
    response = client.get(reverse("activities:task-list") + "?scope=team")
    assert response.content.decode().count('class="list-group-item wasl-task') == 25
    assert len(response.content) <= 40 * 1024, len(response.content)
    # The due range's date pickers load when asked for, or show when the range is in use.
    assert 'name="due_from"' not in response.content.decode()
    part = client.get(reverse("activities:task-list"), {"part": "dates"}, headers=HX)
    assert 'name="due_from"' in part.content.decode() and "<html" not in part.content.decode()
    dated = client.get(reverse("activities:task-list"), {"due_from": "2026/11/20"})
    assert 'name="due_from"' in dated.content.decode()


def test_the_more_panel_loads_the_reschedule_and_outcome_forms(personas):
    call = task(personas.rep_a, "Call back", kind="call", due=timezone.now())
    client = client_for(personas.rep_a)
    url = reverse("activities:activity-actions", args=[call.public_id])
    fragment = client.get(url, headers=HX).content.decode()
    assert "<html" not in fragment
    assert 'value="tomorrow"' in fragment and 'name="due"' in fragment
    assert 'name="outcome"' in fragment
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert client_for(personas.rep_b).get(url).status_code == 404
    assert client_for(personas.readonly).get(url).status_code == 403
