"""Errors that services and access functions raise; the API and pages map them to responses."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _


class NotFound(Exception):
    """The record does not exist or the actor may not see it (never say which)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(_("Not found.")))
        self.message = message or str(_("Not found."))


class Forbidden(Exception):
    """The actor sees the record but may not do this to it."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(_("You do not have permission to do this.")))
        self.message = message or str(_("You do not have permission to do this."))


class Invalid(Exception):
    """Input failed validation; `fields` maps each field name to its messages."""

    def __init__(self, fields: Mapping[str, list[str] | str], message: str | None = None) -> None:
        normalised = {
            key: [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
            for key, value in fields.items()
        }
        self.fields: dict[str, list[str]] = normalised
        self.message = message or str(_("Some fields are not valid."))
        super().__init__(self.message)


class Conflict(Exception):
    """The state changed under the request (e.g. a lead already converted)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldErrors:
    """Collects per-field messages while validating, then raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(str(message))

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise Invalid(self.fields)
