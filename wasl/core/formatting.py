"""How dates, numbers and money are shown to the current user.

The preferences of the request (language, calendar, digits, time zone, currency) live in a
context variable that the preferences middleware sets for each request; the template
filters in `wasl.core.templatetags.wasl` and page code read them with `current_prefs()`.
Outside a request (shell, tasks) the defaults apply: Gregorian, Latin digits, the active
language.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.core import calendars


@dataclass(frozen=True)
class DisplayPrefs:
    """What the page is shown in. `digits` is "native" or "latin"; "native" changes
    nothing for English."""

    language: str = "en"
    calendar: str = calendars.GREGORIAN
    digits: str = "latin"
    time_zone: str = "UTC"
    currency: str = "USD"
    toman: bool = False
    week_start: int = 6  # 0 = Monday … 6 = Sunday; Saturday (5) in Iran

    @property
    def native(self) -> bool:
        return self.digits == "native" and self.language in ("fa", "ar")

    @property
    def bidi(self) -> bool:
        return self.language in ("fa", "ar")


_PREFS: contextvars.ContextVar[DisplayPrefs | None] = contextvars.ContextVar(
    "wasl_display_prefs", default=None
)


def current_prefs() -> DisplayPrefs:
    """The preferences of the current request, else defaults in the active language."""
    prefs = _PREFS.get()
    if prefs is not None:
        return prefs
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return DisplayPrefs(
        language=language,
        time_zone=timezone.get_current_timezone_name(),
        currency=getattr(settings, "WASL_CURRENCY", "USD"),
    )


def set_prefs(prefs: DisplayPrefs | None) -> contextvars.Token[DisplayPrefs | None]:
    return _PREFS.set(prefs)


def reset_prefs(token: contextvars.Token[DisplayPrefs | None]) -> None:
    _PREFS.reset(token)


@contextmanager
def using_prefs(prefs: DisplayPrefs | None = None, **changes: Any) -> Iterator[DisplayPrefs]:
    """Format with these preferences inside the block (tests, e-mails, PDFs)."""
    chosen = replace(prefs or current_prefs(), **changes)
    token = set_prefs(chosen)
    try:
        with translation.override(chosen.language):
            yield chosen
    finally:
        reset_prefs(token)


# ---------------------------------------------------------------- numbers


# Persian and Arabic write the Arabic thousands separator (U+066C) and decimal separator
# (U+066B) with their own digits; with Latin digits they use the Latin marks.
_NATIVE_MARKS = ("\u066c", "\u066b")
_LATIN_MARKS = (",", ".")


def digits(text: Any, prefs: DisplayPrefs | None = None) -> str:
    """`text` with its ASCII digits written in the user's digits."""
    prefs = prefs or current_prefs()
    value = "" if text is None else str(text)
    return calendars.native_digits(value, prefs.language) if prefs.native else value


def format_number(
    value: Any, places: int = 0, prefs: DisplayPrefs | None = None, *, group: bool = True
) -> str:
    """`value` rounded half up to `places` decimals with grouping, in the user's digits."""
    prefs = prefs or current_prefs()
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return digits(value, prefs)
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    text = f"{abs(number):,.{places}f}" if group else f"{abs(number):.{places}f}"
    if prefs.native:
        thousands, decimal = _NATIVE_MARKS
        text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
        sign = "\u2212" if sign else ""
    return sign + digits(text, prefs)


# ---------------------------------------------------------------- money

# Minor units per ISO 4217; anything unlisted has two.
_DECIMALS = {"IRR": 0, "IQD": 0, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3}

# Currency names and symbols per language: proper names, kept as data like month names.
_UNITS: dict[str, dict[str, str]] = {
    "IRR": {"fa": "ریال", "ar": "ريال", "en": "IRR"},
    "TOMAN": {"fa": "تومان", "ar": "تومان", "en": "Toman"},
    "SAR": {"fa": "ریال سعودی", "ar": "ر.س.", "en": "SAR"},
    "AED": {"fa": "درهم", "ar": "د.إ.", "en": "AED"},
    "USD": {"fa": "دلار", "ar": "US$", "en": "$"},
    "EUR": {"fa": "یورو", "ar": "€", "en": "€"},
    "GBP": {"fa": "پوند", "ar": "£", "en": "£"},
    "TRY": {"fa": "لیر", "ar": "ل.ت.", "en": "TRY"},
    "IQD": {"fa": "دینار عراق", "ar": "د.ع.", "en": "IQD"},
    "KWD": {"fa": "دینار کویت", "ar": "د.ك.", "en": "KWD"},
    "QAR": {"fa": "ریال قطر", "ar": "ر.ق.", "en": "QAR"},
    "OMR": {"fa": "ریال عمان", "ar": "ر.ع.", "en": "OMR"},
    "BHD": {"fa": "دینار بحرین", "ar": "د.ب.", "en": "BHD"},
}
# Symbols written before the amount in English.
_PREFIX_SYMBOLS = {"$", "€", "£"}


def money(amount: Any, currency: str | None = None, prefs: DisplayPrefs | None = None) -> str:
    """An amount with its currency in the user's language and digits: "$1,234.50",
    "۱۲٬۰۰۰ ریال", "١٬٢٣٤٫٥٠ ر.س.". Rials are shown in Toman (÷10) when the organisation
    chose it."""
    prefs = prefs or current_prefs()
    if amount is None or amount == "":
        return ""
    code = (currency or prefs.currency or "").upper()
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return digits(amount, prefs)
    places = _DECIMALS.get(code, 2)
    if code == "IRR" and prefs.toman:
        value = value / 10
        code = "TOMAN"
        places = 0
    number = format_number(value, places, prefs)
    units = _UNITS.get(code)
    unit = units.get(prefs.language, units["en"]) if units else code
    if prefs.language == "en" and unit in _PREFIX_SYMBOLS:
        return f"-{unit}{number[1:]}" if number.startswith("-") else f"{unit}{number}"
    # A no-break space keeps the amount and its unit on one line.
    return f"{number}\u00a0{unit}"


# ---------------------------------------------------------------- dates and times


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in the active time zone (naive values are taken as UTC)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value)


def local_date(value: Any, prefs: DisplayPrefs | None = None, *, style: str = "short") -> str:
    """A date (or the local date of a datetime) in the user's calendar and digits."""
    if value is None or value == "":
        return ""
    prefs = prefs or current_prefs()
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return calendars.format_date(value, prefs.calendar, prefs.digits, prefs.language, style=style)


def local_time(value: dt.datetime, prefs: DisplayPrefs | None = None) -> str:
    prefs = prefs or current_prefs()
    return digits(to_local(value).strftime("%H:%M"), prefs)


def local_datetime(value: Any, prefs: DisplayPrefs | None = None) -> str:
    """A datetime in the user's time zone, calendar and digits: "۱۴۰۵/۰۹/۰۲ ۱۴:۳۰"."""
    if value is None or value == "":
        return ""
    prefs = prefs or current_prefs()
    if not isinstance(value, dt.datetime):
        return local_date(value, prefs)
    return f"{local_date(value, prefs)} {local_time(value, prefs)}"


def local_today() -> dt.date:
    """Today in the active time zone."""
    return timezone.localdate()


def relative(value: Any, now: dt.datetime | None = None, prefs: DisplayPrefs | None = None) -> str:
    """ "3 days ago", "in 2 hours", «۳ روز پیش», «منذ ٣ أيام»: the largest whole unit."""
    if value is None or value == "":
        return ""
    prefs = prefs or current_prefs()
    now = now or timezone.now()
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        seconds = int((now - value).total_seconds())
    else:
        seconds = (to_local(now).date() - value).days * 86400
        if seconds == 0:
            return _("today")
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return _("just now")
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days >= 365:
        count = days // 365
        text = (
            ngettext("in %(count)s year", "in %(count)s years", count)
            if future
            else ngettext("%(count)s year ago", "%(count)s years ago", count)
        )
    elif days >= 30:
        count = days // 30
        text = (
            ngettext("in %(count)s month", "in %(count)s months", count)
            if future
            else ngettext("%(count)s month ago", "%(count)s months ago", count)
        )
    elif days >= 1:
        count = days
        text = (
            ngettext("in %(count)s day", "in %(count)s days", count)
            if future
            else ngettext("%(count)s day ago", "%(count)s days ago", count)
        )
    elif hours >= 1:
        count = hours
        text = (
            ngettext("in %(count)s hour", "in %(count)s hours", count)
            if future
            else ngettext("%(count)s hour ago", "%(count)s hours ago", count)
        )
    else:
        count = max(1, minutes)
        text = (
            ngettext("in %(count)s minute", "in %(count)s minutes", count)
            if future
            else ngettext("%(count)s minute ago", "%(count)s minutes ago", count)
        )
    return digits(text % {"count": count}, prefs)
