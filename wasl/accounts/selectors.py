"""Reads of users and teams. Every signed-in user may list colleagues (to assign work)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wasl.accounts.models import ApiToken, Team, User
from wasl.accounts.tokens import PREFIX_LENGTH, hash_token
from wasl.core.visibility import Role


def user_list(*, actor: Any) -> QuerySet[User]:
    if not actor.is_active:
        return User.objects.none()
    return User.objects.select_related("team").order_by("username")


def team_list(*, actor: Any) -> QuerySet[Team]:
    if not actor.is_active:
        return Team.objects.none()
    return Team.objects.select_related("manager").order_by("name")


def token_list(
    *,
    actor: Any,
    user: User | None = None,
    prefix: str | None = None,
    active: bool | None = None,
) -> QuerySet[ApiToken]:
    """API tokens, newest first: an admin or the operator (actor=None) sees all, others
    their own. `prefix` matches the start shown in listings, or a whole token by its hash."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if actor is not None:
        if not actor.is_active:
            return ApiToken.objects.none()
        if actor.role != Role.ADMIN:
            tokens = tokens.filter(user_id=actor.pk)
    if user is not None:
        tokens = tokens.filter(user_id=user.pk)
    if prefix is not None:
        if len(prefix) > PREFIX_LENGTH:
            tokens = tokens.filter(key_hash=hash_token(prefix))
        else:
            tokens = tokens.filter(prefix__startswith=prefix)
    if active is not None:
        tokens = tokens.filter(revoked_at__isnull=active)
    return tokens
