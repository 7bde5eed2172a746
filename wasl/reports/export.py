"""A report as CSV (every table one after the other) or XLSX (one sheet per table).

Figures come first as a summary table. Text cells that a spreadsheet would run as a
formula are neutralised the way record exports are."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from wasl.imports.exports import neutralise
from wasl.reports.results import Column, Report, Table

# Characters a worksheet title may not hold, and its length limit.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31


def _summary(report: Report) -> Table:
    return Table(
        "summary",
        _("Summary"),
        [Column("label", _("Figure")), Column("value", _("Value"))],
        [{"label": f.label, "value": f.value, "_kind": f.kind} for f in report.figures],
    )


def _tables(report: Report) -> list[Table]:
    return ([_summary(report)] if report.figures else []) + list(report.tables)


def _cell(value: Any, kind: str) -> Any:
    """A number stays a number (percentages as percent points); text is neutralised."""
    if value is None:
        return ""
    if kind == "percent" and isinstance(value, int | float | Decimal):
        return round(float(value) * 100, 2)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, list):
        return neutralise(", ".join(str(v) for v in value))
    return neutralise(value)


def _header(column: Column) -> str:
    label = str(column.label)
    return f"{label} (%)" if column.kind == "percent" else label


def _rows(table: Table) -> list[list[Any]]:
    rows: list[list[Any]] = [[neutralise(_header(c)) for c in table.columns]]
    for row in table.rows:
        rows.append([_cell(row.get(c.key), row.get("_kind", c.kind)) for c in table.columns])
    return rows


def report_to_csv(report: Report, language: str) -> bytes:
    """The report's tables in one CSV (UTF-8 with a byte-order mark for spreadsheets)."""
    with translation.override(language):
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow([neutralise(str(report.title))])
        writer.writerow([neutralise(report.filters.period.label(language))])
        for table in _tables(report):
            writer.writerow([])
            writer.writerow([neutralise(str(table.title))])
            writer.writerows(_rows(table))
        for warning in report.warnings:
            writer.writerow([neutralise(str(warning))])
        return out.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'")[:_SHEET_MAX] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: _SHEET_MAX - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def report_to_xlsx(report: Report, language: str) -> bytes:
    """The report as a workbook, one sheet per table (the figures on the first)."""
    from openpyxl import Workbook

    with translation.override(language):
        workbook = Workbook(write_only=True)
        used: set[str] = set()
        tables = _tables(report)
        if not tables:
            tables = [_summary(report)]
        for table in tables:
            sheet = workbook.create_sheet(_sheet_title(str(table.title), used))
            if language in ("fa", "ar"):
                sheet.sheet_view.rightToLeft = True
            for row in _rows(table):
                sheet.append(row)
        if report.warnings:
            sheet = workbook.create_sheet(_sheet_title(_("Warnings"), used))
            for warning in report.warnings:
                sheet.append([neutralise(str(warning))])
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
