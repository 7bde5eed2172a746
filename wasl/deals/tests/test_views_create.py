"""New deals from the web: the list's quick add, the full form and its "New deal" links on
the board and the 360 pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from wasl.accounts.services import organisation_update
from wasl.contacts.services import company_create, contact_create
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.core.testing import client_for
from wasl.deals.models import Deal

pytestmark = pytest.mark.django_db

NEW = "/deals/new/"
QUICK = "/deals/quick-add/"


def test_the_quick_add_creates_a_deal_in_the_first_open_stage_through_the_service(
    personas, pipeline, stages, other_pipeline
):
    organisation_update(actor=None, currency="AED")
    client = client_for(personas.rep_a)

    page = client.get("/deals/").content.decode()
    response = client.post(
        QUICK,
        {"title": "Fleet tyres", "amount": "1200", "currency": "AED", "stage": ""},
        HTTP_HX_REQUEST="true",
    )
    added = client.post(
        QUICK,
        {
            "title": "Fleet tyres",
            "amount": "1200",
            "currency": "aed",
            "stage": str(stages["Lead"].public_id),
            "expected_close": "2026-12-20",
        },
        HTTP_HX_REQUEST="true",
    )

    assert 'id="inline-create"' in page and 'href="/deals/new/"' in page
    assert 'value="AED"' in page  # the organisation's currency
    assert f'value="{stages["Lead"].public_id}" selected' in page
    quick_form = page.split('id="inline-create"')[1].split("</form>")[0]
    assert str(stages["Lost"].public_id) not in quick_form
    assert response["HX-Retarget"] == "#inline-create"
    assert added.status_code == 200 and "Fleet tyres" in added.content.decode()
    deal = Deal.objects.get()
    assert (deal.stage, deal.owner, deal.amount, deal.currency) == (
        stages["Lead"],
        personas.rep_a,
        Decimal("1200"),
        "AED",
    )
    assert deal.expected_close == dt.date(2026, 12, 20)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_id=deal.pk).exists()
    assert OutboxEvent.objects.filter(name="deal.created").exists()


def test_the_full_form_prefills_a_companys_deal_and_links_its_contact(personas, pipeline, stages):
    organisation_update(actor=None, calendar="jalali")
    rep = personas.rep_a
    company = company_create(actor=rep, name="Pars Trading")
    contact = contact_create(actor=rep, first_name="Sara", last_name="Karimi", company=company)
    client = client_for(rep)
    url = f"{NEW}?company={company.public_id}"

    form = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "title": "Office chairs",
            "amount": "5000",
            "currency": "IRR",
            "stage": str(stages["Proposal"].public_id),
            "company": "Pars Trading",
            "contact": "Sara Karimi",
            "expected_close": "1405/09/30",
            "owner": str(rep.public_id),
        },
    )

    assert 'value="Pars Trading"' in form and "Sara Karimi" in form
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.public_id}/"
    assert deal.company == company and list(deal.contacts.all()) == [contact]
    assert deal.stage == stages["Proposal"]
    assert deal.expected_close == dt.date(2026, 12, 21)  # 30 Azar 1405


def test_the_full_form_refuses_an_unknown_company_and_writes_nothing(personas, pipeline):
    client = client_for(personas.rep_a)
    response = client.post(
        NEW, {"title": "X", "currency": "IRR", "stage": "", "owner": str(personas.rep_a.public_id)}
    )
    unknown = client.post(
        NEW,
        {
            "title": "X",
            "currency": "IRR",
            "stage": str(pipeline.stages.first().public_id),
            "company": "Nobody Ltd",
            "owner": str(personas.rep_a.public_id),
        },
    )

    assert response.status_code == 422 and unknown.status_code == 422
    assert "No company you can see has this name." in unknown.content.decode()
    assert not Deal.objects.exists()


def test_a_rep_is_offered_only_themselves_as_owner(personas, pipeline):
    form = client_for(personas.rep_a).get(NEW).content.decode()
    assert str(personas.rep_a.public_id) in form
    assert str(personas.rep_b.public_id) not in form


def test_another_reps_company_cannot_be_prefilled(personas, pipeline):
    company = company_create(actor=personas.rep_c, name="Hidden Co")
    response = client_for(personas.rep_a).get(f"{NEW}?company={company.public_id}")
    assert response.status_code == 404


def test_new_deal_is_offered_on_the_board_and_the_360_deals_panel(personas, pipeline):
    rep = personas.rep_a
    company = company_create(actor=rep, name="Pars Trading")
    contact = contact_create(actor=rep, first_name="Sara", last_name="Karimi")
    client = client_for(rep)

    board = client.get(reverse("deals:board")).content.decode()
    company_panel = client.get(reverse("records:deals", args=["company", company.public_id]))
    contact_panel = client.get(reverse("records:deals", args=["contact", contact.public_id]))

    assert f'href="/deals/new/?pipeline={pipeline.public_id}"' in board
    assert f'href="/deals/new/?company={company.public_id}"' in company_panel.content.decode()
    assert f'href="/deals/new/?contact={contact.public_id}"' in contact_panel.content.decode()


def test_readonly_is_not_offered_new_deals_and_is_refused_when_forcing(personas, pipeline, stages):
    company = company_create(actor=personas.rep_a, name="Pars Trading")
    client = client_for(personas.readonly)

    listing = client.get("/deals/").content.decode()
    board = client.get(reverse("deals:board")).content.decode()
    panel = client.get(reverse("records:deals", args=["company", company.public_id]))
    forced_form = client.get(NEW)
    forced_post = client.post(
        NEW,
        {
            "title": "X",
            "currency": "IRR",
            "stage": str(stages["Lead"].public_id),
            "owner": str(personas.readonly.public_id),
        },
    )
    forced_quick = client.post(QUICK, {"title": "X", "currency": "IRR"})

    assert "/deals/new/" not in listing and 'id="inline-create"' not in listing
    assert "/deals/new/" not in board
    assert "/deals/new/" not in panel.content.decode()
    assert (forced_form.status_code, forced_post.status_code, forced_quick.status_code) == (
        403,
        403,
        403,
    )
    assert not Deal.objects.exists()


def test_readonly_sees_no_won_or_lost_drop_zones(personas, pipeline):
    readonly = client_for(personas.readonly).get(reverse("deals:board")).content.decode()
    rep = client_for(personas.rep_a).get(reverse("deals:board")).content.decode()

    assert 'class="wasl-dropbar"' in rep and "Drop a deal here to mark it lost." in rep
    assert 'class="wasl-dropbar"' not in readonly
    assert "Drop a deal here" not in readonly
