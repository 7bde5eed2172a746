"""Reads of notifications (each user sees only their own) and the daily digest's content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.activities.selectors import my_open_tasks
from wasl.notifications.models import Notification


def notification_list(*, actor: Any, unread: bool = False) -> QuerySet[Notification]:
    """The actor's notifications, newest first."""
    if not getattr(actor, "is_active", False):
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient_id=actor.pk)
    if unread:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(*, actor: Any) -> int:
    """How many unread notifications the actor has (for the badge in the page shell)."""
    if not getattr(actor, "is_active", False):
        return 0
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()


@dataclass(frozen=True)
class Digest:
    subject: str
    body: str


def digest_for(*, user: Any, now: dt.datetime, limit: int = 20) -> Digest | None:
    """The daily e-mail for `user` in their language: unread notifications of the last day
    and their open tasks due by the end of today (overdue first). None when there is
    nothing to say. Both parts come from selectors scoped to the user."""
    since = now - dt.timedelta(days=1)
    notes = list(notification_list(actor=user, unread=True).filter(created_at__gte=since)[:limit])
    tasks = list(
        my_open_tasks(actor=user, now=now)
        .filter(due_at__lte=now + dt.timedelta(days=1))
        .order_by("due_at", "id")[:limit]
    )
    if not notes and not tasks:
        return None
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.username}, ""]
        if tasks:
            lines.append(
                ngettext(
                    "You have %(count)d open task due:",
                    "You have %(count)d open tasks due:",
                    len(tasks),
                )
                % {"count": len(tasks)}
            )
            for task in tasks:
                marker = _("overdue") if task.due_at and task.due_at < now else _("due")
                lines.append(f"- {task.subject} ({marker} {task.due_at:%Y-%m-%d %H:%M} UTC)")
            lines.append("")
        if notes:
            lines.append(_("Unread notifications:"))
            lines.extend(f"- {note.title}" for note in notes)
            lines.append("")
        lines.append(_("— Wasl"))
        subject = _("Your Wasl digest for %(day)s") % {"day": now.date().isoformat()}
    return Digest(subject=subject, body="\n".join(lines))
