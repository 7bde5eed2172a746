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
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wasl.accounts.selectors import organisation_get, user_list
from wasl.activities import services
from wasl.activities.access import access_activity
from wasl.activities.forms import (
    LINK_KINDS,
    FilterForm,
    OutcomeForm,
    QuickActivityForm,
    RescheduleForm,
    local_midnight,
)
from wasl.activities.models import Activity
from wasl.activities.selectors import PLANNED_KINDS, activity_list, filter_status
from wasl.contacts.listing_ui import (
    BulkAction,
    ChoiceFilter,
    DateFilter,
    ListPage,
    ListSpec,
    ValueFilter,
    record_link,
)
from wasl.contacts.listing_ui import Column as ListColumn
from wasl.core import calendars, formatting
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
_LINK_APPS = {"contact": "contacts", "company": "contacts", "lead": "leads", "deal": "deals"}


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


def activity_rows(*, actor: Any) -> Any:
    """The visible activities with what a row shows: the assignee and team joined (small
    tables), the linked records loaded apart by id. Joining all seven tables cost
    PostgreSQL 100–300 ms of planning per page on the benchmark, more than the rest of the
    page; four primary-key lookups cost well under a millisecond each."""
    return (
        activity_list(actor=actor)
        .select_related(None)
        .select_related("owner", "team")
        .prefetch_related(*LINKS)
    )


def _scoped(request: HttpRequest, scope: str) -> Any:
    activities = activity_rows(actor=request.user)
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
    if request.GET.get("part") == "dates":
        # The due range's two date pickers, loaded when asked for: they weigh 4 KB.
        return render(request, "activities/partials/due_filters.html", {"form": form})
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

record_urls = {name: record_link(f"{app}:{name}-detail") for name, app in _LINK_APPS.items()}


def _linked(activity: Activity) -> tuple[str, Any] | None:
    for name in LINKS:
        if getattr(activity, f"{name}_id"):
            return name, getattr(activity, name)
    return None


def _record_name(name: str, record: Any) -> str:
    if name == "contact":
        return str(record.full_name or "—")
    if name == "company":
        return str(record.name)
    if name == "deal":
        return str(record.title)
    person = " ".join(p for p in (record.first_name, record.last_name) if p)
    return person or record.company_name or record.email or "—"


def _row_url(activity: Activity) -> str:
    linked = _linked(activity)
    return record_urls[linked[0]](linked[1]) if linked else ""


def _subject_cell(activity: Activity) -> str:
    return format_html(
        '<i class="bi {} me-1" aria-hidden="true"></i>{}',
        KIND_ICONS.get(activity.kind, "bi-check2-square"),
        activity.subject,
    )


def _is_late(activity: Activity) -> bool:
    return bool(
        activity.kind in PLANNED_KINDS
        and activity.done_at is None
        and activity.due_at
        and activity.due_at < timezone.now()
    )


def _due_cell(activity: Activity) -> str:
    if activity.due_at is None:
        return ""
    if _is_late(activity):
        return format_html(
            '<span class="text-danger">{}</span>', formatting.local_datetime(activity.due_at)
        )
    return format_html("{}", formatting.local_datetime(activity.due_at))


def _status_cell(activity: Activity) -> str:
    if activity.done_at is not None:
        return format_html('<span class="badge text-bg-success">{}</span>', _("Done"))
    if _is_late(activity):
        return format_html('<span class="badge text-bg-danger">{}</span>', _("Overdue"))
    return format_html('<span class="badge text-bg-light border">{}</span>', _("Open"))


def _related_cell(activity: Activity) -> str:
    linked = _linked(activity)
    if linked is None:
        return ""
    name, record = linked
    return format_html('<a href="{}">{}</a>', record_urls[name](record), _record_name(name, record))


def _moment_cell(attribute: str, *, relative: bool = False) -> Any:
    def cell(activity: Activity) -> str:
        value = getattr(activity, attribute)
        if value is None:
            return ""
        if relative:
            return format_html(
                '<span title="{}">{}</span>',
                formatting.local_datetime(value),
                formatting.relative(value),
            )
        return format_html("{}", formatting.local_date(value))

    return cell


def _kind_choices(actor: Any) -> list[tuple[str, Any]]:
    return list(Activity.Kind.choices)


def _status_choices(actor: Any) -> list[tuple[str, Any]]:
    return [("open", _("Open")), ("overdue", _("Overdue")), ("done", _("Done"))]


def _link_choices(actor: Any) -> list[tuple[str, Any]]:
    return list(LINK_KINDS)


def _linked_to(name: str) -> Any:
    """`?contact=<public id>` and the like: the activities of one record (an unknown or
    invisible one gives an empty list, like the API)."""

    def apply(queryset: Any, value: str) -> Any:
        public_id = _uuid_or_none(value)
        if public_id is None:
            return queryset.none()
        return queryset.filter(**{f"{name}__public_id": public_id})

    return apply


# ---- bulk actions: each calls one activity service per record


def _assign_in_bulk(actor: Any, activity: Activity, params: dict[str, Any]) -> Activity:
    if "_owner" not in params:
        wanted = params.get("owner", "")
        owner = next((u for u in user_list(actor=actor) if str(u.public_id) == wanted), None)
        if owner is None:
            raise Invalid({"owner": [_("Choose the new owner.")]})
        params["_owner"] = owner
    return services.activity_update(actor=actor, activity=activity, owner=params["_owner"])


def _complete_in_bulk(actor: Any, activity: Activity, params: dict[str, Any]) -> Activity:
    """Done ones (notes, e-mails and SMS are logged done) stay as they are."""
    if activity.done_at is not None:
        return activity
    return services.activity_complete(actor=actor, activity=activity)


MAX_SHIFT = 365


def _shift_in_bulk(actor: Any, activity: Activity, params: dict[str, Any]) -> Activity:
    """Move the due time by `days` (an undated activity: from today at 09:00)."""
    if "_days" not in params:
        try:
            days = int(str(params.get("days", "")).strip())
        except ValueError:
            days = 0
        if not days or abs(days) > MAX_SHIFT:
            raise Invalid({"days": [_("Give a number of days between -365 and 365, not 0.")]})
        params["_days"] = days
    start = activity.due_at or local_midnight(timezone.localdate()) + dt.timedelta(hours=9)
    due_at = start + dt.timedelta(days=params["_days"])
    return services.activity_reschedule(actor=actor, activity=activity, due_at=due_at)


def _delete_in_bulk(actor: Any, activity: Activity, params: dict[str, Any]) -> None:
    services.activity_delete(actor=actor, activity=activity)


ACTIVITIES = ListSpec(
    entity="activity",
    url_name="activities:activity-list",
    selector=activity_rows,
    title=gettext_lazy("Activities"),
    columns=(
        ListColumn("subject", gettext_lazy("Subject"), _subject_cell, sort="subject"),
        ListColumn("kind", gettext_lazy("Kind"), lambda a: format_html("{}", a.get_kind_display())),
        ListColumn("due", gettext_lazy("Due"), _due_cell, sort="due_at", css="text-nowrap"),
        ListColumn("status", gettext_lazy("Status"), _status_cell),
        ListColumn("related", gettext_lazy("Related to"), _related_cell),
        ListColumn("owner", gettext_lazy("Assignee"), lambda a: format_html("{}", str(a.owner))),
        ListColumn(
            "team",
            gettext_lazy("Team"),
            lambda a: format_html("{}", a.team.name if a.team else ""),
            default=False,
        ),
        ListColumn(
            "done",
            gettext_lazy("Done"),
            _moment_cell("done_at"),
            sort="done_at",
            default=False,
            css="text-nowrap",
        ),
        ListColumn(
            "created",
            gettext_lazy("Created"),
            _moment_cell("created_at"),
            sort="created_at",
            default=False,
            css="text-nowrap",
        ),
        ListColumn(
            "updated",
            gettext_lazy("Updated"),
            _moment_cell("updated_at", relative=True),
            sort="updated_at",
            css="text-nowrap",
        ),
    ),
    sorts={
        "updated_at": "updated_at",
        "created_at": "created_at",
        "due_at": "due_at",
        "done_at": "done_at",
        "subject": "subject",
    },
    default_sort="-updated_at",
    row_url=_row_url,
    custom_entity=None,
    has_tags=False,
    filters=(
        ChoiceFilter(
            "kind", gettext_lazy("Kind"), _kind_choices, lambda qs, value: qs.filter(kind=value)
        ),
        ChoiceFilter(
            "status",
            gettext_lazy("Status"),
            _status_choices,
            lambda qs, value: filter_status(qs, value, now=timezone.now()),
        ),
        ChoiceFilter(
            "link",
            gettext_lazy("Linked to"),
            _link_choices,
            lambda qs, value: qs.filter(**{f"{value}__isnull": False}),
        ),
    ),
    value_filters=tuple(ValueFilter(name, _linked_to(name)) for name in LINKS),
    date_filters=(DateFilter("due", gettext_lazy("Due"), "due_at"),),
    default_date="due",
    bulk_actions=(
        BulkAction("assign", gettext_lazy("Assign to"), _assign_in_bulk, "owner", icon="bi-person"),
        BulkAction("complete", gettext_lazy("Mark done"), _complete_in_bulk, icon="bi-check2"),
        BulkAction(
            "shift",
            gettext_lazy("Move by days"),
            _shift_in_bulk,
            "days",
            icon="bi-calendar-plus",
        ),
        BulkAction(
            "delete",
            gettext_lazy("Delete"),
            _delete_in_bulk,
            confirm=gettext_lazy("Delete the selected activities? This cannot be undone."),
            danger=True,
            icon="bi-trash",
        ),
    ),
    bulk_url_name="activities:activity-bulk",
    columns_url_name="activities:activity-columns",
    views_url_name="activities:activity-views",
    inline_url_name="activities:activity-inline",
    inline_template="activities/partials/activity_inline.html",
    template="activities/activity_list.html",
)


def _quick_add(actor: Any, data: dict[str, Any]) -> Activity:
    day, clock = data.get("due"), data.get("time")
    due_at = None
    if day is not None:
        due_at = timezone.make_aware(
            dt.datetime.combine(day, (clock or dt.time(9, 0)).replace(tzinfo=None))
        )
    return services.activity_create(
        actor=actor, kind=data["kind"], subject=data["subject"], due_at=due_at
    )


# Every activity the user sees, with filters (kind, status, assignee, team, due range in
# the user's calendar, linked record), sortable columns, saved views, bulk actions and
# quick add.
ACTIVITY_PAGE = ListPage(
    ACTIVITIES,
    section="activities",
    inline_form=QuickActivityForm,
    inline_create=_quick_add,
    inline_aliases={"due_at": "due"},
)


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
