"""Finding the user an operator names on the command line."""

from __future__ import annotations

from django.core.management.base import CommandError

from wasl.accounts.models import User


def user_named(name: str) -> User:
    """The user with this user name (case-insensitive), or a one-line CommandError."""
    user = User.objects.select_related("team").filter(username__iexact=name.strip()).first()
    if user is None:
        raise CommandError(f"No user named {name!r}.")
    return user
