"""`wasl dispatch_events [--loop]`: deliver committed outbox events to their listeners."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from wasl.core.events import dispatch_pending


class Command(BaseCommand):
    help = (
        "Deliver committed, undelivered events to their listeners. Once by default; "
        "with --loop, keep polling until stopped (Ctrl+C or SIGTERM)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="S",
            help="seconds to wait when nothing is pending (with --loop; default 1)",
        )
        parser.add_argument("--batch", type=int, default=500, help="events per round")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(1, options["batch"])
        interval = max(0.05, options["interval"])
        if not options["loop"]:
            self.stdout.write(f"Delivered {drain(batch)} events.")
            return
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        previous = signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Delivering events every {interval:g}s (Ctrl+C stops).")
        try:
            while not stopping:
                # A long-lived process must not keep a connection the server has dropped.
                close_old_connections()
                delivered = drain(batch)
                if delivered and options["verbosity"] > 1:
                    self.stdout.write(f"Delivered {delivered} events.")
                if not stopping:
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            close_old_connections()


def drain(batch: int) -> int:
    """Dispatch rounds until a round comes back short of a full batch."""
    total = 0
    while True:
        delivered = dispatch_pending(limit=batch)
        total += delivered
        if delivered < batch:
            return total
