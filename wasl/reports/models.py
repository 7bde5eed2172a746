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


class CustomerAttribution(models.Model):
    """The customer a deal or an activity belongs to, and when it touched that customer:
    every deal has a row (a touch when won, at its close), and every done activity but a
    note (a touch when it was done). Attributed as `wasl.reports.touches` says. Derived
    data: rebuilt from the records, kept current from the outbox, never edited by hand.
    The links carry no database constraint: the summary removes its own rows."""

    class CustomerKind(models.TextChoices):
        COMPANY = "company", _("Company")
        CONTACT = "contact", _("Person")

    deal = models.OneToOneField(
        "deals.Deal",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="customer_attribution",
    )
    activity = models.OneToOneField(
        "activities.Activity",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="customer_attribution",
    )
    customer_kind = models.CharField(max_length=7, choices=CustomerKind.choices)
    customer_id = models.BigIntegerField()
    touched_at = models.DateTimeField(null=True)
    # A deal's money as the deal has it (none for an activity), so a customer's revenue
    # is summed from the purchases index alone.
    currency = models.CharField(max_length=3, blank=True, db_default="")
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    # A purchase's amount in the organisation's currency, in cents, at the rate of its
    # local close day: none for a currency without a rate and for anything but a
    # purchase. Converted when the row is written, and every purchase again when the
    # rates, the organisation's currency or its time zone change
    # (`touches.ensure_converted`), so revenue is summed as integers (migration 0012).
    value_cents = models.BigIntegerField(null=True)
    # A deal's owner, team and pipeline as the deal has them (none for an activity), so a
    # viewer's purchases are picked by the visibility rule on these rows alone rather
    # than by a probe of each deal (reports migration 0010).
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    pipeline_id = models.BigIntegerField(null=True)
    # An open deal's expected close (none once it is won or lost, or without one), so the
    # at-risk report counts each customer's overdue deals from one index (migration 0011).
    open_due = models.DateField(null=True)
    # A deal's customer's (company's or contact's) owner and team (none for an activity),
    # so the visibility rule for customers is a condition on these rows alone rather than
    # a probe of each company and contact (reports migration 0013). A customer given to
    # another owner has its rows rewritten by the fold (`touches.refresh_customer_owners`).
    customer_owner_id = models.BigIntegerField(null=True)
    customer_team_id = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = _("customer attribution")
        verbose_name_plural = _("customer attributions")
        indexes = [
            models.Index(
                fields=["customer_kind", "customer_id", "touched_at"], name="customer_touches"
            ),
            # Each customer's purchases (won deals): the first, and the revenue by
            # currency, read in customer order from the index alone, for any viewer.
            models.Index(
                fields=[
                    "customer_kind",
                    "customer_id",
                    "touched_at",
                    "currency",
                    "amount",
                    "value_cents",
                    "deal",
                    "owner_id",
                    "team_id",
                    "pipeline_id",
                    "customer_owner_id",
                    "customer_team_id",
                ],
                condition=models.Q(deal__isnull=False, touched_at__isnull=False),
                name="customer_purchases",
            ),
            # Each customer's last activity before a moment, from the index alone.
            models.Index(
                fields=["customer_kind", "customer_id", "touched_at"],
                condition=models.Q(activity__isnull=False),
                name="customer_activities",
            ),
            # The purchases of a stretch of time with their money (the KPIs' lifetime
            # value, a range a period). The amount's condition, always true of the rows
            # summed, is stated only by the statements meant to read it: led by the time,
            # the index would otherwise draw SQLite's planner from the customer-led ones.
            models.Index(
                fields=["touched_at", "currency", "amount", "value_cents", "deal"],
                condition=models.Q(
                    deal__isnull=False, touched_at__isnull=False, amount__isnull=False
                ),
                name="customer_purchase_time",
            ),
            # A deal's customer joined to deal queries from the index alone.
            models.Index(
                fields=["deal", "customer_kind", "customer_id"],
                condition=models.Q(deal__isnull=False),
                name="customer_of_deal",
            ),
            # The open deals past a day with their customer and the columns of the
            # viewer's scope, read from the index alone.
            models.Index(
                fields=[
                    "open_due",
                    "customer_kind",
                    "customer_id",
                    "deal",
                    "owner_id",
                    "team_id",
                    "pipeline_id",
                ],
                condition=models.Q(open_due__isnull=False),
                name="customer_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_kind} {self.customer_id}"


class CustomerEpisode(models.Model):
    """A stretch of time a customer was in touch: from its first touch of a run of touches
    no more than N days apart (N: the organisation's churn days) to N days after the last.
    The customer is in touch at a moment m when `starts_at < m <= ends_at`. A customer's
    episodes never overlap, so counting episodes at a moment counts customers."""

    customer_kind = models.CharField(max_length=7, choices=CustomerAttribution.CustomerKind.choices)
    customer_id = models.BigIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The customer has a purchase (a won deal with its close time). Only buyers are
    # counted for churn; at L three episodes in four are of customers who never bought.
    buyer = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("customer episode")
        verbose_name_plural = _("customer episodes")
        indexes = [
            # "In touch at m": the episodes ending at or after m, read from the index alone.
            models.Index(
                fields=["ends_at", "starts_at", "customer_kind", "customer_id"],
                name="customer_episode_ends",
            ),
            # A customer's episodes with their ends: the churn's probe of each customer
            # reads them from the index alone.
            models.Index(
                fields=["customer_kind", "customer_id", "starts_at", "ends_at"],
                name="customer_episode_span",
            ),
            # The buyers' episodes alone, in customer order: PostgreSQL's one pass over
            # every customer's episodes for the churn reads a quarter of the entries.
            models.Index(
                fields=["customer_kind", "customer_id", "starts_at", "ends_at"],
                condition=models.Q(buyer=True),
                name="customer_episode_buyer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_kind} {self.customer_id}: {self.starts_at} – {self.ends_at}"


class CustomerTotals(models.Model):
    """A buying customer's totals, from the summary's touches: their won deals' revenue
    converted to the organisation's currency (each currency at its deal's day's rate, as
    the reports convert), their count, first and last close and the deals left out of
    the revenue for want of a rate; and the customer's last done activity. Derived data
    kept with the attributions (see `wasl.reports.touches`), so the lifetime value and
    the customers at risk read one row a customer instead of every touch."""

    customer_kind = models.CharField(max_length=7, choices=CustomerAttribution.CustomerKind.choices)
    customer_id = models.BigIntegerField()
    # In cents of the organisation's currency: exact sums and sorting on both databases.
    revenue_cents = models.BigIntegerField()
    deals = models.PositiveIntegerField()
    # The deals without a rate, by currency: "EUR:1 USD:3" (empty when every one has).
    unconverted = models.CharField(max_length=200, blank=True)
    first_purchase_at = models.DateTimeField()
    last_purchase_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("customer totals")
        verbose_name_plural = _("customer totals")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_kind", "customer_id"], name="customer_totals_once"
            ),
        ]
        indexes = [
            # "Is any purchase (activity) at or after m?": whether the rows hold exactly
            # the totals up to a period's end.
            models.Index(fields=["last_purchase_at"], name="customer_totals_last_purchase"),
            models.Index(fields=["last_activity_at"], name="customer_totals_last_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_kind} {self.customer_id}: {self.revenue_cents}"


class CustomerSummaryState(models.Model):
    """The one row saying what the episodes were built with: the churn days, and whether a
    full rebuild is owed (after an import is undone, or on a fresh database)."""

    churn_days = models.PositiveSmallIntegerField(default=0)
    rebuild_needed = models.BooleanField(default=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    # Every outbox event up to this id is folded, but the `holes`: ids not seen when
    # their neighbours were folded, [id, seen missing at (epoch seconds)] — a transaction
    # that had not committed yet (PostgreSQL hands out ids before the commit), folded when
    # it appears, or a number never used, forgotten after a while.
    folded_through = models.BigIntegerField(default=0)
    holes = models.JSONField(default=list, blank=True)
    # What the totals' revenue was converted with (`wasl.reports.touches.money_basis`):
    # when the rates, the organisation's currency or its time zone change, the next
    # reader converts them all again.
    money_basis = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("customer summary state")
        verbose_name_plural = _("customer summary states")

    def __str__(self) -> str:
        return f"churn days {self.churn_days}"
