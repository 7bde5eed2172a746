"""Notification pages: the list with mark read / mark all read, and the bell's dropdown.

A notification about a record its recipient may no longer see keeps its place in the list
but shows neither its text nor a link."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from wasl.core.links import record_link
from wasl.core.pagination import keyset_page, next_page_url
from wasl.core.visibility import visible
from wasl.notifications import services
from wasl.notifications.access import access_notification
from wasl.notifications.models import Notification
from wasl.notifications.selectors import notification_list, unread_count

PER_PAGE = 25
MENU_SIZE = 8


def _visible_records(actor: Any, notes: list[Notification]) -> set[tuple[int, int]]:
    """(content type, id) of the notifications' records the actor may still see: one query
    per kind of record on the page."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for note in notes:
        if note.content_type_id and note.object_id:
            wanted[note.content_type_id].add(note.object_id)
    seen: set[tuple[int, int]] = set()
    for content_type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        rows = visible(model._default_manager.filter(pk__in=sorted(ids)), actor)
        seen.update((content_type_id, pk) for pk in rows.values_list("pk", flat=True))
    return seen


def _link(note: Notification) -> str:
    if not note.record_public_id:
        return ""
    if note.record_kind == "activity":
        return reverse("activities:task-list")
    return record_link(note.record_kind, note.record_public_id)


def _rows(actor: Any, notes: list[Notification]) -> list[dict[str, Any]]:
    seen = _visible_records(actor, notes)
    rows = []
    for note in notes:
        hidden = bool(note.content_type_id) and (note.content_type_id, note.object_id) not in seen
        rows.append({"note": note, "hidden": hidden, "url": "" if hidden else _link(note)})
    return rows


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return reverse("notifications:list")


@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    only_unread = request.GET.get("unread") == "1"
    notes, next_cursor = keyset_page(
        notification_list(actor=actor, unread=only_unread),
        field="created_at",
        descending=True,
        cursor=request.GET.get("cursor") or None,
        limit=PER_PAGE,
    )
    return render(
        request,
        "notifications/list.html",
        {
            "rows": _rows(actor, notes),
            "only_unread": only_unread,
            "next_url": next_page_url(request.GET, next_cursor),
        },
    )


@require_GET
def notification_menu_view(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown (htmx partial): the newest notifications."""
    actor = request.user
    notes = list(notification_list(actor=actor)[:MENU_SIZE])
    return render(
        request,
        "notifications/partials/menu.html",
        {"rows": _rows(actor, notes), "unread": unread_count(actor=actor)},
    )


@require_POST
def notification_read_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    services.notification_mark_read(actor=actor, notification=access_notification(actor, public_id))
    return redirect(_back(request))


@require_POST
def notification_read_all_view(request: HttpRequest) -> HttpResponse:
    marked = services.notification_mark_all_read(actor=request.user)
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                marked,
            )
            % {"count": marked},
        )
    else:
        messages.info(request, _("Nothing was unread."))
    return redirect(_back(request))
