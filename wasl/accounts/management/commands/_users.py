"""Finding the user an operator names on the command line."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from wasl.accounts.models import User


def user_named(name: str) -> User:
    """The user with this user name (case-insensitive), or a one-line CommandError."""
    user = User.objects.select_related("team").filter(username__iexact=name.strip()).first()
    if user is None:
        raise CommandError(_("No user named %(name)r.") % {"name": name})
    return user
