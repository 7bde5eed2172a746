"""Leads: people or companies who may become customers, until qualified and converted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.contacts.models import Source
from wasl.core.models import OwnedRecord


class Lead(OwnedRecord):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text="E.164")
    phone_digits = models.CharField(max_length=20, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.OTHER
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    score = models.IntegerField(_("score"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField("contacts.Tag", blank=True, related_name="leads")
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_deal = models.ForeignKey(
        "deals.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="lead_owner_upd"),
            models.Index(fields=["team", "-updated_at", "-id"], name="lead_team_upd"),
            models.Index(fields=["-updated_at", "-id"], name="lead_upd"),
            models.Index(fields=["status", "-updated_at", "-id"], name="lead_status_upd"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["phone_digits"], name="lead_phone"),
            # Reports: the leads created in a period with what their counts group and
            # filter by (status, source, owner, team), read from the index alone.
            models.Index(
                fields=["created_at", "status", "source", "owner", "team"], name="lead_created"
            ),
        ]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.company_name or self.email or "—"
