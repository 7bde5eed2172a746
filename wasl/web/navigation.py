"""The shell's navigation, resolved from URL names (record links: `wasl.core.links`).

A page builder adds a page by naming its URL (e.g. `contacts:contact-list`); the menu shows
an entry once its name resolves, so the shell never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wasl.core.links import url_exists
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
