"""Reports exported as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from wasl.deals.models import Deal
from wasl.reports import registry
from wasl.reports.export import report_to_csv, report_to_xlsx
from wasl.reports.filters import parse_filters
from wasl.reports.tests import sales_data

clock, organisation, sales = sales_data.clock, sales_data.organisation, sales_data.sales
FARVARDIN = {"period": "this_month"}


def build(user, key):
    return registry.get(key).build(user, parse_filters(user, FARVARDIN))


def test_csv_holds_the_figures_and_every_table(sales, personas):
    report = build(personas.admin, "win-loss")
    rows = list(csv.reader(io.StringIO(report_to_csv(report, "en").decode("utf-8-sig"))))
    assert rows[0] == ["Wins and losses"]
    assert rows[1] == ["Farvardin 1405"]
    assert ["Deals won", "2"] in rows
    assert ["Win rate (%)", "66.67"] in rows or ["Win rate", "66.67"] in rows
    titles = [r[0] for r in rows if len(r) == 1]
    assert {"Summary", "Lost reasons", "Lost to competitors", "Wins and losses over time"} <= set(
        titles
    )
    assert ["Price", "1", "5000.00", "100.0"] in rows


def test_formula_like_text_is_neutralised(sales, personas):
    Deal.objects.filter(title="D1").update(source="=HYPERLINK(1)")
    report = build(personas.admin, "sales-cycle")
    text = report_to_csv(report, "en").decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    workbook = load_workbook(io.BytesIO(report_to_xlsx(report, "en")))
    values = [c.value for ws in workbook for r in ws.iter_rows() for c in r]
    assert "'=HYPERLINK(1)" in values and "=HYPERLINK(1)" not in values


def test_xlsx_has_one_sheet_per_table_with_numbers_as_numbers(sales, personas):
    report = build(personas.admin, "forecast")
    workbook = load_workbook(io.BytesIO(report_to_xlsx(report, "en")))
    assert workbook.sheetnames[0] == "Summary"
    assert len(workbook.sheetnames) == 1 + len(report.tables) + (1 if report.warnings else 0)
    assert not workbook["Summary"].sheet_view.rightToLeft
    persian = load_workbook(io.BytesIO(report_to_xlsx(report, "fa")))
    assert persian.worksheets[0].sheet_view.rightToLeft
    summary = {r[0]: r[1] for r in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(summary["Value won"])) == Decimal("1900")


def test_export_endpoint_answers_a_file(sales, personas, api_as):
    client = api_as(personas.admin)
    response = client.get("reports/funnel/export", format="csv", **FARVARDIN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="funnel-2026-03-21.csv"' in response["Content-Disposition"]
    assert "Lead" in response.content.decode("utf-8-sig")
    xlsx = client.get("reports/funnel/export", format="xlsx", **FARVARDIN)
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[:2] == ["Summary", "Funnel"]
    assert client.get("reports/funnel/export", format="pdf").status_code == 422
