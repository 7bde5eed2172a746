"""Writes of the automation app: rules, webhooks, parked jobs, and the bookkeeping of
workers and schedulers.

Administrators write rules and webhooks; managers read them (see `selectors`). Rules run
as the automation user (`engine.automation_user`), so they may change any record, while
their notifications reach only people who may see the record.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult
from pydantic import ValidationError

from wasl.accounts.models import Team, User
from wasl.automation import schema
from wasl.automation.actions import UPDATABLE_FIELDS
from wasl.automation.jobs import enqueue
from wasl.automation.models import (
    AutomationRun,
    FailedJob,
    Rule,
    SchedulerLease,
    WebhookEndpoint,
    WorkerHeartbeat,
)
from wasl.automation.templating import check
from wasl.automation.timing import CronError, parse_cron
from wasl.contacts.models import CustomFieldDefinition
from wasl.core.audit import diff, record_audit, snapshot
from wasl.core.errors import Conflict, FieldErrors, Invalid
from wasl.core.models import AuditEntry
from wasl.core.visibility import require_admin
from wasl.deals.models import Pipeline, Stage

_RULE_FIELDS = ["name", "description", "is_active", "trigger", "conditions", "actions"]
DATE_FIELDS = {
    "contact": {"birthday", "contract_end"},
    "company": {"contract_end"},
    "deal": {"expected_close"},
    "lead": set(),
}


def _admin(actor: Any) -> None:
    if actor is not None:
        require_admin(actor)


def _pydantic_errors(error: ValidationError, errors: FieldErrors) -> None:
    for item in error.errors():
        location = ".".join(str(p) for p in item.get("loc", ()))
        errors.add(location or "rule", item.get("msg", "invalid"))


def _check_references(document: schema.RuleDocument, errors: FieldErrors) -> None:
    """References and names the shapes cannot check: stages, users, webhooks, fields."""
    trigger = document.trigger
    entity = schema.entity_of(trigger)
    if isinstance(trigger, schema.StageEntered | schema.StageLeft) and not (
        Stage.objects.filter(public_id=_uuid(trigger.stage_id)).exists()
    ):
        errors.add("trigger.stage_id", _("No such stage."))
    if (
        isinstance(trigger, schema.DealWon | schema.DealLost)
        and trigger.pipeline_id
        and not Pipeline.objects.filter(public_id=_uuid(trigger.pipeline_id)).exists()
    ):
        errors.add("trigger.pipeline_id", _("No such pipeline."))
    if isinstance(trigger, schema.DateReached):
        field = trigger.field
        if field.startswith("custom."):
            key = field.split(".", 1)[1]
            if not CustomFieldDefinition.objects.filter(
                entity=trigger.entity, key=key, kind=CustomFieldDefinition.Kind.DATE
            ).exists():
                errors.add("trigger.field", _("No custom date field with this key."))
        elif field not in DATE_FIELDS[trigger.entity]:
            errors.add("trigger.field", _("This record has no such date."))
    if isinstance(trigger, schema.Schedule):
        try:
            parse_cron(trigger.cron)
        except CronError as error:
            errors.add("trigger.cron", str(error))
    for index, action in enumerate(document.actions):
        where = f"actions.{index}"
        for name in ("subject", "body", "message", "text", "address", "number", "tag"):
            value = getattr(action, name, None)
            if isinstance(value, str):
                try:
                    check(value, f"{where}.{name}")
                except Invalid as error:
                    for message in error.fields.get(f"{where}.{name}", []):
                        errors.add(f"{where}.{name}", message)
        if isinstance(action, schema.UpdateField) and isinstance(action.value, str):
            try:
                check(action.value, f"{where}.value")
            except Invalid as error:
                errors.add(f"{where}.value", str(error.fields))
        assignees = [getattr(action, "assign", None)]
        assignees += [r for r in getattr(action, "recipients", []) or []]
        for spec in assignees:
            if spec is None:
                continue
            user_id = getattr(spec, "user_id", None)
            if user_id and not User.objects.filter(public_id=_uuid(user_id)).exists():
                errors.add(f"{where}.user_id", _("No such user."))
            team_id = getattr(spec, "team_id", None)
            if team_id and not Team.objects.filter(public_id=_uuid(team_id)).exists():
                errors.add(f"{where}.team_id", _("No such team."))
        if isinstance(action, schema.MoveStage):
            if entity != "deal":
                errors.add(where, _("Only deals move between stages."))
            if not Stage.objects.filter(public_id=_uuid(action.stage_id)).exists():
                errors.add(f"{where}.stage_id", _("No such stage."))
        if (
            isinstance(action, schema.UpdateField)
            and entity
            and not action.field.startswith("custom.")
            and action.field not in UPDATABLE_FIELDS.get(entity, [])
        ):
            errors.add(f"{where}.field", _("This field cannot be set by a rule."))
        if (
            isinstance(action, schema.CallWebhook)
            and not WebhookEndpoint.objects.filter(public_id=_uuid(action.webhook_id)).exists()
        ):
            errors.add(f"{where}.webhook_id", _("No such webhook."))


def _uuid(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)


def _clean_rule(values: dict[str, Any], errors: FieldErrors) -> schema.RuleDocument | None:
    name = " ".join(str(values.get("name") or "").split())
    if not name:
        errors.add("name", _("Name the rule."))
    elif len(name) > 200:
        errors.add("name", _("At most 200 characters."))
    values["name"] = name
    try:
        document = schema.parse_document(
            values.get("trigger"), values.get("conditions"), values.get("actions")
        )
    except ValidationError as error:
        _pydantic_errors(error, errors)
        return None
    _check_references(document, errors)
    dumped = document.model_dump(mode="json", exclude_none=True)
    values["trigger"] = dumped["trigger"]
    values["conditions"] = dumped.get("conditions")
    values["actions"] = dumped["actions"]
    return document


def _apply(rule: Rule, values: dict[str, Any], document: schema.RuleDocument) -> None:
    for name in _RULE_FIELDS:
        if name in values:
            setattr(rule, name, values[name])
    rule.event_name = schema.event_name_of(document.trigger)
    rule.trigger_type = document.trigger.type


def rule_create(
    *,
    actor: Any,
    name: str,
    trigger: dict[str, Any],
    actions: list[dict[str, Any]],
    conditions: dict[str, Any] | None = None,
    description: str = "",
    is_active: bool = True,
) -> Rule:
    """Create a rule from its JSON document (administrators). Raises Invalid with the
    path of every problem (`trigger.stage_id`, `actions.0.subject`…) before writing."""
    _admin(actor)
    values = {
        "name": name,
        "description": description or "",
        "is_active": bool(is_active),
        "trigger": trigger,
        "conditions": conditions,
        "actions": actions,
    }
    errors = FieldErrors()
    document = _clean_rule(values, errors)
    errors.raise_if_any()
    assert document is not None
    rule = Rule(created_by=actor if getattr(actor, "pk", None) else None)
    _apply(rule, values, document)
    with transaction.atomic():
        rule.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=rule,
            changes=diff({}, snapshot(rule, _RULE_FIELDS)),
        )
    return rule


def rule_update(*, actor: Any, rule: Rule, **fields: Any) -> Rule:
    """Change the parts given (the document is checked whole). Administrators."""
    _admin(actor)
    errors = FieldErrors()
    for name in sorted(set(fields) - set(_RULE_FIELDS)):
        errors.add(name, _("Unknown field."))
    errors.raise_if_any()
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = snapshot(rule, _RULE_FIELDS)
        values = {name: getattr(rule, name) for name in _RULE_FIELDS} | fields
        document = _clean_rule(values, errors)
        errors.raise_if_any()
        assert document is not None
        _apply(rule, values, document)
        rule.save()
        changes = diff(before, snapshot(rule, _RULE_FIELDS))
        if changes:
            record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=rule, changes=changes)
    return rule


def rule_set_active(*, actor: Any, rule: Rule, active: bool) -> Rule:
    """Pause or resume a rule."""
    return rule_update(actor=actor, rule=rule, is_active=active)


def rule_copy(*, actor: Any, rule: Rule) -> Rule:
    """A paused copy of a rule, named "<name> (copy)", to change before switching it on."""
    return rule_create(
        actor=actor,
        name=_("%(name)s (copy)") % {"name": rule.name},
        description=rule.description,
        trigger=rule.trigger,
        conditions=rule.conditions,
        actions=rule.actions,
        is_active=False,
    )


def rule_delete(*, actor: Any, rule: Rule) -> None:
    """Delete a rule and its run log."""
    _admin(actor)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=rule,
            changes=diff(snapshot(rule, _RULE_FIELDS), {}),
        )
        rule.delete()


def rule_test(*, actor: Any, rule: Rule, record: Any) -> tuple[bool, AutomationRun]:
    """Dry run: whether the conditions hold for `record` and what every action would do.
    Nothing changes but the dry run's log row. Managers and administrators."""
    from wasl.automation.engine import dry_run

    if actor is not None and actor.role not in ("admin", "manager"):
        require_admin(actor)
    with transaction.atomic():
        return dry_run(rule, record)


# ---------------------------------------------------------------- webhooks


def webhook_create(*, actor: Any, name: str, url: str) -> WebhookEndpoint:
    """A webhook endpoint with a new random secret (shown once, in the answer)."""
    _admin(actor)
    errors = FieldErrors()
    name = " ".join((name or "").split())
    if not name:
        errors.add("name", _("Name the webhook."))
    if not (url or "").startswith(("http://", "https://")) or len(url) > 500:
        errors.add("url", _("Enter an http:// or https:// address."))
    errors.raise_if_any()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            name=name[:120], url=url, secret=secrets.token_urlsafe(32)
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=endpoint,
            changes=diff({}, snapshot(endpoint, ["name", "url"])),
        )
    return endpoint


def webhook_delete(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    _admin(actor)
    with transaction.atomic():
        record_audit(actor=actor, action=AuditEntry.Action.DELETE, record=endpoint)
        endpoint.delete()


# ---------------------------------------------------------------- jobs


def failed_job_park(
    *, task_path: str, kwargs: dict[str, Any], attempts: int, error: str
) -> FailedJob:
    """Keep a job that failed on its last attempt, for administrators to see and retry."""
    return FailedJob.objects.create(
        task_path=task_path, kwargs=kwargs, attempts=attempts, error=error
    )


def failed_job_retry(*, actor: Any, job: FailedJob) -> FailedJob:
    """Queue a parked job again from its first attempt (once: retrying twice is a
    Conflict). Administrators."""
    _admin(actor)
    with transaction.atomic():
        locked = FailedJob.objects.select_for_update().get(pk=job.pk)
        if locked.retried_at is not None:
            raise Conflict(_("This job was already retried."))
        task = import_string(locked.task_path)
        enqueue(task, **locked.kwargs, attempt=1)
        locked.retried_at = timezone.now()
        locked.retried_by = actor if getattr(actor, "pk", None) else None
        locked.save(update_fields=["retried_at", "retried_by"])
    return locked


def worker_beat(*, worker_id: str, pid: int, hostname: str) -> None:
    """Say this worker is alive."""
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"pid": pid, "hostname": hostname[:200], "started_at": now, "last_seen": now},
        )


def jobs_requeue_orphans(*, now: dt.datetime) -> int:
    """Hand back to the queue the jobs whose worker stopped beating (killed, crashed) and
    forget dead workers. Returns how many jobs went back."""
    lease = dt.timedelta(seconds=float(settings.WASL_WORKER_LEASE_SECONDS))
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=now - lease).values_list(
            "worker_id", flat=True
        )
    )
    requeued = 0
    for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        owner = row.worker_ids[-1] if row.worker_ids else None
        if owner in alive:
            continue
        if owner is None and row.started_at and row.started_at >= now - lease:
            continue
        requeued += DBTaskResult.objects.filter(pk=row.pk, status="RUNNING").update(
            status="READY", started_at=None
        )
    WorkerHeartbeat.objects.filter(last_seen__lt=now - lease * 10).delete()
    return requeued


def lease_acquire(*, name: str, holder: str, seconds: float) -> bool:
    """Take or renew a named lease; False while another holder's lease runs."""
    now = timezone.now()
    until = now + dt.timedelta(seconds=seconds)
    with transaction.atomic():
        taken = (
            SchedulerLease.objects.filter(name=name).filter(holder=holder).update(expires_at=until)
        ) or SchedulerLease.objects.filter(name=name, expires_at__lt=now).update(
            holder=holder, expires_at=until
        )
        if taken:
            return True
        try:
            with transaction.atomic():
                SchedulerLease.objects.create(name=name, holder=holder, expires_at=until)
        except IntegrityError:
            return False
        return True
