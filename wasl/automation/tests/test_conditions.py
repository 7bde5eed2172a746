"""Comparisons in rule conditions: numbers as numbers, whatever their spelling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from wasl.automation.conditions import compare, matches


@pytest.mark.parametrize(
    ("actual", "op", "expected", "holds"),
    [
        ("1,200", "gt", 1000, True),
        (" 1200 ", "eq", Decimal("1200.0"), True),
        (1200, "lte", "1200", True),
        (12.5, "lt", "12.6", True),
        (Decimal("NaN"), "eq", "NaN", True),  # not numbers: compared as text
        ("Infinity", "gt", 5, True),  # not a finite number: compared as text
        (True, "eq", 1, False),
        (None, "gt", 0, False),
        ("", "lt", 5, False),
        ("abc", "gt", 5, True),  # text orders after digits
        (dt.date(2026, 1, 2), "lt", "2026-02-01", True),
        (["7", "9"], "eq", 9, True),
    ],
)
def test_values_compare_as_numbers_when_both_read_as_numbers(actual, op, expected, holds):
    assert compare(actual, op, expected) is holds


def test_the_same_constant_compares_alike_against_many_records():
    band = {
        "all": [
            {"field": "budget", "op": "gte", "value": 300},
            {"field": "budget", "op": "lt", "value": "400"},
        ]
    }
    seen = [
        matches(band, {"record": {"budget": value}})
        for value in ("250", "300", "399.99", "400", "350", "x")
    ]
    assert seen == [False, True, True, False, True, False]
