"""Background entry points (Django tasks). Each takes ids, loads, calls one function, and
carries its retry policy; `attempt` counts tries (see `wasl.automation.jobs`)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.tasks import task

from wasl.automation import delivery, engine
from wasl.automation.jobs import (
    BATCH_QUEUE,
    MESSAGES,
    MESSAGES_QUEUE,
    RULES,
    WEBHOOKS,
    run_with_retry,
)


@task(queue_name=BATCH_QUEUE)
def evaluate_event(event_id: int, attempt: int = 1) -> dict[str, Any]:
    """Run the rules an outbox event wakes."""
    work = partial(engine.evaluate_event, event_id)
    return run_with_retry(
        evaluate_event, {"event_id": event_id}, work, attempt=attempt, policy=RULES
    )


@task(queue_name=BATCH_QUEUE)
def run_time_rule(
    rule_id: int, kind: str, object_id: int | None, occurrence: str, at: str, attempt: int = 1
) -> dict[str, Any]:
    """Run one time-based firing of a rule (date reached, overdue, no activity, schedule)."""
    kwargs = {
        "rule_id": rule_id,
        "kind": kind,
        "object_id": object_id,
        "occurrence": occurrence,
        "at": at,
    }
    work = partial(engine.run_time_rule, **kwargs)
    return run_with_retry(run_time_rule, kwargs, work, attempt=attempt, policy=RULES)


@task(queue_name=BATCH_QUEUE)
def send_digest(user_id: int, day: str, attempt: int = 1) -> dict[str, Any]:
    """Queue one user's daily digest e-mail (if there is anything to tell)."""
    work = partial(delivery.digest_queue, user_id=user_id, day=day)
    return run_with_retry(
        send_digest, {"user_id": user_id, "day": day}, work, attempt=attempt, policy=RULES
    )


@task(queue_name=MESSAGES_QUEUE)
def send_message(message_id: int, attempt: int = 1) -> dict[str, Any]:
    """Send one e-mail or SMS that is not sent yet."""
    work = partial(delivery.message_send, message_id=message_id)
    return run_with_retry(
        send_message, {"message_id": message_id}, work, attempt=attempt, policy=MESSAGES
    )


@task(queue_name=MESSAGES_QUEUE)
def deliver_webhook(delivery_id: int, attempt: int = 1) -> dict[str, Any]:
    """Call one webhook that is not delivered yet."""
    work = partial(delivery.webhook_deliver, delivery_id=delivery_id)
    return run_with_retry(
        deliver_webhook, {"delivery_id": delivery_id}, work, attempt=attempt, policy=WEBHOOKS
    )
