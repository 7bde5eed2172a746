"""Phone numbers: parsed with `phonenumbers`, stored E.164, matched on significant digits."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

from wasl.core.text import ascii_digits


class PhoneError(ValueError):
    """The text is not a phone number we can store."""


def parse_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of `raw`, read in `region` (default: the organisation's)
    when it carries no country code. Raises PhoneError with a translated message."""
    text = (raw or "").strip()
    digits = ascii_digits(text)
    if not digits:
        raise PhoneError(_("Enter a phone number."))
    if text.lstrip().startswith("00"):
        candidate = "+" + digits[2:]
    elif text.lstrip().startswith("+"):
        candidate = "+" + digits
    else:
        candidate = digits
    try:
        number = phonenumbers.parse(candidate, region or settings.WASL_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise PhoneError(_("“%(value)s” is not a phone number.") % {"value": raw}) from error
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(_("“%(value)s” is not a possible phone number.") % {"value": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def significant_digits(e164: str) -> str:
    """The national significant number of a stored E.164 phone (no country code, no trunk 0)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ascii_digits(e164).lstrip("0")
    return phonenumbers.national_significant_number(number)


def query_digits(raw: str) -> str:
    """Significant digits of a phone typed in a search box, in any written form.

    `+98 912 345 6789`, `0098 912...`, `09123456789` and `۰۹۱۲۳۴۵۶۷۸۹` all give
    `9123456789`, whatever the default region, so they match the stored number.
    """
    text = raw.strip()
    digits = ascii_digits(text)
    if text.startswith("+") or text.startswith("00"):
        international = "+" + (digits[2:] if text.startswith("00") else digits)
        try:
            number = phonenumbers.parse(international, None)
            return phonenumbers.national_significant_number(number)
        except phonenumbers.NumberParseException:
            return digits.lstrip("0")
    return digits.lstrip("0")


def format_phone(e164: str) -> str:
    """Human form of a stored number: national format at home, international abroad."""
    return _formatted(e164, settings.WASL_PHONE_REGION)


@functools.lru_cache(maxsize=8192)
def _formatted(e164: str, home_region: str) -> str:
    # Parsing and formatting cost ~0.2 ms a number; lists show the same numbers again and again.
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == home_region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
