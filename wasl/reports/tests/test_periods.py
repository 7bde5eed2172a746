"""Report periods in the Gregorian, Jalali and Hijri calendars."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from wasl.core.errors import Invalid
from wasl.reports.periods import (
    Period,
    aware_bounds,
    bucket_of,
    buckets,
    previous_period,
    resolve_period,
)

D = dt.date


TODAY = D(2026, 3, 21)


def resolve(key, calendar="gregorian", today=TODAY, week_start=5, **kw):
    return resolve_period(key, calendar=calendar, week_start=week_start, today=today, **kw)


def test_the_jalali_year_and_month_start_at_nowruz():
    nowruz = resolve("this_month", "jalali", today=D(2026, 3, 21))
    assert (nowruz.start, nowruz.end) == (D(2026, 3, 21), D(2026, 4, 21))
    assert nowruz.label("en") == "Farvardin 1405"
    assert nowruz.label("fa") == "فروردین 1405"
    eve = resolve("this_month", "jalali", today=D(2026, 3, 20))
    assert (eve.start, eve.end) == (D(2026, 2, 20), D(2026, 3, 21))
    assert eve.label("en") == "Esfand 1404"
    year = resolve("this_year", "jalali", today=D(2026, 3, 20))
    assert (year.start, year.end) == (D(2025, 3, 21), D(2026, 3, 21))
    assert resolve("this_year", "jalali", today=D(2026, 3, 21)).start == D(2026, 3, 21)


def test_jalali_quarters_are_three_jalali_months():
    quarter = resolve("this_quarter", "jalali", today=D(2026, 5, 1))
    assert (quarter.start, quarter.end) == (D(2026, 3, 21), D(2026, 6, 22))
    assert quarter.label("en") == "Q1 1405"
    last = resolve("last_quarter", "jalali", today=D(2026, 5, 1))
    assert (last.start, last.end) == (D(2025, 12, 22), D(2026, 3, 21))
    assert last.label("en") == "Q4 1404"


def test_hijri_months_follow_umm_al_qura():
    shawwal = resolve("this_month", "hijri", today=D(2026, 3, 20))
    assert (shawwal.start, shawwal.end) == (D(2026, 3, 20), D(2026, 4, 18))
    assert shawwal.label("en") == "Shawwal 1447"
    ramadan = resolve("last_month", "hijri", today=D(2026, 3, 20))
    assert (ramadan.start, ramadan.end) == (D(2026, 2, 18), D(2026, 3, 20))


def test_gregorian_periods_and_weeks_from_the_organisations_first_day():
    assert resolve("this_quarter").start == D(2026, 1, 1)
    assert resolve("last_year").start == D(2025, 1, 1)
    # 2026-03-21 is a Saturday: with Saturday first the week starts that day ...
    week = resolve("this_week", week_start=5)
    assert (week.start, week.end) == (D(2026, 3, 21), D(2026, 3, 28))
    # ... with Monday first it started on the 16th.
    assert resolve("this_week", week_start=0).start == D(2026, 3, 16)
    assert resolve("last_week", week_start=0).start == D(2026, 3, 9)


def test_a_custom_period_includes_its_last_day_and_is_checked():
    period = resolve("custom", start=D(2026, 1, 5), end=D(2026, 1, 5))
    assert (period.start, period.end, period.days) == (D(2026, 1, 5), D(2026, 1, 6), 1)
    with pytest.raises(Invalid) as error:
        resolve("custom", start=D(2026, 1, 5), end=D(2026, 1, 4))
    assert "end" in error.value.fields
    with pytest.raises(Invalid):
        resolve("custom", start=D(2026, 1, 5))
    with pytest.raises(Invalid) as error:
        resolve("next_decade")
    assert "period" in error.value.fields


def test_the_previous_period_is_the_one_of_the_same_kind_before():
    esfand = previous_period(resolve("this_month", "jalali"))
    assert (esfand.start, esfand.end) == (D(2026, 2, 20), D(2026, 3, 21))
    custom = previous_period(resolve("custom", start=D(2026, 1, 11), end=D(2026, 1, 20)))
    assert (custom.start, custom.end) == (D(2026, 1, 1), D(2026, 1, 11))
    q = previous_period(resolve("this_quarter"))
    assert (q.start, q.end) == (D(2025, 10, 1), D(2026, 1, 1))


def test_buckets_cover_the_period_and_are_clipped_to_it():
    year = resolve("this_year", "jalali", today=D(2026, 3, 20))
    months = buckets(year, "month", "jalali", 5)
    assert len(months) == 12
    assert months[0].start == year.start and months[-1].end == year.end
    assert [m.label("en") for m in months[:2]] == ["Farvardin 1404", "Ordibehesht 1404"]
    assert all(a.end == b.start for a, b in itertools.pairwise(months))
    custom = Period(D(2026, 3, 10), D(2026, 3, 25), "custom", "custom", "jalali")
    parts = buckets(custom, "month", "jalali", 5)
    assert [(p.start, p.end) for p in parts] == [
        (D(2026, 3, 10), D(2026, 3, 21)),
        (D(2026, 3, 21), D(2026, 3, 25)),
    ]
    assert bucket_of(D(2026, 3, 20), parts) == 0
    assert bucket_of(D(2026, 3, 21), parts) == 1
    assert bucket_of(D(2026, 3, 25), parts) is None
    with pytest.raises(Invalid):
        buckets(custom, "fortnight", "jalali", 5)


def test_aware_bounds_are_midnights_in_the_organisations_zone():
    tehran = zoneinfo.ZoneInfo("Asia/Tehran")
    first, last = aware_bounds(resolve("this_month", "jalali"), tehran)
    assert first.astimezone(dt.UTC) == dt.datetime(2026, 3, 20, 20, 30, tzinfo=dt.UTC)
    assert last.astimezone(dt.UTC) == dt.datetime(2026, 4, 20, 20, 30, tzinfo=dt.UTC)
