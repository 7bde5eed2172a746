"""Notification pages: the bell in the shell, the list, mark read and mark all read, and
what is shown once the record is out of sight."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wasl.core.testing import client_for
from wasl.leads.services import lead_create, lead_update
from wasl.notifications.models import Notification
from wasl.notifications.services import notification_create

pytestmark = pytest.mark.django_db


def test_the_bell_shows_the_unread_count_for_one_statement(personas):
    for title in ("One", "Two", "Three"):
        notification_create(recipient=personas.rep_a, title=title)
    notification_create(recipient=personas.rep_b, title="Not yours")
    client = client_for(personas.rep_a)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert 'id="wasl-unread-count">3<' in html
    touching = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(touching) == 1
    Notification.objects.filter(recipient=personas.rep_a).update(read_at="2026-01-01T00:00Z")
    assert "wasl-unread-count" not in client.get("/").content.decode()


def test_the_sign_in_page_has_no_bell(db):
    html = Client().get("/sign-in/").content.decode()
    assert "wasl-bell" not in html


def test_the_list_shows_only_my_notifications_newest_first_with_links(personas):
    lead = lead_create(actor=personas.rep_a, first_name="Parisa")
    notification_create(
        recipient=personas.rep_a, title="Call Parisa", body="Due at 10", record=lead
    )
    notification_create(recipient=personas.rep_a, title="Weekly note")
    notification_create(recipient=personas.rep_b, title="Someone else's")
    response = client_for(personas.rep_a).get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Weekly note") < html.index("Call Parisa")
    assert "Someone else" not in html
    assert f'<a href="/leads/{lead.public_id}/" class="text-body">Call Parisa</a>' in html
    assert "Due at 10" in html


def test_a_notification_about_a_record_out_of_sight_shows_no_details(personas):
    lead = lead_create(actor=personas.rep_a, first_name="Kaveh")
    notification_create(
        recipient=personas.rep_a, title="Call Kaveh now", body="Secret", record=lead
    )
    lead_update(actor=personas.admin, lead=lead, owner=personas.rep_c)
    client = client_for(personas.rep_a)
    for url in ("/notifications/", "/notifications/menu/"):
        html = client.get(url).content.decode()
        assert "About a record you can no longer see." in html
        assert "Call Kaveh" not in html and "Secret" not in html
        assert str(lead.public_id) not in html


def test_mark_read_and_mark_all_read(personas):
    first = notification_create(recipient=personas.rep_a, title="First")
    notification_create(recipient=personas.rep_a, title="Second")
    client = client_for(personas.rep_a)
    response = client.post(f"/notifications/{first.public_id}/read/", {"next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    unread = client.get("/notifications/", {"unread": "1"}).content.decode()
    assert "Second" in unread and "First" not in unread
    outside = client.post(
        f"/notifications/{first.public_id}/read/", {"next": "https://evil.example/"}
    )
    assert outside["Location"] == "/notifications/"

    response = client.post("/notifications/read-all/", follow=True)
    assert "1 notification marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=personas.rep_a, read_at__isnull=True).exists()
    assert "Nothing unread." in client.get("/notifications/", {"unread": "1"}).content.decode()


def test_nobody_marks_another_users_notification(personas):
    mine = notification_create(recipient=personas.rep_a, title="Mine")
    notification_create(recipient=personas.rep_b, title="Bs")
    other = client_for(personas.rep_b)
    assert other.post(f"/notifications/{mine.public_id}/read/").status_code == 404
    other.post("/notifications/read-all/")
    mine.refresh_from_db()
    assert mine.read_at is None
    assert not Notification.objects.filter(recipient=personas.rep_b, read_at__isnull=True).exists()


def test_writes_need_post_and_the_csrf_token(personas):
    note = notification_create(recipient=personas.rep_a, title="Guarded")
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.rep_a)
    assert client.post(f"/notifications/{note.public_id}/read/").status_code == 403
    assert client.post("/notifications/read-all/").status_code == 403
    assert client.get("/notifications/read-all/").status_code == 405
    assert client.get(f"/notifications/{note.public_id}/read/").status_code == 405
    assert client_for(personas.rep_a).post("/notifications/").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_the_menu_lists_the_newest_and_offers_mark_all_read(personas):
    for index in range(10):
        notification_create(recipient=personas.rep_a, title=f"Note {index}")
    html = client_for(personas.rep_a).get("/notifications/menu/").content.decode()
    assert html.count("data-notification=") == 8
    assert "Note 9" in html and "Note 0" not in html
    assert "Mark all read" in html and 'href="/notifications/"' in html


def test_the_list_pages_through_older_notifications_within_budget(
    personas, django_assert_max_num_queries
):
    lead = lead_create(actor=personas.rep_a, first_name="Budget")
    for index in range(30):
        notification_create(recipient=personas.rep_a, title=f"Item {index:02d}", record=lead)
    client = client_for(personas.rep_a)
    with django_assert_max_num_queries(15):
        html = client.get("/notifications/").content.decode()
    assert html.count("data-notification=") == 25
    start = html.index('<div class="card-footer"><a href="') + len(
        '<div class="card-footer"><a href="'
    )
    next_url = html[start : html.index('"', start)].replace("&amp;", "&")
    older = client.get(f"/notifications/{next_url}").content.decode()
    assert older.count("data-notification=") == 5 and "Item 00" in older
