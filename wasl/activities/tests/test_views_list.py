"""The activity list on the shared list machinery: filters, sort, keyset pages, columns,
saved views, bulk actions, quick add, visibility and the page budgets."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_complete, activity_create
from wasl.contacts.models import SavedView
from wasl.core import calendars
from wasl.core.models import AuditEntry
from wasl.core.sharing import record_share
from wasl.core.testing import client_for

pytestmark = pytest.mark.django_db

LIST = "/activities/"
HX = {"HX-Request": "true"}


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


def make(owner, subject, *, kind="task", due=None, actor=None, **fields) -> Activity:
    return activity_create(
        actor=actor or owner, owner=owner, kind=kind, subject=subject, due_at=due, **fields
    )


def subjects_in(html: str) -> list[str]:
    body = html[html.index('id="list-rows"') :]
    body = body[: body.index("</tbody>")]
    return re.findall(r'aria-hidden="true"></i>([^<]+)</td>', body)


def ids_in(html: str) -> list[str]:
    return re.findall(r'name="ids" value="([0-9a-f-]{36})"', html)


def test_a_rep_sees_only_their_own_activities_and_another_reps_are_invisible(personas):
    make(personas.rep_a, "Mine")
    make(personas.rep_b, "Not mine")
    make(personas.rep_c, "Other team")

    html = client_for(personas.rep_a).get(LIST).content.decode()

    assert subjects_in(html) == ["Mine"]
    manager = client_for(personas.manager_a).get(LIST).content.decode()
    assert set(subjects_in(manager)) == {"Mine", "Not mine"}
    assert len(subjects_in(client_for(personas.admin).get(LIST).content.decode())) == 3


def test_filters_by_kind_status_assignee_team_and_linked_record(personas, contact_of):
    now = timezone.now()
    contact = contact_of(personas.rep_a)
    make(personas.rep_a, "Linked note", kind="note", contact=contact)
    make(personas.rep_a, "Open call", kind="call", due=now + dt.timedelta(days=1))
    make(personas.rep_a, "Late task", due=now - dt.timedelta(days=2))
    done = make(personas.rep_b, "Done task", due=now - dt.timedelta(days=1))
    activity_complete(actor=personas.rep_b, activity=done)
    client = client_for(personas.manager_a)

    def subjects(**params):
        return set(subjects_in(client.get(LIST, params).content.decode()))

    assert subjects(kind="note") == {"Linked note"}
    assert subjects(status="open") == {"Open call", "Late task"}
    assert subjects(status="overdue") == {"Late task"}
    assert subjects(status="done") == {"Done task", "Linked note"}
    assert subjects(owner=str(personas.rep_b.public_id)) == {"Done task"}
    assert len(subjects(team=str(personas.rep_a.team.public_id))) == 4
    assert subjects(team=str(personas.rep_c.team.public_id)) == set()
    assert subjects(link="contact") == {"Linked note"}
    assert subjects(contact=str(contact.public_id)) == {"Linked note"}
    assert subjects(contact="nonsense") == set()
    html = client.get(LIST, {"status": "someday"}).content.decode()
    assert "Choose one of the listed values." in html and subjects_in(html) == []


def test_the_due_range_reads_the_users_calendar(personas):
    organisation_update(actor=None, calendar="jalali")
    due = dt.datetime(2030, 3, 21, 10, 0, tzinfo=dt.UTC)  # 1409/01/01 (Nowruz)
    make(personas.rep_a, "Nowruz visit", due=due)
    make(personas.rep_a, "Later visit", due=due + dt.timedelta(days=10))
    client = client_for(personas.rep_a)
    year, month, day = calendars.to_jalali(due.date())
    assert (year, month, day) == (1409, 1, 1)

    params = {"date_field": "due", "date_from": "1409/01/01", "date_to": "1409/01/05"}
    assert subjects_in(client.get(LIST, params).content.decode()) == ["Nowruz visit"]
    # The due range is the default date field of this list.
    params = {"date_from": "۱۴۰۹/۰۱/۰۶"}
    assert subjects_in(client.get(LIST, params).content.decode()) == ["Later visit"]
    html = client.get(LIST, {"date_from": "not a date"}).content.decode()
    assert "Enter a date as year/month/day in your calendar." in html


def test_sorting_by_due_date_both_ways(personas):
    now = timezone.now()
    make(personas.rep_a, "Second", due=now + dt.timedelta(days=2))
    make(personas.rep_a, "First", due=now + dt.timedelta(days=1))
    make(personas.rep_a, "Undated")
    client = client_for(personas.rep_a)

    ascending = client.get(LIST, {"sort": "due_at"}).content.decode()
    assert subjects_in(ascending) == ["First", "Second", "Undated"]
    assert 'aria-sort="ascending"' in ascending
    descending = client.get(LIST, {"sort": "-due_at"}).content.decode()
    assert subjects_in(descending) == ["Second", "First", "Undated"]
    bad = client.get(LIST, {"sort": "body"}).content.decode()
    assert "This list cannot be sorted that way." in bad


def test_keyset_pages_go_forward_and_back_without_gaps(personas):
    for n in range(30):
        make(personas.rep_a, f"Item {n:02d}")
    client = client_for(personas.rep_a)

    first = client.get(LIST).content.decode()
    assert len(subjects_in(first)) == 25 and "30 records" in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).content.decode()
    assert len(subjects_in(second)) == 5
    assert not set(subjects_in(first)) & set(subjects_in(second))
    back = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert subjects_in(client.get(back).content.decode()) == subjects_in(first)


def test_htmx_filters_answer_the_table_alone(personas):
    make(personas.rep_a, "Call back", kind="call")
    response = client_for(personas.rep_a).get(
        LIST, {"kind": "call"}, headers={**HX, "HX-Target": "list-table"}
    )
    html = response.content.decode()
    assert "<html" not in html and html.startswith('<div id="list-table"')
    assert subjects_in(html) == ["Call back"]


def test_the_column_chooser_remembers_the_users_columns(personas):
    make(personas.rep_a, "Task")
    client = client_for(personas.rep_a)
    client.post(reverse("activities:activity-columns"), {"cols": ["subject", "team", "done"]})

    html = client.get(LIST).content.decode()
    header = html[html.index('<thead class="table-light"') :]
    header = header[: header.index("</thead>")]
    assert "Team" in header and "Done" in header and "Assignee" not in header
    other = client_for(personas.rep_b).get(LIST).content.decode()
    other = other[other.index('<thead class="table-light"') :]
    assert "Assignee" in other[: other.index("</thead>")]


def test_saved_views_private_and_shared(personas):
    make(personas.rep_a, "A call", kind="call")
    make(personas.rep_a, "A task")
    rep = client_for(personas.rep_a)

    response = rep.post(
        reverse("activities:activity-views"), {"name": "Calls", "q": "kind=call&sort=due_at"}
    )
    assert response.status_code == 302
    view = SavedView.objects.get(name="Calls")
    assert view.entity == "activity" and view.filters == {"kind": "call"}
    assert view.sort == "due_at" and not view.is_shared
    assert subjects_in(rep.get(LIST, {"view": str(view.public_id)}).content.decode()) == ["A call"]
    rep.post(reverse("activities:activity-views"), {"name": "Mine all", "is_shared": "on"})
    assert not SavedView.objects.filter(name="Mine all").exists()
    other = client_for(personas.rep_b).get(LIST, {"view": str(view.public_id)}).content.decode()
    assert "This saved view does not exist any more." in other

    client_for(personas.manager_a).post(
        reverse("activities:activity-views"),
        {"name": "Overdue everywhere", "q": "status=overdue", "is_shared": "on"},
    )
    assert SavedView.objects.get(name="Overdue everywhere").is_shared
    assert "Overdue everywhere" in client_for(personas.rep_b).get(LIST).content.decode()
    # Views are kept per list: the contacts list does not show it.
    assert "Overdue everywhere" not in client_for(personas.rep_b).get("/contacts/").content.decode()


def test_bulk_assign_mark_done_and_move_go_through_the_services(personas):
    due = timezone.now() + dt.timedelta(days=1)
    tasks = [make(personas.rep_a, f"T{n}", due=due) for n in range(3)]
    note = make(personas.rep_a, "A note", kind="note")
    client = client_for(personas.manager_a)
    ids = [str(t.public_id) for t in tasks[:2]]

    response = client.post(
        reverse("activities:activity-bulk"),
        {"action": "assign", "owner": str(personas.rep_b.public_id), "ids": ids, "q": ""},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Assign to: 2 records." in response["HX-Trigger"]
    assert set(Activity.objects.filter(owner=personas.rep_b).values_list("pk", flat=True)) == {
        t.pk for t in tasks[:2]
    }
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGN).count() == 2

    client.post(
        reverse("activities:activity-bulk"),
        {"action": "shift", "days": "3", "ids": [str(tasks[2].public_id)]},
    )
    tasks[2].refresh_from_db()
    assert tasks[2].due_at == due + dt.timedelta(days=3)
    refused = client.post(
        reverse("activities:activity-bulk"),
        {"action": "shift", "days": "0", "ids": [str(tasks[2].public_id)]},
        headers=HX,
    )
    assert refused["HX-Reswap"] == "none" and "Nothing was changed" in refused["HX-Trigger"]

    client.post(
        reverse("activities:activity-bulk"),
        {"action": "complete", "ids": [*ids, str(note.public_id)]},
    )
    assert (
        Activity.objects.filter(pk__in=[t.pk for t in tasks[:2]], done_at__isnull=False).count()
        == 2
    )
    # A done activity cannot be moved: the whole selection is refused.
    response = client.post(
        reverse("activities:activity-bulk"),
        {"action": "shift", "days": "1", "ids": [ids[0], str(tasks[2].public_id)]},
        headers=HX,
    )
    assert "Nothing was changed" in response["HX-Trigger"]
    tasks[2].refresh_from_db()
    assert tasks[2].due_at == due + dt.timedelta(days=3)


def test_bulk_delete_asks_first_and_refuses_forged_or_unwritable_ids(personas):
    mine = make(personas.rep_a, "Mine")
    theirs = make(personas.rep_b, "Theirs")
    client = client_for(personas.rep_a)

    confirm = client.post(
        reverse("activities:activity-bulk"), {"action": "delete", "ids": [str(mine.public_id)]}
    )
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.content.decode()
    assert Activity.objects.filter(pk=mine.pk).exists()

    # Another rep's activity named by a forged id: not found, nothing changed.
    for action in ("delete", "complete", "assign"):
        forged = client.post(
            reverse("activities:activity-bulk"),
            {
                "action": action,
                "owner": str(personas.rep_a.public_id),
                "ids": [str(mine.public_id), str(theirs.public_id)],
                "confirmed": "1",
            },
        )
        assert forged.status_code == 404
    theirs.refresh_from_db()
    assert theirs.owner == personas.rep_b and theirs.done_at is None
    assert Activity.objects.filter(pk=mine.pk, done_at__isnull=True).exists()

    # Shared for reading only: visible, its checkbox disabled, and a forced change refused.
    record_share(actor=None, record=theirs, user=personas.rep_a, can_write=False)
    html = client.get(LIST).content.decode()
    assert f'value="{theirs.public_id}" aria-label="Select" disabled' in html
    response = client.post(
        reverse("activities:activity-bulk"),
        {"action": "delete", "ids": [str(mine.public_id), str(theirs.public_id)], "confirmed": "1"},
        headers=HX,
    )
    assert response["HX-Reswap"] == "none" and "Nothing was changed" in response["HX-Trigger"]
    assert Activity.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2

    client.post(
        reverse("activities:activity-bulk"),
        {"action": "delete", "ids": [str(mine.public_id)], "confirmed": "1"},
    )
    assert not Activity.objects.filter(pk=mine.pk).exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE).count() == 1


def test_read_only_users_get_no_actions_and_are_refused(personas):
    task = make(personas.rep_a, "Team task")
    client = client_for(personas.readonly)
    html = client.get(LIST).content.decode()
    assert subjects_in(html) == ["Team task"]
    assert 'name="ids"' not in html and "inline-create" not in html
    response = client.post(
        reverse("activities:activity-bulk"),
        {"action": "delete", "ids": [str(task.public_id)], "confirmed": "1"},
    )
    assert response.status_code == 403
    assert client.post(reverse("activities:activity-inline"), {"subject": "x"}).status_code == 403
    assert Activity.objects.count() == 1


def test_quick_add_answers_the_new_row_or_the_form_with_errors(personas):
    client = client_for(personas.rep_a)
    response = client.post(
        reverse("activities:activity-inline"),
        {"kind": "call", "subject": "تماس با رضا", "due": "2030/03/02", "time": "14:30", "q": ""},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<tr>") and "تماس با رضا" in html
    assert "list-row-added" in response["HX-Trigger"]
    call = Activity.objects.get(subject="تماس با رضا")
    assert call.owner == personas.rep_a and call.kind == "call"
    assert call.due_at == dt.datetime(2030, 3, 2, 14, 30, tzinfo=dt.UTC)

    empty = client.post(reverse("activities:activity-inline"), {"kind": "task"}, headers=HX)
    assert empty["HX-Retarget"] == "#inline-create" and "is-invalid" in empty.content.decode()
    # A note has no due date: the service refuses and the form shows why.
    note = client.post(
        reverse("activities:activity-inline"),
        {"kind": "note", "subject": "Minutes", "due": "2030/03/02"},
        headers=HX,
    )
    assert "A note has no due date." in note.content.decode()
    assert Activity.objects.count() == 1


def test_list_writes_need_post_and_csrf(personas):
    task = make(personas.rep_a, "Task")
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.rep_a)
    for name, data in (
        ("activities:activity-bulk", {"action": "delete", "ids": [str(task.public_id)]}),
        ("activities:activity-inline", {"kind": "task", "subject": "A"}),
        ("activities:activity-views", {"name": "V"}),
        ("activities:activity-columns", {"cols": ["subject"]}),
    ):
        assert client.post(reverse(name), data).status_code == 403
        assert client.get(reverse(name)).status_code == 405
    assert Activity.objects.count() == 1 and not SavedView.objects.exists()


def test_a_25_row_page_stays_within_the_sql_and_weight_budgets(
    personas, contact_of, company_of, django_assert_max_num_queries
):
    contact = contact_of(personas.rep_a)
    company = company_of(personas.rep_a)
    client = client_for(personas.manager_a)
    # Linked records load apart, one statement per kind of link on the page: the small
    # page links the same kinds as the large one.
    make(personas.rep_a, "A0", kind="call", contact=contact)
    make(personas.rep_a, "A1", kind="call", company=company)
    client.get(LIST)
    with django_assert_max_num_queries(15) as small:
        client.get(LIST)
    for n in range(30):
        make(
            personas.rep_a if n % 2 else personas.rep_b,
            f"Follow up with the customer about the offer {n}",
            kind="call" if n % 3 else "task",
            due=timezone.now() + dt.timedelta(hours=n - 5),
            company=company if n % 2 else None,
            contact=None if n % 2 else contact,
            actor=personas.manager_a,
        )
    with django_assert_max_num_queries(15) as large:
        response = client.get(LIST)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(ids_in(response.content.decode())) == 25
    assert len(response.content) <= 40 * 1024, len(response.content)
