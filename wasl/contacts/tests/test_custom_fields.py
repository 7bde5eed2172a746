from __future__ import annotations

import pytest

from wasl.contacts import services
from wasl.contacts.models import Contact
from wasl.core.errors import Forbidden, Invalid

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(personas):
    admin = personas.admin
    make = services.custom_field_create
    return {
        "tier": make(
            actor=admin,
            entity="contact",
            key="tier",
            label_en="Tier",
            kind="choice",
            label_fa="سطح",
            label_ar="المستوى",
            choices=[{"value": "gold"}, {"value": "silver"}],
        ),
        "employees": make(
            actor=admin,
            entity="contact",
            key="employees",
            label_en="Employees",
            kind="number",
            validation={"min": 0, "max": 100000},
        ),
        "budget": make(
            actor=admin, entity="contact", key="budget", label_en="Budget", kind="money"
        ),
        "renewal": make(
            actor=admin, entity="contact", key="renewal", label_en="Renewal", kind="date"
        ),
        "channels": make(
            actor=admin,
            entity="contact",
            key="channels",
            label_en="Channels",
            kind="multi_choice",
            choices=[{"value": "sms"}, {"value": "email"}],
        ),
        "vip": make(actor=admin, entity="contact", key="vip", label_en="VIP", kind="boolean"),
        "site": make(actor=admin, entity="contact", key="site", label_en="Site", kind="url"),
        "mail": make(actor=admin, entity="contact", key="mail", label_en="Mail", kind="email"),
        "mobile": make(
            actor=admin, entity="contact", key="mobile", label_en="Mobile", kind="phone"
        ),
        "code": make(
            actor=admin,
            entity="contact",
            key="code",
            label_en="Code",
            kind="text",
            required=True,
            validation={"pattern": "[A-Z]{3}"},
        ),
    }


def test_valid_values_are_stored_in_their_json_form(personas, fields):
    contact = services.contact_create(
        actor=personas.rep_a,
        first_name="Ali",
        custom={
            "tier": "gold",
            "employees": "1,200",
            "budget": "1500.5",
            "renewal": "2027-03-21",
            "channels": ["sms", "email", "sms"],
            "vip": "yes",
            "site": "https://x.ir",
            "mail": "A@X.IR",
            "mobile": "09123456789",
            "code": "ABC",
        },
    )
    assert contact.custom == {
        "tier": "gold",
        "employees": 1200,
        "budget": "1500.50",
        "renewal": "2027-03-21",
        "channels": ["sms", "email"],
        "vip": True,
        "site": "https://x.ir",
        "mail": "a@x.ir",
        "mobile": "+989123456789",
        "code": "ABC",
    }


def test_each_bad_value_gets_its_own_message_and_nothing_is_written(personas, fields):
    with pytest.raises(Invalid) as error:
        services.contact_create(
            actor=personas.rep_a,
            first_name="Ali",
            custom={
                "tier": "bronze",
                "employees": -1,
                "budget": "lots",
                "renewal": "21/03/2027",
                "channels": ["fax"],
                "vip": "maybe",
                "site": "javascript:alert(1)",
                "mail": "nope",
                "mobile": "12",
                "code": "abc",
            },
        )
    assert set(error.value.fields) == {f"custom.{k}" for k in fields}
    assert not Contact.objects.exists()


def test_required_field_is_enforced_on_create_and_when_cleared(personas, fields):
    with pytest.raises(Invalid) as error:
        services.contact_create(actor=personas.rep_a, first_name="Ali")
    assert error.value.fields == {"custom.code": ["This field is required."]}
    contact = services.contact_create(
        actor=personas.rep_a, first_name="Ali", custom={"code": "XYZ"}
    )
    services.contact_update(actor=personas.rep_a, contact=contact, custom={"tier": "gold"})
    contact.refresh_from_db()
    assert contact.custom == {"code": "XYZ", "tier": "gold"}
    with pytest.raises(Invalid):
        services.contact_update(actor=personas.rep_a, contact=contact, custom={"code": ""})


def test_only_admins_define_fields_and_definitions_are_checked(personas):
    with pytest.raises(Forbidden):
        services.custom_field_create(
            actor=personas.manager_a, entity="contact", key="x", label_en="X", kind="text"
        )
    with pytest.raises(Invalid) as error:
        services.custom_field_create(
            actor=personas.admin, entity="planet", key="Bad Key", label_en="", kind="weird"
        )
    assert {"entity", "key", "kind"} <= set(error.value.fields)
    with pytest.raises(Invalid):
        services.custom_field_create(
            actor=personas.admin, entity="deal", key="c", label_en="C", kind="choice", choices=[]
        )


def test_list_filters_by_custom_field_values(personas, fields, api_as):
    make = services.contact_create
    make(
        actor=personas.rep_a,
        first_name="Gold",
        custom={"code": "AAA", "tier": "gold", "employees": 10, "channels": ["sms"]},
    )
    make(
        actor=personas.rep_a,
        first_name="Silver",
        custom={"code": "BBB", "tier": "silver", "employees": 20, "channels": ["email"]},
    )
    api = api_as(personas.rep_a)

    def names(**params):
        response = api.get("contacts", **params)
        assert response.status_code == 200, response.content
        return [c["first_name"] for c in response.json()["items"]]

    assert names(**{"custom.tier": "gold"}) == ["Gold"]
    assert names(**{"custom.employees": "20"}) == ["Silver"]
    assert names(**{"custom.channels": "sms"}) == ["Gold"]
    bad = api.get("contacts", **{"custom.nothing": "1"})
    assert bad.status_code == 422
    assert "custom.nothing" in bad.json()["error"]["fields"]
