from __future__ import annotations

import pytest

from wasl.contacts.services import contact_create, contact_update
from wasl.core import events
from wasl.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder():
    received = []

    def listener(event):
        received.append((event.name, event.object_id))

    events._listeners["contact.created"].append(listener)
    events._listeners["contact.updated"].append(listener)
    yield received
    events._listeners["contact.created"].remove(listener)
    events._listeners["contact.updated"].remove(listener)


def test_events_are_delivered_once_in_order(personas, recorder):
    contact = contact_create(actor=personas.rep_a, first_name="A")
    contact_update(actor=personas.rep_a, contact=contact, first_name="B")
    assert events.dispatch_pending() >= 2
    assert recorder == [("contact.created", contact.pk), ("contact.updated", contact.pk)]
    events.dispatch_pending()
    assert len(recorder) == 2
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_a_failing_listener_keeps_the_event_and_holds_back_later_ones(personas):
    calls = []

    def flaky(event):
        calls.append(event.name)
        if len(calls) == 1:
            raise RuntimeError("peer down")

    events._listeners["contact.created"].append(flaky)
    events._listeners["contact.updated"].append(flaky)
    try:
        contact = contact_create(actor=personas.rep_a, first_name="A")
        contact_update(actor=personas.rep_a, contact=contact, first_name="B")
        events.dispatch_pending()
        pending = OutboxEvent.objects.filter(
            object_id=contact.pk, dispatched_at__isnull=True, name__startswith="contact."
        )
        assert pending.count() == 2
        assert pending.get(name="contact.created").attempts == 1
        assert "peer down" in pending.get(name="contact.created").last_error
        events.dispatch_pending()
        assert calls == ["contact.created", "contact.created", "contact.updated"]
        assert not pending.exists()
    finally:
        events._listeners["contact.created"].remove(flaky)
        events._listeners["contact.updated"].remove(flaky)


def test_an_event_of_a_rolled_back_change_is_never_written(personas):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        contact_create(actor=personas.rep_a, first_name="Ghost")
        raise RuntimeError("abort")
    assert not OutboxEvent.objects.filter(name="contact.created").exists()
