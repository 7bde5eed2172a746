"""Converting a lead: exactly once, reusing the customers the actor sees, keeping history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wasl.contacts.models import Company, Contact, ContactCompany
from wasl.contacts.services import company_create, contact_create
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.leads.models import Lead
from wasl.leads.services import (
    lead_conversion_preview,
    lead_convert,
    lead_set_status,
)
from wasl.leads.tests.factories import lead_audits, lead_events, make_lead

pytestmark = pytest.mark.django_db


def _deals_ready() -> bool:
    try:
        from wasl.deals import services
    except ImportError:
        return False
    return hasattr(services, "deal_create")


needs_deals = pytest.mark.skipif(not _deals_ready(), reason="wasl.deals.services.deal_create")


@pytest.fixture
def pipeline():
    from wasl.deals.models import Pipeline, Stage

    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    Stage.objects.create(pipeline=pipeline, name="Proposal", position=0, probability=20)
    Stage.objects.create(pipeline=pipeline, name="Won", position=1, probability=100, kind="won")
    return pipeline


def full_lead(actor, **fields):
    values = {
        "first_name": "Sara",
        "last_name": "Ahmadi",
        "company_name": "Parsian Trading",
        "title": "Buyer",
        "email": "sara@example.com",
        "phone": "09123456789",
        "website": "https://parsian.example",
        "city": "Tehran",
        "country": "IR",
        "source": "exhibition",
        "tags": ["Expo 2025"],
    }
    values.update(fields)
    return make_lead(actor, **values)


def test_converting_creates_a_contact_linked_to_a_new_company(personas):
    lead = full_lead(personas.rep_a)
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.created_contact and result.created_company
    contact, company = result.contact, result.company
    assert (contact.first_name, contact.last_name, contact.title) == ("Sara", "Ahmadi", "Buyer")
    assert contact.primary_company == company
    assert company.name == "Parsian Trading"
    assert company.website == "https://parsian.example"
    assert [(p.kind, p.value) for p in contact.points.order_by("kind")] == [
        ("email", "sara@example.com"),
        ("phone", "+989123456789"),
    ]
    for record in (contact, company):
        assert record.owner == personas.rep_a
        assert record.team_id == personas.rep_a.team_id
        assert record.source == "exhibition"
        assert list(record.tags.values_list("name", flat=True)) == ["Expo 2025"]
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert lead.converted_at is not None
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (
        contact,
        company,
        None,
    )


def test_converting_again_creates_nothing_and_returns_the_same_records(personas):
    lead = full_lead(personas.rep_a)
    first = lead_convert(actor=personas.rep_a, lead=lead)
    counts = (Contact.objects.count(), Company.objects.count())
    stale = Lead.objects.get(pk=lead.pk)
    again = lead_convert(actor=personas.rep_a, lead=stale)
    assert (again.contact, again.company, again.deal) == (first.contact, first.company, None)
    assert not again.created_contact and not again.created_company
    assert (Contact.objects.count(), Company.objects.count()) == counts
    assert lead_audits(lead.pk, "convert").count() == 1
    assert lead_events(lead.pk, "lead.converted").count() == 1


@needs_deals
def test_converting_with_a_deal_creates_contact_company_and_deal_once(personas, pipeline):
    from wasl.deals.models import Deal

    lead = full_lead(personas.rep_a)
    result = lead_convert(
        actor=personas.rep_a,
        lead=lead,
        create_deal=True,
        deal_title="Parsian first order",
        deal_amount=Decimal("1500000"),
        deal_currency="IRR",
    )
    deal = result.deal
    assert deal.title == "Parsian first order"
    assert deal.amount == Decimal("1500000")
    assert deal.company == result.company
    assert list(deal.contacts.all()) == [result.contact]
    assert deal.owner == personas.rep_a
    assert deal.pipeline == pipeline
    again = lead_convert(actor=personas.rep_a, lead=lead, create_deal=True)
    assert again.deal == deal
    assert Deal.objects.count() == 1
    lead.refresh_from_db()
    assert lead.converted_deal == deal


@needs_deals
def test_a_deal_title_defaults_to_the_company_name(personas, pipeline):
    result = lead_convert(actor=personas.rep_a, lead=full_lead(personas.rep_a), create_deal=True)
    assert result.deal.title == "Parsian Trading"


@needs_deals
def test_an_invalid_deal_rolls_back_the_whole_conversion(personas, pipeline):
    lead = full_lead(personas.rep_a)
    with pytest.raises(Invalid):
        lead_convert(actor=personas.rep_a, lead=lead, create_deal=True, deal_currency="XXXX")
    assert not Contact.objects.exists()
    assert not Company.objects.exists()
    lead.refresh_from_db()
    assert lead.status == "new"


def test_an_existing_contact_with_the_same_email_is_reused(personas):
    existing = contact_create(actor=personas.rep_a, first_name="Sara", emails=["SARA@example.com"])
    lead = full_lead(personas.rep_a, phone="")
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.contact == existing
    assert not result.created_contact
    assert Contact.objects.count() == 1
    # The reused contact now works at the new company.
    assert ContactCompany.objects.filter(contact=existing, company=result.company).exists()


def test_an_existing_contact_with_the_same_phone_typed_differently_is_reused(personas):
    existing = contact_create(actor=personas.rep_a, first_name="Sara", phones=["+98 912 345 6789"])
    lead = full_lead(personas.rep_a, email="", phone="۰۹۱۲-۳۴۵-۶۷۸۹")
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.contact == existing
    assert not result.created_contact


@pytest.mark.parametrize(
    ("existing_name", "lead_name"),
    [
        ("شركت پارسيان", "شرکت پارسیان"),  # Arabic kaf and yeh against Persian ones
        ("مؤسسة النور", "موسسه النور"),  # hamza on waw, teh marbuta
        ("Parsian  Trading", "parsian trading"),
    ],
)
def test_an_existing_company_with_a_variant_spelling_is_reused(personas, existing_name, lead_name):
    existing = company_create(actor=personas.rep_a, name=existing_name)
    lead = full_lead(personas.rep_a, company_name=lead_name)
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.company == existing
    assert not result.created_company
    assert Company.objects.count() == 1
    assert result.contact.primary_company == existing


def test_a_contact_the_actor_cannot_see_is_not_reused(personas):
    hidden = contact_create(actor=personas.rep_b, first_name="Sara", emails=["sara@example.com"])
    hidden_company = company_create(actor=personas.rep_b, name="Parsian Trading")
    result = lead_convert(actor=personas.rep_a, lead=full_lead(personas.rep_a))
    assert result.created_contact and result.created_company
    assert result.contact != hidden and result.company != hidden_company
    assert result.contact.owner == personas.rep_a


def test_a_manager_reuses_what_their_team_owns(personas):
    teammate_contact = contact_create(
        actor=personas.rep_b, first_name="Sara", emails=["sara@example.com"]
    )
    lead = full_lead(personas.rep_a)
    result = lead_convert(actor=personas.manager_a, lead=lead)
    assert result.contact == teammate_contact
    assert result.created_company
    assert result.company.owner == personas.rep_a


def test_contact_and_company_given_explicitly_override_matching(personas):
    matching = contact_create(actor=personas.rep_a, first_name="Sara", emails=["sara@example.com"])
    chosen = contact_create(actor=personas.rep_a, first_name="Other", last_name="Person")
    company = company_create(actor=personas.rep_a, name="Elsewhere")
    result = lead_convert(
        actor=personas.rep_a, lead=full_lead(personas.rep_a), contact=chosen, company=company
    )
    assert (result.contact, result.company) == (chosen, company)
    assert result.contact != matching
    assert not result.created_contact and not result.created_company
    assert Company.objects.count() == 1


def test_an_explicit_contact_the_actor_cannot_see_is_not_found(personas):
    hidden = contact_create(actor=personas.rep_b, first_name="Hidden")
    lead = full_lead(personas.rep_a)
    with pytest.raises(NotFound):
        lead_convert(actor=personas.rep_a, lead=lead, contact=hidden)
    lead.refresh_from_db()
    assert lead.status == "new"


def test_a_disqualified_lead_is_not_converted(personas):
    lead = full_lead(personas.rep_a)
    lead_set_status(actor=personas.rep_a, lead=lead, status="disqualified", reason="Spam")
    with pytest.raises(Conflict):
        lead_convert(actor=personas.rep_a, lead=lead)
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_a_company_only_lead_becomes_a_company(personas):
    lead = make_lead(personas.rep_a, first_name="", last_name="", company_name="Parsian")
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.contact is None and result.created_company
    assert not Contact.objects.exists()


def test_a_lead_without_any_name_cannot_be_converted(personas):
    lead = make_lead(personas.rep_a, first_name="", last_name="", email="who@example.com")
    with pytest.raises(Invalid) as caught:
        lead_convert(actor=personas.rep_a, lead=lead)
    assert "__all__" in caught.value.fields


def test_who_cannot_change_the_lead_cannot_convert_it(personas):
    lead = full_lead(personas.rep_a)
    for outsider in (personas.readonly, personas.rep_b):
        with pytest.raises(Forbidden):
            lead_convert(actor=outsider, lead=lead)
    assert not Contact.objects.exists()


def test_conversion_is_audited_with_the_records_it_made(personas):
    lead = full_lead(personas.rep_a)
    result = lead_convert(actor=personas.rep_a, lead=lead)
    audit = lead_audits(lead.pk, "convert").get()
    assert audit.actor == personas.rep_a
    assert audit.data == {
        "id": str(lead.public_id),
        "contact_id": str(result.contact.public_id),
        "company_id": str(result.company.public_id),
        "deal_id": None,
        "created_contact": True,
        "created_company": True,
        "created_deal": False,
        "linked_contact_to_company": True,
    }
    assert audit.changes["status"] == ["new", "converted"]


def test_conversion_is_announced_in_the_outbox(personas):
    lead = full_lead(personas.rep_a)
    result = lead_convert(actor=personas.rep_a, lead=lead)
    event = lead_events(lead.pk, "lead.converted").get()
    assert event.actor_id == personas.rep_a.pk
    assert event.data["contact_id"] == str(result.contact.public_id)
    assert event.data["company_id"] == str(result.company.public_id)


def test_custom_values_carry_over_where_the_target_has_the_same_field(personas):
    from wasl.contacts.services import custom_field_create

    custom_field_create(actor=None, entity="lead", key="budget", label_en="B", kind="number")
    custom_field_create(actor=None, entity="company", key="budget", label_en="B", kind="number")
    custom_field_create(actor=None, entity="lead", key="heat", label_en="H", kind="text")
    lead = full_lead(personas.rep_a, custom={"budget": 10, "heat": "warm"})
    result = lead_convert(actor=personas.rep_a, lead=lead)
    assert result.company.custom == {"budget": 10}
    assert result.contact.custom == {}


def test_the_preview_names_what_would_be_reused(personas):
    existing = contact_create(actor=personas.rep_a, first_name="Sara", emails=["sara@example.com"])
    lead = full_lead(personas.rep_a)
    preview = lead_conversion_preview(actor=personas.rep_a, lead=lead)
    assert preview == {
        "converted": False,
        "contact": {"id": str(existing.public_id), "name": existing.full_name},
        "company": None,
        "creates_contact": False,
        "creates_company": True,
    }
    assert lead_conversion_preview(actor=personas.rep_b, lead=lead)["creates_contact"] is True
    result = lead_convert(actor=personas.rep_a, lead=lead)
    lead.refresh_from_db()
    preview = lead_conversion_preview(actor=personas.rep_a, lead=lead)
    assert preview["converted"] is True
    assert preview["company"] == {"id": str(result.company.public_id), "name": "Parsian Trading"}
    assert not preview["creates_company"]


def test_the_operator_reuses_any_matching_contact_and_company(personas):
    contact = contact_create(actor=personas.rep_b, first_name="Sara", emails=["sara@example.com"])
    company = company_create(actor=personas.rep_c, name="Parsian Trading")
    result = lead_convert(actor=None, lead=full_lead(personas.rep_a))
    assert (result.contact, result.company) == (contact, company)
    assert not result.created_contact and not result.created_company
