"""`{% load wasl %}`: dates, numbers and money in the user's calendar, digits and currency."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from wasl.core import calendars, formatting
from wasl.core.phones import format_phone

register = template.Library()


@register.filter
def local_date(value: Any, style: str = "short") -> str:
    """`{{ deal.expected_close|local_date }}`, `{{ d|local_date:"long" }}` (month spelt)."""
    return formatting.local_date(value, style=style)


@register.filter
def local_datetime(value: Any) -> str:
    """`{{ activity.due_at|local_datetime }}`: user's time zone, calendar and digits."""
    return formatting.local_datetime(value)


@register.filter
def local_time(value: Any) -> str:
    return formatting.local_time(value) if isinstance(value, dt.datetime) else ""


@register.filter
def relative(value: Any) -> str:
    """`{{ activity.created_at|relative }}`: "3 days ago", «۳ روز پیش»."""
    return formatting.relative(value)


@register.filter
def money(value: Any, currency: str | None = None) -> str:
    """`{{ deal.amount|money:deal.currency }}`; without a currency, the organisation's."""
    return formatting.money(value, currency)


@register.filter
def digits(value: Any) -> str:
    """`{{ count|digits }}`: ASCII digits in the user's digits."""
    return formatting.digits(value)


@register.filter
def phone(value: Any) -> str:
    """`{{ lead.phone|phone }}`: a stored (E.164) number in its human form, in the user's
    digits."""
    return formatting.digits(format_phone(value)) if value else ""


@register.filter
def number(value: Any, places: int = 0) -> str:
    """`{{ total|number }}`: grouped, rounded, in the user's digits."""
    return formatting.format_number(value, int(places))


@register.filter
def iso_date(value: Any) -> str:
    """A machine-readable date for `<time datetime="…">`."""
    if isinstance(value, dt.datetime):
        return formatting.to_local(value).isoformat()
    return value.isoformat() if isinstance(value, dt.date) else ""


@register.simple_tag
def date_input(
    name: str,
    value: Any = None,
    *,
    id: str = "",
    label: str = "",
    required: bool = False,
    css: str = "form-control",
    attrs: str = "",
) -> SafeString:
    """`{% date_input "due" task.due_at label=_("Due") %}`: a text input that takes a date in
    the user's calendar (Latin or native digits) with a picker of that calendar; a form
    field `CalendarDateField` reads it back."""
    return render_date_input(
        name, value, id=id, label=label, required=required, css=css, attrs=attrs
    )


def render_date_input(
    name: str,
    value: Any = None,
    *,
    id: str = "",
    label: str = "",
    required: bool = False,
    css: str = "form-control",
    attrs: str = "",
) -> SafeString:
    prefs = formatting.current_prefs()
    if isinstance(value, dt.datetime):
        value = formatting.to_local(value).date()
    shown = (
        calendars.input_value(value, prefs.calendar, prefs.digits, prefs.language)
        if isinstance(value, dt.date)
        else (value or "")
    )
    context = {
        "name": name,
        "id": id or f"id_{name}",
        "value": shown,
        "label": label,
        "required": required,
        "css": css,
        "attrs": attrs,
        "calendar": prefs.calendar,
        "language": prefs.language,
        "digits": "native" if prefs.native else "latin",
        "week_start": prefs.week_start,
        "placeholder": calendars.input_value(
            dt.date(2026, 3, 21) if prefs.calendar != calendars.GREGORIAN else dt.date(2026, 1, 31),
            prefs.calendar,
            prefs.digits,
            prefs.language,
        ),
    }
    return SafeString(render_to_string("partials/date_input.html", context))
