"""`wasl run`: migrate, make sure an admin exists, load demo data if empty, serve."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Migrate, create the first admin, load demo data into an empty database, then serve "
        "the web app and deliver outbox events in the same process."
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
            help="do not deliver events here (run `wasl dispatch_events --loop` elsewhere)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from wasl.accounts.models import User
        from wasl.accounts.services import user_create
        from wasl.contacts.models import Contact

        call_command("migrate", interactive=False, verbosity=0)
        if not User.objects.filter(role="admin", is_active=True).exists():
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
        if not options["no_dispatch"]:
            threading.Thread(target=dispatch_forever, name="wasl-events", daemon=True).start()
        self.serve(options["host"], options["port"], options["threads"])

    def serve(self, host: str, port: int, threads: int) -> None:
        from waitress import serve

        from wasl.wsgi import application

        self.stdout.write(f"Wasl is running at http://{host}:{port}/ (Ctrl+C stops it)")
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="wasl")


def dispatch_forever(interval: float = 1.0) -> None:
    """The embedded event dispatcher: the same rounds as `wasl dispatch_events --loop`."""
    from wasl.core.management.commands.dispatch_events import drain

    while True:
        time.sleep(interval)
        try:
            close_old_connections()
            drain(500)
        except Exception:
            # A failing round (e.g. the database briefly locked) must not end delivery.
            logger.exception("event dispatch round failed")
        finally:
            close_old_connections()
