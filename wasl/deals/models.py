"""Pipelines, stages, deals with their stage history, products and line items."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.core.models import OwnedRecord, PublicIdModel, TimeStampedModel

MONEY = {"max_digits": 20, "decimal_places": 2}


class Pipeline(PublicIdModel, TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class Stage(PublicIdModel, TimeStampedModel):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    # Days after which a deal in this stage counts as stalled (0: never).
    rotting_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_le_100"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LostReason(PublicIdModel, TimeStampedModel):
    name = models.CharField(_("name"), max_length=160, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")

    def __str__(self) -> str:
        return self.name


class Competitor(PublicIdModel, TimeStampedModel):
    name = models.CharField(_("name"), max_length=160)
    key = models.CharField(max_length=160, unique=True)
    website = models.CharField(_("website"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")

    def __str__(self) -> str:
        return self.name


class Product(PublicIdModel, TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=32, blank=True)
    price = models.DecimalField(_("price"), **MONEY, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    tax_percent = models.DecimalField(
        _("tax (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=~models.Q(sku=""), name="product_sku_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Deal(OwnedRecord):
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    # pipeline, stage and company lead the composite indexes below (no index of their own).
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="deals", db_index=False
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", db_index=False)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    company = models.ForeignKey(
        "contacts.Company",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        db_index=False,
    )
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="deals")
    tags = models.ManyToManyField("contacts.Tag", blank=True, related_name="deals")
    source = models.CharField(_("source"), max_length=20, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    competitor = models.ForeignKey(
        Competitor, on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    lost_note = models.TextField(_("why it was lost"), blank=True)
    stage_entered_at = models.DateTimeField()
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="deal_owner_upd"),
            models.Index(fields=["team", "-updated_at", "-id"], name="deal_team_upd"),
            models.Index(fields=["-updated_at", "-id"], name="deal_upd"),
            models.Index(fields=["stage", "-updated_at", "-id"], name="deal_stage_upd"),
            models.Index(fields=["pipeline", "stage"], name="deal_pipeline_stage"),
            models.Index(fields=["company"], name="deal_company"),
            # Leads with the expected close; the rest covers the forecast's sums.
            models.Index(
                fields=[
                    "expected_close",
                    "stage",
                    "currency",
                    "amount",
                    "probability",
                    "owner",
                    "team",
                ],
                name="deal_expected_close",
            ),
            # Reports: deals won or lost in a period, and open deals over their stage's
            # usual time; with the money, the creation and the columns the visibility and
            # the filters read, a period's (or a customer's) revenue, win rate and sales
            # cycle come from the index alone, for a rep as for an administrator.
            models.Index(
                fields=[
                    "closed_at",
                    "stage",
                    "currency",
                    "amount",
                    "created_at",
                    "owner",
                    "team",
                    "pipeline",
                ],
                name="deal_closed_outcome",
            ),
            # The KPIs' open deals at each period end, as the deals created before it less
            # those closed before it: per currency, each period's creations and closes are
            # one range of these indexes, summed without sorting or a per-row bucket (the
            # close is in the creations' index, since a deal closed before its creation is
            # left out of them). Their condition is always true; only a query that states
            # it (`_range_sums`) may use them, since led by the currency they tempt
            # SQLite's planner into skip-scans or sort-free groupings that cost other
            # reports several times more.
            models.Index(
                fields=[
                    "currency",
                    "created_at",
                    "closed_at",
                    "amount",
                    "owner",
                    "team",
                    "pipeline",
                ],
                condition=models.Q(amount__isnull=False),
                name="deal_currency_created",
            ),
            models.Index(
                fields=[
                    "currency",
                    "closed_at",
                    "amount",
                    "created_at",
                    "owner",
                    "team",
                    "pipeline",
                ],
                condition=models.Q(closed_at__isnull=False, amount__isnull=False),
                name="deal_currency_closed",
            ),
            # The deals in a stage since before a moment (the funnel's stalled deals),
            # with the owner and team a rep's or a manager's count is narrowed by, so
            # those counts never read the table's rows either.
            models.Index(
                fields=["stage", "stage_entered_at", "owner", "team"], name="deal_stage_entered"
            ),
            # Covers the board's column totals (count, sums per currency) with the
            # visibility and owner/team filters, so they never read the table's rows.
            models.Index(
                fields=[
                    "pipeline",
                    "stage",
                    "currency",
                    "amount",
                    "probability",
                    "owner",
                    "team",
                ],
                name="deal_board_totals",
            ),
            # A user's open deals summed by stage ("my day"), read from the index alone:
            # a rep's closed deals far outnumber the open ones after a year or two.
            models.Index(
                fields=["owner", "pipeline", "stage", "currency", "amount"],
                condition=models.Q(closed_at__isnull=True),
                name="deal_owner_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DealStageChange(models.Model):
    """One move of a deal between stages; the first row has no `from_stage`."""

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )  # indexed as stage_change_deal
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="+", db_index=False
    )  # indexed as stage_change_to
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField()
    # Seconds the deal spent in `from_stage` before this move.
    seconds_in_previous = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stage_change_deal"),
            # The moves into stages in a period, covering what the funnel and the stage
            # durations read of them, so the reports never visit the table's rows.
            models.Index(
                fields=["to_stage", "changed_at", "from_stage", "seconds_in_previous", "deal"],
                name="stage_change_to",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class DealLineItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="line_items"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, default=Decimal("1")
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description or f"line {self.position}"

    @property
    def total(self) -> Decimal:
        gross = self.quantity * self.unit_price
        return (gross * (Decimal("100") - self.discount_percent) / Decimal("100")).quantize(
            Decimal("0.01")
        )
