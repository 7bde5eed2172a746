"""Shared by `wasl import` and `wasl export`."""

from __future__ import annotations

from django.core.management.base import CommandError

from wasl.accounts.models import User


def acting_user(name: str | None) -> User:
    """The user named with --as, else the first active administrator."""
    if name:
        user = User.objects.filter(username__iexact=name.strip()).first()
        if user is None:
            raise CommandError(f"No user named {name!r}.")
        return user
    user = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if user is None:
        raise CommandError("Name the importing user with --as USER (there is no administrator).")
    return user
