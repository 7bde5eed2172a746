"""Lead pages: the record page, edits, status changes and the conversion page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from wasl.contacts.models import Contact
from wasl.contacts.services import company_create, contact_create
from wasl.core.testing import client_for
from wasl.deals.models import Deal
from wasl.deals.services import pipeline_create
from wasl.leads.models import Lead
from wasl.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def url(name: str, lead) -> str:
    return reverse(f"leads:{name}", args=[lead.public_id])


def test_the_record_page_shows_the_lead_with_quick_contact_links(personas):
    lead = make_lead(
        personas.rep_a, company_name="Pars Tyre", email="sara@pars.example", phone="+989121234567"
    )

    response = client_for(personas.rep_a).get(url("lead-detail", lead))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sara Ahmadi" in html and "Pars Tyre" in html
    assert 'href="tel:+989121234567"' in html and "https://wa.me/989121234567" in html
    assert 'href="mailto:sara@pars.example"' in html
    assert "Convert" in html and "Edit lead" in html


def test_another_reps_lead_is_404_and_readonly_sees_no_actions(personas):
    lead = make_lead(personas.rep_a)

    assert client_for(personas.rep_c).get(url("lead-detail", lead)).status_code == 404
    assert client_for(personas.rep_c).get(url("lead-convert", lead)).status_code == 404
    html = client_for(personas.readonly).get(url("lead-detail", lead)).content.decode()
    assert "Edit lead" not in html and "Disqualify" not in html
    forced = client_for(personas.readonly).post(url("lead-status", lead), {"status": "qualified"})
    assert forced.status_code == 403
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_editing_saves_through_the_service_and_shows_its_errors(personas):
    rep = personas.rep_a
    lead = make_lead(rep)
    client = client_for(rep)
    data = {
        "first_name": "Sara",
        "last_name": "Karimi",
        "company_name": "Pars Tyre",
        "email": "SARA@Pars.example",
        "phone": "",
        "source": "referral",
        "owner": str(rep.public_id),
        "tags": "vip",
    }

    saved = client.post(url("lead-edit", lead), data)

    assert saved.status_code == 302
    lead.refresh_from_db()
    assert lead.last_name == "Karimi" and lead.email == "sara@pars.example"
    assert lead.source == "referral" and [t.name for t in lead.tags.all()] == ["vip"]

    refused = client.post(url("lead-edit", lead), {**data, "email": "not an e-mail"})
    assert refused.status_code == 422
    lead.refresh_from_db()
    assert lead.email == "sara@pars.example"


def test_disqualifying_asks_for_the_reason(personas):
    rep = personas.rep_a
    lead = make_lead(rep)
    client = client_for(rep)

    refused = client.post(url("lead-status", lead), {"status": "disqualified"})

    assert refused.status_code == 422
    assert "Say why the lead is disqualified." in refused.content.decode()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW

    done = client.post(url("lead-status", lead), {"status": "disqualified", "reason": "No budget"})
    assert done.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DISQUALIFIED and lead.disqualify_reason == "No budget"
    assert "No budget" in client.get(url("lead-detail", lead)).content.decode()


def test_the_convert_page_shows_the_reuse_preview_and_converts_once(personas):
    rep = personas.rep_a
    pipeline = pipeline_create(actor=None, name="Sales")
    stage = pipeline.stages.get(name="Proposal")
    company = company_create(actor=rep, name="Pars Tyre")
    contact = contact_create(
        actor=rep, first_name="Sara", last_name="Ahmadi", emails=["sara@pars.example"]
    )
    lead = make_lead(rep, email="sara@pars.example", company_name="Pars Tyre")
    client = client_for(rep)

    page = client.get(url("lead-convert", lead)).content.decode()

    assert 'data-reuse="contact"' in page and "Sara Ahmadi" in page
    assert 'data-reuse="company"' in page and "Pars Tyre" in page

    converted = client.post(
        url("lead-convert", lead),
        {
            "create_deal": "on",
            "deal_title": "Tyres for the fleet",
            "stage": str(stage.public_id),
            "deal_amount": "5000",
            "deal_currency": "usd",
        },
    )

    assert converted.status_code == 302
    assert converted["Location"] == reverse("web:resolve", args=["contact", contact.public_id])
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_contact == contact and lead.converted_company == company
    deal = Deal.objects.get()
    assert deal.title == "Tyres for the fleet" and deal.stage == stage
    assert deal.currency == "USD"

    again = client.post(url("lead-convert", lead), {"create_deal": "on"})
    assert again.status_code == 302
    assert Deal.objects.count() == 1 and Contact.objects.count() == 1
    after = client.get(url("lead-convert", lead)).content.decode()
    assert 'id="already-converted"' in after and "Tyres for the fleet" in after


def test_converting_a_lead_with_no_match_creates_the_contact_and_company(personas):
    rep = personas.rep_a
    lead = make_lead(rep, first_name="Reza", last_name="Moradi", company_name="Kavir Steel")
    client = client_for(rep)

    page = client.get(url("lead-convert", lead)).content.decode()
    assert "Create a new contact" in page and "Create a new company" in page

    response = client.post(url("lead-convert", lead), {})

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_contact.first_name == "Reza"
    assert lead.converted_company.name == "Kavir Steel"
    assert not Deal.objects.exists()


def test_a_disqualified_lead_is_not_offered_conversion(personas):
    rep = personas.rep_a
    lead = make_lead(rep, status="disqualified", disqualify_reason="Spam")

    page = client_for(rep).get(url("lead-convert", lead)).content.decode()

    assert "requalify it first" in page and 'type="submit"' not in page.split("<main")[1]
    response = client_for(rep).post(url("lead-convert", lead), {})
    assert response.status_code == 422
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DISQUALIFIED


def test_the_lead_page_shows_the_phone_formatted_in_the_users_digits(personas):
    from wasl.accounts.services import user_update
    from wasl.core.phones import format_phone

    lead = make_lead(personas.rep_a, phone="+98 912 123 4567")
    user_update(actor=None, user=personas.rep_a, language="ar", digits="native")
    html = client_for(personas.rep_a).get(reverse("leads:lead-detail", args=[lead.public_id]))
    html = html.content.decode()
    shown = format_phone("+989121234567").translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert f'<a href="tel:+989121234567" dir="ltr">{shown}</a>' in html
    assert "wa.me/989121234567" in html
