"""What a report returns: figures, tables and charts, and their JSON form.

A figure or a table cell with a `drill` id links to the records behind it: the report's
drill function answers the queryset of exactly the records counted."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.utils.functional import Promise

if TYPE_CHECKING:
    from wasl.reports.filters import ReportFilters

FigureKind = Literal["count", "money", "percent", "days", "hours"]
ColumnKind = Literal["text", "count", "money", "percent", "days", "hours", "date"]
ChartKind = Literal["bar", "line", "funnel", "doughnut", "stacked-bar"]
Value = Decimal | int | float | None


@dataclass
class Figure:
    key: str
    label: str
    value: Value
    kind: FigureKind
    drill: str | None = None
    previous: Value = None
    change: float | None = None  # fraction of the previous value (0.25 = up a quarter)
    spark: list[Value] = field(default_factory=list)


@dataclass
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]  # a row may carry "_drill": {column_key: cell id}


@dataclass
class Chart:
    kind: ChartKind
    labels: list[str]
    datasets: list[dict[str, Any]]  # {"label", "data", "kind"?}
    key: str = ""
    title: str = ""


@dataclass
class Report:
    key: str
    title: str
    filters: ReportFilters
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimal as a string, dates ISO, lazy texts resolved."""
        return {
            "key": self.key,
            "title": str(self.title),
            "filters": self.filters.echo(),
            "figures": [jsonable(f.__dict__) for f in self.figures],
            "tables": [
                {
                    "key": t.key,
                    "title": str(t.title),
                    "columns": [jsonable(c.__dict__) for c in t.columns],
                    "rows": [jsonable(row) for row in t.rows],
                }
                for t in self.tables
            ],
            "charts": [jsonable(c.__dict__) for c in self.charts],
            "warnings": [str(w) for w in self.warnings],
        }


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Promise):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def change(current: Value, previous: Value) -> float | None:
    """The change from `previous` to `current` as a fraction; None when undefined."""
    if current is None or previous is None or not previous:
        return None
    return round(
        float((Decimal(str(current)) - Decimal(str(previous))) / Decimal(str(previous))), 4
    )


def ratio(part: Value, whole: Value) -> float | None:
    """`part / whole` as a fraction rounded to four places; None when `whole` is zero."""
    if part is None or not whole:
        return None
    return round(float(Decimal(str(part)) / Decimal(str(whole))), 4)
