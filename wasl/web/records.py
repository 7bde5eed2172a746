"""Panels of the record pages that span apps: a record's timeline with quick add (note,
logged call, task, meeting) and a contact's or company's deals.

Contacts, companies, leads and deals are earlier apps than activities (and contacts than
deals), so their record pages load these panels by htmx from here (`records:timeline`,
`records:deals`), the top of the app order. Each view loads the record through its access
function, reads through selectors and writes through `activity_create`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wasl.accounts.selectors import user_list
from wasl.activities.models import Activity
from wasl.activities.selectors import TimelineItem, timeline_for
from wasl.activities.services import activity_create
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing_ui import add_service_errors, page_errors, record_link
from wasl.contacts.selectors import company_list, contact_list
from wasl.core.errors import Invalid
from wasl.core.formatting import local_date, local_datetime
from wasl.core.forms import BootstrapFormMixin, CalendarDateField
from wasl.core.models import AuditEntry
from wasl.core.visibility import Role
from wasl.deals.access import access_deal
from wasl.deals.selectors import deal_list, stage_list
from wasl.leads.access import access_lead

_deal_url = record_link("deals:deal-detail")
TIMELINE_PAGE = 20
RELATED_DEALS = 20
_ACCESS = {
    "contact": access_contact,
    "company": access_company,
    "lead": access_lead,
    "deal": access_deal,
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Audit keys whose values are public ids, and how to name them.
_REFERENCES = {
    "owner": "user",
    "created_by": "user",
    "stage": "stage",
    "company": "company",
    "primary_company": "company",
    "companies": "company",
    "contact": "contact",
    "contacts": "contact",
}
_EXTRA_LABELS = {
    "emails": gettext_lazy("E-mails"),
    "phones": gettext_lazy("Phones"),
    "tags": gettext_lazy("Tags"),
    "companies": gettext_lazy("Companies"),
    "contacts": gettext_lazy("Contacts"),
    "line_items": gettext_lazy("Line items"),
}
ICONS = {
    "task": "bi-check2-square",
    "call": "bi-telephone",
    "meeting": "bi-people",
    "note": "bi-sticky",
    "email": "bi-envelope",
    "sms": "bi-chat-dots",
}


def _record(request: HttpRequest, kind: str, public_id: Any, *, related: bool = True) -> Any:
    """The record if the actor sees it. `related=False` loads a contact or a company without
    its e-mails, phones, tags and companies (the timeline needs the row alone)."""
    access = _ACCESS.get(kind)
    if access is None:
        raise Http404()
    if not related and kind in ("contact", "company"):
        return access(request.user, public_id, related=False)
    return access(request.user, public_id)


def _may_add(actor: Any) -> bool:
    return bool(actor.is_active and actor.role != Role.READONLY)


# ---------------------------------------------------------------- quick add


class QuickAddForm(BootstrapFormMixin, forms.Form):
    """Quick add on a timeline: a note, a logged call, a task or a meeting."""

    KINDS = (
        ("note", gettext_lazy("Note")),
        ("call", gettext_lazy("Log a call")),
        ("task", gettext_lazy("Task")),
        ("meeting", gettext_lazy("Meeting")),
    )
    kind = forms.ChoiceField(choices=KINDS, widget=forms.HiddenInput)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300, required=False)
    body = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        required=False,
        choices=[("", "—"), *Activity.Outcome.choices],
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        required=False,
        choices=[("", "—"), *Activity.Direction.choices],
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"), required=False, min_value=0, max_value=1440
    )
    due = CalendarDateField(label=gettext_lazy("Date"), required=False)
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == "note" and not (data.get("body") or data.get("subject")):
            self.add_error("body", _("Write the note."))
        if kind in ("task", "meeting") and not data.get("subject"):
            self.add_error("subject", _("Give it a subject."))
        if kind in ("task", "meeting") and not data.get("due"):
            self.add_error("due", _("Choose the day."))
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("outcome", "direction"):
            self.fields[name].widget.attrs.update(
                {"id": f"qa-{name}", "class": "form-select form-select-sm"}
            )

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        body = data.get("body") or ""
        subject = data.get("subject") or ""
        arguments: dict[str, Any] = {"kind": kind, "body": body}
        if kind == "note":
            arguments["subject"] = subject or body.strip().splitlines()[0][:120]
        elif kind == "call":
            arguments["subject"] = subject or str(_("Call"))
            arguments["done_at"] = timezone.now()
            arguments["outcome"] = data.get("outcome") or ""
            arguments["direction"] = data.get("direction") or ""
            if data.get("minutes") is not None:
                arguments["duration_seconds"] = data["minutes"] * 60
        else:
            clock = data.get("time") or dt.time(9, 0)
            arguments["subject"] = subject
            arguments["due_at"] = timezone.make_aware(dt.datetime.combine(data["due"], clock))
        return arguments


def _quick_add_context(kind: str, public_id: Any, form: QuickAddForm) -> dict[str, Any]:
    return {
        "form": form,
        "kind": form["kind"].value() or "note",
        "kinds": QuickAddForm.KINDS,
        "add_url": reverse("records:timeline-add", args=[kind, public_id]),
    }


@require_POST
@page_errors
def timeline_add(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    """Add a note, a logged call, a task or a meeting to a record through
    `activity_create`; answers a fresh form and `HX-Trigger: timeline-changed`."""
    actor = request.user
    record = _record(request, kind, public_id)
    form = QuickAddForm(request.POST)
    if form.is_valid():
        try:
            activity = activity_create(actor=actor, **form.service_arguments(), **{kind: record})
        except Invalid as error:
            add_service_errors(form, error, {"due_at": "due", "duration_seconds": "minutes"})
        else:
            fresh = QuickAddForm(initial={"kind": form.cleaned_data["kind"]})
            response = render(
                request, "records/quick_add.html", _quick_add_context(kind, public_id, fresh)
            )
            response["HX-Trigger"] = json.dumps(
                {
                    "timeline-changed": {},
                    "wasl:notice": {
                        "message": _("Added: %(subject)s") % {"subject": activity.subject},
                        "level": "success",
                    },
                }
            )
            return response
    return render(request, "records/quick_add.html", _quick_add_context(kind, public_id, form))


# ---------------------------------------------------------------- timeline


def _labels(record: Any) -> dict[str, str]:
    labels = {key: str(value) for key, value in _EXTRA_LABELS.items()}
    for model_field in record._meta.get_fields():
        if hasattr(model_field, "verbose_name"):
            labels[model_field.name] = str(model_field.verbose_name)
    return labels


def _names_of(actor: Any, items: list[TimelineItem]) -> dict[str, str]:
    """Names of the records that audit changes name by public id (one query per kind)."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        for key, pair in item.changes.items():
            target = _REFERENCES.get(key)
            if target is None:
                continue
            for value in pair or []:
                for one in value if isinstance(value, list) else [value]:
                    if isinstance(one, str) and _UUID.match(one):
                        wanted.setdefault(target, set()).add(one)
    names: dict[str, str] = {}
    # Names only: the selectors' prefetches would cost a query each.
    sources = {
        "user": lambda ids: user_list(actor=actor).filter(public_id__in=ids),
        "stage": lambda ids: stage_list(actor=actor).filter(public_id__in=ids),
        "company": lambda ids: (
            company_list(actor=actor).prefetch_related(None).filter(public_id__in=ids)
        ),
        "contact": lambda ids: (
            contact_list(actor=actor)
            .prefetch_related(None)
            .select_related(None)
            .filter(public_id__in=ids)
        ),
    }
    for target, ids in wanted.items():
        for found in sources[target](sorted(ids)):
            names[str(found.public_id)] = str(found)
    return names


def _shown(value: Any, names: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(_shown(v, names) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v, names)}" for k, v in value.items())
    text = str(value)
    if _UUID.match(text):
        return names.get(text, "…")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return local_date(dt.date.fromisoformat(text))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.+\-]+", text):
        try:
            return local_datetime(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def _changes(
    item: TimelineItem, labels: dict[str, str], names: dict[str, str], custom: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(field, old, new) of an update, custom fields one by one."""
    if item.type != "event" or item.action in (AuditEntry.Action.CREATE, AuditEntry.Action.DELETE):
        return []
    rows = []
    for key, pair in sorted(item.changes.items()):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        old, new = pair
        if key == "custom" and isinstance(old, dict | None) and isinstance(new, dict | None):
            old, new = old or {}, new or {}
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    rows.append(
                        (
                            custom.get(name, name),
                            _shown(old.get(name), names),
                            _shown(new.get(name), names),
                        )
                    )
            continue
        rows.append((labels.get(key, key), _shown(old, names), _shown(new, names)))
    return rows[:12]


def _timeline_context(request: HttpRequest, kind: str, record: Any) -> dict[str, Any]:
    actor = request.user
    items, cursor = timeline_for(
        actor=actor,
        record=record,
        limit=TIMELINE_PAGE,
        cursor=request.GET.get("cursor") or None,
    )
    names = _names_of(actor, items)
    labels = _labels(record)
    custom = (
        {d.key: d.label for d in definitions_for(kind).values()}
        if any("custom" in item.changes for item in items)
        else {}
    )
    entries = [
        {
            "item": item,
            "icon": ICONS.get(item.kind, "bi-pencil") if item.type == "activity" else "bi-pencil",
            "changes": _changes(item, labels, names, custom),
            "action": AuditEntry.Action(item.action).label if item.action else "",
        }
        for item in items
    ]
    items_url = reverse("records:timeline", args=[kind, record.public_id])
    return {
        "entries": entries,
        "more_url": f"{items_url}?part=more&cursor={cursor}" if cursor else "",
        "items_url": f"{items_url}?part=items",
        "now": timezone.now(),
    }


@require_GET
@page_errors
def timeline(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    """The timeline panel (`part=items`: its list alone; `part=more`: the next entries)."""
    record = _record(request, kind, public_id, related=False)
    context = _timeline_context(request, kind, record)
    part = request.GET.get("part")
    if part == "more":
        return render(request, "records/timeline_entries.html", context)
    if part == "items":
        return render(request, "records/timeline_items.html", context)
    if _may_add(request.user):
        context.update(
            _quick_add_context(kind, record.public_id, QuickAddForm(initial={"kind": "note"}))
        )
        context["can_add"] = True
    return render(request, "records/timeline.html", context)


# ---------------------------------------------------------------- deals


@require_GET
@page_errors
def related_deals(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    """A contact's or a company's deals that the actor sees, newest first."""
    if kind not in ("contact", "company"):
        raise Http404()
    record = _record(request, kind, public_id)
    deals = deal_list(actor=request.user)
    deals = deals.filter(contacts=record) if kind == "contact" else deals.filter(company=record)
    rows = list(deals.order_by("-updated_at", "-id")[: RELATED_DEALS + 1])
    for deal in rows:
        deal.url = _deal_url(deal)  # type: ignore[attr-defined]
    context = {
        "deals": rows[:RELATED_DEALS],
        "more": len(rows) > RELATED_DEALS,
        "shown": RELATED_DEALS,
    }
    actor = request.user
    if actor.is_active and actor.role != Role.READONLY:
        query = urlencode({kind: str(record.public_id)})
        context["new_deal_url"] = f"{reverse('deals:deal-create')}?{query}"
    return render(request, "records/deals.html", context)
