"""The automation pages: rule list, builder, preview, rule page with its run log, dry run
and parked jobs; who sees what and who may act."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wasl.activities.models import Activity
from wasl.automation import schema, services
from wasl.automation.models import AutomationRun, FailedJob, OutgoingMessage, Rule
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "lead_created", "source": "web_form"}
CONDITIONS = {"all": [{"field": "score", "op": "gte", "value": 50}]}
ACTIONS = [
    {
        "type": "create_activity",
        "kind": "call",
        "subject": "Call {{ lead.first_name }}",
        "assign": {"to": "owner"},
        "due": {"amount": 15, "unit": "minutes", "business_hours": False},
    }
]


def stored(actions: list[dict]) -> list[dict]:
    """Actions as the service keeps them (defaults filled in)."""
    document = schema.parse_document(TRIGGER, None, actions)
    return document.model_dump(mode="json", exclude_none=True)["actions"]


def make_rule(admin, **changes) -> Rule:
    values = {
        "name": "Call hot web leads",
        "trigger": TRIGGER,
        "conditions": CONDITIONS,
        "actions": ACTIONS,
    }
    return services.rule_create(actor=admin, **(values | changes))


def builder_post(**changes) -> dict[str, str]:
    data = {
        "name": "Call hot web leads",
        "description": "Hot leads first",
        "is_active": "on",
        "trigger": json.dumps(TRIGGER),
        "conditions": json.dumps(CONDITIONS),
        "actions": json.dumps(ACTIONS),
    }
    return data | changes


def builder_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="rule-builder-data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


# ---------------------------------------------------------------- list


def test_the_list_shows_each_rule_in_words_with_its_state_and_run_counts(personas, pipeline):
    rule = make_rule(personas.admin)
    make_rule(personas.admin, name="Paused one", is_active=False)
    lead_create(
        actor=personas.manager_a,
        owner=personas.rep_a,
        first_name="Hot",
        source="web_form",
        score=80,
    )
    lead_create(
        actor=personas.manager_a,
        owner=personas.rep_a,
        first_name="Cold",
        source="web_form",
        score=10,
    )
    pipeline()
    assert AutomationRun.objects.filter(rule=rule).count() == 1

    response = client_for(personas.admin).get("/automation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Call hot web leads" in html and "Paused one" in html
    assert "When a lead comes in from “web_form”" in html
    row = html[html.index(f'data-rule="{rule.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Active" in row and ">1</td>" in row
    assert "Pause" in row and "Copy" in row and "Delete" in row
    assert 'href="/automation/failed-jobs/"' in html


def test_the_list_names_stages_and_pipelines_with_a_fixed_number_of_statements(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wasl.deals.models import Stage
    from wasl.deals.services import pipeline_ensure_default

    pipeline = pipeline_ensure_default()
    stages = list(pipeline.stages.order_by("position"))
    admin = client_for(personas.admin)
    deal_rule = {"conditions": None, "actions": [{**ACTIONS[0], "subject": "Follow up"}]}
    make_rule(
        personas.admin,
        name="Won in the default pipeline",
        trigger={"type": "deal_won", "pipeline_id": str(pipeline.public_id)},
        **deal_rule,
    )
    admin.get("/automation/")
    with CaptureQueriesContext(connection) as one_rule:
        admin.get("/automation/")

    for stage in stages:
        make_rule(
            personas.admin,
            name=f"Entered {stage.name}",
            trigger={"type": "stage_entered", "stage_id": str(stage.public_id)},
            **deal_rule,
        )
    Stage.objects.filter(pk=stages[0].pk).update(name="Renamed")
    with CaptureQueriesContext(connection) as many_rules:
        html = admin.get("/automation/").content.decode()

    assert len(many_rules) <= len(one_rule) + 1  # the stage names: one statement for all
    assert f"in the pipeline “{pipeline.name}”" in html
    for stage in stages[1:]:
        assert f"When a deal enters the stage “{stage.name}”" in html
    assert "When a deal enters the stage “Renamed”" in html  # read now, not remembered


def test_a_manager_reads_the_list_without_actions_and_is_refused_when_forcing_them(personas):
    rule = make_rule(personas.admin)
    manager = client_for(personas.manager_a)
    html = manager.get("/automation/").content.decode()
    assert "Call hot web leads" in html
    assert "Pause" not in html and "Delete" not in html and "New rule" not in html
    assert "failed-jobs" not in html

    assert manager.post(f"/automation/{rule.public_id}/active/", {"active": "0"}).status_code == 403
    assert manager.post(f"/automation/{rule.public_id}/copy/").status_code == 403
    assert manager.get(f"/automation/{rule.public_id}/delete/").status_code == 403
    deleted = manager.post(f"/automation/{rule.public_id}/delete/", {"confirmed": "1"})
    assert deleted.status_code == 403
    assert manager.get("/automation/new/").status_code == 403
    assert manager.post("/automation/new/", builder_post(name="Sneaky")).status_code == 403
    assert manager.get(f"/automation/{rule.public_id}/edit/").status_code == 403
    edited = manager.post(f"/automation/{rule.public_id}/edit/", builder_post(name="Renamed"))
    assert edited.status_code == 403
    rule.refresh_from_db()
    assert rule.is_active and rule.name == "Call hot web leads"
    assert Rule.objects.count() == 1


@pytest.mark.parametrize("who", ["rep_a", "readonly"])
def test_reps_and_read_only_users_get_no_automation_page(personas, who):
    rule = make_rule(personas.admin)
    client = client_for(getattr(personas, who))
    for url in (
        "/automation/",
        f"/automation/{rule.public_id}/",
        f"/automation/{rule.public_id}/test/",
        "/automation/failed-jobs/",
        "/automation/records/?q=x",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/automation/preview/", builder_post()).status_code == 403


def test_an_unknown_rule_is_not_found(personas):
    client = client_for(personas.admin)
    missing = "00000000-0000-0000-0000-000000000000"
    for url in (f"/automation/{missing}/", f"/automation/{missing}/edit/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/automation/{missing}/copy/").status_code == 404


def test_an_admin_pauses_resumes_copies_and_deletes_after_confirming(personas):
    rule = make_rule(personas.admin)
    admin = client_for(personas.admin)
    response = admin.post(f"/automation/{rule.public_id}/active/", {"active": "0"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    assert AuditEntry.objects.filter(object_id=rule.pk, action=AuditEntry.Action.UPDATE).exists()
    admin.post(f"/automation/{rule.public_id}/active/", {"active": "1"})
    rule.refresh_from_db()
    assert rule.is_active is True

    response = admin.post(f"/automation/{rule.public_id}/copy/")
    copy = Rule.objects.exclude(pk=rule.pk).get()
    assert response["Location"] == f"/automation/{copy.public_id}/edit/"
    assert copy.name == "Call hot web leads (copy)" and copy.is_active is False
    assert copy.actions == rule.actions

    confirm = admin.get(f"/automation/{rule.public_id}/delete/")
    assert confirm.status_code == 200 and 'name="confirmed" value="1"' in confirm.content.decode()
    assert admin.post(f"/automation/{rule.public_id}/delete/").status_code == 200
    assert Rule.objects.filter(pk=rule.pk).exists()
    response = admin.post(f"/automation/{rule.public_id}/delete/", {"confirmed": "1"})
    assert response.status_code == 302
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_pages_refuse_posts_without_the_csrf_token(personas):
    rule = make_rule(personas.admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.admin)
    assert client.post(f"/automation/{rule.public_id}/active/", {"active": "0"}).status_code == 403
    assert client.post("/automation/new/", builder_post(name="No token")).status_code == 403
    assert client.post(f"/automation/{rule.public_id}/copy/").status_code == 403
    rule.refresh_from_db()
    assert rule.is_active and Rule.objects.count() == 1


def test_wrong_methods_are_refused(personas):
    rule = make_rule(personas.admin)
    admin = client_for(personas.admin)
    assert admin.get(f"/automation/{rule.public_id}/active/").status_code == 405
    assert admin.get(f"/automation/{rule.public_id}/copy/").status_code == 405
    assert admin.get("/automation/preview/").status_code == 405
    assert admin.post("/automation/").status_code == 405


# ---------------------------------------------------------------- builder


def test_the_builder_saves_the_same_document_the_api_accepts(personas):
    admin = client_for(personas.admin)
    page = admin.get("/automation/new/")
    assert page.status_code == 200
    data = builder_data(page)
    assert data["trigger"]["type"] == "lead_created"
    assert {"stages", "users", "teams", "webhooks", "sources"} <= set(data["options"])
    assert any(u["label"] == "rep_a" for u in data["options"]["users"])

    response = admin.post("/automation/new/", builder_post())
    rule = Rule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/automation/{rule.public_id}/"
    assert rule.trigger == TRIGGER and rule.conditions == CONDITIONS
    assert rule.actions == stored(ACTIONS)
    assert rule.description == "Hot leads first" and rule.is_active is True
    assert rule.created_by == personas.admin
    assert AuditEntry.objects.filter(object_id=rule.pk, action=AuditEntry.Action.CREATE).exists()


def test_the_builder_shows_each_problem_next_to_its_field_and_saves_nothing(personas):
    admin = client_for(personas.admin)
    trigger = {"type": "stage_entered", "stage_id": "00000000-0000-0000-0000-000000000000"}
    actions = [{"type": "create_activity", "kind": "task", "subject": ""}]
    response = admin.post(
        "/automation/new/",
        builder_post(name="", trigger=json.dumps(trigger), actions=json.dumps(actions)),
    )
    assert response.status_code == 422
    assert not Rule.objects.exists()
    data = builder_data(response)
    assert set(data["errors"]) >= {"actions.0.subject"}
    # The builder is shown again as it was sent.
    assert data["trigger"] == trigger and data["actions"] == actions
    assert "Name the rule." in response.content.decode()

    # References are checked once the shapes are right.
    named = admin.post("/automation/new/", builder_post(trigger=json.dumps(trigger)))
    assert builder_data(named)["errors"] == {"trigger.stage_id": ["No such stage."]}
    unreadable = admin.post("/automation/new/", builder_post(actions="[not json"))
    assert unreadable.status_code == 422
    assert "actions" in builder_data(unreadable)["errors"]
    assert not Rule.objects.exists()


def test_editing_a_rule_changes_it_through_the_service(personas):
    rule = make_rule(personas.admin)
    admin = client_for(personas.admin)
    page = admin.get(f"/automation/{rule.public_id}/edit/")
    assert builder_data(page)["actions"] == stored(ACTIONS)
    new_actions = [{"type": "add_tag", "tag": "nurture"}]
    response = admin.post(
        f"/automation/{rule.public_id}/edit/",
        builder_post(name="Tag web leads", actions=json.dumps(new_actions), conditions=""),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Tag web leads" and rule.actions == stored(new_actions)
    assert rule.conditions is None and rule.is_active is True


def test_the_preview_reads_the_unsaved_rule_in_words(personas):
    admin = client_for(personas.admin)
    response = admin.post("/automation/preview/", builder_post())
    html = response.content.decode()
    assert response.status_code == 200
    assert "When a lead comes in from “web_form”, if score is at least “50”" in html
    assert "create a call “Call {{ lead.first_name }}” for the owner due in 15 minutes" in html
    incomplete = admin.post("/automation/preview/", builder_post(actions="[]"))
    assert "Some parts are not complete yet." in incomplete.content.decode()
    broken = admin.post("/automation/preview/", builder_post(trigger="{", actions="{"))
    assert "Complete the rule to read it in words." in broken.content.decode()
    # Managers read rules, so they may preview too.
    preview = client_for(personas.manager_a).post("/automation/preview/", builder_post())
    assert preview.status_code == 200


def test_the_preview_follows_the_readers_language(personas):
    from wasl.accounts.services import user_update

    user_update(actor=None, user=personas.admin, language="fa")
    response = client_for(personas.admin).post("/automation/preview/", builder_post())
    html = response.content.decode()
    assert "web_form" in html
    assert "When a lead comes in" not in html


# ---------------------------------------------------------------- rule page and run log


def test_the_rule_page_shows_words_json_and_a_filterable_run_log(personas, pipeline):
    rule = make_rule(personas.admin, conditions=None)
    first = lead_create(actor=personas.rep_a, first_name="Nima", source="web_form")
    second = lead_create(actor=personas.rep_a, first_name="Dara", source="web_form")
    pipeline()
    admin = client_for(personas.admin)
    response = admin.get(f"/automation/{rule.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "When a lead comes in from “web_form”: create a call" in html
    assert "&quot;type&quot;: &quot;lead_created&quot;" in html
    assert f'href="/leads/{first.public_id}/"' in html and ">Nima</a>" in html
    assert "Call Nima" in html and "lead.created" in html

    only = admin.get(f"/automation/{rule.public_id}/", {"record": str(second.public_id)})
    assert ">Dara</a>" in only.content.decode() and ">Nima</a>" not in only.content.decode()
    failed = admin.get(f"/automation/{rule.public_id}/", {"status": "failed"})
    assert "No runs match." in failed.content.decode()
    bad = admin.get(f"/automation/{rule.public_id}/", {"record": "not-an-id"})
    assert bad.status_code == 200 and "Enter a record id" in bad.content.decode()


def test_the_run_log_pages_through_older_runs(personas, pipeline):
    rule = make_rule(personas.admin, conditions=None)
    for index in range(22):
        lead_create(actor=personas.rep_a, first_name=f"L{index:02d}", source="web_form")
    pipeline(rounds=20)
    assert AutomationRun.objects.filter(rule=rule).count() == 22
    admin = client_for(personas.admin)
    html = admin.get(f"/automation/{rule.public_id}/").content.decode()
    assert html.count("data-run=") == 20
    next_url = html[html.index('id="older-runs"') - 300 : html.index('id="older-runs"')]
    cursor = next_url[next_url.index("?") : next_url.rindex('"')].replace("&amp;", "&")
    older = admin.get(f"/automation/{rule.public_id}/{cursor}").content.decode()
    assert older.count("data-run=") == 2


def test_a_manager_sees_only_the_runs_on_their_teams_records(personas, pipeline):
    rule = make_rule(personas.admin, conditions=None)
    lead_create(actor=personas.rep_a, first_name="TeamA", source="web_form")
    lead_create(actor=personas.rep_c, first_name="TeamB", source="web_form")
    pipeline()
    html = client_for(personas.manager_b).get(f"/automation/{rule.public_id}/").content.decode()
    assert ">TeamB</a>" in html and "TeamA" not in html
    listing = client_for(personas.manager_b).get("/automation/").content.decode()
    row = listing[listing.index(f'data-rule="{rule.public_id}"') :]
    assert ">1</td>" in row[: row.index("</tr>")]


def test_the_run_shows_the_messages_it_sent(personas, pipeline):
    actions = [
        {
            "type": "send_email",
            "to": "address",
            "address": "sales@example.com",
            "subject": "New lead {{ lead.first_name }}",
            "body": "Call them",
        }
    ]
    rule = make_rule(personas.admin, conditions=None, actions=actions)
    lead_create(actor=personas.rep_a, first_name="Mail", source="web_form")
    pipeline()
    message = OutgoingMessage.objects.get()
    assert message.run is not None and message.run.rule == rule
    html = client_for(personas.admin).get(f"/automation/{rule.public_id}/").content.decode()
    assert "sales@example.com" in html and message.get_status_display() in html


def test_rule_pages_stay_within_the_statement_budget(
    personas, pipeline, django_assert_max_num_queries
):
    rules = [make_rule(personas.admin, name=f"Rule {n}") for n in range(5)]
    for index in range(5):
        lead_create(
            actor=personas.manager_a,
            owner=personas.rep_a,
            first_name=f"N{index}",
            source="web_form",
            score=90,
        )
    pipeline()
    manager = client_for(personas.manager_a)
    admin = client_for(personas.admin)
    with django_assert_max_num_queries(15):
        assert manager.get("/automation/").status_code == 200
    with django_assert_max_num_queries(15):
        assert manager.get(f"/automation/{rules[0].public_id}/").status_code == 200
    with django_assert_max_num_queries(15):
        assert admin.get(f"/automation/{rules[0].public_id}/edit/").status_code == 200


# ---------------------------------------------------------------- dry run


def test_a_dry_run_on_a_chosen_record_shows_what_would_happen_and_changes_nothing(personas):
    rule = make_rule(personas.admin)
    lead = lead_create(
        actor=personas.manager_a,
        owner=personas.rep_a,
        first_name="Nima",
        source="web_form",
        score=70,
    )
    manager = client_for(personas.manager_a)
    choices = manager.get("/automation/records/", {"q": "Nima"}).content.decode()
    assert f'value="lead:{lead.public_id}"' in choices
    page = manager.get(f"/automation/{rule.public_id}/test/", {"q": "Nima"}).content.decode()
    assert f'value="lead:{lead.public_id}"' in page

    response = manager.post(
        f"/automation/{rule.public_id}/test/", {"record": f"lead:{lead.public_id}"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The conditions hold" in html
    assert "would do:" in html and "Call Nima" in html
    assert not Activity.objects.filter(subject="Call Nima").exists()
    run = AutomationRun.objects.get()
    assert run.dry_run is True and run.outcomes[0]["status"] == "planned"

    cold = lead_create(
        actor=personas.manager_a,
        owner=personas.rep_a,
        first_name="Cold",
        source="web_form",
        score=5,
    )
    html = manager.post(
        f"/automation/{rule.public_id}/test/", {"record": f"lead:{cold.public_id}"}
    ).content.decode()
    assert "The conditions do not hold" in html


def test_a_dry_run_cannot_reach_a_record_the_user_may_not_see(personas):
    rule = make_rule(personas.admin)
    lead = lead_create(actor=personas.rep_a, first_name="Secret", source="web_form")
    manager_b = client_for(personas.manager_b)
    assert "Secret" not in manager_b.get("/automation/records/", {"q": "Secret"}).content.decode()
    response = manager_b.post(
        f"/automation/{rule.public_id}/test/", {"record": f"lead:{lead.public_id}"}
    )
    assert response.status_code == 404
    nothing = manager_b.post(f"/automation/{rule.public_id}/test/", {"record": ""})
    assert nothing.status_code == 422
    assert not AutomationRun.objects.exists()


# ---------------------------------------------------------------- parked jobs


def park_job() -> FailedJob:
    return services.failed_job_park(
        task_path="wasl.automation.tasks.evaluate_event",
        kwargs={"event_id": 12345},
        attempts=5,
        error="ConnectionRefusedError: the mail server did not answer",
    )


def test_an_admin_sees_parked_jobs_and_retries_one_once(personas):
    job = park_job()
    admin = client_for(personas.admin)
    html = admin.get("/automation/failed-jobs/").content.decode()
    assert "the mail server did not answer" in html and "evaluate_event" in html
    assert "event_id=12345" in html
    response = admin.post(f"/automation/failed-jobs/{job.public_id}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.retried_at is not None and job.retried_by == personas.admin
    assert (
        f'data-job="{job.public_id}"' not in admin.get("/automation/failed-jobs/").content.decode()
    )
    shown = admin.get("/automation/failed-jobs/", {"retried": "1"}).content.decode()
    assert f'data-job="{job.public_id}"' in shown and "Retried" in shown
    again = admin.post(f"/automation/failed-jobs/{job.public_id}/retry/", follow=True)
    assert "already retried" in again.content.decode()


def test_only_admins_see_or_retry_parked_jobs(personas):
    job = park_job()
    for user in (personas.manager_a, personas.rep_a):
        client = client_for(user)
        assert client.get("/automation/failed-jobs/").status_code == 403
        assert client.post(f"/automation/failed-jobs/{job.public_id}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.retried_at is None
    missing = "00000000-0000-0000-0000-000000000000"
    assert (
        client_for(personas.admin).post(f"/automation/failed-jobs/{missing}/retry/").status_code
        == 404
    )


def test_the_run_shows_the_webhook_calls_it_made_and_their_errors(personas, pipeline):
    endpoint = services.webhook_create(
        actor=personas.admin, name="Closed port", url="http://127.0.0.1:9/hook"
    )
    actions = [{"type": "webhook", "webhook_id": str(endpoint.public_id)}]
    rule = make_rule(personas.admin, conditions=None, actions=actions)
    lead_create(actor=personas.rep_a, first_name="Hooked", source="web_form")
    pipeline(rounds=20)
    delivery = endpoint.deliveries.get()
    assert delivery.run is not None and delivery.run.rule == rule
    assert delivery.last_error
    html = client_for(personas.admin).get(f"/automation/{rule.public_id}/").content.decode()
    assert "Webhook Closed port" in html and delivery.get_status_display() in html
