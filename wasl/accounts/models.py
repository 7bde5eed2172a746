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


class Organisation(TimeStampedModel):
    """The one row of organisation-wide defaults: name, money, phones, calendar and week.

    Users' empty preferences fall back to these. Read it with
    `wasl.accounts.selectors.organisation_get()` (cached), change it with
    `wasl.accounts.services.organisation_update()`.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    name = models.CharField(_("name"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    show_toman = models.BooleanField(_("show rial amounts in toman"), default=False)
    phone_region = models.CharField(_("region for phone numbers"), max_length=2)
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Empty: each browser's language."),
    )
    calendar = models.CharField(
        _("calendar"), max_length=12, choices=User.Calendar.choices, default="gregorian"
    )
    time_zone = models.CharField(_("time zone"), max_length=64)
    digits = models.CharField(
        _("digits"), max_length=8, choices=User.Digits.choices, default="latin"
    )
    week_start = models.PositiveSmallIntegerField(
        _("first day of the week"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    working_days = models.JSONField(_("working days"), default=list, blank=True)
    churn_after_days = models.PositiveSmallIntegerField(
        _("days without a sale or activity before a customer counts as churned"), default=90
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="organisation_single")]

    def __str__(self) -> str:
        return self.name or str(_("Organisation"))
