"""Exports: any list the user can see, as CSV, XLSX or vCard, streamed row by row.

Rows come from the apps' selectors (visibility applied) narrowed by the shared list
filters. A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) gets a leading apostrophe; the importer removes exactly that apostrophe,
so an export imports back unchanged. Dates are ISO or in the chosen calendar.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.activities.selectors import activity_list
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing import CommonFilters, apply_common_filters
from wasl.contacts.selectors import company_list, contact_list
from wasl.core.calendars import format_date
from wasl.core.errors import Conflict, Invalid
from wasl.core.visibility import require_can_create
from wasl.deals.selectors import deal_list, product_list
from wasl.imports.models import ExportJob, Target
from wasl.leads.selectors import lead_list

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
POINT_LABELS = ["", "work", "home", "mobile", "fax", "other"]
# Rows above this are written by the background worker rather than in the request.
INLINE_LIMIT = 5_000


def neutralise(value: Any) -> str:
    """A cell as text a spreadsheet shows rather than runs."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _date(value: Any, calendar: str) -> str:
    if value is None:
        return ""
    if calendar and calendar != "iso":
        return format_date(value, calendar)
    return value.isoformat()


def _points(record: Any, kind: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {label: [] for label in POINT_LABELS}
    for point in record.points.all():
        if point.kind == kind:
            found[point.label or ""].append(point.value)
    return found


def _point_header(kind: str, label: str) -> str:
    base = "E-mail" if kind == "email" else "Phone"
    return f"{base} ({label})" if label else base


def columns_for(target: str) -> list[str]:
    entity = {"contacts": "contact", "companies": "company", "leads": "lead"}.get(target)
    custom = [f"custom:{key}" for key in definitions_for(entity)] if entity else []
    if target == "contacts":
        return [
            "First name", "Last name", "Title", "Company",
            *(_point_header("email", label) for label in POINT_LABELS),
            *(_point_header("phone", label) for label in POINT_LABELS),
            "Birthday", "Website", "Industry", "Source", "Street", "City", "Region",
            "Postal code", "Country", "Tags", "Owner", "Notes", *custom,
        ]  # fmt: skip
    if target == "companies":
        return [
            "Name",
            *(_point_header("email", label) for label in POINT_LABELS),
            *(_point_header("phone", label) for label in POINT_LABELS),
            "Website", "Industry", "Source", "Street", "City", "Region", "Postal code",
            "Country", "Tags", "Owner", "Notes", *custom,
        ]  # fmt: skip
    if target == "leads":
        return [
            "First name", "Last name", "Company", "Title", "Email", "Phone", "Website",
            "City", "Country", "Source", "Status", "Tags", "Owner", "Notes", *custom,
        ]  # fmt: skip
    if target == "deals":
        return [
            "Title", "Amount", "Currency", "Pipeline", "Stage", "Expected close", "Probability",
            "Company", "Tags", "Owner", "Notes",
        ]  # fmt: skip
    if target == "products":
        return ["Name", "SKU", "Description", "Unit", "Price", "Currency", "Tax"]
    return ["Kind", "Subject", "Details", "Due", "Done", "Location", "Owner"]


def export_queryset(*, actor: Any, target: str, filters: dict[str, Any] | None = None) -> Any:
    """The records of `target` the actor sees, narrowed by the shared list filters."""
    selectors = {
        "contacts": contact_list,
        "companies": company_list,
        "leads": lead_list,
        "deals": deal_list,
        "activities": activity_list,
    }
    data = dict(filters or {})
    custom = {k.removeprefix("custom."): v for k, v in data.items() if k.startswith("custom.")}
    common = CommonFilters(**{k: v for k, v in data.items() if k in CommonFilters.model_fields})
    if target == "products":
        return product_list(actor=actor, include_inactive=True).order_by("pk")
    if target not in selectors:
        raise Invalid({"target": [_("Unknown record type.")]})
    queryset = selectors[target](actor=actor)
    entity = {"contacts": "contact", "companies": "company", "leads": "lead", "deals": "deal"}
    queryset = apply_common_filters(
        queryset,
        common,
        entity=entity.get(target),
        custom=custom,
        has_tags=target != "activities",
    )
    listed = {k.removeprefix("list."): str(v) for k, v in data.items() if k.startswith("list.")}
    if listed:
        queryset = apply_list_filters(actor=actor, target=target, queryset=queryset, params=listed)
    if target in ("deals",):
        queryset = queryset.select_related("pipeline", "stage", "company")
    return queryset.order_by("pk")


# The list page of each target, whose own filters (a deal's stage, a lead's status, …) an
# export from that list applies too.
LIST_SPECS = {
    "contacts": ("wasl.contacts.views", "CONTACTS"),
    "companies": ("wasl.contacts.views", "COMPANIES"),
    "leads": ("wasl.leads.views", "LEADS"),
    "deals": ("wasl.deals.views", "DEALS"),
    "activities": ("wasl.activities.views", "ACTIVITIES"),
}


def apply_list_filters(*, actor: Any, target: str, queryset: Any, params: dict[str, str]) -> Any:
    """Narrow an export by its list page's own choice, value and date filters (`params`:
    name → value as in the list's query string). Raises Invalid for a value the list would
    refuse, so an export never holds more than the list showed."""
    import datetime as dt
    import importlib

    from django.utils import timezone

    spec = None
    if target in LIST_SPECS:
        module, name = LIST_SPECS[target]
        spec = getattr(importlib.import_module(module), name, None)
    if spec is None:
        raise Invalid({"filters": [_("This list's filters cannot be exported.")]})
    for choice in getattr(spec, "filters", ()):
        value = params.get(choice.name)
        if value:
            if value not in {str(v) for v, _label in choice.choices(actor)}:
                raise Invalid({choice.name: [_("Choose one of the listed values.")]})
            queryset = choice.apply(queryset, value)
    for value_filter in getattr(spec, "value_filters", ()):
        value = params.get(value_filter.name)
        if value:
            queryset = value_filter.apply(queryset, value)
    for date_filter in getattr(spec, "date_filters", ()):
        for end, lookup in (("after", "gte"), ("before", "lt")):
            raw = params.get(f"{date_filter.name}_{end}")
            if not raw:
                continue
            try:
                moment = dt.datetime.fromisoformat(raw)
            except ValueError as error:
                raise Invalid({date_filter.name: [_("Enter a valid date.")]}) from error
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            queryset = queryset.filter(**{f"{date_filter.field}__{lookup}": moment})
    return queryset


def export_rows(
    *, actor: Any, target: str, filters: dict[str, Any] | None = None, calendar: str = ""
) -> Iterator[list[str]]:
    """The header, then one list of cells per record (not yet neutralised)."""
    header = columns_for(target)
    yield header
    custom_keys = [h.removeprefix("custom:") for h in header if h.startswith("custom:")]
    queryset = export_queryset(actor=actor, target=target, filters=filters)
    for record in queryset.iterator(chunk_size=2000):
        yield _row(target, record, calendar, custom_keys)


def _tags(record: Any) -> str:
    return ", ".join(sorted(t.name for t in record.tags.all()))


def _custom(record: Any, keys: list[str]) -> list[str]:
    out = []
    for key in keys:
        value = (record.custom or {}).get(key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out.append("" if value is None else str(value))
    return out


def _row(target: str, r: Any, calendar: str, custom: list[str]) -> list[str]:
    owner = r.owner.username if getattr(r, "owner", None) else ""
    if target in ("contacts", "companies"):
        emails, phones = _points(r, "email"), _points(r, "phone")
        points = [
            *("; ".join(emails[label]) for label in POINT_LABELS),
            *("; ".join(phones[label]) for label in POINT_LABELS),
        ]
        address = [r.street, r.city, r.region, r.postal_code, r.country]
        if target == "contacts":
            company = r.primary_company.name if r.primary_company else ""
            return [
                r.first_name, r.last_name, r.title, company, *points,
                _date(r.birthday, calendar), r.website, r.industry, r.source, *address,
                _tags(r), owner, r.notes, *_custom(r, custom),
            ]  # fmt: skip
        return [
            r.name, *points, r.website, r.industry, r.source, *address, _tags(r), owner,
            r.notes, *_custom(r, custom),
        ]  # fmt: skip
    if target == "leads":
        return [
            r.first_name, r.last_name, r.company_name, r.title, r.email, r.phone, r.website,
            r.city, r.country, r.source, r.status, _tags(r), owner, r.notes,
            *_custom(r, custom),
        ]  # fmt: skip
    if target == "deals":
        return [
            r.title, str(r.amount), r.currency, r.pipeline.name, r.stage.name,
            _date(r.expected_close, calendar), str(r.probability),
            r.company.name if r.company else "", _tags(r), owner, r.notes,
        ]  # fmt: skip
    if target == "products":
        return [r.name, r.sku, r.description, r.unit, str(r.price), r.currency, str(r.tax_percent)]
    return [
        r.kind, r.subject, r.body, r.due_at.isoformat() if r.due_at else "",
        r.done_at.isoformat() if r.done_at else "", r.location, owner,
    ]  # fmt: skip


# ---------------------------------------------------------------- writers


def write_csv(rows: Iterator[list[str]], out: IO[str]) -> int:
    writer = csv.writer(out)
    out.write("\ufeff")
    count = -1
    for row in rows:
        writer.writerow([neutralise(c) for c in row])
        count += 1
    return max(count, 0)


def write_xlsx(rows: Iterator[list[str]], path: Path) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    count = -1
    for row in rows:
        sheet.append([neutralise(c) for c in row])
        count += 1
    workbook.save(path)
    return max(count, 0)


def _vcard_escape(text: str) -> str:
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace(",", "\\,")
        .replace(";", "\\;")
    )


def write_vcard(*, actor: Any, target: str, filters: dict[str, Any], out: IO[str]) -> int:
    """vCard 3.0, one card per contact (companies: one card per company, ORG only)."""
    if target not in ("contacts", "companies", "leads"):
        raise Invalid({"format": [_("vCard is for contacts, companies and leads.")]})
    types = {"work": "WORK", "home": "HOME", "mobile": "CELL", "fax": "FAX", "other": "OTHER"}
    count = 0
    for r in export_queryset(actor=actor, target=target, filters=filters).iterator(chunk_size=2000):
        lines = ["BEGIN:VCARD", "VERSION:3.0"]
        if target == "companies":
            lines += [f"FN:{_vcard_escape(r.name)}", f"ORG:{_vcard_escape(r.name)}"]
        else:
            full = " ".join(p for p in (r.first_name, r.last_name) if p) or "—"
            lines += [
                f"N:{_vcard_escape(r.last_name)};{_vcard_escape(r.first_name)};;;",
                f"FN:{_vcard_escape(full)}",
            ]
            company = (
                r.company_name
                if target == "leads"
                else (r.primary_company.name if r.primary_company else "")
            )
            if company:
                lines.append(f"ORG:{_vcard_escape(company)}")
            if r.title:
                lines.append(f"TITLE:{_vcard_escape(r.title)}")
        if target == "leads":
            if r.email:
                lines.append(f"EMAIL:{r.email}")
            if r.phone:
                lines.append(f"TEL;TYPE=VOICE:{r.phone}")
        else:
            for point in r.points.all():
                kind = "EMAIL" if point.kind == "email" else "TEL"
                suffix = f";TYPE={types[point.label]}" if point.label in types else ""
                lines.append(f"{kind}{suffix}:{point.value}")
            if any((r.street, r.city, r.region, r.postal_code, r.country)):
                parts = ["", "", r.street, r.city, r.region, r.postal_code, r.country]
                lines.append("ADR:" + ";".join(_vcard_escape(p) for p in parts))
            if target == "contacts" and r.birthday:
                lines.append(f"BDAY:{r.birthday.isoformat()}")
            if r.website:
                lines.append(f"URL:{_vcard_escape(r.website)}")
            tags = [t.name for t in r.tags.all()]
            if tags:
                lines.append("CATEGORIES:" + ",".join(_vcard_escape(t) for t in tags))
        if r.notes:
            lines.append(f"NOTE:{_vcard_escape(r.notes)}")
        lines.append("END:VCARD")
        out.write("\r\n".join(lines) + "\r\n")
        count += 1
    return count


def export_to_file(
    *,
    actor: Any,
    target: str,
    file_format: str,
    path: Path,
    filters: dict[str, Any] | None = None,
    calendar: str = "",
) -> int:
    """Write the export to `path`; returns the number of records."""
    if file_format == "xlsx":
        return write_xlsx(
            export_rows(actor=actor, target=target, filters=filters, calendar=calendar), path
        )
    with open(path, "w", encoding="utf-8", newline="") as out:
        if file_format == "vcf":
            return write_vcard(actor=actor, target=target, filters=filters or {}, out=out)
        return write_csv(
            export_rows(actor=actor, target=target, filters=filters, calendar=calendar), out
        )


# ---------------------------------------------------------------- jobs


def export_create(
    *,
    actor: Any,
    target: str,
    file_format: str,
    filters: dict[str, Any] | None = None,
    calendar: str = "",
) -> ExportJob:
    """Queue an export of what the actor sees; the file is written by the worker."""
    from wasl.imports.tasks import run_export

    if not actor.is_active:
        raise Invalid({"actor": [_("Inactive user.")]})
    if target not in Target.values:
        raise Invalid({"target": [_("Unknown record type.")]})
    if file_format not in ExportJob.Format.values:
        raise Invalid({"format": [_("Choose csv, xlsx or vcf.")]})
    if file_format == "vcf" and target not in ("contacts", "companies", "leads"):
        raise Invalid({"format": [_("vCard is for contacts, companies and leads.")]})
    if calendar not in ("", "iso", "gregorian", "jalali", "hijri"):
        raise Invalid({"calendar": [_("Choose iso, gregorian, jalali or hijri.")]})
    export_queryset(actor=actor, target=target, filters=filters)  # validates the filters
    with transaction.atomic():
        job = ExportJob.objects.create(
            actor=actor,
            target=target,
            file_format=file_format,
            filters=filters or {},
            calendar=calendar or actor.calendar or "",
        )
        transaction.on_commit(partial(run_export.enqueue, job.pk))
    return job


def export_execute(*, job_id: int) -> ExportJob:
    """Write a queued export's file (the background task's body)."""
    import tempfile

    moved = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING
    )
    job = ExportJob.objects.select_related("actor").get(pk=job_id)
    if not moved:
        return job
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{job.target}.{job.file_format}"
            rows = export_to_file(
                actor=job.actor,
                target=job.target,
                file_format=job.file_format,
                path=path,
                filters=job.filters,
                calendar=job.calendar,
            )
            name = f"{job.target}-{timezone.now():%Y%m%d-%H%M%S}.{job.file_format}"
            with open(path, "rb") as handle:
                job.file.save(name, ContentFile(handle.read()), save=False)
        job.rows, job.status = rows, ExportJob.Status.DONE
    except Exception as error:
        job.status, job.error = ExportJob.Status.FAILED, str(error)[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "rows", "status", "error", "finished_at", "updated_at"])
    return job


def export_inline(
    *,
    actor: Any,
    target: str,
    file_format: str,
    filters: dict[str, Any] | None = None,
    calendar: str = "",
) -> bytes:
    """A small export written in the request (CSV, XLSX or vCard bytes)."""
    import tempfile

    if not actor.is_active:
        raise Conflict(_("Inactive user."))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{file_format}"
        export_to_file(
            actor=actor,
            target=target,
            file_format=file_format,
            path=path,
            filters=filters,
            calendar=calendar,
        )
        return path.read_bytes()


__all__ = ["io", "require_can_create"]
