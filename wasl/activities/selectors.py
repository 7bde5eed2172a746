"""Reads of activities and of a record's timeline, scoped by the visibility rule."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import IsNull, LessThan
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.core.audit import entries_for
from wasl.core.errors import Invalid
from wasl.core.models import AuditEntry
from wasl.core.pagination import MAX_LIMIT
from wasl.core.planner import Likely
from wasl.core.visibility import visible
from wasl.leads.models import Lead

PLANNED_KINDS = (Activity.Kind.TASK, Activity.Kind.CALL, Activity.Kind.MEETING)
_RELATED = ("owner", "team", "contact", "company", "lead", "deal", "created_by")

# Which Activity foreign key points at a record of each model (by `app_label.model`).
_LINK_FIELD = {
    "contacts.contact": "contact",
    "contacts.company": "company",
    "leads.lead": "lead",
    "deals.deal": "deal",
}
# Ties on the same instant list activities before events (the higher rank comes first).
_RANK = {"activity": 1, "event": 0}


def activity_list(*, actor: Any) -> QuerySet[Activity]:
    """Activities the actor may see (as assignee, team manager, share or admin), with
    what a list row shows loaded in the same query."""
    return visible(Activity.objects.all(), actor).select_related(*_RELATED)


class _OpenLookup(Likely, IsNull):
    # Open activities are a small share of all of them (4% in the demo data, less after
    # years of use). The hint tells SQLite they are many rows, not one or two; kept above
    # the real share, so that looking them up user by user (and sorting) never looks
    # cheaper than walking the open-activity index.
    share = 0.1


class _PastDueLookup(Likely, LessThan):
    # Most open activities are overdue in practice. Walking the open ones newest first
    # finds a page of overdue ones in a few rows; narrowing them to the due range first
    # means sorting them all. The hint alone did not hold: a change to an unrelated index
    # of the table turned SQLite to the due range, so on SQLite the due date is also
    # written as `+due_at`, which no index serves.
    share = 0.9

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().as_sqlite(compiler, connection)
        return sql.replace("likelihood(", "likelihood(+", 1), params


def open_q() -> IsNull:
    """Not done: `done_at IS NULL`, the condition of the open-activity indexes."""
    return _OpenLookup(F("done_at"), True)


def my_open_tasks(*, actor: Any, now: dt.datetime) -> QuerySet[Activity]:
    """The actor's open tasks, calls and meetings: overdue first, then by due time
    (undated last). Due order puts the overdue ones (due before `now`) first by itself,
    so the rows come straight from the (owner, due_at, id) index of open activities."""
    del now  # due order already puts the overdue ones first; no cut-off is needed
    return (
        activity_list(actor=actor)
        .filter(open_q(), owner_id=actor.pk, kind__in=PLANNED_KINDS)
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )


def filter_status(queryset: QuerySet[Activity], status: str, *, now: dt.datetime) -> Any:
    """open: a task, call or meeting not done; overdue: open and past due; done: done."""
    if status == "open":
        return queryset.filter(open_q(), kind__in=PLANNED_KINDS)
    if status == "overdue":
        return queryset.filter(open_q(), _PastDueLookup(F("due_at"), now), kind__in=PLANNED_KINDS)
    if status == "done":
        return queryset.filter(done_at__isnull=False)
    raise Invalid({"status": [_("Use open, done or overdue.")]})


# ---------------------------------------------------------------- timeline


@dataclass
class TimelineItem:
    """One entry of a record's timeline: an activity or a system event from the audit trail."""

    type: str
    id: str
    at: dt.datetime
    actor: Any
    subject: str
    kind: str = ""
    action: str = ""
    summary: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    activity: Activity | None = None
    sort_pk: int = 0

    @property
    def key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, _RANK[self.type], self.sort_pk)


def _encode_cursor(item: TimelineItem) -> str:
    raw = json.dumps([item.at.isoformat(), item.type, item.sort_pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str, int]:
    invalid = Invalid({"cursor": [_("This cursor is not valid.")]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, kind, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = parse_datetime(at_text)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise invalid from error
    if at is None or at.tzinfo is None or kind not in _RANK or not isinstance(pk, int):
        raise invalid
    return at, kind, pk


def _before(at: dt.datetime, kind: str, pk: int, *, own_kind: str, at_field: str) -> Q:
    """Rows of `own_kind` that come after the cursor in newest-first order."""
    rank, own_rank = _RANK[kind], _RANK[own_kind]
    clause = Q(**{f"{at_field}__lt": at})
    if own_rank < rank:
        clause |= Q(**{at_field: at})
    elif own_rank == rank:
        clause |= Q(**{at_field: at, "pk__lt": pk})
    return clause


def _summary(entry: AuditEntry) -> str:
    label = str(AuditEntry.Action(entry.action).label) if entry.action else ""
    if entry.action in (AuditEntry.Action.UPDATE, AuditEntry.Action.ASSIGN) and entry.changes:
        return f"{label}: {', '.join(sorted(entry.changes))}"
    return label


def _activity_item(activity: Activity) -> TimelineItem:
    return TimelineItem(
        type="activity",
        id=str(activity.public_id),
        at=activity.created_at,
        actor=activity.created_by,
        subject=activity.subject,
        kind=activity.kind,
        summary=activity.body[:280],
        activity=activity,
        sort_pk=activity.pk,
    )


def _event_item(entry: AuditEntry) -> TimelineItem:
    return TimelineItem(
        type="event",
        id=str(entry.pk),
        at=entry.created_at,
        actor=entry.actor,
        subject=entry.object_repr,
        action=entry.action,
        summary=_summary(entry),
        changes=entry.changes,
        data=entry.data,
        sort_pk=entry.pk,
    )


def timeline_for(
    *, actor: Any, record: models.Model, limit: int = 50, cursor: str | None = None
) -> tuple[list[TimelineItem], str | None]:
    """A record's activities and audit events, newest first (by creation time), and the
    cursor of the next page. Three queries whatever the page size (activities, audit
    events, the users they name with their teams), and for a contact one more for the
    leads converted into it.

    The caller has loaded `record` through its access function, so the actor sees it;
    every activity linked to a visible record shows on its timeline, whoever it is
    assigned to. Raises Invalid for a bad cursor or a record kind with no timeline."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    label = record._meta.label_lower
    link = _LINK_FIELD.get(label)
    if link is None:
        raise Invalid({"record": [_("This kind of record has no timeline.")]})
    linked = Q(**{link: record})
    if link == "contact":
        # A converted lead's calls and notes stay on the lead and show on its contact too.
        # The leads' ids are read first: with them written into the query the OR stays on
        # two indexed columns on both databases (with a subquery PostgreSQL scanned all
        # 2M activities, 190 ms at L), and most contacts have none, so no OR at all.
        converted = list(
            Lead.objects.filter(converted_contact=record).values_list("pk", flat=True)[:100]
        )
        if converted:
            linked |= Q(lead_id__in=converted)
    # Only the nullable links are joined; the record itself, the users and the teams (a
    # handful, repeated on every row) are attached from one small query each below, so a
    # page of 50 builds a few user rows instead of 150 (most of a page's time was spent
    # building the same joined rows again and again).
    activities = Activity.objects.filter(linked).select_related(
        *(name for name in _LINKS if name != link)
    )
    entries = entries_for(record).select_related(None)
    if cursor:
        at, kind, pk = _decode_cursor(cursor)
        activities = activities.filter(
            _before(at, kind, pk, own_kind="activity", at_field="created_at")
        )
        entries = entries.filter(_before(at, kind, pk, own_kind="event", at_field="created_at"))
    rows = list(activities.order_by("-created_at", "-id")[: limit + 1])
    events = list(entries.order_by("-created_at", "-id")[: limit + 1])
    _attach(rows, events, record=record, link=link)
    items = [*(_activity_item(a) for a in rows), *(_event_item(e) for e in events)]
    items.sort(key=lambda item: item.key, reverse=True)
    page = items[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(items) > limit else None
    return page, next_cursor


_LINKS = ("contact", "company", "lead", "deal")


def _attach(
    activities: list[Activity], entries: list[AuditEntry], *, record: models.Model, link: str
) -> None:
    """Set each activity's owner, creator, team and own link, and each entry's actor, from
    one query for the users with their teams (the timeline's record is the link most rows
    share; a row linked to another record of that kind, or a team no user holds, costs
    one more query)."""
    from wasl.accounts.models import Team, User

    user_ids = {a.owner_id for a in activities} | {a.created_by_id for a in activities}
    user_ids |= {e.actor_id for e in entries}
    user_ids.discard(None)
    users = User.objects.select_related("team").in_bulk(sorted(user_ids)) if user_ids else {}
    # An activity's team is its owner's team unless the owner moved since.
    teams = {u.team_id: u.team for u in users.values() if u.team_id is not None}
    missing = sorted({a.team_id for a in activities} - set(teams) - {None})
    if missing:
        teams |= Team.objects.in_bulk(missing)
    field_name = f"{link}_id"
    others = sorted(
        {getattr(a, field_name) for a in activities} - {None, record.pk}  # type: ignore[operator]
    )
    linked = {record.pk: record}
    if others:
        linked |= type(record)._default_manager.in_bulk(others)
    for activity in activities:
        activity.owner = users[activity.owner_id]
        activity.created_by = users.get(activity.created_by_id)
        activity.team = teams.get(activity.team_id)
        setattr(activity, link, linked.get(getattr(activity, field_name)))
    for entry in entries:
        entry.actor = users.get(entry.actor_id)


def audit_for(*, actor: Any, record: models.Model) -> QuerySet[AuditEntry]:
    """A record's audit trail, newest first, with each actor loaded. The caller has loaded
    `record` through its access function, so the actor sees it."""
    return entries_for(record)
