"""The timeline and audit endpoints of contacts, companies, leads, deals and activities."""

from __future__ import annotations

import datetime as dt

import pytest

from wasl.activities import services
from wasl.activities.tests.conftest import T0, frozen
from wasl.contacts.services import contact_update
from wasl.deals import services as deals
from wasl.deals.models import Stage
from wasl.leads import services as leads

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def _pages(client, path, limit):
    items, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, **params)
        assert response.status_code == 200, response.content
        body = response.json()
        items.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            return items


class TestContactTimeline:
    def test_notes_calls_and_changes_newest_first_with_who_and_old_new(
        self, personas, api_as, contact_of
    ):
        with frozen(T0):
            contact = contact_of(personas.rep_a, title="Buyer")
        with frozen(T0 + MINUTE):
            note = services.activity_create(
                actor=personas.rep_a, kind="note", subject="Prefers e-mail", contact=contact
            )
        with frozen(T0 + 2 * MINUTE):
            call = services.activity_create(
                actor=personas.rep_a,
                kind="call",
                subject="Pricing",
                contact=contact,
                outcome="connected",
                done_at=T0 + 2 * MINUTE,
            )
        with frozen(T0 + 3 * MINUTE):
            contact_update(actor=personas.manager_a, contact=contact, title="Head of buying")

        response = api_as(personas.rep_a).get(f"contacts/{contact.public_id}/timeline")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["next"] is None
        items = body["items"]
        assert [(i["type"], i["action"] or i["kind"]) for i in items] == [
            ("event", "update"),
            ("activity", "call"),
            ("activity", "note"),
            ("event", "create"),
        ]
        update = items[0]
        assert update["changes"] == {"title": ["Buyer", "Head of buying"]}
        assert update["actor_id"] == str(personas.manager_a.public_id)
        assert update["actor_name"] == "manager_a"
        assert update["at"].startswith("2030-03-01T09:03")
        assert items[1]["id"] == str(call.public_id)
        assert items[1]["activity"]["outcome"] == "connected"
        assert items[1]["activity"]["done_at"].startswith("2030-03-01T09:02")
        assert items[2]["id"] == str(note.public_id)
        assert items[2]["actor_id"] == str(personas.rep_a.public_id)
        assert items[3]["changes"]["title"] == [None, "Buyer"]

    def test_the_cursor_walks_every_item_exactly_once(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        for n in range(6):
            services.activity_create(
                actor=personas.rep_a, kind="note", subject=f"n{n}", contact=contact
            )
            contact_update(actor=personas.rep_a, contact=contact, title=f"t{n}")
        client = api_as(personas.rep_a)
        path = f"contacts/{contact.public_id}/timeline"
        everything = client.get(path, limit=100).json()["items"]
        assert len(everything) == 13
        walked = _pages(client, path, 4)
        assert [(i["type"], i["id"]) for i in walked] == [(i["type"], i["id"]) for i in everything]

    def test_a_bad_cursor_is_422(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        response = api_as(personas.rep_a).get(
            f"contacts/{contact.public_id}/timeline", cursor="%%%"
        )
        assert response.status_code == 422
        assert "cursor" in response.json()["error"]["fields"]

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("rep_a", 200),
            ("manager_a", 200),
            ("readonly", 200),
            ("admin", 200),
            ("rep_b", 404),
            ("manager_b", 404),
            ("rep_c", 404),
        ],
    )
    def test_only_those_who_see_the_contact_see_its_timeline_and_audit(
        self, personas, api_as, contact_of, who, status
    ):
        contact = contact_of(personas.rep_a)
        client = api_as(getattr(personas, who))
        assert client.get(f"contacts/{contact.public_id}/timeline").status_code == status
        assert client.get(f"contacts/{contact.public_id}/audit").status_code == status

    def test_a_missing_contact_is_404_and_writing_methods_are_405(
        self, personas, api_as, contact_of
    ):
        contact = contact_of(personas.rep_a)
        client = api_as(personas.admin)
        missing = "00000000-0000-0000-0000-000000000000"
        assert client.get(f"contacts/{missing}/timeline").status_code == 404
        assert client.get(f"contacts/{missing}/audit").status_code == 404
        assert client.post(f"contacts/{contact.public_id}/timeline", {}).status_code == 405
        assert client.delete(f"contacts/{contact.public_id}/audit").status_code == 405

    def test_a_50_item_timeline_costs_at_most_10_queries(
        self, personas, api_as, contact_of, django_assert_max_num_queries
    ):
        contact = contact_of(personas.rep_a)
        for n in range(30):
            services.activity_create(
                actor=personas.rep_a, kind="call", subject=f"c{n}", contact=contact
            )
            contact_update(actor=personas.rep_a, contact=contact, title=f"t{n}")
        client = api_as(personas.rep_a)
        path = f"contacts/{contact.public_id}/timeline"
        client.get(path)
        with django_assert_max_num_queries(10):
            response = client.get(path, limit=50)
        assert len(response.json()["items"]) == 50


class TestCompanyTimeline:
    def test_a_companys_activities_and_changes(self, personas, api_as, company_of):
        company = company_of(personas.rep_a)
        services.activity_create(
            actor=personas.rep_a, kind="meeting", subject="Site visit", company=company
        )
        client = api_as(personas.manager_a)
        items = client.get(f"companies/{company.public_id}/timeline").json()["items"]
        assert (items[0]["type"], items[0]["subject"]) == ("activity", "Site visit")
        assert items[-1]["action"] == "create"
        audit = client.get(f"companies/{company.public_id}/audit").json()["items"]
        assert [a["action"] for a in audit] == ["create"]
        assert (
            api_as(personas.rep_c).get(f"companies/{company.public_id}/timeline").status_code == 404
        )


class TestAuditEndpoint:
    def test_who_when_and_old_new_values_newest_first(self, personas, api_as, contact_of):
        with frozen(T0):
            contact = contact_of(personas.rep_a, title="Buyer")
        with frozen(T0 + MINUTE):
            contact_update(actor=personas.manager_a, contact=contact, title="CEO")
        response = api_as(personas.rep_a).get(f"contacts/{contact.public_id}/audit")
        assert response.status_code == 200
        first, second = response.json()["items"]
        assert first["action"] == "update"
        assert first["actor_id"] == str(personas.manager_a.public_id)
        assert first["actor_name"] == "manager_a"
        assert first["at"].startswith("2030-03-01T09:01")
        assert first["changes"] == {"title": ["Buyer", "CEO"]}
        assert isinstance(first["id"], int)
        assert second["action"] == "create"
        assert second["actor_id"] == str(personas.rep_a.public_id)

    def test_audit_pages_with_a_cursor(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        for n in range(5):
            contact_update(actor=personas.rep_a, contact=contact, title=f"t{n}")
        client = api_as(personas.rep_a)
        walked = _pages(client, f"contacts/{contact.public_id}/audit", 2)
        assert len(walked) == 6
        assert len({a["id"] for a in walked}) == 6

    def test_an_activitys_audit_follows_the_activity(self, personas, api_as):
        task = services.activity_create(actor=personas.rep_a, kind="task", subject="t")
        services.activity_complete(actor=personas.rep_a, activity=task, done_at=T0)
        path = f"activities/{task.public_id}/audit"
        items = api_as(personas.manager_a).get(path).json()["items"]
        assert [a["action"] for a in items] == ["update", "create"]
        assert items[0]["changes"]["done_at"] == [None, T0.isoformat()]
        assert api_as(personas.rep_b).get(path).status_code == 404
        assert api_as(personas.manager_b).get(path).status_code == 404

    def test_an_operator_change_has_no_actor(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        contact_update(actor=None, contact=contact, title="Set by import")
        first = api_as(personas.rep_a).get(f"contacts/{contact.public_id}/audit").json()["items"][0]
        assert first["actor_id"] is None and first["actor_name"] == ""


class TestLeadAndDealTimelines:
    def test_a_leads_timeline_and_audit(self, personas, api_as):
        lead = leads.lead_create(actor=personas.rep_a, first_name="Reza", company_name="Arya")
        services.activity_create(
            actor=personas.rep_a, kind="call", subject="Qualifying call", lead=lead
        )
        leads.lead_update(actor=personas.rep_a, lead=lead, title="CTO")
        client = api_as(personas.rep_a)
        items = client.get(f"leads/{lead.public_id}/timeline").json()["items"]
        assert [(i["type"], i["action"] or i["kind"]) for i in items] == [
            ("event", "update"),
            ("activity", "call"),
            ("event", "create"),
        ]
        assert items[0]["changes"]["title"] == ["", "CTO"]
        audit = client.get(f"leads/{lead.public_id}/audit").json()["items"]
        assert [a["action"] for a in audit] == ["update", "create"]
        outsider = api_as(personas.rep_b)
        assert outsider.get(f"leads/{lead.public_id}/timeline").status_code == 404
        assert outsider.get(f"leads/{lead.public_id}/audit").status_code == 404
        assert api_as(personas.manager_a).get(f"leads/{lead.public_id}/audit").status_code == 200

    def test_a_deals_timeline_shows_stage_moves(self, personas, api_as):
        pipeline = deals.pipeline_create(
            actor=None,
            name="Sales",
            stages=[{"name": "New", "probability": 10}, {"name": "Proposal", "probability": 50}],
        )
        deal = deals.deal_create(actor=personas.rep_a, title="Fleet renewal", pipeline=pipeline)
        services.activity_create(
            actor=personas.rep_a, kind="meeting", subject="Kick-off", deal=deal
        )
        proposal = Stage.objects.get(pipeline=pipeline, name="Proposal")
        deals.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=proposal)
        client = api_as(personas.rep_a)
        items = client.get(f"deals/{deal.public_id}/timeline").json()["items"]
        assert [i["type"] for i in items] == ["event", "activity", "event"]
        assert items[0]["action"] in {"stage_move", "update"}
        assert "stage" in items[0]["changes"]
        assert items[1]["subject"] == "Kick-off"
        assert items[2]["action"] == "create"
        assert api_as(personas.rep_b).get(f"deals/{deal.public_id}/timeline").status_code == 404
        assert api_as(personas.manager_b).get(f"deals/{deal.public_id}/audit").status_code == 404
