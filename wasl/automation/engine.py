"""The rules engine: which rules an event or a moment wakes, whether their conditions
hold, and running their actions with a run log, idempotently and without loops."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.template import TemplateSyntaxError
from django.utils import timezone
from pydantic import ValidationError

from wasl.accounts.models import User
from wasl.automation import schema
from wasl.automation.actions import (
    ACTIONS,
    ActionError,
    PendingActivities,
    Step,
    defers_writes,
)
from wasl.automation.conditions import compare, matches
from wasl.automation.context import kind_of, load_record, record_context, records_query, resolve
from wasl.automation.models import AutomationRun, Rule
from wasl.core import events
from wasl.core.audit import entries_for
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.models import OutboxEvent

logger = logging.getLogger(__name__)

# Errors that say "this action cannot be done for this record": recorded in the run log,
# not retried. Anything else rolls the run back and the job retries it.
EXPECTED_ERRORS = (ActionError, Invalid, Forbidden, NotFound, Conflict, TemplateSyntaxError)


def automation_user() -> User:
    """The system user rules act as (role admin, no password: nobody signs in as it).
    Created on first use; its name is WASL_AUTOMATION_USERNAME."""
    from wasl.accounts.services import user_create

    name = settings.WASL_AUTOMATION_USERNAME
    cached = _system_user.get(name)
    prepared = _batch.get()
    if cached is not None and prepared is not None and prepared.actor_checked == cached.pk:
        return cached
    if cached is not None and User.objects.filter(pk=cached.pk).exists():
        if prepared is not None:
            prepared.actor_checked = cached.pk
        return cached
    user = User.objects.filter(username=name).first()
    if user is None:
        try:
            with transaction.atomic():
                user = user_create(actor=None, username=name, role="admin", first_name="Automation")
        except (IntegrityError, Invalid):
            user = User.objects.get(username=name)
    _system_user[name] = user
    return user


_system_user: dict[str, User] = {}
# Actions that change the record itself: after them, later rules need a fresh context.
CHANGING_ACTIONS = {"assign_owner", "update_field", "move_stage", "add_tag", "remove_tag"}


_documents: dict[tuple[int, dt.datetime], schema.RuleDocument] = {}


def document_of(rule: Rule) -> schema.RuleDocument:
    """The rule's document as models, parsed once per saved version of the rule."""
    if rule.pk is None:
        return schema.parse_document(rule.trigger, rule.conditions, rule.actions)
    key = (rule.pk, rule.updated_at)
    document = _documents.get(key)
    if document is None:
        if len(_documents) > 2000:
            _documents.clear()
        document = schema.parse_document(rule.trigger, rule.conditions, rule.actions)
        _documents[key] = document
    return document


# ---------------------------------------------------------------- a worker's batch


@dataclass
class Batch:
    """What the jobs of one worker batch share, loaded with a few queries up front: their
    events, the active rules per event name, and the records (with their contexts) the
    events are about. A record some rule may have changed is forgotten and loaded again by
    whoever needs it next, so later events of the same record see the change."""

    events: dict[int, OutboxEvent] = field(default_factory=dict)
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    records: dict[tuple[str, int], Any] = field(default_factory=dict)
    contexts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    actor_checked: int | None = None
    # Activities the chunk's rules create, written together at its end (None: at once).
    pending: PendingActivities | None = None
    # With `pending`: the events whose run keys were looked up when the chunk was loaded,
    # and the keys found taken. Their runs are logged by the same bulk write.
    checked: set[int] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)

    def load(self, event_ids: Iterable[int]) -> None:
        ids = sorted(set(event_ids))
        if not ids:
            return
        for event in OutboxEvent.objects.select_related("content_type").filter(pk__in=ids):
            self.events[event.pk] = event
        names = {event.name for event in self.events.values()}
        for name in names:
            self.rules[name] = []
        for rule in Rule.objects.filter(event_name__in=names, is_active=True).order_by("pk"):
            self.rules[rule.event_name].append(rule)
        wanted: dict[str, set[int]] = {}
        for event in self.events.values():
            if event.content_type_id is None or event.object_id is None:
                continue
            if not self.rules.get(event.name):
                continue
            wanted.setdefault(event.content_type.model, set()).add(event.object_id)
        for kind, pks in wanted.items():
            try:
                query = records_query(kind)
            except KeyError:
                continue
            found = {record.pk: record for record in query.filter(pk__in=sorted(pks))}
            for pk in pks:
                self.records[(kind, pk)] = found.get(pk)
        if self.pending is not None:
            self._check_keys()

    def _check_keys(self) -> None:
        """Look up at once which run keys of the chunk's events are taken (a rerun of a
        job that committed, a duplicated job), so that each run need not insert its row
        first to find out."""
        keys = [
            f"event:{event.pk}:{rule.pk}"
            for event in self.events.values()
            for rule in self.rules.get(event.name, ())
        ]
        table = connection.ops.quote_name(AutomationRun._meta.db_table)
        column = connection.ops.quote_name(AutomationRun._meta.get_field("key").column)
        with connection.cursor() as cursor:
            # Plain SQL: the ORM spends longer building this IN list than the database
            # spends answering it. Slices keep it under SQLite's variable limit.
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ", ".join(["%s"] * len(part))
                # Names come from the model, values are bound.
                sql = f"SELECT {column} FROM {table} WHERE {column} IN ({marks})"  # noqa: S608
                cursor.execute(sql, part)
                self.taken.update(row[0] for row in cursor.fetchall())
        self.checked = {event.pk for event in self.events.values() if self.rules.get(event.name)}

    def record(self, kind: str, pk: int | None) -> Any:
        if pk is None:
            return None
        key = (kind, pk)
        if key not in self.records:
            self.records[key] = load_record(kind, pk)
        return self.records[key]

    def context(self, record: Any) -> dict[str, Any]:
        key = (kind_of(record), record.pk)
        context = self.contexts.get(key)
        if context is None or self.records.get(key) is not record:
            context = self.contexts[key] = record_context(record)
        return context

    def forget(self, kind: str, pk: int | None) -> None:
        self.records.pop((kind, pk), None)
        self.contexts.pop((kind, pk), None)


_batch: ContextVar[Batch | None] = ContextVar("wasl_automation_batch", default=None)


@contextmanager
def prepared(event_ids: Iterable[int], *, bulk: bool = False) -> Iterator[Batch]:
    """Share one load of events, rules and records among the jobs run inside (a worker's
    batch of `evaluate_event` jobs, in one transaction). With `bulk`, the activities their
    rules create wait in `batch.pending` for one bulk write: the caller calls `flush()`
    before the transaction ends, and runs each job in a `savepoint()`."""
    batch = Batch(pending=PendingActivities() if bulk else None)
    batch.load(event_ids)
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)


@contextmanager
def savepoint() -> Iterator[None]:
    """A savepoint whose rollback also drops the activities queued inside it for the
    chunk's bulk write (a failed job or action leaves nothing behind)."""
    batch = _batch.get()
    pending = batch.pending if batch is not None else None
    with pending.scope() if pending is not None else nullcontext(), transaction.atomic():
        yield


def flush() -> int:
    """Write the activities queued by the current batch's rule runs (see `prepared`)."""
    batch = _batch.get()
    if batch is None or batch.pending is None:
        return 0
    return batch.pending.flush()


def _forget(record: Any) -> None:
    batch = _batch.get()
    if batch is not None and record is not None:
        batch.forget(kind_of(record), record.pk)


def candidate_rule_ids(event_name: str) -> list[int]:
    """Active rules an event of this name may wake (one indexed query)."""
    return list(
        Rule.objects.filter(event_name=event_name, is_active=True).values_list("pk", flat=True)
    )


# ---------------------------------------------------------------- triggers


def _old_value(event: OutboxEvent, field: str) -> Any:
    """The value a field had before the change an event announces, from the audit row the
    same transaction wrote."""
    root, _, rest = field.partition(".")
    entry = (
        entries_for_event(event).filter(created_at__lte=event.created_at).first()
        if event.object_id is not None
        else None
    )
    if entry is None:
        return None
    change = (entry.changes or {}).get(root)
    if not change:
        return None
    old = change[0]
    if rest and isinstance(old, dict):
        return old.get(rest)
    return old


def entries_for_event(event: OutboxEvent) -> Any:
    model = event.content_type.model_class() if event.content_type_id else None
    if model is None:
        from wasl.core.models import AuditEntry

        return AuditEntry.objects.none()
    stub = model(pk=event.object_id)
    return entries_for(stub)


def trigger_matches(trigger: Any, event: OutboxEvent, context: dict[str, Any]) -> bool:
    """Whether an event of the trigger's name is the one the trigger means."""
    data = event.data or {}
    kind = trigger.type
    if kind == "field_changed":
        changed = set(data.get("fields") or [])
        root = trigger.field.split(".", 1)[0]
        if root not in changed:
            return False
        if trigger.to_value is not None and not compare(
            resolve(context, trigger.field), "eq", trigger.to_value
        ):
            return False
        return trigger.from_value is None or compare(
            _old_value(event, trigger.field), "eq", trigger.from_value
        )
    if kind == "stage_entered":
        return str(data.get("to_stage_id")) == trigger.stage_id
    if kind == "stage_left":
        return str(data.get("from_stage_id")) == trigger.stage_id
    if kind in ("deal_won", "deal_lost"):
        return trigger.pipeline_id is None or (
            context.get("deal", {}).get("pipeline_id") == trigger.pipeline_id
        )
    if kind == "lead_created":
        return trigger.source is None or context.get("lead", {}).get("source") == trigger.source
    return True


# ---------------------------------------------------------------- running a rule


def _reference(record: Any) -> dict[str, Any]:
    if record is None:
        return {}
    return {
        "content_type": ContentType.objects.get_for_model(type(record)),
        "object_id": record.pk,
        "record_kind": kind_of(record),
        "record_public_id": getattr(record, "public_id", None),
        "record_repr": str(record)[:300],
        "owner_id": getattr(record, "owner_id", None),
        "team_id": getattr(record, "team_id", None),
    }


def execute_rule(
    rule: Rule,
    record: Any,
    *,
    key: str | None,
    trigger: str,
    moment: dt.datetime,
    context: dict[str, Any] | None = None,
    event_id: int | None = None,
    causation: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> AutomationRun | None:
    """Run a rule's actions on `record` (None for a schedule without one) and log the run.

    A real run is keyed: running it again (a retried or duplicated job) returns None and
    does nothing. A dry run plans every action and writes only its log row."""
    document = document_of(rule)
    cause = causation or {}
    if not dry_run and any(a.type in CHANGING_ACTIONS for a in document.actions):
        # Whatever happens to this run, the record may no longer be what the batch loaded.
        _forget(record)
    run = AutomationRun(
        rule=rule,
        trigger=trigger[:120],
        event_id=event_id,
        key=None if dry_run else key,
        status=AutomationRun.Status.DONE,
        dry_run=dry_run,
        depth=int(cause.get("depth", 0)),
        **_reference(record),
    )
    # The run row is the idempotency key of the whole run. Actions that link what they
    # queue to the run (messages, webhook calls) need it written first; otherwise it is
    # written once, after the actions, in the savepoint that holds them: a key already
    # taken (a duplicated job) rolls the actions back.
    late = not dry_run and not any(a.type in RUN_BOUND_ACTIONS for a in document.actions)
    batch = _batch.get()
    # In a worker chunk whose keys were looked up at load, the row joins the chunk's bulk
    # write instead (`PendingActivities.flush`); a key taken meanwhile by another worker
    # fails that write, and the worker runs the chunk again job by job.
    queue: PendingActivities | None = None
    if late and key is not None and batch is not None and event_id in batch.checked:
        queue = batch.pending
        if key in batch.taken or (queue is not None and queue.has_run(key)):
            return None
    if not dry_run and not late:
        try:
            with transaction.atomic():
                run.save()
        except IntegrityError:
            return None
    context = context if context is not None else (record_context(record) if record else {})
    step = Step(
        rule=rule,
        record=record,
        kind=kind_of(record) if record is not None else "",
        context=context,
        actor=automation_user(),
        moment=moment,
        key="",
        run=run if not dry_run and not late else None,
        dry_run=dry_run,
        pending=batch.pending if batch is not None and not dry_run else None,
        log=run,
    )
    if queue is not None:
        _run_actions(run, step, document, key=key, cause=cause)
        queue.add_run(run)
        return run
    if late:
        try:
            with savepoint():
                _run_actions(run, step, document, key=key, cause=cause)
                try:
                    with transaction.atomic():
                        run.save()
                except IntegrityError as error:
                    raise _Duplicate from error
        except _Duplicate:
            return None
        return run
    _run_actions(run, step, document, key=key, cause=cause)
    if dry_run:
        run.save()
    else:
        AutomationRun.objects.filter(pk=run.pk).update(status=run.status, outcomes=run.outcomes)
    return run


class _Duplicate(Exception):
    """The run's key was taken meanwhile: undo what the actions did."""


# Actions whose rows point at the run (so it must exist before them).
RUN_BOUND_ACTIONS = {"send_email", "send_sms", "webhook"}


def _run_actions(
    run: AutomationRun,
    step: Step,
    document: schema.RuleDocument,
    *,
    key: str | None,
    cause: dict[str, Any],
) -> None:
    """Do (or plan) each action in its own savepoint (unless it writes nothing yet); set
    the run's outcomes and status."""
    chain = [*cause.get("rules", []), run.rule_id]
    token = events.causation.set(
        {"rules": chain, "depth": run.depth + 1, "run": str(run.public_id)}
    )
    outcomes: list[dict[str, Any]] = []
    try:
        for index, action in enumerate(document.actions):
            step.key = f"{key or run.public_id}:{index}"
            # An action that only queues needs no savepoint: nothing of it is written yet.
            pending = step.pending
            guard = (
                pending.scope()
                if pending is not None and defers_writes(action, step)
                else savepoint()
            )
            try:
                with guard:
                    detail = ACTIONS[action.type](action, step)
            except EXPECTED_ERRORS as error:
                message = getattr(error, "message", None) or str(error)
                fields = getattr(error, "fields", None)
                if fields:
                    message = f"{message} {fields}"
                outcomes.append({"action": action.type, "status": "failed", "error": message})
                continue
            status = "planned" if step.dry_run else "done"
            outcomes.append({"action": action.type, "status": status, "detail": detail})
    finally:
        events.causation.reset(token)
    failed = sum(1 for o in outcomes if o["status"] == "failed")
    if failed == len(outcomes):
        run.status = AutomationRun.Status.FAILED
    elif failed:
        run.status = AutomationRun.Status.PARTIAL
    run.outcomes = outcomes


def _skip(
    rule: Rule,
    record: Any,
    *,
    key: str,
    trigger: str,
    event_id: int | None,
    depth: int,
    reason: str,
) -> None:
    run = AutomationRun(
        rule=rule,
        trigger=trigger[:120],
        event_id=event_id,
        key=key,
        status=AutomationRun.Status.SKIPPED,
        depth=depth,
        error=reason,
        **_reference(record),
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        pass


def evaluate_event(event_id: int) -> dict[str, int]:
    """Run every active rule the event wakes whose trigger and conditions hold."""
    batch = _batch.get()
    event = batch.events.get(event_id) if batch is not None else None
    if event is None:
        event = OutboxEvent.objects.select_related("content_type").filter(pk=event_id).first()
    if event is None:
        return {"rules": 0, "ran": 0}
    if batch is not None and event.name in batch.rules:
        rules = list(batch.rules[event.name])
    else:
        rules = list(Rule.objects.filter(event_name=event.name, is_active=True).order_by("pk"))
    if not rules or event.content_type_id is None:
        return {"rules": len(rules), "ran": 0}
    kind = event.content_type.model
    if batch is not None:
        record = batch.record(kind, event.object_id)
    else:
        record = load_record(kind, event.object_id)
    if record is None:
        return {"rules": len(rules), "ran": 0}
    cause = (event.data or {}).get("causation") or {}
    chain = set(cause.get("rules") or [])
    depth = int(cause.get("depth") or 0)
    limit = int(settings.WASL_AUTOMATION_MAX_DEPTH)
    context = batch.context(record) if batch is not None else record_context(record)
    ran = 0
    for rule in rules:
        try:
            document = document_of(rule)
        except ValidationError:
            logger.warning("rule %s has an invalid document; skipped", rule.pk)
            continue
        if not trigger_matches(document.trigger, event, context):
            continue
        key = f"event:{event.pk}:{rule.pk}"
        if rule.pk in chain or depth >= limit:
            _skip(
                rule,
                record,
                key=key,
                trigger=event.name,
                event_id=event.pk,
                depth=depth,
                reason="loop guard: the change came from this rule (or a chain too deep)",
            )
            continue
        if not matches(rule.conditions, context):
            continue
        run = execute_rule(
            rule,
            record,
            key=key,
            trigger=event.name,
            moment=event.created_at,
            context=context,
            event_id=event.pk,
            causation=cause,
        )
        if run is not None:
            ran += 1
            if not any(a.get("type") in CHANGING_ACTIONS for a in rule.actions):
                continue
            # Later rules see what this one changed.
            record = load_record(event.content_type.model, event.object_id)
            if record is None:
                break
            context = record_context(record)
    return {"rules": len(rules), "ran": ran}


def run_time_rule(
    *, rule_id: int, kind: str, object_id: int | None, occurrence: str, at: str
) -> dict[str, Any]:
    """A time-based firing of one rule (on one record, or on none for a plain schedule)."""
    rule = Rule.objects.filter(pk=rule_id, is_active=True).first()
    if rule is None:
        return {"ran": False, "why": "rule gone or paused"}
    record = load_record(kind, object_id) if kind else None
    if kind and record is None:
        return {"ran": False, "why": "record gone"}
    context = record_context(record) if record is not None else {}
    if not matches(rule.conditions, context):
        return {"ran": False, "why": "conditions"}
    run = execute_rule(
        rule,
        record,
        key=f"time:{rule.pk}:{kind}:{object_id}:{occurrence}",
        trigger=str(rule.trigger.get("type", "")),
        moment=dt.datetime.fromisoformat(at),
        context=context,
    )
    return {"ran": run is not None}


def dry_run(rule: Rule, record: Any) -> tuple[bool, AutomationRun]:
    """What the rule would do to `record` now: whether its conditions hold and each
    action's plan. Writes only the dry run's log row."""
    context = record_context(record) if record is not None else {}
    holds = matches(rule.conditions, context)
    run = execute_rule(
        rule,
        record,
        key=None,
        trigger="test",
        moment=timezone.now(),
        context=context,
        dry_run=True,
    )
    assert run is not None
    if not holds:
        run.status = AutomationRun.Status.SKIPPED
        run.error = "conditions do not hold"
        run.save(update_fields=["status", "error"])
    return holds, run
