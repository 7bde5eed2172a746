from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from wasl.contacts.services import company_create, company_update, contact_create
from wasl.core.errors import Forbidden, Invalid
from wasl.core.events import dispatch_pending
from wasl.core.models import AuditEntry, OutboxEvent, SearchEntry
from wasl.core.search import search
from wasl.deals import services
from wasl.deals.models import Competitor, Deal, DealLineItem, DealStageChange, Stage

pytestmark = pytest.mark.django_db


def _events(deal: Deal) -> list[str]:
    return list(
        OutboxEvent.objects.filter(object_id=deal.pk, name__startswith="deal.")
        .order_by("id")
        .values_list("name", flat=True)
    )


def _audit(deal: Deal) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=deal.pk, object_public_id=deal.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )


# ---------------------------------------------------------------- create


def test_a_deal_gets_the_default_pipeline_first_open_stage_and_its_probability(
    personas, pipeline, stages, make_deal
):
    deal = make_deal(personas.rep_a)
    assert deal.pipeline == pipeline
    assert deal.stage == stages["Lead"]
    assert deal.probability == 10
    assert deal.currency == settings.WASL_CURRENCY
    assert deal.amount == Decimal("0")
    assert deal.owner == personas.rep_a
    assert deal.team_id == personas.rep_a.team_id
    assert deal.closed_at is None
    history = list(DealStageChange.objects.filter(deal=deal))
    assert len(history) == 1
    assert history[0].from_stage is None
    assert history[0].to_stage == stages["Lead"]
    assert history[0].actor == personas.rep_a
    assert history[0].changed_at == deal.stage_entered_at
    assert _audit(deal) == [AuditEntry.Action.CREATE]
    assert _events(deal) == ["deal.created"]


def test_the_default_pipeline_is_chosen_over_the_first_one(personas, pipeline, other_pipeline):
    services.pipeline_update(actor=None, pipeline=other_pipeline, is_default=True)
    deal = services.deal_create(actor=personas.rep_a, title="Renewal")
    assert deal.pipeline == other_pipeline
    pipeline.refresh_from_db()
    assert not pipeline.is_default


def test_a_created_deal_is_found_by_search(personas, pipeline):
    company = company_create(actor=personas.rep_a, name="Pars Steel")
    deal = services.deal_create(
        actor=personas.rep_a, title="Boiler upgrade", company=company, tags=["Q3"]
    )
    hits = search(personas.rep_a, "boiler upgrade")
    assert [(h.kind, h.public_id) for h in hits] == [("deal", str(deal.public_id))]
    assert hits[0].subtitle == "Pars Steel"
    assert [h.public_id for h in search(personas.rep_a, "q3")] == [str(deal.public_id)]
    assert search(personas.rep_c, "boiler upgrade") == []


def test_create_keeps_contacts_tags_custom_and_explicit_probability(personas, pipeline):
    from wasl.contacts.services import custom_field_create

    custom_field_create(actor=None, entity="deal", key="region", label_en="Region", kind="text")
    contact = contact_create(actor=personas.rep_a, first_name="Sara", last_name="Ahmadi")
    deal = services.deal_create(
        actor=personas.rep_a,
        title="Kiosk rollout",
        contacts=[contact],
        tags=["Retail", "retail "],
        custom={"region": "North"},
        probability=35,
        source="web",
        currency="aed",
    )
    assert list(deal.contacts.all()) == [contact]
    assert sorted(deal.tags.values_list("name", flat=True)) == ["Retail"]
    assert deal.custom == {"region": "North"}
    assert deal.probability == 35
    assert deal.currency == "AED"


def test_invalid_input_is_reported_per_field_and_nothing_is_written(personas, pipeline):
    from wasl.contacts.services import custom_field_create

    custom_field_create(
        actor=None, entity="deal", key="budget", label_en="Budget", kind="number", required=True
    )
    deals, changes = Deal.objects.count(), DealStageChange.objects.count()
    with pytest.raises(Invalid) as error:
        services.deal_create(
            actor=personas.rep_a,
            title="  ",
            amount="-5",
            currency="dollars",
            probability=120,
            line_items=[{"description": "Setup", "quantity": 0, "unit_price": "10"}],
        )
    assert set(error.value.fields) == {
        "title",
        "amount",
        "currency",
        "probability",
        "custom.budget",
        "line_items.0.quantity",
    }
    assert Deal.objects.count() == deals
    assert DealStageChange.objects.count() == changes
    assert not OutboxEvent.objects.filter(name="deal.created").exists()


def test_readonly_users_cannot_create_deals(personas, pipeline):
    with pytest.raises(Forbidden):
        services.deal_create(actor=personas.readonly, title="Nope")


def test_a_rep_cannot_give_a_deal_to_a_colleague_but_a_manager_can(personas, pipeline):
    with pytest.raises(Forbidden):
        services.deal_create(actor=personas.rep_a, title="X", owner=personas.rep_b)
    deal = services.deal_create(actor=personas.manager_a, title="X", owner=personas.rep_b)
    assert deal.owner == personas.rep_b


def test_a_deal_cannot_start_in_a_stage_of_another_pipeline_or_a_lost_stage(
    personas, pipeline, stages, other_pipeline
):
    due = Stage.objects.get(pipeline=other_pipeline, name="Due")
    with pytest.raises(Invalid) as error:
        services.deal_create(actor=personas.rep_a, title="X", pipeline=pipeline, stage=due)
    assert "stage_id" in error.value.fields
    with pytest.raises(Invalid) as error:
        services.deal_create(actor=personas.rep_a, title="X", stage=stages["Lost"])
    assert "stage_id" in error.value.fields
    assert not Deal.objects.exists()


def test_without_any_pipeline_creating_a_deal_says_so(personas):
    with pytest.raises(Invalid) as error:
        services.deal_create(actor=personas.rep_a, title="X")
    assert "pipeline_id" in error.value.fields


def test_ensure_default_pipeline_creates_the_usual_stages_once(db):
    first = services.pipeline_ensure_default()
    assert services.pipeline_ensure_default() == first
    kinds = list(first.stages.values_list("kind", flat=True))
    assert kinds.count("open") == 4 and kinds[-2:] == ["won", "lost"]
    assert first.is_default


def test_a_deal_created_in_a_won_stage_is_closed(personas, stages):
    deal = services.deal_create(actor=personas.rep_a, title="X", stage=stages["Won"])
    assert deal.closed_at is not None
    assert deal.probability == 100
    assert _events(deal) == ["deal.created", "deal.stage_changed", "deal.won"]


# ---------------------------------------------------------------- stage moves


def test_probability_follows_the_new_stage_unless_overridden(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    deal = services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    assert deal.probability == 50
    deal = services.deal_update(actor=personas.rep_a, deal=deal, probability=65)
    deal = services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Lead"])
    assert deal.probability == 65
    deal = services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Won"])
    assert deal.probability == 100
    deal = services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    assert deal.probability == 50


def test_probability_given_with_a_move_wins(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    deal = services.deal_update(
        actor=personas.rep_a, deal=deal, stage=stages["Proposal"], probability=42
    )
    assert (deal.stage, deal.probability) == (stages["Proposal"], 42)


def test_each_move_records_a_history_row_with_the_seconds_spent(personas, stages, make_deal, clock):
    deal = make_deal(personas.rep_a)
    clock.advance(3600)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    clock.advance(90)
    services.deal_move_to_stage(actor=personas.manager_a, deal=deal, stage=stages["Lead"])
    rows = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "id"))
    assert [(r.from_stage_id, r.to_stage_id) for r in rows] == [
        (None, stages["Lead"].pk),
        (stages["Lead"].pk, stages["Proposal"].pk),
        (stages["Proposal"].pk, stages["Lead"].pk),
    ]
    assert [r.seconds_in_previous for r in rows] == [None, 3600, 90]
    assert rows[2].actor == personas.manager_a
    deal.refresh_from_db()
    assert deal.stage_entered_at == clock.now
    moves = AuditEntry.objects.filter(
        object_public_id=deal.public_id, action=AuditEntry.Action.STAGE_MOVE
    )
    assert moves.count() == 2
    last = moves.order_by("-id").first()
    assert last.changes["stage"] == [
        str(stages["Proposal"].public_id),
        str(stages["Lead"].public_id),
    ]
    assert last.data == {"seconds_in_previous": 90}
    assert _events(deal) == ["deal.created", "deal.stage_changed", "deal.stage_changed"]
    event = OutboxEvent.objects.filter(object_id=deal.pk, name="deal.stage_changed").last()
    assert event.data["to_stage_id"] == str(stages["Lead"].public_id)
    assert event.data["from_stage_id"] == str(stages["Proposal"].public_id)


def test_moving_to_the_current_stage_changes_nothing(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Lead"])
    assert DealStageChange.objects.filter(deal=deal).count() == 1
    assert _events(deal) == ["deal.created"]


def test_winning_sets_closed_at_and_announces_it(personas, stages, make_deal, clock):
    deal = make_deal(personas.rep_a, amount="1200")
    clock.advance(60)
    deal = services.deal_move_to_stage(
        actor=personas.rep_a, deal=deal, stage=stages["Won"], amount="1500.5"
    )
    assert deal.closed_at == clock.now
    assert deal.amount == Decimal("1500.50")
    assert _events(deal) == ["deal.created", "deal.stage_changed", "deal.won", "deal.updated"]
    won = OutboxEvent.objects.get(object_id=deal.pk, name="deal.won")
    assert won.data["amount"] == "1500.50"


def test_losing_requires_a_reason_and_writes_nothing_without_one(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    with pytest.raises(Invalid) as error:
        services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Lost"])
    assert list(error.value.fields) == ["lost_reason_id"]
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]
    assert DealStageChange.objects.filter(deal=deal).count() == 1
    assert _events(deal) == ["deal.created"]


def test_losing_records_reason_competitor_and_note(personas, stages, make_deal, reason):
    deal = make_deal(personas.rep_a)
    deal = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=deal,
        stage=stages["Lost"],
        lost_reason=reason,
        competitor_name="  Kaveh  Systems ",
        lost_note="Cheaper offer",
    )
    assert deal.lost_reason == reason
    assert deal.competitor.name == "Kaveh Systems"
    assert deal.competitor.key == "kaveh systems"
    assert deal.lost_note == "Cheaper offer"
    assert deal.closed_at is not None
    assert deal.probability == 0
    lost = OutboxEvent.objects.get(object_id=deal.pk, name="deal.lost")
    assert lost.data["lost_reason_id"] == str(reason.public_id)
    assert lost.data["competitor_id"] == str(deal.competitor.public_id)
    other = make_deal(personas.rep_a, title="Second")
    other = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=other,
        stage=stages["Lost"],
        lost_reason=reason,
        competitor_name="KAVEH SYSTEMS",
    )
    assert other.competitor == deal.competitor
    assert Competitor.objects.count() == 1


def test_persian_and_arabic_spellings_of_a_competitor_are_one_competitor(
    personas, stages, make_deal, reason
):
    first = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=make_deal(personas.rep_a),
        stage=stages["Lost"],
        lost_reason=reason,
        competitor_name="پارس كيان",
    )
    second = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=make_deal(personas.rep_a, title="Two"),
        stage=stages["Lost"],
        lost_reason=reason,
        competitor_name="پارس کیان",
    )
    assert first.competitor == second.competitor


def test_reopening_a_lost_deal_clears_the_close_and_the_loss(personas, stages, make_deal, reason):
    deal = make_deal(personas.rep_a)
    deal = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=deal,
        stage=stages["Lost"],
        lost_reason=reason,
        competitor_name="Rival",
        lost_note="x",
    )
    deal = services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    assert deal.closed_at is None
    assert deal.lost_reason is None and deal.competitor is None and deal.lost_note == ""
    assert deal.probability == 50
    deal.refresh_from_db()
    assert deal.lost_reason_id is None and deal.closed_at is None


def test_an_open_or_won_deal_takes_no_lost_reason(personas, stages, make_deal, reason):
    deal = make_deal(personas.rep_a)
    with pytest.raises(Invalid) as error:
        services.deal_move_to_stage(
            actor=personas.rep_a, deal=deal, stage=stages["Won"], lost_reason=reason
        )
    assert "lost_reason_id" in error.value.fields
    with pytest.raises(Invalid):
        services.deal_update(actor=personas.rep_a, deal=deal, competitor_name="Rival")


def test_a_lost_deal_can_change_its_reason_without_moving(personas, stages, make_deal, reason):
    other_reason = services.lost_reason_create(actor=None, name="Timing")
    deal = services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=make_deal(personas.rep_a),
        stage=stages["Lost"],
        lost_reason=reason,
    )
    deal = services.deal_update(actor=personas.rep_a, deal=deal, lost_reason=other_reason)
    assert deal.lost_reason == other_reason
    assert DealStageChange.objects.filter(deal=deal).count() == 2
    with pytest.raises(Invalid):
        services.deal_update(actor=personas.rep_a, deal=deal, lost_reason=None)


def test_a_retired_reason_is_not_offered(personas, stages, make_deal, reason):
    reason = services.lost_reason_update(actor=None, reason=reason, is_active=False)
    with pytest.raises(Invalid):
        services.deal_move_to_stage(
            actor=personas.rep_a,
            deal=make_deal(personas.rep_a),
            stage=stages["Lost"],
            lost_reason=reason,
        )


def test_the_stage_must_belong_to_the_deals_pipeline(personas, stages, other_pipeline, make_deal):
    deal = make_deal(personas.rep_a)
    due = Stage.objects.get(pipeline=other_pipeline, name="Due")
    with pytest.raises(Invalid) as error:
        services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=due)
    assert "stage_id" in error.value.fields
    with pytest.raises(Invalid) as error:
        services.deal_update(actor=personas.rep_a, deal=deal, pipeline=other_pipeline)
    assert "stage_id" in error.value.fields
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]


def test_changing_pipeline_with_one_of_its_stages_moves_the_deal(
    personas, stages, other_pipeline, make_deal
):
    deal = make_deal(personas.rep_a)
    due = Stage.objects.get(pipeline=other_pipeline, name="Due")
    deal = services.deal_update(actor=personas.rep_a, deal=deal, pipeline=other_pipeline, stage=due)
    assert (deal.pipeline, deal.stage, deal.probability) == (other_pipeline, due, 30)
    last = DealStageChange.objects.filter(deal=deal).last()
    assert (last.from_stage, last.to_stage) == (stages["Lead"], due)


def test_only_writers_move_deals(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    for outsider in (personas.rep_b, personas.readonly, personas.manager_b):
        with pytest.raises(Forbidden):
            services.deal_move_to_stage(actor=outsider, deal=deal, stage=stages["Proposal"])
    services.deal_move_to_stage(actor=personas.manager_a, deal=deal, stage=stages["Proposal"])


# ---------------------------------------------------------------- update, amount and lines


def test_update_audits_old_and_new_values_and_reassigns_the_team(personas, make_deal):
    deal = make_deal(personas.rep_a, amount="100")
    deal = services.deal_update(
        actor=personas.admin, deal=deal, title="Renamed", amount="250", owner=personas.rep_c
    )
    assert deal.team_id == personas.rep_c.team_id
    entry = AuditEntry.objects.filter(object_public_id=deal.public_id).order_by("-id").first()
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.changes["title"] == ["Fleet renewal", "Renamed"]
    assert entry.changes["amount"] == ["100.00", "250.00"]
    assert entry.changes["owner"] == [str(personas.rep_a.public_id), str(personas.rep_c.public_id)]
    updated = OutboxEvent.objects.filter(object_id=deal.pk, name="deal.updated").get()
    assert updated.data["fields"] == ["amount", "owner", "title"]
    assert SearchEntry.objects.get(kind="deal", object_id=deal.pk).owner_id == personas.rep_c.pk


def test_unknown_fields_are_refused(personas, make_deal):
    with pytest.raises(Invalid) as error:
        services.deal_update(actor=personas.rep_a, deal=make_deal(personas.rep_a), colour="red")
    assert list(error.value.fields) == ["colour"]


def test_line_items_compute_the_amount_unless_it_is_given(personas, make_deal):
    product = services.product_create(
        actor=None, name="License", price="200", currency=settings.WASL_CURRENCY
    )
    lines = [
        {"product": product, "quantity": 3, "discount_percent": "10"},
        {"description": "Setup", "quantity": "1.5", "unit_price": "100"},
    ]
    deal = make_deal(personas.rep_a, line_items=lines)
    assert deal.amount == Decimal("690.00")  # 3*200*0.9 + 150
    items = list(DealLineItem.objects.filter(deal=deal))
    assert [i.description for i in items] == ["License", "Setup"]
    assert [i.total for i in items] == [Decimal("540.00"), Decimal("150.00")]

    explicit = make_deal(personas.rep_a, title="Explicit", line_items=lines, amount="500")
    assert explicit.amount == Decimal("500.00")

    deal = services.deal_update(actor=personas.rep_a, deal=deal, amount="999")
    assert deal.amount == Decimal("999.00")  # untouched lines: the amount given stays
    deal = services.deal_update(actor=personas.rep_a, deal=deal, line_items=lines[:1])
    assert deal.amount == Decimal("540.00")
    deal = services.deal_update(actor=personas.rep_a, deal=deal, line_items=lines, amount="1")
    assert deal.amount == Decimal("1.00")


def test_adding_changing_and_removing_lines_recomputes_the_amount(personas, make_deal):
    deal = make_deal(personas.rep_a, amount="77")
    line = services.deal_line_item_add(
        actor=personas.rep_a, deal=deal, description="Support", quantity=2, unit_price="50"
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("100.00")
    services.deal_line_item_add(
        actor=personas.rep_a, deal=deal, description="Training", unit_price="30"
    )
    services.deal_line_item_update(actor=personas.rep_a, item=line, discount_percent="50")
    deal.refresh_from_db()
    assert deal.amount == Decimal("80.00")
    for item in list(DealLineItem.objects.filter(deal=deal)):
        services.deal_line_item_remove(actor=personas.rep_a, item=item)
    deal.refresh_from_db()
    assert deal.amount == Decimal("30.00")  # the last line removed: the amount stays
    assert AuditEntry.objects.filter(object_public_id=deal.public_id, action="update").count() == 5
    with pytest.raises(Forbidden):
        services.deal_line_item_add(
            actor=personas.rep_b, deal=deal, description="X", unit_price="1"
        )


def test_a_product_in_another_currency_needs_a_price(personas, make_deal):
    product = services.product_create(actor=None, name="Import", price="10", currency="EUR")
    currency = "USD" if settings.WASL_CURRENCY != "USD" else "IRR"
    with pytest.raises(Invalid) as error:
        make_deal(personas.rep_a, currency=currency, line_items=[{"product": product}])
    assert "line_items.0.unit_price" in error.value.fields
    deal = make_deal(
        personas.rep_a, currency=currency, line_items=[{"product": product, "unit_price": "12"}]
    )
    assert deal.amount == Decimal("12.00")


def test_delete_removes_the_deal_its_history_lines_and_search_entry(personas, make_deal):
    deal = make_deal(personas.rep_a, line_items=[{"description": "A", "unit_price": "1"}])
    pk = deal.pk
    with pytest.raises(Forbidden):
        services.deal_delete(actor=personas.rep_b, deal=deal)
    services.deal_delete(actor=personas.rep_a, deal=deal)
    assert not Deal.objects.filter(pk=pk).exists()
    assert not DealStageChange.objects.filter(deal_id=pk).exists()
    assert not DealLineItem.objects.filter(deal_id=pk).exists()
    assert not SearchEntry.objects.filter(kind="deal", object_id=pk).exists()
    entry = AuditEntry.objects.get(object_public_id=deal.public_id, action="delete")
    assert entry.changes["title"] == ["Fleet renewal", None]
    assert OutboxEvent.objects.filter(object_id=pk, name="deal.deleted").exists()


def test_renaming_a_company_refreshes_its_deals_search_subtitle(personas, pipeline):
    company = company_create(actor=personas.rep_a, name="Old Name")
    deal = services.deal_create(actor=personas.rep_a, title="Boiler", company=company)
    company_update(actor=personas.rep_a, company=company, name="New Name")
    dispatch_pending()
    assert SearchEntry.objects.get(kind="deal", object_id=deal.pk).subtitle == "New Name"


# ---------------------------------------------------------------- pipelines and stages


def test_only_admins_shape_pipelines(personas, pipeline, stages):
    for user in (personas.manager_a, personas.rep_a, personas.readonly):
        with pytest.raises(Forbidden):
            services.pipeline_create(actor=user, name="Mine")
        with pytest.raises(Forbidden):
            services.stage_update(actor=user, stage=stages["Lead"], probability=5)


def test_a_pipeline_needs_an_open_stage_and_distinct_stage_names(db):
    with pytest.raises(Invalid) as error:
        services.pipeline_create(
            actor=None,
            name="Bad",
            stages=[{"name": "Won", "kind": "won"}, {"name": "won", "kind": "lost"}],
        )
    assert error.value.fields["stages"]
    with pytest.raises(Invalid) as error:
        services.pipeline_create(actor=None, name="", stages=[{"name": "A", "probability": 101}])
    assert set(error.value.fields) == {"name", "stages.0.probability"}


def test_stages_are_added_after_the_open_ones_and_reordered(personas, pipeline, stages):
    new = services.stage_create(
        actor=personas.admin, pipeline=pipeline, name="Demo", probability=30
    )
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Lead", "Proposal", "Demo", "Won", "Lost"]
    services.stage_reorder(
        actor=personas.admin,
        pipeline=pipeline,
        stages=[new, stages["Lead"], stages["Proposal"], stages["Won"], stages["Lost"]],
    )
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Demo", "Lead", "Proposal", "Won", "Lost"]
    with pytest.raises(Invalid):
        services.stage_reorder(actor=personas.admin, pipeline=pipeline, stages=[new])


def test_a_stage_holding_deals_or_in_their_history_is_not_deleted(personas, stages, make_deal):
    deal = make_deal(personas.rep_a)
    with pytest.raises(Invalid) as error:
        services.stage_delete(actor=personas.admin, stage=stages["Lead"])
    assert "1 deal is in this stage; move it" in error.value.fields["deals"][0]
    second = make_deal(personas.rep_a)
    with pytest.raises(Invalid) as error:
        services.stage_delete(actor=personas.admin, stage=stages["Lead"])
    assert "2 deals are in this stage; move them" in error.value.fields["deals"][0]
    services.deal_move_to_stage(actor=personas.rep_a, deal=second, stage=stages["Proposal"])
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    with pytest.raises(Invalid) as error:
        services.stage_delete(actor=personas.admin, stage=stages["Lead"])
    assert "passed through" in error.value.fields["deals"][0]
    services.stage_delete(actor=personas.admin, stage=stages["Won"])
    assert not Stage.objects.filter(pk=stages["Won"].pk).exists()
    assert list(
        Stage.objects.filter(pipeline=stages["Lead"].pipeline).values_list("position", flat=True)
    ) == [0, 1, 2]


def test_the_kind_of_a_stage_holding_deals_stays(personas, stages, make_deal):
    make_deal(personas.rep_a)
    with pytest.raises(Invalid) as error:
        services.stage_update(actor=None, stage=stages["Lead"], kind="won")
    assert "kind" in error.value.fields
    stage = services.stage_update(
        actor=None, stage=stages["Lead"], name="Qualified", probability=15
    )
    assert (stage.name, stage.probability) == ("Qualified", 15)


def test_a_pipeline_with_deals_is_archived_not_deleted(
    personas, pipeline, other_pipeline, make_deal
):
    make_deal(personas.rep_a)
    with pytest.raises(Invalid):
        services.pipeline_delete(actor=None, pipeline=pipeline)
    with pytest.raises(Invalid):
        services.pipeline_update(actor=None, pipeline=pipeline, is_active=False)  # the default
    services.pipeline_update(actor=None, pipeline=other_pipeline, is_active=False)
    services.pipeline_delete(actor=None, pipeline=other_pipeline)
    assert not other_pipeline.__class__.objects.filter(pk=other_pipeline.pk).exists()


# ---------------------------------------------------------------- vocabulary


def test_lost_reasons_in_use_are_retired_not_deleted(personas, stages, make_deal, reason):
    with pytest.raises(Forbidden):
        services.lost_reason_create(actor=personas.manager_a, name="Other")
    with pytest.raises(Invalid):
        services.lost_reason_create(actor=None, name="price TOO high")
    services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=make_deal(personas.rep_a),
        stage=stages["Lost"],
        lost_reason=reason,
    )
    with pytest.raises(Invalid):
        services.lost_reason_delete(actor=None, reason=reason)
    unused = services.lost_reason_create(actor=None, name="Other")
    services.lost_reason_delete(actor=None, reason=unused)


def test_competitors_are_matched_on_their_normalised_name(personas):
    first = services.competitor_create(actor=personas.rep_a, name="Acme  Ltd")
    again = services.competitor_create(actor=personas.rep_b, name="ACME LTD")
    assert first == again
    with pytest.raises(Forbidden):
        services.competitor_create(actor=personas.readonly, name="Other")
    with pytest.raises(Invalid):
        services.competitor_create(actor=personas.rep_a, name="   ")


def test_products_are_validated_and_edited_by_managers_and_admins(personas):
    with pytest.raises(Forbidden):
        services.product_create(actor=personas.rep_a, name="X", price="1")
    product = services.product_create(
        actor=personas.manager_a, name="Router", price="99.5", currency="usd", sku="R-1"
    )
    assert (product.price, product.currency) == (Decimal("99.50"), "USD")
    with pytest.raises(Invalid) as error:
        services.product_create(actor=personas.admin, name="", price="-1", currency="US", sku="R-1")
    assert set(error.value.fields) == {"name", "price", "currency", "sku"}
    product = services.product_update(actor=personas.admin, product=product, price="120")
    assert product.price == Decimal("120.00")
    assert AuditEntry.objects.filter(object_public_id=product.public_id, action="update").exists()


@pytest.mark.parametrize("bad", [-1, 40000, True, "2"])
def test_pipeline_and_lost_reason_positions_out_of_range_are_refused(pipeline, bad):
    with pytest.raises(Invalid) as error:
        services.pipeline_update(actor=None, pipeline=pipeline, position=bad)
    assert "position" in error.value.fields
    reason = services.lost_reason_create(actor=None, name="Too expensive")
    with pytest.raises(Invalid) as error:
        services.lost_reason_update(actor=None, reason=reason, position=bad)
    assert "position" in error.value.fields
    reason.refresh_from_db()
    assert reason.position != bad
