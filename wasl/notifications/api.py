"""In-app notifications over the API: list, unread count, mark read."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from wasl.core.api import ERROR_RESPONSES, Page, actor_of
from wasl.core.pagination import keyset_page
from wasl.notifications import services
from wasl.notifications.access import access_notification
from wasl.notifications.models import Notification
from wasl.notifications.selectors import notification_list, unread_count

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: str
    title: str
    body: str
    record_kind: str | None
    record_id: str | None
    read: bool
    read_at: dt.datetime | None
    created_at: dt.datetime


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


def notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=str(notification.public_id),
        title=notification.title,
        body=notification.body,
        record_kind=notification.record_kind or None,
        record_id=str(notification.record_public_id) if notification.record_public_id else None,
        read=notification.read_at is not None,
        read_at=notification.read_at,
        created_at=notification.created_at,
    )


@router.get("/notifications", response={200: Page[NotificationOut], **ERROR_RESPONSES})
def list_notifications(
    request: HttpRequest, unread: bool = False, cursor: str | None = None, limit: int = 25
):
    """Your notifications, newest first; `unread=true` for the unread ones only."""
    rows, next_cursor = keyset_page(
        notification_list(actor=actor_of(request), unread=unread),
        field="created_at",
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [notification_out(n) for n in rows], "next": next_cursor}


@router.get("/notifications/unread-count", response={200: UnreadOut, **ERROR_RESPONSES})
def notifications_unread_count(request: HttpRequest):
    return UnreadOut(unread=unread_count(actor=actor_of(request)))


@router.post("/notifications/read-all", response={200: MarkedOut, **ERROR_RESPONSES})
def mark_all_read(request: HttpRequest):
    return MarkedOut(marked=services.notification_mark_all_read(actor=actor_of(request)))


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **ERROR_RESPONSES}
)
def mark_read(request: HttpRequest, notification_id: str):
    actor = actor_of(request)
    notification = services.notification_mark_read(
        actor=actor, notification=access_notification(actor, notification_id)
    )
    return notification_out(notification)
