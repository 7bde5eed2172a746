"""Validation helpers shared by services."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from wasl.core.errors import FieldErrors


def model_field_errors(
    instance: models.Model, errors: FieldErrors, *, exclude: Iterable[str] = ()
) -> None:
    """Add the model's own field validation (lengths, choices, types) to `errors`."""
    try:
        instance.clean_fields(exclude=list(exclude))
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                errors.add(field, message)


def clean_email(value: str) -> str:
    """A syntactically valid e-mail address, lowercased. Raises ValueError with a message."""
    text = (value or "").strip()
    if not text:
        raise ValueError(_("Enter an e-mail address."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(
            _("“%(value)s” is not a valid e-mail address.") % {"value": text[:100]}
        ) from error
    return result.normalized.lower()


class Unset:
    """Marks a keyword argument the caller did not pass (None is a real value)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset()
