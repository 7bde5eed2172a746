from __future__ import annotations

import pytest
from django.test import override_settings

from wasl.core.phones import PhoneError, parse_phone, query_digits, significant_digits

SAME_IRANIAN_MOBILE = [
    "+98 912 345 6789",
    "09123456789",
    "۰۹۱۲۳۴۵۶۷۸۹",
    "0098-912-345-6789",
    "+989123456789",
    "٠٩١٢٣٤٥٦٧٨٩",
    "(0912) 345 6789",
]


@pytest.mark.parametrize("written", SAME_IRANIAN_MOBILE)
def test_iranian_mobile_in_any_written_form_parses_to_one_e164(written):
    assert parse_phone(written, "IR") == "+989123456789"


@pytest.mark.parametrize("written", SAME_IRANIAN_MOBILE)
@pytest.mark.parametrize("region", ["IR", "AE", "US", "DE"])
def test_query_digits_match_the_stored_significant_digits_whatever_the_region(written, region):
    with override_settings(WASL_PHONE_REGION=region):
        assert query_digits(written) == significant_digits("+989123456789") == "9123456789"


@pytest.mark.parametrize(
    ("written", "region", "e164"),
    [
        ("050 123 4567", "AE", "+971501234567"),
        ("+971 50 123 4567", "IR", "+971501234567"),
        ("0501234567", "SA", "+966501234567"),
        ("+1 (415) 555-2671", "IR", "+14155552671"),
        ("021 8888 7777", "IR", "+982188887777"),
    ],
)
def test_gulf_and_other_formats(written, region, e164):
    assert parse_phone(written, region) == e164


@pytest.mark.parametrize("bad", ["", "abc", "12", "+98 12"])
def test_non_numbers_are_refused_with_a_message(bad):
    with pytest.raises(PhoneError) as error:
        parse_phone(bad, "IR")
    assert str(error.value)
