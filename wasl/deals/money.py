"""Cleaning money, percentages and currency codes given by users."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from wasl.core.errors import FieldErrors

CENT = Decimal("0.01")
# Deal and product amounts are DecimalField(max_digits=20, decimal_places=2).
MAX_MONEY = Decimal("1e18") - CENT
_CURRENCY = re.compile(r"[A-Z]{3}")


def clean_decimal(
    value: Any,
    errors: FieldErrors,
    field: str,
    *,
    places: int = 2,
    minimum: Decimal = Decimal("0"),
    maximum: Decimal = MAX_MONEY,
) -> Decimal | None:
    """`value` as a Decimal rounded to `places`, or None with a message added to `errors`."""
    if isinstance(value, bool) or value is None:
        errors.add(field, _("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors.add(field, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(field, _("Enter a number."))
        return None
    number = number.quantize(Decimal(1).scaleb(-places))
    if number < minimum:
        errors.add(field, _("Enter at least %(min)s.") % {"min": minimum})
        return None
    if number > maximum:
        errors.add(field, _("Enter at most %(max)s.") % {"max": maximum})
        return None
    return number


def clean_money(value: Any, errors: FieldErrors, field: str) -> Decimal | None:
    """A non-negative amount with two decimals."""
    return clean_decimal(value, errors, field)


def clean_percent(value: Any, errors: FieldErrors, field: str) -> Decimal | None:
    return clean_decimal(value, errors, field, maximum=Decimal("100"))


def clean_currency(value: Any, errors: FieldErrors, field: str = "currency") -> str:
    """An ISO 4217 style code: three letters, returned uppercase."""
    code = str(value or "").strip().upper()
    if not _CURRENCY.fullmatch(code):
        errors.add(field, _("Enter a three-letter currency code such as IRR, AED or USD."))
        return ""
    return code
