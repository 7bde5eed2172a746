"""What a rule's actions do. Every write goes through the owning app's service, acting as
the automation user; messages and webhook calls become keyed rows sent by their own jobs
after the run commits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from wasl.accounts.models import Team, User
from wasl.activities.models import Activity
from wasl.activities.services import (
    PLANNED_KINDS,
    PreparedActivity,
    activities_save_prepared,
    activity_create,
    activity_prepare,
    activity_update,
)
from wasl.automation import schema
from wasl.automation.models import (
    AssignmentCursor,
    AutomationRun,
    OutgoingMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from wasl.automation.templating import render
from wasl.automation.timing import due_after
from wasl.contacts.services import COMPANY_FIELDS, CONTACT_FIELDS, company_update, contact_update
from wasl.core.audit import json_value
from wasl.deals.models import Stage
from wasl.deals.services import deal_move_to_stage, deal_update
from wasl.leads.services import LEAD_FIELDS, lead_update
from wasl.notifications.services import notification_create


class ActionError(Exception):
    """An action that cannot be done for this record (told in the run log, not retried)."""


# Fields an `update_field` action may set, per kind of record.
UPDATABLE_FIELDS: dict[str, list[str]] = {
    "contact": list(CONTACT_FIELDS),
    "company": list(COMPANY_FIELDS),
    "lead": [*LEAD_FIELDS, "status", "score"],
    "deal": ["title", "amount", "currency", "expected_close", "probability", "source", "notes"],
    "activity": ["subject", "body", "location"],
}


@dataclass
class Step:
    """What one action needs to know about the run it belongs to."""

    rule: Any
    record: Any
    kind: str
    context: dict[str, Any]
    actor: Any
    moment: Any  # when the trigger happened: due times count from here
    key: str  # unique per run and action: the idempotency key of what it creates
    run: AutomationRun | None
    dry_run: bool
    followups: list[Callable[[], None]] = field(default_factory=list)
    # Where created activities wait for the chunk's bulk write (None: written at once).
    pending: PendingActivities | None = None
    # The run being logged (also when it is written after its actions).
    log: AutomationRun | None = None


@dataclass
class _Queued:
    prepared: PreparedActivity
    actor: Any


class PendingActivities:
    """Activities that the rule runs of a worker's chunk create, checked and validated when
    the action runs, and the runs' log rows, written together by `flush` (one INSERT each
    for activities, audit rows, events and runs). What a savepoint that rolls back had
    queued is dropped with it (`scope`); a key queued twice gives the first activity, as
    `activity_create` does."""

    def __init__(self) -> None:
        self.items: list[_Queued] = []
        self.by_key: dict[str, _Queued] = {}
        # (queued activity, the run log detail naming it, its run), to correct the log if
        # the key turns out to be taken already.
        self.logs: list[tuple[_Queued, dict[str, Any], AutomationRun | None]] = []
        self.runs: list[AutomationRun] = []
        self.run_keys: set[str] = set()

    def add(self, actor: Any, spec: dict[str, Any]) -> _Queued:
        key = spec.get("idempotency_key")
        queued = self.by_key.get(key) if key else None
        if queued is not None:
            return queued
        queued = _Queued(activity_prepare(actor=actor, **spec), actor)
        self.items.append(queued)
        if queued.prepared.activity.idempotency_key:
            self.by_key[queued.prepared.activity.idempotency_key] = queued
        return queued

    def log(self, queued: _Queued, detail: dict[str, Any], run: AutomationRun | None) -> None:
        self.logs.append((queued, detail, run))

    def add_run(self, run: AutomationRun) -> None:
        """Queue an unsaved run row (its key was checked free when the chunk loaded)."""
        self.runs.append(run)
        if run.key:
            self.run_keys.add(run.key)

    def has_run(self, key: str) -> bool:
        return key in self.run_keys

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Drop what was queued inside if it ends with an error (its savepoint rolls back)."""
        marks = len(self.items), len(self.logs), len(self.runs)
        try:
            yield
        except BaseException:
            for queued in self.items[marks[0] :]:
                self.by_key.pop(queued.prepared.activity.idempotency_key or "", None)
            for run in self.runs[marks[2] :]:
                self.run_keys.discard(run.key or "")
            del self.items[marks[0] :]
            del self.logs[marks[1] :]
            del self.runs[marks[2] :]
            raise

    def open_counts(self, users: list[User]) -> dict[int, int]:
        """Open tasks, calls and meetings queued for each of `users` and not yet written
        (those whose key is taken already are not new)."""
        ids = {user.pk for user in users}
        mine = [
            q.prepared.activity
            for q in self.items
            if q.prepared.activity.owner_id in ids
            and q.prepared.activity.done_at is None
            and q.prepared.activity.kind in PLANNED_KINDS
        ]
        if not mine:
            return {}
        keys = [a.idempotency_key for a in mine if a.idempotency_key]
        taken = set(
            Activity.objects.filter(idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        counts: dict[int, int] = {}
        for activity in mine:
            if activity.idempotency_key not in taken:
                counts[activity.owner_id] = counts.get(activity.owner_id, 0) + 1
        return counts

    def flush(self) -> int:
        """Write what is queued; correct the run logs of keys found taken, then write the
        queued runs. Returns how many activities were queued."""
        items, logs, runs = self.items, self.logs, self.runs
        self.items, self.by_key, self.logs = [], {}, []
        self.runs, self.run_keys = [], set()
        self._write_activities(items, logs)
        if runs:
            # A key taken since the chunk loaded (another worker) raises IntegrityError:
            # the worker undoes the chunk and runs it again job by job.
            AutomationRun.objects.bulk_create(runs)
        return len(items)

    def _write_activities(
        self,
        items: list[_Queued],
        logs: list[tuple[_Queued, dict[str, Any], AutomationRun | None]],
    ) -> None:
        if not items:
            return
        groups: dict[int | None, list[_Queued]] = {}
        for queued in items:
            groups.setdefault(getattr(queued.actor, "pk", None), []).append(queued)
        written: dict[int, Any] = {}
        for group in groups.values():
            saved = activities_save_prepared(
                actor=group[0].actor, prepared=[q.prepared for q in group]
            )
            for queued, activity in zip(group, saved, strict=True):
                written[id(queued)] = activity
        saved_runs: dict[int, AutomationRun] = {}
        for queued, detail, run in logs:
            activity = written[id(queued)]
            if activity is not queued.prepared.activity:
                detail["activity_id"] = str(activity.public_id)
                if run is not None and run.pk is not None:
                    saved_runs[run.pk] = run
        for run in saved_runs.values():
            AutomationRun.objects.filter(pk=run.pk).update(outcomes=run.outcomes)


def defers_writes(action: Any, step: Step) -> bool:
    """Whether the action, as configured, writes nothing itself and only queues what it
    creates for the chunk's bulk write (dropped by `PendingActivities.scope` if it fails),
    so that it needs no savepoint of its own: a task given to anyone but a round robin
    (which moves its cursor). `activity_prepare` only reads; a test keeps it so."""
    if step.pending is None or step.dry_run or action.type != "create_activity":
        return False
    return not (action.assign.to == "role" and action.assign.strategy == "round_robin")


def short_key(prefix: str, key: str, limit: int = 120) -> str:
    text = f"{prefix}:{key}"
    if len(text) <= limit:
        return text
    return f"{prefix}:h:" + hashlib.sha256(key.encode()).hexdigest()[:48]


def _user_ref(user: Any) -> dict[str, Any]:
    return {"id": str(user.public_id), "username": user.username, "name": str(user)}


def _owner(step: Step) -> Any:
    return getattr(step.record, "owner", None)


def _team_of(step: Step, team_id: str | None) -> Team | None:
    if team_id:
        team = Team.objects.filter(public_id=team_id).first()
        if team is None:
            raise ActionError(_("The team of this rule no longer exists."))
        return team
    owner = _owner(step)
    return owner.team if owner is not None and owner.team_id else None


def _pool(team: Team, role: str) -> list[User]:
    return list(User.objects.filter(team=team, role=role, is_active=True).order_by("pk"))


def _round_robin(step: Step, team: Team, role: str, pool: list[User]) -> User:
    name = f"team:{team.pk}:role:{role}"
    if step.dry_run:
        cursor = AssignmentCursor.objects.filter(pool=name).first()
        last = cursor.last_user_id if cursor else 0
    else:
        cursor, _created = AssignmentCursor.objects.get_or_create(pool=name)
        cursor = AssignmentCursor.objects.select_for_update().get(pk=cursor.pk)
        last = cursor.last_user_id
    chosen = next((u for u in pool if u.pk > last), pool[0])
    if not step.dry_run:
        AssignmentCursor.objects.filter(pk=cursor.pk).update(last_user_id=chosen.pk)
    return chosen


def _least_loaded(pool: list[User], step: Step) -> User:
    loads = dict(
        Activity.objects.filter(owner__in=pool, done_at__isnull=True, kind__in=list(PLANNED_KINDS))
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    if step.pending is not None:
        # Tasks given earlier in the chunk are not written yet, but they count.
        for owner_id, count in step.pending.open_counts(pool).items():
            loads[owner_id] = loads.get(owner_id, 0) + count
    return min(pool, key=lambda u: (loads.get(u.pk, 0), u.pk))


def choose_assignee(spec: schema.Assignee, step: Step) -> User:
    """The user an action gives something to (see `schema.Assignee`)."""
    owner = _owner(step)
    if spec.to == "owner":
        if owner is None or not owner.is_active:
            raise ActionError(_("The record's owner is not an active user."))
        return owner
    if spec.to == "user":
        user = User.objects.filter(public_id=spec.user_id, is_active=True).first()
        if user is None:
            raise ActionError(_("The user named in this rule is not active."))
        return user
    if spec.to == "manager":
        team = owner.team if owner is not None and owner.team_id else None
        manager = team.manager if team is not None else None
        if manager is None or not manager.is_active:
            raise ActionError(_("The owner's team has no active manager."))
        return manager
    team = _team_of(step, spec.team_id)
    if team is None:
        raise ActionError(_("The owner has no team to choose from."))
    role = spec.role or "rep"
    pool = _pool(team, role)
    if not pool:
        raise ActionError(
            _("Nobody has the role %(role)s in team %(team)s.") % {"role": role, "team": team}
        )
    if spec.strategy == "least_loaded":
        return _least_loaded(pool, step)
    return _round_robin(step, team, role, pool)


def _links(step: Step) -> dict[str, Any]:
    if step.kind == "activity":
        return {name: getattr(step.record, name) for name in ("contact", "company", "lead", "deal")}
    if step.kind in ("contact", "company", "lead", "deal"):
        return {step.kind: step.record}
    return {}


def create_activity(action: schema.CreateActivity, step: Step) -> dict[str, Any]:
    subject = render(action.subject, step.context)[:300] or action.kind
    body = render(action.body, step.context) if action.body else ""
    owner = choose_assignee(action.assign, step)
    due = None
    if action.due is not None:
        due = due_after(step.moment, action.due.amount, action.due.unit, action.due.business_hours)
    plan = {
        "kind": action.kind,
        "subject": subject,
        "assignee": _user_ref(owner),
        "due_at": json_value(due),
    }
    if step.dry_run:
        return plan
    spec = {
        "kind": action.kind,
        "subject": subject,
        "body": body,
        "due_at": due,
        "owner": owner,
        "idempotency_key": short_key("auto", step.key),
        **_links(step),
    }
    if step.pending is not None:
        queued = step.pending.add(step.actor, spec)
        detail = {**plan, "activity_id": str(queued.prepared.activity.public_id)}
        step.pending.log(queued, detail, step.log)
        return detail
    activity = activity_create(actor=step.actor, **spec)
    return {**plan, "activity_id": str(activity.public_id)}


def _update(step: Step, **changes: Any) -> None:
    kind, record, actor = step.kind, step.record, step.actor
    if kind == "contact":
        contact_update(actor=actor, contact=record, **changes)
    elif kind == "company":
        company_update(actor=actor, company=record, **changes)
    elif kind == "lead":
        lead_update(actor=actor, lead=record, **changes)
    elif kind == "deal":
        deal_update(actor=actor, deal=record, **changes)
    elif kind == "activity" and set(changes) <= {"owner", *UPDATABLE_FIELDS["activity"]}:
        activity_update(actor=actor, activity=record, **changes)
    else:
        raise ActionError(_("This action does not apply to this kind of record."))


def assign_owner(action: schema.AssignOwner, step: Step) -> dict[str, Any]:
    owner = choose_assignee(action.assign, step)
    plan = {"owner": _user_ref(owner)}
    if not step.dry_run and owner.pk != step.record.owner_id:
        _update(step, owner=owner)
    return plan


def update_field(action: schema.UpdateField, step: Step) -> dict[str, Any]:
    value = action.value
    if isinstance(value, str):
        value = render(value, step.context)
    plan = {"field": action.field, "value": value}
    if action.field.startswith("custom."):
        if step.kind == "activity":
            raise ActionError(_("Activities have no custom fields."))
        if not step.dry_run:
            _update(step, custom={action.field.split(".", 1)[1]: value})
        return plan
    if action.field not in UPDATABLE_FIELDS.get(step.kind, []):
        raise ActionError(_("The field %(field)s cannot be set here.") % {"field": action.field})
    if not step.dry_run:
        _update(step, **{action.field: value})
    return plan


def move_stage(action: schema.MoveStage, step: Step) -> dict[str, Any]:
    if step.kind != "deal":
        raise ActionError(_("Only deals move between stages."))
    stage = Stage.objects.filter(public_id=action.stage_id).first()
    if stage is None:
        raise ActionError(_("The stage of this rule no longer exists."))
    plan = {"stage": stage.name, "stage_id": str(stage.public_id)}
    if not step.dry_run:
        deal_move_to_stage(actor=step.actor, deal=step.record, stage=stage)
    return plan


def _change_tags(step: Step, tag: str, add: bool) -> dict[str, Any]:
    if step.kind == "activity":
        raise ActionError(_("Activities have no tags."))
    current = list(step.context.get("record", {}).get("tags", []))
    wanted = render(tag, step.context)
    lowered = [t.casefold() for t in current]
    if add:
        names = current if wanted.casefold() in lowered else [*current, wanted]
    else:
        names = [t for t in current if t.casefold() != wanted.casefold()]
    plan = {"tag": wanted, "tags": names}
    if not step.dry_run and names != current:
        _update(step, tags=names)
        step.context["record"]["tags"] = names
    return plan


def add_tag(action: schema.AddTag, step: Step) -> dict[str, Any]:
    return _change_tags(step, action.tag, add=True)


def remove_tag(action: schema.RemoveTag, step: Step) -> dict[str, Any]:
    return _change_tags(step, action.tag, add=False)


def _queue_message(step: Step, channel: str, to: str, subject: str, body: str) -> dict[str, Any]:
    from wasl.automation import tasks
    from wasl.automation.jobs import enqueue

    plan = {"channel": channel, "to": to, "subject": subject, "body": body}
    if step.dry_run:
        return plan
    message, created = OutgoingMessage.objects.get_or_create(
        key=short_key("msg", step.key, 200),
        defaults={"channel": channel, "to": to, "subject": subject, "body": body, "run": step.run},
    )
    if created:
        enqueue(tasks.send_message, message_id=message.pk)
    return {**plan, "message_id": str(message.public_id)}


def send_email(action: schema.SendEmail, step: Step) -> dict[str, Any]:
    if action.to == "owner":
        to = step.context.get("owner", {}).get("email", "")
    elif action.to == "address":
        to = render(action.address or "", step.context)
    else:
        record = step.context.get("record", {})
        to = record.get("email") or step.context.get("contact", {}).get("email", "")
    if not to or "@" not in to:
        raise ActionError(_("There is no e-mail address to write to."))
    subject = render(action.subject, step.context)[:300]
    return _queue_message(step, "email", to, subject, render(action.body, step.context))


def send_sms(action: schema.SendSms, step: Step) -> dict[str, Any]:
    if action.to == "number":
        to = render(action.number or "", step.context)
    else:
        record = step.context.get("record", {})
        to = record.get("phone") or step.context.get("contact", {}).get("phone", "")
    if not to:
        raise ActionError(_("There is no phone number to send to."))
    return _queue_message(step, "sms", to, "", render(action.text, step.context)[:1000])


def _recipients(spec: schema.Recipient, step: Step) -> list[User]:
    owner = _owner(step)
    if spec.to in ("owner", "assignee"):
        return [owner] if owner is not None else []
    if spec.to == "manager":
        team = owner.team if owner is not None and owner.team_id else None
        return [team.manager] if team is not None and team.manager is not None else []
    if spec.to == "user":
        return list(User.objects.filter(public_id=spec.user_id))
    team = owner.team if owner is not None and owner.team_id else None
    return _pool(team, spec.role or "rep") if team is not None else []


def notify(action: schema.Notify, step: Step) -> dict[str, Any]:
    title = render(action.message, step.context)[:300]
    people: dict[int, User] = {}
    for spec in action.recipients:
        for user in _recipients(spec, step):
            people.setdefault(user.pk, user)
    record = step.record if step.kind else None
    told, skipped = [], []
    for user in people.values():
        if step.dry_run:
            from wasl.core.visibility import can_see

            visible = user.is_active and (record is None or can_see(user, record))
            (told if visible else skipped).append(user.username)
            continue
        note = notification_create(
            recipient=user,
            title=title,
            record=record,
            key=short_key("note", f"{step.key}:{user.pk}", 200),
        )
        (told if note is not None else skipped).append(user.username)
    return {"message": title, "notified": told, "skipped": skipped}


def webhook_payload(step: Step) -> dict[str, Any]:
    return json_value(
        {
            "rule": {"id": str(step.rule.public_id), "name": step.rule.name},
            "trigger": step.rule.trigger.get("type"),
            "occurred_at": step.moment,
            "record": {"kind": step.kind, **step.context.get("record", {})} if step.kind else None,
        }
    )


def call_webhook(action: schema.CallWebhook, step: Step) -> dict[str, Any]:
    from wasl.automation import tasks
    from wasl.automation.jobs import enqueue

    endpoint = WebhookEndpoint.objects.filter(public_id=action.webhook_id, is_active=True).first()
    if endpoint is None:
        raise ActionError(_("The webhook of this rule is missing or switched off."))
    plan = {"webhook": endpoint.name, "url": endpoint.url}
    if step.dry_run:
        return plan
    delivery, created = WebhookDelivery.objects.get_or_create(
        key=short_key("hook", step.key, 200),
        defaults={"endpoint": endpoint, "payload": webhook_payload(step), "run": step.run},
    )
    if created:
        enqueue(tasks.deliver_webhook, delivery_id=delivery.pk)
    return {**plan, "delivery_id": str(delivery.public_id)}


def generate_document(action: schema.GenerateDocument, step: Step) -> dict[str, Any]:
    raise ActionError(_("Generating documents is not available yet."))


ACTIONS: dict[str, Callable[[Any, Step], dict[str, Any]]] = {
    "create_activity": create_activity,
    "assign_owner": assign_owner,
    "update_field": update_field,
    "move_stage": move_stage,
    "add_tag": add_tag,
    "remove_tag": remove_tag,
    "send_email": send_email,
    "send_sms": send_sms,
    "notify": notify,
    "webhook": call_webhook,
    "generate_document": generate_document,
}
