"""The activity report on a small crafted month, with the numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest

from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.leads.models import Lead
from wasl.leads.services import lead_convert, lead_create
from wasl.reports import registry
from wasl.reports.filters import parse_filters
from wasl.reports.results import Report

UTC = dt.UTC


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """`timezone.now()` (and so the auto timestamps) answers `moment`."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def march(user: Any, **params: str) -> Any:
    """Filters over March 2026 (Gregorian, UTC)."""
    return parse_filters(
        user,
        {"period": "custom", "start": "2026-03-01", "end": "2026-03-31", **params},
        today=dt.date(2026, 4, 15),
    )


def drilled_total(key: str, user: Any, filters: Any, cell_id: str) -> int:
    definition = registry.get(key)
    assert definition.drill is not None
    _kind, records = definition.drill(user, filters, cell_id)
    return records.count()


def check_drills(key: str, user: Any, filters: Any, report: Report) -> int:
    """Every figure and cell with a drill id lists exactly as many records as it shows.
    Returns how many numbers were checked."""
    checked = 0
    for figure in report.figures:
        if figure.drill and figure.kind == "count":
            assert drilled_total(key, user, filters, figure.drill) == figure.value, figure.key
            checked += 1
    for table in report.tables:
        for row in table.rows:
            for column, cell_id in row.get("_drill", {}).items():
                assert drilled_total(key, user, filters, cell_id) == row[column], (
                    table.key,
                    column,
                    row,
                )
                checked += 1
    return checked


def log(owner: Any, kind: str, moment: dt.datetime | None, **fields: Any) -> Activity:
    """An activity of `owner`; done at `moment` (None: still open)."""
    if kind in ("email", "sms", "note"):
        fields["done_at"] = moment
    activity = activity_create(actor=owner, kind=kind, subject=kind, owner=owner, **fields)
    if kind in ("call", "meeting", "task") and moment is not None:
        Activity.objects.filter(pk=activity.pk).update(done_at=moment)
    return activity


def make_lead(owner: Any, created: dt.datetime, **fields: Any) -> Lead:
    fields.setdefault("first_name", "Sara")
    fields.setdefault("last_name", "Ahmadi")
    with frozen(created):
        return lead_create(actor=owner, owner=owner, **fields)


def convert(lead: Lead, moment: dt.datetime) -> Any:
    with frozen(moment):
        return lead_convert(actor=lead.owner, lead=lead)


@pytest.fixture
def utc_gregorian(db):
    organisation_update(actor=None, time_zone="UTC", calendar="gregorian", currency="IRR")


@pytest.fixture
def month(personas, utc_gregorian):
    p = personas
    # Rep A: calls on the period's first and last evening, one the day before it.
    log(p.rep_a, "call", at(1, 0, 30))
    log(p.rep_a, "call", at(31, 23, 0))
    log(p.rep_a, "call", at(28, month=2))
    log(p.rep_a, "meeting", at(12))
    log(p.rep_a, "task", at(13))
    log(p.rep_a, "task", None, due_at=at(10))  # open, overdue
    late = log(p.rep_a, "task", None, due_at=at(20))
    Activity.objects.filter(pk=late.pk).update(done_at=at(5, month=4))  # open at the end
    log(p.rep_a, "task", None, due_at=at(10, month=4))  # not due yet at the end
    log(p.rep_a, "email", at(14))
    log(p.rep_a, "sms", at(15))
    log(p.rep_a, "sms", at(1, 9, month=4))  # after the period

    # Rep A's leads: L1 answered after 3 hours, converted with two calls before.
    l1 = make_lead(p.rep_a, at(2, 10), first_name="Lena")
    log(p.rep_a, "call", at(2, 13), lead=l1)
    converted = convert(l1, at(5, 9))
    contact = converted.contact
    log(p.rep_a, "call", at(4, 9), contact=contact)  # logged later, done before: counts
    log(p.rep_a, "call", at(6, 9), contact=contact)  # after the conversion
    # L2 answered by e-mail after 24 hours; a note does not count as an answer.
    l2 = make_lead(p.rep_a, at(3, 9), first_name="Leyla")
    log(p.rep_a, "note", at(3, 10), lead=l2)
    log(p.rep_a, "email", at(4, 9), lead=l2)
    # L3 never answered.
    make_lead(p.rep_a, at(10, 9), first_name="Laleh")

    # Rep B: one call, one overdue task, a lead answered in an hour and converted.
    log(p.rep_b, "call", at(8))
    log(p.rep_b, "task", None, due_at=at(2))
    l4 = make_lead(p.rep_b, at(1, 8), first_name="Mina")
    log(p.rep_b, "call", at(1, 9), lead=l4)
    convert(l4, at(20))

    # Rep C of team B: one call.
    log(p.rep_c, "call", at(9))
    return p


def build(user: Any, filters: Any) -> Report:
    return registry.get("activity").build(user, filters)


def figures(report: Report) -> dict[str, Any]:
    return {f.key: f.value for f in report.figures}


def test_activity_counts_per_rep_match_the_hand_count(month):
    filters = march(month.admin)
    report = build(month.admin, filters)
    rows = {row["rep"]: row for row in report.table("by-rep").rows}
    rep_a = rows["rep_a"]
    assert (
        rep_a["calls"],
        rep_a["meetings"],
        rep_a["tasks_done"],
        rep_a["tasks_overdue"],
        rep_a["emails"],
        rep_a["sms"],
    ) == (5, 1, 1, 2, 2, 1)
    assert (rows["rep_b"]["calls"], rows["rep_b"]["tasks_overdue"]) == (2, 1)
    assert rows["rep_c"]["calls"] == 1
    values = figures(report)
    assert values["calls"] == 8
    assert values["tasks_overdue"] == 3


def test_calls_before_conversion_count_lead_and_contact_calls_up_to_the_conversion(month):
    report = build(month.admin, march(month.admin))
    rows = {row["rep"]: row for row in report.table("by-rep").rows}
    assert (rows["rep_a"]["converted_leads"], rows["rep_a"]["calls_before_conversion"]) == (1, 2)
    assert rows["rep_a"]["calls_per_lead"] == 2.0
    assert (rows["rep_b"]["converted_leads"], rows["rep_b"]["calls_before_conversion"]) == (1, 1)
    values = figures(report)
    assert (values["converted_leads"], values["calls_before_conversion"]) == (2, 3)
    assert values["calls_per_lead"] == 1.5


def test_first_response_hours_per_rep_and_overall(month):
    report = build(month.admin, march(month.admin))
    rows = {row["rep"]: row for row in report.table("by-rep").rows}
    assert (rows["rep_a"]["new_leads"], rows["rep_a"]["answered_leads"]) == (3, 2)
    assert rows["rep_a"]["median_response_hours"] == 13.5
    assert rows["rep_a"]["mean_response_hours"] == 13.5
    assert rows["rep_b"]["median_response_hours"] == 1.0
    values = figures(report)
    assert values["median_response_hours"] == 3.0
    assert values["mean_response_hours"] == pytest.approx(9.3)


def test_team_rows_add_up_the_reps_of_each_team(month):
    report = build(month.admin, march(month.admin))
    rows = {row["team"]: row for row in report.table("by-team").rows}
    assert rows["Team A"]["calls"] == 7
    assert rows["Team B"]["calls"] == 1
    assert rows["Team A"]["converted_leads"] == 2


def test_a_rep_sees_only_their_numbers_and_a_manager_their_team(month):
    rep_report = build(month.rep_a, march(month.rep_a))
    assert [row["rep"] for row in rep_report.table("by-rep").rows] == ["rep_a"]
    assert figures(rep_report)["calls"] == 5
    manager_report = build(month.manager_a, march(month.manager_a))
    assert {row["rep"] for row in manager_report.table("by-rep").rows} == {"rep_a", "rep_b"}
    assert figures(manager_report)["calls"] == 7
    other_manager = build(month.manager_b, march(month.manager_b))
    assert figures(other_manager)["calls"] == 1
    assert figures(other_manager)["converted_leads"] == 0


def test_the_owner_filter_narrows_a_managers_numbers(month):
    filters = march(month.manager_a, owner=str(month.rep_b.public_id))
    report = build(month.manager_a, filters)
    assert figures(report)["calls"] == 2
    assert figures(report)["converted_leads"] == 1


def test_every_drilled_number_lists_exactly_its_records(month):
    for user in (month.admin, month.manager_a, month.rep_a):
        filters = march(user)
        report = build(user, filters)
        assert check_drills("activity", user, filters, report) > 20


def test_a_drill_lists_the_calls_of_one_rep(month):
    filters = march(month.admin)
    kind, records = registry.get("activity").drill(
        month.admin, filters, f"calls@user:{month.rep_b.public_id}"
    )
    assert kind == "activity"
    assert set(records.values_list("owner_id", flat=True)) == {month.rep_b.pk}
    assert records.count() == 2


def test_an_unknown_drill_cell_is_not_found(month):
    from wasl.core.errors import NotFound

    filters = march(month.admin)
    for bad in ("nothing", "calls@user:not-a-uuid", "calls@desk:1"):
        with pytest.raises(NotFound):
            registry.get("activity").drill(month.admin, filters, bad)


# ---------------------------------------------------------------- API

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}


def test_the_activity_endpoint_answers_the_reps_own_numbers(month, api_as):
    response = api_as(month.rep_a).get("reports/activity", **MARCH)
    assert response.status_code == 200
    body = response.json()
    figures = {f["key"]: f["value"] for f in body["figures"]}
    assert (figures["calls"], figures["converted_leads"]) == (5, 1)
    rows = body["tables"][0]["rows"]
    assert [row["rep"] for row in rows] == ["rep_a"]
    manager = api_as(month.manager_a).get("reports/activity", **MARCH).json()
    assert {f["key"]: f["value"] for f in manager["figures"]}["calls"] == 7


def test_the_records_behind_a_reps_calls_over_the_api(month, api_as):
    cell = f"calls@user:{month.rep_b.public_id}"
    response = api_as(month.manager_a).get("reports/activity/records", cell=cell, **MARCH)
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 2
    assert {item["kind"] for item in items} == {"activity"}
    # Rep A asking for rep B's calls gets an empty list: the drill keeps to what they see.
    own = api_as(month.rep_a).get("reports/activity/records", cell=cell, **MARCH)
    assert own.status_code == 200 and own.json()["items"] == []


def test_the_activity_endpoint_refuses_bad_filters(month, api_as):
    client = api_as(month.rep_a)
    assert client.get("reports/activity", period="fortnight").status_code == 422
    hidden = client.get("reports/activity", owner=str(month.rep_b.public_id))
    assert hidden.status_code == 422
    assert "error" in hidden.json()
    bad_cell = client.get("reports/activity/records", cell="nothing", **MARCH)
    assert bad_cell.status_code == 404
    assert api_as(None).get("reports/activity").status_code == 401
