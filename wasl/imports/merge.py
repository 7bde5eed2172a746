"""Merging duplicate contacts, companies or leads into one, and undoing a merge.

Everything that hangs on a merged record moves to the survivor: activities, deal links,
the links of converted leads, company memberships, e-mails and phones, tags, important
dates, shares. Links the survivor already has are dropped rather than doubled. The merge's
audit entry (action `merge`, on the survivor) keeps a before-image of every record and of
every moved or dropped relation, and `merge_undo` replays it backwards: the merged
records come back with their own ids and public ids, and every relation returns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    ImportantDate,
)
from wasl.core import events
from wasl.core.audit import json_value, record_audit
from wasl.core.errors import Conflict, Invalid
from wasl.core.models import AuditEntry, RecordShare, SearchEntry
from wasl.core.visibility import can_write, require_write
from wasl.deals.models import Deal
from wasl.imports.models import DuplicatePair
from wasl.leads.models import Lead

# (model, foreign key, fields that make a moved row a duplicate of one the survivor has)
RELATIONS: dict[str, list[tuple[type[models.Model], str, tuple[str, ...]]]] = {
    "contact": [
        (Activity, "contact", ()),
        (Lead, "converted_contact", ()),
        (ImportantDate, "contact", ()),
        (ContactPoint, "contact", ("kind", "value")),
        (ContactCompany, "contact", ("company_id",)),
        (Deal.contacts.through, "contact", ("deal_id",)),
        (Contact.tags.through, "contact", ("tag_id",)),
    ],
    "company": [
        (Activity, "company", ()),
        (Lead, "converted_company", ()),
        (Deal, "company", ()),
        (Contact, "primary_company", ()),
        (ImportantDate, "company", ()),
        (ContactPoint, "company", ("kind", "value")),
        (ContactCompany, "company", ("contact_id",)),
        (Company.tags.through, "company", ("tag_id",)),
    ],
    "lead": [
        (Activity, "lead", ()),
        (Lead.tags.through, "lead", ("tag_id",)),
    ],
}
MODELS: dict[str, type[models.Model]] = {"contact": Contact, "company": Company, "lead": Lead}
MERGEABLE = {
    "contact": [
        "first_name", "last_name", "title", "birthday", "website", "industry", "source",
        "notes", "street", "city", "region", "postal_code", "country", "owner",
        "primary_company",
    ],
    "company": [
        "name", "website", "industry", "source", "notes", "street", "city", "region",
        "postal_code", "country", "owner",
    ],
    "lead": [
        "first_name", "last_name", "company_name", "title", "email", "phone", "website",
        "city", "country", "source", "status", "notes", "score", "owner",
    ],
}  # fmt: skip


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _dump(model: type[models.Model], rows: Any) -> list[dict[str, Any]]:
    return [json_value(row) for row in rows.values()]


def _load(model: type[models.Model], data: dict[str, Any]) -> models.Model:
    values = {}
    for field in model._meta.concrete_fields:
        if field.attname in data:
            value = data[field.attname]
            values[field.attname] = field.to_python(value) if value is not None else None
    return model(**values)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def record_merge(
    *,
    actor: Any,
    kind: str,
    survivor: models.Model,
    others: list[models.Model],
    field_choices: dict[str, Any] | None = None,
) -> AuditEntry:
    """Merge `others` into `survivor` (all of one kind), choosing each field's value from
    the record named in `field_choices` ({field: public id}); unnamed fields keep the
    survivor's value, or the first non-empty one of the others. Returns the audit entry
    to undo from. Raises Invalid, Forbidden."""
    model = MODELS[kind]
    losers = [o for o in others if o.pk != survivor.pk]
    if not losers:
        raise Invalid({"others": [_("Choose at least one other record to merge.")]})
    if len({o.pk for o in losers}) != len(losers):
        raise Invalid({"others": [_("A record is named twice.")]})
    if actor is not None:
        for record in [survivor, *losers]:
            require_write(actor, record)
    by_public = {str(r.public_id): r for r in [survivor, *losers]}
    choices = dict(field_choices or {})
    for name, chosen in choices.items():
        if name not in MERGEABLE[kind] and not name.startswith("custom."):
            raise Invalid({f"field_choices.{name}": [_("This field cannot be chosen.")]})
        if str(chosen) not in by_public:
            raise Invalid({f"field_choices.{name}": [_("Choose one of the merged records.")]})
    with transaction.atomic():
        ids = [survivor.pk, *(o.pk for o in losers)]
        locked = {r.pk: r for r in model._default_manager.select_for_update().filter(pk__in=ids)}
        if len(locked) != len(ids):
            raise Conflict(_("A record changed meanwhile; reload and try again."))
        survivor = locked[survivor.pk]
        losers = [locked[o.pk] for o in losers]
        before = {
            "kind": kind,
            "survivor": _dump(model, model._default_manager.filter(pk=survivor.pk))[0],
            "others": _dump(model, model._default_manager.filter(pk__in=[o.pk for o in losers])),
            "moved": [],
            "dropped": [],
            "shares": _dump(RecordShare, _shares(model, [o.pk for o in losers])),
            "pairs": [],
        }
        # Field values.
        records = {str(r.public_id): r for r in [survivor, *losers]}
        changed: dict[str, list[Any]] = {}
        for name in MERGEABLE[kind]:
            field = model._meta.get_field(name)
            attname = field.attname
            if name in choices:
                value = getattr(records[str(choices[name])], attname)
            else:
                value = getattr(survivor, attname)
                if _empty(value):
                    value = next(
                        (getattr(o, attname) for o in losers if not _empty(getattr(o, attname))),
                        value,
                    )
            if value != getattr(survivor, attname):
                changed[name] = [json_value(getattr(survivor, attname)), json_value(value)]
                setattr(survivor, attname, value)
        custom = dict(survivor.custom or {})
        for other in losers:
            for key, value in (other.custom or {}).items():
                if _empty(custom.get(key)):
                    custom[key] = value
        for name, chosen in choices.items():
            if name.startswith("custom."):
                key = name.removeprefix("custom.")
                value = (records[str(chosen)].custom or {}).get(key)
                if value is None:
                    custom.pop(key, None)
                else:
                    custom[key] = value
        if custom != (survivor.custom or {}):
            changed["custom"] = [survivor.custom, custom]
            survivor.custom = custom
        if "owner" in changed:
            survivor.team_id = survivor.owner.team_id
        from wasl.core.text import normalise

        if kind == "contact":
            survivor.name_key = normalise(f"{survivor.first_name} {survivor.last_name}")
        elif kind == "company":
            survivor.name_key = normalise(survivor.name)
        survivor.save()
        # Relations.
        loser_ids = [o.pk for o in losers]
        for relation, fk, unique in RELATIONS[kind]:
            attname = relation._meta.get_field(fk).attname
            taken = set()
            if unique:
                taken = set(
                    relation._default_manager.filter(**{attname: survivor.pk}).values_list(*unique)
                )
            rows = list(
                relation._default_manager.filter(**{f"{attname}__in": loser_ids}).order_by("pk")
            )
            move: dict[int, list[int]] = defaultdict(list)
            drop: list[int] = []
            for row in rows:
                key = tuple(getattr(row, u) for u in unique)
                if unique and key in taken:
                    drop.append(row.pk)
                else:
                    taken.add(key)
                    move[getattr(row, attname)].append(row.pk)
            if drop:
                before["dropped"].append(
                    {
                        "model": _label(relation),
                        "rows": _dump(relation, relation._default_manager.filter(pk__in=drop)),
                    }
                )
                relation._default_manager.filter(pk__in=drop).delete()
            for old, pks in move.items():
                before["moved"].append(
                    {"model": _label(relation), "field": attname, "from": old, "ids": pks}
                )
                relation._default_manager.filter(pk__in=pks).update(**{attname: survivor.pk})
        if kind == "contact":
            _fix_primary(survivor)
        # Shares of merged records are given to the survivor (unless it has one).
        content_type = ContentType.objects.get_for_model(model)
        for share in _shares(model, loser_ids):
            if not RecordShare.objects.filter(
                content_type=content_type, object_id=survivor.pk, user_id=share.user_id
            ).exists():
                RecordShare.objects.create(
                    content_type=content_type,
                    object_id=survivor.pk,
                    user_id=share.user_id,
                    can_write=share.can_write,
                )
                before.setdefault("shares_added", []).append(share.user_id)
        pairs = DuplicatePair.objects.filter(kind=kind).filter(
            models.Q(first_id__in=ids, second_id__in=ids)
        )
        before["pairs"] = list(pairs.values_list("pk", "status"))
        pairs.update(status=DuplicatePair.Status.MERGED)
        for other in losers:
            SearchEntry.objects.filter(kind=kind, object_id=other.pk).delete()
            events.emit(
                f"{kind}.deleted",
                other,
                actor,
                {"id": other.public_id, "merged_into": survivor.public_id},
            )
        _shares(model, loser_ids).delete()
        model._default_manager.filter(pk__in=loser_ids).delete()
        from wasl.imports.services import reindex

        reindex(kind, [survivor.pk])
        entry = record_audit(
            actor=actor,
            action=AuditEntry.Action.MERGE,
            record=survivor,
            changes=changed,
            data={"merged": [str(o.public_id) for o in losers], "before": before},
        )
        events.emit(
            f"{kind}.merged",
            survivor,
            actor,
            {"id": survivor.public_id, "merged": [str(o.public_id) for o in losers]},
        )
        return entry


def _shares(model: type[models.Model], ids: list[int]) -> Any:
    content_type = ContentType.objects.get_for_model(model)
    return RecordShare.objects.filter(content_type=content_type, object_id__in=ids)


def _fix_primary(contact: Contact) -> None:
    links = list(ContactCompany.objects.filter(contact=contact).order_by("-is_primary", "id"))
    primary = next((link for link in links if link.company_id == contact.primary_company_id), None)
    for link in links:
        should = primary is not None and link.pk == primary.pk
        if link.is_primary != should:
            ContactCompany.objects.filter(pk=link.pk).update(is_primary=should)


def contact_merge(
    *,
    actor: Any,
    survivor: Contact,
    others: list[Contact],
    field_choices: dict[str, Any] | None = None,
) -> AuditEntry:
    """Merge contacts into `survivor` (see `record_merge`)."""
    return record_merge(
        actor=actor, kind="contact", survivor=survivor, others=others, field_choices=field_choices
    )


def company_merge(
    *,
    actor: Any,
    survivor: Company,
    others: list[Company],
    field_choices: dict[str, Any] | None = None,
) -> AuditEntry:
    """Merge companies into `survivor` (see `record_merge`)."""
    return record_merge(
        actor=actor, kind="company", survivor=survivor, others=others, field_choices=field_choices
    )


def lead_merge(
    *, actor: Any, survivor: Lead, others: list[Lead], field_choices: dict[str, Any] | None = None
) -> AuditEntry:
    """Merge leads into `survivor` (see `record_merge`)."""
    return record_merge(
        actor=actor, kind="lead", survivor=survivor, others=others, field_choices=field_choices
    )


def merge_undone(audit_entry: AuditEntry) -> bool:
    """Whether this merge has been undone already."""
    return AuditEntry.objects.filter(
        action=AuditEntry.Action.UPDATE, data__undo_of=audit_entry.pk
    ).exists()


def merge_undo_allowed(actor: Any, audit_entry: AuditEntry) -> bool:
    """Whether `merge_undo` would accept this entry from this actor now: a merge not yet
    undone whose surviving record still exists and which the actor may change."""
    if audit_entry.action != AuditEntry.Action.MERGE or "before" not in (audit_entry.data or {}):
        return False
    if actor is not None and not getattr(actor, "is_active", False):
        return False
    model = MODELS.get(audit_entry.data["before"].get("kind"))
    survivor = model._default_manager.filter(pk=audit_entry.object_id).first() if model else None
    if survivor is None or merge_undone(audit_entry):
        return False
    return actor is None or can_write(actor, survivor)


def merge_undo(*, actor: Any, audit_entry: AuditEntry) -> models.Model:
    """Undo a merge from its audit entry: the merged records return with their ids and
    public ids, every moved relation goes back, dropped links are restored and the
    survivor gets its old values. Raises Conflict if undone already or not a merge."""
    if audit_entry.action != AuditEntry.Action.MERGE or "before" not in (audit_entry.data or {}):
        raise Conflict(_("This entry is not a merge."))
    before = audit_entry.data["before"]
    kind = before["kind"]
    model = MODELS[kind]
    with transaction.atomic():
        if merge_undone(audit_entry):
            raise Conflict(_("This merge has already been undone."))
        survivor = (
            model._default_manager.select_for_update().filter(pk=audit_entry.object_id).first()
        )
        if survivor is None:
            raise Conflict(_("The merged record no longer exists."))
        if actor is not None:
            require_write(actor, survivor)
        restored = [_load(model, row) for row in before["others"]]
        stamps = [(r.pk, r.created_at, r.updated_at) for r in restored]
        model._default_manager.bulk_create(restored)
        for pk, created_at, updated_at in stamps:
            # bulk_create stamps auto_now(_add) fields with the present; put the old back.
            model._default_manager.filter(pk=pk).update(
                created_at=created_at, updated_at=updated_at
            )
        for group in reversed(before["moved"]):
            relation = _model(group["model"])
            relation._default_manager.filter(pk__in=group["ids"]).update(
                **{group["field"]: group["from"]}
            )
        for group in before["dropped"]:
            relation = _model(group["model"])
            relation._default_manager.bulk_create([_load(relation, row) for row in group["rows"]])
        survivor_row = _load(model, before["survivor"])
        values = {
            f.attname: getattr(survivor_row, f.attname)
            for f in model._meta.concrete_fields
            if not f.primary_key
        }
        model._default_manager.filter(pk=survivor.pk).update(**values)
        content_type = ContentType.objects.get_for_model(model)
        for user_id in before.get("shares_added", []):
            RecordShare.objects.filter(
                content_type=content_type, object_id=survivor.pk, user_id=user_id
            ).delete()
        RecordShare.objects.bulk_create([_load(RecordShare, row) for row in before["shares"]])
        for pk, status in before.get("pairs", []):
            DuplicatePair.objects.filter(pk=pk).update(status=status)
        from wasl.imports.services import reindex

        reindex(kind, [survivor.pk, *(r.pk for r in restored)])
        survivor.refresh_from_db()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record=survivor,
            data={"undo_of": audit_entry.pk, "restored": [str(r.public_id) for r in restored]},
        )
        for record in restored:
            events.emit(
                f"{kind}.created",
                record,
                actor,
                {"id": record.public_id, "unmerged": True, "survivor_id": survivor.public_id},
            )
        return survivor


def _model(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


__all__ = [
    "company_merge",
    "contact_merge",
    "dt",
    "lead_merge",
    "merge_undo",
    "merge_undo_allowed",
    "merge_undone",
]
