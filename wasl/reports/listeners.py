"""The customer summary follows the outbox: every delivered event that can change a touch
or its customer is folded in (with those waiting after it), in the delivery's
transaction."""

from __future__ import annotations

import logging

from django.db import transaction

from wasl.core.events import listen
from wasl.core.models import OutboxEvent
from wasl.reports import touches
from wasl.reports.models import CustomerSummaryState

logger = logging.getLogger(__name__)


@listen("*")
def keep_customer_summary(event: OutboxEvent) -> None:
    """Fold the event in. The summary is derived data: if folding fails, the summary is
    marked for a rebuild rather than holding back the event's other listeners
    (automation, webhooks, notifications)."""
    if not event.name.startswith(touches.PREFIXES):
        return
    try:
        with transaction.atomic():
            touches.fold_event(event)
    except Exception:
        logger.exception("the customer summary could not fold event %s", event.pk)
        CustomerSummaryState.objects.update(rebuild_needed=True)
