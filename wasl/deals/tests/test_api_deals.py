from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wasl.contacts.services import company_create, contact_create, custom_field_create
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.deals import services
from wasl.deals.models import Deal, DealLineItem, DealStageChange

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Deal.objects.count(),
        DealStageChange.objects.count(),
        DealLineItem.objects.count(),
        AuditEntry.objects.count(),
        OutboxEvent.objects.count(),
    )


# ---------------------------------------------------------------- create


def test_post_creates_a_deal_with_lines_contacts_and_tags(personas, api_as, pipeline, stages):
    company = company_create(actor=personas.rep_a, name="Pars Steel")
    contact = contact_create(actor=personas.rep_a, first_name="Reza", last_name="Karimi")
    product = services.product_create(actor=None, name="License", price="120.00")
    response = api_as(personas.rep_a).post(
        "deals",
        {
            "title": "Plant automation",
            "company_id": str(company.public_id),
            "contact_ids": [str(contact.public_id)],
            "tags": ["Industry"],
            "expected_close": "2026-03-01",
            "line_items": [
                {"product_id": str(product.public_id), "quantity": "2", "discount_percent": 25},
                {"description": "Install", "unit_price": "10.5"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "190.50"
    assert body["currency"] == settings.WASL_CURRENCY
    assert body["stage_id"] == str(stages["Lead"].public_id)
    assert body["pipeline_id"] == str(pipeline.public_id)
    assert body["status"] == "open"
    assert body["probability"] == 10
    assert body["company"] == {"id": str(company.public_id), "name": "Pars Steel"}
    assert body["contact_ids"] == [str(contact.public_id)]
    assert body["tags"] == ["Industry"]
    assert body["owner_id"] == str(personas.rep_a.public_id)
    assert [li["total"] for li in body["line_items"]] == ["180.00", "10.50"]
    assert body["line_items"][0]["product"]["name"] == "License"
    deal = Deal.objects.get(public_id=body["id"])
    assert AuditEntry.objects.filter(object_public_id=deal.public_id, action="create").exists()
    assert OutboxEvent.objects.filter(object_id=deal.pk, name="deal.created").exists()


def test_post_with_invalid_input_answers_422_per_field_and_writes_nothing(
    personas, api_as, pipeline, stages
):
    custom_field_create(actor=None, entity="deal", key="size", label_en="Size", kind="number")
    client = api_as(personas.rep_a)
    before = _counts()
    response = client.post(
        "deals",
        {
            "title": "",
            "amount": "-1",
            "currency": "rial",
            "probability": 150,
            "stage_id": str(stages["Lost"].public_id),
            "custom": {"size": "big", "nope": 1},
            "line_items": [{"description": "", "unit_price": "5"}],
        },
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {
        "title",
        "amount",
        "currency",
        "probability",
        "stage_id",
        "custom.size",
        "custom.nope",
        "line_items.0.description",
    }
    assert _counts() == before


def test_post_with_a_malformed_body_answers_422(personas, api_as, pipeline):
    response = api_as(personas.rep_a).post("deals", {"amount": "lots"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"title", "amount"}


def test_readonly_cannot_post_deals(personas, api_as, pipeline):
    client = api_as(personas.readonly)
    before = _counts()
    response = client.post("deals", {"title": "X"})
    assert response.status_code == 403
    assert _counts() == before


def test_a_contact_the_actor_cannot_see_is_not_found(personas, api_as, pipeline):
    contact = contact_create(actor=personas.rep_c, first_name="Hidden", last_name="One")
    response = api_as(personas.rep_a).post(
        "deals", {"title": "X", "contact_ids": [str(contact.public_id)]}
    )
    assert response.status_code == 404
    assert not Deal.objects.exists()


# ---------------------------------------------------------------- read


def test_visibility_of_one_deal(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a)
    path = f"deals/{deal.public_id}"
    assert api_as(personas.rep_a).get(path).status_code == 200
    assert api_as(personas.manager_a).get(path).status_code == 200
    assert api_as(personas.readonly).get(path).status_code == 200
    assert api_as(personas.admin).get(path).status_code == 200
    for outsider in (personas.rep_b, personas.manager_b, personas.rep_c):
        response = api_as(outsider).get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert api_as(personas.rep_a).get("deals/not-a-uuid").status_code == 404
    assert api_as(None).get(path).status_code == 401


def test_wrong_methods_answer_405(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a)
    client = api_as(personas.rep_a)
    assert client.put(f"deals/{deal.public_id}", {"title": "X"}).status_code == 405
    assert client.delete("deals").status_code == 405
    assert client.post(f"deals/{deal.public_id}/stage-history").status_code == 405


# ---------------------------------------------------------------- list


def test_list_filters_by_pipeline_stage_status_company_contact_and_dates(
    personas, api_as, stages, other_pipeline, make_deal, reason
):
    company = company_create(actor=personas.rep_a, name="Acme")
    contact = contact_create(actor=personas.rep_a, first_name="Ali", last_name="Rahimi")
    make_deal(
        personas.rep_a,
        title="A",
        company=company,
        expected_close=dt.date(2026, 1, 10),
        amount="300",
    )
    b = make_deal(personas.rep_a, title="B", contacts=[contact], amount="100")
    c = make_deal(personas.rep_a, title="C", pipeline=other_pipeline, amount="200")
    services.deal_move_to_stage(actor=personas.rep_a, deal=b, stage=stages["Won"])
    services.deal_move_to_stage(
        actor=personas.rep_a, deal=c, stage=c.pipeline.stages.get(name="Renewed")
    )
    d = make_deal(personas.rep_a, title="D", expected_close=dt.date(2026, 2, 10))
    services.deal_move_to_stage(
        actor=personas.rep_a, deal=d, stage=stages["Lost"], lost_reason=reason
    )
    client = api_as(personas.rep_a)

    def titles(**params):
        response = client.get("deals", **params)
        assert response.status_code == 200, response.json()
        return [item["title"] for item in response.json()["items"]]

    assert sorted(titles(pipeline=str(other_pipeline.public_id))) == ["C"]
    assert titles(stage=str(stages["Won"].public_id)) == ["B"]
    assert sorted(titles(status="won")) == ["B", "C"]
    assert titles(status="lost") == ["D"]
    assert titles(status="open") == ["A"]
    assert titles(company=str(company.public_id)) == ["A"]
    assert titles(contact=str(contact.public_id)) == ["B"]
    assert titles(expected_close_after="2026-02-01") == ["D"]
    assert titles(expected_close_before="2026-02-01") == ["A"]
    assert titles(sort="amount") == ["D", "B", "C", "A"]
    assert titles(sort="-amount") == ["A", "C", "B", "D"]
    assert titles(sort="title") == ["A", "B", "C", "D"]
    assert client.get("deals", status="maybe").status_code == 422
    assert client.get("deals", sort="probability").status_code == 422
    assert client.get("deals", stage="bad").status_code == 422
    assert titles(owner=str(personas.rep_b.public_id)) == []
    assert titles(tag="nothing") == []


def test_list_filters_by_custom_fields_and_pages_with_a_cursor(personas, api_as, make_deal):
    custom_field_create(
        actor=None,
        entity="deal",
        key="tier",
        label_en="Tier",
        kind="choice",
        choices=[{"value": "gold"}, {"value": "silver"}],
    )
    for index in range(5):
        make_deal(
            personas.rep_a,
            title=f"Deal {index}",
            custom={"tier": "gold" if index % 2 else "silver"},
        )
    client = api_as(personas.rep_a)
    gold = client.get("deals", **{"custom.tier": "gold"}).json()["items"]
    assert sorted(item["title"] for item in gold) == ["Deal 1", "Deal 3"]
    assert client.get("deals", **{"custom.colour": "x"}).status_code == 422
    first = client.get("deals", sort="title", limit=2).json()
    assert [i["title"] for i in first["items"]] == ["Deal 0", "Deal 1"]
    second = client.get("deals", sort="title", limit=2, cursor=first["next"]).json()
    assert [i["title"] for i in second["items"]] == ["Deal 2", "Deal 3"]
    third = client.get("deals", sort="title", limit=2, cursor=second["next"]).json()
    assert [i["title"] for i in third["items"]] == ["Deal 4"]
    assert third["next"] is None


def test_list_is_scoped_by_visibility(personas, api_as, make_deal):
    make_deal(personas.rep_a, title="Mine")
    make_deal(personas.rep_c, title="Theirs")
    assert [i["title"] for i in api_as(personas.rep_b).get("deals").json()["items"]] == []
    assert [i["title"] for i in api_as(personas.manager_a).get("deals").json()["items"]] == ["Mine"]
    assert [i["title"] for i in api_as(personas.manager_b).get("deals").json()["items"]] == [
        "Theirs"
    ]


def test_a_list_page_costs_a_bounded_number_of_queries_that_does_not_grow(
    personas, api_as, make_deal, django_assert_max_num_queries
):
    company = company_create(actor=personas.rep_a, name="Acme")
    contact = contact_create(actor=personas.rep_a, first_name="Ali", last_name="Rahimi")
    client = api_as(personas.rep_a)

    def add(count: int) -> None:
        for index in range(count):
            make_deal(
                personas.rep_a,
                title=f"Deal {index}",
                company=company,
                contacts=[contact],
                tags=["A", f"T{index}"],
            )

    add(2)
    client.get("deals")  # the token's last-used time is written on the first call only
    with CaptureQueriesContext(connection) as small:
        assert client.get("deals").status_code == 200
    add(20)
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as large:
        response = client.get("deals")
    assert len(response.json()["items"]) == 22
    assert len(large) == len(small)


# ---------------------------------------------------------------- update and stage moves


def test_patch_changes_only_the_fields_sent_and_audits_them(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a, amount="100", notes="keep me")
    response = api_as(personas.rep_a).patch(
        f"deals/{deal.public_id}", {"title": "New title", "amount": "150.25", "tags": ["Hot"]}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["amount"], body["notes"], body["tags"]) == (
        "New title",
        "150.25",
        "keep me",
        ["Hot"],
    )
    entry = AuditEntry.objects.filter(object_public_id=deal.public_id).order_by("-id").first()
    assert entry.action == "update"
    assert set(entry.changes) == {"title", "amount", "tags"}
    assert OutboxEvent.objects.filter(object_id=deal.pk, name="deal.updated").exists()


def test_patch_moves_the_stage_and_records_it(personas, api_as, stages, make_deal):
    deal = make_deal(personas.rep_a)
    response = api_as(personas.manager_a).patch(
        f"deals/{deal.public_id}", {"stage_id": str(stages["Proposal"].public_id)}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["probability"] == 50
    assert DealStageChange.objects.filter(deal=deal).count() == 2
    assert AuditEntry.objects.filter(object_public_id=deal.public_id, action="stage_move").exists()
    names = set(OutboxEvent.objects.filter(object_id=deal.pk).values_list("name", flat=True))
    assert "deal.stage_changed" in names


def test_patch_to_a_lost_stage_needs_a_reason(personas, api_as, stages, make_deal, reason):
    deal = make_deal(personas.rep_a)
    client = api_as(personas.rep_a)
    path = f"deals/{deal.public_id}"
    before = _counts()
    response = client.patch(path, {"stage_id": str(stages["Lost"].public_id)})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["lost_reason_id"]
    assert _counts() == before
    response = client.patch(
        path,
        {
            "stage_id": str(stages["Lost"].public_id),
            "lost_reason_id": str(reason.public_id),
            "competitor": "Rival Co",
            "lost_note": "Went with the incumbent",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "lost"
    assert body["lost_reason"] == {"id": str(reason.public_id), "name": "Price too high"}
    assert body["competitor"]["name"] == "Rival Co"
    assert body["closed_at"] is not None
    assert OutboxEvent.objects.filter(object_id=deal.pk, name="deal.lost").exists()
    response = client.patch(path, {"stage_id": str(stages["Lead"].public_id)})
    body = response.json()
    assert (body["closed_at"], body["lost_reason_id"], body["competitor_id"]) == (None, None, None)


def test_patch_to_a_stage_of_another_pipeline_is_refused(
    personas, api_as, make_deal, other_pipeline
):
    deal = make_deal(personas.rep_a)
    due = other_pipeline.stages.get(name="Due")
    client = api_as(personas.rep_a)
    path = f"deals/{deal.public_id}"
    before = _counts()
    response = client.patch(path, {"stage_id": str(due.public_id)})
    assert response.status_code == 422
    assert "stage_id" in response.json()["error"]["fields"]
    response = client.patch(path, {"pipeline_id": str(other_pipeline.public_id)})
    assert response.status_code == 422
    assert _counts() == before
    response = client.patch(
        path, {"pipeline_id": str(other_pipeline.public_id), "stage_id": str(due.public_id)}
    )
    assert response.status_code == 200
    assert response.json()["pipeline_id"] == str(other_pipeline.public_id)


def test_patch_replaces_lines_and_recomputes_the_amount(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a, amount="5")
    client = api_as(personas.rep_a)
    response = client.patch(
        f"deals/{deal.public_id}",
        {"line_items": [{"description": "A", "unit_price": "40", "quantity": 2}]},
    )
    assert response.json()["amount"] == "80.00"
    response = client.patch(
        f"deals/{deal.public_id}",
        {"line_items": [{"description": "A", "unit_price": "40"}], "amount": "35"},
    )
    assert response.json()["amount"] == "35.00"
    assert len(response.json()["line_items"]) == 1


def test_patch_permissions(personas, api_as, stages, make_deal):
    deal = make_deal(personas.rep_a)
    path = f"deals/{deal.public_id}"
    readonly, rep_b, manager_b = (
        api_as(personas.readonly),
        api_as(personas.rep_b),
        api_as(personas.manager_b),
    )
    before = _counts()
    assert readonly.patch(path, {"title": "X"}).status_code == 403
    assert rep_b.patch(path, {"title": "X"}).status_code == 404
    assert manager_b.patch(path, {"title": "X"}).status_code == 404
    assert _counts() == before
    assert api_as(personas.manager_a).patch(path, {"title": "X"}).status_code == 200


def test_patch_with_invalid_values_writes_nothing(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a)
    client = api_as(personas.rep_a)
    before = _counts()
    response = client.patch(f"deals/{deal.public_id}", {"title": None, "probability": -3})
    assert response.status_code == 422
    assert _counts() == before
    deal.refresh_from_db()
    assert deal.title == "Fleet renewal"


# ---------------------------------------------------------------- delete and history


def test_delete(personas, api_as, make_deal):
    deal = make_deal(personas.rep_a)
    path = f"deals/{deal.public_id}"
    assert api_as(personas.readonly).delete(path).status_code == 403
    assert api_as(personas.rep_b).delete(path).status_code == 404
    assert Deal.objects.filter(pk=deal.pk).exists()
    assert api_as(personas.rep_a).delete(path).status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert AuditEntry.objects.filter(object_public_id=deal.public_id, action="delete").exists()
    assert OutboxEvent.objects.filter(object_id=deal.pk, name="deal.deleted").exists()
    assert api_as(personas.rep_a).get(path).status_code == 404


def test_stage_history_lists_moves_time_in_stages_and_cycle(
    personas, api_as, stages, make_deal, clock
):
    deal = make_deal(personas.rep_a)
    clock.advance(120)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Proposal"])
    clock.advance(30)
    services.deal_move_to_stage(actor=personas.rep_a, deal=deal, stage=stages["Won"])
    path = f"deals/{deal.public_id}/stage-history"
    response = api_as(personas.manager_a).get(path)
    assert response.status_code == 200
    body = response.json()
    assert [(i["from_stage_id"] is None, i["to_stage"]["name"]) for i in body["items"]] == [
        (True, "Lead"),
        (False, "Proposal"),
        (False, "Won"),
    ]
    assert [i["seconds_in_previous"] for i in body["items"]] == [None, 120, 30]
    assert body["items"][1]["actor_id"] == str(personas.rep_a.public_id)
    assert {t["stage"]["name"]: t["seconds"] for t in body["time_in_stages"]} == {
        "Lead": 120,
        "Proposal": 30,
    }
    assert body["cycle_seconds"] == 150
    assert api_as(personas.rep_b).get(path).status_code == 404
    assert api_as(personas.readonly).get(path).status_code == 200
