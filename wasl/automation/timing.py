"""The organisation's working week: due times counted in business hours, and cron."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class WorkingWeek:
    zone: ZoneInfo
    days: frozenset[int]  # Python weekdays, Monday = 0
    start: dt.time
    end: dt.time

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days

    def opening(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.start, tzinfo=self.zone)

    def closing(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.end, tzinfo=self.zone)

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """`moment` if the organisation works then, else the next opening time."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(15):
            if self.is_working_day(day):
                if local < self.opening(day):
                    return self.opening(day)
                if local < self.closing(day):
                    return local
            day += dt.timedelta(days=1)
            local = self.opening(day)
        return local

    def add(self, moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """`delta` of working time after `moment` (a moment outside hours starts at the
        next opening)."""
        current = self.next_open(moment)
        remaining = delta
        for _ in range(100000):
            closing = self.closing(current.date())
            available = closing - current
            if remaining <= available:
                return (current + remaining).astimezone(dt.UTC)
            remaining -= available
            current = self.next_open(closing + dt.timedelta(seconds=1))
        return current.astimezone(dt.UTC)

    def add_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same time of day `days` working days later, moved into working hours."""
        local = self.next_open(moment)
        day = local.date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return self.next_open(dt.datetime.combine(day, local.timetz())).astimezone(dt.UTC)


def _parse_time(text: str) -> dt.time:
    hours, minutes = text.strip().split(":")
    return dt.time(int(hours), int(minutes))


@lru_cache(maxsize=8)
def _week(zone: str, days: tuple[int, ...], hours: str) -> WorkingWeek:
    start, end = hours.split("-")
    return WorkingWeek(
        zone=ZoneInfo(zone),
        days=frozenset(days) or frozenset(range(5)),
        start=_parse_time(start),
        end=_parse_time(end),
    )


def _setting_days() -> tuple[int, ...]:
    names = [d.strip().lower()[:3] for d in settings.WASL_WORKING_DAYS.split(",")]
    return tuple(sorted(_DAYS[n] for n in names if n in _DAYS))


def working_week() -> WorkingWeek:
    """The organisation's time zone and working days (its settings page), with working
    hours from WASL_WORKING_HOURS (e.g. `08:00-17:00`). Without an organisation row the
    settings WASL_TIME_ZONE and WASL_WORKING_DAYS (e.g. `sat,sun,mon,tue,wed`) apply."""
    from wasl.accounts.selectors import organisation_get

    organisation = organisation_get()
    days = tuple(sorted(int(d) for d in organisation.working_days or [])) or _setting_days()
    zone = organisation.time_zone or settings.WASL_TIME_ZONE
    return _week(zone, days, settings.WASL_WORKING_HOURS)


def org_zone() -> ZoneInfo:
    """The organisation's time zone."""
    from wasl.accounts.selectors import organisation_get

    return ZoneInfo(organisation_get().time_zone or settings.WASL_TIME_ZONE)


def due_after(moment: dt.datetime, amount: int, unit: str, business_hours: bool) -> dt.datetime:
    """When something due `amount` `unit` after `moment` falls due."""
    if not business_hours:
        return moment + dt.timedelta(**{unit: amount})
    week = working_week()
    if unit == "days":
        return week.add_days(moment, amount)
    return week.add(moment, dt.timedelta(**{unit: amount}))


# ---------------------------------------------------------------- cron


class CronError(ValueError):
    pass


_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"bad step in {text!r}")
            step = int(step_text)
        if part == "*":
            first, last = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            if not (a.isdigit() and b.isdigit()):
                raise CronError(f"bad range in {text!r}")
            first, last = int(a), int(b)
        elif part.isdigit():
            first = last = int(part)
            if step > 1:
                last = high
        else:
            raise CronError(f"bad value {part!r}")
        if first < low or last > high or first > last:
            raise CronError(f"{text!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # cron weekdays, Sunday = 0
    any_day: bool
    any_weekday: bool

    def matches(self, local: dt.datetime) -> bool:
        if local.minute not in self.minutes or local.hour not in self.hours:
            return False
        if local.month not in self.months:
            return False
        weekday = (local.weekday() + 1) % 7
        day_ok = local.day in self.days
        weekday_ok = weekday in self.weekdays
        # As in cron: with both day and weekday restricted, either one suffices.
        if not self.any_day and not self.any_weekday:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def parse_cron(text: str) -> Cron:
    """`minute hour day month weekday`, with `*`, lists, ranges and steps."""
    fields = text.split()
    if len(fields) != 5:
        raise CronError("a schedule has five fields: minute hour day month weekday")
    parsed = [_field(f, low, high) for f, (low, high) in zip(fields, _RANGES, strict=True)]
    weekdays = frozenset(7 % 7 if d == 7 else d for d in parsed[4])
    return Cron(
        minutes=parsed[0],
        hours=parsed[1],
        days=parsed[2],
        months=parsed[3],
        weekdays=weekdays,
        any_day=fields[2] == "*",
        any_weekday=fields[4] == "*",
    )
