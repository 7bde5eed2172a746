"""iCalendar (.ics) files read as a table of activities: events become meetings, to-dos
become tasks.

Calendars exported by Google, Outlook, Thunderbird and phones are parsed by `icalendar`.
Times with a time zone are written as UTC ISO text, floating times without an offset and
all-day dates as ISO dates, so the import's own date parsing reads them unchanged. A
recurring event is imported once, at its first occurrence; its repetitions stay in the
calendar it came from.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
from django.utils.translation import gettext as _

from wasl.imports.parsers import Table, UnreadableFile

# Column names of the table, as a calendar export would name them (data, like a CSV
# header, so not translated); the mapping table knows each of them.
ICS_HEADERS = [
    "Type",
    "Subject",
    "Description",
    "Location",
    "Start",
    "End",
    "Completed",
    "Attendees",
    "Organizer",
    "UID",
]
MAX_TEXT = 10_000


def open_ics(path: str | Path) -> Table:
    """The events and to-dos of an iCalendar file, one row each.

    Raises UnreadableFile with a one-line reason when the file is not iCalendar."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise UnreadableFile(str(error.strerror or error)) from error
    try:
        with warnings.catch_warnings():
            # Vendor-prefixed TZIDs are resolved by guessing; the guess is what we want.
            warnings.simplefilter("ignore")
            calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise UnreadableFile(
            _("This is not a readable iCalendar file: %(reason)s") % {"reason": str(error)[:120]}
        ) from error
    components = [
        component
        for calendar in calendars
        for component in calendar.walk()
        if component.name in ("VEVENT", "VTODO")
    ]
    if not components:
        raise UnreadableFile(_("The calendar holds no events or to-dos."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, component in enumerate(components, start=1):
            yield number, _row(component)

    return Table(file_format="ics", headers=list(ICS_HEADERS), rows=rows(), encoding="utf-8")


def _row(component: Any) -> list[str]:
    is_event = component.name == "VEVENT"
    start = _when(component, "DTSTART")
    if is_event:
        end = _when(component, "DTEND") or _end_from_duration(component, start)
        due, completed = start, ""
    else:
        end = ""
        due = _when(component, "DUE") or start
        completed = _when(component, "COMPLETED")
        if not completed and _text(component, "STATUS").upper() == "COMPLETED":
            completed = _when(component, "LAST-MODIFIED") or _when(component, "DTSTAMP") or due
    description = _text(component, "DESCRIPTION")
    subject = _text(component, "SUMMARY") or description.strip().split("\n", 1)[0][:300]
    uid = _text(component, "UID")
    recurrence = _when(component, "RECURRENCE-ID")
    return [
        "meeting" if is_event else "task",
        subject,
        description,
        _text(component, "LOCATION"),
        due,
        end,
        completed,
        ", ".join(_addresses(component, "ATTENDEE")),
        ", ".join(_addresses(component, "ORGANIZER")),
        f"{uid}#{recurrence}" if uid and recurrence else uid,
    ]


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    try:
        text = str(value)
    except (TypeError, ValueError, UnicodeError):
        return ""
    return text.replace("\r\n", "\n").strip()[:MAX_TEXT]


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(dt.UTC).isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return ""


def _when(component: Any, name: str) -> str:
    if component.get(name) is None:
        return ""
    try:
        return _iso(component.decoded(name))
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
        # A broken or unknown time zone: the raw text still says when, without an offset.
        raw = component.get(name)
        text = getattr(raw, "to_ical", lambda: b"")()
        return _iso(_parse_basic(text.decode("ascii", errors="ignore")))


def _parse_basic(text: str) -> dt.datetime | dt.date | None:
    text = text.strip().rstrip("Z")
    for pattern in ("%Y%m%dT%H%M%S", "%Y%m%d"):
        try:
            parsed = dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed if "T" in pattern else parsed.date()
    return None


def _end_from_duration(component: Any, start: str) -> str:
    if not start or component.get("DURATION") is None:
        return ""
    try:
        duration = component.decoded("DURATION")
        begin = dt.datetime.fromisoformat(start)
    except (ValueError, KeyError, TypeError):
        return ""
    if not isinstance(duration, dt.timedelta):
        return ""
    return _iso(begin + duration)


def _addresses(component: Any, name: str) -> list[str]:
    values = component.get(name)
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    found = []
    for value in values:
        text = str(value).strip()
        if text.lower().startswith("mailto:"):
            text = text[7:]
        if "@" in text and text not in found:
            found.append(text)
    return found
