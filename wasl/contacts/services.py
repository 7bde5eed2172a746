"""Writes on companies, contacts, tags and custom field definitions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.contacts.custom_fields import clean_custom_values, validate_definition
from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    CustomFieldDefinition,
    ImportantDate,
    SavedView,
    Tag,
)
from wasl.core import events, search
from wasl.core.audit import diff, record_audit, snapshot
from wasl.core.errors import FieldErrors, Forbidden, Invalid
from wasl.core.models import AuditEntry
from wasl.core.phones import PhoneError, parse_phone, significant_digits
from wasl.core.text import normalise
from wasl.core.validation import UNSET, clean_email, model_field_errors
from wasl.core.visibility import (
    require_admin,
    require_assign_to,
    require_can_create,
    require_write,
)

CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "title",
    "birthday",
    "website",
    "industry",
    "source",
    "notes",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
]
COMPANY_FIELDS = [
    "name",
    "website",
    "industry",
    "source",
    "notes",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
]
_AUDITED_CONTACT = [*CONTACT_FIELDS, "owner", "custom", "primary_company"]
_AUDITED_COMPANY = [*COMPANY_FIELDS, "owner", "custom"]
MAX_POINTS = 20


# ---------------------------------------------------------------- tags


def tags_resolve(
    *, actor: Any, names: Iterable[str], errors: FieldErrors | None = None, field: str = "tags"
) -> list[Tag]:
    """The tags named, created when new (any user who can write may create a tag)."""
    cleaned: dict[str, str] = {}
    for raw in names or []:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > 80:
            if errors is not None:
                errors.add(field, _("A tag has at most 80 characters."))
                continue
            raise Invalid({field: [_("A tag has at most 80 characters.")]})
        cleaned.setdefault(normalise(name), name)
    if not cleaned:
        return []
    existing = {t.key: t for t in Tag.objects.filter(key__in=list(cleaned))}
    missing = [key for key in cleaned if key not in existing]
    if missing:
        require_can_create(actor) if actor is not None else None
        for key in missing:
            tag, _created = Tag.objects.get_or_create(key=key, defaults={"name": cleaned[key]})
            existing[key] = tag
    return [existing[key] for key in cleaned]


def tag_create(*, actor: Any, name: str, color: str = "") -> Tag:
    if actor is not None:
        require_can_create(actor)
    with transaction.atomic():
        tags = tags_resolve(actor=actor, names=[name])
        if not tags:
            raise Invalid({"name": [_("Name the tag.")]})
        tag = tags[0]
        if color and tag.color != color:
            tag.color = color[:16]
            tag.save(update_fields=["color", "updated_at"])
        return tag


def tag_update(*, actor: Any, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    """Rename or recolour a tag (managers and admins)."""
    if actor is not None and actor.role not in ("admin", "manager"):
        require_admin(actor)
    with transaction.atomic():
        before = snapshot(tag, ["name", "color"])
        if name is not None:
            clean = " ".join(name.split())
            if not clean or len(clean) > 80:
                raise Invalid({"name": [_("A tag name has 1 to 80 characters.")]})
            key = normalise(clean)
            if Tag.objects.filter(key=key).exclude(pk=tag.pk).exists():
                raise Invalid({"name": [_("A tag with this name exists.")]})
            tag.name, tag.key = clean, key
        if color is not None:
            tag.color = color[:16]
        tag.save(update_fields=["name", "key", "color", "updated_at"])
        changes = diff(before, snapshot(tag, ["name", "color"]))
        if changes:
            record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=tag, changes=changes)
        return tag


def tag_delete(*, actor: Any, tag: Tag) -> None:
    """Delete a tag everywhere (admins only)."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=tag,
            changes={"name": [tag.name, None]},
        )
        tag.delete()


# ---------------------------------------------------------------- custom fields


def custom_field_create(
    *,
    actor: Any,
    entity: str,
    key: str,
    label_en: str,
    kind: str,
    label_fa: str = "",
    label_ar: str = "",
    required: bool = False,
    choices: list[Any] | None = None,
    validation: dict[str, Any] | None = None,
    position: int = 0,
) -> CustomFieldDefinition:
    """Add a custom field to an entity (admins only)."""
    if actor is not None:
        require_admin(actor)
    validate_definition(
        entity=entity, key=key, kind=kind, choices=choices or [], validation=validation or {}
    )
    if not (label_en or "").strip():
        raise Invalid({"label_en": [_("Give the field an English label.")]})
    if CustomFieldDefinition.objects.filter(entity=entity, key=key).exists():
        raise Invalid({"key": [_("This record type already has a field with this key.")]})
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.create(
            entity=entity,
            key=key,
            label_en=label_en.strip(),
            label_fa=label_fa.strip(),
            label_ar=label_ar.strip(),
            kind=kind,
            required=required,
            choices=choices or [],
            validation=validation or {},
            position=position,
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=definition,
            changes={"key": [None, key], "kind": [None, kind]},
        )
        return definition


def custom_field_update(
    *, actor: Any, definition: CustomFieldDefinition, **fields: Any
) -> CustomFieldDefinition:
    """Change labels, required flag, choices, validation, order or active flag."""
    if actor is not None:
        require_admin(actor)
    allowed = {
        "label_en",
        "label_fa",
        "label_ar",
        "required",
        "choices",
        "validation",
        "position",
        "is_active",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid({name: [_("This field cannot be changed.")] for name in unknown})
    validate_definition(
        entity=definition.entity,
        key=definition.key,
        kind=definition.kind,
        choices=fields.get("choices", definition.choices),
        validation=fields.get("validation", definition.validation),
    )
    with transaction.atomic():
        before = snapshot(definition, sorted(allowed))
        for name, value in fields.items():
            setattr(definition, name, value)
        definition.save()
        changes = diff(before, snapshot(definition, sorted(allowed)))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=definition, changes=changes
            )
        return definition


def custom_field_delete(*, actor: Any, definition: CustomFieldDefinition) -> None:
    """Retire a definition; stored values stay in the records' JSON but are no longer shown."""
    custom_field_update(actor=actor, definition=definition, is_active=False)


# ---------------------------------------------------------------- contact points


def _clean_points(
    emails: Sequence[Any] | None, phones: Sequence[Any] | None, errors: FieldErrors
) -> list[tuple[str, str, str, str]]:
    """(kind, label, value, digits) for each e-mail and phone, validated and deduplicated."""
    points: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    labels = set(ContactPoint.Label.values)
    for kind, items, field in (("email", emails, "emails"), ("phone", phones, "phones")):
        items = list(items or [])
        if len(items) > MAX_POINTS:
            errors.add(
                field,
                ngettext("At most %(count)d entry.", "At most %(count)d entries.", MAX_POINTS)
                % {"count": MAX_POINTS},
            )
            continue
        for index, item in enumerate(items):
            raw, label = (
                (item.get("value", ""), item.get("label", ""))
                if isinstance(item, dict)
                else (item, "")
            )
            label = label or ""
            if label and label not in labels:
                errors.add(f"{field}.{index}", _("Unknown label."))
                continue
            try:
                if kind == "email":
                    value, digits = clean_email(str(raw)), ""
                else:
                    value = parse_phone(str(raw))
                    digits = significant_digits(value)
            except (ValueError, PhoneError) as error:
                errors.add(f"{field}.{index}", str(error))
                continue
            if (kind, value) not in seen:
                seen.add((kind, value))
                points.append((kind, label, value, digits))
    return points


def _replace_points(
    record: Contact | Company, points: list[tuple[str, str, str, str]], *, created: bool = False
) -> None:
    link = {"contact": record} if isinstance(record, Contact) else {"company": record}
    if not created:
        ContactPoint.objects.filter(**link).delete()
    if not points:
        return
    ContactPoint.objects.bulk_create(
        ContactPoint(kind=kind, label=label, value=value, digits=digits, position=position, **link)
        for position, (kind, label, value, digits) in enumerate(points)
    )


def _point_values(record: Contact | Company) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {"emails": [], "phones": []}
    for point in record.points.all():
        values["emails" if point.kind == "email" else "phones"].append(point.value)
    return values


def _reassign(actor: Any, record: Contact | Company, owner: Any) -> None:
    """Give `record` to `owner` (and the owner's team) when a different owner is passed."""
    if owner is UNSET or owner is None or owner.pk == record.owner_id:
        return
    if actor is not None:
        require_assign_to(actor, owner)
    record.owner, record.team_id = owner, owner.team_id


def _changed_points(
    record: Contact | Company,
    emails: Sequence[Any] | None,
    phones: Sequence[Any] | None,
    errors: FieldErrors,
) -> list[tuple[str, str, str, str]] | None:
    """The record's e-mails and phones after an update (a list not passed stays as it is),
    validated into `errors`; None when neither list was passed."""
    if emails is None and phones is None:
        return None
    current = _point_values(record)
    return _clean_points(
        emails if emails is not None else current["emails"],
        phones if phones is not None else current["phones"],
        errors,
    )


# ---------------------------------------------------------------- indexing


def _index_contact(
    contact: Contact,
    *,
    points: dict[str, list[str]] | None = None,
    companies: list[str] | None = None,
    tags: list[str] | None = None,
    created: bool = False,
) -> None:
    """Refresh a contact's search entry; a caller that just wrote the contact passes what
    it knows so nothing is read back."""
    points = _point_values(contact) if points is None else points
    if companies is None:
        companies = list(contact.companies.values_list("name", flat=True))
    primary = contact.primary_company.name if contact.primary_company else ""
    if tags is None:
        tags = list(contact.tags.values_list("name", flat=True))
    search.index_record(
        created=created,
        kind="contact",
        record=contact,
        title=contact.full_name,
        subtitle=primary or (points["emails"][0] if points["emails"] else ""),
        parts=[*points["emails"], *companies, *tags],
        phones=points["phones"],
    )


def _index_company(company: Company) -> None:
    points = _point_values(company)
    tags = list(company.tags.values_list("name", flat=True))
    search.index_record(
        kind="company",
        record=company,
        title=company.name,
        subtitle=company.city or company.website,
        parts=[company.website, *points["emails"], *tags],
        phones=points["phones"],
    )


# ---------------------------------------------------------------- contacts


def _resolve_owner(actor: Any, owner: Any) -> Any:
    chosen = owner if owner not in (None, UNSET) else actor
    if chosen is None:
        raise Invalid({"owner_id": [_("Choose an owner.")]})
    if actor is not None:
        require_assign_to(actor, chosen)
    return chosen


def contact_create(
    *,
    actor: Any,
    owner: Any = None,
    emails: Sequence[Any] = (),
    phones: Sequence[Any] = (),
    company: Company | None = None,
    company_role: str = "",
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    important_dates: Sequence[dict[str, Any]] = (),
    **fields: Any,
) -> Contact:
    """Create a contact with its e-mails, phones, company link, tags and custom values.

    Validates everything before writing; raises Invalid (nothing written) or Forbidden.
    """
    if actor is not None:
        require_can_create(actor)
    owner = _resolve_owner(actor, owner)
    errors = FieldErrors()
    unknown = set(fields) - set(CONTACT_FIELDS)
    for name in unknown:
        errors.add(name, _("Unknown field."))
    contact = Contact(
        owner=owner,
        team_id=owner.team_id,
        **{k: v for k, v in fields.items() if k in CONTACT_FIELDS},
    )
    contact.first_name = (contact.first_name or "").strip()
    contact.last_name = (contact.last_name or "").strip()
    if not contact.first_name and not contact.last_name:
        errors.add("last_name", _("Enter a first or last name."))
    model_field_errors(contact, errors, exclude=["owner", "team", "name_key", "custom"])
    points = _clean_points(emails, phones, errors)
    contact.custom = clean_custom_values(entity="contact", values=custom, errors=errors)
    dates = _clean_important_dates(important_dates, errors)
    errors.raise_if_any()
    contact.name_key = normalise(contact.full_name)
    contact.primary_company = company
    with transaction.atomic():
        contact.save()
        _replace_points(contact, points, created=True)
        if company is not None:
            ContactCompany.objects.create(
                contact=contact, company=company, role=company_role, is_primary=True
            )
        tag_rows = tags_resolve(actor=actor, names=tags)
        if tag_rows:
            contact.tags.add(*tag_rows)
        if dates:
            ImportantDate.objects.bulk_create(ImportantDate(contact=contact, **d) for d in dates)
        point_values: dict[str, list[str]] = {
            "emails": [value for kind, _label, value, _digits in points if kind == "email"],
            "phones": [value for kind, _label, value, _digits in points if kind == "phone"],
        }
        tag_names = sorted(tag.name for tag in tag_rows)
        after = {
            **snapshot(contact, _AUDITED_CONTACT),
            **point_values,
            "tags": tag_names,
            **_date_values(contact, dates or None),
        }
        record_audit(
            actor=actor, action=AuditEntry.Action.CREATE, record=contact, changes=diff({}, after)
        )
        events.emit("contact.created", contact, actor, {"id": contact.public_id})
        _index_contact(
            contact,
            points=point_values,
            companies=[company.name] if company is not None else [],
            tags=tag_names,
            created=True,
        )
    return contact


def _clean_important_dates(
    items: Sequence[dict[str, Any]], errors: FieldErrors
) -> list[dict[str, Any]]:
    cleaned = []
    for index, item in enumerate(items or []):
        date = ImportantDate(
            kind=item.get("kind", ""), label=item.get("label", ""), date=item.get("date")
        )
        problems = FieldErrors()
        model_field_errors(date, problems, exclude=["contact", "company"])
        if problems:
            errors.add(f"important_dates.{index}", _("Give a kind and a date."))
            continue
        cleaned.append({"kind": date.kind, "label": date.label, "date": date.date})
    return cleaned


def _date_values(record: Any, asked: Any) -> dict[str, list[str]]:
    """The record's important dates for the audit trail, when the caller changes them."""
    if asked is None:
        return {}
    rows = record.important_dates.order_by("date", "id")
    return {"important_dates": [f"{d.kind} {d.date.isoformat()} {d.label}".strip() for d in rows]}


def _replace_important_dates(record: Any, dates: list[dict[str, Any]]) -> None:
    owner = {"company" if isinstance(record, Company) else "contact": record}
    ImportantDate.objects.filter(**owner).delete()
    ImportantDate.objects.bulk_create(ImportantDate(**owner, **d) for d in dates)


def contact_update(
    *,
    actor: Any,
    contact: Contact,
    owner: Any = UNSET,
    emails: Sequence[Any] | None = None,
    phones: Sequence[Any] | None = None,
    company: Any = UNSET,
    company_role: str = "",
    tags: Iterable[str] | None = None,
    custom: dict[str, Any] | None = None,
    important_dates: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> Contact:
    """Change the fields given (others stay). Lists given (e-mails, phones, tags, important
    dates) replace the old ones.

    Locks the row, validates everything first, audits old and new values."""
    if actor is not None:
        require_write(actor, contact)
    errors = FieldErrors()
    for name in set(fields) - set(CONTACT_FIELDS):
        errors.add(name, _("Unknown field."))
    if errors:
        errors.raise_if_any()
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        before = {
            **snapshot(contact, _AUDITED_CONTACT),
            **_point_values(contact),
            "tags": sorted(contact.tags.values_list("name", flat=True)),
            **_date_values(contact, important_dates),
        }
        for name, value in fields.items():
            setattr(contact, name, value.strip() if isinstance(value, str) else value)
        _reassign(actor, contact, owner)
        if not contact.first_name and not contact.last_name:
            errors.add("last_name", _("Enter a first or last name."))
        model_field_errors(contact, errors, exclude=["owner", "team", "name_key", "custom"])
        points = _changed_points(contact, emails, phones, errors)
        if custom is not None:
            contact.custom = clean_custom_values(
                entity="contact", values=custom, existing=contact.custom, errors=errors
            )
        dates = None if important_dates is None else _clean_important_dates(important_dates, errors)
        errors.raise_if_any()
        if points is not None:
            _replace_points(contact, points)
        if dates is not None:
            _replace_important_dates(contact, dates)
        if company is not UNSET:
            _set_primary_company(contact, company, company_role)
        if tags is not None:
            contact.tags.set(tags_resolve(actor=actor, names=tags))
        contact.name_key = normalise(contact.full_name)
        contact.save()
        after = {
            **snapshot(contact, _AUDITED_CONTACT),
            **_point_values(contact),
            "tags": sorted(contact.tags.values_list("name", flat=True)),
            **_date_values(contact, important_dates),
        }
        changes = diff(before, after)
        if changes:
            action = (
                AuditEntry.Action.ASSIGN if set(changes) == {"owner"} else AuditEntry.Action.UPDATE
            )
            record_audit(actor=actor, action=action, record=contact, changes=changes)
            events.emit(
                "contact.updated",
                contact,
                actor,
                {"id": contact.public_id, "fields": sorted(changes)},
            )
        _index_contact(contact)
    return contact


def _set_primary_company(contact: Contact, company: Company | None, role: str) -> None:
    ContactCompany.objects.filter(contact=contact, is_primary=True).update(is_primary=False)
    if company is not None:
        link, created = ContactCompany.objects.get_or_create(
            contact=contact, company=company, defaults={"role": role, "is_primary": True}
        )
        if not created:
            link.is_primary = True
            if role:
                link.role = role
            link.save(update_fields=["is_primary", "role"])
    contact.primary_company = company


def contact_link_company(
    *, actor: Any, contact: Contact, company: Company, role: str = "", primary: bool = False
) -> ContactCompany:
    """Say that a contact works at (another) company, with a role."""
    if actor is not None:
        require_write(actor, contact)
    with transaction.atomic():
        link, _created = ContactCompany.objects.update_or_create(
            contact=contact, company=company, defaults={"role": role[:120]}
        )
        if primary or contact.primary_company_id is None:
            _set_primary_company(contact, company, role)
            contact.save(update_fields=["primary_company", "updated_at"])
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record=contact,
            changes={"companies": [None, str(company.public_id)]},
            data={"role": role},
        )
        _index_contact(contact)
        return link


def contact_delete(*, actor: Any, contact: Contact) -> None:
    """Delete a contact; the audit row keeps every value it had."""
    if actor is not None:
        require_write(actor, contact)
    with transaction.atomic():
        before = {**snapshot(contact, _AUDITED_CONTACT), **_point_values(contact)}
        record_audit(
            actor=actor, action=AuditEntry.Action.DELETE, record=contact, changes=diff(before, {})
        )
        events.emit("contact.deleted", contact, actor, {"id": contact.public_id})
        search.unindex_record(kind="contact", object_id=contact.pk)
        contact.delete()


# ---------------------------------------------------------------- companies


def company_create(
    *,
    actor: Any,
    name: str,
    owner: Any = None,
    emails: Sequence[Any] = (),
    phones: Sequence[Any] = (),
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    important_dates: Sequence[dict[str, Any]] = (),
    **fields: Any,
) -> Company:
    """Create a company with its e-mails, phones, tags, custom values and important
    dates. Raises Invalid (nothing written)."""
    if actor is not None:
        require_can_create(actor)
    owner = _resolve_owner(actor, owner)
    errors = FieldErrors()
    for field_name in set(fields) - set(COMPANY_FIELDS):
        errors.add(field_name, _("Unknown field."))
    company = Company(
        owner=owner,
        team_id=owner.team_id,
        name=(name or "").strip(),
        **{k: v for k, v in fields.items() if k in COMPANY_FIELDS},
    )
    if not company.name:
        errors.add("name", _("Enter the company name."))
    model_field_errors(company, errors, exclude=["owner", "team", "name_key", "custom"])
    points = _clean_points(emails, phones, errors)
    company.custom = clean_custom_values(entity="company", values=custom, errors=errors)
    dates = _clean_important_dates(important_dates, errors)
    errors.raise_if_any()
    company.name_key = normalise(company.name)
    with transaction.atomic():
        company.save()
        _replace_points(company, points)
        company.tags.set(tags_resolve(actor=actor, names=tags))
        if dates:
            ImportantDate.objects.bulk_create(ImportantDate(company=company, **d) for d in dates)
        after = {
            **snapshot(company, _AUDITED_COMPANY),
            **_point_values(company),
            "tags": sorted(company.tags.values_list("name", flat=True)),
            **_date_values(company, dates or None),
        }
        record_audit(
            actor=actor, action=AuditEntry.Action.CREATE, record=company, changes=diff({}, after)
        )
        events.emit("company.created", company, actor, {"id": company.public_id})
        _index_company(company)
    return company


def company_update(
    *,
    actor: Any,
    company: Company,
    owner: Any = UNSET,
    emails: Sequence[Any] | None = None,
    phones: Sequence[Any] | None = None,
    tags: Iterable[str] | None = None,
    custom: dict[str, Any] | None = None,
    important_dates: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> Company:
    """Change the fields given; lists given (e-mails, phones, tags, important dates)
    replace the old ones. Audited."""
    if actor is not None:
        require_write(actor, company)
    errors = FieldErrors()
    for name in set(fields) - set(COMPANY_FIELDS):
        errors.add(name, _("Unknown field."))
    errors.raise_if_any()
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        before = {
            **snapshot(company, _AUDITED_COMPANY),
            **_point_values(company),
            "tags": sorted(company.tags.values_list("name", flat=True)),
            **_date_values(company, important_dates),
        }
        for name, value in fields.items():
            setattr(company, name, value.strip() if isinstance(value, str) else value)
        if not company.name:
            errors.add("name", _("Enter the company name."))
        _reassign(actor, company, owner)
        model_field_errors(company, errors, exclude=["owner", "team", "name_key", "custom"])
        points = _changed_points(company, emails, phones, errors)
        if custom is not None:
            company.custom = clean_custom_values(
                entity="company", values=custom, existing=company.custom, errors=errors
            )
        dates = None if important_dates is None else _clean_important_dates(important_dates, errors)
        errors.raise_if_any()
        if points is not None:
            _replace_points(company, points)
        if dates is not None:
            _replace_important_dates(company, dates)
        if tags is not None:
            company.tags.set(tags_resolve(actor=actor, names=tags))
        company.name_key = normalise(company.name)
        company.save()
        after = {
            **snapshot(company, _AUDITED_COMPANY),
            **_point_values(company),
            "tags": sorted(company.tags.values_list("name", flat=True)),
            **_date_values(company, important_dates),
        }
        changes = diff(before, after)
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=company, changes=changes
            )
            events.emit(
                "company.updated",
                company,
                actor,
                {"id": company.public_id, "fields": sorted(changes)},
            )
        _index_company(company)
        if "name" in changes:
            for contact in Contact.objects.filter(companies=company):
                _index_contact(contact)
    return company


def company_delete(*, actor: Any, company: Company) -> None:
    """Delete a company; its contacts stay (unlinked). Audited with every value."""
    if actor is not None:
        require_write(actor, company)
    with transaction.atomic():
        before = {**snapshot(company, _AUDITED_COMPANY), **_point_values(company)}
        record_audit(
            actor=actor, action=AuditEntry.Action.DELETE, record=company, changes=diff(before, {})
        )
        events.emit("company.deleted", company, actor, {"id": company.public_id})
        search.unindex_record(kind="company", object_id=company.pk)
        contact_ids = list(Contact.objects.filter(companies=company).values_list("pk", flat=True))
        company.delete()
        for contact in Contact.objects.filter(pk__in=contact_ids).select_related("primary_company"):
            _index_contact(contact)


# ---------------------------------------------------------------- saved list views

SAVED_VIEW_ENTITIES = ("contact", "company", "lead", "deal", "activity")
_MAX_VIEW_FILTERS = 40
_MAX_VIEW_COLUMNS = 30


def _clean_view_state(
    filters: Any, columns: Any, sort: Any, errors: FieldErrors
) -> tuple[dict[str, str], list[str], str]:
    clean_filters: dict[str, str] = {}
    if not isinstance(filters, dict) or len(filters) > _MAX_VIEW_FILTERS:
        errors.add("filters", _("These filters cannot be saved."))
    else:
        for key, value in filters.items():
            if not isinstance(key, str) or len(key) > 80 or len(str(value)) > 300:
                errors.add("filters", _("These filters cannot be saved."))
                break
            if str(value).strip():
                clean_filters[key] = str(value).strip()
    clean_columns: list[str] = []
    if not isinstance(columns, list | tuple) or len(columns) > _MAX_VIEW_COLUMNS:
        errors.add("columns", _("These columns cannot be saved."))
    else:
        clean_columns = [str(c)[:60] for c in columns if str(c).strip()]
    clean_sort = str(sort or "").strip()
    if len(clean_sort) > 40:
        errors.add("sort", _("This sort cannot be saved."))
    return clean_filters, clean_columns, clean_sort


def _require_may_share(actor: Any) -> None:
    if actor is not None and actor.role not in ("admin", "manager"):
        raise Forbidden(str(_("Only managers and administrators share views.")))


def _require_may_change_view(actor: Any, view: SavedView) -> None:
    """The owner changes a view; an administrator may also change a shared one."""
    if actor is None:
        return
    if view.owner_id == actor.pk:
        if view.is_shared:
            _require_may_share(actor)
        return
    if view.is_shared and actor.role == "admin":
        return
    raise Forbidden()


def saved_view_save(
    *,
    actor: Any,
    entity: str,
    name: str,
    filters: dict[str, Any],
    columns: Sequence[str] = (),
    sort: str = "",
    is_shared: bool = False,
    view: SavedView | None = None,
) -> SavedView:
    """Save a list's filters, columns and sort under a name: a new view, or `view`
    replaced. Anyone saves their own views; only managers and admins share them (an admin
    may also replace a shared view). Raises Invalid or Forbidden."""
    if actor is not None and not actor.is_active:
        raise Forbidden()
    if is_shared:
        _require_may_share(actor)
    if view is not None:
        _require_may_change_view(actor, view)
    errors = FieldErrors()
    clean_name = " ".join((name or "").split())
    if not clean_name:
        errors.add("name", _("Name the view."))
    elif len(clean_name) > 80:
        errors.add("name", _("A view name has at most 80 characters."))
    if entity not in SAVED_VIEW_ENTITIES:
        errors.add("entity", _("Unknown list."))
    clean_filters, clean_columns, clean_sort = _clean_view_state(filters, columns, sort, errors)
    owner = view.owner if view is not None else actor
    if owner is None:
        errors.add("owner", _("Choose an owner."))
    elif (
        clean_name
        and SavedView.objects.filter(owner=owner, entity=entity, name=clean_name)
        .exclude(pk=view.pk if view is not None else None)
        .exists()
    ):
        errors.add("name", _("You already have a view with this name."))
    errors.raise_if_any()
    creating = view is None
    with transaction.atomic():
        if view is None:
            view = SavedView(owner=owner, entity=entity)
        view.name = clean_name
        view.filters = clean_filters
        view.columns = clean_columns
        view.sort = clean_sort
        view.is_shared = bool(is_shared)
        view.is_default = False
        view.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE if creating else AuditEntry.Action.UPDATE,
            record=view,
            changes={"name": [None, view.name], "is_shared": [None, view.is_shared]},
        )
    return view


def saved_view_delete(*, actor: Any, view: SavedView) -> None:
    """Delete a saved view (its owner; an administrator for shared views)."""
    _require_may_change_view(actor, view)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=view,
            changes={"name": [view.name, None]},
        )
        view.delete()


def list_columns_set(*, actor: Any, entity: str, columns: Sequence[str]) -> SavedView:
    """Remember the columns the actor chose for a list (their own default settings)."""
    if actor is None or not actor.is_active:
        raise Forbidden()
    errors = FieldErrors()
    if entity not in SAVED_VIEW_ENTITIES:
        errors.add("entity", _("Unknown list."))
    _filters, clean_columns, _sort = _clean_view_state({}, list(columns), "", errors)
    errors.raise_if_any()
    with transaction.atomic():
        view, _created = SavedView.objects.select_for_update().get_or_create(
            owner=actor, entity=entity, is_default=True, defaults={"name": ""}
        )
        view.columns = clean_columns
        view.save(update_fields=["columns", "updated_at"])
    return view
