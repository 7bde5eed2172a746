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
