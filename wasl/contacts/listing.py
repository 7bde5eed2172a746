"""Filters every record list shares: owner, team, tag, date ranges and custom fields.

Used by the contacts, companies, leads, deals and activities selectors and endpoints.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema

from wasl.accounts.models import Team, User
from wasl.contacts.custom_fields import custom_filter_q
from wasl.contacts.models import Tag
from wasl.core.access import parse_public_id
from wasl.core.errors import FieldErrors, NotFound
from wasl.core.text import normalise

ModelT = TypeVar("ModelT", bound=models.Model)


class CommonFilters(Schema):
    owner: str | None = None
    team: str | None = None
    tag: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    sort: str | None = None
    cursor: str | None = None
    limit: int = 25


def custom_params(request: HttpRequest) -> dict[str, str]:
    """`custom.<key>=<value>` query parameters."""
    return {
        key.removeprefix("custom."): value
        for key, value in request.GET.items()
        if key.startswith("custom.") and len(key) > len("custom.")
    }


def _has_tag(model: type[models.Model], tag_id: int) -> Exists:
    """EXISTS on the tag link table: a join would let SQLite start from the tag's rows and
    sort them all, where this walks the owner/updated index and probes each row."""
    field = model._meta.get_field("tags")
    through = field.remote_field.through  # type: ignore[union-attr]
    return Exists(
        through.objects.filter(
            **{
                f"{field.m2m_field_name()}_id": OuterRef("pk"),  # type: ignore[union-attr]
                f"{field.m2m_reverse_field_name()}_id": tag_id,
            }  # type: ignore[union-attr]
        )
    )


def apply_common_filters(
    queryset: QuerySet[ModelT],
    filters: CommonFilters,
    *,
    entity: str | None = None,
    custom: dict[str, str] | None = None,
    has_tags: bool = True,
    tag_id: int | None = None,
) -> QuerySet[ModelT]:
    """Narrow an already visibility-scoped queryset by the shared list filters.

    Unknown owners, teams or tags give an empty list rather than an error, so a filter
    never reveals whether someone else's user or tag exists. `tag_id` is the filter tag's
    id when the caller already has it (list pages load the tags for their filter bar)."""
    errors = FieldErrors()
    if filters.owner:
        try:
            owner_id = (
                User.objects.filter(public_id=parse_public_id(filters.owner))
                .values_list("pk", flat=True)
                .first()
            )
        except NotFound:
            owner_id = None
        if owner_id is None:
            return queryset.none()
        queryset = queryset.filter(owner_id=owner_id)
    if filters.team:
        try:
            team_id = (
                Team.objects.filter(public_id=parse_public_id(filters.team))
                .values_list("pk", flat=True)
                .first()
            )
        except NotFound:
            team_id = None
        if team_id is None:
            return queryset.none()
        queryset = queryset.filter(team_id=team_id)
    if filters.tag and has_tags:
        if tag_id is None:
            tag_id = (
                Tag.objects.filter(key=normalise(filters.tag)).values_list("pk", flat=True).first()
            )
        if tag_id is None:
            return queryset.none()
        queryset = queryset.filter(_has_tag(queryset.model, tag_id))
    for field, lookup, value in (
        ("created_at", "gte", filters.created_after),
        ("created_at", "lt", filters.created_before),
        ("updated_at", "gte", filters.updated_after),
        ("updated_at", "lt", filters.updated_before),
    ):
        if value is not None:
            queryset = queryset.filter(**{f"{field}__{lookup}": value})
    if custom:
        if entity is None:
            errors.add("custom", _("This list has no custom fields."))
        else:
            queryset = queryset.filter(custom_filter_q(entity, custom))
    errors.raise_if_any()
    return queryset
