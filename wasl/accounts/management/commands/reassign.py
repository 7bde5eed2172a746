"""`wasl reassign FROM_USER TO_USER`: give every record one user owns to another."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wasl.accounts.management.commands._users import user_named
from wasl.accounts.services import user_reassign_records
from wasl.core.errors import Invalid
from wasl.core.management.support import command_error


class Command(BaseCommand):
    help = "Give every record FROM_USER owns to TO_USER (e.g. when an employee leaves)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("from_user", metavar="FROM_USER")
        parser.add_argument("to_user", metavar="TO_USER")

    def handle(self, *args: Any, **options: Any) -> None:
        source = user_named(options["from_user"])
        target = user_named(options["to_user"])
        try:
            counts = user_reassign_records(actor=None, from_user=source, to_user=target)
        except Invalid as error:
            raise command_error(error) from None
        total = sum(counts.values())
        details = ", ".join(f"{count} {label}" for label, count in sorted(counts.items()))
        self.stdout.write(
            f"Moved {total} records from {source.username} to {target.username}"
            + (f" ({details})." if details else ".")
        )
