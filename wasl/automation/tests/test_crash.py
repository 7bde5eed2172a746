"""Killing the worker process mid-job loses nothing and duplicates nothing.

The worker runs as a real process (`python -m wasl.cli worker`) on a database every
process can open: on SQLite a file of its own, on PostgreSQL the test database (this
test commits, `transactional_db`). A test-only pause (WASL_TEST_PAUSE_AT) holds the
worker at a known point so it can be killed there with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from wasl.automation.tests.peers import smtp_server

PROJECT_DIR = Path(__file__).resolve().parents[3]

SEED = """
import django
django.setup()
from wasl.automation import services
from wasl.contacts.services import contact_create
from wasl.core.events import dispatch_pending
from wasl.core.testing import make_user
admin = make_user("crash_admin", "admin")
rep = make_user("crash_rep", "rep", "Crash team")
services.rule_create(
    actor=admin,
    name="Welcome",
    trigger={"type": "record_created", "entity": "contact"},
    actions=[
        {"type": "create_activity", "subject": "Call {{ contact.first_name }}"},
        {"type": "send_email", "subject": "Welcome", "body": "Hello {{ contact.first_name }}"},
    ],
)
contact_create(actor=rep, first_name="Kaveh", emails=["kaveh@example.com"])
dispatch_pending()
"""

STATE = """
import json, django
django.setup()
from wasl.activities.models import Activity
from wasl.automation.models import OutgoingMessage
print(json.dumps({
    "tasks": Activity.objects.filter(subject="Call Kaveh").count(),
    "messages": list(OutgoingMessage.objects.values_list("status", flat=True)),
}))
"""


def database_url(tmp_path: Path) -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        host = settings["HOST"] or "127.0.0.1"
        return (
            f"postgres://{settings['USER']}:{settings['PASSWORD']}@{host}"
            f":{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'crash.sqlite3'}"


def python(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        **kwargs,
    )


def state(env: dict[str, str]) -> dict:
    return json.loads(python(env, "-c", STATE).stdout.strip().splitlines()[-1])


def start_worker(env: dict[str, str], log: Path, **extra: str) -> subprocess.Popen:
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "wasl.cli", "worker", "--interval", "0.1"],
            cwd=PROJECT_DIR,
            env={**env, **extra},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_job_gives_exactly_one_task_and_one_email(tmp_path):
    log = tmp_path / "worker.log"
    marker = tmp_path / "paused"
    with smtp_server() as (port, mailbox):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
        env.update(
            DJANGO_SETTINGS_MODULE="wasl.settings",
            PYTHONUNBUFFERED="1",
            WASL_DATA_DIR=str(tmp_path),
            WASL_DATABASE_URL=database_url(tmp_path),
            WASL_EMAIL_HOST="127.0.0.1",
            WASL_EMAIL_PORT=str(port),
            WASL_EMAIL_TLS="0",
            WASL_WORKER_LEASE_SECONDS="1",
            WASL_TEST_PAUSE_MARKER=str(marker),
        )
        if connection.vendor == "sqlite":
            python(env, "-m", "wasl.cli", "migrate", "-v0")
        python(env, "-c", SEED)

        # 1. Killed inside the rule run's transaction: nothing of it stays.
        worker = start_worker(env, log, WASL_TEST_PAUSE_AT="in_batch")
        wait_for(marker.exists, 60, "the worker to take the rule job", log)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        marker.unlink()
        assert state(env) == {"tasks": 0, "messages": []}

        # 2. Killed after claiming the e-mail job, before sending: the job is handed back.
        worker = start_worker(env, log, WASL_TEST_PAUSE_AT="before_send")
        wait_for(marker.exists, 60, "the worker to take the e-mail job", log)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert state(env) == {"tasks": 1, "messages": ["sending"]}
        assert mailbox.messages == []

        # 3. A fresh worker finishes the work once.
        worker = start_worker(env, log)
        try:
            wait_for(lambda: state(env)["messages"] == ["sent"], 60, "the e-mail", log)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        assert state(env) == {"tasks": 1, "messages": ["sent"]}
        assert len(mailbox.messages) == 1
        assert mailbox.messages[0]["to"] == ["kaveh@example.com"]
