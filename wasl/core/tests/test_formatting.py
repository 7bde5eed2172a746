"""Money, numbers, digits and relative times per language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone

from wasl.core.formatting import (
    DisplayPrefs,
    format_number,
    local_datetime,
    money,
    relative,
    using_prefs,
)
from wasl.core.forms import CalendarDateField

FA = DisplayPrefs(language="fa", calendar="jalali", digits="native", time_zone="Asia/Tehran")
AR = DisplayPrefs(language="ar", calendar="hijri", digits="native", time_zone="Asia/Riyadh")
EN = DisplayPrefs(language="en", calendar="gregorian", digits="latin", time_zone="UTC")


def test_numbers_are_grouped_in_the_language_marks():
    assert format_number(Decimal("1234567.5"), 2, EN) == "1,234,567.50"
    assert format_number(Decimal("1234567.5"), 2, FA) == "۱٬۲۳۴٬۵۶۷٫۵۰"
    assert format_number(Decimal("-1234"), 0, AR) == "\u2212١٬٢٣٤"


def test_money_per_currency_and_locale():
    assert money(Decimal("1234.5"), "USD", EN) == "$1,234.50"
    assert money(Decimal("-5"), "EUR", EN) == "-€5.00"
    assert money(Decimal("120000"), "IRR", FA) == "۱۲۰٬۰۰۰\u00a0ریال"
    assert money(Decimal("1234.5"), "SAR", AR) == "١٬٢٣٤٫٥٠\u00a0ر.س."
    assert money(Decimal("99.999"), "AED", EN) == "100.00\u00a0AED"
    assert money(Decimal("1.2345"), "KWD", EN) == "1.235\u00a0KWD"


def test_rials_are_shown_in_toman_when_the_organisation_chooses_it():
    toman = DisplayPrefs(language="fa", digits="native", toman=True)
    assert money(Decimal("1250000"), "IRR", toman) == "۱۲۵٬۰۰۰\u00a0تومان"
    assert money(Decimal("1250000"), "IRR", DisplayPrefs(language="en", toman=True)) == (
        "125,000\u00a0Toman"
    )


def test_native_digits_apply_only_to_persian_and_arabic():
    english = DisplayPrefs(language="en", digits="native")
    assert format_number(1500, 0, english) == "1,500"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "3 days ago"), ("fa", "۳ روز پیش"), ("ar", "منذ ٣ أيام")],
)
def test_relative_time_is_translated_with_the_right_digits(language, expected):
    now = timezone.now()
    prefs = {"en": EN, "fa": FA, "ar": AR}[language]
    with using_prefs(prefs):
        assert relative(now - dt.timedelta(days=3, hours=2), now=now) == expected


def test_relative_time_in_the_future_and_just_now():
    now = timezone.now()
    with using_prefs(EN):
        assert relative(now + dt.timedelta(hours=2, minutes=1), now=now) == "in 2 hours"
        assert relative(now - dt.timedelta(seconds=10), now=now) == "just now"
        assert relative(now - dt.timedelta(days=400), now=now) == "1 year ago"


def test_local_datetime_uses_the_time_zone_and_calendar():
    moment = dt.datetime(2026, 11, 23, 20, 45, tzinfo=dt.UTC)
    with using_prefs(FA):
        timezone.activate("Asia/Tehran")
        try:
            # 20:45 UTC is 00:15 the next day in Tehran (UTC+3:30).
            assert local_datetime(moment) == "۱۴۰۵/۰۹/۰۳ ۰۰:۱۵"
        finally:
            timezone.deactivate()


def test_template_filters_read_the_current_preferences():
    template = Template(
        "{% load wasl %}{{ d|local_date }}|{{ amount|money:'IRR' }}|{{ n|digits }}|{{ n|number }}"
    )
    with using_prefs(FA):
        text = template.render(Context({"d": dt.date(2026, 11, 23), "amount": 5000, "n": 12345}))
    assert text == "۱۴۰۵/۰۹/۰۲|۵٬۰۰۰\u00a0ریال|۱۲۳۴۵|۱۲٬۳۴۵"


def test_date_input_shows_the_value_in_the_users_calendar():
    template = Template('{% load wasl %}{% date_input "due" d label="Due" %}')
    with using_prefs(FA):
        html = template.render(Context({"d": dt.date(2026, 3, 21)}))
    assert 'name="due"' in html
    assert 'value="۱۴۰۵/۰۱/۰۱"' in html
    assert '<label class="form-label" for="id_due">Due</label>' in html
    assert "waslDatepicker" in html


def test_calendar_date_field_reads_the_users_calendar():
    class DueForm(forms.Form):
        due = CalendarDateField()

    with using_prefs(FA):
        form = DueForm({"due": "۱۴۰۵/۰۹/۰۲"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["due"] == dt.date(2026, 11, 23)
        bad = DueForm({"due": "31/31/31"})
        assert not bad.is_valid()
