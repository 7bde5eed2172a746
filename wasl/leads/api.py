"""Leads over the API: list, create, read, change, delete, convert and preview conversion.

`score` is shown but not taken: it is set by scoring (later) or by an administrator or
manager through the services, never by the API input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from wasl.accounts.access import access_user
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.listing import CommonFilters, apply_common_filters, custom_params
from wasl.contacts.models import Source
from wasl.core.api import ERROR_RESPONSES, BuiltOut, Page, actor_of
from wasl.core.errors import Invalid
from wasl.core.pagination import keyset_page, resolve_sort
from wasl.core.phones import format_phone
from wasl.core.validation import UNSET
from wasl.leads import services
from wasl.leads.access import access_lead
from wasl.leads.models import Lead
from wasl.leads.selectors import lead_list

router = Router(tags=["leads"])

LEAD_SORTS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "score": "score",
    "last_name": "last_name",
}


# ---------------------------------------------------------------- schemas


class LeadOut(BuiltOut):
    id: str
    first_name: str
    last_name: str
    company_name: str
    title: str
    email: str
    phone: str
    phone_display: str
    website: str
    city: str
    country: str
    notes: str
    source: str
    status: str
    disqualify_reason: str
    score: int
    owner_id: str
    team_id: str | None
    tags: list[str]
    custom: dict[str, Any]
    converted_at: dt.datetime | None
    converted_contact_id: str | None
    converted_company_id: str | None
    converted_deal_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadIn(Schema):
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    city: str = ""
    country: str = ""
    notes: str = ""
    source: str = Source.OTHER
    owner_id: str | None = None
    tags: list[str] = []
    custom: dict[str, Any] = {}
    status: str = Lead.Status.NEW
    disqualify_reason: str = ""


class LeadPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    city: str | None = None
    country: str | None = None
    notes: str | None = None
    source: str | None = None
    owner_id: str | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    status: str | None = None
    disqualify_reason: str | None = None


class ConvertIn(Schema):
    create_deal: bool = False
    deal_title: str = ""
    deal_amount: Decimal | None = None
    deal_currency: str | None = None
    pipeline_id: str | None = None
    stage_id: str | None = None
    contact_id: str | None = None
    company_id: str | None = None


class ConversionOut(Schema):
    contact_id: str | None
    company_id: str | None
    deal_id: str | None
    created_contact: bool
    created_company: bool


class RecordRef(Schema):
    id: str
    name: str


class ConversionPreviewOut(Schema):
    converted: bool
    contact: RecordRef | None
    company: RecordRef | None
    creates_contact: bool
    creates_company: bool


def _public_id(record: Any) -> str | None:
    return str(record.public_id) if record is not None else None


def lead_out(lead: Lead) -> LeadOut:
    return LeadOut(
        id=str(lead.public_id),
        first_name=lead.first_name,
        last_name=lead.last_name,
        company_name=lead.company_name,
        title=lead.title,
        email=lead.email,
        phone=lead.phone,
        phone_display=format_phone(lead.phone) if lead.phone else "",
        website=lead.website,
        city=lead.city,
        country=lead.country,
        notes=lead.notes,
        source=lead.source,
        status=lead.status,
        disqualify_reason=lead.disqualify_reason,
        score=lead.score,
        owner_id=str(lead.owner.public_id),
        team_id=_public_id(lead.team),
        tags=sorted(t.name for t in lead.tags.all()),
        custom=lead.custom,
        converted_at=lead.converted_at,
        converted_contact_id=_public_id(lead.converted_contact),
        converted_company_id=_public_id(lead.converted_company),
        converted_deal_id=_public_id(lead.converted_deal),
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )


def _choices(raw: str | None, allowed: list[str], field: str) -> list[str]:
    """Comma-separated filter values, each checked against `allowed`."""
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise Invalid({field: [_("Choose among: %(names)s.") % {"names": ", ".join(allowed)}]})
    return values


# ---------------------------------------------------------------- endpoints


@router.get("/leads", response={200: Page[LeadOut], **ERROR_RESPONSES})
def list_leads(
    request: HttpRequest,
    filters: Query[CommonFilters],
    status: str | None = None,
    source: str | None = None,
):
    """Leads you may see. Filters: owner, team, tag, date ranges, `custom.<key>=<value>`,
    status and source (each may list several values, comma-separated); sort by
    updated_at, created_at, score or last_name (prefix `-` for descending)."""
    actor = actor_of(request)
    field, descending = resolve_sort(filters.sort, LEAD_SORTS, "-updated_at")
    statuses = _choices(status, Lead.Status.values, "status")
    sources = _choices(source, Source.values, "source")
    queryset = apply_common_filters(
        lead_list(actor=actor), filters, entity="lead", custom=custom_params(request)
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if sources:
        queryset = queryset.filter(source__in=sources)
    rows, next_cursor = keyset_page(
        queryset, field=field, descending=descending, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [lead_out(lead) for lead in rows], "next": next_cursor}


@router.post("/leads", response={201: LeadOut, **ERROR_RESPONSES})
def create_lead(request: HttpRequest, payload: LeadIn):
    actor = actor_of(request)
    data = payload.dict()
    owner_id = data.pop("owner_id")
    lead = services.lead_create(
        actor=actor, owner=access_user(actor, owner_id) if owner_id else None, **data
    )
    return Status(201, lead_out(access_lead(actor, lead.public_id)))


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERROR_RESPONSES})
def get_lead(request: HttpRequest, lead_id: str):
    return lead_out(access_lead(actor_of(request), lead_id))


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERROR_RESPONSES})
def update_lead(request: HttpRequest, lead_id: str, payload: LeadPatch):
    actor = actor_of(request)
    lead = access_lead(actor, lead_id, for_write=True)
    data = payload.dict(exclude_unset=True)
    owner_id = data.pop("owner_id", None)
    status = data.pop("status", UNSET)
    reason = data.pop("disqualify_reason", UNSET)
    services.lead_update(
        actor=actor,
        lead=lead,
        owner=access_user(actor, owner_id) if owner_id else UNSET,
        status=UNSET if status is None else status,
        disqualify_reason=reason,
        **data,
    )
    return lead_out(access_lead(actor, lead_id))


@router.delete("/leads/{lead_id}", response={204: None, **ERROR_RESPONSES})
def delete_lead(request: HttpRequest, lead_id: str):
    actor = actor_of(request)
    services.lead_delete(actor=actor, lead=access_lead(actor, lead_id, for_write=True))
    return Status(204, None)


@router.post("/leads/{lead_id}/convert", response={200: ConversionOut, **ERROR_RESPONSES})
def convert_lead(request: HttpRequest, lead_id: str, payload: ConvertIn):
    """Turn the lead into a contact and company (reusing the ones you see that match, or
    those named) and, with `create_deal`, a deal. Converting again returns the same ids."""
    actor = actor_of(request)
    lead = access_lead(actor, lead_id, for_write=True)
    pipeline = stage = None
    if payload.pipeline_id or payload.stage_id:
        # Imported here so the leads API loads even before the deals access module does.
        from wasl.deals.access import access_pipeline, access_stage

        pipeline = access_pipeline(actor, payload.pipeline_id) if payload.pipeline_id else None
        stage = access_stage(actor, payload.stage_id) if payload.stage_id else None
    result = services.lead_convert(
        actor=actor,
        lead=lead,
        create_deal=payload.create_deal,
        deal_title=payload.deal_title,
        deal_amount=payload.deal_amount,
        deal_currency=payload.deal_currency,
        pipeline=pipeline,
        stage=stage,
        contact=access_contact(actor, payload.contact_id) if payload.contact_id else None,
        company=access_company(actor, payload.company_id) if payload.company_id else None,
    )
    return ConversionOut(
        contact_id=_public_id(result.contact),
        company_id=_public_id(result.company),
        deal_id=_public_id(result.deal),
        created_contact=result.created_contact,
        created_company=result.created_company,
    )


@router.get(
    "/leads/{lead_id}/conversion-preview",
    response={200: ConversionPreviewOut, **ERROR_RESPONSES},
)
def preview_conversion(request: HttpRequest, lead_id: str):
    """Which of your contacts and companies converting would reuse, and what it would create."""
    actor = actor_of(request)
    return services.lead_conversion_preview(actor=actor, lead=access_lead(actor, lead_id))
