"""The whitelisted view of a record that conditions test and templates render.

Only plain values (text, numbers, dates, lists, dicts) built here reach a condition or a
template: no model instance, so a template cannot reach anything else.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models

from wasl.activities.models import Activity
from wasl.contacts.models import Company, Contact
from wasl.deals.models import Deal
from wasl.leads.models import Lead

MODELS: dict[str, type[models.Model]] = {
    "contact": Contact,
    "company": Company,
    "lead": Lead,
    "deal": Deal,
    "activity": Activity,
}
_RELATED: dict[str, tuple[str, ...]] = {
    "contact": ("owner__team", "primary_company"),
    "company": ("owner__team",),
    "lead": ("owner__team",),
    "deal": ("owner__team", "pipeline", "stage", "company"),
    "activity": ("owner__team", "contact", "company", "lead", "deal"),
}
_PREFETCH: dict[str, tuple[str, ...]] = {
    "contact": ("tags", "points"),
    "company": ("tags", "points"),
    "lead": ("tags",),
    "deal": ("tags", "contacts__points"),
    "activity": (),
}


def kind_of(record: models.Model) -> str:
    return record._meta.model_name or ""


def load_record(kind: str, pk: int | None) -> Any:
    """One record with what its context needs, or None if it is gone."""
    model = MODELS.get(kind)
    if model is None or pk is None:
        return None
    return (
        model._default_manager.select_related(*_RELATED[kind])
        .prefetch_related(*_PREFETCH[kind])
        .filter(pk=pk)
        .first()
    )


def records_query(kind: str) -> models.QuerySet[Any]:
    """Every record of a kind, loaded as `load_record` loads one."""
    return (
        MODELS[kind]
        ._default_manager.select_related(*_RELATED[kind])
        .prefetch_related(*_PREFETCH[kind])
    )


def user_context(user: Any) -> dict[str, Any]:
    if user is None:
        return {}
    team = user.team if user.team_id else None
    return {
        "id": str(user.public_id),
        "username": user.username,
        "name": str(user),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "team": team.name if team else "",
        "team_id": str(team.public_id) if team else None,
    }


def _points(record: Any, kind: str) -> list[str]:
    return [p.value for p in record.points.all() if p.kind == kind]


def _company(company: Company | None) -> dict[str, Any]:
    if company is None:
        return {}
    return {
        "id": str(company.public_id),
        "name": company.name,
        "website": company.website,
        "industry": company.industry,
        "city": company.city,
        "country": company.country,
        "source": company.source,
        "custom": dict(company.custom or {}),
    }


def _contact(contact: Contact | None, *, with_points: bool = True) -> dict[str, Any]:
    if contact is None:
        return {}
    emails = _points(contact, "email") if with_points else []
    phones = _points(contact, "phone") if with_points else []
    return {
        "id": str(contact.public_id),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "name": contact.full_name,
        "title": contact.title,
        "birthday": contact.birthday,
        "email": emails[0] if emails else "",
        "phone": phones[0] if phones else "",
        "city": contact.city,
        "country": contact.country,
        "source": contact.source,
        "industry": contact.industry,
        "custom": dict(contact.custom or {}),
    }


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "id": str(lead.public_id),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "name": str(lead),
        "company_name": lead.company_name,
        "title": lead.title,
        "email": lead.email,
        "phone": lead.phone,
        "city": lead.city,
        "country": lead.country,
        "source": lead.source,
        "status": lead.status,
        "score": lead.score,
        "custom": dict(lead.custom or {}),
    }


def _deal(deal: Deal) -> dict[str, Any]:
    return {
        "id": str(deal.public_id),
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "pipeline": deal.pipeline.name,
        "pipeline_id": str(deal.pipeline.public_id),
        "stage": deal.stage.name,
        "stage_id": str(deal.stage.public_id),
        "stage_kind": deal.stage.kind,
        "probability": deal.probability,
        "expected_close": deal.expected_close,
        "source": deal.source,
        "custom": dict(deal.custom or {}),
    }


def _activity(activity: Activity) -> dict[str, Any]:
    return {
        "id": str(activity.public_id),
        "kind": activity.kind,
        "subject": activity.subject,
        "body": activity.body,
        "due_at": activity.due_at,
        "done": activity.done_at is not None,
    }


def record_context(record: Any) -> dict[str, Any]:
    """`{"record": {...}, "<kind>": {...}, "owner": {...}, ...related}` for one record."""
    kind = kind_of(record)
    context: dict[str, Any] = {"owner": user_context(record.owner), "kind": kind}
    if kind == "contact":
        own = _contact(record)
        company = _company(record.primary_company)
        own["company"] = company
        context["company"] = company
    elif kind == "company":
        own = _company(record)
        emails, phones = _points(record, "email"), _points(record, "phone")
        own["email"], own["phone"] = (emails or [""])[0], (phones or [""])[0]
    elif kind == "lead":
        own = _lead(record)
    elif kind == "deal":
        own = _deal(record)
        company = _company(record.company)
        contacts = list(record.contacts.all())
        contact = _contact(contacts[0]) if contacts else {}
        if contact:
            contact["company"] = company
        own["company"], own["contact"] = company, contact
        context["company"], context["contact"] = company, contact
    elif kind == "activity":
        own = _activity(record)
        for name in ("contact", "company", "lead", "deal"):
            linked = getattr(record, name)
            if linked is None:
                context[name] = {}
            elif name == "contact":
                context[name] = _contact(linked, with_points=False)
            elif name == "company":
                context[name] = _company(linked)
            elif name == "lead":
                context[name] = _lead(linked)
            else:
                context[name] = {
                    "id": str(linked.public_id),
                    "title": linked.title,
                    "amount": linked.amount,
                    "currency": linked.currency,
                }
    else:
        own = {}
    if kind != "activity":
        own["tags"] = [t.name for t in record.tags.all()]
    own["owner"] = context["owner"]
    own["created_at"] = record.created_at
    own["updated_at"] = record.updated_at
    context["record"] = own
    context[kind] = own
    return context


# Values no method call can change: a copy shares them (exact types, not subclasses).
_IMMUTABLE = frozenset(
    {str, int, float, bool, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, uuid.UUID}
)


def fresh(context: dict[str, Any]) -> dict[str, Any]:
    """A copy for one render, so a template calling a method of a value cannot change
    what the next condition or action sees."""
    return _copy(context)


def _copy(value: Any) -> Any:
    # `copy.deepcopy` with a shortcut for the plain values a context holds, several times
    # cheaper: every render copies the whole context.
    if value is None or type(value) in _IMMUTABLE:
        return value
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return copy.deepcopy(value)


def resolve(context: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; relative to the record unless it starts with a name
    the context has (`deal`, `owner`, `record`…). Missing parts give None."""
    parts = [p for p in path.strip().split(".") if p]
    if not parts:
        return None
    node: Any
    if parts[0] in context and parts[0] != "kind":
        node, parts = context[parts[0]], parts[1:]
    else:
        node = context.get("record", {})
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node
