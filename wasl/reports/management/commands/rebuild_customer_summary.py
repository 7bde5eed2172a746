"""`wasl rebuild_customer_summary`: build the customer reports' summary of touches,
episodes and customer totals again from the activities and deals (after restoring a
backup, or loading data by hand without the services)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from wasl.reports import touches
from wasl.reports.models import CustomerAttribution, CustomerEpisode, CustomerTotals


class Command(BaseCommand):
    help = "Build the customer summary (touches, episodes, totals) again from the records."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        touches.rebuild()
        self.stdout.write(
            f"{CustomerAttribution.objects.count():,} attributions, "
            f"{CustomerEpisode.objects.count():,} episodes, "
            f"{CustomerTotals.objects.count():,} customers' totals "
            f"in {time.monotonic() - started:.1f} s"
        )
