"""`wasl import FILE --type contacts|companies|leads|deals|products|activities [...]`"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.management.support import describe
from wasl.imports.access import mapping_named
from wasl.imports.management.commands.import_support import acting_user
from wasl.imports.models import OnDuplicate, Target
from wasl.imports.selectors import row_errors
from wasl.imports.services import import_file


class Command(BaseCommand):
    help = (
        "Import a CSV, XLSX or vCard file. Columns are mapped automatically unless a saved "
        "mapping is named. Prints the counts and the refused rows; exits 0 when the import "
        "ran (even with rows refused), 1 with a one-line reason when the file cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--type", required=True, choices=Target.values, dest="target")
        parser.add_argument("--mapping", default="", help="name of a saved mapping")
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument("--on-duplicate", choices=OnDuplicate.values, default="skip")
        parser.add_argument("--match-on", default="email,phone,name")
        parser.add_argument("--sheet", default="", help="XLSX sheet (default: the first)")
        parser.add_argument("--encoding", default="", help="e.g. windows-1256 (default: detect)")
        parser.add_argument(
            "--calendar", default="gregorian", choices=["gregorian", "jalali", "hijri"]
        )
        parser.add_argument("--as", dest="as_user", default="", help="importing user")
        parser.add_argument("--show", type=int, default=50, help="refused rows to print")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        actor = acting_user(options["as_user"])
        mapping = None
        try:
            if options["mapping"]:
                mapping = mapping_named(actor, options["target"], options["mapping"])
            job = import_file(
                actor=actor,
                path=path,
                target=options["target"],
                mapping=mapping,
                options={
                    "on_duplicate": options["on_duplicate"],
                    "match_on": options["match_on"],
                    "calendar": options["calendar"],
                },
                encoding=options["encoding"],
                sheet=options["sheet"],
                dry_run=options["dry_run"],
            )
        except NotFound:
            raise CommandError(
                f"No saved {options['target']} mapping named {options['mapping']!r}."
            ) from None
        except (Invalid, Forbidden, Conflict) as error:
            raise CommandError(describe(error)) from None
        if job.status == "failed" and not job.processed:
            raise CommandError(job.error or "The import failed.")
        mapped = {h: f for h, f in job.columns.items() if f}
        self.stdout.write(
            f"{job.file_format.upper()} {job.encoding or ''} — columns: "
            + ", ".join(f"{h} → {f}" for h, f in mapped.items())
        )
        if options["dry_run"]:
            counts = job.dry_run
            self.stdout.write(
                "Dry run: {total} rows — would create {created}, update {updated}, skip "
                "{skipped}; {failed} refused.".format(**counts)
            )
        else:
            self.stdout.write(
                f"Imported {job.processed} rows: created {job.created}, updated {job.updated}, "
                f"skipped {job.skipped}, refused {job.failed}. Import id {job.public_id}."
            )
            if job.error:
                self.stdout.write(f"Stopped: {job.error}")
        for error in row_errors(job=job, dry_run=options["dry_run"])[: options["show"]]:
            self.stdout.write(f"  row {error.row}: {error.reason}")
