"""Who may reach whose records through the API: every resource × persona × operation.

rep_a owns each record. rep_b is rep_a's teammate, manager_a manages their team, manager_b
manages another team, readonly belongs to rep_a's team, admin sees all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from wasl.activities.services import activity_create
from wasl.contacts.services import company_create, contact_create
from wasl.deals.services import deal_create, pipeline_ensure_default
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

MARKER = "Zanjirvisible"


@dataclass(frozen=True)
class Resource:
    path: str
    kind: str | None  # search kind; None when not searchable
    create: Callable[[Any], Any]
    patch: dict[str, Any]
    has_timeline: bool = True


RESOURCES = {
    "contacts": Resource(
        "contacts",
        "contact",
        lambda owner: contact_create(actor=owner, first_name=MARKER, last_name="Contact"),
        {"title": "Buyer"},
    ),
    "companies": Resource(
        "companies",
        "company",
        lambda owner: company_create(actor=owner, name=f"{MARKER} Company"),
        {"industry": "Retail"},
    ),
    "leads": Resource(
        "leads",
        "lead",
        lambda owner: lead_create(
            actor=owner, first_name=MARKER, last_name="Lead", email="lead@matrix.ir"
        ),
        {"title": "Owner"},
    ),
    "deals": Resource(
        "deals",
        "deal",
        lambda owner: (
            pipeline_ensure_default(actor=None),
            deal_create(actor=owner, title=f"{MARKER} Deal", amount="1000"),
        )[1],
        {"notes": "Follow up"},
    ),
    "activities": Resource(
        "activities",
        None,
        lambda owner: activity_create(actor=owner, kind="task", subject=f"{MARKER} task"),
        {"body": "Bring the samples"},
        has_timeline=False,
    ),
}

SEES = {
    "rep_a": True,
    "rep_b": False,
    "manager_a": True,
    "manager_b": False,
    "readonly": True,
    "admin": True,
}
WRITES = {
    "rep_a": True,
    "rep_b": False,
    "manager_a": True,
    "manager_b": False,
    "readonly": False,
    "admin": True,
}
PERSONAS = list(SEES)


def expected_write_status(persona: str, ok: int) -> int:
    if WRITES[persona]:
        return ok
    return 403 if SEES[persona] else 404


@pytest.fixture
def record_of(personas):
    def build(resource: Resource) -> Any:
        return resource.create(personas.rep_a)

    return build


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_list_shows_the_record_only_to_those_who_may_see_it(
    personas, api_as, record_of, name, persona
):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).get(resource.path, limit=200)
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["items"]}
    assert (str(record.public_id) in ids) is SEES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_get_answers_404_to_those_who_may_not_see_it(personas, api_as, record_of, name, persona):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).get(f"{resource.path}/{record.public_id}")
    assert response.status_code == (200 if SEES[persona] else 404)
    if not SEES[persona]:
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_update_is_refused_without_write_access_and_changes_nothing(
    personas, api_as, record_of, name, persona
):
    resource = RESOURCES[name]
    record = record_of(resource)
    before = type(record).objects.get(pk=record.pk).updated_at
    response = api_as(getattr(personas, persona)).patch(
        f"{resource.path}/{record.public_id}", resource.patch
    )
    assert response.status_code == expected_write_status(persona, 200), response.content
    if not WRITES[persona]:
        assert type(record).objects.get(pk=record.pk).updated_at == before


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_delete_is_refused_without_write_access(personas, api_as, record_of, name, persona):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).delete(f"{resource.path}/{record.public_id}")
    assert response.status_code == expected_write_status(persona, 204), response.content
    assert type(record).objects.filter(pk=record.pk).exists() is not WRITES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", [n for n, r in RESOURCES.items() if r.kind])
def test_search_finds_the_record_only_for_those_who_may_see_it(
    personas, api_as, record_of, name, persona
):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).get("search", q=MARKER.lower(), limit=50)
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["items"]}
    assert (str(record.public_id) in ids) is SEES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", [n for n, r in RESOURCES.items() if r.has_timeline])
def test_timeline_is_404_for_those_who_may_not_see_the_record(
    personas, api_as, record_of, name, persona
):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).get(
        f"{resource.path}/{record.public_id}/timeline"
    )
    assert response.status_code == (200 if SEES[persona] else 404)
    if SEES[persona]:
        assert response.json()["items"], "the creation event belongs on the timeline"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_audit_is_404_for_those_who_may_not_see_the_record(
    personas, api_as, record_of, name, persona
):
    resource = RESOURCES[name]
    record = record_of(resource)
    response = api_as(getattr(personas, persona)).get(f"{resource.path}/{record.public_id}/audit")
    assert response.status_code == (200 if SEES[persona] else 404)
    if SEES[persona]:
        actions = [entry["action"] for entry in response.json()["items"]]
        assert "create" in actions
