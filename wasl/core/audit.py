"""The audit trail: every write records actor, time and old/new values of what changed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wasl.core.models import AuditEntry


def json_value(value: Any) -> Any:
    """A value as it is kept in the audit trail's JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(getattr(value, "public_id", value.pk))
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def snapshot(record: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields` on `record` (foreign keys by their attname)."""
    values: dict[str, Any] = {}
    for name in fields:
        field = record._meta.get_field(name)
        if field.many_to_one or field.one_to_one:
            # Related records appear by their public id: integer keys never leave the server.
            related = getattr(record, name) if getattr(record, field.attname) is not None else None
            values[name] = json_value(related)
        else:
            values[name] = json_value(getattr(record, getattr(field, "attname", name)))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for every field whose value differs."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = json_value(before.get(key)), json_value(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def record_audit(
    *,
    actor: Any,
    action: str,
    record: models.Model,
    changes: dict[str, list[Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row; call it inside the service's transaction."""
    return AuditEntry.objects.create(
        actor_id=getattr(actor, "pk", None),
        action=action,
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        object_public_id=getattr(record, "public_id", None),
        object_repr=str(record)[:300],
        changes=json_value(changes or {}),
        data=json_value(data or {}),
    )


def entries_for(record: models.Model) -> models.QuerySet[AuditEntry]:
    """The audit rows of one record, newest first. Callers check visibility of `record`."""
    return (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
