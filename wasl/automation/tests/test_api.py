"""The automation API: rules as JSON documents, dry runs, the run log, who may do what."""

from __future__ import annotations

import pytest

from wasl.activities.models import Activity
from wasl.automation.describe import describe_rule
from wasl.automation.models import AutomationRun, Rule
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Call web leads",
    "trigger": {"type": "lead_created", "source": "web_form"},
    "conditions": {
        "any": [
            {"field": "score", "op": "gte", "value": 50},
            {"field": "owner.team", "op": "eq", "value": "Team A"},
        ]
    },
    "actions": [
        {
            "type": "create_activity",
            "kind": "call",
            "subject": "Call {{ lead.first_name }}",
            "due": {"amount": 1, "unit": "hours"},
        }
    ],
}


def test_an_admin_creates_reads_pauses_copies_and_deletes_a_rule(personas, api_as):
    admin = api_as(personas.admin)
    response = admin.post("automation/rules", RULE)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_active"] is True
    assert body["trigger"] == {"type": "lead_created", "source": "web_form"}
    assert body["in_words"].startswith("When a lead comes in from “web_form”, if score")
    rule_id = body["id"]

    assert admin.get(f"automation/rules/{rule_id}").json()["name"] == "Call web leads"
    assert admin.post(f"automation/rules/{rule_id}/pause").json()["is_active"] is False
    assert admin.post(f"automation/rules/{rule_id}/resume").json()["is_active"] is True
    patched = admin.patch(f"automation/rules/{rule_id}", {"name": "Call every web lead"})
    assert patched.status_code == 200 and patched.json()["name"] == "Call every web lead"
    copy = admin.post(f"automation/rules/{rule_id}/copy").json()
    assert copy["name"] == "Call every web lead (copy)" and copy["is_active"] is False
    assert [r["id"] for r in admin.get("automation/rules", active="false").json()["items"]] == [
        copy["id"]
    ]
    assert admin.delete(f"automation/rules/{rule_id}").status_code == 204
    assert admin.get(f"automation/rules/{rule_id}").status_code == 404
    assert admin.put(f"automation/rules/{copy['id']}", RULE).status_code == 405


def test_an_invalid_rule_is_refused_with_the_path_of_each_problem(personas, api_as):
    admin = api_as(personas.admin)
    bad = {
        **RULE,
        "trigger": {"type": "stage_entered", "stage_id": "00000000-0000-0000-0000-000000000000"},
        "actions": [{"type": "create_activity", "subject": "{% load x %}"}],
    }
    response = admin.post("automation/rules", bad)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"trigger.stage_id", "actions.0.subject"}
    unknown = admin.post("automation/rules", {**RULE, "trigger": {"type": "moon_phase"}})
    assert unknown.status_code == 422
    assert not Rule.objects.exists()


def test_managers_read_rules_but_only_admins_write_and_reps_see_nothing(personas, api_as):
    rule_id = api_as(personas.admin).post("automation/rules", RULE).json()["id"]
    manager = api_as(personas.manager_a)
    assert manager.get(f"automation/rules/{rule_id}").status_code == 200
    assert manager.post("automation/rules", RULE).status_code == 403
    assert manager.post(f"automation/rules/{rule_id}/pause").status_code == 403
    assert manager.delete(f"automation/rules/{rule_id}").status_code == 403
    for user in (personas.rep_a, personas.readonly):
        client = api_as(user)
        assert client.get("automation/rules").status_code == 403
        assert client.get(f"automation/rules/{rule_id}").status_code == 403
        assert client.get("automation/runs").status_code == 403
    assert Rule.objects.get().is_active


def test_a_dry_run_shows_what_would_happen_and_changes_nothing(personas, api_as):
    admin = api_as(personas.admin)
    rule_id = admin.post("automation/rules", RULE).json()["id"]
    lead = lead_create(actor=personas.rep_a, first_name="Nima", source="web_form")
    response = admin.post(
        f"automation/rules/{rule_id}/test", {"record": {"kind": "lead", "id": str(lead.public_id)}}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["conditions_met"] is True
    (outcome,) = body["run"]["outcomes"]
    assert outcome["status"] == "planned"
    assert outcome["detail"]["subject"] == "Call Nima"
    assert outcome["detail"]["assignee"]["username"] == "rep_a"
    assert not Activity.objects.exists()
    assert AutomationRun.objects.get().dry_run is True

    outsider = api_as(personas.manager_b)
    missing = outsider.post(
        f"automation/rules/{rule_id}/test", {"record": {"kind": "lead", "id": str(lead.public_id)}}
    )
    assert missing.status_code == 404


def test_the_run_log_filters_by_rule_and_record_and_follows_visibility(personas, api_as, pipeline):
    admin = api_as(personas.admin)
    rule_id = admin.post("automation/rules", RULE).json()["id"]
    lead_a = lead_create(actor=personas.rep_a, first_name="A", source="web_form")
    lead_c = lead_create(
        actor=personas.manager_b, owner=personas.rep_c, first_name="C", source="web_form", score=60
    )
    pipeline()
    runs = admin.get("automation/runs", rule=rule_id).json()["items"]
    assert {r["record_id"] for r in runs} == {str(lead_a.public_id), str(lead_c.public_id)}
    only = admin.get("automation/runs", record=str(lead_a.public_id)).json()["items"]
    assert [r["record_name"] for r in only] == ["A"]
    assert only[0]["outcomes"][0]["status"] == "done"
    seen = api_as(personas.manager_a).get("automation/runs").json()["items"]
    assert [r["record_id"] for r in seen] == [str(lead_a.public_id)]


def test_notifications_api_lists_counts_and_marks_read(personas, api_as):
    from wasl.notifications.services import notification_create

    lead = lead_create(actor=personas.rep_a, first_name="Visible")
    other = lead_create(actor=personas.rep_c, first_name="Hidden")
    first = notification_create(recipient=personas.rep_a, title="One", record=lead)
    notification_create(recipient=personas.rep_a, title="Two")
    assert notification_create(recipient=personas.rep_a, title="No", record=other) is None
    rep = api_as(personas.rep_a)
    assert rep.get("notifications/unread-count").json() == {"unread": 2}
    items = rep.get("notifications").json()["items"]
    assert [n["title"] for n in items] == ["Two", "One"]
    assert items[1]["record_kind"] == "lead" and items[1]["record_id"] == str(lead.public_id)
    assert rep.post(f"notifications/{first.public_id}/read").json()["read"] is True
    assert api_as(personas.rep_b).post(f"notifications/{first.public_id}/read").status_code == 404
    assert rep.post("notifications/read-all").json() == {"marked": 1}
    assert rep.get("notifications", unread="true").json()["items"] == []


@pytest.mark.parametrize("language", ["en", "fa", "ar"])
def test_a_rule_reads_as_a_sentence_in_each_language(personas, language):
    from wasl.automation.services import rule_create

    rule = rule_create(actor=personas.admin, **RULE)
    text = describe_rule(rule, language)
    assert "Call {{ lead.first_name }}" in text
    assert "web_form" in text
    if language == "en":
        assert text.startswith("When a lead comes in from “web_form”, if score is at least")
        assert "create a call" in text and "for the owner due in 1 hours" in text
