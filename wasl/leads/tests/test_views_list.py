"""The leads list: filters, bulk actions, inline create and its cost."""

from __future__ import annotations

import pytest
from django.urls import reverse

from wasl.core.testing import client_for
from wasl.leads.models import Lead
from wasl.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


LIST = "/leads/"


def test_the_list_filters_by_status_and_source_and_hides_other_reps_leads(personas):
    rep = personas.rep_a
    make_lead(rep, first_name="Nima", source="referral")
    make_lead(rep, first_name="Omid", status="qualified")
    make_lead(personas.rep_c, first_name="Hidden")
    client = client_for(rep)

    everything = client.get(LIST).content.decode()
    qualified = client.get(LIST, {"status": "qualified"}).content.decode()
    referred = client.get(LIST, {"source": "referral"}).content.decode()

    assert "Nima" in everything and "Omid" in everything and "Hidden" not in everything
    assert "Omid" in qualified and "Nima" not in qualified
    assert "Nima" in referred and "Omid" not in referred


def test_the_list_costs_at_most_fifteen_queries(personas, django_assert_max_num_queries):
    rep = personas.rep_a
    for i in range(30):
        make_lead(rep, first_name=f"Lead {i}", tags=["vip"])
    client = client_for(rep)
    client.get(LIST)

    with django_assert_max_num_queries(15):
        response = client.get(LIST, {"status": "new", "tag": "vip"})

    assert response.status_code == 200
    assert len(response.content) < 40_000


def test_inline_create_adds_the_row_or_shows_the_errors(personas):
    client = client_for(personas.rep_a)
    url = reverse("leads:lead-inline")

    added = client.post(
        url,
        {"first_name": "Parisa", "phone": "0912 345 6789", "source": "phone"},
        headers={"HX-Request": "true"},
    )

    assert added.status_code == 200 and "Parisa" in added.content.decode()
    lead = Lead.objects.get(first_name="Parisa")
    assert lead.owner == personas.rep_a and lead.phone == "+989123456789"

    refused = client.post(url, {"source": "phone"}, headers={"HX-Request": "true"})
    assert refused["HX-Retarget"] == "#inline-create"
    assert Lead.objects.count() == 1


def test_bulk_marks_leads_qualified_and_refuses_for_readonly(personas):
    rep = personas.rep_a
    leads = [make_lead(rep, first_name=f"L{i}") for i in range(3)]
    ids = [str(lead.public_id) for lead in leads[:2]]

    done = client_for(rep).post(
        reverse("leads:lead-bulk"), {"action": "status_qualified", "ids": ids}
    )

    assert done.status_code == 302
    statuses = sorted(Lead.objects.values_list("status", flat=True))
    assert statuses == ["new", "qualified", "qualified"]
    forced = client_for(personas.readonly).post(
        reverse("leads:lead-bulk"), {"action": "status_qualified", "ids": [str(leads[2].public_id)]}
    )
    assert forced.status_code == 403
    assert Lead.objects.get(pk=leads[2].pk).status == "new"
