"""Imports (check, run, undo), saved mappings, exports, duplicate scans and merges."""

from __future__ import annotations

import importlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.contacts.models import Company, Contact, ContactCompany, ContactPoint, Tag
from wasl.core import events
from wasl.core.audit import record_audit
from wasl.core.errors import Conflict, Forbidden, Invalid
from wasl.core.models import AuditEntry, SearchEntry
from wasl.core.visibility import Role, require_can_create
from wasl.deals.models import Deal, Product
from wasl.imports import engine as e
from wasl.imports import mapping as m
from wasl.imports.bulk import BulkImport
from wasl.imports.engine import Counts, Options
from wasl.imports.models import (
    ExportJob,
    ImportJob,
    ImportMapping,
    ImportRowError,
    OnDuplicate,
    Target,
)
from wasl.imports.parsers import Table, UnreadableFile, open_table
from wasl.imports.rowwise import RowImport
from wasl.leads.models import Lead

BULK_TARGETS = {"contacts", "companies", "leads"}
MAX_UPLOAD = 512 * 1024 * 1024


# ---------------------------------------------------------------- options and mappings


def clean_options(target: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Check the import options a user chose; raises Invalid."""
    data = dict(options or {})
    problems: dict[str, list[str]] = {}
    policy = data.get("on_duplicate") or "skip"
    if policy not in OnDuplicate.values:
        problems["on_duplicate"] = [_("Choose skip, update or overwrite.")]
    match_on = data.get("match_on") or ["email", "phone", "name"]
    if isinstance(match_on, str):
        match_on = [p.strip() for p in match_on.split(",") if p.strip()]
    if not set(match_on) <= {"email", "phone", "name"}:
        problems["match_on"] = [_("Match on email, phone and/or name.")]
    calendar = data.get("calendar") or "gregorian"
    if calendar not in ("gregorian", "jalali", "hijri"):
        problems["calendar"] = [_("Choose gregorian, jalali or hijri.")]
    if (data.get("date_order") or "dmy") not in ("dmy", "mdy"):
        problems["date_order"] = [_("Choose dmy or mdy.")]
    value_maps = data.get("value_maps") or {}
    if not isinstance(value_maps, dict) or not all(
        isinstance(v, dict) for v in value_maps.values()
    ):
        problems["value_maps"] = [_("Give each field a table of file value → value.")]
    if problems:
        raise Invalid(problems)
    data.update(
        on_duplicate=policy, match_on=list(match_on), calendar=calendar, value_maps=value_maps
    )
    return data


def clean_columns(target: str, headers: list[str], columns: dict[str, str]) -> dict[str, str]:
    from wasl.contacts.custom_fields import definitions_for

    entity = {"contacts": "contact", "companies": "company", "leads": "lead"}.get(target)
    custom_keys = set(definitions_for(entity)) if entity else set()
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for header, field in (columns or {}).items():
        field = (field or "").strip()
        if header not in headers:
            problems[f"columns.{header}"] = [_("The file has no such column.")]
        elif not m.valid_field(field, target, custom_keys):
            problems[f"columns.{header}"] = [_("Unknown field “%(field)s”.") % {"field": field}]
        else:
            cleaned[header] = field
    if problems:
        raise Invalid(problems)
    return cleaned


def suggest_columns(target: str, headers: list[str]) -> dict[str, str]:
    """Automatic header → field suggestions, including custom fields named by key or label."""
    from wasl.contacts.custom_fields import definitions_for

    suggested = m.suggest_mapping(headers, target)
    entity = {"contacts": "contact", "companies": "company", "leads": "lead"}.get(target)
    if entity:
        by_name: dict[str, str] = {}
        for key, definition in definitions_for(entity).items():
            for name in (key, definition.label_en, definition.label_fa, definition.label_ar):
                if name:
                    by_name.setdefault(m.header_key(name), key)
        for header in headers:
            key = by_name.get(m.header_key(header)) or by_name.get(
                m.header_key(header.removeprefix("custom:").removeprefix("custom "))
            )
            if key and not suggested.get(header):
                suggested[header] = f"custom:{key}"
    return suggested


def mapping_save(
    *,
    actor: Any,
    name: str,
    target: str,
    columns: dict[str, str],
    options: dict[str, Any] | None = None,
) -> ImportMapping:
    """Save (or replace) a named mapping for a record type. Raises Invalid or Forbidden."""
    if actor is not None:
        require_can_create(actor)
    clean_name = " ".join((name or "").split())[:120]
    if not clean_name:
        raise Invalid({"name": [_("Name the mapping.")]})
    if target not in Target.values:
        raise Invalid({"target": [_("Unknown record type.")]})
    clean_options(target, options)
    with transaction.atomic():
        mapping = (
            ImportMapping.objects.select_for_update().filter(target=target, name=clean_name).first()
        )
        someone_else = mapping is not None and mapping.created_by_id != getattr(actor, "pk", None)
        if someone_else and actor is not None and actor.role != Role.ADMIN:
            raise Forbidden(_("Another user saved a mapping with this name."))
        if mapping is None:
            mapping = ImportMapping(name=clean_name, target=target, created_by=actor)
        mapping.columns = {str(k): str(v or "") for k, v in (columns or {}).items()}
        mapping.options = options or {}
        mapping.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE if mapping.pk else AuditEntry.Action.CREATE,
            record=mapping,
            changes={"columns": [None, mapping.columns]},
        )
        return mapping


def mapping_delete(*, actor: Any, mapping: ImportMapping) -> None:
    if actor is not None and actor.role != Role.ADMIN and mapping.created_by_id != actor.pk:
        raise Forbidden()
    with transaction.atomic():
        record_audit(actor=actor, action=AuditEntry.Action.DELETE, record=mapping)
        mapping.delete()


# ---------------------------------------------------------------- running an import


def _open(job: ImportJob) -> Table:
    return open_table(
        job.file.path,
        filename=job.filename,
        encoding=job.encoding if job.options.get("encoding") else "",
        sheet=job.sheet,
        delimiter=job.delimiter if job.options.get("delimiter") else "",
    )


# The page cache of an import's connection while it runs. The settings give each
# connection a small one (web requests read few pages); an import walks the contact and
# point indexes batch after batch and runs about 8% faster at M with 64 MiB.
IMPORT_PAGE_CACHE_KIB = 65536
# The log size (in pages) past which an import's commits copy the log back into the
# database file, instead of SQLite's 1,000 pages (4 MiB): every batch rewrites pages all
# over the contact and point indexes, which were copied back after each batch; copied
# after several, each page is written to the file once for them all. The last copy comes
# with the commit that follows the import.
IMPORT_CHECKPOINT_PAGES = 32768


@contextmanager
def _import_page_cache() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (saved,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint")
        (checkpoint,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size=-{IMPORT_PAGE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={IMPORT_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(saved)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")


@_import_page_cache()
def run_rows(
    *,
    actor: Any,
    job: ImportJob | None,
    target: str,
    table: Table,
    columns: dict[str, str],
    options: dict[str, Any],
    dry_run: bool,
    progress: Any = None,
    workers: int = 1,
) -> tuple[Counts, list[Any]]:
    """Import (or check) the rows of an open table; returns the counts and, without a
    job, the refused rows."""
    runner_class = BulkImport if target in BULK_TARGETS else RowImport
    runner = runner_class(
        actor=actor,
        job=job,
        target=target,
        headers=table.headers,
        columns=columns,
        options=Options.from_dict(options),
        dry_run=dry_run,
        progress=progress,
    )
    counts = (
        runner.run(table.rows, workers=workers)
        if isinstance(runner, BulkImport)
        else runner.run(table.rows)
    )
    return counts, runner.errors


PARALLEL_FROM_ROWS = 20_000


def import_workers(rows: int) -> int:
    """Processes that clean rows beside the one that writes: for large files only, and
    only where forking is safe (not under a threaded web server: imports run in the
    task worker or the command)."""
    from django.conf import settings

    configured = int(getattr(settings, "WASL_IMPORT_WORKERS", 0) or (os.cpu_count() or 1))
    if rows < PARALLEL_FROM_ROWS or configured <= 1:
        return 1
    # A forked child has only the forking thread: in a process running other threads (the
    # embedded server with its worker thread) a lock one of them held could hang a child.
    if threading.active_count() > 1:
        return 1
    return min(configured, 4)


def import_check(
    *,
    actor: Any,
    upload: IO[bytes] | str | Path,
    filename: str,
    target: str,
    columns: dict[str, str] | None = None,
    mapping: ImportMapping | None = None,
    options: dict[str, Any] | None = None,
    encoding: str = "",
    sheet: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Keep an uploaded file and check it (the dry run): counts of rows to create, update
    and skip, and every refused row with its reason; nothing else is written.

    Raises Invalid (unreadable file, unknown columns or options) or Forbidden."""
    if actor is None:
        raise Invalid({"actor": [_("An import is made by a user.")]})
    require_can_create(actor)
    if target not in Target.values:
        raise Invalid(
            {"target": [_("Choose contacts, companies, leads, deals, products or activities.")]}
        )
    chosen = {**(mapping.options if mapping else {}), **(options or {})}
    if encoding:
        chosen["encoding"] = encoding
    if delimiter:
        chosen["delimiter"] = delimiter
    chosen = clean_options(target, chosen)
    job = ImportJob(
        actor=actor,
        target=target,
        filename=Path(filename or "import").name[:255],
        sheet=sheet,
        mapping=mapping,
    )
    safe_name = Path(filename or "import").name[-100:] or "import"
    with transaction.atomic():
        if isinstance(upload, str | Path):
            with open(upload, "rb") as handle:
                job.file.save(safe_name, File(handle), save=False)
        else:
            job.file.save(safe_name, File(upload), save=False)
        try:
            table = open_table(
                job.file.path,
                filename=job.filename,
                encoding=encoding,
                sheet=sheet,
                delimiter=delimiter,
            )
        except UnreadableFile as error:
            job.file.delete(save=False)
            raise Invalid({"file": [error.message]}, error.message) from error
        try:
            job.file_format = table.file_format
            job.encoding = table.encoding
            job.delimiter = table.delimiter
            job.sheets = table.sheets
            job.sheet = table.sheet
            job.headers = table.headers
            if columns is not None:
                job.columns = clean_columns(target, table.headers, columns)
            elif mapping is not None:
                job.columns = {
                    h: f for h, f in mapping.columns.items() if h in table.headers
                } or suggest_columns(target, table.headers)
            else:
                job.columns = suggest_columns(target, table.headers)
            job.options = chosen
            job.save()
            try:
                counts, _errors = run_rows(
                    actor=actor,
                    job=job,
                    target=target,
                    table=table,
                    columns=job.columns,
                    options=chosen,
                    dry_run=True,
                )
            except UnreadableFile as error:
                raise Invalid({"file": [error.message]}, error.message) from error
        finally:
            table.close()
        job.dry_run = counts.as_dict()
        job.total = counts.total
        job.save(update_fields=["dry_run", "total", "updated_at"])
    return job


def import_recheck(
    *,
    actor: Any,
    job: ImportJob,
    columns: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    sheet: str | None = None,
    mapping: ImportMapping | None = None,
) -> ImportJob:
    """Check a checked import again with other columns, options or sheet (another sheet
    gets suggested columns): the dry run's counts and refused rows are replaced, nothing
    else is written. Raises Invalid, Forbidden, or Conflict once the import has run."""
    _require_job_owner(actor, job)
    require_can_create(actor)
    kept = {k: job.options[k] for k in ("encoding", "delimiter") if job.options.get(k)}
    chosen = clean_options(
        job.target, {**kept, **(options if options is not None else job.options)}
    )
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.CHECKED:
            raise Conflict(_("This import has already run."))
        new_sheet = job.sheet if sheet is None else sheet
        try:
            table = open_table(
                job.file.path,
                filename=job.filename,
                encoding=job.encoding if chosen.get("encoding") else "",
                sheet=new_sheet,
                delimiter=job.delimiter if chosen.get("delimiter") else "",
            )
        except UnreadableFile as error:
            raise Invalid({"sheet" if sheet else "file": [error.message]}, error.message) from error
        try:
            if new_sheet != job.sheet or columns is None:
                job.columns = suggest_columns(job.target, table.headers)
            if columns is not None and table.headers == job.headers:
                job.columns = clean_columns(job.target, table.headers, columns)
            job.sheet, job.headers = table.sheet, table.headers
            job.options = chosen
            if mapping is not None:
                job.mapping = mapping
            ImportRowError.objects.filter(job=job, dry_run=True).delete()
            job.save()
            try:
                counts, _errors = run_rows(
                    actor=actor,
                    job=job,
                    target=job.target,
                    table=table,
                    columns=job.columns,
                    options=chosen,
                    dry_run=True,
                )
            except UnreadableFile as error:
                raise Invalid({"file": [error.message]}, error.message) from error
        finally:
            table.close()
        job.dry_run = counts.as_dict()
        job.total = counts.total
        job.save(update_fields=["dry_run", "total", "updated_at"])
    return job


def import_run(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue a checked import for the background worker. Raises Conflict if it ran."""
    _require_job_owner(actor, job)
    from wasl.imports.tasks import run_import

    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
            status=ImportJob.Status.QUEUED, updated_at=timezone.now()
        )
        if not moved:
            raise Conflict(_("This import has already run."))
        transaction.on_commit(partial(run_import.enqueue, job.pk))
    job.refresh_from_db()
    return job


def _require_job_owner(actor: Any, job: ImportJob) -> None:
    if actor is not None and actor.role != Role.ADMIN and job.actor_id != actor.pk:
        raise Forbidden()


def import_execute(*, job_id: int) -> ImportJob:
    """Run a queued import (the background task's body): batches committed one by one,
    progress on the job row, the summary audit entry and `import.completed` at the end."""
    moved = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.CHECKED]
    ).update(status=ImportJob.Status.RUNNING, started_at=timezone.now())
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    if not moved:
        return job
    started = timezone.now()

    def progress(counts: Counts) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed=counts.total,
            created=counts.created,
            updated=counts.updated,
            skipped=counts.skipped,
            failed=counts.failed,
            updated_at=timezone.now(),
        )

    status, error_text = ImportJob.Status.DONE, ""
    counts = Counts()
    ensure_fts()
    fts = FtsPause(job.total)
    try:
        table = _open(job)
        try:
            fts.pause()
            counts, _errors = run_rows(
                actor=job.actor,
                job=job,
                target=job.target,
                table=table,
                columns=job.columns,
                options=job.options,
                dry_run=False,
                progress=progress,
                workers=import_workers(job.total),
            )
        finally:
            table.close()
            fts.resume()
    except UnreadableFile as error:
        status, error_text = ImportJob.Status.FAILED, error.message
    except Exception as error:
        status, error_text = ImportJob.Status.FAILED, str(error)[:2000] or error.__class__.__name__
    with transaction.atomic():
        job.refresh_from_db()
        job.status = status
        job.error = error_text
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "updated_at"])
        summary = {
            **counts.as_dict(),
            "target": job.target,
            "file": job.filename,
            "seconds": round((job.finished_at - started).total_seconds(), 3),
            "status": status,
        }
        record_audit(actor=job.actor, action=AuditEntry.Action.CREATE, record=job, data=summary)
        events.emit("import.completed", job, job.actor, {"id": job.public_id, **summary})
    return job


# The SQL that keeps the SQLite FTS table in step with the search entries.
_SEARCH_MIGRATION = importlib.import_module("wasl.core.migrations.0002_search_index")
FTS_TRIGGERS = {"core_search_ai", "core_search_ad", "core_search_au"}
FTS_TRIGGER_SQL = [
    sql for sql in _SEARCH_MIGRATION.SQLITE_FORWARD if sql.startswith("CREATE TRIGGER")
]


class FtsPause:
    """SQLite's trigram index costs more to feed row by row than the rest of an import,
    mostly in its automatic segment merges. From `MERGE_THRESHOLD` rows those merges are
    switched off during the import and done once at the end; from `REBUILD_THRESHOLD`
    rows the index's triggers are dropped and the index rebuilt once (as the demo loader
    does). The rebuild reads every entry, so entries written meanwhile by other requests
    are indexed too; if the process dies in between, the next import puts the triggers
    back and rebuilds (`ensure_fts`)."""

    MERGE_THRESHOLD = 5_000
    REBUILD_THRESHOLD = 200_000

    def __init__(self, rows: int) -> None:
        self.mode = ""
        self.rows = rows

    def _fts_setting(self, name: str, value: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_search_fts(core_search_fts, rank) VALUES(%s, %s)", [name, value]
            )

    def pause(self) -> None:
        if connection.vendor != "sqlite" or self.rows < self.MERGE_THRESHOLD:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            if self.rows >= self.REBUILD_THRESHOLD:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                present = {row[0] for row in cursor.fetchall()} & FTS_TRIGGERS
                if present == FTS_TRIGGERS:
                    for name in sorted(FTS_TRIGGERS):
                        cursor.execute(f"DROP TRIGGER {name}")
                    self.mode = "rebuild"
                    return
            self._fts_setting("automerge", 0)
            self.mode = "merge"

    def resume(self) -> None:
        if self.mode == "merge":
            with transaction.atomic():
                self._fts_setting("automerge", 4)
                self._fts_setting("merge", 500)
        elif self.mode == "rebuild":
            _rebuild_fts()
        self.mode = ""


def _rebuild_fts() -> None:
    from wasl.core import search

    with transaction.atomic():
        search.rebuild_fts()
        with connection.cursor() as cursor:
            for statement in FTS_TRIGGER_SQL:
                cursor.execute(statement)


def ensure_fts() -> None:
    """Put back the search triggers an interrupted large import left dropped."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()} & FTS_TRIGGERS
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).count()
    if present != FTS_TRIGGERS and running <= 1:
        with connection.cursor() as cursor:
            for name in sorted(present):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        _rebuild_fts()


def import_file(
    *,
    actor: Any,
    path: str | Path,
    target: str,
    columns: dict[str, str] | None = None,
    mapping: ImportMapping | None = None,
    options: dict[str, Any] | None = None,
    encoding: str = "",
    sheet: str = "",
    dry_run: bool = False,
) -> ImportJob:
    """Check a file, then (unless `dry_run`) run it at once in this process: the operator's
    command and the tests. Raises Invalid when the file cannot be read."""
    job = import_check(
        actor=actor,
        upload=path,
        filename=Path(path).name,
        target=target,
        columns=columns,
        mapping=mapping,
        options=options,
        encoding=encoding,
        sheet=sheet,
    )
    if dry_run:
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    return import_execute(job_id=job.pk)


# ---------------------------------------------------------------- undo

UNDO_ORDER = ["activity", "deal", "lead", "contact", "company", "product", "tag"]
KIND_MODELS: dict[str, Any] = {
    "activity": Activity,
    "deal": Deal,
    "lead": Lead,
    "contact": Contact,
    "company": Company,
    "product": Product,
    "tag": Tag,
}


def import_undo(*, actor: Any, job: ImportJob) -> ImportJob:
    """Undo a whole import in one transaction: created records deleted (with what hangs
    on them), updated records given back their values, links, e-mails, phones and tags
    from before. Raises Conflict if the import is not finished or already undone."""
    _require_job_owner(actor, job)
    with transaction.atomic():
        moved = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]
        ).update(status=ImportJob.Status.UNDONE, undone_at=timezone.now())
        if not moved:
            raise Conflict(_("Only a finished import can be undone, once."))
        removed: dict[str, int] = {}
        restored = 0
        for record in job.updated_records.order_by("-id"):
            _restore(record.kind, record.object_id, record.before)
            restored += 1
        if restored:
            for kind in {r.kind for r in job.updated_records.all()}:
                ids = list(
                    job.updated_records.filter(kind=kind).values_list("object_id", flat=True)
                )
                if kind in e.MODELS:
                    reindex(kind, ids)
        for kind in UNDO_ORDER:
            model = KIND_MODELS[kind]
            for first, last in job.created_ranges.filter(kind=kind).values_list(
                "first_id", "last_id"
            ):
                query = model._default_manager.filter(pk__gte=first, pk__lte=last)
                if kind == "tag":
                    query = query.filter(
                        contacts__isnull=True,
                        companies__isnull=True,
                        leads__isnull=True,
                        deals__isnull=True,
                    )
                else:
                    SearchEntry.objects.filter(
                        kind=kind, object_id__gte=first, object_id__lte=last
                    ).delete()
                count, _detail = query.delete()
                removed[kind] = removed.get(kind, 0) + count
        job.refresh_from_db()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=job,
            data={"undone": True, "removed": removed, "restored": restored},
        )
        events.emit("import.undone", job, actor, {"id": job.public_id, "restored": restored})
    return job


def _restore(kind: str, pk: int, before: dict[str, Any]) -> None:
    from django.utils.dateparse import parse_datetime

    if kind == "product":
        fields = dict(before["fields"])
        stamp = parse_datetime(fields.pop("updated_at", "") or "")
        Product.objects.filter(pk=pk).update(**fields, **({"updated_at": stamp} if stamp else {}))
        return
    model = e.MODELS[kind]
    values = dict(before["fields"])
    update: dict[str, Any] = {
        **values,
        "custom": before.get("custom") or {},
        "owner_id": before["owner_id"],
        "team_id": before["team_id"],
    }
    if kind in ("contact", "company"):
        from wasl.core.text import normalise

        update["name_key"] = normalise(
            f"{values['first_name']} {values['last_name']}" if kind == "contact" else values["name"]
        )
    if kind == "contact":
        update["primary_company_id"] = before.get("primary_company_id")
    stamp = parse_datetime(before.get("updated_at") or "")
    if stamp:
        update["updated_at"] = stamp
    model._default_manager.filter(pk=pk).update(**update)
    link = f"{kind}_id"
    for point_kind, value in before.get("points_added") or []:
        if kind in ("contact", "company"):
            ContactPoint.objects.filter(**{link: pk}, kind=point_kind, value=value).delete()
    through = model.tags.through  # type: ignore[attr-defined]
    if before.get("tags_added"):
        through.objects.filter(**{link: pk}, tag_id__in=before["tags_added"]).delete()
    added = before.get("membership_added")
    if kind == "contact" and added:
        ContactCompany.objects.filter(contact_id=pk, company_id=added).delete()
        if before.get("primary_company_id"):
            ContactCompany.objects.filter(
                contact_id=pk, company_id=before["primary_company_id"]
            ).update(is_primary=True)


def reindex(kind: str, ids: list[int]) -> None:
    """Rewrite the search entries of these records from their current state."""
    records = {
        pk: e.Existing(kind=kind, pk=pk, public_id=str(public), writable=True)
        for pk, public in e.MODELS[kind]
        ._default_manager.filter(pk__in=ids)
        .values_list("pk", "public_id")
    }
    if not records:
        return
    e.load_existing(kind, records)
    runner = BulkImport.__new__(BulkImport)
    runner.kind = kind
    sqlite = connection.vendor == "sqlite"
    stamp = e.db_datetime(timezone.now())
    rows = []
    primary_names: dict[int, str] = {}
    if kind == "contact":
        primary_names = dict(
            Contact.objects.filter(pk__in=list(records), primary_company__isnull=False).values_list(
                "pk", "primary_company__name"
            )
        )
    for record in records.values():
        emails = [(p[1], p[2]) for p in record.points if p[0] == "email"]
        phones = [(p[1], p[2], p[3]) for p in record.points if p[0] == "phone"]
        companies = record.company_names
        if kind == "contact":
            primary = primary_names.get(record.pk)
            companies = ([primary] if primary else []) + [c for c in companies if c != primary]
        title, subtitle, text = runner._search_parts(
            record.fields, emails, phones, companies, record.tag_names
        )
        if kind == "contact" and not primary_names.get(record.pk):
            subtitle = emails[0][1] if emails else ""
            title = " ".join(
                p for p in (record.fields["first_name"], record.fields["last_name"]) if p
            )
            parts = [
                title,
                subtitle,
                *(v for _l, v in emails),
                *record.company_names,
                *record.tag_names,
            ]
            text = e.entry_text_normed(
                [e.fast_normalise(p) for p in parts if p], [p[2] for p in phones]
            )
        public = record.public_id.replace("-", "") if sqlite else record.public_id
        rows.append(
            (
                kind,
                record.pk,
                public,
                title[:300],
                subtitle[:300],
                record.owner_id,
                record.team_id,
                text,
                stamp,
            )
        )
    e.write_search(rows, replace=True)


# ---------------------------------------------------------------- errors as CSV


def import_errors_csv(*, job: ImportJob, dry_run: bool | None = None) -> Any:
    """The refused rows as CSV lines (the file's header plus an "Error" column), to fix
    and import again. Yields text chunks."""
    import csv
    import io

    if dry_run is None:
        dry_run = job.status == ImportJob.Status.CHECKED
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), _("Error"), *job.headers])
    yield "\ufeff" + buffer.getvalue()
    rows = ImportRowError.objects.filter(job=job, dry_run=dry_run).order_by("row", "id")
    for error in rows.iterator(chunk_size=2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([error.row, error.reason, *error.values])
        yield buffer.getvalue()


def temp_copy(upload: IO[bytes]) -> str:
    handle, path = tempfile.mkstemp(prefix="wasl-import-")
    with os.fdopen(handle, "wb") as out:
        for chunk in iter(partial(upload.read, 1024 * 1024), b""):
            out.write(chunk)
    return path


__all__ = ["ContentType", "ExportJob"]
