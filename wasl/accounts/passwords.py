"""Password validators whose messages count in the user's digits (Django's write the
minimum length with Latin digits whatever the language)."""

from __future__ import annotations

from django.contrib.auth import password_validation

from wasl.core.formatting import digits


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return digits(super().get_error_message())

    def get_help_text(self) -> str:
        return digits(super().get_help_text())
