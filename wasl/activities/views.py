"""Task pages: my tasks and my team's, the week calendar, the activity list, and the
one-click writes (complete, reopen, reschedule, log a call's outcome).

Reads go through `wasl.activities.selectors` (scoped by the visibility rule), records named
in a URL through `access_activity`, writes through `wasl.activities.services`: the same
functions as the API.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wasl.accounts.selectors import organisation_get, team_list, user_list
from wasl.activities import services
from wasl.activities.access import access_activity
from wasl.activities.forms import (
    ActivityFilterForm,
    FilterForm,
    OutcomeForm,
    RescheduleForm,
    local_midnight,
)
from wasl.activities.models import Activity
from wasl.activities.selectors import PLANNED_KINDS, activity_list, filter_status
from wasl.core import calendars
from wasl.core.errors import Conflict, Invalid
from wasl.core.formatting import DisplayPrefs, current_prefs, digits
from wasl.core.pagination import keyset_page
from wasl.core.visibility import Role, can_write

PAGE_SIZE = 25
WEEK = dt.timedelta(days=7)
# A week holds at most this many items on the calendar; more are counted, not shown.
WEEK_LIMIT = 400
KIND_ICONS = {
    Activity.Kind.TASK: "bi-check2-square",
    Activity.Kind.CALL: "bi-telephone",
    Activity.Kind.MEETING: "bi-people",
    Activity.Kind.NOTE: "bi-journal-text",
    Activity.Kind.EMAIL: "bi-envelope",
    Activity.Kind.SMS: "bi-chat-left-text",
}
LINKS = ("contact", "company", "lead", "deal")


# ---------------------------------------------------------------- who sees what


def sees_team(user: Any) -> bool:
    """Managers, read-only members and admins see their team's work (the visibility
    rule); reps see only their own."""
    return user.role in (Role.MANAGER, Role.READONLY, Role.ADMIN)


def _assignees(actor: Any) -> list[Any]:
    """The people a manager (or admin) may filter the team's tasks by."""
    users = user_list(actor=actor).filter(is_active=True)
    if actor.role != Role.ADMIN:
        users = users.filter(team_id__in=sorted(actor.scope_team_ids()))
    people = list(users)
    if not any(u.pk == actor.pk for u in people):
        people.insert(0, actor)
    return people


def _writable(actor: Any, activities: list[Activity]) -> set[int]:
    """Ids of the activities the actor may change, decided without a query per row for
    owners, team managers and admins (shares alone need one)."""
    if not actor.is_active or actor.role == Role.READONLY:
        return set()
    if actor.role == Role.ADMIN:
        return {a.pk for a in activities}
    team_ids = actor.scope_team_ids() if actor.role == Role.MANAGER else frozenset()
    writable = set()
    for activity in activities:
        mine = activity.owner_id == actor.pk or activity.team_id in team_ids
        if mine or can_write(actor, activity):
            writable.add(activity.pk)
    return writable


def _decorate(actor: Any, activities: list[Activity], now: dt.datetime) -> list[Activity]:
    """Set what a row shows beside the fields: its icon, whether it is overdue and whether
    the actor may complete or reopen it (so templates need no lookups per row)."""
    writable = _writable(actor, activities)
    for activity in activities:
        planned = activity.kind in PLANNED_KINDS
        activity.icon = KIND_ICONS.get(activity.kind, "bi-check2-square")  # type: ignore[attr-defined]
        activity.late = bool(  # type: ignore[attr-defined]
            planned and activity.done_at is None and activity.due_at and activity.due_at < now
        )
        activity.can_toggle = planned and activity.pk in writable  # type: ignore[attr-defined]
    return activities


def _scope(request: HttpRequest) -> str:
    return "team" if request.GET.get("scope") == "team" and sees_team(request.user) else "mine"


def _scoped(request: HttpRequest, scope: str) -> Any:
    activities = activity_list(actor=request.user)
    return activities.filter(owner_id=request.user.pk) if scope == "mine" else activities


def _owner_pk(form: FilterForm, people: list[Any]) -> int | None:
    chosen = form.value("owner")
    return next((u.pk for u in people if str(u.public_id) == chosen), None) if chosen else None


def _query(request: HttpRequest, **changes: Any) -> str:
    """The current query string with `changes` (None drops a key)."""
    params = {k: v for k, v in request.GET.items() if k != "cursor"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params)


# ---------------------------------------------------------------- my tasks / team tasks


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """My open tasks, calls and meetings (overdue first), or my team's for managers,
    filtered by kind, status, due range and assignee. Keyset pages of 25."""
    request.wasl_section = "activities"  # type: ignore[attr-defined]
    actor = request.user
    now = timezone.now()
    scope = _scope(request)
    people = _assignees(actor) if scope == "team" else None
    form = FilterForm(request.GET or None, assignees=people, kinds=None)
    activities = _scoped(request, scope).filter(kind__in=PLANNED_KINDS)
    if people is not None and (owner := _owner_pk(form, people)) is not None:
        activities = activities.filter(owner_id=owner)
    if kind := form.value("kind"):
        activities = activities.filter(kind=kind)
    status = form.value("status", "open")
    if status != "all":
        activities = filter_status(activities, status, now=now)
    start, end = form.due_range()
    if start:
        activities = activities.filter(due_at__gte=start)
    if end:
        activities = activities.filter(due_at__lt=end)
    field, descending = ("done_at", True) if status == "done" else ("due_at", False)
    try:
        rows, next_cursor = keyset_page(
            activities,
            field=field,
            descending=descending,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except Invalid:
        rows, next_cursor = keyset_page(
            activities, field=field, descending=descending, cursor=None, limit=PAGE_SIZE
        )
    context = {
        "section": "tasks",
        "scope": scope,
        "sees_team": sees_team(actor),
        "form": form,
        "status": status,
        "rows": _decorate(actor, rows, now),
        "show_owner": scope == "team",
        "next_url": f"?{_query(request, cursor=next_cursor)}" if next_cursor else "",
        "mine_url": f"?{_query(request, scope=None, owner=None)}",
        "team_url": f"?{_query(request, scope='team')}",
        "week_url": f"{reverse('activities:week')}?{urlencode({'scope': scope})}",
    }
    if request.headers.get("HX-Request") and request.GET.get("cursor"):
        return render(request, "activities/partials/task_rows.html", context)
    return render(request, "activities/task_list.html", context)


# ---------------------------------------------------------------- week calendar


def _day_month(day: dt.date, prefs: DisplayPrefs) -> str:
    """ "2 Azar", «۲ آذر»: a column's date without the year (the heading shows it)."""
    shown = calendars.effective_calendar(day, prefs.calendar)
    _year, month, number = calendars.to_calendar(day, shown)
    return digits(f"{number} {calendars.month_name(month, shown, prefs.language)}", prefs)


def _week_start(day: dt.date, week_start: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - week_start) % 7)


@require_GET
def week(request: HttpRequest) -> HttpResponse:
    """Seven days from the organisation's first weekday, each listing the tasks, calls and
    meetings due that day (in the user's time zone) by time. `?week=YYYY-MM-DD` (any
    day of the week, Gregorian) picks the week."""
    request.wasl_section = "activities"  # type: ignore[attr-defined]
    actor = request.user
    prefs = current_prefs()
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        anchor = dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        anchor = today
    start = _week_start(anchor, prefs.week_start)
    days = [start + dt.timedelta(days=n) for n in range(7)]
    scope = _scope(request)
    people = _assignees(actor) if scope == "team" else None
    form = FilterForm(request.GET or None, assignees=people)
    activities = (
        _scoped(request, scope)
        .filter(
            kind__in=PLANNED_KINDS,
            due_at__gte=local_midnight(start),
            due_at__lt=local_midnight(start + dt.timedelta(days=7)),
        )
        .order_by("due_at", "id")
    )
    if people is not None and (owner := _owner_pk(form, people)) is not None:
        activities = activities.filter(owner_id=owner)
    if kind := form.value("kind"):
        activities = activities.filter(kind=kind)
    items = list(activities[: WEEK_LIMIT + 1])
    truncated = len(items) > WEEK_LIMIT
    items = _decorate(actor, items[:WEEK_LIMIT], now)
    by_day: dict[dt.date, list[Activity]] = {day: [] for day in days}
    for item in items:
        local_day = timezone.localdate(item.due_at)
        if local_day in by_day:
            by_day[local_day].append(item)
    working = set(organisation_get().working_days or range(7))
    columns = [
        {
            "date": day,
            "weekday": WEEKDAYS[day.weekday()],
            "day_month": _day_month(day, prefs),
            "items": by_day[day],
            "today": day == today,
            "rest_day": day.weekday() not in working,
        }
        for day in days
    ]
    link = {"scope": scope} if scope == "team" else {}
    return render(
        request,
        "activities/week.html",
        {
            "section": "tasks",
            "scope": scope,
            "sees_team": sees_team(actor),
            "form": form,
            "columns": columns,
            "start": days[0],
            "end": days[-1],
            "now": now,
            "truncated": truncated,
            "show_owner": scope == "team",
            "prev_url": f"?{urlencode({**link, 'week': (start - WEEK).isoformat()})}",
            "next_url": f"?{urlencode({**link, 'week': (start + WEEK).isoformat()})}",
            "this_week_url": f"?{urlencode(link)}",
            "is_this_week": start <= today < start + dt.timedelta(days=7),
            "mine_url": "?" + urlencode({"week": start.isoformat()}),
            "team_url": "?" + urlencode({"week": start.isoformat(), "scope": "team"}),
            "list_url": f"{reverse('activities:task-list')}?{urlencode(link)}",
        },
    )


# ---------------------------------------------------------------- activity list


@require_GET
def activity_list_view(request: HttpRequest) -> HttpResponse:
    """Every activity the user sees, newest first, filtered by kind, status, assignee,
    team, due range and linked record (`?contact=<id>` and the like)."""
    request.wasl_section = "activities"  # type: ignore[attr-defined]
    actor = request.user
    now = timezone.now()
    team_view = sees_team(actor)
    people = _assignees(actor) if team_view else None
    teams = list(team_list(actor=actor)) if actor.role == Role.ADMIN else None
    if teams is None and team_view:
        scope_ids = actor.scope_team_ids()
        teams = [t for t in team_list(actor=actor) if t.pk in scope_ids]
    form = ActivityFilterForm(request.GET or None, assignees=people, teams=teams)
    activities = activity_list(actor=actor)
    if people is not None and (owner := _owner_pk(form, people)) is not None:
        activities = activities.filter(owner_id=owner)
    if teams and (team := form.value("team")):
        match = next((t.pk for t in teams if str(t.public_id) == team), None)
        activities = activities.filter(team_id=match) if match else activities.none()
    if kind := form.value("kind"):
        activities = activities.filter(kind=kind)
    status = form.value("status", "all")
    if status != "all":
        activities = filter_status(activities, status, now=now)
    start, end = form.due_range()
    if start:
        activities = activities.filter(due_at__gte=start)
    if end:
        activities = activities.filter(due_at__lt=end)
    if link := form.value("link"):
        activities = activities.filter(**{f"{link}__isnull": False})
    linked_to = None
    for name in LINKS:
        value = request.GET.get(name)
        if value:
            # An unknown or invisible record gives an empty list, like the API.
            public_id = _uuid_or_none(value)
            activities = (
                activities.filter(**{f"{name}__public_id": public_id})
                if public_id
                else activities.none()
            )
            linked_to = name
    try:
        rows, next_cursor = keyset_page(
            activities,
            field="updated_at",
            descending=True,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except Invalid:
        rows, next_cursor = keyset_page(
            activities, field="updated_at", descending=True, cursor=None, limit=PAGE_SIZE
        )
    context = {
        "section": "activities",
        "form": form,
        "rows": _decorate(actor, rows, now),
        "linked_to": linked_to,
        "next_url": f"?{_query(request, cursor=next_cursor)}" if next_cursor else "",
        "show_owner": team_view,
    }
    if request.headers.get("HX-Request") and request.GET.get("cursor"):
        return render(request, "activities/partials/activity_rows.html", context)
    return render(request, "activities/activity_list.html", context)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# ---------------------------------------------------------------- one-click writes


def _back(request: HttpRequest) -> str:
    """Where a plain (non-htmx) form returns: `next`, else the page it was posted from,
    when either is on this site; else my tasks."""
    allowed = {request.get_host()}
    for target in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if target and url_has_allowed_host_and_scheme(target, allowed):
            return target
    return reverse("activities:task-list")


def _answer(request: HttpRequest, activity: Activity, message: str) -> HttpResponse:
    """The changed row for htmx (with a notice and `wasl:tasks-changed`), else back to
    the page the form was on."""
    if not request.headers.get("HX-Request"):
        return redirect(_back(request))
    activity = access_activity(request.user, activity.public_id)
    rows = _decorate(request.user, [activity], timezone.now())
    week_view = request.POST.get("view") == "week"
    response = render(
        request,
        "activities/partials/week_items.html"
        if week_view
        else "activities/partials/task_rows.html",
        {"rows": rows, "items": rows, "show_owner": request.POST.get("show_owner") == "1"},
    )
    response["HX-Trigger"] = json.dumps(
        {"wasl:notice": {"message": message, "level": "success"}, "wasl:tasks-changed": {}}
    )
    return response


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if not request.headers.get("HX-Request"):
        messages.error(request, message)
        return redirect(_back(request))
    response = HttpResponse(status=status)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"wasl:notice": {"message": message, "level": "danger"}})
    return response


@require_GET
def actions(request: HttpRequest, public_id: str) -> HttpResponse:
    """The reschedule and call-outcome forms of one open activity: a fragment for the
    row's "More" panel (loaded when first opened), or a page of its own."""
    activity = access_activity(request.user, public_id, for_write=True)
    context = {
        "task": activity,
        "outcomes": Activity.Outcome.choices,
        "back": _back(request) if not request.headers.get("HX-Request") else "",
    }
    if request.headers.get("HX-Request"):
        return render(request, "activities/partials/task_actions.html", context)
    return render(request, "activities/task_actions.html", context)


def _error_text(error: Invalid | Conflict) -> str:
    if isinstance(error, Conflict):
        return error.message
    return " ".join(message for messages in error.fields.values() for message in messages)


@require_POST
def complete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Mark a task, call or meeting done; a call may carry its outcome."""
    activity = access_activity(request.user, public_id, for_write=True)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Choose a known outcome."), 422)
    outcome = form.cleaned_data["outcome"]
    try:
        activity = services.activity_complete(
            actor=request.user, activity=activity, outcome=outcome
        )
    except (Invalid, Conflict) as error:
        return _refused(request, _error_text(error), 409 if isinstance(error, Conflict) else 422)
    return _answer(request, activity, _("Done: %(subject)s") % {"subject": activity.subject})


@require_POST
def reopen(request: HttpRequest, public_id: str) -> HttpResponse:
    activity = access_activity(request.user, public_id, for_write=True)
    try:
        activity = services.activity_reopen(actor=request.user, activity=activity)
    except (Invalid, Conflict) as error:
        return _refused(request, _error_text(error), 409 if isinstance(error, Conflict) else 422)
    return _answer(request, activity, _("Reopened: %(subject)s") % {"subject": activity.subject})


@require_POST
def reschedule(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move an open activity: `when=tomorrow` or `when=next_week` (same time of day), or a
    date in the user's calendar with an optional time."""
    activity = access_activity(request.user, public_id, for_write=True)
    when = request.POST.get("when", "")
    previous = activity.due_at
    if when in ("tomorrow", "next_week"):
        days = 1 if when == "tomorrow" else 7
        day = timezone.localdate() + dt.timedelta(days=days)
        clock = timezone.localtime(previous).time() if previous else dt.time(9, 0)
        due_at = timezone.make_aware(dt.datetime.combine(day, clock))
    else:
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            message = " ".join(str(e) for errors in form.errors.values() for e in errors)
            return _refused(request, message, 422)
        due_at = form.due_at(previous)
    try:
        activity = services.activity_reschedule(
            actor=request.user, activity=activity, due_at=due_at
        )
    except (Invalid, Conflict) as error:
        return _refused(request, _error_text(error), 409 if isinstance(error, Conflict) else 422)
    return _answer(request, activity, _("Moved: %(subject)s") % {"subject": activity.subject})
