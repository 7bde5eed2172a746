"""The customer base: companies, contacts, their e-mails and phones, tags and custom fields."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wasl.core.models import OwnedRecord, PublicIdModel, TimeStampedModel


class Tag(PublicIdModel, TimeStampedModel):
    name = models.CharField(_("name"), max_length=80)
    key = models.CharField(max_length=80, unique=True, help_text="normalised name")
    color = models.CharField(_("colour"), max_length=16, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Source(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    COLD_CALL = "cold_call", _("Cold call")
    EXHIBITION = "exhibition", _("Exhibition")
    REFERRAL = "referral", _("Referral")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class AddressFields(models.Model):
    street = models.CharField(_("street"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("province or state"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text="ISO 3166")

    class Meta:
        abstract = True


class Company(OwnedRecord, AddressFields):
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    website = models.CharField(_("website"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="company_owner_upd"),
            models.Index(fields=["team", "-updated_at", "-id"], name="company_team_upd"),
            models.Index(fields=["-updated_at", "-id"], name="company_upd"),
            # The list pages sort by name (keyset on name, id), a rep's list by owner.
            models.Index(fields=["owner", "name", "id"], name="company_owner_name"),
            models.Index(fields=["name", "id"], name="company_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedRecord, AddressFields):
    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    name_key = models.CharField(max_length=250, db_index=True, editable=False)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    companies = models.ManyToManyField(
        Company, through="ContactCompany", blank=True, related_name="contacts"
    )
    # The first linked company, kept for fast lists and filters.
    primary_company = models.ForeignKey(
        Company,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # indexed as contact_company
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="contact_owner_upd"),
            models.Index(fields=["team", "-updated_at", "-id"], name="contact_team_upd"),
            models.Index(fields=["-updated_at", "-id"], name="contact_upd"),
            # Partial: most contacts have no company, and an index of NULLs only costs
            # upkeep (a company's contacts are found by `primary_company_id = ?`).
            models.Index(
                fields=["primary_company"],
                name="contact_company",
                condition=models.Q(primary_company__isnull=False),
            ),
            # The list pages sort by last name (keyset on last_name, id), a rep's list by
            # owner.
            models.Index(fields=["owner", "last_name", "id"], name="contact_owner_name"),
            models.Index(fields=["last_name", "id"], name="contact_last_name"),
        ]

    def __str__(self) -> str:
        return self.full_name or "—"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class ContactCompany(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=120, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "company"], name="contact_company_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} @ {self.company_id}"


class ContactPoint(models.Model):
    """An e-mail address or a phone number of a contact or a company."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")

    class Label(models.TextChoices):
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        MOBILE = "mobile", _("Mobile")
        FAX = "fax", _("Fax")
        OTHER = "other", _("Other")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=8, choices=Label.choices, blank=True)
    # Lowercased e-mail, or E.164 phone.
    value = models.CharField(max_length=254)
    # National significant digits of a phone, for matching however it was typed.
    digits = models.CharField(max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Indexed with the position (point_contact, point_company).
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="points",
        db_index=False,
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="points",
        db_index=False,
    )

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["kind", "value"], name="point_value"),
            models.Index(fields=["digits"], name="point_digits"),
            # Partial: a point belongs to a contact or to a company, never both, and each
            # index is only ever read for one record (`contact_id = ?` implies NOT NULL).
            models.Index(
                fields=["contact", "position"],
                name="point_contact",
                condition=models.Q(contact__isnull=False),
            ),
            models.Index(
                fields=["company", "position"],
                name="point_company",
                condition=models.Q(company__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(company__isnull=False),
                name="point_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.value


class ImportantDate(models.Model):
    """A date worth remembering about a customer besides the birthday."""

    class Kind(models.TextChoices):
        ANNIVERSARY = "anniversary", _("Anniversary")
        CONTRACT_END = "contract_end", _("Contract end")
        RENEWAL = "renewal", _("Renewal")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=120, blank=True)
    date = models.DateField(_("date"))
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="important_dates"
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="important_dates"
    )

    class Meta:
        ordering = ["date"]
        indexes = [models.Index(fields=["date"], name="important_date")]

    def __str__(self) -> str:
        return f"{self.kind} {self.date}"


class CustomFieldDefinition(PublicIdModel, TimeStampedModel):
    """A field an organisation adds to contacts, companies, leads or deals."""

    class Entity(models.TextChoices):
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        LEAD = "lead", _("Lead")
        DEAL = "deal", _("Deal")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes/no")
        URL = "url", _("Web address")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")

    entity = models.CharField(_("record type"), max_length=10, choices=Entity.choices)
    key = models.SlugField(_("key"), max_length=60)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_fa = models.CharField(_("label (Persian)"), max_length=120, blank=True)
    label_ar = models.CharField(_("label (Arabic)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    required = models.BooleanField(_("required"), default=False)
    # For choices: [{"value": "gold", "en": "Gold", "fa": "طلایی", "ar": "ذهبي"}]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # Optional limits: {"min": 0, "max": 100, "max_length": 50, "pattern": "^[A-Z]+$"}
    validation = models.JSONField(_("validation"), default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_unique_key")
        ]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = (get_language() or "en")[:2]
        return str(getattr(self, f"label_{language}", "") or self.label_en)


class SavedView(PublicIdModel, TimeStampedModel):
    """A named list of filters, columns and sort for one list page (contacts, companies,
    leads, deals, activities), kept by a user and optionally shared with everyone.

    The row with `is_default` is the user's own settings of that list (the columns chosen
    with the column chooser); it has no name and is never shared."""

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="saved_views")
    entity = models.CharField(max_length=20)
    name = models.CharField(_("name"), max_length=80, blank=True)
    # Query parameters of the list (owner, tag, custom.<key>…), as strings.
    filters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    sort = models.CharField(max_length=40, blank=True)
    is_shared = models.BooleanField(_("shared with everyone"), default=False)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["entity", "owner"], name="saved_view_owner")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "entity", "name"], name="saved_view_unique_name"
            )
        ]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name or "—"
