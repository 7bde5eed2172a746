"""Reads of companies, contacts, tags and custom fields, scoped by the visibility rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet

from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    CustomFieldDefinition,
    ImportantDate,
    SavedView,
    Tag,
)
from wasl.core.models import RecordShare
from wasl.core.phones import query_digits
from wasl.core.text import normalise
from wasl.core.visibility import Role, visible


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


def contact_lookup(*, actor: Any, text: str) -> list[Contact]:
    """The visible contacts `text` names — an e-mail, a phone in any written form, or a
    full name (normalised, so «علي» finds «علی») — at most two: callers only need to know
    whether it names one contact or several."""
    text = (text or "").strip()
    if not text:
        return []
    candidates = visible(Contact.objects.all(), actor)
    if "@" in text:
        found = candidates.filter(points__kind="email", points__value=text.lower())
        return list(found.distinct().order_by("id")[:2])
    digits = query_digits(text)
    if digits and len(digits) >= 5 and not any(ch.isalpha() for ch in text):
        found = candidates.filter(points__kind="phone", points__digits=digits)
        return list(found.distinct().order_by("id")[:2])
    return list(candidates.filter(name_key=normalise(text)).order_by("id")[:2])


def contact_handle(contact: Contact) -> str:
    """What names `contact` alone for `contact_lookup`: its first e-mail, else its first
    phone, else its name."""
    points = sorted(contact.points.all(), key=lambda p: (p.kind != "email", p.position, p.id))
    return points[0].value if points else contact.full_name


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


def saved_view_list(*, actor: Any, entity: str) -> QuerySet[SavedView]:
    """The actor's own named views of a list and the views shared with everyone."""
    if not actor.is_active:
        return SavedView.objects.none()
    return SavedView.objects.filter(entity=entity, is_default=False).filter(
        Q(owner_id=actor.pk) | Q(is_shared=True)
    )


def list_views(*, actor: Any, entity: str) -> tuple[list[SavedView], SavedView | None]:
    """The named views a list offers the actor (own and shared, by name) and the actor's
    own settings of that list (None if never changed). One query."""
    if not actor.is_active:
        return [], None
    rows = list(
        SavedView.objects.filter(entity=entity)
        .filter(Q(owner_id=actor.pk) | Q(is_shared=True))
        .select_related("owner")
    )
    settings_row = next((v for v in rows if v.is_default and v.owner_id == actor.pk), None)
    return [v for v in rows if not v.is_default], settings_row


def writable_ids(actor: Any, records: Iterable[Any]) -> set[int]:
    """The pks of the (visible, owned) records the actor may change, in at most one query:
    the visibility rule's `can_write` for a whole page of rows."""
    records = list(records)
    if not records or not actor.is_active or actor.role == Role.READONLY:
        return set()
    if actor.role == Role.ADMIN:
        return {r.pk for r in records}
    teams = actor.scope_team_ids() if actor.role == Role.MANAGER else frozenset()
    found = {r.pk for r in records if r.owner_id == actor.pk or r.team_id in teams}
    rest = [r.pk for r in records if r.pk not in found]
    if rest:
        content_type = ContentType.objects.get_for_model(type(records[0]))
        found |= set(
            RecordShare.objects.filter(
                content_type=content_type, object_id__in=rest, user_id=actor.pk, can_write=True
            ).values_list("object_id", flat=True)
        )
    return found
