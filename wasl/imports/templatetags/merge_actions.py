"""`{% merge_undo_button item %}`: "Undo this merge" on a merge entry of a record's
timeline, shown only to a user allowed to undo it and only while it can be undone."""

from __future__ import annotations

from typing import Any

from django import template

from wasl.core.models import AuditEntry
from wasl.imports.merge import merge_undo_allowed

register = template.Library()


@register.inclusion_tag("imports/partials/merge_undo_button.html", takes_context=True)
def merge_undo_button(context: template.Context, item: Any) -> dict[str, Any]:
    """`item`: a timeline item (`activities.selectors.TimelineItem`) or an audit entry."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or getattr(item, "action", None) != AuditEntry.Action.MERGE:
        return {"audit_id": None}
    entry = item if isinstance(item, AuditEntry) else AuditEntry.objects.filter(pk=item.id).first()
    if entry is None or not merge_undo_allowed(user, entry):
        return {"audit_id": None}
    return {"audit_id": entry.pk}
