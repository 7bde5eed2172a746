"""Import, duplicate, merge and export pages: thin views over the imports services."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wasl.accounts.selectors import user_list
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing import CommonFilters
from wasl.contacts.listing_ui import add_service_errors, is_htmx
from wasl.core.errors import Conflict, Forbidden, Invalid
from wasl.core.formatting import current_prefs, local_date
from wasl.core.visibility import Role, can_assign_to, require_can_create
from wasl.imports import duplicates, exports, merge, services
from wasl.imports.access import access_export, access_import, access_mapping, access_merge
from wasl.imports.forms import (
    ENTITY_TARGETS,
    ExportForm,
    MappingForm,
    MergeForm,
    SheetForm,
    UploadForm,
)
from wasl.imports.models import ExportJob, ImportJob
from wasl.imports.parsers import UnreadableFile, open_table
from wasl.imports.selectors import import_list, mapping_list, merge_list, row_errors
from wasl.leads.access import access_lead

SHOWN_ERRORS = 200
SAMPLE_ROWS = 3
KINDS = ("contact", "company", "lead")
RUNNING = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.UNDONE)


def _section(request: HttpRequest) -> None:
    request.wasl_section = "imports"  # type: ignore[attr-defined]


def _entity(target: str) -> str | None:
    return {"contacts": "contact", "companies": "company", "leads": "lead"}.get(target)


def _assignable(actor: Any) -> list[Any]:
    return [u for u in user_list(actor=actor).filter(is_active=True) if can_assign_to(actor, u)]


# ---------------------------------------------------------------- imports


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The user's imports (an administrator's: everyone's), newest first."""
    _section(request)
    jobs = list(import_list(actor=request.user)[:100])
    return render(
        request,
        "imports/index.html",
        {"jobs": jobs, "all_users": request.user.role == Role.ADMIN},
    )


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Step 1: the file, what it holds and how to read it; the answer is the mapping page."""
    require_can_create(request.user)
    _section(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.import_check(
                actor=request.user,
                upload=data["file"],
                filename=data["file"].name,
                target=data["target"],
                encoding=data["encoding"],
                delimiter=data["delimiter"],
            )
        except Invalid as error:
            add_service_errors(form, error, {"columns": "file", "options": "file"})
        else:
            return redirect("imports:mapping", public_id=job.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


def _samples(job: ImportJob) -> list[list[str]]:
    """The first rows of the file, to show beside each column."""
    try:
        table = open_table(
            job.file.path,
            filename=job.filename,
            encoding=job.encoding if job.options.get("encoding") else "",
            sheet=job.sheet,
            delimiter=job.delimiter if job.options.get("delimiter") else "",
        )
    except (UnreadableFile, OSError):
        return []
    rows: list[list[str]] = []
    try:
        for _number, cells in table.rows:
            rows.append(cells)
            if len(rows) >= SAMPLE_ROWS:
                break
    except UnreadableFile:
        pass
    finally:
        table.close()
    return rows


def _custom_labels(target: str) -> dict[str, str]:
    entity = _entity(target)
    if not entity:
        return {}
    return {key: str(d.label) for key, d in definitions_for(entity).items()}


def _mapping_form(request: HttpRequest, job: ImportJob, people: list[Any]) -> MappingForm:
    kwargs = {
        "headers": job.headers,
        "target": job.target,
        "custom": _custom_labels(job.target),
        "people": people,
    }
    if request.method == "POST":
        return MappingForm(request.POST, **kwargs)
    columns, options = job.columns, job.options
    if request.GET.get("mapping"):
        saved = access_mapping(request.user, request.GET["mapping"])
        if saved.target == job.target:
            matching = {h: f for h, f in saved.columns.items() if h in job.headers}
            columns = {h: matching.get(h, "") for h in job.headers} if matching else columns
            options = {**job.options, **saved.options}
    return MappingForm(
        initial=MappingForm.initial_from(job.headers, columns, options, people), **kwargs
    )


@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step 2: each column → a field (the suggestion preselected), saved mappings, value
    options and the duplicate policy; saving checks the file again (the dry run)."""
    job = access_import(request.user, public_id)
    _section(request)
    if job.status != ImportJob.Status.CHECKED:
        return redirect("imports:detail", public_id=job.public_id)
    people = _assignable(request.user)
    form = _mapping_form(request, job, people)
    if request.method == "POST" and form.is_valid():
        columns, options = form.columns(), form.options()
        saved = None
        try:
            if form.cleaned_data.get("saved_name"):
                saved = services.mapping_save(
                    actor=request.user,
                    name=form.cleaned_data["saved_name"],
                    target=job.target,
                    columns=columns,
                    options=options,
                )
            services.import_recheck(
                actor=request.user, job=job, columns=columns, options=options, mapping=saved
            )
        except Invalid as error:
            _column_errors(form, error)
        except Forbidden as error:
            form.add_error("saved_name", error.message or _("You may not replace this mapping."))
        except Conflict as error:
            messages.warning(request, error.message)
            return redirect("imports:detail", public_id=job.public_id)
        else:
            return redirect("imports:detail", public_id=job.public_id)
    samples = _samples(job)
    rows = []
    for index, (header, field) in enumerate(form.column_fields()):
        values = [row[index] for row in samples if index < len(row) and row[index].strip()]
        rows.append({"header": header, "field": field, "samples": values})
    context = {
        "job": job,
        "form": form,
        "rows": rows,
        "saved": list(mapping_list(actor=request.user, target=job.target)[:100]),
        "sheet_form": SheetForm(initial={"sheet": job.sheet}),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/mapping.html", context, status=status)


def _column_errors(form: MappingForm, error: Invalid) -> None:
    by_header = dict(zip(form.headers, form.column_names, strict=True))
    for name, problems in error.fields.items():
        target = None
        if name.startswith("columns."):
            target = by_header.get(name.removeprefix("columns."))
        elif name in form.fields:
            target = name
        for problem in problems:
            form.add_error(target, problem)


@require_POST
def sheet(request: HttpRequest, public_id: str) -> HttpResponse:
    """Read another sheet of a workbook: its columns are suggested afresh."""
    job = access_import(request.user, public_id)
    form = SheetForm(request.POST)
    if form.is_valid() and form.cleaned_data["sheet"] in job.sheets:
        try:
            services.import_recheck(
                actor=request.user, job=job, columns=None, sheet=form.cleaned_data["sheet"]
            )
        except (Invalid, Conflict) as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Choose one of the workbook's sheets."))
    return redirect("imports:mapping", public_id=job.public_id)


@require_GET
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step 3 (the dry run's result), 4 (progress) or 5 (the result), by the job's state."""
    job = access_import(request.user, public_id)
    _section(request)
    errors = list(row_errors(job=job)[: SHOWN_ERRORS + 1])
    context = {
        "job": job,
        "errors": errors[:SHOWN_ERRORS],
        "more_errors": len(errors) > SHOWN_ERRORS,
        "column_names": [h for h, f in job.columns.items() if f],
        "field_labels": _field_labels(job),
    }
    if job.status == ImportJob.Status.CHECKED:
        return render(request, "imports/check.html", context)
    if job.status in RUNNING:
        return render(request, "imports/progress.html", context)
    return render(request, "imports/result.html", context)


def _field_labels(job: ImportJob) -> list[tuple[str, str]]:
    from wasl.imports.mapping import TARGET_FIELDS

    labels = {k: str(v) for k, v in TARGET_FIELDS.get(job.target, {}).items()}
    custom = _custom_labels(job.target)
    shown = []
    for header, field in job.columns.items():
        if not field:
            continue
        base, _sep, extra = field.partition(":")
        label = custom.get(extra, extra) if base == "custom" else labels.get(base, base)
        shown.append((header, label))
    return shown


@require_GET
def progress(request: HttpRequest, public_id: str) -> HttpResponse:
    """The progress bar (polled by htmx); once the job has finished, the result page."""
    job = access_import(request.user, public_id)
    if job.status not in RUNNING and is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = reverse("imports:detail", args=[job.public_id])
        return response
    return render(request, "imports/partials/progress.html", {"job": job})


@require_POST
def run(request: HttpRequest, public_id: str) -> HttpResponse:
    """Run a checked import in the background."""
    job = access_import(request.user, public_id)
    try:
        services.import_run(actor=request.user, job=job)
    except Conflict as error:
        messages.warning(request, error.message)
    return redirect("imports:detail", public_id=job.public_id)


@require_GET
def errors_csv(request: HttpRequest, public_id: str) -> HttpResponse:
    """The refused rows (of the dry run or of the run) as CSV, to fix and import again."""
    job = access_import(request.user, public_id)
    response = StreamingHttpResponse(
        services.import_errors_csv(job=job), content_type="text/csv; charset=utf-8"
    )
    stem = re.sub(r"[^\w.-]+", "-", job.filename.rsplit(".", 1)[0])[:60] or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-failed-rows.csv"'
    return response


@require_http_methods(["GET", "POST"])
def undo(request: HttpRequest, public_id: str) -> HttpResponse:
    """Undo a finished import after a confirmation."""
    job = access_import(request.user, public_id)
    _section(request)
    if request.method == "POST":
        try:
            services.import_undo(actor=request.user, job=job)
        except Conflict as error:
            messages.warning(request, error.message)
        else:
            messages.success(request, _("The import was undone."))
        return redirect("imports:detail", public_id=job.public_id)
    if job.status not in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return redirect("imports:detail", public_id=job.public_id)
    return render(request, "imports/undo.html", {"job": job})


# ---------------------------------------------------------------- duplicates and merges


def _kind(value: str | None) -> str:
    return value if value in KINDS else "contact"


@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Likely duplicates (from the last scan) among the records the user sees."""
    _section(request)
    kind = _kind(request.GET.get("kind"))
    found = duplicates.pair_list(actor=request.user, kind=kind)
    writable = duplicates.writable_ids(request.user, [r for _p, a, b in found for r in (a, b)])
    pairs = [
        {
            "score": pair.score,
            "reasons": duplicates.reason_labels(pair.reasons),
            "first": first,
            "second": second,
            "may_dismiss": first.pk in writable and second.pk in writable,
        }
        for pair, first, second in found
    ]
    dismissed = [
        {
            "pair": pair,
            "reasons": duplicates.reason_labels(pair.reasons),
            "first": first,
            "second": second,
        }
        for pair, first, second in duplicates.dismissed_pair_list(actor=request.user, kind=kind)
    ]
    context = {
        "kind": kind,
        "kinds": [
            ("contact", _("Contacts")),
            ("company", _("Companies")),
            ("lead", _("Leads")),
        ],
        "pairs": pairs,
        "dismissed": dismissed,
        "is_admin": request.user.role == Role.ADMIN,
        "may_scan": _may_scan(request.user),
        "merges": merge_list(actor=request.user, kind=kind),
    }
    return render(request, "imports/duplicates.html", context)


def _may_scan(actor: Any) -> bool:
    return bool(actor.is_active and actor.role in (Role.ADMIN, Role.MANAGER))


@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    """Start a full scan of one kind of record (managers and administrators)."""
    from wasl.imports.tasks import scan_duplicates

    kind = _kind(request.POST.get("kind"))
    if not _may_scan(request.user):
        raise Forbidden(_("Only managers and administrators start a full scan."))
    scan_duplicates.enqueue(kind)
    messages.success(
        request, _("The scan has started. Its pairs appear here when it is done; reload later.")
    )
    return redirect(f"{reverse('imports:duplicates')}?kind={kind}")


def _pair_from(request: HttpRequest, *, for_write: bool) -> tuple[str, Any, Any]:
    kind = request.POST.get("kind")
    if kind not in KINDS:
        raise Http404()
    first = LOADERS[kind](request.user, request.POST.get("first"), for_write=for_write)
    second = LOADERS[kind](request.user, request.POST.get("second"), for_write=for_write)
    return kind, first, second


def _back_to_duplicates(kind: str) -> HttpResponse:
    return redirect(f"{reverse('imports:duplicates')}?kind={kind}")


@require_POST
def duplicate_dismiss(request: HttpRequest) -> HttpResponse:
    """Mark a pair "not a duplicate": it leaves the list for good (htmx: the row goes)."""
    kind, first, second = _pair_from(request, for_write=True)
    try:
        duplicates.duplicate_dismiss(actor=request.user, kind=kind, first=first, second=second)
    except Invalid as error:
        message = " ".join(p for ps in error.fields.values() for p in ps)
        if is_htmx(request):
            return HttpResponse(message, status=422)
        messages.error(request, message)
        return _back_to_duplicates(kind)
    notice = _("Marked as not a duplicate: this pair will not be suggested again.")
    if is_htmx(request):
        response = HttpResponse("")
        response["HX-Trigger"] = json.dumps(
            {"wasl:notice": {"message": notice, "level": "success"}}
        )
        return response
    messages.success(request, notice)
    return _back_to_duplicates(kind)


@require_POST
def duplicate_restore(request: HttpRequest) -> HttpResponse:
    """Take a "not a duplicate" back (administrators): the pair is listed again."""
    kind, first, second = _pair_from(request, for_write=False)
    duplicates.duplicate_restore(actor=request.user, kind=kind, first=first, second=second)
    messages.success(request, _("The pair is back among the possible duplicates."))
    return _back_to_duplicates(kind)


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[\n,;،]+", text or "") if p.strip()]


@require_GET
def duplicate_check(request: HttpRequest) -> HttpResponse:
    """The warning under a create form: records the new one looks like (htmx)."""
    kind = _kind(request.GET.get("kind"))
    get = request.GET
    data = {
        "first_name": get.get("first_name", "")[:120],
        "last_name": get.get("last_name", "")[:120],
        "name": get.get("name", "")[:200],
        "company": (get.get("company") or get.get("company_name") or "")[:200],
        "emails": [*_split(get.get("emails", "")), *_split(get.get("email", ""))][:10],
        "phones": [*_split(get.get("phones", "")), *_split(get.get("phone", ""))][:10],
    }
    # On an edit form, the record being edited: it and the records dismissed as "not a
    # duplicate" of it are not suggested.
    record = LOADERS[kind](request.user, get["record"]) if get.get("record") else None
    found = []
    if any(data.values()):
        found = duplicates.possible_duplicates(request.user, kind, data, limit=3, record=record)
    candidates = [
        {"record": c.record, "kind": c.kind, "reasons": duplicates.reason_labels(c.reasons)}
        for c in found
    ]
    return render(request, "imports/partials/duplicate_warning.html", {"candidates": candidates})


LOADERS = {"contact": access_contact, "company": access_company, "lead": access_lead}
FOREIGN = {"owner", "primary_company"}


def _display(record: Any, name: str) -> str:
    if name.startswith("custom."):
        value = (record.custom or {}).get(name.removeprefix("custom."))
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "" if value in (None, "") else str(value)
    if name in FOREIGN:
        related = getattr(record, name)
        if related is None:
            return ""
        return related.get_full_name() or related.username if name == "owner" else str(related)
    value = getattr(record, name)
    if isinstance(value, dt.date):
        return local_date(value)
    display = getattr(record, f"get_{name}_display", None)
    if display and value:
        return str(display())
    return "" if value in (None, "") else str(value)


def _moves(kind: str, record: Any) -> list[tuple[str, int]]:
    """What hangs on a record and moves to the survivor with it."""
    counts = [
        (_("Activities"), record.activities.count()),
        (_("Tags"), record.tags.count()),
        (
            _("Custom values"),
            len([v for v in (record.custom or {}).values() if v not in ("", None, [])]),
        ),
    ]
    if kind == "contact":
        counts += [
            (_("Deals"), record.deals.count()),
            (_("E-mails and phones"), record.points.count()),
            (_("Companies"), record.companies.count()),
        ]
    elif kind == "company":
        counts += [
            (_("Deals"), record.deals.count()),
            (_("E-mails and phones"), record.points.count()),
            (_("People"), record.contacts.count()),
        ]
    return counts


@require_http_methods(["GET", "POST"])
def merge_records(request: HttpRequest, kind: str) -> HttpResponse:
    """Merge two or more records field by field; what hangs on them moves to the survivor."""
    if kind not in KINDS:
        raise Http404()
    _section(request)
    source = request.POST if request.method == "POST" else request.GET
    ids = list(dict.fromkeys(source.getlist("ids")))[:10]
    if len(ids) < 2:
        messages.warning(request, _("Choose at least two records to merge."))
        return redirect(f"{reverse('imports:duplicates')}?kind={kind}")
    records = [LOADERS[kind](request.user, public_id, for_write=True) for public_id in ids]
    custom = {
        f"custom.{key}": str(d.label)
        for key, d in definitions_for(kind).items()
        if any((r.custom or {}).get(key) not in (None, "", []) for r in records)
    }
    model = type(records[0])
    names = [n for n in merge.MERGEABLE[kind]]
    labels = {n: str(model._meta.get_field(n).verbose_name) for n in names} | custom
    fields = []
    for name in [*names, *custom]:
        values = [(r, _display(r, name)) for r in records]
        if not any(v for _r, v in values):
            continue
        best = next((r for r, v in values if v), records[0])
        fields.append(
            {
                "name": name,
                "label": labels[name],
                "values": values,
                "best": str(best.public_id),
                "same": len({v for _r, v in values}) == 1,
            }
        )
    form = MergeForm(
        source if request.method == "POST" else None,
        records=records,
        fields=[f["name"] for f in fields],
    )
    if request.method == "POST" and form.is_valid():
        by_id = {str(r.public_id): r for r in records}
        survivor = by_id[form.cleaned_data["survivor"]]
        others = [r for r in records if r.pk != survivor.pk]
        try:
            entry = merge.record_merge(
                actor=request.user,
                kind=kind,
                survivor=survivor,
                others=others,
                field_choices=form.field_choices(),
            )
        except Invalid as error:
            messages.error(request, " ".join(p for ps in error.fields.values() for p in ps))
        else:
            messages.success(request, _("The records were merged."))
            return redirect("imports:merge-result", audit_id=entry.pk)
    context = {
        "kind": kind,
        "records": [(r, _moves(kind, r)) for r in records],
        "fields": fields,
        "survivor": source.get("survivor") or str(records[0].public_id),
        "chosen": {f["name"]: source.get(f"field_{f['name']}") or f["best"] for f in fields},
        "form": form,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/merge.html", context, status=status)


@require_GET
def merge_result(request: HttpRequest, audit_id: int) -> HttpResponse:
    """A merge done: the surviving record, the merged ones, and undo."""
    entry = access_merge(request.user, audit_id)
    _section(request)
    kind = entry.data["before"]["kind"]
    context = {
        "entry": entry,
        "kind": kind,
        "survivor_id": entry.object_public_id,
        "survivor_name": entry.object_repr,
        "merged": entry.data.get("merged", []),
        "undone": merge.merge_undone(entry),
    }
    return render(request, "imports/merge_result.html", context)


@require_POST
def merge_undo(request: HttpRequest, audit_id: int) -> HttpResponse:
    """Undo a merge: the merged records come back with everything that moved."""
    entry = access_merge(request.user, audit_id)
    try:
        survivor = merge.merge_undo(actor=request.user, audit_entry=entry)
    except Conflict as error:
        messages.warning(request, error.message)
        return redirect("imports:merge-result", audit_id=entry.pk)
    messages.success(request, _("The merge was undone."))
    kind = entry.data["before"]["kind"]
    return redirect(reverse("web:resolve", args=[kind, survivor.public_id]))


# ---------------------------------------------------------------- exports


NOT_FILTERS = {
    "sort",
    "cursor",
    "before",
    "limit",
    "cols",
    "view",
    "date_field",
    "date_from",
    "date_to",
}


def _export_filters(query: str) -> dict[str, str]:
    """The list's filters from its query string: the shared ones as they are, the list's
    own (stage, status, …) as `list.<name>`."""
    params = QueryDict(query or "")
    common = set(CommonFilters.model_fields) - NOT_FILTERS
    filters: dict[str, str] = {}
    for key, value in params.items():
        if not value or key in NOT_FILTERS:
            continue
        if key in common or (key.startswith("custom.") and len(key) > 7):
            filters[key] = value
        else:
            filters[f"list.{key[:60]}"] = value[:200]
    return filters


@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """The list the user sees as CSV, XLSX or vCard: small ones at once, large ones as a
    background job with a page that shows the download link when ready."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        raise Http404()
    data = form.cleaned_data
    target = ENTITY_TARGETS[data["entity"]]
    calendar = "iso" if data.get("dates") == "iso" else (current_prefs().calendar or "gregorian")
    filters = _export_filters(data.get("q") or "")
    file_format = data["format"]
    back = request.headers.get("Referer") or reverse("imports:index")
    try:
        matching = exports.export_queryset(actor=request.user, target=target, filters=filters)
        rows = matching[: exports.INLINE_LIMIT + 1].count()
        if rows > exports.INLINE_LIMIT:
            job = exports.export_create(
                actor=request.user,
                target=target,
                file_format=file_format,
                filters=filters,
                calendar=calendar,
            )
            return redirect("imports:export-detail", public_id=job.public_id)
        if file_format == "vcf" and target not in ("contacts", "companies", "leads"):
            raise Invalid({"format": [_("vCard is for contacts, companies and leads.")]})
        content = exports.export_inline(
            actor=request.user,
            target=target,
            file_format=file_format,
            filters=filters,
            calendar=calendar,
        )
    except (Invalid, Conflict) as error:
        fields = getattr(error, "fields", {}) or {}
        messages.error(request, " ".join(p for ps in fields.values() for p in ps) or error.message)
        return redirect(back)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{target}-{stamp}.{file_format}"'
    return response


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}


@require_GET
def export_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A background export: its state (polled by htmx) and, when done, the download link."""
    job = access_export(request.user, public_id)
    _section(request)
    template = "imports/partials/export_status.html" if is_htmx(request) else "imports/export.html"
    return render(request, template, {"job": job})


@require_GET
def export_download(request: HttpRequest, public_id: str) -> HttpResponse:
    job = access_export(request.user, public_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404()
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=f"{job.target}.{job.file_format}",
        content_type=CONTENT_TYPES[job.file_format],
    )
