"""A deal's contacts on its page and its creation form: named by name, e-mail or phone,
only among the contacts the user may see."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from wasl.contacts.services import company_create, contact_create
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for
from wasl.deals.models import Deal
from wasl.deals.services import deal_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(personas, pipeline, stages) -> Deal:
    company = company_create(actor=personas.rep_a, name="Pars Trading")
    return deal_create(actor=personas.rep_a, title="Chairs", stage=stages["Lead"], company=company)


def add(client: Client, deal: Deal, text: str):
    return client.post(reverse("deals:contact-add", args=[deal.public_id]), {"contact": text})


def test_a_contact_is_added_by_email_phone_or_name_and_removed(personas, deal):
    rep = personas.rep_a
    sara = contact_create(
        actor=rep,
        first_name="Sara",
        last_name="Karimi",
        emails=["sara@pars.ir"],
        company=deal.company,
    )
    ali = contact_create(actor=rep, first_name="علي", last_name="رضايي", phones=["0912 345 6789"])
    reza = contact_create(actor=rep, first_name="Reza", last_name="Nouri")
    client = client_for(rep)

    page = client.get(reverse("deals:deal-detail", args=[deal.public_id])).content.decode()
    assert 'id="deal-contact-form"' in page
    assert '<option value="sara@pars.ir">Sara Karimi</option>' in page  # the company's

    assert add(client, deal, "SARA@pars.ir").status_code == 302
    assert add(client, deal, "+98 912 345 6789").status_code == 302
    assert add(client, deal, "Reza Nouri").status_code == 302
    assert set(deal.contacts.all()) == {sara, ali, reza}
    assert AuditEntry.objects.filter(object_id=deal.pk, action=AuditEntry.Action.UPDATE).exists()

    removed = client.post(reverse("deals:contact-remove", args=[deal.public_id, ali.public_id]))
    assert removed.status_code == 302
    assert set(deal.contacts.all()) == {sara, reza}


def test_a_name_in_persian_or_arabic_letters_finds_the_same_contact(personas, deal):
    ali = contact_create(actor=personas.rep_a, first_name="علی", last_name="رضایی")
    assert add(client_for(personas.rep_a), deal, "علي رضايي").status_code == 302
    assert list(deal.contacts.all()) == [ali]


def test_an_unknown_or_ambiguous_contact_is_refused_with_a_reason(personas, deal):
    rep = personas.rep_a
    contact_create(actor=rep, first_name="Reza", last_name="Nouri")
    contact_create(actor=rep, first_name="Reza", last_name="Nouri")
    client = client_for(rep)

    unknown = add(client, deal, "Nobody Here")
    twins = add(client, deal, "Reza Nouri")

    assert unknown.status_code == 422
    assert "No contact you can see matches" in unknown.content.decode()
    assert twins.status_code == 422
    assert "give an e-mail or a phone" in twins.content.decode()
    assert not deal.contacts.exists()


def test_another_reps_contact_can_neither_be_added_nor_shown(personas, deal, stages):
    hidden = contact_create(
        actor=personas.rep_c, first_name="Hidden", last_name="Person", emails=["h@x.ir"]
    )
    client = client_for(personas.rep_a)
    refused = add(client, deal, "h@x.ir")
    assert refused.status_code == 422 and not deal.contacts.exists()
    # A contact linked by someone who sees it is not shown to the rep, and stays linked.
    visible_to_rep = contact_create(actor=personas.rep_a, first_name="Sara", last_name="K")
    deal.contacts.add(hidden)
    assert add(client, deal, "Sara K").status_code == 302
    assert set(deal.contacts.all()) == {hidden, visible_to_rep}
    page = client.get(reverse("deals:deal-detail", args=[deal.public_id])).content.decode()
    assert "Hidden" not in page and "Sara K" in page
    gone = client.post(reverse("deals:contact-remove", args=[deal.public_id, hidden.public_id]))
    assert gone.status_code == 404
    assert hidden in deal.contacts.all()


def test_a_read_only_user_gets_no_contact_form_and_cannot_add(personas, deal):
    contact_create(actor=personas.rep_a, first_name="Sara", last_name="Karimi")
    client = client_for(personas.readonly)
    page = client.get(reverse("deals:deal-detail", args=[deal.public_id]))
    if page.status_code == 200:
        assert 'id="deal-contact-form"' not in page.content.decode()
    assert add(client, deal, "Sara Karimi").status_code in (403, 404)
    assert not deal.contacts.exists()


def test_the_new_deal_form_links_a_contact_named_by_email(personas, pipeline, stages):
    rep = personas.rep_a
    sara = contact_create(actor=rep, first_name="Sara", last_name="Karimi", emails=["sara@pars.ir"])
    response = client_for(rep).post(
        "/deals/new/",
        {
            "title": "Desks",
            "currency": "IRR",
            "stage": str(stages["Lead"].public_id),
            "contact": "sara@pars.ir",
            "owner": str(rep.public_id),
        },
    )
    assert response.status_code == 302
    assert list(Deal.objects.get(title="Desks").contacts.all()) == [sara]
