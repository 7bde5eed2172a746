from __future__ import annotations

import datetime as dt

import pytest

from wasl.activities import services
from wasl.activities.models import Activity
from wasl.activities.tests.conftest import T0, frozen
from wasl.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _task(personas, **fields):
    fields.setdefault("kind", "task")
    fields.setdefault("subject", "Send the quote")
    return services.activity_create(actor=personas.rep_a, **fields)


class TestCreate:
    def test_a_rep_logs_a_call_on_their_contact(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        response = api_as(personas.rep_a).post(
            "activities",
            {
                "kind": "call",
                "subject": "Pricing call",
                "contact_id": str(contact.public_id),
                "direction": "outbound",
                "outcome": "connected",
                "duration_seconds": 240,
                "done_at": "2030-03-01T09:00:00Z",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "call" and body["status"] == "done"
        assert body["contact_id"] == str(contact.public_id)
        assert body["contact"]["name"] == "Sara Ahmadi"
        assert body["owner_id"] == str(personas.rep_a.public_id)
        assert body["created_by_id"] == str(personas.rep_a.public_id)
        activity = Activity.objects.get(public_id=body["id"])
        assert activity.done_at == T0 and activity.contact == contact
        assert AuditEntry.objects.filter(object_public_id=activity.public_id).count() == 1
        assert OutboxEvent.objects.filter(name="activity.created").count() == 1

    def test_a_manager_assigns_a_task_to_a_rep_of_the_team(self, personas, api_as):
        response = api_as(personas.manager_a).post(
            "activities",
            {"kind": "task", "subject": "Call back", "owner_id": str(personas.rep_b.public_id)},
        )
        assert response.status_code == 201
        assert response.json()["owner_id"] == str(personas.rep_b.public_id)
        assert response.json()["status"] == "open"

    def test_the_same_idempotency_key_answers_with_the_first_activity(self, personas, api_as):
        client = api_as(personas.rep_a)
        payload = {"kind": "task", "subject": "Once", "idempotency_key": "auto-1"}
        first = client.post("activities", payload)
        second = client.post("activities", {**payload, "subject": "Twice"})
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["subject"] == "Once"
        assert Activity.objects.count() == 1

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"kind": "task"}, "subject"),
            ({"kind": "fax", "subject": "x"}, "kind"),
            ({"kind": "call", "subject": "x", "outcome": "maybe"}, "outcome"),
            ({"kind": "call", "subject": "x", "duration_seconds": -5}, "duration_seconds"),
            ({"kind": "task", "subject": "x", "due_at": "tomorrow"}, "due_at"),
            (
                {
                    "kind": "meeting",
                    "subject": "x",
                    "due_at": "2030-03-01T10:00:00Z",
                    "ends_at": "2030-03-01T09:00:00Z",
                },
                "ends_at",
            ),
        ],
    )
    def test_invalid_input_is_422_with_field_messages_and_nothing_written(
        self, personas, api_as, payload, field
    ):
        client = api_as(personas.rep_a)
        audit_before = AuditEntry.objects.count()
        response = client.post("activities", payload)
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert error["fields"][field]
        assert not Activity.objects.exists()
        assert AuditEntry.objects.count() == audit_before
        assert not OutboxEvent.objects.filter(name__startswith="activity.").exists()

    def test_readonly_cannot_create(self, personas, api_as):
        response = api_as(personas.readonly).post("activities", {"kind": "note", "subject": "x"})
        assert response.status_code == 403
        assert not Activity.objects.exists()

    def test_linking_an_invisible_contact_is_404(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        response = api_as(personas.rep_b).post(
            "activities",
            {"kind": "note", "subject": "x", "contact_id": str(contact.public_id)},
        )
        assert response.status_code == 404
        assert not Activity.objects.exists()

    def test_signed_out_is_401(self, api_as):
        assert api_as(None).post("activities", {"kind": "note", "subject": "x"}).status_code == 401


class TestReadUpdateDelete:
    def test_get_patch_and_delete_by_the_assignee(self, personas, api_as, company_of):
        task = _task(personas, due_at=T0)
        company = company_of(personas.rep_a)
        client = api_as(personas.rep_a)
        path = f"activities/{task.public_id}"
        assert client.get(path).json()["subject"] == "Send the quote"
        response = client.patch(
            path, {"subject": "Send the revised quote", "company_id": str(company.public_id)}
        )
        assert response.status_code == 200, response.content
        assert response.json()["company"]["name"] == company.name
        assert response.json()["due_at"].startswith("2030-03-01T09:00")
        task.refresh_from_db()
        assert task.subject == "Send the revised quote" and task.company == company
        response = client.patch(path, {"company_id": None})
        assert response.json()["company_id"] is None
        assert client.delete(path).status_code == 204
        assert not Activity.objects.filter(pk=task.pk).exists()

    def test_an_invalid_patch_is_422_and_changes_nothing(self, personas, api_as):
        task = _task(personas)
        response = api_as(personas.rep_a).patch(
            f"activities/{task.public_id}", {"subject": "", "outcome": "connected"}
        )
        assert response.status_code == 422
        assert set(response.json()["error"]["fields"]) == {"subject", "outcome"}
        task.refresh_from_db()
        assert task.subject == "Send the quote"
        assert AuditEntry.objects.filter(object_public_id=task.public_id).count() == 1

    def test_readonly_sees_but_may_not_write(self, personas, api_as):
        task = _task(personas)
        client = api_as(personas.readonly)
        path = f"activities/{task.public_id}"
        assert client.get(path).status_code == 200
        assert client.patch(path, {"subject": "x"}).status_code == 403
        assert client.post(f"{path}/complete").status_code == 403
        assert client.delete(path).status_code == 403
        task.refresh_from_db()
        assert task.subject == "Send the quote" and task.done_at is None

    @pytest.mark.parametrize("who", ["rep_b", "manager_b", "rep_c"])
    def test_an_outsider_gets_404_for_everything(self, personas, api_as, who):
        task = _task(personas)
        client = api_as(getattr(personas, who))
        path = f"activities/{task.public_id}"
        assert client.get(path).status_code == 404
        assert client.patch(path, {"subject": "x"}).status_code == 404
        assert client.post(f"{path}/complete").status_code == 404
        assert client.post(f"{path}/reopen").status_code == 404
        assert client.delete(path).status_code == 404
        assert client.get(f"{path}/audit").status_code == 404
        assert Activity.objects.filter(pk=task.pk, subject="Send the quote").exists()

    def test_a_missing_or_malformed_id_is_404(self, personas, api_as):
        client = api_as(personas.admin)
        assert client.get("activities/00000000-0000-0000-0000-000000000000").status_code == 404
        assert client.get("activities/not-a-uuid").status_code == 404

    def test_a_wrong_method_is_405(self, personas, api_as):
        task = _task(personas)
        client = api_as(personas.rep_a)
        assert client.put(f"activities/{task.public_id}", {}).status_code == 405
        assert client.get(f"activities/{task.public_id}/complete").status_code == 405
        assert client.delete("activities").status_code == 405


class TestCompleteAndReopen:
    def test_complete_then_complete_again_is_409_then_reopen(self, personas, api_as):
        call = _task(personas, kind="call")
        client = api_as(personas.rep_a)
        path = f"activities/{call.public_id}"
        response = client.post(
            f"{path}/complete", {"outcome": "busy", "done_at": "2030-03-01T09:00:00Z"}
        )
        assert response.status_code == 200
        assert response.json()["status"] == "done" and response.json()["outcome"] == "busy"
        again = client.post(f"{path}/complete", {})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "conflict"
        assert OutboxEvent.objects.filter(name="activity.completed").count() == 1
        reopened = client.post(f"{path}/reopen")
        assert reopened.status_code == 200 and reopened.json()["done_at"] is None
        assert client.post(f"{path}/reopen").status_code == 409

    def test_a_bad_outcome_on_complete_is_422_and_it_stays_open(self, personas, api_as):
        call = _task(personas, kind="call")
        response = api_as(personas.rep_a).post(
            f"activities/{call.public_id}/complete", {"outcome": "maybe"}
        )
        assert response.status_code == 422
        call.refresh_from_db()
        assert call.done_at is None


class TestList:
    def test_filters_by_kind_status_due_and_link(self, personas, api_as, contact_of):
        contact = contact_of(personas.rep_a)
        with frozen(T0):
            overdue = _task(personas, subject="overdue", due_at=T0 - HOUR, contact=contact)
            upcoming = _task(personas, kind="call", subject="upcoming", due_at=T0 + HOUR)
            done = _task(personas, subject="done", due_at=T0 - HOUR, done_at=T0)
            note = _task(personas, kind="note", subject="note", contact=contact)
        client = api_as(personas.rep_a)

        def ids(**params):
            with frozen(T0):
                response = client.get("activities", **params)
            assert response.status_code == 200, response.content
            return {item["id"] for item in response.json()["items"]}

        def public(*rows):
            return {str(r.public_id) for r in rows}

        assert ids(kind="call") == public(upcoming)
        assert ids(status="open") == public(overdue, upcoming)
        assert ids(status="overdue") == public(overdue)
        assert ids(status="done") == public(done, note)
        assert ids(contact=str(contact.public_id)) == public(overdue, note)
        assert ids(contact="not-a-uuid") == set()
        assert ids(due_after="2030-03-01T09:00:00Z") == public(upcoming)
        assert ids(due_before="2030-03-01T09:00:00Z") == public(overdue, done)
        assert ids(owner=str(personas.rep_b.public_id)) == set()
        assert client.get("activities", status="later").status_code == 422
        assert client.get("activities", kind="fax").status_code == 422
        assert client.get("activities", tag="vip").status_code == 422
        assert client.get("activities", sort="subject").status_code == 422

    def test_sorting_by_due_time_pages_through_every_activity_undated_last(self, personas, api_as):
        for hours in (3, 1, 2):
            _task(personas, subject=f"h{hours}", due_at=T0 + hours * HOUR)
        _task(personas, subject="undated")
        client = api_as(personas.rep_a)
        for sort, expected in (
            ("due_at", ["h1", "h2", "h3", "undated"]),
            ("-due_at", ["h3", "h2", "h1", "undated"]),
        ):
            subjects, cursor = [], None
            while True:
                params = {"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
                page = client.get("activities", **params).json()
                subjects += [i["subject"] for i in page["items"]]
                cursor = page["next"]
                if cursor is None:
                    break
            assert subjects == expected

    def test_a_list_page_costs_the_same_few_queries_whatever_the_rows(
        self, personas, api_as, contact_of, company_of, django_assert_max_num_queries
    ):
        client = api_as(personas.manager_a)
        contact, company = contact_of(personas.rep_a), company_of(personas.rep_b)

        def add(count):
            for n in range(count):
                services.activity_create(
                    actor=personas.manager_a,
                    owner=personas.rep_a if n % 2 else personas.rep_b,
                    kind="call",
                    subject=f"c{n}",
                    contact=contact,
                    company=company,
                )

        add(2)
        client.get("activities")  # warm caches (content types, token)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as small:
            assert len(client.get("activities").json()["items"]) == 2
        add(23)
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as large:
            assert len(client.get("activities").json()["items"]) == 25
        assert len(large) == len(small)


class TestLinksToLeadsAndDeals:
    def test_an_activity_links_a_lead_and_a_deal_the_actor_sees(self, personas, api_as):
        from wasl.deals.services import deal_create, pipeline_create
        from wasl.leads.services import lead_create

        pipeline_create(actor=None, name="Sales", stages=[{"name": "New", "probability": 10}])
        lead = lead_create(actor=personas.rep_a, first_name="Reza")
        deal = deal_create(actor=personas.rep_a, title="Fleet renewal")
        client = api_as(personas.rep_a)
        response = client.post(
            "activities",
            {
                "kind": "task",
                "subject": "Prepare offer",
                "lead_id": str(lead.public_id),
                "deal_id": str(deal.public_id),
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["lead"] == {"id": str(lead.public_id), "name": "Reza"}
        assert body["deal"] == {"id": str(deal.public_id), "name": "Fleet renewal"}
        assert (
            client.get("activities", deal=str(deal.public_id)).json()["items"][0]["id"]
            == (body["id"])
        )
        outsider = api_as(personas.rep_c).post(
            "activities", {"kind": "note", "subject": "x", "deal_id": str(deal.public_id)}
        )
        assert outsider.status_code == 404
        assert Activity.objects.count() == 1
