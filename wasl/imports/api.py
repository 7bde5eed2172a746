"""Imports, saved mappings, exports, duplicates and merges over the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from wasl.contacts.access import access_company, access_contact
from wasl.core.api import ERROR_RESPONSES, actor_of
from wasl.core.errors import Forbidden, Invalid, NotFound
from wasl.core.visibility import Role
from wasl.imports import duplicates, exports, merge, services
from wasl.imports.access import access_export, access_import, access_mapping, access_merge
from wasl.imports.models import ExportJob, ImportJob, ImportMapping
from wasl.imports.selectors import mapping_list, row_errors
from wasl.leads.access import access_lead

router = Router(tags=["imports"])


class RowErrorOut(Schema):
    row: int
    reason: str
    values: list[str]


class ImportOut(Schema):
    id: str
    target: str
    status: str
    filename: str
    format: str
    encoding: str
    delimiter: str
    sheet: str
    sheets: list[str]
    headers: list[str]
    columns: dict[str, str]
    options: dict[str, Any]
    dry_run: dict[str, int]
    total: int
    processed: int
    created: int
    updated: int
    skipped: int
    failed: int
    error: str
    errors: list[RowErrorOut]
    started_at: str | None
    finished_at: str | None


def import_out(job: ImportJob, *, errors: int = 100) -> ImportOut:
    return ImportOut(
        id=str(job.public_id),
        target=job.target,
        status=job.status,
        filename=job.filename,
        format=job.file_format,
        encoding=job.encoding,
        delimiter=job.delimiter,
        sheet=job.sheet,
        sheets=job.sheets,
        headers=job.headers,
        columns=job.columns,
        options={k: v for k, v in job.options.items()},
        dry_run=job.dry_run,
        total=job.total,
        processed=job.processed,
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        failed=job.failed,
        error=job.error,
        errors=[
            RowErrorOut(row=e.row, reason=e.reason, values=[str(v) for v in e.values])
            for e in row_errors(job=job)[:errors]
        ],
        started_at=job.started_at.isoformat() if job.started_at else None,
        finished_at=job.finished_at.isoformat() if job.finished_at else None,
    )


def _json_field(raw: str, name: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise Invalid({name: [_("Send valid JSON.")]}) from error


@router.post("/imports", response={201: ImportOut, **ERROR_RESPONSES})
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    target: Form[str],
    columns: Form[str] = "",
    options: Form[str] = "",
    mapping: Form[str] = "",
    encoding: Form[str] = "",
    sheet: Form[str] = "",
    delimiter: Form[str] = "",
):
    """Upload a file with its options: the answer is the dry run (counts and refused rows)."""
    actor = actor_of(request)
    chosen_mapping = None
    if mapping:
        found = mapping_list(actor=actor, target=target).filter(name=mapping).first()
        chosen_mapping = found or access_mapping(actor, mapping)
    job = services.import_check(
        actor=actor,
        upload=file,
        filename=file.name or "import",
        target=target,
        columns=_json_field(columns, "columns"),
        mapping=chosen_mapping,
        options=_json_field(options, "options"),
        encoding=encoding,
        sheet=sheet,
        delimiter=delimiter,
    )
    return Status(201, import_out(job))


@router.get("/imports/{import_id}", response={200: ImportOut, **ERROR_RESPONSES})
def get_import(request: HttpRequest, import_id: str):
    """Progress and results of an import."""
    return import_out(access_import(actor_of(request), import_id))


@router.post("/imports/{import_id}/run", response={202: ImportOut, **ERROR_RESPONSES})
def run_import(request: HttpRequest, import_id: str):
    """Run a checked import in the background."""
    actor = actor_of(request)
    job = services.import_run(actor=actor, job=access_import(actor, import_id))
    return Status(202, import_out(job))


@router.post("/imports/{import_id}/undo", response={200: ImportOut, **ERROR_RESPONSES})
def undo_import(request: HttpRequest, import_id: str):
    """Undo a finished import completely."""
    actor = actor_of(request)
    return import_out(services.import_undo(actor=actor, job=access_import(actor, import_id)))


@router.get("/imports/{import_id}/errors.csv", response={200: None, **ERROR_RESPONSES})
def import_errors(request: HttpRequest, import_id: str):
    """The refused rows as CSV (row, reason, then the file's columns) to fix and re-import."""
    job = access_import(actor_of(request), import_id)
    response = StreamingHttpResponse(
        services.import_errors_csv(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.public_id}-errors.csv"'
    return response


# ---------------------------------------------------------------- mappings


class MappingIn(Schema):
    name: str
    target: str
    columns: dict[str, str]
    options: dict[str, Any] = {}


class MappingOut(Schema):
    id: str
    name: str
    target: str
    columns: dict[str, str]
    options: dict[str, Any]


def mapping_out(mapping: ImportMapping) -> MappingOut:
    return MappingOut(
        id=str(mapping.public_id),
        name=mapping.name,
        target=mapping.target,
        columns=mapping.columns,
        options=mapping.options,
    )


@router.get("/import-mappings", response={200: list[MappingOut], **ERROR_RESPONSES})
def list_mappings(request: HttpRequest, target: str | None = None):
    return [mapping_out(m) for m in mapping_list(actor=actor_of(request), target=target)[:500]]


@router.post("/import-mappings", response={201: MappingOut, **ERROR_RESPONSES})
def save_mapping(request: HttpRequest, payload: MappingIn):
    """Save a mapping by name (saving the same name again replaces it)."""
    mapping = services.mapping_save(actor=actor_of(request), **payload.dict())
    return Status(201, mapping_out(mapping))


@router.delete("/import-mappings/{mapping_id}", response={204: None, **ERROR_RESPONSES})
def delete_mapping(request: HttpRequest, mapping_id: str):
    actor = actor_of(request)
    services.mapping_delete(actor=actor, mapping=access_mapping(actor, mapping_id))
    return Status(204, None)


# ---------------------------------------------------------------- exports


class ExportIn(Schema):
    target: str
    format: str = "csv"
    filters: dict[str, Any] = {}
    calendar: str = ""


class ExportOut(Schema):
    id: str
    target: str
    format: str
    status: str
    rows: int
    error: str
    download: str | None


def export_out(job: ExportJob) -> ExportOut:
    return ExportOut(
        id=str(job.public_id),
        target=job.target,
        format=job.file_format,
        status=job.status,
        rows=job.rows,
        error=job.error,
        download=f"/api/v1/exports/{job.public_id}/download" if job.status == "done" else None,
    )


@router.post("/exports", response={202: ExportOut, **ERROR_RESPONSES})
def create_export(request: HttpRequest, payload: ExportIn):
    """Export a filtered list in the background; poll, then download."""
    job = exports.export_create(
        actor=actor_of(request),
        target=payload.target,
        file_format=payload.format,
        filters=payload.filters,
        calendar=payload.calendar,
    )
    return Status(202, export_out(job))


@router.get("/exports/{export_id}", response={200: ExportOut, **ERROR_RESPONSES})
def get_export(request: HttpRequest, export_id: str):
    return export_out(access_export(actor_of(request), export_id))


@router.get("/exports/{export_id}/download", response={200: None, **ERROR_RESPONSES})
def download_export(request: HttpRequest, export_id: str):
    job = access_export(actor_of(request), export_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise NotFound(_("The file is not ready."))
    types = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "vcf": "text/vcard",
    }
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=f"{job.target}.{job.file_format}",
        content_type=types[job.file_format],
    )


# ---------------------------------------------------------------- duplicates and merges


class CheckIn(Schema):
    kind: str = "contact"
    id: str | None = Field(
        None,
        description="The record being edited, if any: it and the records a user said it "
        "is not a duplicate of are left out.",
    )
    first_name: str = ""
    last_name: str = ""
    name: str = ""
    company: str = ""
    emails: list[str] = []
    phones: list[str] = []


class CandidateOut(Schema):
    kind: str
    id: str
    title: str
    score: int
    reasons: list[str]


def _title(record: Any) -> str:
    return str(record)


def _kind(kind: str) -> str:
    if kind not in duplicates.KIND_MODELS:
        raise Invalid({"kind": [_("Choose contact, company or lead.")]})
    return kind


@router.post("/duplicates/check", response={200: list[CandidateOut], **ERROR_RESPONSES})
def check_duplicates(request: HttpRequest, payload: CheckIn):
    """Records the user sees that a record about to be created (or the record `id` being
    edited) looks like; pairs dismissed as "not a duplicate" are left out."""
    actor = actor_of(request)
    kind = _kind(payload.kind)
    record = _load(actor, kind, payload.id, for_write=False) if payload.id else None
    found = duplicates.possible_duplicates(actor, kind, payload.dict(), record=record)
    return [
        CandidateOut(
            kind=c.kind,
            id=str(c.record.public_id),
            title=_title(c.record),
            score=c.score,
            reasons=c.reasons,
        )
        for c in found
    ]


class PairOut(Schema):
    kind: str
    score: int
    reasons: list[str]
    first_id: str
    first_title: str
    second_id: str
    second_title: str


@router.get("/duplicates", response={200: list[PairOut], **ERROR_RESPONSES})
def list_duplicates(request: HttpRequest, kind: str = "contact"):
    """Open duplicate pairs of records the user sees both of (from the last scan)."""
    pairs = duplicates.pair_list(actor=actor_of(request), kind=_kind(kind))
    return [
        PairOut(
            kind=p.kind,
            score=p.score,
            reasons=p.reasons,
            first_id=str(a.public_id),
            first_title=_title(a),
            second_id=str(b.public_id),
            second_title=_title(b),
        )
        for p, a, b in pairs
    ]


class PairIn(Schema):
    kind: str = "contact"
    first_id: str
    second_id: str


class DismissedOut(Schema):
    kind: str
    score: int
    reasons: list[str]
    first_id: str
    first_title: str
    second_id: str
    second_title: str
    dismissed_by: str | None = Field(None, description="The user's public id.")
    dismissed_by_name: str = ""
    dismissed_at: dt.datetime | None = None


def _pair_records(actor: Any, payload: PairIn, *, for_write: bool) -> tuple[str, Any, Any]:
    kind = _kind(payload.kind)
    first = _load(actor, kind, payload.first_id, for_write=for_write)
    second = _load(actor, kind, payload.second_id, for_write=for_write)
    return kind, first, second


def dismissed_out(pair: Any, first: Any, second: Any) -> DismissedOut:
    user = pair.dismissed_by
    return DismissedOut(
        kind=pair.kind,
        score=pair.score,
        reasons=pair.reasons,
        first_id=str(first.public_id),
        first_title=_title(first),
        second_id=str(second.public_id),
        second_title=_title(second),
        dismissed_by=str(user.public_id) if user else None,
        dismissed_by_name=(user.get_full_name() or user.username) if user else "",
        dismissed_at=pair.dismissed_at,
    )


@router.post("/duplicates/dismiss", response={201: DismissedOut, **ERROR_RESPONSES})
def dismiss_duplicate(request: HttpRequest, payload: PairIn):
    """Not a duplicate: the two records are never suggested as a pair again (until an
    administrator restores the pair). The user must be allowed to change both records; a
    record the user cannot see is not found (404)."""
    actor = actor_of(request)
    kind, first, second = _pair_records(actor, payload, for_write=True)
    pair = duplicates.duplicate_dismiss(actor=actor, kind=kind, first=first, second=second)
    a, b = (first, second) if first.pk == pair.first_id else (second, first)
    return Status(201, dismissed_out(pair, a, b))


@router.get("/duplicates/dismissed", response={200: list[DismissedOut], **ERROR_RESPONSES})
def list_dismissed(request: HttpRequest, kind: str = "contact"):
    """Pairs dismissed as "not a duplicate", newest first (administrators only)."""
    actor = actor_of(request)
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only administrators see the dismissed pairs."))
    return [
        dismissed_out(p, a, b)
        for p, a, b in duplicates.dismissed_pair_list(actor=actor, kind=_kind(kind))
    ]


@router.post("/duplicates/restore", response={200: PairOut, **ERROR_RESPONSES})
def restore_duplicate(request: HttpRequest, payload: PairIn):
    """Take a "not a duplicate" back (administrators): the pair is open again."""
    actor = actor_of(request)
    kind, first, second = _pair_records(actor, payload, for_write=False)
    pair = duplicates.duplicate_restore(actor=actor, kind=kind, first=first, second=second)
    a, b = (first, second) if first.pk == pair.first_id else (second, first)
    return PairOut(
        kind=pair.kind,
        score=pair.score,
        reasons=pair.reasons,
        first_id=str(a.public_id),
        first_title=_title(a),
        second_id=str(b.public_id),
        second_title=_title(b),
    )


class MergeIn(Schema):
    kind: str = "contact"
    survivor_id: str
    other_ids: list[str]
    field_choices: dict[str, str] = {}


class MergeOut(Schema):
    audit_id: int
    survivor_id: str
    merged: list[str]


def _load(actor: Any, kind: str, public_id: str, *, for_write: bool = True) -> Any:
    loaders = {"contact": access_contact, "company": access_company, "lead": access_lead}
    return loaders[kind](actor, public_id, for_write=for_write)


@router.post("/merges", response={201: MergeOut, **ERROR_RESPONSES})
def create_merge(request: HttpRequest, payload: MergeIn):
    """Merge records into a survivor, choosing field by field."""
    actor = actor_of(request)
    kind = _kind(payload.kind)
    survivor = _load(actor, kind, payload.survivor_id)
    others = [_load(actor, kind, pid) for pid in payload.other_ids]
    entry = merge.record_merge(
        actor=actor,
        kind=kind,
        survivor=survivor,
        others=others,
        field_choices=payload.field_choices,
    )
    return Status(
        201,
        MergeOut(
            audit_id=entry.pk, survivor_id=str(survivor.public_id), merged=entry.data["merged"]
        ),
    )


@router.post("/merges/{audit_id}/undo", response={200: MergeOut, **ERROR_RESPONSES})
def undo_merge(request: HttpRequest, audit_id: int):
    """Undo a merge: the merged records and all their links come back."""
    actor = actor_of(request)
    entry = access_merge(actor, audit_id)
    survivor = merge.merge_undo(actor=actor, audit_entry=entry)
    return MergeOut(
        audit_id=entry.pk, survivor_id=str(survivor.public_id), merged=entry.data.get("merged", [])
    )
