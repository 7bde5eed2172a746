"""A deal's record page: facts, stage path and history, edits, line items, won and lost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from wasl.contacts.models import CustomFieldDefinition
from wasl.core.testing import client_for
from wasl.deals.models import DealStageChange
from wasl.deals.services import deal_move_to_stage, product_create

pytestmark = pytest.mark.django_db


def page(deal) -> str:
    return reverse("deals:deal-detail", args=[deal.public_id])


def test_the_record_page_shows_facts_stage_path_and_history(personas, pipeline, stages, make_deal):
    rep = personas.rep_a
    deal = make_deal(rep, "Fleet renewal", amount=Decimal("2500"), currency="USD")
    deal_move_to_stage(actor=rep, deal=deal, stage=stages["Proposal"])

    response = client_for(rep).get(page(deal))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Fleet renewal" in html and "$2,500.00" in html
    history = html[html.index('id="stage-history"') :]
    assert history.index("Proposal") < history.index("Created in")
    assert 'aria-current="step"' in html
    assert "Mark as won" in html and "Mark as lost" in html


def test_another_reps_deal_page_is_404_and_readonly_gets_no_edit_form(
    personas, pipeline, make_deal
):
    deal = make_deal(personas.rep_a)

    assert client_for(personas.rep_c).get(page(deal)).status_code == 404
    html = client_for(personas.readonly).get(page(deal)).content.decode()
    assert "Edit deal" not in html and "Mark as lost" not in html
    forced = client_for(personas.readonly).post(
        reverse("deals:deal-edit", args=[deal.public_id]), {"title": "Hijacked"}
    )
    assert forced.status_code == 403


def test_editing_saves_fields_tags_and_custom_fields_through_the_service(
    personas, pipeline, make_deal
):
    CustomFieldDefinition.objects.create(
        entity="deal", key="region", label_en="Region", kind="text"
    )
    CustomFieldDefinition.objects.create(
        entity="deal", key="renewal", label_en="Renewal", kind="date"
    )
    rep = personas.rep_a
    deal = make_deal(rep, amount=Decimal("10"), currency="USD")

    response = client_for(rep).post(
        reverse("deals:deal-edit", args=[deal.public_id]),
        {
            "title": "Renamed",
            "amount": "450.25",
            "currency": "usd",
            "probability": "35",
            "expected_close": "2026/12/31",
            "owner": str(rep.public_id),
            "tags": "vip, fleet",
            "notes": "Call after Nowruz",
            "custom__region": "North",
            "custom__renewal": "2027-03-01",
        },
    )

    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Renamed" and deal.amount == Decimal("450.25")
    assert deal.probability == 35 and str(deal.expected_close) == "2026-12-31"
    assert deal.custom == {"region": "North", "renewal": "2027-03-01"}
    assert sorted(t.name for t in deal.tags.all()) == ["fleet", "vip"]
    html = client_for(rep).get(page(deal)).content.decode()
    # Shown in the user's calendar (the organisation's default here), not as stored.
    shown = html.split('Renewal</dt><dd class="col-7">')[1].split("</dd>")[0]
    assert shown and "2027-03-01" not in shown


def test_an_invalid_edit_shows_the_errors_and_writes_nothing(personas, pipeline, make_deal):
    rep = personas.rep_a
    deal = make_deal(rep, "Keep me")

    response = client_for(rep).post(
        reverse("deals:deal-edit", args=[deal.public_id]),
        {"title": "", "amount": "x", "currency": "USD", "probability": "500"},
    )

    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.title == "Keep me"


def test_line_items_are_added_and_removed_and_drive_the_amount(personas, pipeline, make_deal):
    rep = personas.rep_a
    product = product_create(actor=None, name="Tyre", price=Decimal("100"), currency="USD")
    deal = make_deal(rep, currency="USD")
    client = client_for(rep)

    added = client.post(
        reverse("deals:line-add", args=[deal.public_id]),
        {"product": str(product.public_id), "quantity": "4", "discount_percent": "10"},
    )

    assert added.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("360.00")
    html = client.get(page(deal)).content.decode()
    assert "Tyre" in html and "$360.00" in html
    line = deal.line_items.get()
    removed = client.post(reverse("deals:line-remove", args=[deal.public_id, line.position]))
    assert removed.status_code == 302
    assert not deal.line_items.exists()


def test_mark_lost_from_the_page_dialog_redirects_to_the_deal(
    personas, pipeline, stages, make_deal, reason
):
    rep = personas.rep_a
    deal = make_deal(rep)
    client = client_for(rep)
    url = reverse("deals:deal-move", args=[deal.public_id])

    refused = client.post(
        url, {"stage": str(stages["Lost"].public_id)}, headers={"X-Wasl-Fragment": "1"}
    )
    assert refused.status_code == 422 and "Say why the deal was lost." in refused.content.decode()

    done = client.post(
        url,
        {"stage": str(stages["Lost"].public_id), "lost_reason": str(reason.public_id)},
        headers={"X-Wasl-Fragment": "1"},
    )

    assert done.status_code == 204
    assert done["X-Wasl-Redirect"] == page(deal)
    deal.refresh_from_db()
    assert deal.stage == stages["Lost"]
    html = client.get(page(deal)).content.decode()
    assert "Price too high" in html


def test_the_move_form_works_without_javascript(personas, pipeline, stages, make_deal):
    rep = personas.rep_a
    deal = make_deal(rep, amount=Decimal("10"), currency="USD")
    client = client_for(rep)
    url = reverse("deals:deal-move", args=[deal.public_id])

    form = client.get(url, {"stage": str(stages["Won"].public_id)})
    assert form.status_code == 200 and "Final amount" in form.content.decode()

    done = client.post(url, {"stage": str(stages["Won"].public_id), "amount": "99"})

    assert done.status_code == 302 and done["Location"] == page(deal)
    deal.refresh_from_db()
    assert deal.stage == stages["Won"] and deal.amount == Decimal("99")
    assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_the_record_page_costs_a_bounded_number_of_queries(
    personas, pipeline, stages, make_deal, django_assert_max_num_queries
):
    rep = personas.rep_a
    deal = make_deal(rep, currency="USD")
    deal_move_to_stage(actor=rep, deal=deal, stage=stages["Proposal"])
    client = client_for(rep)
    client.get(page(deal))

    with django_assert_max_num_queries(25):
        assert client.get(page(deal)).status_code == 200
