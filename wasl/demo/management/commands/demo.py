"""`wasl demo --size S|M|L [--seed N]`: load deterministic demo data in bulk."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wasl.contacts.models import Contact
from wasl.demo.generator import SIZES, DemoLoader, Plan


class Command(BaseCommand):
    help = (
        "Fill the database with realistic demo data: S = 10k contacts, M = 100k, L = 1M "
        "(with companies, leads, deals and activities in proportion). The same seed gives "
        "the same data. Refuses a database that already holds contacts unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=sorted(SIZES), default="S")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--contacts", type=int, default=None, help="exact number of contacts (overrides --size)"
        )
        parser.add_argument(
            "--force", action="store_true", help="add demo data even if contacts exist"
        )

    def progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        contacts = options["contacts"] or SIZES[options["size"]]
        if contacts < 10:
            raise CommandError("Ask for at least 10 contacts.")
        existing = Contact.objects.count()
        if existing and not options["force"]:
            raise CommandError(
                "The database already holds contacts; demo data goes into an empty one. "
                "Use --force to add the demo records anyway."
            )
        # Added to a filled database, the seed is combined with what is there so the new
        # records' public ids cannot repeat the ones a previous run with this seed made.
        seed: int | str = options["seed"] if not existing else f"{options['seed']}+{existing}"
        plan = Plan.for_contacts(contacts)
        verbose = options["verbosity"] >= 1
        started = time.perf_counter()
        loader = DemoLoader(plan=plan, seed=seed, log=self.progress if verbose else None)
        counts = loader.run()
        elapsed = time.perf_counter() - started
        if verbose:
            width = max(len(name) for name in counts)
            for name, count in sorted(counts.items()):
                self.stdout.write(f"  {name:<{width}}  {count:>10,}")
            total = sum(counts.values())
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {total:,} rows in {elapsed:.1f}s ({total / elapsed:,.0f} rows/s)."
                )
            )
