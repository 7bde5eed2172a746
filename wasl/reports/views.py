"""Report pages: the KPI dashboard, one generic page per report, the records behind a
number, exports, a printable dashboard and the exchange-rates page of administrators.

Every page renders any `wasl.reports.results.Report` the same way, so a new report needs
no template. Numbers are formatted here, once, in the viewer's digits and currency.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wasl.core import formatting
from wasl.core.errors import Forbidden, Invalid, NotFound
from wasl.core.links import record_url
from wasl.core.pagination import keyset_page
from wasl.core.visibility import Role, is_admin
from wasl.reports import dashboards, registry
from wasl.reports.export import report_to_csv, report_to_xlsx
from wasl.reports.filters import ReportFilters, parse_filters
from wasl.reports.forms import (
    FILTER_NAMES,
    REPORT_OPTIONS,
    CardAddForm,
    ExchangeRateForm,
    ReportFilterForm,
)
from wasl.reports.money import delete_rate, rate_list, set_rate
from wasl.reports.results import Chart, Figure, Report, Table

View = Callable[..., HttpResponse]
DRILL_PAGE = 25
RATES_PAGE = 50
# Figures where a rise is bad news: the change arrow is red when they go up.
LOWER_IS_BETTER = ("churn", "cycle", "overdue", "lost", "risk", "response", "stall")
EXPORT_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def _section(view: View) -> View:
    """Marks the menu entry and turns the services' not-found and forbidden into the
    404 and 403 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.wasl_section = "reports"  # type: ignore[attr-defined]
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404 from error
        except Forbidden as error:
            raise PermissionDenied from error

    return wrapper


def _definition(key: str) -> registry.ReportDefinition:
    try:
        definition = registry.get(key)
    except (KeyError, LookupError, NotFound) as error:
        raise Http404 from error
    if definition is None:
        raise Http404
    return definition


# ---------------------------------------------------------------- formatting


def _percent(value: Any, places: int = 1) -> str:
    prefs = formatting.current_prefs()
    sign = "\u066a" if prefs.native else "%"
    return f"{formatting.format_number(float(value) * 100, places)}{sign}"


def format_value(value: Any, kind: str, currency: str) -> str:
    """A figure or a table cell as the viewer reads it."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return formatting.money(value, currency)
    if kind == "percent":
        return _percent(value)
    if kind == "days":
        return _("%(number)s d") % {"number": formatting.format_number(value, 1)}
    if kind == "hours":
        return _("%(number)s h") % {"number": formatting.format_number(value, 1)}
    if kind == "count":
        return formatting.format_number(value)
    if kind == "date":
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value[:10])
            except ValueError:
                return formatting.digits(value)
        return formatting.local_date(value)
    return formatting.digits(str(value))


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _lower_is_better(key: str) -> bool:
    return any(word in key for word in LOWER_IS_BETTER)


def _change(figure: Figure) -> dict[str, Any] | None:
    change = getattr(figure, "change", None)
    if change is None:
        return None
    amount = _percent(abs(change))
    if change > 0.0005:
        direction, text = "up", _("Up %(change)s on the previous period") % {"change": amount}
    elif change < -0.0005:
        direction, text = "down", _("Down %(change)s on the previous period") % {"change": amount}
    else:
        direction, text = "flat", _("No change on the previous period")
    good = direction == "flat" or ((direction == "up") != _lower_is_better(figure.key))
    return {
        "direction": direction,
        "text": text,
        "short": amount,
        "css": "text-body-secondary"
        if direction == "flat"
        else "text-success"
        if good
        else "text-danger",
        "icon": {"up": "bi-arrow-up", "down": "bi-arrow-down", "flat": "bi-dash"}[direction],
    }


class _Links:
    """Drill-down URLs of one report: the URL is reversed once."""

    def __init__(self, key: str, query: dict[str, str]) -> None:
        self.base = reverse("reports:drill", args=[key])
        self.query = query

    def __call__(self, cell: str | None) -> str:
        if not cell:
            return ""
        return f"{self.base}?{urlencode({'cell': cell, **self.query})}"


def present_figure(
    figure: Figure, currency: str, link: Callable[[str | None], str]
) -> dict[str, Any]:
    spark = [_number(v) for v in (getattr(figure, "spark", None) or [])]
    return {
        "key": figure.key,
        "label": figure.label,
        "kind": figure.kind,
        "text": format_value(figure.value, figure.kind, currency),
        "url": link(figure.drill),
        "change": _change(figure),
        "previous": format_value(getattr(figure, "previous", None), figure.kind, currency)
        if getattr(figure, "previous", None) is not None
        else "",
        "spark": spark if any(v is not None for v in spark) else [],
        "spark_json": json.dumps(spark) if any(v is not None for v in spark) else "",
    }


def present_table(table: Table, currency: str, link: Callable[[str | None], str]) -> dict[str, Any]:
    columns = [
        {"key": c.key, "label": c.label, "numeric": c.kind not in ("text", "date")}
        for c in table.columns
    ]
    rows = []
    for row in table.rows:
        drills = row.get("_drill") or {}
        rows.append(
            [
                {
                    "text": format_value(row.get(c.key), c.kind, currency),
                    "url": link(drills.get(c.key)) if row.get(c.key) else "",
                    "numeric": c.kind not in ("text", "date"),
                }
                for c in table.columns
            ]
        )
    return {"key": table.key, "title": table.title, "columns": columns, "rows": rows}


def present_chart(chart: Chart, element_id: str) -> dict[str, Any]:
    datasets = []
    for dataset in chart.datasets:
        datasets.append(
            {
                "label": str(dataset.get("label", "")),
                "data": [_number(v) for v in dataset.get("data", [])],
                **({"kind": dataset["kind"]} if dataset.get("kind") else {}),
            }
        )
    return {
        "id": element_id,
        "data_id": f"{element_id}-data",
        "title": str(getattr(chart, "title", "") or ""),
        "config": {
            "kind": chart.kind,
            "labels": [str(label) for label in chart.labels],
            "datasets": datasets,
        },
    }


def present_report(report: Report, query: dict[str, str], prefix: str = "chart") -> dict[str, Any]:
    currency = report.filters.currency
    link = _Links(report.key, query)
    return {
        "key": report.key,
        "title": report.title,
        "figures": [present_figure(f, currency, link) for f in report.figures],
        "tables": [present_table(t, currency, link) for t in report.tables],
        "charts": [
            present_chart(c, f"{prefix}-{report.key}-{i}") for i, c in enumerate(report.charts)
        ],
        "warnings": list(report.warnings),
    }


# ---------------------------------------------------------------- filters


def _filter_state(request: HttpRequest) -> tuple[ReportFilterForm, ReportFilters, dict[str, str]]:
    """The filter bar's form, the filters it gives and the same as query parameters.
    Filters the form refuses fall back to the defaults, with the form showing why."""
    user = request.user
    form = ReportFilterForm(request.GET or None, user=user)
    params: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        params = form.params()
    # Parameters of one report (a forecast's `unit`, `target`) pass through untouched.
    extra = {
        name: value
        for name, value in request.GET.items()
        if name not in FILTER_NAMES and name not in ("cell", "cursor", "format") and value
    }
    params.update(extra)
    try:
        filters = parse_filters(user, params)
    except (Invalid, NotFound) as error:
        fields = getattr(error, "fields", None) or {}
        for name, problems in fields.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        if not fields:
            form.add_error(None, _("These filters cannot be used."))
        filters = parse_filters(user, extra)
        params = dict(extra)
    return form, filters, params


def _build(
    definition: registry.ReportDefinition,
    user: Any,
    form: ReportFilterForm,
    filters: ReportFilters,
    params: dict[str, str],
) -> tuple[Report, ReportFilters, dict[str, str]]:
    """Build the report; when it refuses one of its own options (a forecast's unit or
    target), build it with the common filters alone and say why on the form."""
    try:
        return definition.build(user, filters), filters, params
    except Invalid as error:
        for name, problems in (error.fields or {}).items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        common = {k: v for k, v in params.items() if k in FILTER_NAMES[:6]}
        filters = parse_filters(user, common)
        return definition.build(user, filters), filters, common


def _filter_context(
    request: HttpRequest, form: ReportFilterForm, filters: ReportFilters, params: dict[str, str]
) -> dict[str, Any]:
    period = filters.period
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    return {
        "form": form,
        "filters": filters,
        "period_key": params.get("period") or period.key,
        "period_label": formatting.digits(period.label(get_language())),
        "period_first": period.start,
        "period_last": period.end - dt.timedelta(days=1),
        "start_value": data.get("start") or (period.start if period.key == "custom" else None),
        "end_value": data.get("end")
        or (period.end - dt.timedelta(days=1) if period.key == "custom" else None),
        "query": urlencode(params),
        "params": params,
        "is_admin": is_admin(request.user),  # type: ignore[arg-type]
    }


# ---------------------------------------------------------------- dashboard


def _dashboard_heading(user: Any) -> str:
    if user.role == Role.ADMIN:
        return _("All teams")
    if user.role in (Role.MANAGER, Role.READONLY):
        return _("My teams")
    return _("My numbers")


def _chart_card(card: dashboards.BuiltCard, params: dict[str, str]) -> dict[str, Any]:
    query = f"?{urlencode(params)}" if params else ""
    shown = {
        "kind": "chart",
        "ref": card.ref.ref,
        "title": card.title,
        "url": reverse("reports:report", args=[card.report_key]) + query,
    }
    if card.chart is None:
        load = reverse("reports:dashboard-chart", args=[card.ref.ref]) + query
        return {**shown, "lazy": True, "load_url": load}
    return {**present_chart(card.chart, f"card-{card.report_key}-{card.index}"), **shown}


def _dashboard_context(request: HttpRequest, *, lazy: bool) -> dict[str, Any]:
    user = request.user
    form, filters, params = _filter_state(request)
    board = dashboards.build_dashboard(user=user, filters=filters, lazy=lazy)
    cards = []
    currency = filters.currency
    for card in board.cards:
        link = _Links(card.report_key, params)
        if card.figure is not None:
            cards.append({**present_figure(card.figure, currency, link), "kind": "figure"})
        else:
            cards.append(_chart_card(card, params))
    context = _filter_context(request, form, filters, params)
    context.update(
        {
            "heading": _dashboard_heading(user),
            "cards": cards,
            "missing_cards": board.missing,
            "warnings": board.warnings,
            "customised": board.customised,
            "reports": [
                {"key": d.key, "title": d.title, "description": d.description}
                for d in registry.all_reports()
            ],
        }
    )
    return context


@require_GET
@_section
def index(request: HttpRequest) -> HttpResponse:
    """The viewer's KPI dashboard (their own numbers, their teams', or everyone's) and the
    list of reports."""
    return render(request, "reports/index.html", _dashboard_context(request, lazy=True))


@require_GET
@_section
def print_dashboard(request: HttpRequest) -> HttpResponse:
    """The dashboard on a page of its own, laid out for A4."""
    return render(request, "reports/print.html", _dashboard_context(request, lazy=False))


@require_GET
@_section
def dashboard_chart(request: HttpRequest, ref: str) -> HttpResponse:
    """One chart card of the dashboard, loaded after the page (htmx)."""
    try:
        card = dashboards.parse_ref(ref)
    except Invalid as error:
        raise Http404 from error
    if card.kind != "chart":
        raise Http404
    definition = _definition(card.key)
    form, filters, params = _filter_state(request)
    built, filters, params = _build(definition, request.user, form, filters, params)
    if card.index >= len(built.charts):
        raise Http404
    chart = built.charts[card.index]
    title = str(getattr(chart, "title", "") or built.title)
    shown = _chart_card(
        dashboards.BuiltCard(card, card.key, title, card.index, chart=chart), params
    )
    return render(request, "reports/partials/chart_card.html", {"card": shown})


@require_http_methods(["GET", "POST"])
@_section
def dashboard_edit(request: HttpRequest) -> HttpResponse:
    """Add, remove and reorder the dashboard's cards, or go back to the default."""
    user = request.user
    kpis = dashboards.kpi_report(user)
    choices = dashboards.card_labels(user=user, kpis=kpis)
    if request.method == "POST":
        action = request.POST.get("action", "")
        card = request.POST.get("card", "")
        try:
            if action == "add":
                form = CardAddForm(request.POST, choices=choices)
                if not form.is_valid():
                    raise Invalid({"card": [_("Choose a card to add.")]})
                dashboards.dashboard_add_card(actor=user, card=form.cleaned_data["card"])
                messages.success(request, _("The card was added."))
            elif action == "remove":
                dashboards.dashboard_remove_card(actor=user, card=card)
                messages.success(request, _("The card was removed."))
            elif action in ("up", "down"):
                dashboards.dashboard_move_card(
                    actor=user, card=card, offset=-1 if action == "up" else 1
                )
            elif action == "reset":
                dashboards.dashboard_reset(actor=user)
                messages.success(request, _("Your dashboard is back to the default."))
            else:
                raise Invalid({"action": [_("Unknown action.")]})
        except Invalid as error:
            for problems in (error.fields or {}).values():
                for problem in problems:
                    messages.error(request, problem)
        return redirect("reports:dashboard-edit")
    current = dashboards.dashboard_cards(user=user, kpis=kpis)
    labels = dict(choices)
    chosen = {card.ref for card in current}
    context = {
        "current": [{"ref": card.ref, "label": labels.get(card.ref, card.ref)} for card in current],
        "form": CardAddForm(choices=[c for c in choices if c[0] not in chosen]),
        "can_add": any(c[0] not in chosen for c in choices),
        "customised": dashboards.is_customised(user=user),
    }
    return render(request, "reports/dashboard_edit.html", context)


# ---------------------------------------------------------------- one report


@require_GET
@_section
def report(request: HttpRequest, key: str) -> HttpResponse:
    """Any report: the filter bar, its figures, charts and tables, export and print."""
    definition = _definition(key)
    form, filters, params = _filter_state(request)
    built, filters, params = _build(definition, request.user, form, filters, params)
    context = _filter_context(request, form, filters, params)
    context.update(
        {
            "definition": definition,
            "report": present_report(built, params),
            "page_url": reverse("reports:report", args=[key]),
            "options": REPORT_OPTIONS.get(key, ()),
        }
    )
    return render(request, "reports/report.html", context)


@require_GET
@_section
def export(request: HttpRequest, key: str) -> HttpResponse:
    """The report as a CSV or XLSX download, with the filters of the page."""
    definition = _definition(key)
    kind = request.GET.get("format", "csv")
    if kind not in EXPORT_TYPES:
        raise Http404
    form, filters, params = _filter_state(request)
    built, filters, _params = _build(definition, request.user, form, filters, params)
    language = get_language() or "en"
    body = report_to_csv(built, language) if kind == "csv" else report_to_xlsx(built, language)
    content_type, extension = EXPORT_TYPES[kind]
    response = HttpResponse(body, content_type=content_type)
    stamp = filters.period.start.isoformat()
    response["Content-Disposition"] = f'attachment; filename="{key}-{stamp}.{extension}"'
    return response


# ---------------------------------------------------------------- drill-down


def _drill_row(kind: str, record: Any, currency: str) -> dict[str, Any]:
    """One record of a drill-down list: its name, a detail and the link to its page."""
    public_id = getattr(record, "public_id", None)
    owner = getattr(record, "owner", None)
    row: dict[str, Any] = {
        "title": str(record),
        "detail": "",
        "owner": (owner.get_full_name() or owner.username) if owner is not None else "",
        "date": getattr(record, "created_at", None),
        "url": "",
    }
    if kind == "deal":
        row["detail"] = formatting.money(record.amount, record.currency or currency)
        row["title"] = record.title
    elif kind == "activity":
        row["title"] = record.subject
        row["detail"] = record.get_kind_display()
        row["date"] = record.done_at or record.due_at or record.created_at
        for related in ("deal", "lead", "contact", "company"):
            target = getattr(record, f"{related}_id", None) and getattr(record, related)
            if target is not None:
                row["url"] = record_url(related, target.public_id)
                break
        return row
    if public_id is not None:
        row["url"] = record_url(kind, public_id)
    return row


DRILL_RELATED = {
    "deal": ("owner",),
    "lead": ("owner",),
    "contact": ("owner",),
    "company": ("owner",),
    "activity": ("owner", "deal", "lead", "contact", "company"),
}


@require_GET
@_section
def drill(request: HttpRequest, key: str) -> HttpResponse:
    """The records behind one number of a report, newest first, 25 a page; the total is
    the number on the report."""
    definition = _definition(key)
    if definition.drill is None:
        raise Http404
    cell = request.GET.get("cell", "")
    if not cell:
        raise Http404
    params = {name: request.GET[name] for name in request.GET if name not in ("cell", "cursor")}
    try:
        # Filters a page never links to (another rep as owner) find nothing to list.
        filters = parse_filters(request.user, params)
        kind, queryset = definition.drill(request.user, filters, cell)
    except (Invalid, KeyError, ValueError) as error:
        raise Http404 from error
    related = [
        name
        for name in DRILL_RELATED.get(kind, ())
        if any(f.name == name for f in queryset.model._meta.get_fields())
    ]
    total = queryset.count()
    try:
        rows, next_cursor = keyset_page(
            queryset.select_related(*related),
            field="id",
            descending=True,
            cursor=request.GET.get("cursor") or None,
            limit=DRILL_PAGE,
        )
    except Invalid as error:
        raise Http404 from error
    query = {**params, "cell": cell}
    context = {
        "definition": definition,
        "kind": kind,
        "total": total,
        "rows": [_drill_row(kind, r, filters.currency) for r in rows],
        "next_url": f"?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else "",
        "first_url": f"?{urlencode(query)}" if request.GET.get("cursor") else "",
        "report_url": reverse("reports:report", args=[key])
        + (f"?{urlencode(params)}" if params else ""),
        "period_label": formatting.digits(filters.period.label(get_language())),
        "cell": cell,
    }
    return render(request, "reports/drill.html", context)


# ---------------------------------------------------------------- exchange rates


def _admin_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_admin(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _rate_errors(form: ExchangeRateForm, error: Invalid) -> None:
    for name, problems in (error.fields or {}).items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


def _access_rate(public_id: Any) -> Any:
    rate = rate_list().filter(public_id=public_id).first()
    if rate is None:
        raise Http404
    return rate


@require_http_methods(["GET", "POST"])
@_section
@_admin_only
def exchange_rates(request: HttpRequest) -> HttpResponse:
    """Exchange rates by currency and date; administrators add one here."""
    form = ExchangeRateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                set_rate(
                    actor=request.user,
                    currency=form.cleaned_data["currency"],
                    rate_date=form.cleaned_data["rate_date"],
                    rate=form.cleaned_data["rate"],
                )
            except Invalid as error:
                _rate_errors(form, error)
            else:
                messages.success(request, _("The exchange rate was saved."))
                return redirect("reports:exchange-rates")
        status = 422
    rates, next_cursor = keyset_page(
        rate_list(),
        field="rate_date",
        descending=True,
        cursor=request.GET.get("cursor") or None,
        limit=RATES_PAGE,
    )
    context = {
        "form": form,
        "rates": rates,
        "next_url": f"?{urlencode({'cursor': next_cursor})}" if next_cursor else "",
        "currency": formatting.current_prefs().currency,
    }
    return render(request, "reports/exchange_rates.html", context, status=status)


@require_http_methods(["GET", "POST"])
@_section
@_admin_only
def exchange_rate_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Change the rate of one currency on one date."""
    rate = _access_rate(public_id)
    initial = {"rate": rate.rate}
    data = request.POST if request.method == "POST" else None
    form = ExchangeRateForm(data, initial=initial)
    # The currency and date name the rate; only its value changes here.
    del form.fields["currency"], form.fields["rate_date"]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                set_rate(
                    actor=request.user,
                    currency=rate.currency,
                    rate_date=rate.rate_date,
                    rate=form.cleaned_data["rate"],
                )
            except Invalid as error:
                _rate_errors(form, error)
            else:
                messages.success(request, _("The exchange rate was saved."))
                return redirect("reports:exchange-rates")
        status = 422
    return render(
        request, "reports/exchange_rate_edit.html", {"form": form, "rate": rate}, status=status
    )


@require_POST
@_section
@_admin_only
def exchange_rate_delete(request: HttpRequest, public_id: Any) -> HttpResponse:
    rate = _access_rate(public_id)
    delete_rate(actor=request.user, rate=rate)
    messages.success(request, _("The exchange rate was deleted."))
    return redirect("reports:exchange-rates")
