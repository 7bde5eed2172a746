"""The activity report: what each rep and team did in the period, and how fast new leads
hear from them.

Definitions (also in docs/reports.md):
- Calls, meetings and tasks count when they were done in the period (`done_at`); e-mails
  and SMS when they were logged (they are done when logged).
- A task is overdue when it is still open at the reference moment (the period's end, or now
  for a period not over yet) and was due before it; a task done after the reference moment
  counts as overdue too, since it was open then.
- Calls before conversion: for each lead converted in the period, the done calls linked to
  the lead, or to the contact it became, done no later than the conversion. The figure is
  calls per converted lead, grouped by the lead's owner.
- First response: for each lead created in the period, the time from its creation to the
  first done activity linked to it (any kind but a note), in hours; median and mean over
  the leads answered, grouped by the lead's owner. Leads never answered are counted apart.
The lead measures read the lead's history with the plain visibility rule (every activity
on it the viewer may see), not narrowed by the owner filter: the owner filter picks the
leads.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wasl.accounts.models import Team, User
from wasl.activities.models import Activity
from wasl.core.errors import NotFound
from wasl.core.visibility import visible
from wasl.leads.models import Lead
from wasl.reports.filters import ReportFilters, activities_in_scope, leads_in_scope
from wasl.reports.periods import aware_bounds
from wasl.reports.registry import ReportDefinition, register
from wasl.reports.results import Chart, Column, Figure, Report, Table

Kind = Activity.Kind
# Activity counts of the report, in the order of its table.
COUNTS = ("calls", "meetings", "tasks_done", "tasks_overdue", "emails", "sms")


# ---------------------------------------------------------------- drill cells
# A cell id is "<measure>" (everyone in scope), "<measure>@user:<public id>" or
# "<measure>@team:<public id>" ("@team:none" for records of no team).


def cell(measure: str, scope: str = "") -> str:
    return f"{measure}@{scope}" if scope else measure


def user_scope(public_id: Any) -> str:
    return f"user:{public_id}"


def team_scope(public_id: Any) -> str:
    return f"team:{public_id}" if public_id else "team:none"


def parse_cell(cell_id: str) -> tuple[str, str, str]:
    """(measure, "user"|"team"|"", public id or "none") of a cell id; NotFound if bad."""
    measure, _sep, scope = str(cell_id or "").partition("@")
    if not scope:
        return measure, "", ""
    kind, _sep, ident = scope.partition(":")
    if kind not in ("user", "team") or not ident:
        raise NotFound()
    if not (kind == "team" and ident == "none"):
        try:
            ident = str(uuid.UUID(ident))
        except ValueError:
            raise NotFound() from None
    return measure, kind, ident


def narrow_to_cell(
    queryset: QuerySet[Any],
    kind: str,
    ident: str,
    owner_field: str = "owner",
    team_field: str = "team",
) -> QuerySet[Any]:
    """`queryset` narrowed to the owner or team a cell names."""
    if not kind:
        return queryset
    if kind == "team" and ident == "none":
        return queryset.filter(**{f"{team_field}__isnull": True})
    return queryset.filter(**{f"{owner_field if kind == 'user' else team_field}__public_id": ident})


def people(ids: Iterable[int | None]) -> dict[int, User]:
    found = [i for i in set(ids) if i is not None]
    return {u.pk: u for u in User.objects.filter(pk__in=found)}


def teams(ids: Iterable[int | None]) -> dict[int, Team]:
    found = [i for i in set(ids) if i is not None]
    return {t.pk: t for t in Team.objects.filter(pk__in=found)}


def person_name(user: User | None) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.username


def team_name(team: Team | None) -> str:
    return team.name if team is not None else _("No team")


def reference_moment(filters: ReportFilters) -> dt.datetime:
    """The period's end, or now when the period is not over yet."""
    _start, end = aware_bounds(filters.period, filters.tz)
    return min(end, timezone.now())


# ---------------------------------------------------------------- activity counts


def count_filters(filters: ReportFilters, prefix: str = "") -> dict[str, Q]:
    """The condition of each activity count over the period (on the `done_at`/`due_at`
    columns, or on the aliases `<prefix>done`/`<prefix>due`)."""
    start, end = aware_bounds(filters.period, filters.tz)
    ref = reference_moment(filters)
    done_at = f"{prefix}done" if prefix else "done_at"
    due_at = f"{prefix}due" if prefix else "due_at"
    done = Q(**{f"{done_at}__gte": start, f"{done_at}__lt": end})
    return {
        "calls": done & Q(kind=Kind.CALL),
        "meetings": done & Q(kind=Kind.MEETING),
        "tasks_done": done & Q(kind=Kind.TASK),
        "tasks_overdue": Q(kind=Kind.TASK, **{f"{due_at}__lt": ref})
        & (Q(**{f"{done_at}__isnull": True}) | Q(**{f"{done_at}__gt": ref})),
        "emails": done & Q(kind=Kind.EMAIL),
        "sms": done & Q(kind=Kind.SMS),
    }


# The counts of activities done in the period, by kind.
DONE_COUNTS = {
    "calls": Kind.CALL,
    "meetings": Kind.MEETING,
    "tasks_done": Kind.TASK,
    "emails": Kind.EMAIL,
    "sms": Kind.SMS,
}


def activity_counts(
    user: Any, filters: ReportFilters
) -> dict[tuple[int, int | None], dict[str, int]]:
    """{(owner id, team id): {count name: n}} for the activities in scope, in three
    grouped reads that each follow an index range: the activities done in the period
    (the done index, or the owner's, carries kind and team), the tasks still open and
    due before the reference moment, and those due before it but done after it."""
    activities = activities_in_scope(user, filters)
    start, end = aware_bounds(filters.period, filters.tz)
    ref = reference_moment(filters)
    found: dict[tuple[int, int | None], dict[str, int]] = {}

    def add(rows: Iterable[dict[str, Any]], names: Iterable[str]) -> None:
        for row in rows:
            counts = found.setdefault((row["owner_id"], row["team_id"]), dict.fromkeys(COUNTS, 0))
            for name in names:
                counts[name] += row[name]

    done = (
        activities.filter(done_at__gte=start, done_at__lt=end, kind__in=DONE_COUNTS.values())
        .order_by()
        .values("owner_id", "team_id")
        .annotate(**{name: Count("pk", filter=Q(kind=k)) for name, k in DONE_COUNTS.items()})
    )
    add(done, DONE_COUNTS)
    due = activities.filter(kind=Kind.TASK, due_at__lt=ref)
    for late in (due.filter(done_at__isnull=True), due.filter(done_at__gt=ref)):
        add(
            late.order_by().values("owner_id", "team_id").annotate(tasks_overdue=Count("pk")),
            ["tasks_overdue"],
        )
    return found


# ---------------------------------------------------------------- lead measures

RESPONSE_KINDS = (Kind.CALL, Kind.MEETING, Kind.TASK, Kind.EMAIL, Kind.SMS)


def lead_history(user: Any) -> QuerySet[Activity]:
    return visible(Activity.objects.all(), user)


def converted_leads(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    start, end = aware_bounds(filters.period, filters.tz)
    return leads_in_scope(user, filters).filter(
        status=Lead.Status.CONVERTED, converted_at__gte=start, converted_at__lt=end
    )


def _calls_before(history: QuerySet[Activity]) -> QuerySet[Activity]:
    return history.filter(kind=Kind.CALL, done_at__isnull=False)


def calls_before_conversion(
    user: Any, filters: ReportFilters
) -> dict[tuple[int, int | None], tuple[int, int]]:
    """{(lead owner, lead team): (converted leads, calls before their conversion)}."""
    calls = (
        _calls_before(lead_history(user))
        .filter(done_at__lte=OuterRef("converted_at"))
        .filter(Q(lead_id=OuterRef("pk")) | Q(contact_id=OuterRef("converted_contact_id")))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        converted_leads(user, filters)
        .annotate(calls=Coalesce(Subquery(calls, output_field=IntegerField()), 0))
        .values_list("owner_id", "team_id", "calls")
    )
    result: dict[tuple[int, int | None], tuple[int, int]] = {}
    for owner_id, team_id, n in rows:
        leads, total = result.get((owner_id, team_id), (0, 0))
        result[(owner_id, team_id)] = (leads + 1, total + n)
    return result


def calls_before_conversion_records(user: Any, leads: QuerySet[Lead]) -> QuerySet[Activity]:
    """The calls counted for `leads` (converted leads), each call once."""
    matching = leads.filter(converted_at__gte=OuterRef("done_at")).filter(
        Q(pk=OuterRef("lead_id")) | Q(converted_contact_id=OuterRef("contact_id"))
    )
    return _calls_before(lead_history(user)).filter(Exists(matching))


def new_leads(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    start, end = aware_bounds(filters.period, filters.tz)
    return leads_in_scope(user, filters).filter(created_at__gte=start, created_at__lt=end)


def _responses(user: Any) -> QuerySet[Activity]:
    return lead_history(user).filter(kind__in=RESPONSE_KINDS, done_at__isnull=False)


def first_responses(
    user: Any, filters: ReportFilters
) -> dict[tuple[int, int | None], tuple[int, list[float]]]:
    """{(lead owner, lead team): (new leads, hours to the first response of each lead
    answered)}."""
    first = (
        _responses(user).filter(lead_id=OuterRef("pk")).order_by("done_at").values("done_at")[:1]
    )
    rows = (
        new_leads(user, filters)
        .annotate(first=Subquery(first))
        .values_list("owner_id", "team_id", "created_at", "first")
    )
    result: dict[tuple[int, int | None], tuple[int, list[float]]] = {}
    for owner_id, team_id, created, answered in rows:
        count, hours = result.get((owner_id, team_id), (0, []))
        if answered is not None:
            hours.append(max((answered - created).total_seconds(), 0.0) / 3600)
        result[(owner_id, team_id)] = (count + 1, hours)
    return result


def answered_leads(user: Any, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    return leads.filter(Exists(_responses(user).filter(lead_id=OuterRef("pk"))))


def hours(values: list[float], how: str) -> float | None:
    if not values:
        return None
    value = statistics.median(values) if how == "median" else statistics.fmean(values)
    return round(value, 1)


# ---------------------------------------------------------------- the report


def _merge(target: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> None:
    row = target.setdefault(key, {})
    for name, value in values.items():
        if isinstance(value, list):
            row.setdefault(name, []).extend(value)
        else:
            row[name] = row.get(name, 0) + value


def collect(user: Any, filters: ReportFilters) -> dict[tuple[int, int | None], dict[str, Any]]:
    """Every measure of the report per (owner, team)."""
    rows: dict[tuple[int, int | None], dict[str, Any]] = {}
    for key, counts in activity_counts(user, filters).items():
        _merge(rows, key, counts)
    for key, (leads, calls) in calls_before_conversion(user, filters).items():
        _merge(rows, key, {"converted_leads": leads, "calls_before_conversion": calls})
    for key, (leads, answered) in first_responses(user, filters).items():
        _merge(rows, key, {"new_leads": leads, "response_hours": answered})
    return rows


NUMBERS = (*COUNTS, "converted_leads", "calls_before_conversion", "new_leads")


def _row(values: dict[str, Any]) -> dict[str, Any]:
    answered = values.get("response_hours", [])
    row: dict[str, Any] = {name: values.get(name, 0) for name in NUMBERS}
    row["calls_per_lead"] = (
        round(row["calls_before_conversion"] / row["converted_leads"], 2)
        if row["converted_leads"]
        else None
    )
    row["answered_leads"] = len(answered)
    row["median_response_hours"] = hours(answered, "median")
    row["mean_response_hours"] = hours(answered, "mean")
    return row


DRILLED = (*NUMBERS, "answered_leads")


def _columns(first: Column) -> list[Column]:
    return [
        first,
        Column("calls", _("Calls"), "count"),
        Column("meetings", _("Meetings"), "count"),
        Column("tasks_done", _("Tasks done"), "count"),
        Column("tasks_overdue", _("Tasks overdue"), "count"),
        Column("emails", _("E-mails"), "count"),
        Column("sms", _("SMS"), "count"),
        Column("converted_leads", _("Leads converted"), "count"),
        Column("calls_before_conversion", _("Calls before conversion"), "count"),
        Column("calls_per_lead", _("Calls per converted lead"), "text"),
        Column("new_leads", _("New leads"), "count"),
        Column("answered_leads", _("New leads answered"), "count"),
        Column("median_response_hours", _("First response, median"), "hours"),
        Column("mean_response_hours", _("First response, mean"), "hours"),
    ]


def build(user: Any, filters: ReportFilters) -> Report:
    rows = collect(user, filters)
    users = people(owner for owner, _team in rows)
    team_rows = teams(team for _owner, team in rows)
    by_owner: dict[int, dict[str, Any]] = {}
    by_team: dict[int | None, dict[str, Any]] = {}
    grand: dict[str, dict[str, Any]] = {}
    for (owner_id, team_id), values in rows.items():
        _merge(by_owner, owner_id, values)
        _merge(by_team, team_id, values)
        _merge(grand, "all", values)

    rep_rows = []
    for owner_id, values in sorted(
        by_owner.items(), key=lambda item: person_name(users.get(item[0])).lower()
    ):
        owner = users.get(owner_id)
        row = {"rep": person_name(owner), **_row(values)}
        if owner is not None:
            scope = user_scope(owner.public_id)
            row["_drill"] = {name: cell(name, scope) for name in DRILLED}
        rep_rows.append(row)
    team_table_rows = []
    for team_id, values in sorted(
        by_team.items(),
        key=lambda item: team_name(team_rows.get(item[0])).lower(),  # type: ignore[arg-type]
    ):
        team = team_rows.get(team_id)  # type: ignore[arg-type]
        scope = team_scope(team.public_id if team is not None else None)
        row = {"team": team_name(team), **_row(values)}
        row["_drill"] = {name: cell(name, scope) for name in DRILLED}
        team_table_rows.append(row)

    totals = _row(grand.get("all", {}))
    figures = [
        Figure("calls", _("Calls"), totals["calls"], "count", "calls"),
        Figure("meetings", _("Meetings"), totals["meetings"], "count", "meetings"),
        Figure("tasks_done", _("Tasks done"), totals["tasks_done"], "count", "tasks_done"),
        Figure(
            "tasks_overdue", _("Tasks overdue"), totals["tasks_overdue"], "count", "tasks_overdue"
        ),
        Figure("emails", _("E-mails"), totals["emails"], "count", "emails"),
        Figure("sms", _("SMS"), totals["sms"], "count", "sms"),
        Figure(
            "converted_leads",
            _("Leads converted"),
            totals["converted_leads"],
            "count",
            "converted_leads",
        ),
        Figure(
            "calls_before_conversion",
            _("Calls before conversion"),
            totals["calls_before_conversion"],
            "count",
            "calls_before_conversion",
        ),
        Figure("calls_per_lead", _("Calls per converted lead"), totals["calls_per_lead"], "count"),
        Figure("new_leads", _("New leads"), totals["new_leads"], "count", "new_leads"),
        Figure(
            "answered_leads",
            _("New leads answered"),
            totals["answered_leads"],
            "count",
            "answered_leads",
        ),
        Figure(
            "median_response_hours",
            _("First response to new leads, median"),
            totals["median_response_hours"],
            "hours",
        ),
        Figure(
            "mean_response_hours",
            _("First response to new leads, mean"),
            totals["mean_response_hours"],
            "hours",
        ),
    ]
    chart = Chart(
        "stacked-bar",
        [row["rep"] for row in rep_rows],
        [
            {"label": _("Calls"), "data": [row["calls"] for row in rep_rows]},
            {"label": _("Meetings"), "data": [row["meetings"] for row in rep_rows]},
            {"label": _("Tasks done"), "data": [row["tasks_done"] for row in rep_rows]},
            {"label": _("E-mails"), "data": [row["emails"] for row in rep_rows]},
            {"label": _("SMS"), "data": [row["sms"] for row in rep_rows]},
        ],
        key="by-rep",
        title=_("Activities per rep"),
    )
    response_chart = Chart(
        "bar",
        [row["rep"] for row in rep_rows],
        [
            {
                "label": _("First response, median hours"),
                "data": [row["median_response_hours"] for row in rep_rows],
            }
        ],
        key="first-response",
        title=_("First response to new leads"),
    )
    return Report(
        key="activity",
        title=_("Activity"),
        filters=filters,
        figures=figures,
        tables=[
            Table("by-rep", _("Per rep"), _columns(Column("rep", _("Rep"))), rep_rows),
            Table("by-team", _("Per team"), _columns(Column("team", _("Team"))), team_table_rows),
        ],
        charts=[chart, response_chart],
    )


def drill(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    """The records behind one number of the activity report."""
    measure, kind, ident = parse_cell(cell_id)
    conditions = count_filters(filters)
    if measure in conditions:
        records = activities_in_scope(user, filters).filter(conditions[measure])
        return "activity", narrow_to_cell(records, kind, ident)
    if measure == "converted_leads":
        return "lead", narrow_to_cell(converted_leads(user, filters), kind, ident)
    if measure == "calls_before_conversion":
        leads = narrow_to_cell(converted_leads(user, filters), kind, ident)
        return "activity", calls_before_conversion_records(user, leads)
    if measure == "new_leads":
        return "lead", narrow_to_cell(new_leads(user, filters), kind, ident)
    if measure == "answered_leads":
        leads = narrow_to_cell(new_leads(user, filters), kind, ident)
        return "lead", answered_leads(user, leads)
    raise NotFound()


register(
    ReportDefinition(
        key="activity",
        title=gettext_lazy("Activity"),
        description=gettext_lazy(
            "Calls, meetings, tasks, e-mails and SMS per rep and team; calls made before a "
            "lead converts; how fast new leads get a first response."
        ),
        build=build,
        drill=drill,
    )
)
