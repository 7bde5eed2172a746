"""Keyset pagination: a cursor holds the last row's sort value and id, so deep pages
cost the same as the first."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from wasl.core.audit import json_value
from wasl.core.errors import Invalid

ModelT = TypeVar("ModelT", bound=models.Model)
MAX_LIMIT = 200


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise Invalid({"cursor": [_("This cursor is not valid.")]}) from error
    if not isinstance(values, list) or len(values) != 2:
        raise Invalid({"cursor": [_("This cursor is not valid.")]})
    return values


def resolve_sort(sort: str | None, allowed: Mapping[str, str], default: str) -> tuple[str, bool]:
    """Map a public sort name (`-updated_at`) to a model field and direction."""
    name = (sort or default).strip()
    descending = name.startswith("-")
    key = name.lstrip("-")
    if key not in allowed:
        raise Invalid({"sort": [_("Sort by one of: %(names)s.") % {"names": ", ".join(allowed)}]})
    return allowed[key], descending


def keyset_page(
    queryset: QuerySet[ModelT],
    *,
    field: str,
    descending: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[ModelT], str | None]:
    """One page of `queryset` ordered by `field` then id, and the cursor of the next."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    model_field = queryset.model._meta.get_field(field)
    op = "lt" if descending else "gt"
    if cursor:
        raw_value, raw_id = _decode(cursor)
        try:
            value = model_field.to_python(raw_value) if raw_value is not None else None
            last_id = int(raw_id)
        except (ValueError, TypeError, ValidationError) as error:
            raise Invalid({"cursor": [_("This cursor is not valid.")]}) from error
        if value is None:
            queryset = queryset.filter(**{f"{field}__isnull": True, f"pk__{op}": last_id})
        else:
            # Written as `f <= v AND (f < v OR pk < id)`: the same rows as
            # `f < v OR (f = v AND pk < id)`, but SQLite keeps a bound range on the
            # (…, f, id) index instead of reading every row of the owner and sorting.
            bound = "lte" if descending else "gte"
            after = Q(**{f"{field}__{bound}": value}) & (
                Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": last_id})
            )
            if model_field.null:
                # Empty values sort last in both directions, on every engine.
                after |= Q(**{f"{field}__isnull": True})
            queryset = queryset.filter(after)
    if model_field.null:
        sort_key = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        ordering: list[Any] = [sort_key, "-pk" if descending else "pk"]
    else:
        prefix = "-" if descending else ""
        ordering = [f"{prefix}{field}", f"{prefix}pk"]
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([json_value(getattr(last, model_field.attname)), last.pk])
    return rows, next_cursor


def next_page_url(params: QueryDict, next_cursor: str | None) -> str:
    """The query string of the next page: the request's own parameters with the next
    cursor, or "" on the last page."""
    if not next_cursor:
        return ""
    query = params.copy()
    query["cursor"] = next_cursor
    return f"?{query.urlencode()}"
