"""Reads of companies, contacts, tags and custom fields, scoped by the visibility rule."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    CustomFieldDefinition,
    Tag,
)
from wasl.core.text import normalise
from wasl.core.visibility import visible


def contact_list(*, actor: Any) -> QuerySet[Contact]:
    """Contacts the actor may see, with what a list row shows loaded in fixed queries."""
    return (
        visible(Contact.objects.all(), actor)
        .select_related("owner", "team", "primary_company")
        .prefetch_related(
            Prefetch("points", queryset=ContactPoint.objects.order_by("position", "id")),
            "tags",
        )
    )


def contact_detail(*, actor: Any) -> QuerySet[Contact]:
    return contact_list(actor=actor).prefetch_related(
        Prefetch("memberships", queryset=ContactCompany.objects.select_related("company")),
        "important_dates",
    )


def company_list(*, actor: Any) -> QuerySet[Company]:
    return (
        visible(Company.objects.all(), actor)
        .select_related("owner", "team")
        .prefetch_related(
            Prefetch("points", queryset=ContactPoint.objects.order_by("position", "id")),
            "tags",
        )
    )


def contact_match(*, actor: Any, email: str = "", phone_digits: str = "") -> Contact | None:
    """A visible contact with this e-mail or phone, for reuse instead of a duplicate.

    `actor=None` is the operator, who sees every contact."""
    if not email and not phone_digits:
        return None
    candidates = Contact.objects.all() if actor is None else visible(Contact.objects.all(), actor)
    if email:
        found = candidates.filter(points__kind="email", points__value=email.lower()).first()
        if found is not None:
            return found
    if phone_digits:
        return candidates.filter(points__kind="phone", points__digits=phone_digits).first()
    return None


def company_match(*, actor: Any, name: str) -> Company | None:
    """A visible company whose normalised name equals `name`'s (`actor=None`: any)."""
    key = normalise(name)
    if not key:
        return None
    companies = Company.objects.all() if actor is None else visible(Company.objects.all(), actor)
    return companies.filter(name_key=key).order_by("id").first()


def tag_list(*, actor: Any) -> QuerySet[Tag]:
    """Tag names are shared vocabulary, readable by every active user."""
    return Tag.objects.all() if actor.is_active else Tag.objects.none()


def custom_field_list(*, actor: Any, entity: str | None = None) -> QuerySet[CustomFieldDefinition]:
    if not actor.is_active:
        return CustomFieldDefinition.objects.none()
    definitions = CustomFieldDefinition.objects.filter(is_active=True)
    return definitions.filter(entity=entity) if entity else definitions
