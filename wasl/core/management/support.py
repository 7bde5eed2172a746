"""Helpers shared by the `wasl` management commands: one-line errors, no tracebacks."""

from __future__ import annotations

from django.core.management.base import CommandError

from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound


def describe(error: Exception) -> str:
    """One line for an operator: `field: message; other: message` for invalid input."""
    if isinstance(error, Invalid) and error.fields:
        parts = []
        for field, messages in error.fields.items():
            label = "" if field == "__all__" else f"{field}: "
            parts.append(label + " ".join(messages))
        return "; ".join(parts)
    return str(getattr(error, "message", "") or error)


def command_error(error: Invalid | NotFound | Forbidden | Conflict) -> CommandError:
    """Raise `from` a service error so `wasl` prints `CommandError: …` and exits 1."""
    return CommandError(describe(error))
