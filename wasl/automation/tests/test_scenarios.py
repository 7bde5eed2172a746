"""Rule scenarios of issue 4, end to end: a change, the outbox, the worker, the effect."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from wasl.activities.models import Activity
from wasl.automation import services
from wasl.automation.models import AutomationRun
from wasl.contacts.services import contact_create, contact_update, custom_field_create
from wasl.core.models import OutboxEvent
from wasl.deals.selectors import default_pipeline
from wasl.deals.services import deal_create, deal_move_to_stage, pipeline_ensure_default
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

TEHRAN = ZoneInfo("Asia/Tehran")


def web_lead_rules(admin):
    custom_field_create(actor=None, entity="lead", key="budget", label_en="Budget", kind="money")
    big = services.rule_create(
        actor=admin,
        name="Call big web leads",
        trigger={"type": "lead_created", "source": "web_form"},
        conditions={"all": [{"field": "custom.budget", "op": "gt", "value": 500}]},
        actions=[
            {
                "type": "create_activity",
                "kind": "call",
                "subject": "Call {{ lead.first_name }} about {{ lead.custom.budget }}",
                "assign": {"to": "owner"},
                "due": {"amount": 15, "unit": "minutes"},
            }
        ],
    )
    small = services.rule_create(
        actor=admin,
        name="Nurture small web leads",
        trigger={"type": "lead_created", "source": "web_form"},
        conditions={"all": [{"field": "custom.budget", "op": "lte", "value": 500}]},
        actions=[{"type": "add_tag", "tag": "nurture"}],
    )
    return big, small


def test_a_big_web_lead_gets_a_call_in_15_minutes_and_a_small_one_is_nurtured(personas, pipeline):
    web_lead_rules(personas.admin)
    big = lead_create(
        actor=personas.rep_a, first_name="Ali", source="web_form", custom={"budget": "750"}
    )
    small = lead_create(
        actor=personas.rep_a, first_name="Sara", source="web_form", custom={"budget": "300"}
    )
    phoned = lead_create(
        actor=personas.rep_a, first_name="Reza", source="phone", custom={"budget": "900"}
    )
    pipeline()

    created = OutboxEvent.objects.get(name="lead.created", object_id=big.pk).created_at
    call = Activity.objects.get(lead=big)
    assert call.kind == "call"
    assert call.owner == personas.rep_a
    assert call.subject == "Call Ali about 750.00"
    assert call.due_at == created + dt.timedelta(minutes=15)
    assert call.created_by.username == "automation"
    assert not Activity.objects.filter(lead__in=[small, phoned]).exists()
    assert [t.name for t in small.tags.all()] == ["nurture"]
    assert not big.tags.exists()
    assert AutomationRun.objects.filter(status="done").count() == 2

    # Running everything again (a duplicated delivery) changes nothing.
    OutboxEvent.objects.update(dispatched_at=None)
    pipeline()
    assert Activity.objects.filter(lead=big).count() == 1
    assert AutomationRun.objects.filter(status="done").count() == 2


def test_a_stage_move_gives_a_task_to_the_teams_manager_due_in_working_hours(personas, pipeline):
    pipeline_ensure_default(actor=None)
    stages = list(default_pipeline().stages.order_by("position"))
    proposal = stages[1]
    services.rule_create(
        actor=personas.admin,
        name="Manager reviews proposals",
        trigger={"type": "stage_entered", "stage_id": str(proposal.public_id)},
        actions=[
            {
                "type": "create_activity",
                "subject": "Review {{ deal.title }} ({{ deal.amount }} {{ deal.currency }})",
                "assign": {"to": "role", "role": "manager"},
                "due": {"amount": 2, "unit": "hours", "business_hours": True},
            }
        ],
    )
    deal = deal_create(actor=personas.rep_a, title="Boiler", amount=Decimal("1200"), currency="IRR")
    deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=proposal)
    # The move happened on a Wednesday at 16:30 in Tehran: one working half hour is left
    # that day, Thursday and Friday are off, so two working hours end Saturday at 09:30.
    moved = dt.datetime(2026, 11, 18, 16, 30, tzinfo=TEHRAN)
    OutboxEvent.objects.filter(name="deal.stage_changed").update(created_at=moved)
    pipeline()

    task = Activity.objects.get(deal=deal)
    assert task.owner == personas.manager_a
    assert task.subject == "Review Boiler (1200.00 IRR)"
    assert task.due_at == dt.datetime(2026, 11, 21, 9, 30, tzinfo=TEHRAN)


def test_a_rule_that_edits_its_own_trigger_field_does_not_loop(personas, pipeline):
    services.rule_create(
        actor=personas.admin,
        name="Shout titles",
        trigger={"type": "field_changed", "entity": "contact", "field": "title"},
        actions=[{"type": "update_field", "field": "title", "value": "{{ contact.title }}!"}],
    )
    contact = contact_create(actor=personas.rep_a, first_name="Mina")
    contact_update(actor=personas.rep_a, contact=contact, title="Buyer")
    pipeline(rounds=20)

    contact.refresh_from_db()
    assert contact.title == "Buyer!"
    runs = AutomationRun.objects.order_by("id")
    assert [r.status for r in runs] == ["done", "skipped"]
    assert "loop guard" in runs[1].error
