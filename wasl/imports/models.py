"""Import and export jobs, saved column mappings, duplicate pairs found by a scan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.core.models import PublicIdModel, TimeStampedModel


class Target(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    LEADS = "leads", _("Leads")
    DEALS = "deals", _("Deals")
    PRODUCTS = "products", _("Products")
    ACTIVITIES = "activities", _("Activities")


class OnDuplicate(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Fill the empty fields")
    OVERWRITE = "overwrite", _("Overwrite with the file's values")


class ImportMapping(PublicIdModel, TimeStampedModel):
    """A saved column mapping (header → field) and value options, reusable by name."""

    name = models.CharField(_("name"), max_length=120)
    target = models.CharField(_("record type"), max_length=12, choices=Target.choices)
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["target", "name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "name"], name="import_mapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(PublicIdModel, TimeStampedModel):
    """One uploaded file and what became of it: checked (dry run), run, undone."""

    class Status(models.TextChoices):
        CHECKED = "checked", _("Checked")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=12, choices=Target.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=8, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    sheet = models.CharField(max_length=120, blank=True)
    sheets = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    mapping = models.ForeignKey(
        ImportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dry_run = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "-created_at"], name="import_job_actor")]

    def __str__(self) -> str:
        return f"{self.target} import {self.filename}"


class ImportRowError(models.Model):
    """A row the import refused, with the reason and the row as it was in the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    dry_run = models.BooleanField(default=False)
    row = models.PositiveIntegerField()
    reason = models.TextField()
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "dry_run", "row"], name="import_error_job")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ImportCreated(models.Model):
    """A run of consecutive ids of one kind of record an import created (for undo)."""

    # Indexed by the (job, kind) index.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="created_ranges", db_index=False
    )
    kind = models.CharField(max_length=12)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["job", "kind"], name="import_created_job")]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id}-{self.last_id}"


class ImportUpdated(models.Model):
    """A record an import changed, with its values before (for undo)."""

    # Indexed by the (job, kind) index.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="updated_records", db_index=False
    )
    kind = models.CharField(max_length=12)
    object_id = models.BigIntegerField()
    before = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["job", "kind"], name="import_updated_job")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class DuplicatePair(models.Model):
    """Two records of one kind that look like the same customer (from a scan), or that a
    user said are not one (dismissed). `first_id` < `second_id`, so a pair has one row."""

    class Kind(models.TextChoices):
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        LEAD = "lead", _("Lead")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Not a duplicate")
        MERGED = "merged", _("Merged")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    # "Not a duplicate": who said so and when (kept across scans until restored).
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "first_id", "second_id"], name="duplicate_pair_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "status", "-score"], name="duplicate_pair_open")]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id} ~ {self.second_id} ({self.score})"


class ExportJob(PublicIdModel, TimeStampedModel):
    """A list written to a file in the background, downloadable when done."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        VCF = "vcf", "vCard"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=12, choices=Target.choices)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    calendar = models.CharField(max_length=12, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="exports/%Y/%m/", max_length=300, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.target} export ({self.file_format})"
