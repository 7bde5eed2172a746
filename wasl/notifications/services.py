"""Writes on notifications. Nobody is told about a record they may not see."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from wasl.core.errors import NotFound
from wasl.core.visibility import can_see
from wasl.notifications.models import Notification


def notification_create(
    *,
    recipient: Any,
    title: str,
    body: str = "",
    record: models.Model | None = None,
    key: str | None = None,
) -> Notification | None:
    """Notify `recipient`, about `record` if given. Returns None (and writes nothing) when
    the recipient is inactive or may not see the record. With a `key` already used,
    returns that notification: creating twice never notifies twice."""
    if recipient is None or not recipient.is_active:
        return None
    if record is not None and not can_see(recipient, record):
        return None
    if key:
        existing = Notification.objects.filter(key=key).first()
        if existing is not None:
            return existing
    notification = Notification(
        recipient=recipient,
        title=title.strip()[:300],
        body=body.strip(),
        key=key or None,
    )
    if record is not None:
        notification.content_type = ContentType.objects.get_for_model(type(record))
        notification.object_id = record.pk
        notification.record_kind = record._meta.model_name or ""
        notification.record_public_id = getattr(record, "public_id", None)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        existing = Notification.objects.filter(key=key).first() if key else None
        if existing is None:
            raise
        return existing
    return notification


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (reading twice keeps the first time)."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise NotFound()
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
