"""What every page's shell needs: the user's display preferences and the menu."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from wasl.core.formatting import current_prefs
from wasl.web.navigation import nav_items


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    section = getattr(request, "wasl_section", "")
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    return {
        "wasl_prefs": current_prefs(),
        "wasl_nav": SimpleLazyObject(lambda: nav_items(user, section, view_name)),
    }
