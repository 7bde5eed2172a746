"""Reads of users and teams. Every signed-in user may list colleagues (to assign work)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wasl.accounts.models import Team, User


def user_list(*, actor: Any) -> QuerySet[User]:
    if not actor.is_active:
        return User.objects.none()
    return User.objects.select_related("team").order_by("username")


def team_list(*, actor: Any) -> QuerySet[Team]:
    if not actor.is_active:
        return Team.objects.none()
    return Team.objects.select_related("manager").order_by("name")
