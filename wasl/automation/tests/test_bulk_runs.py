"""The worker writes the activities its rule runs create in one bulk write per chunk of
jobs, with the guarantees of writing them one by one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wasl.activities.models import Activity
from wasl.automation import actions, engine, services
from wasl.automation.jobs import Worker
from wasl.automation.models import AutomationRun, FailedJob
from wasl.core.events import dispatch_pending
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db


def call_rule(admin, assign=None, extra_actions=()):
    return services.rule_create(
        actor=admin,
        name="Call web leads",
        trigger={"type": "lead_created", "source": "web_form"},
        actions=[
            {
                "type": "create_activity",
                "kind": "call",
                "subject": "Call {{ lead.first_name }}",
                "assign": assign or {"to": "owner"},
                "due": {"amount": 15, "unit": "minutes"},
            },
            *extra_actions,
        ],
    )


def leads(owner, *names):
    return [lead_create(actor=owner, first_name=name, source="web_form") for name in names]


def work(rounds: int = 10) -> None:
    """Deliver and run everything, a whole claimed batch per chunk (no time budget)."""
    worker = Worker(worker_id="bulk-test", batch_seconds=600)
    for _ in range(rounds):
        delivered = dispatch_pending()
        ran = worker.run_until_idle()
        if not delivered and not ran:
            break


def inserts_into(queries, table: str) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


def test_a_chunk_of_rule_runs_writes_its_tasks_with_one_insert_and_logs_their_ids(personas):
    call_rule(personas.admin)
    made = leads(personas.rep_a, "Ali", "Sara", "Reza", "Mina", "Kaveh")
    dispatch_pending()
    with CaptureQueriesContext(connection) as queries:
        Worker(worker_id="bulk-test", batch_seconds=600).run_until_idle()

    assert inserts_into(queries, "activities_activity") == 1
    assert inserts_into(queries, "automation_automationrun") == 1
    for lead in made:
        task = Activity.objects.get(lead=lead)
        assert task.subject == f"Call {lead.first_name}"
        assert task.owner == personas.rep_a and task.kind == "call"
        assert task.created_by.username == "automation"
        run = AutomationRun.objects.get(object_id=lead.pk)
        assert run.status == "done"
        assert run.outcomes[0]["detail"]["activity_id"] == str(task.public_id)
        assert AuditEntry.objects.filter(object_public_id=task.public_id, action="create").exists()
        event = OutboxEvent.objects.get(name="activity.created", object_id=task.pk)
        assert event.data["lead_id"] == str(lead.public_id)
        assert event.data["causation"]["rules"] == [run.rule_id]
        assert event.data["causation"]["run"] == str(run.public_id)


def test_the_bulk_path_writes_what_a_run_outside_a_chunk_writes(personas):
    call_rule(personas.admin)
    one, two = leads(personas.rep_a, "Ali", "Ali")
    first = OutboxEvent.objects.get(name="lead.created", object_id=one.pk)
    # Outside a worker chunk the action writes through activity_create at once.
    engine.evaluate_event(first.pk)
    OutboxEvent.objects.filter(pk=first.pk).update(dispatched_at=first.created_at)
    work()

    single, bulk = Activity.objects.get(lead=one), Activity.objects.get(lead=two)
    own = {"id", "public_id", "created_at", "updated_at", "idempotency_key", "lead_id", "due_at"}
    fields = [f.attname for f in Activity._meta.concrete_fields if f.attname not in own]
    assert {f: getattr(bulk, f) for f in fields} == {f: getattr(single, f) for f in fields}

    def audit(task):
        entry = AuditEntry.objects.get(object_public_id=task.public_id)
        changes = {k: v for k, v in entry.changes.items() if k not in ("lead", "due_at")}
        return entry.actor_id, entry.action, entry.object_repr, changes, entry.data

    assert audit(bulk) == audit(single)

    def event(task):
        data = OutboxEvent.objects.get(name="activity.created", object_id=task.pk).data
        return sorted(data), data["kind"], data["causation"]["rules"], data["causation"]["depth"]

    assert event(bulk) == event(single)


def tag_service_fails_for_bad(monkeypatch) -> None:
    """The add-tag action fails for a lead named "Bad", as a service that is down would."""
    original = actions.ACTIONS["add_tag"]

    def breaks_on_bad(action, step):
        if step.record.first_name == "Bad":
            raise RuntimeError("the tag service is down")
        return original(action, step)

    monkeypatch.setitem(actions.ACTIONS, "add_tag", breaks_on_bad)


def test_a_job_failing_in_the_middle_of_a_chunk_leaves_no_task_and_the_others_keep_theirs(
    personas, monkeypatch
):
    tag_service_fails_for_bad(monkeypatch)
    call_rule(personas.admin, extra_actions=[{"type": "add_tag", "tag": "called"}])
    good_1, bad, good_2 = leads(personas.rep_a, "Good", "Bad", "Fine")
    work(rounds=20)

    assert not Activity.objects.filter(lead=bad).exists()
    assert not AutomationRun.objects.filter(object_id=bad.pk).exists()
    assert FailedJob.objects.count() == 1  # retried, then parked
    for lead in (good_1, good_2):
        task = Activity.objects.get(lead=lead)
        run = AutomationRun.objects.get(object_id=lead.pk)
        assert run.outcomes[0]["detail"]["activity_id"] == str(task.public_id)
        assert [t.name for t in lead.tags.all()] == ["called"]
    assert OutboxEvent.objects.filter(name="activity.created").count() == 2


def test_the_same_event_twice_in_one_chunk_makes_one_task(personas):
    from wasl.automation import tasks

    call_rule(personas.admin)
    [lead] = leads(personas.rep_a, "Ali")
    dispatch_pending()
    event = OutboxEvent.objects.get(name="lead.created", object_id=lead.pk)
    tasks.evaluate_event.enqueue(event_id=event.pk)  # a duplicated delivery
    work()

    assert Activity.objects.filter(lead=lead).count() == 1
    assert AutomationRun.objects.filter(object_id=lead.pk).count() == 1


def test_a_task_key_already_written_is_not_written_again_and_the_log_names_it(personas):
    call_rule(personas.admin)
    [lead] = leads(personas.rep_a, "Ali")
    work()
    task = Activity.objects.get(lead=lead)
    # The run log is gone (say, cleaned up) but the task stays: the same event again.
    AutomationRun.objects.all().delete()
    OutboxEvent.objects.filter(name="lead.created").update(dispatched_at=None)
    work()

    assert Activity.objects.filter(lead=lead).get() == task
    run = AutomationRun.objects.get(object_id=lead.pk)
    assert run.outcomes[0]["detail"]["activity_id"] == str(task.public_id)
    assert OutboxEvent.objects.filter(name="activity.created").count() == 1


def test_a_run_key_taken_after_the_chunk_loaded_undoes_the_chunk_and_reruns_it_job_by_job(
    personas, monkeypatch, caplog
):
    call_rule(personas.admin)
    [lead] = leads(personas.rep_a, "Ali")
    work()
    task = Activity.objects.get(lead=lead)
    # The same event again, and the lookup at load misses the run (as when another worker
    # commits it meanwhile): the chunk's bulk write of the run rows fails.
    OutboxEvent.objects.filter(name="lead.created").update(dispatched_at=None)

    def sees_nothing_taken(batch):
        batch.checked = set(batch.events)

    monkeypatch.setattr(engine.Batch, "_check_keys", sees_nothing_taken)
    work()

    assert "bulk write of a chunk failed" in caplog.text
    assert Activity.objects.filter(lead=lead).get() == task
    run = AutomationRun.objects.get(object_id=lead.pk)
    assert run.outcomes[0]["detail"]["activity_id"] == str(task.public_id)
    assert OutboxEvent.objects.filter(name="activity.created").count() == 1
    assert not FailedJob.objects.exists()


def savepoints_in_chunk(queries) -> int:
    statements = [q["sql"] for q in queries.captured_queries]
    start = next(i for i, sql in enumerate(statements) if sql.startswith('SELECT "key"'))
    end = next(i for i, sql in enumerate(statements) if "automation_automationrun" in sql[:40])
    return sum(1 for sql in statements[start:end] if sql.startswith("SAVEPOINT"))


def test_a_job_whose_action_only_queues_a_task_costs_one_savepoint(personas):
    call_rule(personas.admin)
    engine.automation_user()
    leads(personas.rep_a, "A", "B", "C", "D", "E", "F", "G", "H")
    dispatch_pending()
    with CaptureQueriesContext(connection) as queries:
        Worker(worker_id="bulk-test", batch_seconds=600).run_until_idle()

    # Each job's, and the bulk write's.
    assert savepoints_in_chunk(queries) == 8 + 1
    assert Activity.objects.filter(kind="call").count() == 8


def test_an_action_that_writes_at_once_keeps_its_savepoint(personas):
    call_rule(personas.admin, assign={"to": "role", "role": "rep", "strategy": "round_robin"})
    engine.automation_user()
    leads(personas.rep_a, "A", "B", "C", "D")
    dispatch_pending()
    with CaptureQueriesContext(connection) as queries:
        Worker(worker_id="bulk-test", batch_seconds=600).run_until_idle()

    # The round robin moves its cursor: each job's, each action's, and the bulk write's.
    assert savepoints_in_chunk(queries) >= 4 * 2 + 1
    owners = [task.owner for task in Activity.objects.order_by("id")]
    assert owners.count(personas.rep_a) == 2 and owners.count(personas.rep_b) == 2


def test_a_queued_task_that_cannot_be_given_fails_its_run_alone(personas):
    from wasl.accounts.services import user_update
    from wasl.leads.services import lead_update

    services.rule_create(
        actor=personas.admin,
        name="Tag and call",
        trigger={"type": "lead_created", "source": "web_form"},
        actions=[
            {"type": "add_tag", "tag": "seen"},
            {"type": "create_activity", "kind": "call", "subject": "Call"},
        ],
    )
    good, gone = leads(personas.rep_a, "Good", "Gone")
    lead_update(actor=personas.admin, lead=gone, owner=personas.rep_b)
    user_update(actor=personas.admin, user=personas.rep_b, is_active=False)
    work()

    failed = AutomationRun.objects.get(object_id=gone.pk)
    assert failed.status == "partial"
    assert [o["status"] for o in failed.outcomes] == ["done", "failed"]
    assert [t.name for t in gone.tags.all()] == ["seen"]
    assert not Activity.objects.filter(lead=gone).exists()
    assert AutomationRun.objects.get(object_id=good.pk).status == "done"
    assert Activity.objects.filter(lead=good).count() == 1


def test_a_failing_job_in_a_chunk_is_undone_and_queued_again_and_the_others_commit(
    personas, monkeypatch
):
    from django_tasks_db.models import DBTaskResult

    tag_service_fails_for_bad(monkeypatch)
    call_rule(personas.admin, extra_actions=[{"type": "add_tag", "tag": "called"}])
    good, bad = leads(personas.rep_a, "Good", "Bad")
    dispatch_pending()
    Worker(worker_id="bulk-test", batch_seconds=600).run_once()

    assert not Activity.objects.filter(lead=bad).exists()
    assert not AutomationRun.objects.filter(object_id=bad.pk).exists()
    assert [t.name for t in bad.tags.all()] == []
    assert Activity.objects.filter(lead=good).count() == 1
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    finished = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert sorted(row.return_value["ok"] for row in finished) == [False, True]


def test_least_loaded_assignment_counts_tasks_given_earlier_in_the_same_chunk(personas):
    call_rule(personas.admin, assign={"to": "role", "role": "rep", "strategy": "least_loaded"})
    made = leads(personas.rep_a, "A", "B", "C", "D", "E", "F")
    dispatch_pending()
    with CaptureQueriesContext(connection) as queries:
        Worker(worker_id="bulk-test", batch_seconds=600).run_until_idle()

    assert inserts_into(queries, "activities_activity") == 1  # one chunk, one write
    owners = [Activity.objects.get(lead=lead).owner for lead in made]
    assert owners.count(personas.rep_a) == 3
    assert owners.count(personas.rep_b) == 3


def test_tasks_created_by_a_rule_do_not_wake_it_again(personas):
    services.rule_create(
        actor=personas.admin,
        name="Follow every activity up",
        trigger={"type": "record_created", "entity": "activity"},
        actions=[{"type": "create_activity", "subject": "Follow up {{ activity.subject }}"}],
    )
    from wasl.activities.services import activity_create

    activity_create(actor=personas.rep_a, kind="task", subject="Visit")
    work(rounds=20)

    subjects = sorted(Activity.objects.values_list("subject", flat=True))
    assert subjects == ["Follow up Visit", "Visit"]
    runs = AutomationRun.objects.order_by("id")
    assert [r.status for r in runs] == ["done", "skipped"]
    assert "loop guard" in runs[1].error
