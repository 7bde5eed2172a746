"""Report periods in the viewer's calendar: weeks from the organisation's first weekday,
months, quarters and years of the Gregorian, Jalali (the year starts at Nowruz) or Hijri
(Umm al-Qura) calendar. A period is a range of Gregorian dates, end exclusive."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext as _

from wasl.core import calendars
from wasl.core.errors import Invalid

PERIOD_KEYS = (
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "custom",
)
DEFAULT_PERIOD = "this_quarter"
UNITS = ("day", "week", "month", "quarter", "year")
# A custom range longer than this is refused: every report reads the whole range.
MAX_CUSTOM_DAYS = 3660
# Buckets of one chart; more would not be readable anyway.
MAX_BUCKETS = 400


@dataclass(frozen=True)
class Period:
    """Gregorian dates `start` ≤ d < `end`; `unit` says what kind of range it is (day,
    week, month, quarter, year or custom) and `calendar` how to name it."""

    start: dt.date
    end: dt.date
    key: str
    unit: str = "custom"
    calendar: str = calendars.GREGORIAN

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def label(self, language: str | None = None) -> str:
        """The period's name in `calendar` ("Farvardin 1405", "Q1 1405", "1405")."""
        language = (language or translation.get_language() or "en").split("-")[0]
        with translation.override(language):
            return self._label(language)

    def _label(self, language: str) -> str:
        shown = calendars.effective_calendar(self.start, self.calendar)
        year, month, _day = calendars.to_calendar(self.start, shown)
        if self.unit == "month":
            return f"{calendars.month_name(month, shown, language)} {year}"
        if self.unit == "quarter":
            return _("Q%(quarter)s %(year)s") % {"quarter": (month - 1) // 3 + 1, "year": year}
        if self.unit == "year":
            return str(year)
        first = calendars.format_date(self.start, shown, language=language)
        if self.unit == "day":
            return first
        if self.unit == "week":
            return _("Week of %(date)s") % {"date": first}
        last = calendars.format_date(self.end - dt.timedelta(days=1), shown, language=language)
        return f"{first} – {last}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def _calendar_for(day: dt.date, calendar: str) -> str:
    # Hijri tables end in 2077; beyond them the Gregorian calendar is used.
    return calendars.effective_calendar(day, calendar)


def _month_start(year: int, month: int, calendar: str) -> dt.date:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return calendars.from_calendar(year, month, 1, calendar)


def _span(day: dt.date, unit: str, calendar: str, week_start: int) -> tuple[dt.date, dt.date]:
    """The day/week/month/quarter/year of `calendar` containing `day`."""
    if unit == "day":
        return day, day + dt.timedelta(days=1)
    if unit == "week":
        first = day - dt.timedelta(days=(day.weekday() - week_start) % 7)
        return first, first + dt.timedelta(days=7)
    calendar = _calendar_for(day, calendar)
    year, month, _d = calendars.to_calendar(day, calendar)
    if unit == "month":
        return _month_start(year, month, calendar), _month_start(year, month + 1, calendar)
    if unit == "quarter":
        first_month = (month - 1) // 3 * 3 + 1
        return (
            _month_start(year, first_month, calendar),
            _month_start(year, first_month + 3, calendar),
        )
    if unit == "year":
        return _month_start(year, 1, calendar), _month_start(year + 1, 1, calendar)
    raise ValueError(unit)


def resolve_period(
    key: str,
    *,
    calendar: str,
    week_start: int,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Period:
    """The period named `key` as seen on `today`. For `custom`, `start` and `end` are the
    first and the last day included. Raises Invalid for an unknown key or a bad range."""
    key = (key or DEFAULT_PERIOD).strip()
    if key == "custom":
        if start is None or end is None:
            raise Invalid({"period": [_("A custom period needs a start and an end date.")]})
        if end < start:
            raise Invalid({"end": [_("The end date is before the start date.")]})
        if (end - start).days >= MAX_CUSTOM_DAYS:
            raise Invalid({"end": [_("Choose a period of at most ten years.")]})
        return Period(start, end + dt.timedelta(days=1), "custom", "custom", calendar)
    if key not in PERIOD_KEYS:
        raise Invalid(
            {"period": [_("Choose one of: %(keys)s.") % {"keys": ", ".join(PERIOD_KEYS)}]}
        )
    which, unit = key.split("_", 1)
    first, last = _span(today, unit, calendar, week_start)
    if which == "last":
        first, last = _span(first - dt.timedelta(days=1), unit, calendar, week_start)
    return Period(first, last, key, unit, calendar)


def previous_period(period: Period, calendar: str | None = None) -> Period:
    """The period of the same kind just before `period` (the month before a month, the
    same number of days before a custom range)."""
    calendar = calendar or period.calendar
    if period.unit in ("month", "quarter", "year"):
        first, last = _span(period.start - dt.timedelta(days=1), period.unit, calendar, 0)
        if last == period.start:
            return Period(first, last, f"previous:{period.key}", period.unit, calendar)
    length = dt.timedelta(days=period.days)
    return Period(
        period.start - length,
        period.start,
        f"previous:{period.key}",
        period.unit if period.unit in ("day", "week") else "custom",
        calendar,
    )


def buckets(period: Period, unit: str, calendar: str, week_start: int) -> list[Period]:
    """`period` cut into consecutive days, weeks, months, quarters or years of `calendar`.
    The first and last buckets are clipped to the period, so the buckets' totals add up
    to the period's."""
    if unit not in UNITS:
        raise Invalid({"unit": [_("Choose one of: %(keys)s.") % {"keys": ", ".join(UNITS)}]})
    result: list[Period] = []
    day = period.start
    while day < period.end:
        first, last = _span(day, unit, calendar, week_start)
        result.append(
            Period(
                max(first, period.start),
                min(last, period.end),
                f"{unit}:{first.isoformat()}",
                unit,
                calendar,
            )
        )
        if len(result) > MAX_BUCKETS:
            raise Invalid({"unit": [_("This period has too many buckets; choose a longer unit.")]})
        day = last
    return result


def bucket_of(day: dt.date, bounds: list[Period]) -> int | None:
    """The index of the bucket of `bounds` (as `buckets` returns them) holding `day`."""
    index = bisect.bisect_right([b.start for b in bounds], day) - 1
    if index < 0 or day >= bounds[index].end:
        return None
    return index


def aware_bounds(period: Period, tz: ZoneInfo | dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The period's first and end instants at midnight in the organisation's time zone."""
    return (
        dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(period.end, dt.time.min, tzinfo=tz),
    )
