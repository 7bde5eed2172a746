from __future__ import annotations

import pytest

from wasl.contacts import services
from wasl.contacts.models import Company, Contact, ContactPoint, CustomFieldDefinition, Tag
from wasl.core.audit import entries_for

pytestmark = pytest.mark.django_db


def make_contacts(owner, count, **extra):
    return [
        services.contact_create(
            actor=owner,
            first_name=f"Person {i}",
            emails=[f"p{i}@x.ir"],
            phones=[f"0912000{i:04d}"],
            tags=["lead-list"],
            **extra,
        )
        for i in range(count)
    ]


def test_create_read_update_delete_contact(personas, api_as):
    api = api_as(personas.rep_a)
    company = api.post("companies", {"name": "Pars Co", "phones": ["021 8888 7777"]}).json()
    created = api.post(
        "contacts",
        {
            "first_name": "Maryam",
            "last_name": "Hosseini",
            "emails": ["M@Pars.ir"],
            "phones": ["+98 912 345 6789", "021 2222 3333"],
            "company_id": company["id"],
            "company_role": "Buyer",
            "tags": ["VIP"],
            "birthday": "1990-03-21",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["emails"][0]["value"] == "m@pars.ir"
    assert [p["value"] for p in body["phones"]] == ["+989123456789", "+982122223333"]
    assert body["company"] == {"id": company["id"], "name": "Pars Co"}
    assert body["companies"][0]["role"] == "Buyer"
    assert body["owner_id"] == str(personas.rep_a.public_id)

    fetched = api.get(f"contacts/{body['id']}")
    assert fetched.json()["full_name"] == "Maryam Hosseini"

    patched = api.patch(f"contacts/{body['id']}", {"title": "Head of buying", "tags": []})
    assert patched.status_code == 200
    assert patched.json()["title"] == "Head of buying"
    assert patched.json()["tags"] == []
    assert patched.json()["phones"] == body["phones"]

    deleted = api.delete(f"contacts/{body['id']}")
    assert deleted.status_code == 204
    assert api.get(f"contacts/{body['id']}").status_code == 404


def test_important_dates_through_the_api(personas, api_as):
    api = api_as(personas.rep_a)
    company = api.post(
        "companies",
        {"name": "Kavir", "important_dates": [{"kind": "renewal", "date": "2027-01-15"}]},
    )
    assert company.status_code == 201, company.content
    assert company.json()["important_dates"] == [
        {"kind": "renewal", "label": "", "date": "2027-01-15"}
    ]
    listed = api.get("companies").json()["items"]
    assert all(item["important_dates"] is None for item in listed)
    company_id = company.json()["id"]
    moved = api.patch(
        f"companies/{company_id}",
        {"important_dates": [{"kind": "contract_end", "label": "Lease", "date": "2027-06-30"}]},
    )
    assert moved.json()["important_dates"] == [
        {"kind": "contract_end", "label": "Lease", "date": "2027-06-30"}
    ]
    contact = api.post("contacts", {"first_name": "Sara"}).json()
    patched = api.patch(
        f"contacts/{contact['id']}",
        {"important_dates": [{"kind": "renewal", "date": "2027-02-01"}]},
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["important_dates"] == [
        {"kind": "renewal", "label": "", "date": "2027-02-01"}
    ]
    untouched = api.patch(f"contacts/{contact['id']}", {"title": "Buyer"}).json()
    assert untouched["important_dates"] == patched.json()["important_dates"]
    cleared = api.patch(f"contacts/{contact['id']}", {"important_dates": []}).json()
    assert cleared["important_dates"] == []
    refused = api.patch(f"contacts/{contact['id']}", {"important_dates": [{"kind": "renewal"}]})
    assert refused.status_code == 422


def test_invalid_contact_gets_422_with_fields_and_writes_nothing(personas, api_as):
    api = api_as(personas.rep_a)
    before = (Contact.objects.count(), ContactPoint.objects.count(), Tag.objects.count())
    response = api.post(
        "contacts",
        {"first_name": "A", "emails": ["x@"], "tags": ["new-tag"], "birthday": "not a date"},
    )
    assert response.status_code == 422
    assert "birthday" in response.json()["error"]["fields"]
    response = api.post("contacts", {"first_name": "A", "emails": ["x@"], "tags": ["new-tag"]})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"] == {
        "emails.0": ["“x@” is not a valid e-mail address."]
    }
    assert (Contact.objects.count(), ContactPoint.objects.count(), Tag.objects.count()) == before


def test_invalid_patch_changes_nothing(personas, api_as):
    api = api_as(personas.rep_a)
    contact = make_contacts(personas.rep_a, 1)[0]
    response = api.patch(
        f"contacts/{contact.public_id}", {"first_name": "", "last_name": "", "phones": ["abc"]}
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"last_name", "phones.0"}
    contact.refresh_from_db()
    assert contact.first_name == "Person 0"
    assert not entries_for(contact).filter(action="update").exists()


def test_visibility_of_contacts_by_role(personas, api_as):
    contact = make_contacts(personas.rep_a, 1)[0]
    path = f"contacts/{contact.public_id}"
    assert api_as(personas.rep_b).get(path).status_code == 404
    assert api_as(personas.manager_b).get(path).status_code == 404
    assert api_as(personas.rep_c).get(path).status_code == 404
    assert api_as(personas.manager_a).get(path).status_code == 200
    assert api_as(personas.readonly).get(path).status_code == 200
    assert api_as(personas.admin).get(path).status_code == 200
    assert api_as(personas.readonly).patch(path, {"title": "x"}).status_code == 403
    assert api_as(personas.readonly).delete(path).status_code == 403
    assert api_as(personas.rep_b).patch(path, {"title": "x"}).status_code == 404
    assert api_as(personas.rep_b).delete(path).status_code == 404
    assert api_as(personas.readonly).post("contacts", {"first_name": "x"}).status_code == 403
    assert api_as(personas.rep_b).get("contacts").json()["items"] == []
    assert len(api_as(personas.manager_a).get("contacts").json()["items"]) == 1


def test_unknown_or_malformed_ids_are_404(personas, api_as):
    api = api_as(personas.rep_a)
    assert api.get("contacts/not-a-uuid").status_code == 404
    assert api.get("contacts/00000000-0000-4000-8000-000000000000").status_code == 404


def test_wrong_method_is_405(personas, api_as):
    api = api_as(personas.rep_a)
    assert api.put("contacts", {}).status_code == 405
    contact = make_contacts(personas.rep_a, 1)[0]
    assert api.post(f"contacts/{contact.public_id}", {}).status_code == 405


def test_list_filters_sort_and_cursor_walk_every_row_once(personas, api_as):
    make_contacts(personas.rep_a, 7)
    services.contact_create(actor=personas.rep_a, first_name="Untagged")
    api = api_as(personas.rep_a)
    seen, cursor = [], None
    while True:
        params = {"tag": "LEAD-LIST", "limit": 3, "sort": "first_name"}
        if cursor:
            params["cursor"] = cursor
        page = api.get("contacts", **params).json()
        seen.extend(c["first_name"] for c in page["items"])
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [f"Person {i}" for i in range(7)]
    assert api.get("contacts", owner=str(personas.rep_b.public_id)).json()["items"] == []
    assert api.get("contacts", tag="no-such-tag").json()["items"] == []
    bad = api.get("contacts", sort="password")
    assert bad.status_code == 422 and "sort" in bad.json()["error"]["fields"]
    assert api.get("contacts", cursor="@@@").status_code == 422


def test_list_costs_a_fixed_number_of_queries(personas, api_as, django_assert_max_num_queries):
    api = api_as(personas.rep_a)
    make_contacts(personas.rep_a, 3)
    api.get("contacts")  # warm the per-process caches (organisation, content types, token)
    with django_assert_max_num_queries(10):
        small = api.get("contacts", owner=str(personas.rep_a.public_id), tag="lead-list")
    make_contacts(personas.rep_a, 20)
    with django_assert_max_num_queries(10):
        large = api.get("contacts", owner=str(personas.rep_a.public_id), tag="lead-list")
    assert len(small.json()["items"]) == 3 and len(large.json()["items"]) == 23


def test_companies_crud_and_filters(personas, api_as):
    api = api_as(personas.rep_a)
    created = api.post(
        "companies",
        {
            "name": "Noor",
            "emails": ["INFO@noor.ae"],
            "phones": ["+971 4 123 4567"],
            "city": "Dubai",
        },
    )
    assert created.status_code == 201, created.content
    company_id = created.json()["id"]
    contact = api.post("contacts", {"first_name": "Huda", "company_id": company_id}).json()
    listed = api.get("contacts", company=company_id).json()["items"]
    assert [c["id"] for c in listed] == [contact["id"]]
    assert api.patch(f"companies/{company_id}", {"name": ""}).status_code == 422
    assert api.patch(f"companies/{company_id}", {"industry": "Trade"}).json()["industry"] == "Trade"
    assert api_as(personas.rep_b).get(f"companies/{company_id}").status_code == 404
    assert api_as(personas.readonly).delete(f"companies/{company_id}").status_code == 403
    assert api.delete(f"companies/{company_id}").status_code == 204
    assert not Company.objects.exists()
    assert api.post("companies", {"name": "   "}).status_code == 422


def test_tags_and_custom_fields_endpoints(personas, api_as):
    rep, admin = api_as(personas.rep_a), api_as(personas.admin)
    tag = rep.post("tags", {"name": "Hot"})
    assert tag.status_code == 201
    assert rep.get("tags", q="ho").json()["items"][0]["name"] == "Hot"
    assert rep.delete(f"tags/{tag.json()['id']}").status_code == 403
    assert api_as(personas.readonly).post("tags", {"name": "x"}).status_code == 403
    field = admin.post(
        "custom-fields",
        {
            "entity": "contact",
            "key": "tier",
            "label_en": "Tier",
            "label_fa": "سطح",
            "kind": "choice",
            "choices": [{"value": "gold"}],
        },
    )
    assert field.status_code == 201, field.content
    assert (
        rep.post(
            "custom-fields", {"entity": "contact", "key": "x", "label_en": "X", "kind": "text"}
        ).status_code
        == 403
    )
    assert (
        admin.post(
            "custom-fields", {"entity": "contact", "key": "tier", "label_en": "T", "kind": "text"}
        ).status_code
        == 422
    )
    assert [f["key"] for f in rep.get("custom-fields", entity="contact").json()["items"]] == [
        "tier"
    ]
    assert (
        admin.patch(f"custom-fields/{field.json()['id']}", {"required": True}).json()["required"]
        is True
    )
    assert admin.delete(f"custom-fields/{field.json()['id']}").status_code == 204
    assert not CustomFieldDefinition.objects.filter(is_active=True).exists()
    assert admin.delete(f"tags/{tag.json()['id']}").status_code == 204
