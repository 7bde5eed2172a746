"""Pages that span apps: the home page ("My day"), the global search and record links."""

from __future__ import annotations

import datetime as dt
import json
from itertools import groupby
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wasl.activities.access import access_activity
from wasl.activities.models import Activity
from wasl.activities.selectors import activity_list, my_open_tasks
from wasl.activities.services import activity_complete, activity_reschedule
from wasl.contacts.selectors import upcoming_important_dates
from wasl.core.access import parse_public_id
from wasl.core.errors import Conflict, Invalid
from wasl.core.forms import CalendarDateField
from wasl.core.links import RECORD_URL_NAMES, record_url, url_exists
from wasl.core.search import search
from wasl.deals.selectors import my_open_deals_by_stage

KIND_LABELS = {
    "contact": gettext_lazy("Contacts"),
    "company": gettext_lazy("Companies"),
    "lead": gettext_lazy("Leads"),
    "deal": gettext_lazy("Deals"),
}
SEARCH_LIMIT = 20
# A rep's full day is hundreds of overdue tasks: the page shows the first ones (each row
# carries its actions) and links to the task list for the rest.
HOME_TASKS = 15
HOME_RECENT = 8
UPCOMING_DAYS = 14


# ---------------------------------------------------------------- search and links


@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    """Global search: grouped results as a partial for htmx, or a page of its own."""
    query = (request.GET.get("q") or "").strip()[:200]
    hits = search(request.user, query, limit=SEARCH_LIMIT) if query else []  # type: ignore[arg-type]
    order = list(KIND_LABELS)
    hits.sort(key=lambda hit: order.index(hit.kind) if hit.kind in order else len(order))
    groups = [
        {
            "kind": kind,
            "label": KIND_LABELS.get(kind, kind),
            "hits": [
                {
                    "title": hit.title,
                    "subtitle": hit.subtitle,
                    "url": record_url(hit.kind, hit.public_id),
                }
                for hit in group
            ],
        }
        for kind, group in groupby(hits, key=lambda hit: hit.kind)
    ]
    context = {"query": query, "groups": groups, "search_query": query}
    if request.headers.get("HX-Request"):
        return render(request, "partials/search_results.html", context)
    return render(request, "web/search.html", context)


@require_GET
def resolve_record(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    """`/r/<kind>/<uuid>/`: redirect to the record's page once that page exists."""
    name = RECORD_URL_NAMES.get(kind)
    if name is None or not url_exists(name):
        raise Http404(_("This page does not exist yet."))
    return redirect(reverse(name, kwargs={"public_id": parse_public_id(public_id)}))


# ---------------------------------------------------------------- home


def _end_of_today(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)


_SENTINEL = "00000000-0000-0000-0000-000000000000"


def _url_maker(name: str, *args: str) -> Any:
    """Reverse `name` once, then fill in each record's public id: a page of rows costs
    one `reverse()` per kind of link rather than one per row."""
    template = reverse(name, args=[*args, _SENTINEL])
    return lambda public_id: template.replace(_SENTINEL, str(public_id))


def _with_urls(tasks: list[Activity]) -> list[Activity]:
    complete = _url_maker("web:task-complete")
    reschedule = _url_maker("web:task-reschedule")
    actions = _url_maker("web:task-actions")
    contact = _url_maker("web:resolve", "contact")
    deal = _url_maker("web:resolve", "deal")
    for task in tasks:
        task.complete_url = complete(task.public_id)  # type: ignore[attr-defined]
        task.reschedule_url = reschedule(task.public_id)  # type: ignore[attr-defined]
        task.actions_url = actions(task.public_id)  # type: ignore[attr-defined]
        if task.contact_id:
            task.contact_url = contact(task.contact.public_id)  # type: ignore[attr-defined, union-attr]
        if task.deal_id:
            task.deal_url = deal(task.deal.public_id)  # type: ignore[attr-defined, union-attr]
    return tasks


def _tasks(request: HttpRequest, now: dt.datetime) -> list[Activity]:
    # Only the links a row shows are joined: the selector's seven joins cost PostgreSQL
    # more time planning than running the query.
    due = (
        my_open_tasks(actor=request.user, now=now)
        .filter(due_at__lt=_end_of_today(now))
        .select_related(None)
        .select_related("contact", "deal")
    )
    # One row more than the page shows says whether to link to the rest.
    return _with_urls(list(due[: HOME_TASKS + 1]))


def _by_stage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stage with its deal count and a total per currency (the selector gives
    a row per stage and currency: a stage repeated for each of ten currencies made the
    table a quarter of the page)."""
    stages: dict[Any, dict[str, Any]] = {}
    for row in rows:
        stage = stages.setdefault(
            row["stage_id"],
            {"stage": row["stage"], "pipeline": row["pipeline"], "count": 0, "totals": []},
        )
        stage["count"] += row["count"]
        stage["totals"].append((row["currency"], row["total"]))
    return list(stages.values())


def home(request: HttpRequest) -> HttpResponse:
    """My day: today's and overdue tasks, my open deals by stage, upcoming dates of my
    customers and my recent activities. A fixed number of queries."""
    now = timezone.now()
    user = request.user
    tasks = _tasks(request, now)
    deals = my_open_deals_by_stage(actor=user)
    totals: dict[str, Any] = {}
    for row in deals:
        totals[row["currency"]] = totals.get(row["currency"], 0) + (row["total"] or 0)
    context = {
        "now": now,
        "tasks": tasks[:HOME_TASKS],
        "more_tasks": len(tasks) > HOME_TASKS,
        "deal_rows": _by_stage(deals),
        "deal_totals": sorted(totals.items()),
        "deal_count": sum(row["count"] for row in deals),
        "upcoming": upcoming_important_dates(
            actor=user, today=timezone.localdate(now), days=UPCOMING_DAYS
        ),
        "recent": list(
            activity_list(actor=user)
            .filter(owner_id=user.pk)
            .select_related(None)
            .order_by("-updated_at", "-id")[:HOME_RECENT]
        ),
    }
    return render(request, "web/home.html", context)


def _task_answer(request: HttpRequest, activity: Activity, message: str) -> HttpResponse:
    response = render(
        request,
        "web/partials/task_row.html",
        {"task": _with_urls([activity])[0], "now": timezone.now()},
    )
    response["HX-Trigger"] = json.dumps(
        {"wasl:notice": {"message": message, "level": "success"}, "wasl:tasks-changed": {}}
    )
    return response


def _task_error(message: str, status: int = 422) -> HttpResponse:
    response = HttpResponse(status=status)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"wasl:notice": {"message": message, "level": "danger"}})
    return response


@require_GET
def task_actions(request: HttpRequest, public_id: str) -> HttpResponse:
    """The reschedule and call-outcome forms of one task, loaded when its menu opens."""
    activity = access_activity(request.user, public_id, for_write=True)
    return render(
        request,
        "web/partials/task_actions.html",
        {"task": _with_urls([activity])[0], "outcomes": Activity.Outcome.choices},
    )


@require_POST
def task_complete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Complete one of my tasks (with a call's outcome); answers the updated row."""
    activity = access_activity(request.user, public_id, for_write=True)
    outcome = request.POST.get("outcome", "")
    if outcome and outcome not in Activity.Outcome.values:
        return _task_error(_("Choose a known outcome."))
    try:
        activity = activity_complete(actor=request.user, activity=activity, outcome=outcome)
    except (Invalid, Conflict) as error:
        return _task_error(error.message, 409 if isinstance(error, Conflict) else 422)
    return _task_answer(request, activity, _("Done: %(subject)s") % {"subject": activity.subject})


@require_POST
def task_reschedule(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move one of my tasks to another day (keeping its time of day)."""
    activity = access_activity(request.user, public_id, for_write=True)
    field = CalendarDateField()
    try:
        day = field.clean(request.POST.get("due", ""))
    except ValidationError:
        return _task_error(_("Enter a date as year/month/day in your calendar."))
    if day is None:
        return _task_error(_("Enter a date as year/month/day in your calendar."))
    previous = timezone.localtime(activity.due_at) if activity.due_at else None
    clock = previous.timetz() if previous else dt.time(9, 0)
    due = timezone.make_aware(dt.datetime.combine(day, clock.replace(tzinfo=None)))
    try:
        activity = activity_reschedule(actor=request.user, activity=activity, due_at=due)
    except (Invalid, Conflict) as error:
        return _task_error(error.message, 409 if isinstance(error, Conflict) else 422)
    return _task_answer(request, activity, _("Moved: %(subject)s") % {"subject": activity.subject})
