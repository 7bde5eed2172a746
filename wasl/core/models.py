"""Shared kernel models: base mixins, audit trail, event outbox, record shares, search index."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=False)

    class Meta:
        abstract = True


class PublicIdModel(models.Model):
    """A stable UUID used in URLs and the API; the integer key never leaves the server."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class OwnedRecord(PublicIdModel, TimeStampedModel):
    """A customer record governed by the visibility rule: an owner and the owner's team."""

    # No single-column indexes: every concrete model indexes (owner, -updated_at, -id)
    # and (team, -updated_at, -id), which serve the same lookups.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


class RecordShare(models.Model):
    """Gives one user sight (and optionally write access) of a record they do not own."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="record_shares"
    )
    can_write = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "content_type", "object_id"], name="core_share_unique"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_share_obj")]

    def __str__(self) -> str:
        return f"share {self.content_type_id}:{self.object_id} with {self.user_id}"


class AuditEntry(models.Model):
    """One change of one record: who, when, what, and the old and new values."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        MERGE = "merge", _("merged")
        CONVERT = "convert", _("converted")
        STAGE_MOVE = "stage_move", _("moved to another stage")
        ASSIGN = "assign", _("reassigned")
        SHARE = "share", _("shared")

    # Indexed by core_audit_actor and core_audit_object, which lead with these columns.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_id = models.BigIntegerField()
    object_public_id = models.UUIDField(null=True, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "-created_at"], name="core_audit_object"
            ),
            models.Index(fields=["actor", "-created_at"], name="core_audit_actor"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it announces."""

    name = models.CharField(max_length=80)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                name="core_outbox_pending",
                condition=models.Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class SearchEntry(models.Model):
    """One searchable record: its normalised text, kept by the owning app's services.

    SQLite indexes `text` with an FTS5 trigram table, PostgreSQL with a pg_trgm GIN index
    (see the migrations), so substring search does not scan the table.
    """

    kind = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    public_id = models.UUIDField()
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="core_search_unique")
        ]
        indexes = [models.Index(fields=["owner_id"], name="core_search_owner")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"
