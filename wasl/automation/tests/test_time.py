"""Time-based triggers through the scheduler tick (with `now` given) and the worker."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.automation import services
from wasl.automation.scheduler import tick
from wasl.automation.timing import parse_cron
from wasl.contacts.services import contact_create
from wasl.notifications.models import Notification

pytestmark = pytest.mark.django_db

TEHRAN = ZoneInfo("Asia/Tehran")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TEHRAN)


def test_a_birthday_reminder_fires_once_a_year(personas, pipeline):
    services.rule_create(
        actor=personas.admin,
        name="Birthday call",
        trigger={"type": "date_reached", "entity": "contact", "field": "birthday", "at": "09:00"},
        actions=[
            {
                "type": "create_activity",
                "kind": "call",
                "subject": "Happy birthday {{ contact.first_name }}",
                "due": {"amount": 0, "unit": "hours"},
            }
        ],
    )
    contact = contact_create(
        actor=personas.rep_a, first_name="Parisa", birthday=dt.date(1990, 3, 15)
    )
    contact_create(actor=personas.rep_a, first_name="Other", birthday=dt.date(1991, 3, 16))

    tick(at(2027, 3, 15, 8, 59))
    pipeline()
    assert not Activity.objects.exists()

    for moment in (at(2027, 3, 15, 9, 1), at(2027, 3, 15, 9, 2), at(2027, 3, 15, 18, 0)):
        tick(moment)
        pipeline()
    calls = Activity.objects.filter(contact=contact)
    assert calls.count() == 1
    assert calls.get().subject == "Happy birthday Parisa"
    assert calls.get().due_at == at(2027, 3, 15, 9, 0)
    assert calls.get().owner == personas.rep_a

    tick(at(2027, 3, 16, 9, 5))
    tick(at(2028, 3, 15, 9, 1))
    pipeline()
    assert calls.count() == 2


def test_an_overdue_task_notifies_the_assignee_then_the_manager(personas, pipeline, settings):
    settings.WASL_OVERDUE_REMINDERS = False
    services.rule_create(
        actor=personas.admin,
        name="Overdue: tell the assignee",
        trigger={"type": "task_overdue"},
        actions=[
            {
                "type": "notify",
                "recipients": [{"to": "assignee"}],
                "message": "Overdue: {{ activity.subject }}",
            }
        ],
    )
    services.rule_create(
        actor=personas.admin,
        name="Overdue for 4 hours: tell the manager",
        trigger={"type": "task_overdue", "after_hours": 4},
        actions=[
            {
                "type": "notify",
                "recipients": [{"to": "manager"}],
                "message": "{{ owner.name }} has not done: {{ activity.subject }}",
            }
        ],
    )
    due = at(2027, 1, 10, 10, 0)
    task = activity_create(actor=personas.rep_a, kind="task", subject="Send quote", due_at=due)

    tick(due - dt.timedelta(minutes=1))
    pipeline()
    assert not Notification.objects.exists()

    tick(due + dt.timedelta(minutes=1))
    pipeline()
    notes = Notification.objects.filter(title__endswith="Send quote")
    assert [(n.recipient, n.title) for n in notes] == [(personas.rep_a, "Overdue: Send quote")]
    assert notes.get().record_public_id == task.public_id

    tick(due + dt.timedelta(hours=4, minutes=1))
    tick(due + dt.timedelta(hours=4, minutes=2))
    pipeline()
    rule_notes = notes.order_by("id")
    assert [n.recipient for n in rule_notes] == [personas.rep_a, personas.manager_a]
    assert rule_notes[1].title == "rep_a has not done: Send quote"


def test_the_built_in_escalation_tells_the_manager_after_the_grace_period(personas, settings):
    settings.WASL_ESCALATION_GRACE_HOURS = 2
    due = at(2027, 1, 10, 10, 0)
    activity_create(actor=personas.rep_b, kind="call", subject="Call back", due_at=due)
    tick(due + dt.timedelta(minutes=5))
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["rep_b"]
    tick(due + dt.timedelta(hours=2, minutes=5))
    tick(due + dt.timedelta(hours=2, minutes=6))
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "manager_a",
        "rep_b",
    ]


def test_a_schedule_fires_on_its_minutes_only(personas, pipeline):
    rule = services.rule_create(
        actor=personas.admin,
        name="Saturday planning",
        trigger={"type": "schedule", "cron": "0 8 * * 6"},
        actions=[
            {
                "type": "notify",
                "recipients": [{"to": "user", "user_id": str(personas.manager_a.public_id)}],
                "message": "Plan the week",
            }
        ],
    )
    rule.created_at = at(2027, 1, 1, 0, 0)
    rule.save(update_fields=["created_at"])
    tick(at(2027, 1, 2, 8, 0))  # a Saturday
    tick(at(2027, 1, 2, 8, 1))
    tick(at(2027, 1, 3, 8, 0))  # Sunday
    pipeline()
    assert Notification.objects.filter(recipient=personas.manager_a).count() == 1


def test_no_activity_fires_once_per_quiet_spell(personas, pipeline):
    services.rule_create(
        actor=personas.admin,
        name="Wake up quiet contacts",
        trigger={"type": "no_activity", "entity": "contact", "days": 30},
        actions=[{"type": "add_tag", "tag": "quiet"}],
    )
    contact = contact_create(actor=personas.rep_a, first_name="Quiet")
    later = contact.created_at + dt.timedelta(days=31)
    tick(later)
    tick(later + dt.timedelta(minutes=1))
    pipeline()
    assert [t.name for t in contact.tags.all()] == ["quiet"]


def test_cron_expressions():
    cron = parse_cron("*/15 8-17 * * 1-5")
    assert cron.matches(dt.datetime(2027, 1, 4, 8, 45))  # Monday
    assert not cron.matches(dt.datetime(2027, 1, 4, 8, 50))
    assert not cron.matches(dt.datetime(2027, 1, 3, 9, 0))  # Sunday
    either = parse_cron("0 9 1 * 0")  # the 1st or a Sunday
    assert either.matches(dt.datetime(2027, 2, 1, 9, 0))
    assert either.matches(dt.datetime(2027, 2, 7, 9, 0))
    with pytest.raises(ValueError):
        parse_cron("61 * * * *")
