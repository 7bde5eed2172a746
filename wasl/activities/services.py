"""Writes on activities: tasks, calls, meetings, notes, e-mails and SMS.

Who may change an activity is the visibility rule's `can_write`: its assignee (owner), a
manager of its team, an administrator, or a user it is shared with for writing. The user
who created it gets no extra right: once a manager gives the task to someone else, the
creator (if a rep) no longer sees it, like any record that changed hands. Read-only users
never write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.core import events
from wasl.core.audit import diff, json_value, record_audit, snapshot
from wasl.core.errors import Conflict, FieldErrors, Invalid, NotFound
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.core.validation import UNSET, model_field_errors
from wasl.core.visibility import can_see, require_assign_to, require_can_create, require_write

# Kinds that are planned and then done; the others record something that happened.
PLANNED_KINDS = frozenset({Activity.Kind.TASK, Activity.Kind.CALL, Activity.Kind.MEETING})
LINKS = ("contact", "company", "lead", "deal")
EDITABLE_FIELDS = [
    "subject",
    "body",
    "due_at",
    "ends_at",
    "done_at",
    "location",
    "direction",
    "duration_seconds",
    "outcome",
]
_AUDITED = ["kind", *EDITABLE_FIELDS]
_AUDITED_REFS = ["owner", *LINKS]
_DIRECTED_KINDS = frozenset({Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.SMS})


def _aware(value: Any) -> Any:
    """Times without a zone are taken as UTC (the stored zone), never as server-local."""
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value, dt.UTC)
    return value


def _check_links(actor: Any, links: dict[str, Any]) -> None:
    """Every record an activity is linked to must be visible to the actor (else not found)."""
    if actor is None:
        return
    for record in links.values():
        if record is not None and not can_see(actor, record):
            raise NotFound()


def _validate(activity: Activity, errors: FieldErrors) -> None:
    """The rules of each kind, on the activity as it would be saved."""
    model_field_errors(
        activity,
        errors,
        exclude=["owner", "team", "custom", "created_by", *LINKS],
    )
    kind = activity.kind
    if kind not in Activity.Kind.values:
        return
    if kind != Activity.Kind.CALL:
        if activity.outcome:
            errors.add("outcome", _("Only a call has an outcome."))
        if activity.duration_seconds is not None:
            errors.add("duration_seconds", _("Only a call has a duration."))
    if kind not in _DIRECTED_KINDS and activity.direction:
        errors.add("direction", _("Only calls, e-mails and SMS have a direction."))
    if kind == Activity.Kind.NOTE and activity.due_at is not None:
        errors.add("due_at", _("A note has no due date."))
    if kind == Activity.Kind.MEETING:
        if activity.ends_at is not None:
            if activity.due_at is None:
                errors.add("due_at", _("Give the meeting's start time."))
            elif activity.ends_at <= activity.due_at:
                errors.add("ends_at", _("A meeting ends after it starts."))
    elif activity.ends_at is not None:
        errors.add("ends_at", _("Only a meeting has an end time."))


def _event_data(activity: Activity, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": activity.public_id, "kind": activity.kind}
    for name in LINKS:
        record = getattr(activity, name)
        if record is not None:
            data[f"{name}_id"] = record.public_id
    data.update(extra)
    return data


def _audit_values(activity: Activity) -> dict[str, Any]:
    """Field values, with the assignee and links by public id (integer keys stay inside)."""
    values = snapshot(activity, _AUDITED)
    for name in _AUDITED_REFS:
        values[name] = json_value(getattr(activity, name))
    return values


def _filled(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _locked(activity: Activity) -> Activity:
    # `of=("self",)` keeps PostgreSQL from also locking the joined owner and linked records.
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("owner", *LINKS)
        .get(pk=activity.pk)
    )


def _prepare(
    actor: Any,
    *,
    kind: str,
    subject: str,
    body: str = "",
    due_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    done_at: dt.datetime | None = None,
    owner: Any = None,
    contact: Any = None,
    company: Any = None,
    lead: Any = None,
    deal: Any = None,
    direction: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    location: str = "",
    key: str | None = None,
) -> Activity:
    """The unsaved activity `activity_create` would write, after its assignee, link and
    field checks (the actor's right to create and the key are the caller's)."""
    chosen = owner if owner is not None else actor
    if chosen is None:
        raise Invalid({"owner_id": [_("Choose who the activity is assigned to.")]})
    if actor is not None:
        require_assign_to(actor, chosen)
    links = {"contact": contact, "company": company, "lead": lead, "deal": deal}
    _check_links(actor, links)
    activity = Activity(
        kind=kind,
        subject=(subject or "").strip(),
        body=body or "",
        due_at=_aware(due_at),
        ends_at=_aware(ends_at),
        done_at=_aware(done_at),
        location=(location or "").strip(),
        direction=direction or "",
        duration_seconds=duration_seconds,
        outcome=outcome or "",
        owner=chosen,
        team_id=chosen.team_id,
        created_by=actor,
        idempotency_key=key,
        **links,
    )
    errors = FieldErrors()
    _validate(activity, errors)
    errors.raise_if_any()
    if activity.kind not in PLANNED_KINDS and activity.done_at is None:
        activity.done_at = timezone.now()
    return activity


def activity_create(
    *,
    actor: Any,
    kind: str,
    subject: str,
    body: str = "",
    due_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    done_at: dt.datetime | None = None,
    owner: Any = None,
    contact: Any = None,
    company: Any = None,
    lead: Any = None,
    deal: Any = None,
    direction: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    location: str = "",
    idempotency_key: str | None = None,
) -> Activity:
    """Create an activity assigned to `owner` (default: the actor), linked to records the
    actor sees. Notes, e-mails and SMS are logged as done (at `done_at`, default now).

    With an `idempotency_key` already used, returns that activity unchanged. Raises
    Invalid (nothing written), Forbidden, NotFound (a linked record not visible) or
    Conflict (the key belongs to an activity the actor does not see)."""
    if actor is not None:
        require_can_create(actor)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        existing = _existing_for_key(actor, key)
        if existing is not None:
            return existing
    activity = _prepare(
        actor,
        kind=kind,
        subject=subject,
        body=body,
        due_at=due_at,
        ends_at=ends_at,
        done_at=done_at,
        owner=owner,
        contact=contact,
        company=company,
        lead=lead,
        deal=deal,
        direction=direction,
        duration_seconds=duration_seconds,
        outcome=outcome,
        location=location,
        key=key,
    )
    try:
        with transaction.atomic():
            activity.save()
            record_audit(
                actor=actor,
                action=AuditEntry.Action.CREATE,
                record=activity,
                changes=diff({}, _filled(_audit_values(activity))),
            )
            events.emit("activity.created", activity, actor, _event_data(activity))
    except IntegrityError:
        # Two requests raced with the same key: the loser answers with the winner's row.
        if key is None:
            raise
        existing = _existing_for_key(actor, key)
        if existing is None:
            raise
        return existing
    return activity


def _existing_for_key(actor: Any, key: str) -> Activity | None:
    existing = Activity.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if actor is not None and not can_see(actor, existing):
        raise Conflict(_("This idempotency key is already used."))
    return existing


@dataclass(frozen=True)
class PreparedActivity:
    """An activity checked and validated as `activity_create` would, not written yet, with
    the event causation in force when it was prepared (its `activity.created` carries it)."""

    activity: Activity
    causation: dict[str, Any] | None


def activity_prepare(
    *, actor: Any, idempotency_key: str | None = None, **fields: Any
) -> PreparedActivity:
    """Check and validate an activity exactly as `activity_create` does (same arguments),
    without writing it or looking its key up: `activities_save_prepared` does both for many
    at once. Raises Forbidden, Invalid or NotFound as `activity_create` would."""
    if actor is not None:
        require_can_create(actor)
    key = (idempotency_key or "").strip() or None
    return PreparedActivity(_prepare(actor, key=key, **fields), events.causation.get())


def activities_create_many(*, actor: Any, specs: Sequence[Mapping[str, Any]]) -> list[Activity]:
    """Create many activities as `activity_create` would one after the other (each spec is
    its keyword arguments): the same checks, rows, audit rows and `activity.created` events,
    with one query for the keys and one INSERT each for activities, audit rows and events.

    A key already used, in the database or by an earlier spec, gives that activity back
    (unvalidated, as `activity_create` does). All or nothing: raises as `activity_create`
    would for the first spec that fails, before writing anything."""
    if actor is not None:
        require_can_create(actor)
    keys = [(spec.get("idempotency_key") or "").strip() or None for spec in specs]
    existing = _existing_for_keys(actor, {key for key in keys if key is not None})
    fresh: list[PreparedActivity] = []
    first: dict[str, Activity] = {}
    results: list[Activity] = []
    for spec, key in zip(specs, keys, strict=True):
        if key is not None and key in existing:
            results.append(existing[key])
            continue
        if key is not None and key in first:
            results.append(first[key])
            continue
        fields = {name: value for name, value in spec.items() if name != "idempotency_key"}
        item = PreparedActivity(_prepare(actor, key=key, **fields), events.causation.get())
        if key is not None:
            first[key] = item.activity
        fresh.append(item)
        results.append(item.activity)
    replaced = _write_many(actor, fresh)
    return [replaced.get(id(activity), activity) for activity in results]


def activities_save_prepared(*, actor: Any, prepared: Sequence[PreparedActivity]) -> list[Activity]:
    """Write activities from `activity_prepare` (by the same actor) with their audit rows
    and events, one INSERT each, after one query for their keys. Returns them in order; a
    key already used, in the database or earlier in `prepared`, gives that activity back
    instead. Raises Conflict if such an activity is one the actor does not see."""
    if actor is not None:
        require_can_create(actor)
    existing = _existing_for_keys(
        actor, {i.activity.idempotency_key for i in prepared if i.activity.idempotency_key}
    )
    fresh: list[PreparedActivity] = []
    first: dict[str, Activity] = {}
    results: list[Activity] = []
    for item in prepared:
        key = item.activity.idempotency_key
        if key is not None:
            found = existing.get(key) or first.get(key)
            if found is not None:
                results.append(found)
                continue
            first[key] = item.activity
        fresh.append(item)
        results.append(item.activity)
    replaced = _write_many(actor, fresh)
    return [replaced.get(id(activity), activity) for activity in results]


def _existing_for_keys(actor: Any, keys: set[str]) -> dict[str, Activity]:
    found: dict[str, Activity] = {}
    ordered = sorted(keys)
    # Slices keep the IN list under SQLite's variable limit.
    for start in range(0, len(ordered), 500):
        for activity in Activity.objects.filter(idempotency_key__in=ordered[start : start + 500]):
            if actor is not None and not can_see(actor, activity):
                raise Conflict(_("This idempotency key is already used."))
            found[activity.idempotency_key or ""] = activity
    return found


def _write_many(actor: Any, items: list[PreparedActivity]) -> dict[int, Activity]:
    """Insert the activities, audit rows and events; returns, by `id()` of a prepared
    activity, the row that won a race for its key (then it is not written)."""
    if not items:
        return {}
    try:
        with transaction.atomic():
            _insert_many(actor, items)
        return {}
    except IntegrityError:
        if all(item.activity.idempotency_key is None for item in items):
            raise
    # Another transaction took one of the keys meanwhile: write one by one, and answer
    # with the winner's row for a key taken, as `activity_create` does.
    replaced: dict[int, Activity] = {}
    for item in items:
        _unsaved(item.activity)
        try:
            with transaction.atomic():
                _insert_many(actor, [item])
        except IntegrityError:
            key = item.activity.idempotency_key
            winner = _existing_for_key(actor, key) if key is not None else None
            if winner is None:
                raise
            _unsaved(item.activity)
            replaced[id(item.activity)] = winner
    return replaced


def _unsaved(activity: Activity) -> None:
    activity.pk = None
    activity._state.adding = True


def _insert_many(actor: Any, items: list[PreparedActivity]) -> None:
    activities = [item.activity for item in items]
    Activity.objects.bulk_create(activities)
    content_type = ContentType.objects.get_for_model(Activity)
    actor_id = getattr(actor, "pk", None)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor_id=actor_id,
                action=AuditEntry.Action.CREATE,
                content_type=content_type,
                object_id=activity.pk,
                object_public_id=activity.public_id,
                object_repr=str(activity)[:300],
                changes=json_value(diff({}, _filled(_audit_values(activity)))),
                data={},
            )
            for activity in activities
        ]
    )
    rows = []
    for item in items:
        # As `events.emit` writes it, with the causation of the moment it was prepared.
        payload = _event_data(item.activity)
        if item.causation is not None:
            payload.setdefault("causation", item.causation)
        rows.append(
            OutboxEvent(
                name="activity.created",
                content_type=content_type,
                object_id=item.activity.pk,
                actor_id=actor_id,
                data=json_value(payload),
            )
        )
    OutboxEvent.objects.bulk_create(rows)


def activity_update(
    *,
    actor: Any,
    activity: Activity,
    owner: Any = UNSET,
    contact: Any = UNSET,
    company: Any = UNSET,
    lead: Any = UNSET,
    deal: Any = UNSET,
    **fields: Any,
) -> Activity:
    """Change the fields given (others stay); links given replace the old ones (None
    unlinks). The kind never changes; tasks, calls and meetings are completed and reopened
    with their own services. Locks the row, validates first, audits old and new values."""
    if actor is not None:
        require_write(actor, activity)
    errors = FieldErrors()
    for name in sorted(set(fields) - set(EDITABLE_FIELDS)):
        errors.add(name, _("This field cannot be changed."))
    if "done_at" in fields and activity.kind in PLANNED_KINDS:
        errors.add("done_at", _("Complete or reopen the activity instead."))
    errors.raise_if_any()
    links = {
        name: value
        for name, value in zip(LINKS, (contact, company, lead, deal), strict=True)
        if value is not UNSET
    }
    _check_links(actor, links)
    with transaction.atomic():
        activity = _locked(activity)
        before = _audit_values(activity)
        for name, value in fields.items():
            if name in ("subject", "location") and isinstance(value, str):
                value = value.strip()
            elif name in ("body", "direction", "outcome") and value is None:
                value = ""
            elif name in ("due_at", "ends_at", "done_at"):
                value = _aware(value)
            setattr(activity, name, value)
        for name, record in links.items():
            setattr(activity, name, record)
        if owner is not UNSET and owner is not None and owner.pk != activity.owner_id:
            if actor is not None:
                require_assign_to(actor, owner)
            activity.owner, activity.team_id = owner, owner.team_id
        if activity.kind not in PLANNED_KINDS and activity.done_at is None:
            errors.add("done_at", _("Say when it happened."))
        _validate(activity, errors)
        errors.raise_if_any()
        activity.save()
        changes = diff(before, _audit_values(activity))
        if changes:
            action = (
                AuditEntry.Action.ASSIGN if set(changes) == {"owner"} else AuditEntry.Action.UPDATE
            )
            record_audit(actor=actor, action=action, record=activity, changes=changes)
            events.emit(
                "activity.updated", activity, actor, _event_data(activity, fields=sorted(changes))
            )
    return activity


def _require_planned(activity: Activity) -> None:
    if activity.kind not in PLANNED_KINDS:
        raise Invalid({"kind": [_("Only tasks, calls and meetings are completed or reopened.")]})


def activity_complete(
    *, actor: Any, activity: Activity, done_at: dt.datetime | None = None, outcome: str = ""
) -> Activity:
    """Mark an open task, call or meeting done (at `done_at`, default now), with a call's
    outcome. Raises Conflict if it is already done (checked under a row lock)."""
    if actor is not None:
        require_write(actor, activity)
    _require_planned(activity)
    with transaction.atomic():
        activity = _locked(activity)
        if activity.done_at is not None:
            raise Conflict(_("This activity is already done."))
        before = _audit_values(activity)
        activity.done_at = _aware(done_at) or timezone.now()
        if outcome:
            activity.outcome = outcome
        errors = FieldErrors()
        _validate(activity, errors)
        errors.raise_if_any()
        activity.save(update_fields=["done_at", "outcome", "updated_at"])
        changes = diff(before, _audit_values(activity))
        record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=activity, changes=changes)
        events.emit(
            "activity.completed",
            activity,
            actor,
            _event_data(activity, done_at=activity.done_at, outcome=activity.outcome),
        )
    return activity


def activity_reopen(*, actor: Any, activity: Activity) -> Activity:
    """Make a done task, call or meeting open again. Raises Conflict if it is open."""
    if actor is not None:
        require_write(actor, activity)
    _require_planned(activity)
    with transaction.atomic():
        activity = _locked(activity)
        if activity.done_at is None:
            raise Conflict(_("This activity is not done."))
        before = _audit_values(activity)
        activity.done_at = None
        activity.save(update_fields=["done_at", "updated_at"])
        changes = diff(before, _audit_values(activity))
        record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=activity, changes=changes)
        events.emit(
            "activity.updated",
            activity,
            actor,
            _event_data(activity, fields=sorted(changes), reopened=True),
        )
    return activity


def activity_reschedule(*, actor: Any, activity: Activity, due_at: dt.datetime) -> Activity:
    """Move an open activity's due time; a meeting keeps its length. Raises Conflict if
    the activity is done, Invalid without a time."""
    if actor is not None:
        require_write(actor, activity)
    if due_at is None:
        raise Invalid({"due_at": [_("Give the new time.")]})
    due_at = _aware(due_at)
    with transaction.atomic():
        activity = _locked(activity)
        if activity.kind in PLANNED_KINDS and activity.done_at is not None:
            raise Conflict(_("Reopen a done activity before rescheduling it."))
        before = _audit_values(activity)
        if activity.ends_at is not None and activity.due_at is not None:
            activity.ends_at = due_at + (activity.ends_at - activity.due_at)
        activity.due_at = due_at
        errors = FieldErrors()
        _validate(activity, errors)
        errors.raise_if_any()
        activity.save(update_fields=["due_at", "ends_at", "updated_at"])
        changes = diff(before, _audit_values(activity))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=activity, changes=changes
            )
            events.emit(
                "activity.updated", activity, actor, _event_data(activity, fields=sorted(changes))
            )
    return activity


def activity_delete(*, actor: Any, activity: Activity) -> None:
    """Delete an activity; the audit row keeps every value it had."""
    if actor is not None:
        require_write(actor, activity)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=activity,
            changes=diff(_filled(_audit_values(activity)), {}),
        )
        events.emit("activity.deleted", activity, actor, _event_data(activity))
        activity.delete()
