"""Calendar conversions checked by hand against published calendars."""

from __future__ import annotations

import datetime as dt

import pytest

from wasl.core import calendars
from wasl.core.calendars import DateParseError, format_date, parse_date


def test_jalali_conversion_of_a_known_date():
    assert calendars.to_jalali(dt.date(2026, 11, 23)) == (1405, 9, 2)
    assert calendars.from_jalali(1405, 9, 2) == dt.date(2026, 11, 23)


def test_nowruz_1405_is_the_twenty_first_of_march_2026():
    assert calendars.from_jalali(1405, 1, 1) == dt.date(2026, 3, 21)
    assert calendars.to_jalali(dt.date(2026, 3, 20)) == (1404, 12, 29)


def test_hijri_conversion_follows_umm_al_qura():
    # 1 Ramadan 1447 AH is 18 February 2026 in the Umm al-Qura calendar.
    assert calendars.from_hijri(1447, 9, 1) == dt.date(2026, 2, 18)
    assert calendars.to_hijri(dt.date(2026, 11, 23)) == (1448, 6, 13)


def test_jalali_date_with_persian_digits():
    assert format_date(dt.date(2026, 11, 23), "jalali", "native", "fa") == "۱۴۰۵/۰۹/۰۲"


def test_hijri_date_with_arabic_indic_digits():
    assert format_date(dt.date(2026, 11, 23), "hijri", "native", "ar") == "١٤٤٨/٠٦/١٣"


def test_gregorian_dates_are_iso_and_latin_digits_stay_latin():
    assert format_date(dt.date(2026, 11, 23), "gregorian", "latin", "fa") == "2026-11-23"
    assert format_date(dt.date(2026, 11, 23), "jalali", "latin", "fa") == "1405/09/02"


def test_long_style_spells_the_month_in_the_language():
    assert format_date(dt.date(2026, 11, 23), "jalali", "native", "fa", style="long") == (
        "۲ آذر ۱۴۰۵"
    )
    assert format_date(dt.date(2026, 11, 23), "gregorian", "latin", "en", style="long") == (
        "23 November 2026"
    )


def test_a_hijri_date_outside_the_tables_falls_back_to_gregorian():
    assert format_date(dt.date(1900, 1, 1), "hijri") == "1900-01-01"


@pytest.mark.parametrize(
    ("text", "calendar", "expected"),
    [
        ("۱۴۰۵/۰۹/۰۲", "jalali", dt.date(2026, 11, 23)),
        ("1405-9-2", "jalali", dt.date(2026, 11, 23)),
        ("١٤٤٨/٠٦/١٣", "hijri", dt.date(2026, 11, 23)),
        ("2026-11-23", "gregorian", dt.date(2026, 11, 23)),
        ("23/11/2026", "gregorian", dt.date(2026, 11, 23)),
        ("2026-11-23", "jalali", dt.date(2026, 11, 23)),  # a pasted ISO date
        (" 1405 / 01 / 01 ", "jalali", dt.date(2026, 3, 21)),
    ],
)
def test_parse_date_accepts_native_or_latin_digits_and_either_separator(text, calendar, expected):
    assert parse_date(text, calendar) == expected


@pytest.mark.parametrize(
    ("text", "calendar"),
    [
        ("", "jalali"),
        ("tomorrow", "gregorian"),
        ("1405/13/01", "jalali"),
        ("2026-02-30", "gregorian"),
    ],
)
def test_parse_date_refuses_what_is_not_a_date(text, calendar):
    with pytest.raises(DateParseError):
        parse_date(text, calendar)


def test_month_lengths():
    assert calendars.month_length(1405, 1, "jalali") == 31
    assert calendars.month_length(1405, 7, "jalali") == 30
    assert calendars.month_length(1403, 12, "jalali") == 30  # 1403 is a leap year
    assert calendars.month_length(1404, 12, "jalali") == 29
    assert calendars.month_length(2028, 2, "gregorian") == 29


def test_every_day_of_two_years_round_trips_through_each_calendar():
    day = dt.date(2025, 1, 1)
    for _ in range(731):
        for calendar in calendars.CALENDARS:
            text = calendars.input_value(day, calendar, "native", "fa")
            assert parse_date(text, calendar) == day
        day += dt.timedelta(days=1)
