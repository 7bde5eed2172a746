"""Exchange rates: conversion on a date, missing rates, and the admin-only service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from wasl.core.errors import Forbidden, Invalid
from wasl.core.models import AuditEntry
from wasl.reports.models import ExchangeRate
from wasl.reports.money import (
    TOO_LARGE,
    MoneyTotal,
    RateTable,
    delete_rate,
    missing_rate_warnings,
    set_rate,
)

D = dt.date


@pytest.fixture
def rates(db, settings):
    from wasl.accounts.selectors import organisation_get

    currency = organisation_get().currency
    assert currency != "USD"
    set_rate(actor=None, currency="usd", rate_date=D(2026, 1, 1), rate="1000")
    set_rate(actor=None, currency="USD", rate_date=D(2026, 2, 1), rate="1200")
    return RateTable.load(currency)


def test_convert_uses_the_latest_rate_on_or_before_the_date(rates):
    assert rates.convert(Decimal("10"), "USD", D(2026, 1, 31)) == Decimal("10000.00")
    assert rates.convert(Decimal("10"), "USD", D(2026, 2, 1)) == Decimal("12000.00")
    assert rates.convert(Decimal("10"), "USD", D(2027, 1, 1)) == Decimal("12000.00")
    # Before the first rate, the earliest one is used.
    assert rates.convert(Decimal("10"), "USD", D(2025, 6, 1)) == Decimal("10000.00")
    assert rates.convert(Decimal("10"), rates.currency, D(2020, 1, 1)) == Decimal("10.00")
    assert rates.convert(Decimal("10"), "GBP", D(2026, 1, 1)) is None


def test_a_total_leaves_out_unconvertible_amounts_and_warns(rates):
    total = MoneyTotal(rates)
    total.add(Decimal("1"), "USD", D(2026, 2, 2))
    total.add(Decimal("5"), rates.currency, D(2026, 2, 2))
    total.add(Decimal("7"), "GBP", D(2026, 2, 2), count=2)
    assert total.total == Decimal("1205.00")
    assert total.missing == {"GBP": 2}
    assert total.warnings() == [
        "2 deals in GBP have no exchange rate and are left out of the amounts."
    ]


def test_deals_too_large_to_add_up_are_named_apart_in_each_language():
    missing = {"GBP": 2, "IRR" + TOO_LARGE: 1, "USD": 0}
    assert missing_rate_warnings(missing) == [
        "2 deals in GBP have no exchange rate and are left out of the amounts.",
        "1 deal in IRR is worth too much to add up and is left out of the amounts.",
    ]
    with translation.override("fa"):
        no_rate, too_large = missing_rate_warnings(missing)
    assert "نرخ ارز" in no_rate
    assert too_large.startswith("1 معامله به IRR بزرگ‌تر از آن است")
    with translation.override("ar"):
        assert "تتجاوز قيمتها" in missing_rate_warnings(missing)[1]


def test_setting_a_rate_again_replaces_it_with_an_audit_row(rates, personas):
    rate = set_rate(actor=personas.admin, currency="USD", rate_date="2026-02-01", rate="1300")
    assert ExchangeRate.objects.get(currency="USD", rate_date=D(2026, 2, 1)).rate == 1300
    entry = AuditEntry.objects.filter(object_public_id=rate.public_id, action="update").get()
    assert entry.actor_id == personas.admin.pk
    assert entry.changes == {"rate": ["1200.00000000", "1300.00000000"]}
    delete_rate(actor=personas.admin, rate=rate)
    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    assert AuditEntry.objects.filter(object_public_id=rate.public_id, action="delete").exists()


def test_only_admins_change_rates(rates, personas):
    for user in (personas.manager_a, personas.rep_a, personas.readonly):
        with pytest.raises(Forbidden):
            set_rate(actor=user, currency="EUR", rate_date=D(2026, 1, 1), rate="2")
    with pytest.raises(Forbidden):
        delete_rate(actor=personas.manager_a, rate=ExchangeRate.objects.first())
    assert not ExchangeRate.objects.filter(currency="EUR").exists()


@pytest.mark.parametrize(
    ("currency", "rate_date", "rate", "field"),
    [
        ("US", "2026-01-01", "1", "currency"),
        ("EUR", "01/01/2026", "1", "rate_date"),
        ("EUR", "2026-01-01", "0", "rate"),
        ("EUR", "2026-01-01", "abc", "rate"),
    ],
)
def test_bad_rates_are_refused(db, currency, rate_date, rate, field):
    with pytest.raises(Invalid) as error:
        set_rate(actor=None, currency=currency, rate_date=rate_date, rate=rate)
    assert field in error.value.fields
    assert not ExchangeRate.objects.exists()


def test_the_missing_rate_warning_counts_in_the_users_digits(db):
    from django.utils import translation

    from wasl.core.formatting import using_prefs
    from wasl.reports.money import missing_rate_warnings

    with translation.override("fa"), using_prefs(language="fa", digits="native"):
        (warning,) = missing_rate_warnings({"GBP": 12})
    assert "۱۲" in warning and "12" not in warning


def test_a_zones_offsets_over_a_range_change_where_the_zone_changes():
    from zoneinfo import ZoneInfo

    from wasl.reports.money import utc_offsets

    utc = dt.UTC
    low, high = dt.datetime(2026, 1, 1, tzinfo=utc), dt.datetime(2026, 12, 31, tzinfo=utc)
    assert utc_offsets(ZoneInfo("Europe/London"), low, high) == [
        (low, 0),
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=utc), 60),
        (dt.datetime(2026, 10, 25, 1, 0, tzinfo=utc), 0),
    ]
    assert utc_offsets(ZoneInfo("Asia/Tehran"), low, high) == [(low, 210)]
    # Tehran kept daylight saving time until 2022: its last change, to the minute.
    found = utc_offsets(
        ZoneInfo("Asia/Tehran"),
        dt.datetime(2022, 9, 1, tzinfo=utc),
        dt.datetime(2022, 10, 1, tzinfo=utc),
    )
    assert found[1:] == [(dt.datetime(2022, 9, 21, 19, 30, tzinfo=utc), 210)]


@pytest.mark.parametrize("zone", ["Europe/London", "America/Sao_Paulo", "Asia/Tehran"])
def test_a_moments_local_day_is_the_days_python_gives_in_the_database(db, zone):
    """`local_date` (SQLite's own `date()` with the zone's offsets over the range, else
    `TruncDate`) gives each moment the day Python's time zones give it, across ten years
    of the zone's changes of offset and around local midnight. (Any datetime column
    does: the moments are written as delivered events' delivery times.)"""
    from zoneinfo import ZoneInfo

    from wasl.core.models import OutboxEvent
    from wasl.reports.money import local_date

    tz = ZoneInfo(zone)
    base = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
    moments = [
        base + dt.timedelta(hours=7 * step, minutes=step % 60) for step in range(0, 13000, 7)
    ]
    OutboxEvent.objects.bulk_create(
        [OutboxEvent(name="test.moment", data={}, dispatched_at=moment) for moment in moments]
    )
    rows = (
        OutboxEvent.objects.filter(name="test.moment")
        .annotate(day=local_date("dispatched_at", tz, (moments[0], moments[-1])))
        .values_list("dispatched_at", "day")
    )
    days = {moment: day for moment, day in rows}
    assert len(days) == len(moments)
    assert days == {moment: moment.astimezone(tz).date() for moment in moments}
