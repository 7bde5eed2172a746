"""The Redis job backend (`WASL_TASKS_BACKEND=redis`) end to end, on a real redis-server
started by the test in a temporary directory: rule jobs run through `wasl worker`, a failing
webhook is retried with backoff, parked and retried by hand, and a worker killed mid-job
loses nothing and duplicates nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

pytest.importorskip("django_tasks_redis", reason="the `redis` extra is not installed")

from django.db import connection
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_redis.utils import get_result_key, serialize_datetime

from wasl.activities.models import Activity
from wasl.automation import handoff, services
from wasl.automation.handoff import send_stranded
from wasl.automation.jobs import Worker
from wasl.automation.models import AutomationRun, FailedJob, JobHandoff, WebhookDelivery
from wasl.automation.redis_jobs import RedisWorker
from wasl.automation.tests.peers import free_port, smtp_server, webhook_receiver
from wasl.automation.tests.test_crash import (
    SEED,
    database_url,
    python,
    start_worker,
    wait_for,
)
from wasl.automation.tests.test_delivery import webhook_rule
from wasl.contacts.services import contact_create
from wasl.core.events import dispatch_pending

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
BACKEND = "wasl.automation.redis_jobs.RedisBackend"
QUEUES = ["default", "automation", "messages"]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private redis-server on a free loopback port, stopped after the module."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    import redis

    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    config = folder / "redis.conf"
    config.write_text(
        f'port {port}\nbind 127.0.0.1\ndir "{folder}"\nsave ""\nappendonly no\ndaemonize no\n'
    )
    server = subprocess.Popen(  # noqa: S603 - Debian's redis-server, our configuration
        [REDIS_SERVER, str(config)],
        stdout=(folder / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert server.poll() is None, (folder / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def on_redis(settings, redis_url):
    """Select the Redis backend (as WASL_TASKS_BACKEND=redis does) on an empty server."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    settings.WASL_REDIS_URL = redis_url
    settings.TASKS = {"default": {"BACKEND": BACKEND, "QUEUES": QUEUES}}
    backend = task_backends["default"]
    yield backend
    backend.get_client().close()


def jobs(backend) -> list[dict]:
    """Every job stored on Redis: task name, status, kwargs, workers that started it."""
    return [
        {
            "task": data["task_path"].rsplit(".", 1)[-1],
            "status": data["status"],
            "kwargs": json.loads(data["kwargs_json"]),
            "workers": json.loads(data["worker_ids_json"]),
            "id": task_id,
        }
        for task_id, data in backend.iter_task_data()
    ]


def test_the_short_name_selects_the_redis_backend(on_redis):
    code = "from django.conf import settings as s; print(s.TASKS['default']['BACKEND'])"
    env = {**os.environ, "WASL_TASKS_BACKEND": "redis", "DJANGO_SETTINGS_MODULE": "wasl.settings"}
    assert python(env, "-c", code).stdout.strip() == BACKEND
    env["WASL_TASKS_BACKEND"] = "django_tasks_redis.RedisTaskBackend"
    assert python(env, "-c", code).stdout.strip() == "django_tasks_redis.RedisTaskBackend"
    assert type(Worker()) is RedisWorker


@pytest.mark.django_db(transaction=True)
def test_a_rule_job_runs_on_redis_through_the_worker(personas, on_redis):
    services.rule_create(
        actor=personas.admin,
        name="Call new contacts",
        trigger={"type": "record_created", "entity": "contact"},
        actions=[{"type": "create_activity", "subject": "Call {{ contact.first_name }}"}],
    )
    contact_create(actor=personas.rep_a, first_name="Darya")
    assert dispatch_pending() >= 1

    queued = jobs(on_redis)
    assert [(j["task"], j["status"]) for j in queued] == [("evaluate_event", "READY")]
    assert not JobHandoff.objects.exists()  # sent, so its hand-off row is gone
    assert not Activity.objects.filter(subject="Call Darya").exists()

    worker = Worker(worker_id="redis-worker")
    assert isinstance(worker, RedisWorker)
    assert worker.run_until_idle() == 1

    assert Activity.objects.filter(subject="Call Darya").count() == 1
    assert AutomationRun.objects.get().status == "done"
    [job] = jobs(on_redis)
    assert job["status"] == "SUCCESSFUL" and job["workers"] == ["redis-worker"]
    assert not DBTaskResult.objects.exists()  # nothing went through the database queue
    assert worker.run_until_idle() == 0


def call_rule(admin) -> None:
    services.rule_create(
        actor=admin,
        name="Call new contacts",
        trigger={"type": "record_created", "entity": "contact"},
        actions=[{"type": "create_activity", "subject": "Call {{ contact.first_name }}"}],
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_survives_a_process_that_dies_between_the_commit_and_the_send(
    personas, on_redis, monkeypatch
):
    call_rule(personas.admin)
    contact_create(actor=personas.rep_a, first_name="Darya")
    # The dispatcher commits, then dies before its job reaches Redis.
    monkeypatch.setattr(handoff, "_send", lambda *args: None)
    assert dispatch_pending() >= 1
    monkeypatch.undo()
    assert jobs(on_redis) == []
    [row] = JobHandoff.objects.all()
    assert row.task_path.endswith(".evaluate_event")

    # Its writer may still be sending it: the scheduler waits for the grace period.
    assert send_stranded(timezone.now()) == 0
    assert send_stranded(timezone.now() + dt.timedelta(minutes=2)) == 1
    assert not JobHandoff.objects.exists()
    assert [(j["task"], j["status"]) for j in jobs(on_redis)] == [("evaluate_event", "READY")]

    assert Worker(worker_id="redis-worker").run_until_idle() == 1
    assert Activity.objects.filter(subject="Call Darya").count() == 1


@pytest.mark.django_db(transaction=True)
def test_redis_unreachable_at_commit_fails_nothing_and_the_job_is_sent_later(
    personas, on_redis, monkeypatch
):
    call_rule(personas.admin)
    contact_create(actor=personas.rep_a, first_name="Nima")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(type(on_redis), "enqueue", unreachable)
    assert dispatch_pending() >= 1  # the commit stands and the caller sees no error
    later = timezone.now() + dt.timedelta(minutes=2)
    assert send_stranded(later) == 0  # still down: kept for the next tick
    assert JobHandoff.objects.count() == 1
    monkeypatch.undo()

    assert send_stranded(later) == 1
    assert Worker(worker_id="redis-worker").run_until_idle() == 1
    assert Activity.objects.filter(subject="Call Nima").count() == 1
    assert send_stranded(later) == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_sent_twice_still_creates_one_task(personas, on_redis, monkeypatch):
    call_rule(personas.admin)
    contact_create(actor=personas.rep_a, first_name="Sima")
    # Sent, then the process died before deleting its hand-off row: the scheduler sends
    # the job again.
    monkeypatch.setattr(handoff, "_send", lambda task, kwargs, _row: task.enqueue(**kwargs))
    dispatch_pending()
    monkeypatch.undo()
    assert send_stranded(timezone.now() + dt.timedelta(minutes=2)) == 1
    assert [j["task"] for j in jobs(on_redis)] == ["evaluate_event", "evaluate_event"]

    assert Worker(worker_id="redis-worker").run_until_idle() == 2
    assert Activity.objects.filter(subject="Call Sima").count() == 1


def make_due(backend, job_id: str) -> None:
    """Let a deferred job's time come (the clock moves on by its backoff)."""
    client = backend.get_client()
    now = timezone.now()
    key = get_result_key(backend.key_prefix, backend.alias, job_id)
    client.hset(key, "run_after", serialize_datetime(now))
    client.zadd(backend.broker.delayed_key("messages"), {job_id: now.timestamp()})


@pytest.mark.django_db(transaction=True)
def test_a_failing_webhook_is_retried_with_backoff_parked_and_retried_by_hand(
    personas, on_redis, settings, api_as
):
    settings.WASL_JOB_BACKOFF_FACTOR = 1
    worker = Worker(worker_id="redis-worker")
    with webhook_receiver() as (url, receiver):
        receiver.status = 503
        webhook_rule(personas.admin, url)
        contact_create(actor=personas.rep_a, first_name="Omid")
        dispatch_pending()
        before = timezone.now()
        worker.run_until_idle()
        assert len(receiver.calls) == 1

        # The second attempt waits on Redis for its backoff (30 s + up to 20% jitter).
        [waiting] = [j for j in jobs(on_redis) if j["status"] == "READY"]
        assert waiting["task"] == "deliver_webhook" and waiting["kwargs"]["attempt"] == 2
        delayed = on_redis.get_client().zrange(
            on_redis.broker.delayed_key("messages"), 0, -1, withscores=True
        )
        assert [task_id for task_id, _ in delayed] == [waiting["id"]]
        wait = delayed[0][1] - before.timestamp()
        assert 30 <= wait <= 37, wait
        assert worker.run_until_idle() == 0  # not before its time
        assert len(receiver.calls) == 1

        make_due(on_redis, waiting["id"])
        settings.WASL_JOB_BACKOFF_FACTOR = 0
        for _ in range(20):
            if not worker.run_until_idle():
                break

        assert len(receiver.calls) == 8  # jobs.WEBHOOKS.max_attempts
        assert len({c["headers"]["X-Wasl-Delivery"] for c in receiver.calls}) == 1
        job = FailedJob.objects.get()
        assert job.attempts == 8 and "503" in job.error
        admin = api_as(personas.admin)
        listed = admin.get("automation/failed-jobs").json()["items"]
        assert [j["id"] for j in listed] == [str(job.public_id)]

        receiver.status = 200
        response = admin.post(f"automation/failed-jobs/{job.public_id}/retry")
        assert response.status_code == 200, response.json()
        again = [j for j in jobs(on_redis) if j["status"] == "READY"]
        assert [(j["task"], j["kwargs"]["attempt"]) for j in again] == [("deliver_webhook", 1)]
        assert worker.run_until_idle() == 1

    assert len(receiver.calls) == 9
    assert WebhookDelivery.objects.get().status == "delivered"
    assert admin.get("automation/failed-jobs").json()["items"] == []


def redis_state(env: dict[str, str]) -> dict:
    code = """
import json, django
django.setup()
from django.tasks import task_backends
from wasl.activities.models import Activity
from wasl.automation.models import AutomationRun, OutgoingMessage
jobs = {}
for _, data in task_backends["default"].iter_task_data():
    name = data["task_path"].rsplit(".", 1)[-1]
    jobs.setdefault(name, []).append(
        [data["status"], len(json.loads(data["worker_ids_json"]))])
print(json.dumps({
    "tasks": Activity.objects.filter(subject="Call Kaveh").count(),
    "runs": AutomationRun.objects.count(),
    "messages": list(OutgoingMessage.objects.values_list("status", flat=True)),
    "jobs": jobs,
}))
"""
    return json.loads(python(env, "-c", code).stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_loses_nothing_on_redis(tmp_path, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushall()
    log = tmp_path / "worker.log"
    marker = tmp_path / "paused"
    with smtp_server() as (port, mailbox):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
        env.update(
            DJANGO_SETTINGS_MODULE="wasl.settings",
            PYTHONUNBUFFERED="1",
            WASL_DATA_DIR=str(tmp_path),
            WASL_DATABASE_URL=database_url(tmp_path),
            WASL_TASKS_BACKEND="redis",
            WASL_REDIS_URL=redis_url,
            WASL_EMAIL_HOST="127.0.0.1",
            WASL_EMAIL_PORT=str(port),
            WASL_EMAIL_TLS="0",
            WASL_WORKER_LEASE_SECONDS="1",
            WASL_TEST_PAUSE_MARKER=str(marker),
        )
        if connection.vendor == "sqlite":
            python(env, "-m", "wasl.cli", "migrate", "-v0")
        python(env, "-c", SEED)  # the event is dispatched: its rule job waits on Redis
        assert redis_state(env)["jobs"] == {"evaluate_event": [["READY", 0]]}

        # 1. The rule job runs; the worker is killed inside the e-mail job, before sending.
        worker = start_worker(env, log, WASL_TEST_PAUSE_AT="before_send")
        wait_for(marker.exists, 60, "the worker to take the e-mail job", log)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        state = redis_state(env)
        assert state["tasks"] == 1 and state["messages"] == ["sending"]
        assert state["jobs"]["send_message"] == [["RUNNING", 1]]
        assert mailbox.messages == []

        # 2. Another worker takes the dead worker's job after a lease and finishes it once.
        worker = start_worker(env, log)
        try:
            wait_for(lambda: mailbox.messages, 60, "the e-mail", log)
            wait_for(lambda: redis_state(env)["messages"] == ["sent"], 60, "its row", log)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        state = redis_state(env)
        assert state == {
            "tasks": 1,
            "runs": 1,
            "messages": ["sent"],
            "jobs": {"evaluate_event": [["SUCCESSFUL", 1]], "send_message": [["SUCCESSFUL", 2]]},
        }
        assert len(mailbox.messages) == 1
        assert mailbox.messages[0]["to"] == ["kaveh@example.com"]


def test_a_running_job_is_taken_over_only_when_its_worker_stops_renewing_it(on_redis, settings):
    """A running job whose worker renews it is not taken by another worker's sweep."""
    from wasl.automation import tasks

    tasks.send_digest.enqueue(user_id=0, day="2026-01-01")
    first = Worker(worker_id="alive")
    [message] = on_redis.broker.receive(max_messages=1, worker_id="alive")
    first._current = message
    settings.WASL_WORKER_LEASE_SECONDS = 1
    other = Worker(worker_id="other")
    time.sleep(1.2)
    first.renew()
    assert other.sweep() == 0  # renewed: its worker is alive
    time.sleep(1.2)
    assert other.sweep() == 1  # no renewal for a lease: handed over
    assert [m.task_id for m in on_redis.broker.receive(worker_id="other")] == [message.task_id]


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_a_redis_it_cannot_reach(settings, caplog):
    settings.WASL_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.TASKS = {"default": {"BACKEND": BACKEND, "QUEUES": QUEUES}}
    worker = Worker(worker_id="lonely", interval=0.1)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_until = time.monotonic() + 30
        while "Redis is not reachable" not in caplog.text:
            assert thread.is_alive() and time.monotonic() < wait_until
            time.sleep(0.05)
        assert thread.is_alive()
    finally:
        worker.stop.set()
        thread.join(timeout=30)
        worker._beating.join(timeout=30)
    assert not thread.is_alive()
