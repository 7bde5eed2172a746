"""Writes on activities: tasks, calls, meetings, notes, e-mails and SMS.

Who may change an activity is the visibility rule's `can_write`: its assignee (owner), a
manager of its team, an administrator, or a user it is shared with for writing. The user
who created it gets no extra right: once a manager gives the task to someone else, the
creator (if a rep) no longer sees it, like any record that changed hands. Read-only users
never write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.core import events
from wasl.core.audit import diff, json_value, record_audit, snapshot
from wasl.core.errors import Conflict, FieldErrors, Invalid, NotFound
from wasl.core.models import AuditEntry
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
