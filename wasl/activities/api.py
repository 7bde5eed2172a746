"""Activities over the API, and every record's timeline and audit trail.

The timeline and audit endpoints of contacts, companies, leads and deals live here because
activities come last among the apps they read (see docs/architecture.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from wasl.accounts.access import access_user
from wasl.activities import services
from wasl.activities.access import access_activity
from wasl.activities.models import Activity
from wasl.activities.selectors import (
    PLANNED_KINDS,
    TimelineItem,
    activity_list,
    audit_for,
    filter_status,
    timeline_for,
)
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.listing import CommonFilters, apply_common_filters, custom_params
from wasl.core.api import ERROR_RESPONSES, BuiltOut, Page, actor_of
from wasl.core.errors import Invalid
from wasl.core.models import AuditEntry
from wasl.core.pagination import keyset_page, resolve_sort
from wasl.core.validation import UNSET
from wasl.deals.access import access_deal
from wasl.leads.access import access_lead

router = Router(tags=["activities"])

ACTIVITY_SORTS = {"updated_at": "updated_at", "created_at": "created_at", "due_at": "due_at"}
LINKS = ("contact", "company", "lead", "deal")


# ---------------------------------------------------------------- schemas


class RecordRef(BuiltOut):
    id: str
    name: str


class ActivityOut(BuiltOut):
    id: str
    kind: str
    subject: str
    body: str
    status: Literal["open", "overdue", "done"]
    due_at: dt.datetime | None
    ends_at: dt.datetime | None
    done_at: dt.datetime | None
    location: str
    direction: str
    duration_seconds: int | None
    outcome: str
    owner_id: str
    team_id: str | None
    created_by_id: str | None
    contact_id: str | None
    contact: RecordRef | None
    company_id: str | None
    company: RecordRef | None
    lead_id: str | None
    lead: RecordRef | None
    deal_id: str | None
    deal: RecordRef | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ActivityIn(Schema):
    kind: str
    subject: str
    body: str = ""
    due_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    location: str = ""
    direction: str = ""
    duration_seconds: int | None = None
    outcome: str = ""
    owner_id: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    lead_id: str | None = None
    deal_id: str | None = None
    idempotency_key: str | None = None


class ActivityPatch(Schema):
    subject: str | None = None
    body: str | None = None
    due_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    location: str | None = None
    direction: str | None = None
    duration_seconds: int | None = None
    outcome: str | None = None
    owner_id: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    lead_id: str | None = None
    deal_id: str | None = None


class CompleteIn(Schema):
    done_at: dt.datetime | None = None
    outcome: str = ""


class ActivityFilters(CommonFilters):
    kind: str | None = None
    status: Literal["open", "done", "overdue"] | None = None
    due_after: dt.datetime | None = None
    due_before: dt.datetime | None = None
    contact: str | None = None
    company: str | None = None
    lead: str | None = None
    deal: str | None = None


class TimelineItemOut(BuiltOut):
    type: Literal["activity", "event"]
    id: str
    at: dt.datetime
    kind: str | None
    action: str | None
    subject: str
    summary: str
    actor_id: str | None
    actor_name: str
    changes: dict[str, Any]
    data: dict[str, Any]
    activity: ActivityOut | None


class AuditOut(BuiltOut):
    id: int
    action: str
    actor_id: str | None
    actor_name: str
    at: dt.datetime
    changes: dict[str, Any]
    data: dict[str, Any]


# ---------------------------------------------------------------- output builders


def _ref(record: Model | None) -> RecordRef | None:
    if record is None:
        return None
    return RecordRef(id=str(record.public_id), name=str(record))  # type: ignore[attr-defined]


def _public(record: Any) -> str | None:
    return str(record.public_id) if record is not None else None


def _status(activity: Activity, now: dt.datetime) -> Literal["open", "overdue", "done"]:
    if activity.done_at is not None or activity.kind not in PLANNED_KINDS:
        return "done"
    if activity.due_at is not None and activity.due_at < now:
        return "overdue"
    return "open"


def activity_out(activity: Activity, *, now: dt.datetime | None = None) -> ActivityOut:
    return ActivityOut(
        id=str(activity.public_id),
        kind=activity.kind,
        subject=activity.subject,
        body=activity.body,
        status=_status(activity, now or timezone.now()),
        due_at=activity.due_at,
        ends_at=activity.ends_at,
        done_at=activity.done_at,
        location=activity.location,
        direction=activity.direction,
        duration_seconds=activity.duration_seconds,
        outcome=activity.outcome,
        owner_id=str(activity.owner.public_id),
        team_id=_public(activity.team),
        created_by_id=_public(activity.created_by),
        contact_id=_public(activity.contact),
        contact=_ref(activity.contact),
        company_id=_public(activity.company),
        company=_ref(activity.company),
        lead_id=_public(activity.lead),
        lead=_ref(activity.lead),
        deal_id=_public(activity.deal),
        deal=_ref(activity.deal),
        created_at=activity.created_at,
        updated_at=activity.updated_at,
    )


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None:
        return {"actor_id": None, "actor_name": ""}
    return {"actor_id": str(actor.public_id), "actor_name": str(actor)}


def timeline_item_out(item: TimelineItem, now: dt.datetime) -> TimelineItemOut:
    return TimelineItemOut(
        type=item.type,  # type: ignore[arg-type]
        id=item.id,
        at=item.at,
        kind=item.kind or None,
        action=item.action or None,
        subject=item.subject,
        summary=item.summary,
        changes=item.changes,
        data=item.data,
        activity=activity_out(item.activity, now=now) if item.activity is not None else None,
        **_actor_fields(item.actor),
    )


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut(
        id=entry.pk,
        action=entry.action,
        at=entry.created_at,
        changes=entry.changes,
        data=entry.data,
        **_actor_fields(entry.actor),
    )


# ---------------------------------------------------------------- loading linked records


_LOADERS = {
    "contact": access_contact,
    "company": access_company,
    "lead": access_lead,
    "deal": access_deal,
}


def _links(actor: Any, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    """Linked records named by `<link>_id` in `data`, loaded as the actor sees them
    (an invisible one is not found). For a patch, only the links sent, None unlinking."""
    links: dict[str, Any] = {}
    for name in LINKS:
        key = f"{name}_id"
        if patch and key not in data:
            continue
        value = data.pop(key, None)
        links[name] = _LOADERS[name](actor, value) if value else None
    return links


# ---------------------------------------------------------------- activities


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.get("/activities", response={200: Page[ActivityOut], **ERROR_RESPONSES})
def list_activities(request: HttpRequest, filters: Query[ActivityFilters]):
    """Activities you may see. Filters: owner, team, kind, status (open, done, overdue),
    due_after/due_before, contact, company, lead, deal (public ids), created and updated
    ranges; sort by updated_at, created_at or due_at (prefix `-` for descending; activities
    without a due time come last when sorting by due_at)."""
    actor = actor_of(request)
    if filters.tag:
        raise Invalid({"tag": [_("Activities have no tags.")]})
    field, descending = resolve_sort(filters.sort, ACTIVITY_SORTS, "-updated_at")
    now = timezone.now()
    queryset = apply_common_filters(
        activity_list(actor=actor), filters, custom=custom_params(request), has_tags=False
    )
    if filters.kind:
        if filters.kind not in Activity.Kind.values:
            raise Invalid({"kind": [_("Unknown kind.")]})
        queryset = queryset.filter(kind=filters.kind)
    if filters.status:
        queryset = filter_status(queryset, filters.status, now=now)
    if filters.due_after is not None:
        queryset = queryset.filter(due_at__gte=filters.due_after)
    if filters.due_before is not None:
        queryset = queryset.filter(due_at__lt=filters.due_before)
    for name in LINKS:
        value = getattr(filters, name)
        if value:
            # An unknown or invisible record gives an empty list, never an error that
            # would confirm it exists.
            public_id = _parse_uuid(value)
            queryset = (
                queryset.filter(**{f"{name}__public_id": public_id})
                if public_id
                else queryset.none()
            )
    rows, next_cursor = keyset_page(
        queryset, field=field, descending=descending, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [activity_out(a, now=now) for a in rows], "next": next_cursor}


@router.post("/activities", response={201: ActivityOut, **ERROR_RESPONSES})
def create_activity(request: HttpRequest, payload: ActivityIn):
    """Log or plan an activity. Times without a zone are UTC. With an `idempotency_key`
    already used, answers with that activity unchanged."""
    actor = actor_of(request)
    data = payload.dict()
    owner_id = data.pop("owner_id")
    links = _links(actor, data, patch=False)
    activity = services.activity_create(
        actor=actor,
        owner=access_user(actor, owner_id) if owner_id else None,
        **links,
        **data,
    )
    return Status(201, activity_out(access_activity(actor, activity.public_id)))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERROR_RESPONSES})
def get_activity(request: HttpRequest, activity_id: str):
    return activity_out(access_activity(actor_of(request), activity_id))


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **ERROR_RESPONSES})
def update_activity(request: HttpRequest, activity_id: str, payload: ActivityPatch):
    """Change the fields sent; `<link>_id: null` unlinks. Complete and reopen tasks, calls
    and meetings with their own endpoints."""
    actor = actor_of(request)
    activity = access_activity(actor, activity_id, for_write=True)
    data = payload.dict(exclude_unset=True)
    owner_id = data.pop("owner_id", None)
    links = _links(actor, data, patch=True)
    services.activity_update(
        actor=actor,
        activity=activity,
        owner=access_user(actor, owner_id) if owner_id else UNSET,
        **links,
        **data,
    )
    return activity_out(access_activity(actor, activity_id))


@router.delete("/activities/{activity_id}", response={204: None, **ERROR_RESPONSES})
def delete_activity(request: HttpRequest, activity_id: str):
    actor = actor_of(request)
    services.activity_delete(
        actor=actor, activity=access_activity(actor, activity_id, for_write=True)
    )
    return Status(204, None)


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, **ERROR_RESPONSES})
def complete_activity(request: HttpRequest, activity_id: str, payload: CompleteIn):
    """Mark a task, call or meeting done (409 if it already is)."""
    actor = actor_of(request)
    services.activity_complete(
        actor=actor,
        activity=access_activity(actor, activity_id, for_write=True),
        done_at=payload.done_at,
        outcome=payload.outcome,
    )
    return activity_out(access_activity(actor, activity_id))


@router.post("/activities/{activity_id}/reopen", response={200: ActivityOut, **ERROR_RESPONSES})
def reopen_activity(request: HttpRequest, activity_id: str):
    """Make a done task, call or meeting open again (409 if it is open)."""
    actor = actor_of(request)
    services.activity_reopen(
        actor=actor, activity=access_activity(actor, activity_id, for_write=True)
    )
    return activity_out(access_activity(actor, activity_id))


@router.get(
    "/activities/{activity_id}/audit",
    response={200: Page[AuditOut], **ERROR_RESPONSES},
    tags=["audit"],
)
def activity_audit(
    request: HttpRequest, activity_id: str, cursor: str | None = None, limit: int = 50
):
    actor = actor_of(request)
    return _audit_page(actor, access_activity(actor, activity_id), cursor, limit)


# ---------------------------------------------------------------- timelines and audit trails


def _timeline_page(actor: Any, record: Model, cursor: str | None, limit: int) -> dict[str, Any]:
    items, next_cursor = timeline_for(actor=actor, record=record, limit=limit, cursor=cursor)
    now = timezone.now()
    return {"items": [timeline_item_out(item, now) for item in items], "next": next_cursor}


def _audit_page(actor: Any, record: Model, cursor: str | None, limit: int) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        audit_for(actor=actor, record=record),
        field="created_at",
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [audit_out(entry) for entry in rows], "next": next_cursor}


TIMELINE_RESPONSES: dict[int, Any] = {200: Page[TimelineItemOut], **ERROR_RESPONSES}
AUDIT_RESPONSES: dict[int, Any] = {200: Page[AuditOut], **ERROR_RESPONSES}


@router.get("/contacts/{contact_id}/timeline", response=TIMELINE_RESPONSES, tags=["timeline"])
def contact_timeline(
    request: HttpRequest, contact_id: str, cursor: str | None = None, limit: int = 50
):
    """The contact's activities and changes, newest first."""
    actor = actor_of(request)
    return _timeline_page(actor, access_contact(actor, contact_id, related=False), cursor, limit)


@router.get("/companies/{company_id}/timeline", response=TIMELINE_RESPONSES, tags=["timeline"])
def company_timeline(
    request: HttpRequest, company_id: str, cursor: str | None = None, limit: int = 50
):
    """The company's own activities and changes, newest first."""
    actor = actor_of(request)
    return _timeline_page(actor, access_company(actor, company_id, related=False), cursor, limit)


@router.get("/leads/{lead_id}/timeline", response=TIMELINE_RESPONSES, tags=["timeline"])
def lead_timeline(request: HttpRequest, lead_id: str, cursor: str | None = None, limit: int = 50):
    """The lead's activities and changes (qualification, conversion), newest first."""
    actor = actor_of(request)
    return _timeline_page(actor, access_lead(actor, lead_id), cursor, limit)


@router.get("/deals/{deal_id}/timeline", response=TIMELINE_RESPONSES, tags=["timeline"])
def deal_timeline(request: HttpRequest, deal_id: str, cursor: str | None = None, limit: int = 50):
    """The deal's activities and changes (stage moves, won, lost), newest first."""
    actor = actor_of(request)
    return _timeline_page(actor, access_deal(actor, deal_id), cursor, limit)


@router.get("/contacts/{contact_id}/audit", response=AUDIT_RESPONSES, tags=["audit"])
def contact_audit(
    request: HttpRequest, contact_id: str, cursor: str | None = None, limit: int = 50
):
    """Who changed what on the contact and when, with old and new values, newest first."""
    actor = actor_of(request)
    return _audit_page(actor, access_contact(actor, contact_id, related=False), cursor, limit)


@router.get("/companies/{company_id}/audit", response=AUDIT_RESPONSES, tags=["audit"])
def company_audit(
    request: HttpRequest, company_id: str, cursor: str | None = None, limit: int = 50
):
    actor = actor_of(request)
    return _audit_page(actor, access_company(actor, company_id, related=False), cursor, limit)


@router.get("/leads/{lead_id}/audit", response=AUDIT_RESPONSES, tags=["audit"])
def lead_audit(request: HttpRequest, lead_id: str, cursor: str | None = None, limit: int = 50):
    actor = actor_of(request)
    return _audit_page(actor, access_lead(actor, lead_id), cursor, limit)


@router.get("/deals/{deal_id}/audit", response=AUDIT_RESPONSES, tags=["audit"])
def deal_audit(request: HttpRequest, deal_id: str, cursor: str | None = None, limit: int = 50):
    actor = actor_of(request)
    return _audit_page(actor, access_deal(actor, deal_id), cursor, limit)
