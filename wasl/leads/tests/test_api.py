"""The leads API: each endpoint's happy path, invalid input, permissions and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wasl.contacts.models import Company, Contact, Tag
from wasl.contacts.services import contact_create, custom_field_create
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.leads.models import Lead
from wasl.leads.services import lead_convert, lead_set_status, lead_update
from wasl.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Lead.objects.count(),
        AuditEntry.objects.count(),
        OutboxEvent.objects.count(),
        Tag.objects.count(),
        Contact.objects.count(),
        Company.objects.count(),
    )


# ---------------------------------------------------------------- create


def test_creating_a_lead_answers_201_with_the_lead(personas, api_as):
    response = api_as(personas.rep_a).post(
        "leads",
        {
            "first_name": "Sara",
            "last_name": "Ahmadi",
            "company_name": "Parsian",
            "email": "Sara@Example.com",
            "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
            "source": "web_form",
            "title": "Buyer",
            "city": "Tehran",
            "country": "ir",
            "tags": ["Expo"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get()
    assert body["id"] == str(lead.public_id)
    assert body["email"] == "sara@example.com"
    assert body["phone"] == "+989123456789"
    assert body["phone_display"] == "0912 345 6789"
    assert body["country"] == "IR"
    assert body["status"] == "new"
    assert body["score"] == 0
    assert body["owner_id"] == str(personas.rep_a.public_id)
    assert body["team_id"] == str(personas.rep_a.team.public_id)
    assert body["tags"] == ["Expo"]
    assert body["converted_contact_id"] is None


def test_the_score_is_not_taken_from_api_input(personas, api_as):
    response = api_as(personas.admin).post("leads", {"last_name": "Karimi", "score": 99})
    assert response.status_code == 201
    assert response.json()["score"] == 0


def test_a_manager_creates_a_lead_for_their_rep(personas, api_as):
    response = api_as(personas.manager_a).post(
        "leads", {"last_name": "Karimi", "owner_id": str(personas.rep_b.public_id)}
    )
    assert response.status_code == 201
    assert Lead.objects.get().owner == personas.rep_b


def test_invalid_input_answers_422_per_field_and_writes_nothing(personas, api_as):
    custom_field_create(actor=None, entity="lead", key="budget", label_en="B", kind="number")
    client = api_as(personas.rep_a)
    before = counts()
    response = client.post(
        "leads",
        {
            "last_name": "Karimi",
            "email": "nope",
            "phone": "12",
            "source": "carrier",
            "country": "Iran",
            "status": "disqualified",
            "tags": ["fine"],
            "custom": {"budget": "lots"},
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {
        "email",
        "phone",
        "source",
        "country",
        "disqualify_reason",
        "custom.budget",
    }
    assert all(messages for messages in error["fields"].values())
    assert counts() == before


def test_a_wrong_type_answers_422_with_the_field(personas, api_as):
    client = api_as(personas.rep_a)
    before = counts()
    response = client.post("leads", {"last_name": "K", "tags": "not a list"})
    assert response.status_code == 422
    assert "tags" in response.json()["error"]["fields"]
    assert counts() == before


def test_an_empty_lead_is_refused(personas, api_as):
    response = api_as(personas.rep_a).post("leads", {"city": "Tehran"})
    assert response.status_code == 422
    assert "__all__" in response.json()["error"]["fields"]
    assert not Lead.objects.exists()


def test_read_only_users_cannot_create_leads(personas, api_as):
    response = api_as(personas.readonly).post("leads", {"last_name": "Karimi"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not Lead.objects.exists()


def test_a_rep_cannot_create_a_lead_for_another_rep(personas, api_as):
    response = api_as(personas.rep_a).post(
        "leads", {"last_name": "Karimi", "owner_id": str(personas.rep_b.public_id)}
    )
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_anonymous_callers_are_refused(personas, api_as):
    assert api_as(None).get("leads").status_code == 401


# ---------------------------------------------------------------- read


def test_reading_a_lead(personas, api_as):
    lead = make_lead(personas.rep_a, phone="+44 20 7946 0958")
    body = api_as(personas.rep_a).get(f"leads/{lead.public_id}").json()
    assert body["id"] == str(lead.public_id)
    assert body["phone"] == "+442079460958"
    assert body["phone_display"] == "+44 20 7946 0958"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rep_a", 200),
        ("rep_b", 404),
        ("manager_a", 200),
        ("manager_b", 404),
        ("rep_c", 404),
        ("readonly", 200),
        ("admin", 200),
    ],
)
def test_who_sees_a_reps_lead(personas, api_as, who, status):
    lead = make_lead(personas.rep_a)
    response = api_as(getattr(personas, who)).get(f"leads/{lead.public_id}")
    assert response.status_code == status
    if status == 404:
        assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_or_malformed_id_is_not_found(personas, api_as):
    client = api_as(personas.admin)
    assert client.get("leads/5f0c6c32-1d2b-4cf1-9a51-6e1b1c4c0d00").status_code == 404
    assert client.get("leads/not-a-uuid").status_code == 404


def test_wrong_methods_answer_405(personas, api_as):
    lead = make_lead(personas.rep_a)
    client = api_as(personas.rep_a)
    assert client.put(f"leads/{lead.public_id}", {"last_name": "X"}).status_code == 405
    assert client.post(f"leads/{lead.public_id}", {}).status_code == 405
    assert client.delete("leads").status_code == 405
    assert client.get(f"leads/{lead.public_id}/convert").status_code == 405
    assert client.post(f"leads/{lead.public_id}/conversion-preview").status_code == 405


# ---------------------------------------------------------------- update


def test_patching_changes_only_the_fields_sent(personas, api_as):
    lead = make_lead(personas.rep_a, city="Tehran", email="a@example.com")
    response = api_as(personas.rep_a).patch(
        f"leads/{lead.public_id}", {"city": "Shiraz", "phone": "09121112233", "tags": ["Hot"]}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["city"], body["email"], body["phone"]) == (
        "Shiraz",
        "a@example.com",
        "+989121112233",
    )
    assert body["tags"] == ["Hot"]
    lead.refresh_from_db()
    assert lead.phone_digits == "9121112233"


def test_disqualifying_through_patch_needs_a_reason(personas, api_as):
    lead = make_lead(personas.rep_a)
    client = api_as(personas.rep_a)
    before = counts()
    response = client.patch(f"leads/{lead.public_id}", {"status": "disqualified"})
    assert response.status_code == 422
    assert "disqualify_reason" in response.json()["error"]["fields"]
    assert counts() == before
    response = client.patch(
        f"leads/{lead.public_id}", {"status": "disqualified", "disqualify_reason": "No budget"}
    )
    assert response.status_code == 200
    assert response.json()["disqualify_reason"] == "No budget"
    assert OutboxEvent.objects.filter(name="lead.status_changed").count() == 1


def test_patching_the_status_to_converted_is_refused(personas, api_as):
    lead = make_lead(personas.rep_a)
    response = api_as(personas.rep_a).patch(f"leads/{lead.public_id}", {"status": "converted"})
    assert response.status_code == 422
    assert "status" in response.json()["error"]["fields"]


def test_an_invalid_patch_writes_nothing(personas, api_as):
    lead = make_lead(personas.rep_a, email="a@example.com")
    client = api_as(personas.rep_a)
    before = counts()
    response = client.patch(
        f"leads/{lead.public_id}", {"email": "broken", "first_name": "Changed", "tags": ["New"]}
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"email"}
    assert counts() == before
    lead.refresh_from_db()
    assert (lead.first_name, lead.email) == ("Sara", "a@example.com")


def test_reassigning_through_patch_moves_the_team(personas, api_as):
    lead = make_lead(personas.rep_a)
    response = api_as(personas.admin).patch(
        f"leads/{lead.public_id}", {"owner_id": str(personas.rep_c.public_id)}
    )
    assert response.status_code == 200
    assert response.json()["team_id"] == str(personas.rep_c.team.public_id)


@pytest.mark.parametrize(("who", "status"), [("readonly", 403), ("rep_b", 404), ("manager_b", 404)])
def test_who_cannot_patch_a_reps_lead(personas, api_as, who, status):
    lead = make_lead(personas.rep_a)
    response = api_as(getattr(personas, who)).patch(f"leads/{lead.public_id}", {"city": "X"})
    assert response.status_code == status
    lead.refresh_from_db()
    assert lead.city == ""


def test_a_manager_patches_their_teams_lead(personas, api_as):
    lead = make_lead(personas.rep_a)
    response = api_as(personas.manager_a).patch(f"leads/{lead.public_id}", {"city": "Qom"})
    assert response.status_code == 200


# ---------------------------------------------------------------- delete


def test_deleting_a_lead_answers_204(personas, api_as):
    lead = make_lead(personas.rep_a)
    response = api_as(personas.rep_a).delete(f"leads/{lead.public_id}")
    assert response.status_code == 204
    assert not Lead.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("readonly", 403), ("rep_b", 404), ("manager_b", 404)])
def test_who_cannot_delete_a_reps_lead(personas, api_as, who, status):
    lead = make_lead(personas.rep_a)
    assert api_as(getattr(personas, who)).delete(f"leads/{lead.public_id}").status_code == status
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_deleting_a_converted_lead_answers_409(personas, api_as):
    lead = make_lead(personas.rep_a)
    lead_convert(actor=personas.rep_a, lead=lead)
    response = api_as(personas.rep_a).delete(f"leads/{lead.public_id}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


# ---------------------------------------------------------------- convert


def test_converting_answers_200_with_the_records_and_again_the_same(personas, api_as):
    lead = make_lead(personas.rep_a, company_name="Parsian", email="sara@example.com")
    client = api_as(personas.rep_a)
    response = client.post(f"leads/{lead.public_id}/convert", {})
    assert response.status_code == 200, response.json()
    body = response.json()
    contact, company = Contact.objects.get(), Company.objects.get()
    assert body == {
        "contact_id": str(contact.public_id),
        "company_id": str(company.public_id),
        "deal_id": None,
        "created_contact": True,
        "created_company": True,
    }
    again = client.post(f"leads/{lead.public_id}/convert", {}).json()
    assert again == {**body, "created_contact": False, "created_company": False}
    assert (Contact.objects.count(), Company.objects.count()) == (1, 1)
    detail = client.get(f"leads/{lead.public_id}").json()
    assert detail["status"] == "converted"
    assert detail["converted_contact_id"] == str(contact.public_id)
    assert detail["converted_company_id"] == str(company.public_id)


def test_converting_onto_a_chosen_contact(personas, api_as):
    chosen = contact_create(actor=personas.rep_a, first_name="Chosen")
    lead = make_lead(personas.rep_a)
    response = api_as(personas.rep_a).post(
        f"leads/{lead.public_id}/convert", {"contact_id": str(chosen.public_id)}
    )
    assert response.status_code == 200
    assert response.json()["contact_id"] == str(chosen.public_id)
    assert response.json()["created_contact"] is False


def test_converting_onto_a_contact_you_cannot_see_is_not_found(personas, api_as):
    hidden = contact_create(actor=personas.rep_b, first_name="Hidden")
    lead = make_lead(personas.rep_a)
    client = api_as(personas.rep_a)
    before = counts()
    response = client.post(f"leads/{lead.public_id}/convert", {"contact_id": str(hidden.public_id)})
    assert response.status_code == 404
    assert counts() == before


def test_converting_a_disqualified_lead_answers_409(personas, api_as):
    lead = make_lead(personas.rep_a)
    lead_set_status(actor=personas.rep_a, lead=lead, status="disqualified", reason="Spam")
    client = api_as(personas.rep_a)
    before = counts()
    response = client.post(f"leads/{lead.public_id}/convert", {})
    assert response.status_code == 409
    assert counts() == before


def test_a_bad_convert_body_answers_422(personas, api_as):
    lead = make_lead(personas.rep_a)
    response = api_as(personas.rep_a).post(
        f"leads/{lead.public_id}/convert", {"create_deal": "perhaps", "deal_amount": "lots"}
    )
    assert response.status_code == 422
    assert {"create_deal", "deal_amount"} <= set(response.json()["error"]["fields"])
    lead.refresh_from_db()
    assert lead.status == "new"


@pytest.mark.parametrize(("who", "status"), [("readonly", 403), ("rep_b", 404), ("manager_b", 404)])
def test_who_cannot_convert_a_reps_lead(personas, api_as, who, status):
    lead = make_lead(personas.rep_a)
    response = api_as(getattr(personas, who)).post(f"leads/{lead.public_id}/convert", {})
    assert response.status_code == status
    assert not Contact.objects.exists()


def test_converting_with_a_deal_through_the_api(personas, api_as):
    try:
        from wasl.deals.models import Deal, Pipeline, Stage
        from wasl.deals.services import deal_create  # noqa: F401
    except ImportError:
        pytest.skip("wasl.deals.services.deal_create")
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    stage = Stage.objects.create(pipeline=pipeline, name="Proposal", probability=20)
    lead = make_lead(personas.rep_a, company_name="Parsian")
    response = api_as(personas.rep_a).post(
        f"leads/{lead.public_id}/convert",
        {
            "create_deal": True,
            "deal_title": "First order",
            "deal_amount": "2500000",
            "deal_currency": "IRR",
            "pipeline_id": str(pipeline.public_id),
            "stage_id": str(stage.public_id),
        },
    )
    assert response.status_code == 200, response.json()
    deal = Deal.objects.get()
    assert response.json()["deal_id"] == str(deal.public_id)
    assert (deal.title, deal.stage) == ("First order", stage)


# ---------------------------------------------------------------- preview


def test_the_conversion_preview(personas, api_as):
    existing = contact_create(actor=personas.rep_a, first_name="Sara", emails=["sara@example.com"])
    lead = make_lead(personas.rep_a, company_name="Parsian", email="sara@example.com")
    response = api_as(personas.rep_a).get(f"leads/{lead.public_id}/conversion-preview")
    assert response.status_code == 200
    assert response.json() == {
        "converted": False,
        "contact": {"id": str(existing.public_id), "name": "Sara"},
        "company": None,
        "creates_contact": False,
        "creates_company": True,
    }
    assert api_as(personas.rep_b).get(f"leads/{lead.public_id}/conversion-preview").status_code == (
        404
    )
    assert api_as(personas.readonly).get(
        f"leads/{lead.public_id}/conversion-preview"
    ).status_code == (200)


# ---------------------------------------------------------------- list


def test_the_list_shows_only_visible_leads(personas, api_as):
    mine = make_lead(personas.rep_a)
    make_lead(personas.rep_b)
    make_lead(personas.rep_c)
    ids = {item["id"] for item in api_as(personas.rep_a).get("leads").json()["items"]}
    assert ids == {str(mine.public_id)}
    assert len(api_as(personas.manager_a).get("leads").json()["items"]) == 2
    assert len(api_as(personas.manager_b).get("leads").json()["items"]) == 1
    assert len(api_as(personas.admin).get("leads").json()["items"]) == 3


def test_the_list_filters_by_status_source_tag_owner_and_custom_value(personas, api_as):
    custom_field_create(actor=None, entity="lead", key="budget", label_en="B", kind="number")
    first = make_lead(personas.rep_a, source="web_form", tags=["Expo"], custom={"budget": 5})
    second = make_lead(personas.rep_b, source="referral")
    lead_set_status(actor=personas.rep_b, lead=second, status="contacted")
    client = api_as(personas.manager_a)

    def ids(**params):
        response = client.get("leads", **params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids(status="contacted") == [str(second.public_id)]
    assert set(ids(status="new,contacted")) == {str(first.public_id), str(second.public_id)}
    assert ids(source="web_form") == [str(first.public_id)]
    assert ids(tag="expo") == [str(first.public_id)]
    assert ids(owner=str(personas.rep_b.public_id)) == [str(second.public_id)]
    assert ids(**{"custom.budget": "5"}) == [str(first.public_id)]
    assert ids(tag="unknown") == []


def test_the_list_refuses_unknown_filter_values(personas, api_as):
    client = api_as(personas.rep_a)
    for params, field in (
        ({"status": "won"}, "status"),
        ({"source": "pigeon"}, "source"),
        ({"sort": "email"}, "sort"),
        ({"custom.nope": "1"}, "custom.nope"),
    ):
        response = client.get("leads", **params)
        assert response.status_code == 422, params
        assert field in response.json()["error"]["fields"]


def test_the_list_sorts_by_score_and_pages_with_a_cursor(personas, api_as):
    for score in (30, 10, 20):
        lead = make_lead(personas.rep_a, last_name=f"L{score}")
        lead_update(actor=personas.admin, lead=lead, score=score)
    client = api_as(personas.rep_a)
    page = client.get("leads", sort="-score", limit=2).json()
    assert [item["score"] for item in page["items"]] == [30, 20]
    rest = client.get("leads", sort="-score", limit=2, cursor=page["next"]).json()
    assert [item["score"] for item in rest["items"]] == [10]
    assert rest["next"] is None
    names = [i["last_name"] for i in client.get("leads", sort="last_name").json()["items"]]
    assert names == ["L10", "L20", "L30"]


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("leads")
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_a_fixed_number_of_queries(personas, api_as, django_assert_max_num_queries):
    client = api_as(personas.manager_a)
    contact = contact_create(actor=personas.rep_a, first_name="Known", emails=["k@example.com"])
    for index in range(3):
        make_lead(personas.rep_a, email=f"k{index}@example.com", tags=["A", f"T{index}"])
    converted = make_lead(personas.rep_b, company_name="Parsian", tags=["B"])
    lead_convert(actor=personas.admin, lead=converted, contact=contact)
    _list_queries(client)  # the first call also notes the token's use and warms caches
    few = _list_queries(client)
    for index in range(20):
        make_lead(personas.rep_b, company_name=f"C{index}", tags=[f"X{index}"])
    with django_assert_max_num_queries(10):
        many = _list_queries(client)
    assert many == few
