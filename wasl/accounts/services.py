"""Writes on users, teams and API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.accounts.models import ApiToken, Organisation, Team, User
from wasl.accounts.selectors import organisation_forget, organisation_get
from wasl.accounts.tokens import PREFIX_LENGTH, TOKEN_PREFIX, hash_token
from wasl.core import events
from wasl.core.audit import diff, record_audit, snapshot
from wasl.core.errors import FieldErrors, Invalid
from wasl.core.models import AuditEntry, OwnedRecord, SearchEntry
from wasl.core.visibility import Role, require_admin

_USER_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "team",
    "is_active",
    "language",
    "calendar",
    "time_zone",
    "digits",
]


def _system_or_admin(actor: Any) -> None:
    """Operators at the shell act with actor=None; everyone else must be an admin."""
    if actor is not None:
        require_admin(actor)


def team_get_or_create(*, actor: Any, name: str) -> Team:
    """The team called `name`, created (and audited) when it does not exist yet."""
    _system_or_admin(actor)
    clean = (name or "").strip()
    if not clean:
        raise Invalid({"name": [_("Enter a team name.")]})
    with transaction.atomic():
        team = Team.objects.filter(name__iexact=clean).first()
        if team is None:
            team = Team.objects.create(name=clean)
            record_audit(
                actor=actor,
                action=AuditEntry.Action.CREATE,
                record=team,
                changes={"name": [None, clean]},
            )
        return team


def team_update(
    *, actor: Any, team: Team, name: str | None = None, manager: User | bool | None = False
) -> Team:
    """Rename a team or set its manager (pass manager=None to clear it)."""
    _system_or_admin(actor)
    with transaction.atomic():
        before = snapshot(team, ["name", "manager"])
        if name is not None:
            clean = name.strip()
            if not clean:
                raise Invalid({"name": [_("Enter a team name.")]})
            if Team.objects.filter(name__iexact=clean).exclude(pk=team.pk).exists():
                raise Invalid({"name": [_("A team with this name exists.")]})
            team.name = clean
        if manager is not False:
            team.manager = manager if isinstance(manager, User) else None
        team.save(update_fields=["name", "manager", "updated_at"])
        changes = diff(before, snapshot(team, ["name", "manager"]))
        if changes:
            record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=team, changes=changes)
        return team


def user_create(
    *,
    actor: Any,
    username: str,
    role: str = Role.REP,
    team_name: str | None = None,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a user with a role and an optional team (created if needed).

    Without a password the account cannot sign in until one is set. Raises Invalid.
    """
    _system_or_admin(actor)
    errors = FieldErrors()
    username = (username or "").strip()
    if not username:
        errors.add("username", _("Enter a user name."))
    elif User.objects.filter(username__iexact=username).exists():
        errors.add("username", _("This user name is taken."))
    if role not in Role.values:
        errors.add("role", _("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)})
    if password:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as error:
            for message in error.messages:
                errors.add("password", message)
    errors.raise_if_any()
    with transaction.atomic():
        team = team_get_or_create(actor=actor, name=team_name) if team_name else None
        user = User(
            username=username,
            role=role,
            team=team,
            email=(email or "").strip().lower(),
            first_name=first_name,
            last_name=last_name,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=user,
            changes={k: [None, v] for k, v in snapshot(user, _USER_FIELDS).items()},
        )
        events.emit("user.created", user, actor)
        return user


def user_update(*, actor: Any, user: User, **fields: Any) -> User:
    """Change a user's profile, role, team or active flag (admins only)."""
    _system_or_admin(actor)
    allowed = set(_USER_FIELDS) - {"username"}
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid({name: [_("This field cannot be changed.")] for name in unknown})
    if "role" in fields and fields["role"] not in Role.values:
        raise Invalid(
            {"role": [_("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}]}
        )
    with transaction.atomic():
        before = snapshot(user, _USER_FIELDS)
        for name, value in fields.items():
            setattr(user, name, value)
        if "role" in fields:
            user.is_staff = user.is_superuser = user.role == Role.ADMIN
        user.save()
        changes = diff(before, snapshot(user, _USER_FIELDS))
        if changes:
            record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=user, changes=changes)
        return user


def user_set_preferences(
    *,
    actor: User,
    language: str | None = None,
    calendar: str | None = None,
    time_zone: str | None = None,
    digits: str | None = None,
) -> User:
    """A user changes their own language, calendar, time zone or digits."""
    errors = FieldErrors()
    if language is not None and language not in {"", "en", "fa", "ar"}:
        errors.add("language", _("Choose en, fa or ar."))
    if calendar is not None and calendar not in {"", *User.Calendar.values}:
        errors.add("calendar", _("Choose a known calendar."))
    if digits is not None and digits not in {"", *User.Digits.values}:
        errors.add("digits", _("Choose native or latin digits."))
    if time_zone:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.add("time_zone", _("Unknown time zone."))
    errors.raise_if_any()
    changes = {
        k: v
        for k, v in {
            "language": language,
            "calendar": calendar,
            "time_zone": time_zone,
            "digits": digits,
        }.items()
        if v is not None
    }
    return user_update(actor=None, user=actor, **changes)


def token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns the row and the plaintext (shown once)."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    clean = (name or "").strip()
    if not clean:
        raise Invalid({"name": [_("Name the token.")]})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=clean[:120],
            prefix=plaintext[:PREFIX_LENGTH],
            key_hash=hash_token(plaintext),
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=user,
            data={"api_token": token.prefix},
        )
    return token, plaintext


def token_revoke(*, actor: Any, token: ApiToken) -> None:
    if actor is not None and actor.pk != token.user_id:
        require_admin(actor)
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record=token.user,
            data={"api_token_revoked": token.prefix},
        )


def token_authenticate(plaintext: str) -> User | None:
    """The active user owning this token, or None. Marks the token used (cheaply)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(plaintext), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def owned_record_models() -> list[type[OwnedRecord]]:
    return [m for m in apps.get_models() if issubclass(m, OwnedRecord)]


def user_reassign_records(*, actor: Any, from_user: User, to_user: User) -> dict[str, int]:
    """Give every record `from_user` owns to `to_user` (e.g. when an employee leaves).

    One audit row per record, all in one transaction. Returns counts per model label.
    """
    _system_or_admin(actor)
    if from_user.pk == to_user.pk:
        raise Invalid({"to_user": [_("Choose a different user.")]})
    if not to_user.is_active:
        raise Invalid({"to_user": [_("This user is not active.")]})
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model in owned_record_models():
            ids = list(
                model._default_manager.filter(owner_id=from_user.pk).values_list("pk", flat=True)
            )
            if not ids:
                continue
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                model._default_manager.filter(pk__in=chunk).update(
                    owner_id=to_user.pk, team_id=to_user.team_id, updated_at=timezone.now()
                )
                records = model._default_manager.filter(pk__in=chunk)
                AuditEntry.objects.bulk_create(
                    [
                        AuditEntry(
                            actor_id=getattr(actor, "pk", None),
                            action=AuditEntry.Action.ASSIGN,
                            content_type_id=_content_type_id(model),
                            object_id=record.pk,
                            object_public_id=record.public_id,
                            object_repr=str(record)[:300],
                            changes={"owner": [str(from_user.public_id), str(to_user.public_id)]},
                        )
                        for record in records
                    ]
                )
                events.emit(
                    "records.reassigned",
                    None,
                    actor,
                    {
                        "model": model._meta.label_lower,
                        "ids": chunk,
                        "from_user": from_user.pk,
                        "to_user": to_user.pk,
                    },
                )
            counts[model._meta.label_lower] = len(ids)
        SearchEntry.objects.filter(owner_id=from_user.pk).update(
            owner_id=to_user.pk, team_id=to_user.team_id
        )
    return counts


def _content_type_id(model: type[Any]) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model).pk


ORGANISATION_FIELDS = [
    "name",
    "currency",
    "show_toman",
    "phone_region",
    "language",
    "calendar",
    "time_zone",
    "digits",
    "week_start",
    "working_days",
    "churn_after_days",
]


def organisation_update(*, actor: Any, **fields: Any) -> Organisation:
    """Change the organisation's defaults (admins only); audited. Raises Invalid (nothing
    written) or Forbidden."""
    _system_or_admin(actor)
    import zoneinfo

    import phonenumbers

    errors = FieldErrors()
    for name in set(fields) - set(ORGANISATION_FIELDS):
        errors.add(name, _("This field cannot be changed."))
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            errors.add("currency", _("Use a three-letter ISO currency code, e.g. IRR or SAR."))
        fields["currency"] = currency
    if "phone_region" in fields:
        region = str(fields["phone_region"] or "").strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            errors.add("phone_region", _("Use a two-letter country code, e.g. IR or AE."))
        fields["phone_region"] = region
    if "language" in fields and fields["language"] not in {"", "en", "fa", "ar"}:
        errors.add("language", _("Choose en, fa or ar."))
    if "calendar" in fields and fields["calendar"] not in User.Calendar.values:
        errors.add("calendar", _("Choose a known calendar."))
    if "digits" in fields and fields["digits"] not in User.Digits.values:
        errors.add("digits", _("Choose native or latin digits."))
    if "time_zone" in fields:
        try:
            zoneinfo.ZoneInfo(str(fields["time_zone"] or ""))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.add("time_zone", _("Unknown time zone."))
    if "week_start" in fields and fields["week_start"] not in Organisation.Weekday.values:
        errors.add("week_start", _("Choose a day of the week."))
    if "working_days" in fields:
        days = fields["working_days"]
        if not isinstance(days, list | tuple) or not all(
            d in Organisation.Weekday.values for d in days
        ):
            errors.add("working_days", _("Choose days of the week."))
        else:
            fields["working_days"] = sorted({int(d) for d in days})
    if "churn_after_days" in fields:
        days = fields["churn_after_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            errors.add("churn_after_days", _("Enter a number of days from 1 to 3650."))
    if "name" in fields:
        fields["name"] = str(fields["name"] or "").strip()[:200]
    errors.raise_if_any()
    organisation_forget()
    current = organisation_get()
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=current.pk)
        before = snapshot(organisation, ORGANISATION_FIELDS)
        for name, value in fields.items():
            setattr(organisation, name, value)
        organisation.save(update_fields=[*fields, "updated_at"])
        changes = diff(before, snapshot(organisation, ORGANISATION_FIELDS))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=organisation, changes=changes
            )
    # After the block: a reader must not cache the old row between the write and commit.
    organisation_forget()
    return organisation
