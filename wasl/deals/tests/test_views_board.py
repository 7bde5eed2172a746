"""The pipeline board page: columns, totals, moves through the board endpoint, paging."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wasl.activities.services import activity_create
from wasl.core.testing import client_for
from wasl.deals.models import Deal, DealStageChange
from wasl.deals.selectors import BOARD_PAGE
from wasl.deals.services import deal_move_to_stage

pytestmark = pytest.mark.django_db


def board_url(pipeline, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"pipeline": pipeline.public_id, **params}.items())
    return f"{reverse('deals:board')}?{query}"


def column_head(html: str, stage) -> str:
    pattern = rf'<header class="wasl-col-head" id="col-head-{stage.public_id}">(.*?)</header>'
    match = re.search(pattern, html, re.S)
    assert match, f"no header for {stage.name}"
    return match.group(1)


def move(client, deal, stage, **data):
    return client.post(
        reverse("deals:deal-move", args=[deal.public_id]),
        {"stage": str(stage.public_id), "board": "1", **data},
        headers={"X-Wasl-Fragment": "1"},
    )


def test_board_shows_each_open_stage_with_its_count_total_and_weighted_total(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    make_deal(rep, "A", amount=Decimal("1000"), currency="USD")
    make_deal(rep, "B", amount=Decimal("3000"), currency="USD", probability=20)
    make_deal(rep, "C", amount=Decimal("500"), currency="USD", stage=stages["Proposal"])
    make_deal(personas.rep_c, "Invisible", amount=Decimal("99999"), currency="USD")

    response = client_for(rep).get(board_url(pipeline))

    assert response.status_code == 200
    html = response.content.decode()
    lead_head = column_head(html, stages["Lead"])
    assert 'data-count="2"' in lead_head
    assert "$4,000.00" in lead_head
    # 1000 × 10% + 3000 × 20%
    assert "$700.00" in lead_head
    proposal_head = column_head(html, stages["Proposal"])
    assert 'data-count="1"' in proposal_head and "$250.00" in proposal_head
    assert "Invisible" not in html
    # Won and lost stages are drop zones, not columns of cards.
    assert f'data-stage="{stages["Won"].public_id}" data-kind="won"' in html
    assert f'data-stage="{stages["Lost"].public_id}" data-kind="lost"' in html


def test_a_card_shows_amount_owner_company_next_task_and_days_in_stage(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    deal = make_deal(rep, "Fleet renewal", amount=Decimal("1250"), currency="USD")
    activity_create(actor=rep, kind="task", subject="Send the quote", deal=deal)
    activity_create(actor=rep, kind="note", subject="A note is not a task", deal=deal)

    html = client_for(rep).get(board_url(pipeline)).content.decode()

    card = html[html.index(f'id="deal-{deal.public_id}"') :]
    card = card[: card.index("</article>")]
    assert "Fleet renewal" in card and "$1,250.00" in card and "rep_a" in card
    assert "Send the quote" in card
    assert "0 days in stage" in card
    assert "wasl-drag" in card and "data-move-menu" in card


def test_filters_by_owner_and_team(personas, pipeline, stages, make_deal):
    make_deal(personas.rep_a, "Mine")
    make_deal(personas.rep_b, "Colleague's")
    manager = client_for(personas.manager_a)

    everyone = manager.get(board_url(pipeline)).content.decode()
    only_b = manager.get(board_url(pipeline, owner=personas.rep_b.public_id)).content.decode()
    team_b = manager.get(board_url(pipeline, team=personas.rep_c.team.public_id)).content.decode()

    assert "Mine" in everyone and "Colleague&#x27;s" in everyone
    assert "Mine" not in only_b and "Colleague&#x27;s" in only_b
    assert "Mine" not in team_b and 'data-count="0"' in column_head(team_b, stages["Lead"])


def test_a_move_through_the_board_records_stage_history_and_answers_the_card_and_headers(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    deal = make_deal(rep, amount=Decimal("1000"), currency="USD")

    response = move(client_for(rep), deal, stages["Proposal"], pipeline=str(pipeline.public_id))

    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("id"))
    assert [(c.from_stage_id, c.to_stage_id) for c in changes] == [
        (None, stages["Lead"].pk),
        (stages["Lead"].pk, stages["Proposal"].pk),
    ]
    html = response.content.decode()
    assert f'id="deal-{deal.public_id}"' in html
    assert 'data-count="1"' in column_head(html, stages["Proposal"])
    assert 'data-count="0"' in column_head(html, stages["Lead"])
    assert "data-notice" in html


def test_a_lost_move_without_a_reason_is_refused_with_a_message_and_changes_nothing(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    deal = make_deal(rep)
    before = deal.updated_at

    response = move(client_for(rep), deal, stages["Lost"], competitor="Rival Co")

    assert response.status_code == 422
    assert "Say why the deal was lost." in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"] and deal.updated_at == before
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_the_lost_dialog_offers_the_reasons_and_competitors_and_a_reason_moves_the_deal(
    personas, pipeline, stages, make_deal, reason
):
    rep = personas.rep_a
    deal = make_deal(rep)
    client = client_for(rep)

    dialog = client.get(
        reverse("deals:deal-move", args=[deal.public_id]),
        {"stage": str(stages["Lost"].public_id), "board": "1"},
        headers={"X-Wasl-Fragment": "1"},
    ).content.decode()
    assert "Price too high" in dialog and 'list="wasl-competitors"' in dialog

    response = move(
        client, deal, stages["Lost"], lost_reason=str(reason.public_id), competitor="Rival Co"
    )

    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Lost"] and deal.lost_reason == reason
    assert deal.competitor.name == "Rival Co"
    # A lost deal leaves the board: no card comes back.
    assert f'id="deal-{deal.public_id}"' not in response.content.decode()


def test_a_won_move_sets_the_final_amount(personas, pipeline, stages, make_deal):
    rep = personas.rep_a
    deal = make_deal(rep, amount=Decimal("1000"), currency="USD")

    response = move(client_for(rep), deal, stages["Won"], amount="1175.50")

    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Won"] and deal.amount == Decimal("1175.50")
    assert deal.closed_at is not None


def test_column_paging_returns_the_next_cards_after_the_cursor(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    deals = [make_deal(rep, f"Deal {i:02}") for i in range(BOARD_PAGE + 5)]
    client = client_for(rep)

    html = client.get(board_url(pipeline)).content.decode()
    first_page = set(re.findall(r'id="deal-([0-9a-f-]{36})"', html))
    assert len(first_page) == BOARD_PAGE
    more = re.search(r'hx-get="([^"]*board/column/[^"]*)"', html).group(1).replace("&amp;", "&")

    rest = client.get(more)

    assert rest.status_code == 200
    second_page = set(re.findall(r'id="deal-([0-9a-f-]{36})"', rest.content.decode()))
    assert len(second_page) == 5
    assert first_page.isdisjoint(second_page)
    assert first_page | second_page == {str(d.public_id) for d in deals}
    assert "board/column/" not in rest.content.decode()


def test_the_board_costs_a_bounded_number_of_queries_that_does_not_grow_with_deals(
    personas, pipeline, stages, make_deal
):
    rep = personas.rep_a
    client = client_for(rep)
    for i in range(3):
        deal = make_deal(rep, f"Small {i}", stage=stages["Proposal"] if i % 2 else None)
        activity_create(actor=rep, kind="task", subject=f"Task {i}", deal=deal)
    client.get(board_url(pipeline))
    with CaptureQueriesContext(connection) as few:
        client.get(board_url(pipeline))
    for i in range(40):
        deal = make_deal(rep, f"More {i}", stage=stages["Proposal"] if i % 2 else None)
        activity_create(actor=rep, kind="call", subject=f"Call {i}", deal=deal)
    with CaptureQueriesContext(connection) as many:
        response = client.get(board_url(pipeline))

    assert response.status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 15, "\n".join(q["sql"] for q in many.captured_queries)


def test_a_rep_gets_404_for_another_reps_deal_page_and_move(personas, pipeline, make_deal):
    deal = make_deal(personas.rep_c)
    client = client_for(personas.rep_a)

    assert client.get(reverse("deals:deal-detail", args=[deal.public_id])).status_code == 404
    assert move(client, deal, deal.stage).status_code == 404


def test_readonly_sees_no_drag_handles_and_a_forced_move_is_refused(
    personas, pipeline, stages, make_deal
):
    deal = make_deal(personas.rep_a, "Team deal")
    client = client_for(personas.readonly)

    html = client.get(board_url(pipeline)).content.decode()
    assert "Team deal" in html
    assert 'class="wasl-drag' not in html and "data-move-menu" not in html
    assert "wasl-movable" not in html

    response = move(client, deal, stages["Proposal"])

    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]


def test_moving_needs_the_csrf_token(personas, pipeline, stages, make_deal):
    deal = make_deal(personas.rep_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.rep_a)

    response = move(client, deal, stages["Proposal"])

    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).stage == stages["Lead"]


def test_the_move_endpoint_refuses_get_of_a_missing_stage_and_other_methods(
    personas, pipeline, other_pipeline, make_deal
):
    deal = make_deal(personas.rep_a)
    client = client_for(personas.rep_a)
    foreign = other_pipeline.stages.first()

    response = move(client, deal, foreign)

    assert response.status_code == 422
    assert client.put(reverse("deals:deal-move", args=[deal.public_id])).status_code == 405


def test_moving_on_a_reps_own_deal_after_the_fact_keeps_history_order(
    personas, pipeline, stages, make_deal, reason
):
    rep = personas.rep_a
    deal = make_deal(rep)
    deal_move_to_stage(actor=rep, deal=deal, stage=stages["Lost"], lost_reason=reason)
    deal.refresh_from_db()

    response = move(client_for(rep), deal, stages["Proposal"])

    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"] and deal.lost_reason is None
