"""Contacts, companies, tags and custom fields over the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from wasl.accounts.access import access_user
from wasl.contacts import services
from wasl.contacts.access import (
    access_company,
    access_contact,
    access_custom_field,
    access_tag,
)
from wasl.contacts.listing import CommonFilters, apply_common_filters, custom_params
from wasl.contacts.models import Company, Contact, ContactPoint, CustomFieldDefinition, Tag
from wasl.contacts.selectors import company_list, contact_list, custom_field_list, tag_list
from wasl.core.api import ERROR_RESPONSES, BuiltOut, Page, actor_of
from wasl.core.pagination import keyset_page, resolve_sort
from wasl.core.phones import format_phone
from wasl.core.validation import UNSET

router = Router(tags=["customers"])

CONTACT_SORTS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "last_name": "last_name",
    "first_name": "first_name",
}
COMPANY_SORTS = {"updated_at": "updated_at", "created_at": "created_at", "name": "name"}


# ---------------------------------------------------------------- schemas


class PointOut(BuiltOut):
    value: str
    label: str
    display: str


class PointIn(Schema):
    value: str
    label: str = ""


class CompanyRef(BuiltOut):
    id: str
    name: str


class MembershipOut(BuiltOut):
    company: CompanyRef
    role: str
    is_primary: bool


class ImportantDateIO(Schema):
    kind: str
    label: str = ""
    date: dt.date


class AddressMixin(Schema):
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


class AddressOut(BuiltOut):
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


class ContactOut(AddressOut):
    id: str
    first_name: str
    last_name: str
    full_name: str
    title: str
    emails: list[PointOut]
    phones: list[PointOut]
    company_id: str | None
    company: CompanyRef | None
    companies: list[MembershipOut] | None = None
    important_dates: list[ImportantDateIO] | None = None
    birthday: dt.date | None
    website: str
    industry: str
    source: str
    notes: str
    owner_id: str
    team_id: str | None
    tags: list[str]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactIn(AddressMixin):
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    emails: list[str | PointIn] = []
    phones: list[str | PointIn] = []
    company_id: str | None = None
    company_role: str = ""
    birthday: dt.date | None = None
    website: str = ""
    industry: str = ""
    source: str = ""
    notes: str = ""
    owner_id: str | None = None
    tags: list[str] = []
    custom: dict[str, Any] = {}
    important_dates: list[ImportantDateIO] = []


class ContactPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    emails: list[str | PointIn] | None = None
    phones: list[str | PointIn] | None = None
    company_id: str | None = None
    company_role: str = ""
    birthday: dt.date | None = None
    website: str | None = None
    industry: str | None = None
    source: str | None = None
    notes: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    owner_id: str | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    important_dates: list[ImportantDateIO] | None = None


class CompanyOut(AddressOut):
    id: str
    name: str
    website: str
    industry: str
    source: str
    notes: str
    emails: list[PointOut]
    phones: list[PointOut]
    owner_id: str
    team_id: str | None
    tags: list[str]
    custom: dict[str, Any]
    important_dates: list[ImportantDateIO] | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class CompanyIn(AddressMixin):
    name: str
    website: str = ""
    industry: str = ""
    source: str = ""
    notes: str = ""
    emails: list[str | PointIn] = []
    phones: list[str | PointIn] = []
    owner_id: str | None = None
    tags: list[str] = []
    custom: dict[str, Any] = {}
    important_dates: list[ImportantDateIO] = []


class CompanyPatch(Schema):
    name: str | None = None
    website: str | None = None
    industry: str | None = None
    source: str | None = None
    notes: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    emails: list[str | PointIn] | None = None
    phones: list[str | PointIn] | None = None
    owner_id: str | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    important_dates: list[ImportantDateIO] | None = None


class TagOut(Schema):
    id: str
    name: str
    color: str


class TagIn(Schema):
    name: str
    color: str = ""


class TagPatch(Schema):
    name: str | None = None
    color: str | None = None


class CustomFieldOut(Schema):
    id: str
    entity: str
    key: str
    label: str
    label_en: str
    label_fa: str
    label_ar: str
    kind: str
    required: bool
    choices: list[Any]
    validation: dict[str, Any]
    position: int


class CustomFieldIn(Schema):
    entity: str
    key: str
    label_en: str
    label_fa: str = ""
    label_ar: str = ""
    kind: str
    required: bool = False
    choices: list[Any] = []
    validation: dict[str, Any] = {}
    position: int = 0


class CustomFieldPatch(Schema):
    label_en: str | None = None
    label_fa: str | None = None
    label_ar: str | None = None
    required: bool | None = None
    choices: list[Any] | None = None
    validation: dict[str, Any] | None = None
    position: int | None = None


# ---------------------------------------------------------------- output builders


def points_out(points: list[ContactPoint], kind: str) -> list[PointOut]:
    return [
        PointOut(
            value=p.value,
            label=p.label,
            display=format_phone(p.value) if kind == "phone" else p.value,
        )
        for p in points
        if p.kind == kind
    ]


def _address(record: Contact | Company) -> dict[str, str]:
    return {
        "street": record.street,
        "city": record.city,
        "region": record.region,
        "postal_code": record.postal_code,
        "country": record.country,
    }


def contact_out(contact: Contact, *, detail: bool = False) -> ContactOut:
    points = list(contact.points.all())
    company = contact.primary_company
    out = ContactOut(
        id=str(contact.public_id),
        first_name=contact.first_name,
        last_name=contact.last_name,
        full_name=contact.full_name,
        title=contact.title,
        emails=points_out(points, "email"),
        phones=points_out(points, "phone"),
        company_id=str(company.public_id) if company else None,
        company=CompanyRef(id=str(company.public_id), name=company.name) if company else None,
        birthday=contact.birthday,
        website=contact.website,
        industry=contact.industry,
        source=contact.source,
        notes=contact.notes,
        owner_id=str(contact.owner.public_id),
        team_id=str(contact.team.public_id) if contact.team else None,
        tags=sorted(t.name for t in contact.tags.all()),
        custom=contact.custom,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        **_address(contact),
    )
    if detail:
        out.companies = [
            MembershipOut(
                company=CompanyRef(id=str(m.company.public_id), name=m.company.name),
                role=m.role,
                is_primary=m.is_primary,
            )
            for m in contact.memberships.all()
        ]
        out.important_dates = [
            ImportantDateIO(kind=d.kind, label=d.label, date=d.date)
            for d in contact.important_dates.all()
        ]
    return out


def company_out(company: Company, *, detail: bool = False) -> CompanyOut:
    """A company as the API shows it; `detail` adds its important dates (one more read,
    left out of lists)."""
    points = list(company.points.all())
    return CompanyOut(
        id=str(company.public_id),
        name=company.name,
        website=company.website,
        industry=company.industry,
        source=company.source,
        notes=company.notes,
        emails=points_out(points, "email"),
        phones=points_out(points, "phone"),
        owner_id=str(company.owner.public_id),
        team_id=str(company.team.public_id) if company.team else None,
        tags=sorted(t.name for t in company.tags.all()),
        custom=company.custom,
        important_dates=[
            ImportantDateIO(kind=d.kind, label=d.label, date=d.date)
            for d in company.important_dates.all()
        ]
        if detail
        else None,
        created_at=company.created_at,
        updated_at=company.updated_at,
        **_address(company),
    )


def tag_out(tag: Tag) -> TagOut:
    return TagOut(id=str(tag.public_id), name=tag.name, color=tag.color)


def custom_field_out(d: CustomFieldDefinition) -> CustomFieldOut:
    return CustomFieldOut(
        id=str(d.public_id),
        entity=d.entity,
        key=d.key,
        label=d.label,
        label_en=d.label_en,
        label_fa=d.label_fa,
        label_ar=d.label_ar,
        kind=d.kind,
        required=d.required,
        choices=d.choices,
        validation=d.validation,
        position=d.position,
    )


def _points_in(items: list[str | PointIn] | None) -> list[Any] | None:
    if items is None:
        return None
    return [item.dict() if isinstance(item, PointIn) else item for item in items]


# ---------------------------------------------------------------- contacts


@router.get("/contacts", response={200: Page[ContactOut], **ERROR_RESPONSES})
def list_contacts(request: HttpRequest, filters: Query[CommonFilters], company: str | None = None):
    """Contacts you may see. Filters: owner, team, tag, company, date ranges,
    `custom.<key>=<value>`; sort by updated_at, created_at, last_name or first_name
    (prefix `-` for descending)."""
    actor = actor_of(request)
    field, descending = resolve_sort(filters.sort, CONTACT_SORTS, "-updated_at")
    queryset = apply_common_filters(
        contact_list(actor=actor), filters, entity="contact", custom=custom_params(request)
    )
    if company:
        queryset = queryset.filter(companies=access_company(actor, company))
    rows, next_cursor = keyset_page(
        queryset, field=field, descending=descending, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [contact_out(c) for c in rows], "next": next_cursor}


@router.post("/contacts", response={201: ContactOut, **ERROR_RESPONSES})
def create_contact(request: HttpRequest, payload: ContactIn):
    actor = actor_of(request)
    data = payload.dict()
    owner_id, company_id = data.pop("owner_id"), data.pop("company_id")
    data["emails"], data["phones"] = _points_in(payload.emails), _points_in(payload.phones)
    data["important_dates"] = [d.dict() for d in payload.important_dates]
    contact = services.contact_create(
        actor=actor,
        owner=access_user(actor, owner_id) if owner_id else None,
        company=access_company(actor, company_id) if company_id else None,
        **data,
    )
    return Status(201, contact_out(access_contact(actor, contact.public_id), detail=True))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES})
def get_contact(request: HttpRequest, contact_id: str):
    return contact_out(access_contact(actor_of(request), contact_id), detail=True)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES})
def update_contact(request: HttpRequest, contact_id: str, payload: ContactPatch):
    actor = actor_of(request)
    contact = access_contact(actor, contact_id, for_write=True)
    data = payload.dict(exclude_unset=True)
    owner_id = data.pop("owner_id", None)
    company = UNSET
    if "company_id" in data:
        company_id = data.pop("company_id")
        company = access_company(actor, company_id) if company_id else None
    if "emails" in data:
        data["emails"] = _points_in(payload.emails)
    if "phones" in data:
        data["phones"] = _points_in(payload.phones)
    if "important_dates" in data:
        data["important_dates"] = [d.dict() for d in payload.important_dates or []]
    services.contact_update(
        actor=actor,
        contact=contact,
        owner=access_user(actor, owner_id) if owner_id else UNSET,
        company=company,
        **data,
    )
    return contact_out(access_contact(actor, contact_id), detail=True)


@router.delete("/contacts/{contact_id}", response={204: None, **ERROR_RESPONSES})
def delete_contact(request: HttpRequest, contact_id: str):
    actor = actor_of(request)
    services.contact_delete(actor=actor, contact=access_contact(actor, contact_id, for_write=True))
    return Status(204, None)


# ---------------------------------------------------------------- companies


@router.get("/companies", response={200: Page[CompanyOut], **ERROR_RESPONSES})
def list_companies(request: HttpRequest, filters: Query[CommonFilters]):
    """Companies you may see; same filters and cursor as contacts; sort by name too."""
    actor = actor_of(request)
    field, descending = resolve_sort(filters.sort, COMPANY_SORTS, "-updated_at")
    queryset = apply_common_filters(
        company_list(actor=actor), filters, entity="company", custom=custom_params(request)
    )
    rows, next_cursor = keyset_page(
        queryset, field=field, descending=descending, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [company_out(c) for c in rows], "next": next_cursor}


@router.post("/companies", response={201: CompanyOut, **ERROR_RESPONSES})
def create_company(request: HttpRequest, payload: CompanyIn):
    actor = actor_of(request)
    data = payload.dict()
    owner_id = data.pop("owner_id")
    data["emails"], data["phones"] = _points_in(payload.emails), _points_in(payload.phones)
    data["important_dates"] = [d.dict() for d in payload.important_dates]
    company = services.company_create(
        actor=actor, owner=access_user(actor, owner_id) if owner_id else None, **data
    )
    return Status(201, company_out(access_company(actor, company.public_id), detail=True))


@router.get("/companies/{company_id}", response={200: CompanyOut, **ERROR_RESPONSES})
def get_company(request: HttpRequest, company_id: str):
    return company_out(access_company(actor_of(request), company_id), detail=True)


@router.patch("/companies/{company_id}", response={200: CompanyOut, **ERROR_RESPONSES})
def update_company(request: HttpRequest, company_id: str, payload: CompanyPatch):
    actor = actor_of(request)
    company = access_company(actor, company_id, for_write=True)
    data = payload.dict(exclude_unset=True)
    owner_id = data.pop("owner_id", None)
    if "emails" in data:
        data["emails"] = _points_in(payload.emails)
    if "phones" in data:
        data["phones"] = _points_in(payload.phones)
    if "important_dates" in data:
        data["important_dates"] = [d.dict() for d in payload.important_dates or []]
    services.company_update(
        actor=actor,
        company=company,
        owner=access_user(actor, owner_id) if owner_id else UNSET,
        **data,
    )
    return company_out(access_company(actor, company_id), detail=True)


@router.delete("/companies/{company_id}", response={204: None, **ERROR_RESPONSES})
def delete_company(request: HttpRequest, company_id: str):
    actor = actor_of(request)
    services.company_delete(actor=actor, company=access_company(actor, company_id, for_write=True))
    return Status(204, None)


# ---------------------------------------------------------------- tags


@router.get("/tags", response={200: Page[TagOut], **ERROR_RESPONSES})
def list_tags(request: HttpRequest, q: str = "", cursor: str | None = None, limit: int = 100):
    from wasl.core.text import normalise

    tags = tag_list(actor=actor_of(request))
    if q:
        tags = tags.filter(key__startswith=normalise(q))
    rows, next_cursor = keyset_page(tags, field="key", descending=False, cursor=cursor, limit=limit)
    return {"items": [tag_out(t) for t in rows], "next": next_cursor}


@router.post("/tags", response={201: TagOut, **ERROR_RESPONSES})
def create_tag(request: HttpRequest, payload: TagIn):
    tag = services.tag_create(actor=actor_of(request), name=payload.name, color=payload.color)
    return Status(201, tag_out(tag))


@router.get("/tags/{tag_id}", response={200: TagOut, **ERROR_RESPONSES})
def get_tag(request: HttpRequest, tag_id: str):
    return tag_out(access_tag(actor_of(request), tag_id))


@router.patch("/tags/{tag_id}", response={200: TagOut, **ERROR_RESPONSES})
def update_tag(request: HttpRequest, tag_id: str, payload: TagPatch):
    actor = actor_of(request)
    return tag_out(
        services.tag_update(
            actor=actor, tag=access_tag(actor, tag_id), **payload.dict(exclude_unset=True)
        )
    )


@router.delete("/tags/{tag_id}", response={204: None, **ERROR_RESPONSES})
def delete_tag(request: HttpRequest, tag_id: str):
    actor = actor_of(request)
    services.tag_delete(actor=actor, tag=access_tag(actor, tag_id))
    return Status(204, None)


# ---------------------------------------------------------------- custom fields


@router.get("/custom-fields", response={200: Page[CustomFieldOut], **ERROR_RESPONSES})
def list_custom_fields(request: HttpRequest, entity: str | None = None):
    rows = list(custom_field_list(actor=actor_of(request), entity=entity))
    return {"items": [custom_field_out(d) for d in rows], "next": None}


@router.post("/custom-fields", response={201: CustomFieldOut, **ERROR_RESPONSES})
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    definition = services.custom_field_create(actor=actor_of(request), **payload.dict())
    return Status(201, custom_field_out(definition))


@router.get("/custom-fields/{field_id}", response={200: CustomFieldOut, **ERROR_RESPONSES})
def get_custom_field(request: HttpRequest, field_id: str):
    return custom_field_out(access_custom_field(actor_of(request), field_id))


@router.patch("/custom-fields/{field_id}", response={200: CustomFieldOut, **ERROR_RESPONSES})
def update_custom_field(request: HttpRequest, field_id: str, payload: CustomFieldPatch):
    actor = actor_of(request)
    definition = services.custom_field_update(
        actor=actor,
        definition=access_custom_field(actor, field_id),
        **payload.dict(exclude_unset=True),
    )
    return custom_field_out(definition)


@router.delete("/custom-fields/{field_id}", response={204: None, **ERROR_RESPONSES})
def delete_custom_field(request: HttpRequest, field_id: str):
    actor = actor_of(request)
    services.custom_field_delete(actor=actor, definition=access_custom_field(actor, field_id))
    return Status(204, None)
