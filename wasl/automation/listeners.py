"""The engine listens to every event: those that may wake an active rule become a job."""

from __future__ import annotations

from wasl.automation import tasks
from wasl.automation.engine import candidate_rule_ids
from wasl.automation.jobs import enqueue
from wasl.core.events import chunk_memo, listen
from wasl.core.models import OutboxEvent


@listen("*")
def queue_rule_evaluation(event: OutboxEvent) -> None:
    """One job per event that has candidate rules; the job row joins the dispatcher's
    transaction, so an event is marked delivered exactly when its job exists."""
    if chunk_memo(("automation.rules", event.name), lambda: candidate_rule_ids(event.name)):
        enqueue(tasks.evaluate_event, event_id=event.pk)
