"""`wasl export --type contacts --format csv|xlsx|vcf [--as USER] OUTPUT`"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wasl.core.errors import Invalid
from wasl.core.management.support import describe
from wasl.imports.exports import export_to_file
from wasl.imports.management.commands.import_support import acting_user
from wasl.imports.models import Target


class Command(BaseCommand):
    help = "Export the records a user sees (default: an administrator, so all) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", metavar="OUTPUT")
        parser.add_argument("--type", required=True, choices=Target.values, dest="target")
        parser.add_argument("--format", choices=["csv", "xlsx", "vcf"], default="")
        parser.add_argument("--calendar", default="", help="iso (default), jalali, hijri")
        parser.add_argument("--as", dest="as_user", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        file_format = options["format"] or output.suffix.lstrip(".").lower() or "csv"
        if file_format not in ("csv", "xlsx", "vcf"):
            raise CommandError("Choose --format csv, xlsx or vcf.")
        actor = acting_user(options["as_user"])
        try:
            rows = export_to_file(
                actor=actor,
                target=options["target"],
                file_format=file_format,
                path=output,
                calendar=options["calendar"],
            )
        except Invalid as error:
            raise CommandError(describe(error)) from None
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}") from None
        self.stdout.write(f"Exported {rows} {options['target']} to {output}.")
