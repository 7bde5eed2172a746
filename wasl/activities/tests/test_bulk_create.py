"""The bulk path (`activities_create_many`, `activity_prepare` + `activities_save_prepared`)
writes exactly what `activity_create` writes, with one statement per table."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wasl.activities import services
from wasl.activities.models import Activity
from wasl.activities.tests.conftest import T0
from wasl.core import events
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.deals.services import deal_create, pipeline_ensure_default
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
# Columns that differ between any two rows by construction.
_OWN = {"id", "public_id", "created_at", "updated_at", "idempotency_key"}


def _row(activity: Activity) -> dict:
    return {
        f.attname: getattr(activity, f.attname)
        for f in Activity._meta.concrete_fields
        if f.attname not in _OWN
    }


def _audit(activity: Activity) -> dict:
    [entry] = AuditEntry.objects.filter(object_public_id=activity.public_id)
    return {
        "actor_id": entry.actor_id,
        "action": entry.action,
        "content_type_id": entry.content_type_id,
        "object_id_is_pk": entry.object_id == activity.pk,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "data": entry.data,
    }


def _event(activity: Activity) -> dict:
    [event] = OutboxEvent.objects.filter(name="activity.created", object_id=activity.pk)
    data = dict(event.data)
    assert data.pop("id") == str(activity.public_id)
    return {
        "actor_id": event.actor_id,
        "content_type_id": event.content_type_id,
        "dispatched_at": event.dispatched_at,
        "data": data,
    }


def _specs(personas, contact_of) -> list[dict]:
    contact = contact_of(personas.rep_a)
    lead = lead_create(actor=personas.rep_a, first_name="Ali", source="web_form")
    pipeline_ensure_default(actor=None)
    deal = deal_create(actor=personas.rep_a, title="Boiler")
    return [
        {
            "kind": "call",
            "subject": "  Call back  ",
            "contact": contact,
            "direction": "outbound",
            "outcome": "connected",
            "duration_seconds": 120,
            "done_at": T0,
        },
        {"kind": "task", "subject": "Send the quote", "due_at": T0 + HOUR, "lead": lead},
        {
            "kind": "meeting",
            "subject": "Site visit",
            "location": " Tehran ",
            "due_at": T0,
            "ends_at": T0 + HOUR,
            "deal": deal,
            "owner": personas.rep_b,
        },
        {"kind": "note", "subject": "Prefers mornings", "body": "Line one", "contact": contact},
    ]


class TestSameAsOneByOne:
    def test_each_bulk_activity_has_the_fields_audit_row_and_event_of_activity_create(
        self, personas, contact_of
    ):
        specs = _specs(personas, contact_of)
        singles = [
            services.activity_create(actor=personas.manager_a, idempotency_key=f"one:{i}", **spec)
            for i, spec in enumerate(specs)
        ]
        many = services.activities_create_many(
            actor=personas.manager_a,
            specs=[{**spec, "idempotency_key": f"many:{i}"} for i, spec in enumerate(specs)],
        )
        assert len(many) == len(specs)
        for single, bulk in zip(singles, many, strict=True):
            single.refresh_from_db()
            bulk.refresh_from_db()
            assert bulk.idempotency_key.startswith("many:")
            if single.kind == "note":
                # Logged "now": the two clocks differ by the time between the calls.
                assert abs(bulk.done_at - single.done_at) < dt.timedelta(minutes=1)
                single.done_at = bulk.done_at
            assert _row(bulk) == _row(single)
            single_audit, bulk_audit = _audit(single), _audit(bulk)
            if single.kind == "note":
                single_audit["changes"].pop("done_at")
                bulk_audit["changes"].pop("done_at")
            assert bulk_audit == single_audit
            assert bulk_audit["object_id_is_pk"]
            assert _event(bulk) == _event(single)
        assert many[2].owner == personas.rep_b and many[2].team_id == personas.rep_b.team_id
        assert many[0].subject == "Call back" and many[2].location == "Tehran"

    def test_prepared_activities_carry_the_causation_of_the_moment_they_were_prepared(
        self, personas
    ):
        single_cause = {"rules": [7], "depth": 1, "run": "r1"}
        token = events.causation.set(single_cause)
        try:
            single = services.activity_create(actor=personas.rep_a, kind="task", subject="A")
            prepared = services.activity_prepare(actor=personas.rep_a, kind="task", subject="A")
        finally:
            events.causation.reset(token)
        plain = services.activity_prepare(actor=personas.rep_a, kind="task", subject="B")
        # Written later, outside the causation: each event keeps its own.
        saved = services.activities_save_prepared(actor=personas.rep_a, prepared=[prepared, plain])
        assert _event(saved[0]) == _event(single)
        assert _event(saved[0])["data"]["causation"] == single_cause
        assert "causation" not in _event(saved[1])["data"]

    def test_a_batch_is_one_insert_per_table_and_one_query_for_the_keys(self, personas):
        specs = [
            {"kind": "task", "subject": f"Task {n}", "idempotency_key": f"k{n}"} for n in range(30)
        ]
        with CaptureQueriesContext(connection) as queries:
            made = services.activities_create_many(actor=personas.rep_a, specs=specs)
        statements = [
            q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()
        ]
        inserts = [s for s in statements if s.upper().startswith("INSERT")]
        assert len(inserts) == 3
        assert len(statements) == 4  # and the one SELECT of the keys
        assert Activity.objects.filter(subject__startswith="Task ").count() == 30
        assert AuditEntry.objects.filter(object_public_id__in=[a.public_id for a in made]).count()
        assert OutboxEvent.objects.filter(name="activity.created").count() == 30
        assert all(a.pk is not None for a in made)


class TestKeys:
    def test_a_key_repeated_inside_one_batch_makes_one_activity(self, personas):
        made = services.activities_create_many(
            actor=personas.rep_a,
            specs=[
                {"kind": "task", "subject": "First", "idempotency_key": "same"},
                {"kind": "task", "subject": "Other", "idempotency_key": "x"},
                {"kind": "task", "subject": "Second", "idempotency_key": "same"},
            ],
        )
        assert made[0] is made[2]
        assert Activity.objects.filter(idempotency_key="same").get().subject == "First"
        assert AuditEntry.objects.filter(object_public_id=made[0].public_id).count() == 1
        assert OutboxEvent.objects.filter(name="activity.created").count() == 2

    def test_a_key_already_in_the_database_gives_that_activity_and_writes_nothing(self, personas):
        old = services.activity_create(
            actor=personas.rep_a, kind="task", subject="Old", idempotency_key="taken"
        )
        prepared = services.activity_prepare(
            actor=personas.rep_a, kind="task", subject="New", idempotency_key="taken"
        )
        [again] = services.activities_save_prepared(actor=personas.rep_a, prepared=[prepared])
        [also] = services.activities_create_many(
            actor=personas.rep_a,
            # Not validated, as activity_create does not validate a repeated key either.
            specs=[{"kind": "bogus", "subject": "", "idempotency_key": "taken"}],
        )
        assert again == old and also == old
        assert Activity.objects.count() == 1
        assert OutboxEvent.objects.filter(name="activity.created").count() == 1

    def test_a_key_of_an_activity_the_actor_does_not_see_is_a_conflict(self, personas):
        services.activity_create(
            actor=personas.rep_c, kind="task", subject="Theirs", idempotency_key="theirs"
        )
        with pytest.raises(Conflict):
            services.activities_create_many(
                actor=personas.rep_a,
                specs=[
                    {"kind": "task", "subject": "Mine"},
                    {"kind": "task", "subject": "Mine too", "idempotency_key": "theirs"},
                ],
            )
        assert not Activity.objects.filter(owner=personas.rep_a).exists()

    def test_a_key_taken_by_a_racing_transaction_answers_with_the_winner(self, personas):
        winner = services.activity_create(
            actor=personas.rep_a, kind="task", subject="Winner", idempotency_key="raced"
        )
        specs = [
            {"kind": "task", "subject": "Fresh", "idempotency_key": "fresh"},
            {"kind": "task", "subject": "Loser", "idempotency_key": "raced"},
        ]
        # The key check ran before the other transaction committed.
        with mock.patch.object(services, "_existing_for_keys", return_value={}):
            fresh, raced = services.activities_create_many(actor=personas.rep_a, specs=specs)
        assert raced == winner
        assert fresh.pk is not None and fresh.subject == "Fresh"
        assert sorted(Activity.objects.values_list("subject", flat=True)) == ["Fresh", "Winner"]
        assert AuditEntry.objects.filter(object_public_id=fresh.public_id).count() == 1
        assert OutboxEvent.objects.filter(name="activity.created").count() == 2


class TestRefusals:
    def test_an_invalid_spec_in_the_middle_writes_nothing(self, personas):
        with pytest.raises(Invalid) as caught:
            services.activities_create_many(
                actor=personas.rep_a,
                specs=[
                    {"kind": "task", "subject": "Fine"},
                    {"kind": "note", "subject": "Noted", "due_at": T0},
                    {"kind": "task", "subject": "Also fine"},
                ],
            )
        assert "due_at" in caught.value.fields
        assert not Activity.objects.exists()
        assert not OutboxEvent.objects.filter(name="activity.created").exists()

    def test_read_only_users_and_assignments_out_of_reach_are_refused(self, personas):
        with pytest.raises(Forbidden):
            services.activities_create_many(
                actor=personas.readonly, specs=[{"kind": "task", "subject": "No"}]
            )
        with pytest.raises(Forbidden):
            services.activity_prepare(actor=personas.readonly, kind="task", subject="No")
        with pytest.raises(Forbidden):
            services.activities_create_many(
                actor=personas.rep_a,
                specs=[
                    {"kind": "task", "subject": "Mine"},
                    {"kind": "task", "subject": "Theirs", "owner": personas.rep_c},
                ],
            )
        assert not Activity.objects.exists()

    def test_a_link_to_a_record_the_actor_does_not_see_is_not_found(self, personas, contact_of):
        hidden = contact_of(personas.rep_c)
        with pytest.raises(NotFound):
            services.activities_create_many(
                actor=personas.rep_a,
                specs=[{"kind": "task", "subject": "Peek", "contact": hidden}],
            )
        with pytest.raises(NotFound):
            services.activity_prepare(
                actor=personas.rep_a, kind="task", subject="Peek", contact=hidden
            )
        assert not Activity.objects.exists()


def test_preparing_an_activity_only_reads(personas):
    # The automation worker runs `activity_prepare` without a savepoint of its own: it
    # must write nothing (an error after a write would leave the write behind).
    lead = lead_create(actor=personas.rep_a, first_name="Ali", source="web_form")
    with CaptureQueriesContext(connection) as queries:
        services.activity_prepare(
            actor=personas.rep_a,
            kind="call",
            subject="Call Ali",
            owner=personas.rep_a,
            lead=lead,
            due_at=T0 + HOUR,
            idempotency_key="auto:k",
        )
        with pytest.raises(Invalid):
            services.activity_prepare(actor=personas.rep_a, kind="call", subject="")
    statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert statements, "expected the checks to read"
    assert all(sql.startswith("SELECT") for sql in statements), statements
