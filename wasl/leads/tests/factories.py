"""Helpers the leads tests share: leads made through the services."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from wasl.core.models import AuditEntry, OutboxEvent
from wasl.leads.models import Lead
from wasl.leads.services import lead_create


def make_lead(actor: Any, **fields: Any) -> Lead:
    fields.setdefault("first_name", "Sara")
    fields.setdefault("last_name", "Ahmadi")
    return lead_create(actor=actor, **fields)


def lead_audits(pk: int, action: str | None = None) -> QuerySet[AuditEntry]:
    """Audit rows of the lead with this primary key (it may be deleted)."""
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=pk
    )
    return rows.filter(action=action) if action else rows


def lead_events(pk: int, name: str) -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=pk, name=name
    )
