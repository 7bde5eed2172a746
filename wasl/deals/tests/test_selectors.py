from __future__ import annotations

import datetime as dt

import pytest

from wasl.deals import services
from wasl.deals.access import access_deal
from wasl.deals.models import Deal
from wasl.deals.selectors import (
    deal_cycle_seconds,
    deal_list,
    deal_stage_history,
    deal_time_in_stages,
    default_pipeline,
    pipeline_list,
)

pytestmark = pytest.mark.django_db


def test_time_in_stages_sums_repeat_visits_and_counts_the_current_stage(
    personas, stages, make_deal, clock
):
    deal = make_deal(personas.rep_a)
    clock.advance(100)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    clock.advance(200)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Lead"])
    clock.advance(50)
    deal.refresh_from_db()
    assert deal_time_in_stages(deal) == {stages["Lead"].pk: 150, stages["Proposal"].pk: 200}
    assert deal_cycle_seconds(deal) is None
    history = list(deal_stage_history(deal))
    assert [h.to_stage.name for h in history] == ["Lead", "Proposal", "Lead"]


def test_a_closed_deal_stops_its_clock_and_has_a_cycle_length(
    personas, stages, make_deal, clock, reason
):
    deal = make_deal(personas.rep_a)
    clock.advance(3600)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    clock.advance(7200)
    services.deal_move_to_stage(
        actor=personas.rep_a, deal=deal, stage=stages["Lost"], lost_reason=reason
    )
    clock.advance(10_000)
    deal.refresh_from_db()
    assert deal_cycle_seconds(deal) == 10_800
    assert deal_time_in_stages(deal) == {stages["Lead"].pk: 3600, stages["Proposal"].pk: 7200}


def test_timestamps_set_on_rows_drive_the_figures(personas, stages, make_deal):
    """Rows loaded by bulk paths (imports, demo data) carry their own times."""
    deal = make_deal(personas.rep_a)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    Deal.objects.filter(pk=deal.pk).update(
        created_at=start, closed_at=start + dt.timedelta(days=12)
    )
    deal.refresh_from_db()
    assert deal_cycle_seconds(deal) == 12 * 86400


def test_each_persona_sees_the_deals_the_visibility_rule_allows(personas, make_deal):
    deal = make_deal(personas.rep_a)
    make_deal(personas.rep_c, title="Team B deal")
    seen = {
        name: {d.title for d in deal_list(actor=getattr(personas, name))}
        for name in ("rep_a", "rep_b", "manager_a", "manager_b", "readonly", "admin", "rep_c")
    }
    assert seen["rep_a"] == {"Fleet renewal"}
    assert seen["rep_b"] == set()
    assert seen["manager_a"] == {"Fleet renewal"}
    assert seen["readonly"] == {"Fleet renewal"}
    assert seen["manager_b"] == {"Team B deal"}
    assert seen["rep_c"] == {"Team B deal"}
    assert seen["admin"] == {"Fleet renewal", "Team B deal"}
    assert access_deal(personas.manager_a, deal.public_id) == deal


def test_a_list_of_deals_costs_the_same_queries_whatever_its_length(
    personas, make_deal, django_assert_max_num_queries
):
    for index in range(12):
        make_deal(personas.rep_a, title=f"Deal {index}", tags=["A", "B"])
    with django_assert_max_num_queries(6):
        rows = list(deal_list(actor=personas.rep_a))
        for row in rows:
            (row.stage.name, row.pipeline.name, [t.name for t in row.tags.all()])
            list(row.contacts.all())


def test_pipelines_come_with_their_stages_in_order(pipeline, other_pipeline, personas):
    services.pipeline_update(actor=None, pipeline=other_pipeline, is_active=False)
    assert default_pipeline() == pipeline
    rows = list(pipeline_list(actor=personas.rep_a))
    assert rows == [pipeline]
    assert [s.name for s in rows[0].stages.all()] == ["Lead", "Proposal", "Won", "Lost"]
    assert len(pipeline_list(actor=personas.rep_a, include_inactive=True)) == 2
