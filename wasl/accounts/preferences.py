"""A user's display preferences, with the organisation's defaults behind empty ones."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation

from wasl.accounts.models import Organisation
from wasl.accounts.selectors import organisation_get
from wasl.core.formatting import DisplayPrefs, set_prefs

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def display_prefs(user: Any, organisation: Organisation, browser_language: str) -> DisplayPrefs:
    """The user's language, calendar, digits and time zone, each falling back to the
    organisation's; the language falls back to the browser's last."""
    signed_in = bool(getattr(user, "is_authenticated", False))

    def pick(name: str) -> str:
        own = getattr(user, name, "") if signed_in else ""
        return str(own or getattr(organisation, name) or "")

    language = pick("language") or browser_language
    if language not in LANGUAGE_CODES:
        language = settings.LANGUAGE_CODE
    time_zone = pick("time_zone") or settings.TIME_ZONE
    return DisplayPrefs(
        language=language,
        calendar=pick("calendar") or "gregorian",
        digits=pick("digits") or "latin",
        time_zone=time_zone,
        currency=organisation.currency,
        toman=organisation.show_toman,
        week_start=organisation.week_start,
    )


def activate_for(request: HttpRequest, user: Any) -> DisplayPrefs:
    """Activate `user`'s language and time zone for this request and make their display
    preferences current. The middleware calls it for sessions, token auth for the API."""
    browser = getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or ""
    prefs = display_prefs(user, organisation_get(), browser.split("-")[0])
    translation.activate(prefs.language)
    request.LANGUAGE_CODE = prefs.language  # type: ignore[attr-defined]
    try:
        timezone.activate(zoneinfo.ZoneInfo(prefs.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()
    set_prefs(prefs)
    return prefs
