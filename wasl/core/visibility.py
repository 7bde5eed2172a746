"""The one visibility rule: which customer records an actor may see and change.

Admins see everything. Managers and read-only users see the records of the teams they
belong to or manage. Reps see the records they own. Anyone also sees records shared with
them (`RecordShare`). Read-only users never write.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wasl.core.errors import Forbidden
from wasl.core.models import RecordShare

ModelT = TypeVar("ModelT", bound=models.Model)

# Above this many shares of one kind, a subquery is cheaper than an inlined id list.
_INLINE_SHARES_LIMIT = 500


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Sales manager")
    REP = "rep", _("Sales rep")
    READONLY = "readonly", _("Read-only")


class Actor(Protocol):
    pk: Any
    role: str
    is_active: bool
    is_authenticated: bool

    def scope_team_ids(self) -> frozenset[int]: ...


def is_admin(actor: Actor) -> bool:
    return bool(actor.is_active and actor.role == Role.ADMIN)


def _share_clause(actor: Actor, model: type[models.Model], pk_field: str = "pk") -> Q | None:
    content_type = ContentType.objects.get_for_model(model)
    shares = RecordShare.objects.filter(content_type=content_type, user_id=actor.pk)
    ids = list(shares.values_list("object_id", flat=True)[: _INLINE_SHARES_LIMIT + 1])
    if not ids:
        return None
    if len(ids) > _INLINE_SHARES_LIMIT:
        return Q(**{f"{pk_field}__in": shares.values("object_id")})
    return Q(**{f"{pk_field}__in": ids})


def visible_q(
    actor: Actor,
    model: type[models.Model],
    *,
    owner_field: str = "owner_id",
    team_field: str = "team_id",
    pk_field: str = "pk",
) -> Q | None:
    """The filter an actor's view of `model` needs; None means no restriction (admin).

    Returns a filter matching nothing for inactive or anonymous actors.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Q(pk__in=[])
    if actor.role == Role.ADMIN:
        return None
    clause = Q(**{owner_field: actor.pk})
    if actor.role in (Role.MANAGER, Role.READONLY):
        team_ids = actor.scope_team_ids()
        if team_ids:
            clause |= Q(**{f"{team_field}__in": sorted(team_ids)})
    shared = _share_clause(actor, model, pk_field)
    if shared is not None:
        clause |= shared
    return clause


def visible(queryset: QuerySet[ModelT], actor: Actor) -> QuerySet[ModelT]:
    """Narrow `queryset` to the rows `actor` may see. Every selector starts here."""
    clause = visible_q(actor, queryset.model)
    return queryset if clause is None else queryset.filter(clause)


def can_see(actor: Actor, record: Any) -> bool:
    clause = visible_q(actor, type(record))
    if clause is None:
        return True
    return type(record)._default_manager.filter(clause, pk=record.pk).exists()


def can_write(actor: Actor, record: Any) -> bool:
    """Whether `actor` may change or delete `record` (which they are known to see)."""
    if not actor.is_active or actor.role == Role.READONLY:
        return False
    if actor.role == Role.ADMIN or record.owner_id == actor.pk:
        return True
    if actor.role == Role.MANAGER and record.team_id in actor.scope_team_ids():
        return True
    content_type = ContentType.objects.get_for_model(type(record))
    return RecordShare.objects.filter(
        content_type=content_type, object_id=record.pk, user_id=actor.pk, can_write=True
    ).exists()


def require_write(actor: Actor, record: Any) -> None:
    if not can_write(actor, record):
        raise Forbidden()


def require_can_create(actor: Actor) -> None:
    if not actor.is_active or actor.role == Role.READONLY:
        raise Forbidden()


def can_assign_to(actor: Actor, owner: Any) -> bool:
    """Whether `actor` may make `owner` the owner of a record."""
    if not actor.is_active or actor.role == Role.READONLY or not owner.is_active:
        return False
    if actor.role == Role.ADMIN or owner.pk == actor.pk:
        return True
    if actor.role == Role.MANAGER:
        return owner.team_id is not None and owner.team_id in actor.scope_team_ids()
    return False


def require_assign_to(actor: Actor, owner: Any) -> None:
    if not can_assign_to(actor, owner):
        raise Forbidden(str(_("You cannot give records to this user.")))


def require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise Forbidden()
