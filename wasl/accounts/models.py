"""Users, teams (branches) and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.core.models import PublicIdModel, TimeStampedModel
from wasl.core.visibility import Role


class Team(PublicIdModel, TimeStampedModel):
    """A sales team or branch. Its manager sees every record of the team."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(PublicIdModel, AbstractUser):
    class Calendar(models.TextChoices):
        GREGORIAN = "gregorian", _("Gregorian")
        JALALI = "jalali", _("Jalali (Persian)")
        HIJRI = "hijri", _("Hijri")

    class Digits(models.TextChoices):
        NATIVE = "native", _("Native digits")
        LATIN = "latin", _("Latin digits")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    calendar = models.CharField(_("calendar"), max_length=12, choices=Calendar.choices, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    digits = models.CharField(_("digits"), max_length=8, choices=Digits.choices, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def scope_team_ids(self) -> frozenset[int]:
        """Teams whose records this user sees as a manager or read-only member."""
        cached: frozenset[int] | None = getattr(self, "_scope_team_ids", None)
        if cached is None:
            ids = set(Team.objects.filter(manager_id=self.pk).values_list("pk", flat=True))
            if self.team_id:
                ids.add(self.team_id)
            cached = frozenset(ids)
            self._scope_team_ids = cached
        return cached


class ApiToken(TimeStampedModel):
    """A personal API token. Only its SHA-256 hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
