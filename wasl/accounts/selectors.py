"""Reads of users and teams. Every signed-in user may list colleagues (to assign work)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from wasl.accounts.models import ApiToken, Organisation, Team, User
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


ORGANISATION_CACHE_KEY = "wasl:organisation:v1"
# Other processes see a change within this many seconds when the cache is not shared.
ORGANISATION_CACHE_SECONDS = 60

# Regional defaults for a new organisation, by its phone region.
_REGION_DEFAULTS: dict[str, dict[str, Any]] = {
    "IR": {
        "calendar": "jalali",
        "digits": "native",
        "week_start": 5,
        "working_days": [5, 6, 0, 1, 2],
    },
    "AF": {
        "calendar": "jalali",
        "digits": "native",
        "week_start": 5,
        "working_days": [5, 6, 0, 1, 2],
    },
    "SA": {
        "calendar": "gregorian",
        "digits": "latin",
        "week_start": 6,
        "working_days": [6, 0, 1, 2, 3],
    },
}
_DEFAULTS: dict[str, Any] = {
    "calendar": "gregorian",
    "digits": "latin",
    "week_start": 0,
    "working_days": [0, 1, 2, 3, 4],
}


def organisation_defaults() -> dict[str, Any]:
    """The organisation a fresh installation starts with, from WASL_* settings."""
    region = settings.WASL_PHONE_REGION
    return {
        "currency": settings.WASL_CURRENCY,
        "phone_region": region,
        "time_zone": settings.WASL_TIME_ZONE,
        "language": "",
        **_REGION_DEFAULTS.get(region, _DEFAULTS),
    }


def organisation_get() -> Organisation:
    """The organisation's settings (cached). The row is created with the defaults of
    `organisation_defaults()` the first time anyone asks."""
    found: Organisation | None = cache.get(ORGANISATION_CACHE_KEY)
    if found is not None:
        return found
    found = Organisation.objects.filter(pk=1).first()
    if found is None:
        try:
            with transaction.atomic():
                found, _created = Organisation.objects.get_or_create(
                    pk=1, defaults=organisation_defaults()
                )
        except IntegrityError:  # another request created it first
            found = Organisation.objects.get(pk=1)
    cache.set(ORGANISATION_CACHE_KEY, found, ORGANISATION_CACHE_SECONDS)
    return found


def organisation_forget() -> None:
    """Drop the cached organisation (after a change, and between tests)."""
    cache.delete(ORGANISATION_CACHE_KEY)
