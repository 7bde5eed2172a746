"""Reports over the API: one endpoint per report, the records behind a number, exports,
and the exchange rates the reports convert with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from wasl.core.api import ERROR_RESPONSES, Page, actor_of
from wasl.core.errors import Invalid, NotFound
from wasl.core.pagination import keyset_page
from wasl.reports import money, registry
from wasl.reports.export import report_to_csv, report_to_xlsx
from wasl.reports.filters import parse_filters
from wasl.reports.models import ExchangeRate

router = Router(tags=["reports"])


class ReportQuery(Schema):
    period: str | None = None  # this_week … last_year, custom (default this_quarter)
    start: dt.date | None = None  # first day of a custom period
    end: dt.date | None = None  # last day of a custom period
    pipeline: str | None = None
    owner: str | None = None
    team: str | None = None
    unit: str | None = None  # month or quarter (forecast, win-loss)
    target: str | None = None  # forecast target in the organisation's currency


class FiltersOut(Schema):
    period: str
    start: str
    end: str
    label: str
    pipeline: str | None = None
    owner: str | None = None
    team: str | None = None
    calendar: str
    time_zone: str
    currency: str


Number = int | float | str | None


class FigureOut(Schema):
    key: str
    label: str
    value: Number
    kind: str
    drill: str | None = None
    previous: Number = None
    change: float | None = None
    spark: list[Number] = []


class ColumnOut(Schema):
    key: str
    label: str
    kind: str


class TableOut(Schema):
    key: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


class ChartOut(Schema):
    kind: str
    labels: list[str]
    datasets: list[dict[str, Any]]
    key: str = ""
    title: str = ""


class ReportOut(Schema):
    key: str
    title: str
    filters: FiltersOut
    figures: list[FigureOut]
    tables: list[TableOut]
    charts: list[ChartOut]
    warnings: list[str]


class RecordOut(Schema):
    kind: str
    id: str
    title: str
    owner_id: str | None = None
    amount: str | None = None
    currency: str | None = None
    created_at: str | None = None
    closed_at: str | None = None


class ReportInfoOut(Schema):
    key: str
    title: str
    description: str


class RateIn(Schema):
    currency: str
    rate_date: str
    rate: str | float | int


class RateOut(Schema):
    id: str
    currency: str
    rate_date: str
    rate: str


def rate_out(rate: ExchangeRate) -> RateOut:
    return RateOut(
        id=str(rate.public_id),
        currency=rate.currency,
        rate_date=rate.rate_date.isoformat(),
        rate=str(rate.rate),
    )


def _build(request: HttpRequest, key: str) -> Any:
    definition = registry.get(key)
    actor = actor_of(request)
    filters = parse_filters(actor, request.GET.dict())
    return definition.build(actor, filters)


def _record_out(kind: str, record: Any) -> RecordOut:
    owner = getattr(record, "owner", None)
    amount = getattr(record, "amount", None)
    closed = getattr(record, "closed_at", None)
    created = getattr(record, "created_at", None)
    return RecordOut(
        kind=kind,
        id=str(record.public_id),
        title=str(record),
        owner_id=str(owner.public_id) if owner is not None else None,
        amount=None if amount is None else str(amount),
        currency=getattr(record, "currency", None),
        created_at=created.isoformat() if created else None,
        closed_at=closed.isoformat() if closed else None,
    )


@router.get("/reports", response={200: list[ReportInfoOut], **ERROR_RESPONSES})
def list_reports(request: HttpRequest):
    """The reports this installation has."""
    return [
        ReportInfoOut(key=d.key, title=str(d.title), description=str(d.description))
        for d in registry.all_reports()
    ]


@router.get("/reports/exchange-rates", response={200: Page[RateOut], **ERROR_RESPONSES})
def list_rates(request: HttpRequest, currency: str = "", cursor: str = "", limit: int = 100):
    """Exchange rates, newest first: one unit of `currency` in the organisation's currency
    from `rate_date` on."""
    rates = money.rate_list()
    if currency:
        rates = rates.filter(currency=currency.strip().upper())
    rows, next_cursor = keyset_page(
        rates, field="rate_date", descending=True, cursor=cursor or None, limit=limit
    )
    return {"items": [rate_out(r) for r in rows], "next": next_cursor}


@router.post("/reports/exchange-rates", response={201: RateOut, **ERROR_RESPONSES})
def set_rate(request: HttpRequest, payload: RateIn):
    """Set the rate of a currency on a date, replacing the one there (administrators)."""
    rate = money.set_rate(
        actor=actor_of(request),
        currency=payload.currency,
        rate_date=payload.rate_date,
        rate=payload.rate,
    )
    return Status(201, rate_out(rate))


@router.delete("/reports/exchange-rates/{rate_id}", response={204: None, **ERROR_RESPONSES})
def delete_rate(request: HttpRequest, rate_id: str):
    """Delete one exchange rate (administrators)."""
    money.delete_rate(actor=actor_of(request), rate=money.rate_get(rate_id))
    return Status(204, None)


def _report_endpoint(key: str) -> None:
    def get_report(request: HttpRequest, filters: Query[ReportQuery]):
        return _build(request, key).as_dict()

    get_report.__name__ = f"report_{key.replace('-', '_')}"
    get_report.__doc__ = (
        f"The `{key}` report for a period (default this quarter, in your calendar), "
        "narrowed by pipeline, owner and team."
    )
    router.get(
        f"/reports/{key}",
        response={200: ReportOut, **ERROR_RESPONSES},
        operation_id=f"report_{key.replace('-', '_')}",
        summary=f"Report: {key}",
    )(get_report)


for _key in registry.REPORT_KEYS:
    _report_endpoint(_key)


@router.get("/reports/{key}/records", response={200: Page[RecordOut], **ERROR_RESPONSES})
def report_records(
    request: HttpRequest,
    key: str,
    cell: str,
    filters: Query[ReportQuery],
    cursor: str = "",
    limit: int = 25,
):
    """The records behind one number of a report (its `drill` id), newest first; the
    same filters as the report."""
    definition = registry.get(key)
    if definition.drill is None:
        raise NotFound()
    actor = actor_of(request)
    report_filters = parse_filters(actor, request.GET.dict())
    kind, records = definition.drill(actor, report_filters, cell)
    rows, next_cursor = keyset_page(
        records.select_related("owner"),
        field="id",
        descending=True,
        cursor=cursor or None,
        limit=limit,
    )
    return {"items": [_record_out(kind, r) for r in rows], "next": next_cursor}


@router.get("/reports/{key}/export", response={200: None, **ERROR_RESPONSES})
def report_export(request: HttpRequest, key: str, filters: Query[ReportQuery], format: str = "csv"):
    """The report's tables as CSV or XLSX (one sheet per table)."""
    if format not in ("csv", "xlsx"):
        raise Invalid({"format": [_("Choose csv or xlsx.")]})
    report = _build(request, key)
    language = (translation.get_language() or "en").split("-")[0]
    if format == "csv":
        body, content_type = report_to_csv(report, language), "text/csv; charset=utf-8"
    else:
        body = report_to_xlsx(report, language)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    stamp = report.filters.period.start.isoformat()
    response["Content-Disposition"] = f'attachment; filename="{key}-{stamp}.{format}"'
    return response
