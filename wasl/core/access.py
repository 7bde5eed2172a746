"""Loading one record named by user input; missing and invisible are the same not-found."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet

from wasl.core.errors import NotFound
from wasl.core.visibility import require_write

ModelT = TypeVar("ModelT", bound=models.Model)


def parse_public_id(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as error:
        raise NotFound() from error


def access_record(
    actor: Any, scoped: QuerySet[ModelT], public_id: Any, *, for_write: bool = False
) -> ModelT:
    """The record with this public id from `scoped` (a selector's queryset, already narrowed
    by the visibility rule); with `for_write`, also checks write access (Forbidden for a
    record the actor sees but may not change)."""
    record = scoped.filter(public_id=parse_public_id(public_id)).first()
    if record is None:
        raise NotFound()
    if for_write:
        require_write(actor, record)
    return record
