from __future__ import annotations

import datetime as dt

import pytest

from wasl.contacts import services
from wasl.contacts.models import Company, Contact, ContactPoint, Tag
from wasl.core.audit import entries_for
from wasl.core.errors import Forbidden, Invalid
from wasl.core.models import AuditEntry, OutboxEvent, SearchEntry
from wasl.core.search import search

pytestmark = pytest.mark.django_db


def test_contact_create_stores_e164_phones_lowercase_emails_and_tags(personas):
    contact = services.contact_create(
        actor=personas.rep_a,
        first_name="  سارا ",
        last_name="كريمي",
        emails=["Sara@Example.COM", "sara@example.com"],
        phones=["۰۹۱۲ ۳۴۵ ۶۷۸۹", {"value": "+971 50 123 4567", "label": "work"}],
        tags=["VIP", "vip ", "مشتری ویژه"],
    )
    points = list(ContactPoint.objects.filter(contact=contact).order_by("position"))
    assert [(p.kind, p.value, p.digits) for p in points] == [
        ("email", "sara@example.com", ""),
        ("phone", "+989123456789", "9123456789"),
        ("phone", "+971501234567", "501234567"),
    ]
    assert contact.first_name == "سارا"
    assert contact.owner == personas.rep_a and contact.team == personas.rep_a.team
    assert sorted(contact.tags.values_list("name", flat=True)) == ["VIP", "مشتری ویژه"]
    assert contact.name_key == "سارا کریمی"


def test_contact_create_writes_audit_event_and_search_entry(personas):
    contact = services.contact_create(
        actor=personas.rep_a, first_name="Omid", phones=["09121112233"]
    )
    entry = entries_for(contact).get(action="create")
    assert entry.actor == personas.rep_a
    assert entry.changes["first_name"] == [None, "Omid"]
    assert entry.changes["phones"] == [None, ["+989121112233"]]
    assert OutboxEvent.objects.filter(name="contact.created", object_id=contact.pk).exists()
    assert SearchEntry.objects.get(kind="contact", object_id=contact.pk).title == "Omid"


def test_invalid_contact_writes_nothing_and_names_every_bad_field(personas):
    with pytest.raises(Invalid) as error:
        services.contact_create(
            actor=personas.rep_a,
            first_name="",
            last_name="",
            emails=["not-an-email"],
            phones=["12"],
            country="IRAN",
            custom={"unknown": 1},
        )
    assert set(error.value.fields) == {
        "last_name",
        "emails.0",
        "phones.0",
        "country",
        "custom.unknown",
    }
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.filter(content_type__model="contact").exists()
    assert not Tag.objects.exists()


def test_readonly_cannot_create_and_rep_cannot_give_records_to_another_rep(personas):
    with pytest.raises(Forbidden):
        services.contact_create(actor=personas.readonly, first_name="X")
    with pytest.raises(Forbidden):
        services.contact_create(actor=personas.rep_a, first_name="X", owner=personas.rep_b)
    contact = services.contact_create(
        actor=personas.manager_a, first_name="X", owner=personas.rep_b
    )
    assert contact.owner == personas.rep_b
    with pytest.raises(Forbidden):
        services.contact_create(actor=personas.manager_a, first_name="Y", owner=personas.rep_c)


def test_update_audits_old_and_new_values_and_replaces_lists(personas):
    contact = services.contact_create(
        actor=personas.rep_a,
        first_name="Ali",
        emails=["a@x.com"],
        phones=["09120000001"],
        tags=["a"],
    )
    services.contact_update(
        actor=personas.rep_a, contact=contact, last_name="Ahmadi", emails=["b@x.com"], tags=["b"]
    )
    entry = entries_for(contact).get(action="update")
    assert entry.changes == {
        "emails": [["a@x.com"], ["b@x.com"]],
        "last_name": ["", "Ahmadi"],
        "tags": [["a"], ["b"]],
    }
    contact.refresh_from_db()
    assert list(contact.points.filter(kind="phone").values_list("value", flat=True)) == [
        "+989120000001"
    ]
    assert [h.title for h in search(personas.rep_a, "ahmadi")] == ["Ali Ahmadi"]


def test_update_with_invalid_value_changes_nothing(personas):
    contact = services.contact_create(actor=personas.rep_a, first_name="Ali", emails=["a@x.com"])
    with pytest.raises(Invalid):
        services.contact_update(
            actor=personas.rep_a, contact=contact, first_name="Reza", emails=["broken"]
        )
    contact.refresh_from_db()
    assert contact.first_name == "Ali"
    assert list(contact.points.values_list("value", flat=True)) == ["a@x.com"]


def test_teammate_rep_cannot_update_but_manager_can_reassign(personas):
    contact = services.contact_create(actor=personas.rep_a, first_name="Ali")
    with pytest.raises(Forbidden):
        services.contact_update(actor=personas.rep_b, contact=contact, first_name="Hacked")
    services.contact_update(actor=personas.manager_a, contact=contact, owner=personas.rep_b)
    contact.refresh_from_db()
    assert contact.owner == personas.rep_b
    assert entries_for(contact).filter(action="assign").exists()
    assert (
        SearchEntry.objects.get(kind="contact", object_id=contact.pk).owner_id == personas.rep_b.pk
    )


def test_company_link_sets_primary_company_and_reindexes_contact(personas):
    company = services.company_create(actor=personas.rep_a, name="شركة النور", city="Dubai")
    contact = services.contact_create(
        actor=personas.rep_a, first_name="Huda", company=company, company_role="CEO"
    )
    assert contact.primary_company == company
    assert contact.memberships.get().role == "CEO"
    assert [h.title for h in search(personas.rep_a, "شرکة النور", kinds=["contact"])] == ["Huda"]
    services.company_update(actor=personas.rep_a, company=company, name="Noor Trading")
    assert [h.title for h in search(personas.rep_a, "noor trad", kinds=["contact"])] == ["Huda"]


def test_delete_keeps_every_value_in_the_audit_trail(personas):
    contact = services.contact_create(actor=personas.rep_a, first_name="Ali", emails=["a@x.com"])
    pk = contact.pk
    services.contact_delete(actor=personas.rep_a, contact=contact)
    assert not Contact.objects.filter(pk=pk).exists()
    assert not SearchEntry.objects.filter(kind="contact", object_id=pk).exists()
    entry = AuditEntry.objects.get(object_id=pk, action="delete", content_type__model="contact")
    assert entry.changes["first_name"] == ["Ali", None]
    assert entry.changes["emails"] == [["a@x.com"], None]


def test_company_delete_leaves_contacts(personas):
    company = services.company_create(actor=personas.rep_a, name="Acme")
    contact = services.contact_create(actor=personas.rep_a, first_name="Ali", company=company)
    services.company_delete(actor=personas.rep_a, company=company)
    contact.refresh_from_db()
    assert contact.primary_company is None
    assert not Company.objects.exists()


def test_important_dates_are_validated_and_kept(personas):
    contact = services.contact_create(
        actor=personas.rep_a,
        first_name="Ali",
        birthday=dt.date(1990, 3, 21),
        important_dates=[{"kind": "contract_end", "date": dt.date(2027, 1, 1)}],
    )
    assert contact.important_dates.get().kind == "contract_end"
    with pytest.raises(Invalid) as error:
        services.contact_create(
            actor=personas.rep_a,
            first_name="B",
            important_dates=[{"kind": "nonsense", "date": None}],
        )
    assert "important_dates.0" in error.value.fields


def test_tags_are_shared_by_normalised_name(personas):
    first = services.tags_resolve(actor=personas.rep_a, names=["مشتري"])
    second = services.tags_resolve(actor=personas.rep_b, names=["مشتری"])
    assert first == second
    assert Tag.objects.count() == 1
