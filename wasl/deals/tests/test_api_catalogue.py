"""Pipelines and stages, products, lost reasons and competitors over the API."""

from __future__ import annotations

import pytest

from wasl.core.models import AuditEntry
from wasl.deals import services
from wasl.deals.models import Competitor, LostReason, Pipeline, Product, Stage

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- pipelines


def test_everyone_lists_pipelines_with_their_stages(personas, api_as, pipeline):
    response = api_as(personas.readonly).get("pipelines")
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["name"] == "Sales" and item["is_default"]
    assert [(s["name"], s["probability"], s["kind"]) for s in item["stages"]] == [
        ("Lead", 10, "open"),
        ("Proposal", 50, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]
    one = api_as(personas.rep_a).get(f"pipelines/{pipeline.public_id}")
    assert one.json()["id"] == str(pipeline.public_id)
    assert (
        api_as(personas.rep_a).get("pipelines/00000000-0000-0000-0000-000000000000").status_code
        == 404
    )


def test_admins_create_pipelines_with_stages(personas, api_as, pipeline):
    response = api_as(personas.admin).post(
        "pipelines",
        {
            "name": "Projects",
            "is_default": True,
            "stages": [
                {"name": "Scoping", "probability": 20},
                {"name": "Signed", "kind": "won"},
                {"name": "Dropped", "kind": "lost"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_default"] is True
    assert [(s["name"], s["probability"]) for s in body["stages"]] == [
        ("Scoping", 20),
        ("Signed", 100),
        ("Dropped", 0),
    ]
    pipeline.refresh_from_db()
    assert not pipeline.is_default
    created = Pipeline.objects.get(public_id=body["id"])
    assert AuditEntry.objects.filter(object_public_id=created.public_id, action="create").exists()


def test_pipeline_create_refusals(personas, api_as):
    admin, manager, readonly = (
        api_as(personas.admin),
        api_as(personas.manager_a),
        api_as(personas.readonly),
    )
    response = admin.post("pipelines", {"name": " ", "stages": [{"name": "Done", "kind": "won"}]})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"name", "stages"}
    assert (
        admin.post(
            "pipelines", {"name": "X", "stages": [{"name": "A", "kind": "maybe"}]}
        ).status_code
        == 422
    )
    assert manager.post("pipelines", {"name": "Mine"}).status_code == 403
    assert readonly.post("pipelines", {"name": "Mine"}).status_code == 403
    assert not Pipeline.objects.exists()


def test_admins_rename_archive_and_delete_pipelines(
    personas, api_as, pipeline, other_pipeline, make_deal
):
    admin = api_as(personas.admin)
    path = f"pipelines/{other_pipeline.public_id}"
    assert api_as(personas.manager_a).patch(path, {"name": "X"}).status_code == 403
    response = admin.patch(path, {"name": "Renewals 2026", "is_active": False})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["is_active"]) == ("Renewals 2026", False)
    assert [p["name"] for p in admin.get("pipelines").json()["items"]] == ["Sales"]
    assert len(admin.get("pipelines", include_inactive="true").json()["items"]) == 2
    response = admin.patch(f"pipelines/{pipeline.public_id}", {"is_active": False})
    assert response.status_code == 422
    assert "is_active" in response.json()["error"]["fields"]
    make_deal(personas.rep_a)
    response = admin.delete(f"pipelines/{pipeline.public_id}")
    assert response.status_code == 422
    assert "deals" in response.json()["error"]["fields"]
    assert api_as(personas.manager_a).delete(path).status_code == 403
    assert admin.delete(path).status_code == 204
    assert not Pipeline.objects.filter(pk=other_pipeline.pk).exists()
    assert admin.put(path, {"name": "X"}).status_code == 405


# ---------------------------------------------------------------- stages


def test_admins_add_change_reorder_and_delete_stages(personas, api_as, pipeline, stages):
    admin = api_as(personas.admin)
    base = f"pipelines/{pipeline.public_id}/stages"
    response = admin.post(base, {"name": "Demo", "probability": 30})
    assert response.status_code == 201, response.json()
    demo = response.json()
    assert demo["position"] == 2
    response = admin.patch(f"{base}/{demo['id']}", {"name": "Live demo", "probability": 35})
    assert (response.json()["name"], response.json()["probability"]) == ("Live demo", 35)
    order = [
        demo["id"],
        *(str(stages[n].public_id) for n in ("Lead", "Proposal", "Won", "Lost")),
    ]
    response = admin.put(f"pipelines/{pipeline.public_id}/stage-order", {"stage_ids": order})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["stages"]] == order
    response = admin.put(f"pipelines/{pipeline.public_id}/stage-order", {"stage_ids": order[:2]})
    assert response.status_code == 422
    assert admin.get(f"{base}/{demo['id']}").json()["name"] == "Live demo"
    assert admin.delete(f"{base}/{demo['id']}").status_code == 204
    assert not Stage.objects.filter(public_id=demo["id"]).exists()


def test_stage_changes_are_refused_to_non_admins_and_for_bad_input(
    personas, api_as, pipeline, stages
):
    base = f"pipelines/{pipeline.public_id}/stages"
    lead = f"{base}/{stages['Lead'].public_id}"
    assert api_as(personas.manager_a).post(base, {"name": "X"}).status_code == 403
    assert api_as(personas.rep_a).patch(lead, {"name": "X"}).status_code == 403
    assert api_as(personas.readonly).delete(lead).status_code == 403
    admin = api_as(personas.admin)
    count = Stage.objects.count()
    response = admin.post(base, {"name": "lead", "probability": 101})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) >= {"probability"}
    response = admin.post(base, {"name": "LEAD"})
    assert response.json()["error"]["fields"]["name"]
    assert Stage.objects.count() == count


def test_a_stage_holding_deals_is_not_deleted(personas, api_as, pipeline, stages, make_deal):
    make_deal(personas.rep_a)
    response = api_as(personas.admin).delete(
        f"pipelines/{pipeline.public_id}/stages/{stages['Lead'].public_id}"
    )
    assert response.status_code == 422
    assert "1 deal is in this stage" in response.json()["error"]["fields"]["deals"][0]
    assert Stage.objects.filter(pk=stages["Lead"].pk).exists()


def test_a_stage_is_reached_only_through_its_own_pipeline(
    personas, api_as, pipeline, other_pipeline
):
    due = other_pipeline.stages.get(name="Due")
    response = api_as(personas.admin).patch(
        f"pipelines/{pipeline.public_id}/stages/{due.public_id}", {"name": "X"}
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- products


def test_product_crud(personas, api_as):
    manager = api_as(personas.manager_a)
    response = manager.post(
        "products", {"name": "Router", "price": "99.9", "currency": "usd", "sku": "R-1"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["price"], body["currency"], body["tax_percent"]) == ("99.90", "USD", "0.00")
    path = f"products/{body['id']}"
    assert api_as(personas.rep_a).get(path).json()["name"] == "Router"
    listed = api_as(personas.readonly).get("products", q="rou").json()["items"]
    assert [p["sku"] for p in listed] == ["R-1"]
    response = api_as(personas.admin).patch(path, {"price": "120", "is_active": False})
    assert (response.json()["price"], response.json()["is_active"]) == ("120.00", False)
    assert api_as(personas.rep_a).get("products").json()["items"] == []
    assert len(api_as(personas.rep_a).get("products", include_inactive="true").json()["items"]) == 1
    product = Product.objects.get(public_id=body["id"])
    assert AuditEntry.objects.filter(object_public_id=product.public_id, action="update").exists()
    assert manager.delete(path).status_code == 204
    assert not Product.objects.exists()
    assert manager.put("products", {}).status_code == 405


def test_product_refusals(personas, api_as, make_deal):
    services.product_create(actor=None, name="Existing", price="1", sku="S-1")
    count = Product.objects.count()
    rep, readonly, admin = api_as(personas.rep_a), api_as(personas.readonly), api_as(personas.admin)
    assert rep.post("products", {"name": "X", "price": "1"}).status_code == 403
    assert readonly.post("products", {"name": "X", "price": "1"}).status_code == 403
    response = admin.post(
        "products",
        {"name": "X", "price": "-1", "currency": "EURO", "sku": "S-1", "tax_percent": 120},
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"price", "currency", "sku", "tax_percent"}
    assert Product.objects.count() == count
    used = services.product_create(actor=None, name="Used", price="3")
    make_deal(personas.rep_a, line_items=[{"product": used}])
    response = admin.delete(f"products/{used.public_id}")
    assert response.status_code == 422
    assert rep.patch(f"products/{used.public_id}", {"price": "2"}).status_code == 403
    assert rep.get("products/not-an-id").status_code == 404


# ---------------------------------------------------------------- lost reasons


def test_lost_reason_crud(personas, api_as, stages, make_deal):
    admin = api_as(personas.admin)
    response = admin.post("lost-reasons", {"name": "No budget", "position": 2})
    assert response.status_code == 201
    reason_id = response.json()["id"]
    path = f"lost-reasons/{reason_id}"
    assert api_as(personas.rep_a).get(path).json()["name"] == "No budget"
    assert [r["name"] for r in api_as(personas.rep_a).get("lost-reasons").json()["items"]] == [
        "No budget"
    ]
    response = admin.patch(path, {"name": "No budget this year"})
    assert response.json()["name"] == "No budget this year"
    reason = LostReason.objects.get(public_id=reason_id)
    services.deal_move_to_stage(
        actor=personas.rep_a,
        deal=make_deal(personas.rep_a),
        stage=stages["Lost"],
        lost_reason=reason,
    )
    assert admin.delete(path).status_code == 422
    response = admin.patch(path, {"is_active": False})
    assert response.json()["is_active"] is False
    assert api_as(personas.rep_a).get("lost-reasons").json()["items"] == []
    unused = admin.post("lost-reasons", {"name": "Other"}).json()["id"]
    assert admin.delete(f"lost-reasons/{unused}").status_code == 204
    assert AuditEntry.objects.filter(object_public_id=unused, action="delete").exists()


def test_lost_reason_refusals(personas, api_as, reason):
    count = LostReason.objects.count()
    manager, admin = api_as(personas.manager_a), api_as(personas.admin)
    assert manager.post("lost-reasons", {"name": "X"}).status_code == 403
    assert api_as(personas.readonly).delete(f"lost-reasons/{reason.public_id}").status_code == 403
    response = admin.post("lost-reasons", {"name": "PRICE too high"})
    assert response.status_code == 422
    assert "name" in response.json()["error"]["fields"]
    assert admin.post("lost-reasons", {}).status_code == 422
    assert LostReason.objects.count() == count
    assert admin.put(f"lost-reasons/{reason.public_id}", {"name": "X"}).status_code == 405


# ---------------------------------------------------------------- competitors


def test_competitors_list_and_create(personas, api_as):
    rep = api_as(personas.rep_a)
    response = rep.post(
        "competitors", {"name": "Kaveh Systems", "website": "https://kaveh.example"}
    )
    assert response.status_code == 201
    again = rep.post("competitors", {"name": "  kaveh   SYSTEMS"})
    assert again.json()["id"] == response.json()["id"]
    assert Competitor.objects.count() == 1
    listed = api_as(personas.readonly).get("competitors", q="KAV").json()["items"]
    assert [c["name"] for c in listed] == ["Kaveh Systems"]
    assert api_as(personas.readonly).post("competitors", {"name": "Other"}).status_code == 403
    response = rep.post("competitors", {"name": ""})
    assert response.status_code == 422
    assert Competitor.objects.count() == 1
    assert rep.delete("competitors").status_code == 405
