"""The reports API: every report in the OpenAPI, the numbers, the records behind them,
the error envelope, and the exchange rates."""

from __future__ import annotations

import pytest
from django.test import Client

from wasl.reports import registry
from wasl.reports.models import ExchangeRate
from wasl.reports.tests import sales_data

clock, organisation, sales = sales_data.clock, sales_data.organisation, sales_data.sales
FARVARDIN = {"period": "this_month"}


def test_the_openapi_lists_every_reports_path(db):
    spec = Client().get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for key in registry.REPORT_KEYS:
        assert f"/api/v1/reports/{key}" in paths, key
        params = {p["name"] for p in paths[f"/api/v1/reports/{key}"]["get"]["parameters"]}
        assert {"period", "start", "end", "pipeline", "owner", "team"} <= params
    for path in (
        "/api/v1/reports/{key}/records",
        "/api/v1/reports/{key}/export",
        "/api/v1/reports/exchange-rates",
        "/api/v1/reports/exchange-rates/{rate_id}",
    ):
        assert path in paths, path
    assert "ReportOut" in spec["components"]["schemas"]


def test_a_report_answers_its_numbers_with_the_filters_echoed(sales, personas, api_as):
    response = api_as(personas.admin).get("reports/win-loss", **FARVARDIN)
    assert response.status_code == 200
    body = response.json()
    figures = {f["key"]: f for f in body["figures"]}
    assert figures["won"]["value"] == 2
    assert figures["won_value"]["value"] == "1900.00"
    assert figures["lost_value"]["value"] == "5000.00"
    assert body["filters"]["start"] == "2026-03-21"
    assert body["filters"]["end"] == "2026-04-20"
    assert body["filters"]["label"] == "Farvardin 1405"
    assert body["filters"]["currency"] == "IRR"


def test_a_report_without_parameters_uses_the_defaults(sales, personas, api_as):
    response = api_as(personas.rep_a).get("reports/forecast")
    assert response.status_code == 200
    assert response.json()["filters"]["period"] == "this_quarter"


def test_a_reps_numbers_differ_from_a_managers(sales, personas, api_as):
    def won(user):
        body = api_as(user).get("reports/win-loss", period="custom", start="2026-03-01",
                                end="2026-04-20").json()  # fmt: skip
        return {f["key"]: f["value"] for f in body["figures"]}

    assert (won(personas.rep_a)["won"], won(personas.rep_a)["lost"]) == (3, 0)
    assert (won(personas.manager_a)["won"], won(personas.manager_a)["lost"]) == (3, 1)
    assert (won(personas.manager_b)["won"], won(personas.manager_b)["lost"]) == (0, 0)
    assert (won(personas.admin)["won"], won(personas.admin)["lost"]) == (3, 1)


def test_the_records_behind_a_number_add_up_to_it(sales, personas, api_as):
    client = api_as(personas.manager_a)
    body = client.get("reports/funnel", **FARVARDIN).json()
    funnel = next(t for t in body["tables"] if t["key"] == "funnel")
    for row in funnel["rows"]:
        for column, cell in row["_drill"].items():
            titles, cursor = [], None
            while True:
                params = {"cell": cell, "limit": 1, **FARVARDIN}
                if cursor:
                    params["cursor"] = cursor
                page = client.get("reports/funnel/records", **params).json()
                titles += [item["title"] for item in page["items"]]
                cursor = page["next"]
                if not cursor:
                    break
            assert len(titles) == len(set(titles)) == row[column], (row["stage"], column)
    lead = next(r for r in funnel["rows"] if r["stage"] == "Lead")
    page = client.get("reports/funnel/records", cell=lead["_drill"]["entered"], **FARVARDIN)
    assert sorted(i["title"] for i in page.json()["items"]) == ["D1", "D2"]
    assert {i["kind"] for i in page.json()["items"]} == {"deal"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "next_century"}, "period"),
        ({"period": "custom", "start": "2026-04-01"}, "period"),
        ({"period": "custom", "start": "2026-04-02", "end": "2026-04-01"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"owner": "not-an-id"}, "owner"),
        ({"pipeline": "6c1f4a5e-0000-4000-8000-000000000000"}, "pipeline"),
        ({"unit": "fortnight"}, "unit"),
    ],
)
def test_bad_parameters_answer_the_error_envelope(sales, personas, api_as, params, field):
    response = api_as(personas.admin).get("reports/win-loss", **params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_an_owner_the_viewer_may_not_see_is_refused(sales, personas, api_as):
    hidden = api_as(personas.rep_a).get("reports/funnel", owner=str(personas.rep_b.public_id))
    assert hidden.status_code == 422
    assert "owner" in hidden.json()["error"]["fields"]
    outsider = api_as(personas.manager_b).get("reports/funnel", owner=str(personas.rep_a.public_id))
    assert outsider.status_code == 422
    mine = api_as(personas.manager_a).get("reports/funnel", owner=str(personas.rep_a.public_id))
    assert mine.status_code == 200


def test_an_unknown_cell_or_a_report_not_there_is_not_found(sales, personas, api_as, monkeypatch):
    client = api_as(personas.admin)
    response = client.get("reports/funnel/records", cell="entered:nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    monkeypatch.delitem(registry._REGISTRY, "forecast")
    for path in (
        "reports/forecast",
        "reports/forecast/records?cell=open",
        "reports/forecast/export",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_reports_need_a_signed_in_user(db):
    assert Client().get("/api/v1/reports/funnel").status_code == 401


def test_the_report_list_names_the_registered_reports(db, personas, api_as):
    keys = [r["key"] for r in api_as(personas.rep_a).get("reports").json()]
    assert {"funnel", "stage-durations", "sales-cycle", "win-loss", "forecast"} <= set(keys)


def test_admins_keep_the_exchange_rates(sales, personas, api_as):
    admin = api_as(personas.admin)
    created = admin.post(
        "reports/exchange-rates", {"currency": "eur", "rate_date": "2026-04-01", "rate": "30"}
    )
    assert created.status_code == 201
    assert created.json()["currency"] == "EUR" and created.json()["rate"] == "30.00000000"
    listed = api_as(personas.rep_a).get("reports/exchange-rates", currency="EUR").json()
    assert [r["id"] for r in listed["items"]] == [created.json()["id"]]
    refused = api_as(personas.manager_a).post(
        "reports/exchange-rates", {"currency": "EUR", "rate_date": "2026-04-02", "rate": "1"}
    )
    assert refused.status_code == 403
    assert (
        api_as(personas.rep_a).delete(f"reports/exchange-rates/{created.json()['id']}").status_code
        == 403
    )
    invalid = admin.post(
        "reports/exchange-rates", {"currency": "EUR", "rate_date": "2026-04-02", "rate": "-1"}
    )
    assert invalid.status_code == 422 and "rate" in invalid.json()["error"]["fields"]
    assert ExchangeRate.objects.filter(currency="EUR").count() == 1
    assert admin.delete(f"reports/exchange-rates/{created.json()['id']}").status_code == 204
    assert not ExchangeRate.objects.filter(currency="EUR").exists()
    assert admin.delete(f"reports/exchange-rates/{created.json()['id']}").status_code == 404
