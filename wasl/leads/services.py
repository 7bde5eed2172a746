"""Writes on leads: create, update, status, delete, and conversion to customers.

Scoring is not written yet. Until it is, `score` may be set through these services by
administrators, managers and the operator only (a rep's own judgement is not a score);
the API shows it but does not take it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.contacts.custom_fields import clean_custom_values, definitions_for
from wasl.contacts.models import Company, Contact, ContactCompany, Source
from wasl.contacts.selectors import company_match, contact_match
from wasl.contacts.services import (
    company_create,
    contact_create,
    contact_link_company,
    tags_resolve,
)
from wasl.core import events, search
from wasl.core.audit import diff, record_audit, snapshot
from wasl.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from wasl.core.models import AuditEntry
from wasl.core.phones import PhoneError, parse_phone, significant_digits
from wasl.core.validation import UNSET, clean_email, model_field_errors
from wasl.core.visibility import (
    Role,
    can_see,
    can_write,
    require_assign_to,
    require_can_create,
    require_write,
)
from wasl.leads.models import Lead

Status = Lead.Status

LEAD_FIELDS = [
    "first_name",
    "last_name",
    "company_name",
    "title",
    "email",
    "phone",
    "website",
    "city",
    "country",
    "source",
    "notes",
]
_AUDITED = [*LEAD_FIELDS, "owner", "status", "disqualify_reason", "score", "custom"]
# A lead reaches `converted` only through lead_convert.
SETTABLE_STATUSES = (Status.NEW, Status.CONTACTED, Status.QUALIFIED, Status.DISQUALIFIED)
# Bounds of the integer column on every engine.
_SCORE_RANGE = (-(2**31), 2**31 - 1)
_COUNTRY = re.compile(r"[A-Z]{2}")
NON_FIELD = "__all__"


@dataclass(frozen=True)
class ConversionResult:
    contact: Contact | None
    company: Company | None
    deal: Any | None
    created_contact: bool
    created_company: bool


# ---------------------------------------------------------------- helpers


def _person_name(lead: Lead) -> str:
    return " ".join(p for p in (lead.first_name, lead.last_name) if p)


def _tag_names(lead: Lead) -> list[str]:
    return sorted(lead.tags.values_list("name", flat=True))


def _state(lead: Lead) -> dict[str, Any]:
    return {**snapshot(lead, _AUDITED), "tags": _tag_names(lead)}


def _index_lead(lead: Lead, tags: list[str]) -> None:
    search.index_record(
        kind="lead",
        record=lead,
        title=_person_name(lead) or lead.company_name or lead.email,
        subtitle=lead.company_name,
        parts=[lead.email, *tags],
        phones=[lead.phone] if lead.phone else [],
    )


def _can_score(actor: Any) -> bool:
    return actor is None or (actor.is_active and actor.role in (Role.ADMIN, Role.MANAGER))


def _set_fields(lead: Lead, fields: dict[str, Any], errors: FieldErrors) -> None:
    """Assign the given fields, cleaned: e-mail lowercased, phone E.164 with its digits."""
    for name in set(fields) - set(LEAD_FIELDS):
        errors.add(name, _("Unknown field."))
    for name, value in fields.items():
        if name not in LEAD_FIELDS:
            continue
        text = "" if value is None else value
        setattr(lead, name, text.strip() if isinstance(text, str) else text)
    if "email" in fields and lead.email:
        try:
            lead.email = clean_email(lead.email)
        except ValueError as error:
            errors.add("email", str(error))
    if "phone" in fields:
        lead.phone_digits = ""
        if lead.phone:
            try:
                lead.phone = parse_phone(lead.phone)
                lead.phone_digits = significant_digits(lead.phone)
            except PhoneError as error:
                errors.add("phone", str(error))
    if "country" in fields:
        lead.country = lead.country.upper()
        if lead.country and not _COUNTRY.fullmatch(lead.country):
            errors.add("country", _("Use the two-letter country code (ISO 3166), such as IR."))
    if "source" in fields and not lead.source:
        lead.source = Source.OTHER


def _check_identity(lead: Lead, errors: FieldErrors) -> None:
    if not any((lead.first_name, lead.last_name, lead.company_name, lead.email, lead.phone)):
        errors.add(
            NON_FIELD,
            _("Enter a name, a company name, an e-mail address or a phone number."),
        )


def _check_model(lead: Lead, errors: FieldErrors) -> None:
    # Phone and country carry their own messages; the column limits would only repeat them.
    exclude = ["owner", "team", "custom", "phone", "phone_digits", "country"]
    if "email" in errors.fields:
        exclude.append("email")
    model_field_errors(lead, errors, exclude=exclude)


def _set_status(
    lead: Lead, status: Any, reason: Any, errors: FieldErrors, *, creating: bool
) -> None:
    """Apply a status (and disqualification reason) asked for by a user."""
    if status is not UNSET:
        if status == Status.CONVERTED and lead.status != Status.CONVERTED:
            errors.add("status", _("A lead becomes converted only by converting it."))
            return
        if lead.status == Status.CONVERTED and status != Status.CONVERTED and not creating:
            raise Conflict(_("This lead is converted; its status no longer changes."))
        if status not in Status.values:
            errors.add("status", _("Choose new, contacted, qualified or disqualified."))
            return
        lead.status = status
    if lead.status == Status.DISQUALIFIED:
        if reason is not UNSET:
            lead.disqualify_reason = (reason or "").strip()
        if not lead.disqualify_reason:
            errors.add("disqualify_reason", _("Say why the lead is disqualified."))
    else:
        lead.disqualify_reason = ""


def _check_score(actor: Any, score: Any, errors: FieldErrors) -> None:
    if not _can_score(actor):
        raise Forbidden(_("Only administrators and managers set a lead's score."))
    if isinstance(score, bool) or not isinstance(score, int):
        errors.add("score", _("Enter a whole number."))
    elif not _SCORE_RANGE[0] <= score <= _SCORE_RANGE[1]:
        errors.add("score", _("This number is out of range."))


def _resolve_owner(actor: Any, owner: Any) -> Any:
    chosen = owner if owner not in (None, UNSET) else actor
    if chosen is None:
        raise Invalid({"owner_id": [_("Choose an owner.")]})
    if actor is not None:
        require_assign_to(actor, chosen)
    return chosen


# ---------------------------------------------------------------- create, update, delete


def lead_create(
    *,
    actor: Any,
    owner: Any = None,
    status: str = Status.NEW,
    disqualify_reason: str = "",
    score: int | None = None,
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    **fields: Any,
) -> Lead:
    """Create a lead owned by `owner` (default: the actor), in the owner's team.

    Validates every field first; raises Invalid (nothing written) or Forbidden."""
    if actor is not None:
        require_can_create(actor)
    owner = _resolve_owner(actor, owner)
    errors = FieldErrors()
    lead = Lead(owner=owner, team_id=owner.team_id)
    _set_fields(lead, {name: fields.get(name, "") for name in LEAD_FIELDS} | fields, errors)
    _set_status(lead, status, disqualify_reason, errors, creating=True)
    if score is not None:
        _check_score(actor, score, errors)
        lead.score = score
    _check_identity(lead, errors)
    _check_model(lead, errors)
    lead.custom = clean_custom_values(entity="lead", values=custom, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        # Tag names are checked here too; an Invalid rolls back any tag it created.
        resolved = tags_resolve(actor=actor, names=tags, errors=errors)
        errors.raise_if_any()
        lead.save()
        lead.tags.set(resolved)
        after = _state(lead)
        record_audit(
            actor=actor, action=AuditEntry.Action.CREATE, record=lead, changes=diff({}, after)
        )
        events.emit("lead.created", lead, actor, {"id": lead.public_id, "status": lead.status})
        _index_lead(lead, after["tags"])
    return lead


def lead_update(
    *,
    actor: Any,
    lead: Lead,
    owner: Any = UNSET,
    status: Any = UNSET,
    disqualify_reason: Any = UNSET,
    score: Any = UNSET,
    tags: Iterable[str] | None = None,
    custom: dict[str, Any] | None = None,
    **fields: Any,
) -> Lead:
    """Change the fields given (others stay); tags given replace the old ones.

    Locks the row and validates everything first; audits old and new values. Emits
    `lead.updated`, and `lead.status_changed` when the status moved. Raises Invalid,
    Forbidden, or Conflict for a status change on a converted lead."""
    if actor is not None:
        require_write(actor, lead)
    errors = FieldErrors()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        before = _state(lead)
        old_status = lead.status
        _set_fields(lead, fields, errors)
        if owner is not UNSET and owner is not None and owner.pk != lead.owner_id:
            if actor is not None:
                require_assign_to(actor, owner)
            lead.owner, lead.team_id = owner, owner.team_id
        _set_status(lead, status, disqualify_reason, errors, creating=False)
        if score is not UNSET:
            _check_score(actor, score, errors)
            lead.score = score
        _check_identity(lead, errors)
        _check_model(lead, errors)
        if custom is not None:
            lead.custom = clean_custom_values(
                entity="lead", values=custom, existing=lead.custom, errors=errors
            )
        errors.raise_if_any()
        if tags is not None:
            resolved = tags_resolve(actor=actor, names=tags, errors=errors)
            errors.raise_if_any()
            lead.tags.set(resolved)
        lead.save()
        after = _state(lead)
        changes = diff(before, after)
        if changes:
            action = (
                AuditEntry.Action.ASSIGN if set(changes) == {"owner"} else AuditEntry.Action.UPDATE
            )
            record_audit(actor=actor, action=action, record=lead, changes=changes)
            events.emit(
                "lead.updated", lead, actor, {"id": lead.public_id, "fields": sorted(changes)}
            )
        if lead.status != old_status:
            events.emit(
                "lead.status_changed",
                lead,
                actor,
                {
                    "id": lead.public_id,
                    "from": old_status,
                    "to": lead.status,
                    "reason": lead.disqualify_reason,
                },
            )
        _index_lead(lead, after["tags"])
    return lead


def lead_set_status(*, actor: Any, lead: Lead, status: str, reason: str = "") -> Lead:
    """Move a lead to new, contacted, qualified or disqualified (which needs a reason).

    Raises Invalid for `converted` (use lead_convert) and Conflict on a converted lead."""
    return lead_update(actor=actor, lead=lead, status=status, disqualify_reason=reason)


def lead_delete(*, actor: Any, lead: Lead) -> None:
    """Delete a lead that was not converted; the audit row keeps every value it had.

    A converted lead stays as the history of its customer (its activities show on the
    contact's timeline), so deleting one raises Conflict."""
    if actor is not None:
        require_write(actor, lead)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status == Status.CONVERTED:
            raise Conflict(_("A converted lead is kept as its customer's history."))
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=lead,
            changes=diff(_state(lead), {}),
        )
        events.emit("lead.deleted", lead, actor, {"id": lead.public_id})
        search.unindex_record(kind="lead", object_id=lead.pk)
        lead.delete()


# ---------------------------------------------------------------- conversion


def _carried_custom(lead: Lead, entity: str) -> dict[str, Any]:
    """The lead's custom values whose key is also defined on the target record type."""
    if not lead.custom:
        return {}
    keys = set(definitions_for(entity))
    return {key: value for key, value in lead.custom.items() if key in keys}


def _find_contact(actor: Any, lead: Lead, contact: Contact | None) -> Contact | None:
    if contact is not None:
        if actor is not None and not can_see(actor, contact):
            raise NotFound()
        return contact
    return contact_match(actor=actor, email=lead.email, phone_digits=lead.phone_digits)


def _find_company(actor: Any, lead: Lead, company: Company | None) -> Company | None:
    if company is not None:
        if actor is not None and not can_see(actor, company):
            raise NotFound()
        return company
    return company_match(actor=actor, name=lead.company_name) if lead.company_name else None


def _public_id(record: Any) -> str | None:
    return str(record.public_id) if record is not None else None


def _ref(record: Contact | Company | None) -> dict[str, str] | None:
    if record is None:
        return None
    name = record.full_name if isinstance(record, Contact) else record.name
    return {"id": str(record.public_id), "name": name}


def lead_conversion_preview(*, actor: Any, lead: Lead) -> dict[str, Any]:
    """What converting would do: the visible contact and company it would reuse, and
    whether it would create new ones. For a converted lead, the records it became."""
    if lead.status == Status.CONVERTED:
        return {
            "converted": True,
            "contact": _ref(lead.converted_contact),
            "company": _ref(lead.converted_company),
            "creates_contact": False,
            "creates_company": False,
        }
    contact = _find_contact(actor, lead, None)
    company = _find_company(actor, lead, None)
    return {
        "converted": False,
        "contact": _ref(contact),
        "company": _ref(company),
        "creates_contact": contact is None and bool(_person_name(lead)),
        "creates_company": company is None and bool(lead.company_name),
    }


def _deal_create() -> Any:
    # Imported on use: deals may be installed without every service in place yet.
    try:
        from wasl.deals.services import deal_create
    except ImportError as error:
        raise Invalid({"create_deal": [_("Deals cannot be opened yet.")]}) from error
    return deal_create


def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    create_deal: bool = False,
    deal_title: str = "",
    deal_amount: Decimal | None = None,
    deal_currency: str | None = None,
    pipeline: Any = None,
    stage: Any = None,
    contact: Contact | None = None,
    company: Company | None = None,
) -> ConversionResult:
    """Turn a lead into a contact and company (reusing visible matches, or the ones given)
    and optionally a deal, owned by the lead's owner. The lead stays, marked converted.

    Exactly once: the lead row is locked, and a converted lead returns what it became
    without creating anything. Raises Conflict for a disqualified lead, Invalid, Forbidden,
    or NotFound for a contact or company the actor does not see."""
    if actor is not None:
        require_write(actor, lead)
        require_can_create(actor)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        if locked.status == Status.CONVERTED:
            return ConversionResult(
                contact=locked.converted_contact,
                company=locked.converted_company,
                deal=locked.converted_deal,
                created_contact=False,
                created_company=False,
            )
        if locked.status == Status.DISQUALIFIED:
            raise Conflict(_("A disqualified lead cannot be converted; requalify it first."))
        make_deal = _deal_create() if create_deal else None
        tags = _tag_names(locked)
        found_contact = _find_contact(actor, locked, contact)
        found_company = _find_company(actor, locked, company)
        person = _person_name(locked)
        if (
            found_contact is None
            and not person
            and found_company is None
            and not (locked.company_name)
        ):
            raise Invalid(
                {NON_FIELD: [_("Give the lead a person or company name before converting it.")]}
            )
        owner = locked.owner
        created_company = found_company is None and bool(locked.company_name)
        if created_company:
            found_company = company_create(
                actor=actor,
                owner=owner,
                name=locked.company_name,
                website=locked.website,
                city=locked.city,
                country=locked.country,
                source=locked.source,
                tags=tags,
                custom=_carried_custom(locked, "company"),
            )
        created_contact = found_contact is None and bool(person)
        linked = False
        if created_contact:
            found_contact = contact_create(
                actor=actor,
                owner=owner,
                first_name=locked.first_name,
                last_name=locked.last_name,
                title=locked.title,
                website="" if found_company is not None else locked.website,
                city=locked.city,
                country=locked.country,
                source=locked.source,
                emails=[locked.email] if locked.email else [],
                phones=[locked.phone] if locked.phone else [],
                company=found_company,
                tags=tags,
                custom=_carried_custom(locked, "contact"),
            )
            linked = found_company is not None
        elif (
            found_contact is not None
            and found_company is not None
            and (actor is None or can_write(actor, found_contact))
            and not ContactCompany.objects.filter(
                contact=found_contact, company=found_company
            ).exists()
        ):
            contact_link_company(actor=actor, contact=found_contact, company=found_company)
            linked = True
        deal = None
        if make_deal is not None:
            deal = make_deal(
                actor=actor,
                title=deal_title.strip() or locked.company_name or person or str(locked),
                pipeline=pipeline,
                stage=stage,
                amount=deal_amount,
                currency=deal_currency,
                owner=owner,
                company=found_company,
                contacts=[found_contact] if found_contact is not None else [],
                tags=tags,
                source=locked.source,
            )
        old_status = locked.status
        locked.status = Status.CONVERTED
        locked.converted_at = timezone.now()
        locked.converted_contact = found_contact
        locked.converted_company = found_company
        locked.converted_deal = deal
        locked.save(
            update_fields=[
                "status",
                "converted_at",
                "converted_contact",
                "converted_company",
                "converted_deal",
                "updated_at",
            ]
        )
        data = {
            "id": str(locked.public_id),
            "contact_id": _public_id(found_contact),
            "company_id": _public_id(found_company),
            "deal_id": _public_id(deal),
            "created_contact": created_contact,
            "created_company": created_company,
            "created_deal": deal is not None,
            "linked_contact_to_company": linked,
        }
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CONVERT,
            record=locked,
            changes={
                "status": [old_status, Status.CONVERTED],
                "converted_contact": [None, data["contact_id"]],
                "converted_company": [None, data["company_id"]],
                "converted_deal": [None, data["deal_id"]],
            },
            data=data,
        )
        events.emit("lead.converted", locked, actor, data)
    for name in ("status", "converted_at", "converted_contact", "converted_company"):
        setattr(lead, name, getattr(locked, name))
    lead.converted_deal = deal
    return ConversionResult(
        contact=found_contact,
        company=found_company,
        deal=deal,
        created_contact=created_contact,
        created_company=created_company,
    )
