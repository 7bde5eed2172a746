"""The shell's navigation and record links, resolved from URL names.

A page builder adds a page by naming its URL (e.g. `contacts:contact-list`); the menu shows
an entry once its name resolves, so the shell never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wasl.core.visibility import Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    icon: str
    url_names: tuple[str, ...]
    admin_only: bool = False
    # Roles that see the entry; empty: everyone signed in.
    roles: tuple[str, ...] = ()


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("home", _("My day"), "bi-sun", ("web:home",)),
    NavItem("contacts", _("Contacts"), "bi-person-lines-fill", ("contacts:contact-list",)),
    NavItem("companies", _("Companies"), "bi-building", ("contacts:company-list",)),
    NavItem("leads", _("Leads"), "bi-funnel", ("leads:lead-list",)),
    NavItem("deals", _("Deals"), "bi-briefcase", ("deals:deal-list",)),
    NavItem("pipeline", _("Pipeline"), "bi-kanban", ("deals:board",)),
    NavItem(
        "activities",
        _("Tasks"),
        "bi-check2-square",
        ("activities:task-list", "activities:activity-list"),
    ),
    NavItem("reports", _("Reports"), "bi-bar-chart-line", ("reports:index",)),
    NavItem("imports", _("Import"), "bi-upload", ("imports:index",)),
    NavItem(
        "automation",
        _("Automation"),
        "bi-lightning-charge",
        ("automation:rule-list",),
        roles=(Role.ADMIN, Role.MANAGER),
    ),
    NavItem(
        "settings",
        _("Settings"),
        "bi-gear",
        ("settings:index", "accounts:settings", "accounts:organisation"),
        admin_only=True,
    ),
)

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


def nav_items(user: Any, current: str = "", view_name: str = "") -> list[dict[str, Any]]:
    """The menu entries this user sees: pages that exist, admin pages for admins. The
    entry named `current` (a view sets `request.wasl_section`), else the one whose URL
    name is `view_name`, is marked active."""
    is_admin = bool(getattr(user, "is_authenticated", False) and user.role == Role.ADMIN)
    items = []
    for item in NAV_ITEMS:
        if item.admin_only and not is_admin:
            continue
        if item.roles and getattr(user, "role", None) not in item.roles:
            continue
        name = next((n for n in item.url_names if url_exists(n)), None)
        if name is None:
            continue
        items.append(
            {
                "key": item.key,
                "label": item.label,
                "icon": item.icon,
                "url": reverse(name),
                "active": item.key == current or (not current and view_name in item.url_names),
            }
        )
    return items
