"""Loading one activity named by user input."""

from __future__ import annotations

from typing import Any

from wasl.activities.models import Activity
from wasl.activities.selectors import activity_list
from wasl.core.access import access_record


def access_activity(actor: Any, public_id: Any, *, for_write: bool = False) -> Activity:
    """The activity if the actor sees it (and, with for_write, may change it); missing and
    invisible raise the same NotFound, visible but not writable raises Forbidden."""
    return access_record(actor, activity_list(actor=actor), public_id, for_write=for_write)
