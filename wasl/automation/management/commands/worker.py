"""`wasl worker`: run background jobs until stopped (Ctrl+C or SIGTERM finish the batch)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wasl.automation.jobs import Worker


class Command(BaseCommand):
    help = (
        "Run queued background jobs (rules, e-mails, SMS, webhooks, other apps' jobs). "
        "Several workers may run at once; a killed worker's jobs run again elsewhere."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            metavar="S",
            help="seconds between polls when idle (default WASL_WORKER_POLL_SECONDS)",
        )
        parser.add_argument("--batch", type=int, default=100, help="automation jobs per batch")
        parser.add_argument("--worker-id", default=None, help="unique id (default: random)")
        parser.add_argument(
            "--until-idle", action="store_true", help="run what is ready, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker(
            worker_id=options["worker_id"],
            interval=options["interval"],
            batch_size=max(1, options["batch"]),
        )
        if options["until_idle"]:
            self.stdout.write(f"Ran {worker.run_until_idle()} jobs.")
            return

        def stop(signum: int, frame: Any) -> None:
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Worker {worker.worker_id} running (Ctrl+C stops).")
        self.stdout.flush()
        worker.run()
        self.stdout.write(f"Worker stopped after {worker.processed} jobs.")
