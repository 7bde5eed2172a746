"""`wasl run`: migrate, make sure an admin exists, load demo data if empty, serve, and run
the background worker and the scheduler (outbox delivery, periodic work) beside the web
server in the same process."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Migrate, create the first admin, load demo data into an empty database, then serve "
        "the web app with the job worker and the scheduler (which delivers outbox events) "
        "in the same process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
        parser.add_argument("--demo-size", default="S", choices=["S", "M", "L"])
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-dispatch",
            action="store_true",
            help="no scheduler here: no event delivery or periodic work (run `wasl scheduler`)",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="run no job worker here (run `wasl worker`)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from wasl.accounts.models import User
        from wasl.accounts.services import user_create
        from wasl.contacts.models import Contact

        call_command("migrate", interactive=False, verbosity=0)
        # The automation system user is an admin nobody signs in as: it does not count.
        admins = User.objects.filter(role="admin", is_active=True).exclude(
            username=settings.WASL_AUTOMATION_USERNAME
        )
        if not admins.exists():
            password = secrets.token_urlsafe(12)
            user_create(actor=None, username="admin", role="admin", password=password)
            self.stdout.write(
                self.style.WARNING(
                    f"Created the first administrator. Sign in as admin with password: {password}\n"
                    "This is shown only once; change it after signing in."
                )
            )
            self.stdout.flush()
        if not options["no_demo"] and not Contact.objects.exists():
            self.stdout.write("Loading demo data (size %s)…" % options["demo_size"])
            self.stdout.flush()
            call_command("demo", size=options["demo_size"], seed=1)
        # Whitenoise warns at start-up when the collected-static folder is missing; pages
        # are served from the finders in the embedded set-up, so an empty one will do.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        from wasl.automation.jobs import Worker
        from wasl.automation.scheduler import Scheduler

        background: list[Any] = []
        if not options["no_dispatch"]:
            background.append(Scheduler())
        if not options["no_worker"]:
            background.append(Worker())
        threads = [
            threading.Thread(target=part.run, name=f"wasl-{type(part).__name__.lower()}")
            for part in background
        ]
        for thread in threads:
            thread.start()
        previous = signal.signal(signal.SIGTERM, _stop_serving)
        try:
            self.serve(options["host"], options["port"], options["threads"])
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            # A job in progress finishes (or its transaction rolls back) before exit.
            for part in background:
                part.stop.set()
            for thread in threads:
                thread.join(timeout=30)

    def serve(self, host: str, port: int, threads: int) -> None:
        from waitress import serve

        from wasl.wsgi import application

        self.stdout.write(f"Wasl is running at http://{host}:{port}/ (Ctrl+C stops it)")
        if not settings.MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"):
            mail_dir = settings.MAILERS["default"].get("OPTIONS", {}).get("file_path")
            if mail_dir:
                self.stdout.write(
                    f"No SMTP server set (WASL_EMAIL_HOST): e-mails are written to {mail_dir}"
                )
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="wasl")


def _stop_serving(signum: int, frame: Any) -> None:
    raise SystemExit(0)
