"""Listeners on events of earlier apps: keep deals' search entries in step."""

from __future__ import annotations

from wasl.core.events import listen
from wasl.core.models import OutboxEvent
from wasl.deals.services import deals_reindex_company


@listen("company.updated")
def reindex_deals_of_renamed_company(event: OutboxEvent) -> None:
    """A deal's search subtitle is its company's name; refresh it after a rename."""
    if event.object_id is not None and "name" in (event.data or {}).get("fields", []):
        deals_reindex_company(company_id=event.object_id)
