"""Loading one notification named by user input: only its recipient finds it."""

from __future__ import annotations

from typing import Any

from wasl.core.access import access_record
from wasl.notifications.models import Notification
from wasl.notifications.selectors import notification_list


def access_notification(actor: Any, public_id: Any) -> Notification:
    """The actor's own notification; anyone else's is not found."""
    return access_record(actor, notification_list(actor=actor), public_id)
