"""Links to record pages by URL name, usable from every app.

A page builder adds a record page by naming its URL; until it exists, links go through the
shell's resolver (`/r/<kind>/<uuid>/`), so no app links to a page that is not there.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, get_urlconf, reverse

# The record page of each search kind; each takes `public_id`.
RECORD_URL_NAMES = {
    "contact": "contacts:contact-detail",
    "company": "contacts:company-detail",
    "lead": "leads:lead-detail",
    "deal": "deals:deal-detail",
}

_RESOLVED: dict[tuple[Any, str], bool] = {}


def url_exists(name: str) -> bool:
    """Whether `name` is a URL pattern of the current URLconf (remembered per URLconf)."""
    key = (get_urlconf(), name)
    known = _RESOLVED.get(key)
    if known is None:
        try:
            reverse(name)
            known = True
        except NoReverseMatch:
            # A pattern that needs arguments still exists.
            known = _exists_with_arguments(name)
        _RESOLVED[key] = known
    return known


def _exists_with_arguments(name: str) -> bool:
    for kwargs in ({"public_id": "00000000-0000-0000-0000-000000000000"}, {"pk": 1}):
        try:
            reverse(name, kwargs=kwargs)
            return True
        except NoReverseMatch:
            continue
    return False


def forget_urls() -> None:
    """Tests that swap URLconfs call this."""
    _RESOLVED.clear()


def record_url(kind: str, public_id: Any) -> str:
    """The page of a record: its named URL when that page exists, else the resolver
    (`/r/<kind>/<uuid>/`), which redirects once it does."""
    name = RECORD_URL_NAMES.get(kind)
    if name and url_exists(name):
        return reverse(name, kwargs={"public_id": public_id})
    return reverse("web:resolve", kwargs={"kind": kind, "public_id": public_id})


def record_link(kind: str, public_id: Any) -> str:
    """`record_url`, or "" for a kind of record that has no page."""
    return record_url(kind, public_id) if kind in RECORD_URL_NAMES else ""
