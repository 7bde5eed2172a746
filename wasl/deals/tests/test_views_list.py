"""The deals list: filters, bulk stage changes and its cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from wasl.core.testing import client_for
from wasl.deals.models import Deal, DealStageChange
from wasl.deals.views import close_range

pytestmark = pytest.mark.django_db

LIST = "/deals/"


def test_the_list_filters_by_stage_status_and_expected_close(
    personas, pipeline, stages, make_deal, reason
):
    rep = personas.rep_a
    today = timezone.localdate()
    make_deal(rep, "Early", expected_close=today - dt.timedelta(days=3))
    make_deal(rep, "Proposed", stage=stages["Proposal"])
    make_deal(rep, "Done", stage=stages["Won"])
    make_deal(personas.rep_c, "Hidden")
    client = client_for(rep)

    everything = client.get(LIST).content.decode()
    proposal = client.get(LIST, {"stage": str(stages["Proposal"].public_id)}).content.decode()
    won = client.get(LIST, {"status": "won"}).content.decode()
    overdue = client.get(LIST, {"close": "overdue"}).content.decode()

    assert all(t in everything for t in ("Early", "Proposed", "Done"))
    assert "Hidden" not in everything
    assert "Proposed" in proposal and "Early" not in proposal
    assert "Done" in won and "Early" not in won
    assert "Early" in overdue and "Proposed" not in overdue


def test_this_month_follows_the_users_calendar():
    # 1 Azar 1405 is 22 November 2026; Azar has 30 days.
    start, end = close_range("this_month", dt.date(2026, 11, 30), "jalali")
    assert (start, end) == (dt.date(2026, 11, 22), dt.date(2026, 12, 22))
    start, end = close_range("this_quarter", dt.date(2026, 11, 30), "gregorian")
    assert (start, end) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))


def test_bulk_change_of_stage_moves_each_deal_through_the_service(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    deals = [make_deal(rep, f"D{i}", amount=Decimal("10"), currency="USD") for i in range(3)]

    response = client_for(rep).post(
        reverse("deals:deal-bulk"),
        {
            "action": "stage",
            "stage": str(stages["Proposal"].public_id),
            "ids": [str(d.public_id) for d in deals[:2]],
        },
    )

    assert response.status_code == 302
    assert sorted(Deal.objects.values_list("stage__name", flat=True)) == [
        "Lead",
        "Proposal",
        "Proposal",
    ]
    assert DealStageChange.objects.filter(to_stage=stages["Proposal"]).count() == 2


def test_a_bulk_move_to_a_lost_stage_changes_nothing(personas, pipeline, stages, make_deal):
    rep = personas.rep_a
    deals = [make_deal(rep, f"D{i}") for i in range(2)]

    response = client_for(rep).post(
        reverse("deals:deal-bulk"),
        {
            "action": "stage",
            "stage": str(stages["Lost"].public_id),
            "ids": [str(d.public_id) for d in deals],
        },
        follow=True,
    )

    assert "Say why the deal was lost." in response.content.decode()
    assert set(Deal.objects.values_list("stage__name", flat=True)) == {"Lead"}


def test_the_list_costs_at_most_fifteen_queries_and_stays_small(
    personas, pipeline, stages, make_deal, django_assert_max_num_queries
):
    rep = personas.rep_a
    for i in range(30):
        make_deal(rep, f"Deal {i}", tags=["fleet"], amount=Decimal("1000"), currency="USD")
    client = client_for(personas.manager_a)
    client.get(LIST)

    with django_assert_max_num_queries(15):
        response = client.get(LIST, {"status": "open", "tag": "fleet"})

    assert response.status_code == 200
    assert len(response.content) < 40_000


def test_the_list_filters_by_source(personas, pipeline, stages, make_deal):
    rep = personas.rep_a
    make_deal(rep, "From the website", source="web_form")
    make_deal(rep, "From a referral", source="referral")
    client = client_for(rep)

    page = client.get(LIST).content.decode()
    website = client.get(LIST, {"source": "web_form"}).content.decode()

    assert 'id="f-source"' in page
    assert "From the website" in website and "From a referral" not in website
