"""Loading one lead named by user input."""

from __future__ import annotations

from typing import Any

from wasl.core.access import access_record
from wasl.leads.models import Lead
from wasl.leads.selectors import lead_list


def access_lead(actor: Any, public_id: Any, *, for_write: bool = False) -> Lead:
    """The lead if the actor sees it (and, with for_write, may change it).

    Missing and invisible both raise NotFound; visible but read-only raises Forbidden."""
    return access_record(actor, lead_list(actor=actor), public_id, for_write=for_write)
