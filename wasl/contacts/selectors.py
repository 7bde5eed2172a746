"""Reads of companies, contacts, tags and custom fields, scoped by the visibility rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    CustomFieldDefinition,
    ImportantDate,
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


@dataclass(frozen=True)
class UpcomingDate:
    """A birthday or important date of one of the actor's customers."""

    kind: str  # "birthday" or an ImportantDate.Kind value
    label: str
    date: dt.date  # the coming occurrence
    days_away: int
    contact: Contact | None = None
    company: Company | None = None


def _month_days(today: dt.date, days: int) -> list[tuple[int, int]]:
    pairs = [((d := today + dt.timedelta(days=n)).month, d.day) for n in range(days + 1)]
    # 29 February birthdays are remembered on 28 February in common years.
    if (2, 28) in pairs and (2, 29) not in pairs:
        pairs.append((2, 29))
    return pairs


def _next_occurrence(born: dt.date, today: dt.date) -> dt.date:
    for year in (today.year, today.year + 1):
        try:
            candidate = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = dt.date(year, 2, 28)
        if candidate >= today:
            return candidate
    return dt.date(today.year + 1, born.month, min(born.day, 28))


def upcoming_important_dates(
    *, actor: Any, today: dt.date, days: int = 14, limit: int = 20
) -> list[UpcomingDate]:
    """Birthdays (across the year end) and important dates (contract ends, renewals…) of
    the contacts and companies the actor owns, from `today` to `days` later, soonest
    first. Two queries."""
    if not actor.is_active:
        return []
    end = today + dt.timedelta(days=days)
    birthday_q = Q()
    for month, day in _month_days(today, days):
        birthday_q |= Q(birthday__month=month, birthday__day=day)
    contacts = Contact.objects.filter(birthday_q, owner_id=actor.pk).only(
        "id", "public_id", "first_name", "last_name", "birthday"
    )[: limit * 2]
    found = []
    for contact in contacts:
        assert contact.birthday is not None
        when = _next_occurrence(contact.birthday, today)
        found.append(
            UpcomingDate(
                kind="birthday",
                label="",
                date=when,
                days_away=(when - today).days,
                contact=contact,
            )
        )
    dates = (
        ImportantDate.objects.filter(date__gte=today, date__lte=end)
        .filter(Q(contact__owner_id=actor.pk) | Q(company__owner_id=actor.pk))
        .select_related("contact", "company")
        .order_by("date", "id")[:limit]
    )
    for item in dates:
        found.append(
            UpcomingDate(
                kind=item.kind,
                label=item.label,
                date=item.date,
                days_away=(item.date - today).days,
                contact=item.contact,
                company=item.company,
            )
        )
    found.sort(key=lambda u: (u.date, u.kind))
    return found[:limit]
