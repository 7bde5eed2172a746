from __future__ import annotations

import datetime as dt

import pytest

from wasl.activities import services
from wasl.activities.models import Activity
from wasl.activities.selectors import my_open_tasks
from wasl.activities.tests.conftest import T0, frozen
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _events(name: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(name=name).order_by("id"))


def _audit(activity: Activity) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_public_id=activity.public_id).order_by("id"))


class TestCreate:
    def test_a_rep_logs_a_call_on_their_contact_with_audit_and_event(self, personas, contact_of):
        contact = contact_of(personas.rep_a)
        call = services.activity_create(
            actor=personas.rep_a,
            kind="call",
            subject="Discussed the renewal",
            contact=contact,
            direction="outbound",
            outcome="connected",
            duration_seconds=300,
            done_at=T0,
        )
        call.refresh_from_db()
        assert call.owner == personas.rep_a
        assert call.team_id == personas.rep_a.team_id
        assert call.created_by == personas.rep_a
        assert call.contact == contact
        [entry] = _audit(call)
        assert entry.action == "create"
        assert entry.changes["outcome"] == [None, "connected"]
        assert entry.changes["contact"] == [None, str(contact.public_id)]
        assert "body" not in entry.changes  # empty values are not noise in the trail
        [event] = _events("activity.created")
        assert event.data["id"] == str(call.public_id)
        assert event.data["contact_id"] == str(contact.public_id)

    def test_the_owner_defaults_to_the_actor_and_a_manager_may_assign_in_their_team(self, personas):
        task = services.activity_create(
            actor=personas.manager_a, kind="task", subject="Send the quote", owner=personas.rep_b
        )
        assert task.owner == personas.rep_b
        assert task.created_by == personas.manager_a

    def test_a_rep_cannot_assign_to_a_teammate(self, personas):
        with pytest.raises(Forbidden):
            services.activity_create(
                actor=personas.rep_a, kind="task", subject="x", owner=personas.rep_b
            )
        assert not Activity.objects.exists()

    def test_readonly_never_creates(self, personas):
        with pytest.raises(Forbidden):
            services.activity_create(actor=personas.readonly, kind="note", subject="x")

    def test_linking_a_record_the_actor_cannot_see_is_not_found(self, personas, contact_of):
        contact = contact_of(personas.rep_a)
        with pytest.raises(NotFound):
            services.activity_create(
                actor=personas.rep_b, kind="note", subject="Peek", contact=contact
            )
        assert not Activity.objects.exists()

    def test_a_manager_may_link_a_record_of_their_team(self, personas, contact_of, company_of):
        contact = contact_of(personas.rep_a)
        company = company_of(personas.rep_b)
        note = services.activity_create(
            actor=personas.manager_a,
            kind="note",
            subject="Met both",
            contact=contact,
            company=company,
        )
        assert note.contact == contact and note.company == company

    def test_notes_emails_and_sms_are_logged_as_done(self, personas):
        with frozen(T0):
            note = services.activity_create(actor=personas.rep_a, kind="note", subject="n")
            sms = services.activity_create(
                actor=personas.rep_a, kind="sms", subject="s", direction="inbound"
            )
        assert note.done_at == T0 and sms.done_at == T0
        assert not note.is_open

    def test_tasks_calls_and_meetings_may_be_open_or_done(self, personas):
        open_task = services.activity_create(actor=personas.rep_a, kind="task", subject="t")
        done_call = services.activity_create(
            actor=personas.rep_a, kind="call", subject="c", done_at=T0
        )
        assert open_task.is_open and open_task.done_at is None
        assert not done_call.is_open

    def test_a_time_without_zone_is_taken_as_utc(self, personas):
        task = services.activity_create(
            actor=personas.rep_a, kind="task", subject="t", due_at=dt.datetime(2030, 3, 1, 9)
        )
        task.refresh_from_db()
        assert task.due_at == T0


class TestKindValidation:
    @pytest.mark.parametrize(
        ("fields", "bad"),
        [
            ({"kind": "fax", "subject": "x"}, "kind"),
            ({"kind": "task", "subject": "  "}, "subject"),
            ({"kind": "task", "subject": "x" * 301}, "subject"),
            ({"kind": "call", "subject": "x", "direction": "sideways"}, "direction"),
            ({"kind": "call", "subject": "x", "outcome": "maybe"}, "outcome"),
            ({"kind": "call", "subject": "x", "duration_seconds": -1}, "duration_seconds"),
            ({"kind": "task", "subject": "x", "outcome": "connected"}, "outcome"),
            ({"kind": "email", "subject": "x", "duration_seconds": 5}, "duration_seconds"),
            ({"kind": "meeting", "subject": "x", "direction": "inbound"}, "direction"),
            ({"kind": "note", "subject": "x", "due_at": T0}, "due_at"),
            ({"kind": "meeting", "subject": "x", "due_at": T0, "ends_at": T0}, "ends_at"),
            ({"kind": "meeting", "subject": "x", "due_at": T0, "ends_at": T0 - HOUR}, "ends_at"),
            ({"kind": "meeting", "subject": "x", "ends_at": T0}, "due_at"),
            ({"kind": "task", "subject": "x", "due_at": T0, "ends_at": T0 + HOUR}, "ends_at"),
            ({"kind": "task", "subject": "x", "idempotency_key": "k" * 121}, "idempotency_key"),
        ],
    )
    def test_invalid_input_names_the_field_and_writes_nothing(self, personas, fields, bad):
        with pytest.raises(Invalid) as caught:
            services.activity_create(actor=personas.rep_a, **fields)
        assert bad in caught.value.fields
        assert not Activity.objects.exists()
        assert not AuditEntry.objects.filter(action="create", object_repr="x").exists()
        assert not _events("activity.created")

    def test_a_meeting_with_start_and_end_and_a_call_with_every_detail_are_valid(self, personas):
        meeting = services.activity_create(
            actor=personas.rep_a,
            kind="meeting",
            subject="Demo",
            due_at=T0,
            ends_at=T0 + HOUR,
            location="Tehran office",
        )
        call = services.activity_create(
            actor=personas.rep_a,
            kind="call",
            subject="Follow-up",
            direction="inbound",
            outcome="voicemail",
            duration_seconds=0,
            done_at=T0,
        )
        assert meeting.ends_at == T0 + HOUR
        assert call.duration_seconds == 0


class TestIdempotency:
    def test_the_same_key_returns_the_first_activity_unchanged(self, personas):
        first = services.activity_create(
            actor=personas.rep_a, kind="task", subject="Call back", idempotency_key="rule-7:42"
        )
        again = services.activity_create(
            actor=personas.rep_a, kind="task", subject="Different", idempotency_key="rule-7:42"
        )
        assert again.pk == first.pk
        assert again.subject == "Call back"
        assert Activity.objects.count() == 1
        assert len(_events("activity.created")) == 1

    def test_the_operator_replaying_a_key_gets_the_same_row(self, personas):
        first = services.activity_create(
            actor=None, owner=personas.rep_a, kind="task", subject="t", idempotency_key="imp-1"
        )
        again = services.activity_create(
            actor=None, owner=personas.rep_a, kind="task", subject="t", idempotency_key="imp-1"
        )
        assert again.pk == first.pk

    def test_another_users_key_is_a_conflict_not_a_leak(self, personas):
        services.activity_create(
            actor=personas.rep_a, kind="task", subject="secret", idempotency_key="k1"
        )
        with pytest.raises(Conflict):
            services.activity_create(
                actor=personas.rep_c, kind="task", subject="x", idempotency_key="k1"
            )
        assert Activity.objects.count() == 1


class TestCompleteReopenReschedule:
    def test_completing_records_time_outcome_audit_and_event(self, personas):
        call = services.activity_create(actor=personas.rep_a, kind="call", subject="c")
        services.activity_complete(
            actor=personas.rep_a, activity=call, done_at=T0, outcome="no_answer"
        )
        call.refresh_from_db()
        assert call.done_at == T0 and call.outcome == "no_answer"
        last = _audit(call)[-1]
        assert last.changes["done_at"] == [None, T0.isoformat()]
        assert last.changes["outcome"] == ["", "no_answer"]
        [event] = _events("activity.completed")
        assert event.data["outcome"] == "no_answer"

    def test_completing_twice_is_a_conflict(self, personas):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="t")
        services.activity_complete(actor=personas.rep_a, activity=task)
        with pytest.raises(Conflict):
            services.activity_complete(actor=personas.rep_a, activity=task)
        assert len(_events("activity.completed")) == 1

    def test_a_note_cannot_be_completed_or_reopened(self, personas):
        note = services.activity_create(actor=personas.rep_a, kind="note", subject="n")
        with pytest.raises(Invalid):
            services.activity_complete(actor=personas.rep_a, activity=note)
        with pytest.raises(Invalid):
            services.activity_reopen(actor=personas.rep_a, activity=note)

    def test_reopening_clears_done_and_reopening_an_open_one_is_a_conflict(self, personas):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="t", done_at=T0)
        services.activity_reopen(actor=personas.rep_a, activity=task)
        task.refresh_from_db()
        assert task.done_at is None
        assert _events("activity.updated")[-1].data["reopened"] is True
        with pytest.raises(Conflict):
            services.activity_reopen(actor=personas.rep_a, activity=task)

    def test_rescheduling_a_meeting_keeps_its_length(self, personas):
        meeting = services.activity_create(
            actor=personas.rep_a, kind="meeting", subject="m", due_at=T0, ends_at=T0 + HOUR
        )
        services.activity_reschedule(actor=personas.rep_a, activity=meeting, due_at=T0 + 3 * HOUR)
        meeting.refresh_from_db()
        assert meeting.due_at == T0 + 3 * HOUR
        assert meeting.ends_at == T0 + 4 * HOUR
        assert set(_audit(meeting)[-1].changes) == {"due_at", "ends_at"}

    def test_a_done_task_is_reopened_before_rescheduling(self, personas):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="t", done_at=T0)
        with pytest.raises(Conflict):
            services.activity_reschedule(actor=personas.rep_a, activity=task, due_at=T0)


class TestWhoMayWrite:
    def _task(self, personas):
        return services.activity_create(actor=personas.rep_a, kind="task", subject="t")

    @pytest.mark.parametrize("who", ["rep_a", "manager_a", "admin"])
    def test_the_assignee_their_manager_and_an_admin_may_change_it(self, personas, who):
        task = self._task(personas)
        services.activity_update(actor=getattr(personas, who), activity=task, subject=f"by {who}")
        task.refresh_from_db()
        assert task.subject == f"by {who}"

    @pytest.mark.parametrize("who", ["rep_b", "readonly", "manager_b", "rep_c"])
    def test_others_may_not(self, personas, who):
        task = self._task(personas)
        with pytest.raises(Forbidden):
            services.activity_update(actor=getattr(personas, who), activity=task, subject="x")
        with pytest.raises(Forbidden):
            services.activity_complete(actor=getattr(personas, who), activity=task)
        with pytest.raises(Forbidden):
            services.activity_delete(actor=getattr(personas, who), activity=task)

    def test_the_creator_gets_no_right_once_the_task_is_given_to_someone_else(self, personas):
        task = self._task(personas)
        services.activity_update(actor=personas.manager_a, activity=task, owner=personas.rep_b)
        task.refresh_from_db()
        assert task.owner == personas.rep_b and task.created_by == personas.rep_a
        assert _audit(task)[-1].action == "assign"
        assert _audit(task)[-1].changes["owner"] == [
            str(personas.rep_a.public_id),
            str(personas.rep_b.public_id),
        ]
        with pytest.raises(Forbidden):
            services.activity_update(actor=personas.rep_a, activity=task, subject="mine?")


class TestUpdateAndDelete:
    def test_update_changes_only_what_is_given_and_audits_old_and_new(self, personas, contact_of):
        contact = contact_of(personas.rep_a)
        task = services.activity_create(
            actor=personas.rep_a, kind="task", subject="Old", body="keep", due_at=T0
        )
        services.activity_update(
            actor=personas.rep_a, activity=task, subject="New", contact=contact
        )
        task.refresh_from_db()
        assert (task.subject, task.body, task.due_at, task.contact) == ("New", "keep", T0, contact)
        changes = _audit(task)[-1].changes
        assert changes == {
            "subject": ["Old", "New"],
            "contact": [None, str(contact.public_id)],
        }
        assert _events("activity.updated")[-1].data["fields"] == ["contact", "subject"]

    def test_an_invalid_update_writes_nothing(self, personas):
        meeting = services.activity_create(
            actor=personas.rep_a, kind="meeting", subject="m", due_at=T0, ends_at=T0 + HOUR
        )
        with pytest.raises(Invalid) as caught:
            services.activity_update(
                actor=personas.rep_a, activity=meeting, subject="", ends_at=T0 - HOUR
            )
        assert set(caught.value.fields) == {"subject", "ends_at"}
        meeting.refresh_from_db()
        assert meeting.subject == "m" and meeting.ends_at == T0 + HOUR
        assert len(_audit(meeting)) == 1

    def test_kind_and_done_of_a_task_are_not_changed_by_update(self, personas):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="t")
        with pytest.raises(Invalid) as caught:
            services.activity_update(actor=personas.rep_a, activity=task, kind="note", done_at=T0)
        assert set(caught.value.fields) == {"kind", "done_at"}

    def test_delete_keeps_the_values_in_the_audit_trail(self, personas):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="Gone")
        public_id = task.public_id
        services.activity_delete(actor=personas.rep_a, activity=task)
        assert not Activity.objects.filter(public_id=public_id).exists()
        entry = AuditEntry.objects.get(object_public_id=public_id, action="delete")
        assert entry.changes["subject"] == ["Gone", None]
        assert _events("activity.deleted")[0].data["id"] == str(public_id)


class TestMyOpenTasks:
    def test_open_work_of_the_actor_overdue_first_then_by_due_time(self, personas):
        now = T0

        def make(subject, **fields):
            return services.activity_create(
                actor=personas.rep_a, subject=subject, **{"kind": "task", **fields}
            )

        later = make("later", due_at=now + 2 * HOUR)
        undated = make("undated")
        overdue_old = make("overdue old", due_at=now - 5 * HOUR)
        soon = make("soon", kind="call", due_at=now + HOUR)
        overdue_recent = make("overdue recent", kind="meeting", due_at=now - HOUR)
        make("done", due_at=now - HOUR, done_at=now - HOUR)
        make("a note", kind="note")
        services.activity_create(actor=personas.rep_b, kind="task", subject="b's", due_at=now)
        rows = list(my_open_tasks(actor=personas.rep_a, now=now))
        assert rows == [overdue_old, overdue_recent, soon, later, undated]
