"""`wasl scheduler`: deliver outbox events and do the periodic work until stopped."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wasl.automation.scheduler import Scheduler, tick


class Command(BaseCommand):
    help = (
        "Deliver committed events to their listeners and run the periodic work once a "
        "minute (time-based rules, overdue reminders, digests). Several may run: one "
        "holds the lease and works, the others wait to take over."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            metavar="S",
            help="seconds between outbox polls (default WASL_DISPATCH_POLL_SECONDS)",
        )
        parser.add_argument("--once", action="store_true", help="one tick now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(str(tick()))
            return
        scheduler = Scheduler(interval=options["interval"])

        def stop(signum: int, frame: Any) -> None:
            scheduler.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("Scheduler running (Ctrl+C stops).")
        self.stdout.flush()
        scheduler.run()
