"""The password rules speak the user's digits."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError

from wasl.core.formatting import using_prefs


def test_the_minimum_length_is_written_in_persian_digits_for_a_persian_user():
    with using_prefs(language="fa", digits="native"):
        help_texts = " ".join(password_validators_help_texts())
        with pytest.raises(ValidationError) as refused:
            validate_password("ab")
    assert "۸" in help_texts and "8" not in help_texts
    assert any("۸" in message and "8" not in message for message in refused.value.messages)


def test_latin_digits_stay_latin():
    with using_prefs(language="fa", digits="latin"):
        assert "8" in " ".join(password_validators_help_texts())
    with using_prefs(language="en", digits="native"):
        assert "8" in " ".join(password_validators_help_texts())
