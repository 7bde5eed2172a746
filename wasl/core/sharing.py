"""Sharing one record with one user, the exception to owner/team visibility."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from wasl.core.audit import record_audit
from wasl.core.models import AuditEntry, RecordShare
from wasl.core.visibility import require_write


def record_share(*, actor: Any, record: models.Model, user: Any, can_write: bool = False) -> None:
    """Let `user` see (and with `can_write`, change) `record`. Needs write access to it."""
    if actor is not None:
        require_write(actor, record)
    with transaction.atomic():
        RecordShare.objects.update_or_create(
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            user=user,
            defaults={"can_write": can_write},
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.SHARE,
            record=record,
            data={"user": str(user.public_id), "can_write": can_write},
        )


def record_unshare(*, actor: Any, record: models.Model, user: Any) -> None:
    if actor is not None:
        require_write(actor, record)
    with transaction.atomic():
        RecordShare.objects.filter(
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            user=user,
        ).delete()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.SHARE,
            record=record,
            data={"user": str(user.public_id), "removed": True},
        )
