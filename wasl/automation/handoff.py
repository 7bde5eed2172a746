"""Handing jobs to a backend outside the database (Redis) without losing any.

A job queued inside a transaction may only exist if that transaction commits, and Redis
cannot join it. So the job is first written as a `JobHandoff` row in the transaction;
right after the commit it is sent to the backend and the row deleted. A process killed
between the commit and the send, or a backend that cannot be reached at that moment,
leaves the row, and the scheduler's tick sends it once it is older than a grace period.
A job can therefore be sent twice (the send succeeded, the delete did not); the task
functions' idempotency keys make that harmless, as for a job a dead worker left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from wasl.automation.models import JobHandoff

logger = logging.getLogger(__name__)

# A row this old was not sent by the process that wrote it (that takes milliseconds).
GRACE = dt.timedelta(seconds=60)
BATCH = 500


def enqueue_after_commit(task: Any, kwargs: dict[str, Any]) -> None:
    """Queue `task(**kwargs)` on its backend once the current transaction commits."""
    handoff = JobHandoff.objects.create(
        task_path=task.module_path,
        kwargs=kwargs,
        queue_name=task.queue_name,
        priority=task.priority,
        run_after=task.run_after,
    )
    transaction.on_commit(partial(_send, task, kwargs, handoff.pk))


def _send(task: Any, kwargs: dict[str, Any], handoff_id: int) -> None:
    try:
        task.enqueue(**kwargs)
    except Exception:
        # The commit has happened: failing the request now would not undo it. The row
        # stays and the scheduler sends the job later.
        logger.exception("could not hand job %s over; the scheduler will retry", handoff_id)
        return
    JobHandoff.objects.filter(pk=handoff_id).delete()


def send_stranded(now: dt.datetime | None = None) -> int:
    """Send the jobs whose writer never did (older than GRACE); the number sent."""
    cutoff = (now or timezone.now()) - GRACE
    sent = 0
    for handoff in JobHandoff.objects.filter(created_at__lt=cutoff).order_by("id")[:BATCH]:
        try:
            task = import_string(handoff.task_path).using(
                queue_name=handoff.queue_name,
                priority=handoff.priority,
                run_after=handoff.run_after,
            )
            task.enqueue(**handoff.kwargs)
        except Exception:
            logger.exception("could not hand job %s over; next tick retries", handoff.pk)
            break  # the backend is down: try again on the next tick
        handoff.delete()
        sent += 1
    return sent
