"""Reads of leads, scoped by the visibility rule."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wasl.core.visibility import visible
from wasl.leads.models import Lead


def lead_list(*, actor: Any) -> QuerySet[Lead]:
    """Leads the actor may see, with what a row shows (owner, team, conversion links, tags)
    loaded in a fixed number of queries."""
    return (
        visible(Lead.objects.all(), actor)
        .select_related("owner", "team", "converted_contact", "converted_company", "converted_deal")
        .prefetch_related("tags")
    )


def lead_rows(*, actor: Any) -> QuerySet[Lead]:
    """Leads the actor may see with what the leads list page shows (owner, tags) in a fixed
    number of queries. Owners load apart: joining them (and the conversion links, which
    the list does not show) makes SQLite sort every lead instead of walking the index in
    list order (135 ms against a few for the first page of 100,000 leads)."""
    return visible(Lead.objects.all(), actor).prefetch_related("owner", "tags")
