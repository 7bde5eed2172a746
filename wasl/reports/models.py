"""Exchange rates: what one unit of a currency is worth in the organisation's currency on
a date. Reports convert deal amounts with the latest rate on or before the deal's date."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.core.models import PublicIdModel, TimeStampedModel


class ExchangeRate(PublicIdModel, TimeStampedModel):
    currency = models.CharField(_("currency"), max_length=3)
    rate_date = models.DateField(_("date"))
    # One unit of `currency` in the organisation's currency.
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=8)

    class Meta:
        ordering = ["currency", "-rate_date"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "rate_date"], name="exchange_rate_currency_date"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_date.isoformat()}: {self.rate}"


class Dashboard(PublicIdModel, TimeStampedModel):
    """A user's own KPI dashboard; without one they see their role's default."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard"
    )

    class Meta:
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")

    def __str__(self) -> str:
        return str(_("Dashboard of %(user)s") % {"user": self.owner_id})


class DashboardCard(models.Model):
    """One card of a dashboard: `figure:<KPI key>` or `chart:<report key>:<n>`."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="cards")
    ref = models.CharField(_("card"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("dashboard card")
        verbose_name_plural = _("dashboard cards")
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "ref"], name="dashboard_card_once"),
        ]

    def __str__(self) -> str:
        return self.ref
