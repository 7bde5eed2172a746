"""Loading one company, contact, tag or custom field named by user input."""

from __future__ import annotations

from typing import Any

from wasl.contacts.models import Company, Contact, CustomFieldDefinition, SavedView, Tag
from wasl.contacts.selectors import (
    company_list,
    contact_detail,
    custom_field_list,
    saved_view_list,
    tag_list,
)
from wasl.core.access import access_record, parse_public_id
from wasl.core.errors import NotFound
from wasl.core.visibility import visible


def access_contact(
    actor: Any, public_id: Any, *, for_write: bool = False, related: bool = True
) -> Contact:
    """The contact if the actor sees it (and, with for_write, may change it). With
    `related=False` its e-mails, phones, tags and companies are not loaded (for callers
    that only need the row, such as the timeline)."""
    scoped = contact_detail(actor=actor) if related else visible(Contact.objects.all(), actor)
    return access_record(actor, scoped, public_id, for_write=for_write)


def access_company(
    actor: Any, public_id: Any, *, for_write: bool = False, related: bool = True
) -> Company:
    scoped = company_list(actor=actor) if related else visible(Company.objects.all(), actor)
    return access_record(actor, scoped, public_id, for_write=for_write)


def access_tag(actor: Any, public_id: Any) -> Tag:
    tag = tag_list(actor=actor).filter(public_id=parse_public_id(public_id)).first()
    if tag is None:
        raise NotFound()
    return tag


def access_custom_field(actor: Any, public_id: Any) -> CustomFieldDefinition:
    definition = custom_field_list(actor=actor).filter(public_id=parse_public_id(public_id)).first()
    if definition is None:
        raise NotFound()
    return definition


def access_saved_view(actor: Any, public_id: Any, *, entity: str) -> SavedView:
    """A named view of this list that the actor owns or that is shared; anything else,
    someone else's private view included, is not found."""
    view = saved_view_list(actor=actor, entity=entity).filter(public_id=parse_public_id(public_id))
    found = view.first()
    if found is None:
        raise NotFound()
    return found
