"""Loading one import, export, mapping or merge named by user input."""

from __future__ import annotations

from typing import Any

from wasl.core.access import parse_public_id
from wasl.core.errors import NotFound
from wasl.core.models import AuditEntry
from wasl.core.visibility import Role, can_see
from wasl.imports.models import ExportJob, ImportJob, ImportMapping
from wasl.imports.selectors import export_list, import_list, mapping_list


def access_import(actor: Any, public_id: Any) -> ImportJob:
    """An import of the actor's (any, for an administrator); otherwise not found."""
    job = import_list(actor=actor).filter(public_id=parse_public_id(public_id)).first()
    if job is None:
        raise NotFound()
    return job


def access_export(actor: Any, public_id: Any) -> ExportJob:
    job = export_list(actor=actor).filter(public_id=parse_public_id(public_id)).first()
    if job is None:
        raise NotFound()
    return job


def access_mapping(actor: Any, public_id: Any) -> ImportMapping:
    mapping = mapping_list(actor=actor).filter(public_id=parse_public_id(public_id)).first()
    if mapping is None:
        raise NotFound()
    return mapping


def mapping_named(actor: Any, target: str, name: str) -> ImportMapping:
    mapping = mapping_list(actor=actor, target=target).filter(name=name).first()
    if mapping is None:
        raise NotFound()
    return mapping


def access_merge(actor: Any, audit_id: int) -> AuditEntry:
    """A merge audit entry whose surviving record the actor sees."""
    entry = AuditEntry.objects.filter(pk=audit_id, action=AuditEntry.Action.MERGE).first()
    if entry is None or not getattr(actor, "is_active", False):
        raise NotFound()
    model = entry.content_type.model_class()
    record = model._default_manager.filter(pk=entry.object_id).first() if model else None
    if record is None:
        raise NotFound()
    if actor.role != Role.ADMIN and not can_see(actor, record):
        raise NotFound()
    return entry
