"""Reads of import and export jobs, mappings and refused rows, scoped to their users."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wasl.core.visibility import Role
from wasl.imports.models import ExportJob, ImportJob, ImportMapping, ImportRowError


def _is_admin(actor: Any) -> bool:
    return bool(actor.is_active and actor.role == Role.ADMIN)


def import_list(*, actor: Any) -> QuerySet[ImportJob]:
    """The actor's imports (an administrator sees everyone's), newest first."""
    if not actor.is_active:
        return ImportJob.objects.none()
    jobs = ImportJob.objects.select_related("actor", "mapping")
    return jobs if _is_admin(actor) else jobs.filter(actor=actor)


def export_list(*, actor: Any) -> QuerySet[ExportJob]:
    if not actor.is_active:
        return ExportJob.objects.none()
    jobs = ExportJob.objects.select_related("actor")
    return jobs if _is_admin(actor) else jobs.filter(actor=actor)


def mapping_list(*, actor: Any, target: str | None = None) -> QuerySet[ImportMapping]:
    """Saved mappings are shared by the whole organisation."""
    if not actor.is_active:
        return ImportMapping.objects.none()
    mappings = ImportMapping.objects.select_related("created_by")
    return mappings.filter(target=target) if target else mappings


def row_errors(*, job: ImportJob, dry_run: bool | None = None) -> QuerySet[ImportRowError]:
    """The rows a job refused (of its check, or of its run)."""
    if dry_run is None:
        dry_run = job.status == ImportJob.Status.CHECKED
    return ImportRowError.objects.filter(job=job, dry_run=dry_run).order_by("row", "id")


def merge_list(*, actor: Any, kind: str, limit: int = 10) -> list[Any]:
    """The actor's most recent merges of one kind (an administrator's: everyone's), for
    their result pages and undo."""
    from django.contrib.contenttypes.models import ContentType

    from wasl.core.models import AuditEntry
    from wasl.imports.duplicates import KIND_MODELS

    if not actor.is_active or kind not in KIND_MODELS:
        return []
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.MERGE,
        content_type=ContentType.objects.get_for_model(KIND_MODELS[kind]),
    )
    if not _is_admin(actor):
        entries = entries.filter(actor=actor)
    return list(entries.order_by("-created_at", "-id")[:limit])
