"""The customer summary follows the outbox: every delivered event that can change a touch
or its customer is folded in (with those waiting after it), in the delivery's
transaction; a changed exchange rate has every purchase converted again."""

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


@listen("exchange_rate.changed", "exchange_rate.deleted")
def convert_at_the_new_rates(event: OutboxEvent) -> None:
    """Convert every purchase again and rebuild the customers' totals now, in the
    background, so the next report does not wait for it (2–7 s at L). A report still
    converts first itself if it comes before this delivery. Derived data: a failure is
    logged, and the next report converts instead."""
    try:
        with transaction.atomic():
            touches.ensure_converted()
    except Exception:
        logger.exception("the purchases could not be converted after event %s", event.pk)
