"""The event outbox: events are rows written with the change; a dispatcher delivers them.

Delivery is at least once and in order per record; listeners must be idempotent.
Later apps register listeners with `@listen("deal.stage_changed")` (or `"*"`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from wasl.core.audit import json_value
from wasl.core.models import OutboxEvent

logger = logging.getLogger(__name__)

Listener = Callable[[OutboxEvent], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)

# An event that keeps failing is parked after this many attempts (and stays visible).
MAX_ATTEMPTS = 8
# Events delivered per transaction: one commit per chunk instead of one per event (a
# SQLite commit with synchronous=FULL costs milliseconds), short enough not to hold the
# write lock long.
CHUNK = 100

# Set by whoever changes records on behalf of something else (automation rules): every
# event emitted meanwhile carries it as data["causation"], so a listener can tell which
# rules caused a change and how deep the chain is (the rules' loop guard reads it).
causation: ContextVar[dict[str, Any] | None] = ContextVar("wasl_event_causation", default=None)

# Values listeners computed once for the chunk being delivered (see `chunk_memo`).
_chunk_memo: ContextVar[dict[Any, Any] | None] = ContextVar("wasl_event_chunk_memo", default=None)


def chunk_memo(key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per delivered chunk (one transaction) for `key`, instead of once
    per event: e.g. which rules wait for events of a name. Outside a delivery, computes."""
    memo = _chunk_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def emit(
    name: str, record: models.Model | None, actor: Any, data: dict[str, Any] | None = None
) -> OutboxEvent:
    """Write an event in the caller's transaction; it is delivered only if that commits."""
    payload = dict(data or {})
    cause = causation.get()
    if cause is not None:
        payload.setdefault("causation", cause)
    return OutboxEvent.objects.create(
        name=name,
        content_type=ContentType.objects.get_for_model(type(record)) if record else None,
        object_id=record.pk if record is not None else None,
        actor_id=getattr(actor, "pk", None),
        data=json_value(payload),
    )


def listen(*names: str) -> Callable[[Listener], Listener]:
    """Register a listener for the named events (`"*"` for every event)."""

    def register(function: Listener) -> Listener:
        for name in names:
            if function not in _listeners[name]:
                _listeners[name].append(function)
        return function

    return register


def listeners_for(name: str) -> list[Listener]:
    return [*_listeners.get(name, []), *_listeners.get("*", [])]


def dispatch_pending(*, limit: int = 500) -> int:
    """Deliver committed, undelivered events in id order; returns how many were delivered.

    A failing listener leaves its event pending (retried on the next run) and holds back
    later events of the same record, so each record's events arrive in order. Events are
    marked delivered in the transaction their listeners ran in (each event in its own
    savepoint), so what listeners write and the mark commit together.
    """
    pending = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts__lt=MAX_ATTEMPTS).order_by(
            "id"
        )[:limit]
    )
    blocked: set[tuple[int | None, int | None]] = set()
    total = 0
    for start in range(0, len(pending), CHUNK):
        delivered: list[int] = []
        token = _chunk_memo.set({})
        try:
            with transaction.atomic():
                for event in pending[start : start + CHUNK]:
                    key = (event.content_type_id, event.object_id)
                    if event.object_id is not None and key in blocked:
                        continue
                    try:
                        with transaction.atomic():
                            for listener in listeners_for(event.name):
                                listener(event)
                    except Exception as error:
                        logger.exception("listener failed for event %s", event.pk)
                        blocked.add(key)
                        OutboxEvent.objects.filter(pk=event.pk).update(
                            attempts=models.F("attempts") + 1, last_error=repr(error)[:2000]
                        )
                        continue
                    delivered.append(event.pk)
                if delivered:
                    OutboxEvent.objects.filter(pk__in=delivered).update(
                        dispatched_at=timezone.now()
                    )
        finally:
            _chunk_memo.reset(token)
        total += len(delivered)
    return total
