"""`python -m bench.automation [--db-url URL] [--events N] [--samples N]`

Automation throughput and delay with the default settings. Twenty active rules wake on
every new lead (`lead_created`); their conditions split leads by a custom budget field so
that each lead makes exactly one rule create a call task (all twenty are evaluated). A
real `wasl scheduler` (outbox delivery) and one real `wasl worker` run as processes.

- throughput: N leads committed in one transaction; events per second from that commit
  until the N-th task exists;
- delay: leads created one by one at random intervals; for each, the time from its commit
  to the creation of its task (p50, p95).

With `--cpu N` it measures instead the worker's own CPU time per event, in this process
and without polling (robust to a loaded machine): N leads are committed and delivered,
then one `Worker` (batch budget lifted, so every batch is 100 jobs in chunks of 16) runs
them until idle under `time.process_time()`; `--profile` prints the top of a cProfile
(`BENCH_PROFILE_LINES`, `BENCH_PROFILE_SORT` change its length and order). It also
reports the CPU the delivery of those events (`dispatch_pending`, the scheduler's part)
cost per event.

Uses its own database: SQLite in bench/.data/automation/ (recreated each run) or
--db-url (migrated and flushed first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.automation")
    parser.add_argument("--db-url", default="")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--cpu", type=int, default=0, help="in-process CPU per event for N")
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


def configure(args: argparse.Namespace) -> dict[str, str]:
    data_dir = BENCH_DIR / ".data" / "automation"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    url = args.db_url or f"sqlite:///{data_dir / 'wasl.sqlite3'}"
    os.environ.update(WASL_DATA_DIR=str(data_dir), WASL_DATABASE_URL=url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wasl.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.db_url:
        call_command("flush", interactive=False, verbosity=0)
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def make_rules() -> tuple[object, object]:
    from wasl.automation.services import rule_create
    from wasl.contacts.services import custom_field_create
    from wasl.core.testing import make_user

    admin = make_user("bench_admin", "admin")
    rep = make_user("bench_rep", "rep", "Bench team")
    custom_field_create(actor=None, entity="lead", key="budget", label_en="Budget", kind="money")
    for index in range(20):
        rule_create(
            actor=admin,
            name=f"Budget band {index}",
            trigger={"type": "lead_created", "source": "web_form"},
            conditions={
                "all": [
                    {"field": "custom.budget", "op": "gte", "value": index * 100},
                    {"field": "custom.budget", "op": "lt", "value": (index + 1) * 100},
                ]
            },
            actions=[
                {
                    "type": "create_activity",
                    "kind": "call",
                    "subject": "Call {{ lead.first_name }} (band %d)" % index,
                    "due": {"amount": 15, "unit": "minutes"},
                }
            ],
        )
    return admin, rep


def new_lead(rep: object, number: int) -> object:
    from wasl.leads.services import lead_create

    return lead_create(
        actor=rep,
        first_name=f"Lead {number}",
        source="web_form",
        custom={"budget": str(random.randrange(0, 2000))},
    )


def start(env: dict[str, str], command: str, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [sys.executable, "-m", "wasl.cli", command],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def tasks_count() -> int:
    from wasl.activities.models import Activity

    return Activity.objects.filter(kind="call").count()


def cpu_per_event(args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    from django.db import connection, transaction

    from wasl.automation.jobs import Worker
    from wasl.core.events import dispatch_pending

    random.seed(1)
    _admin, rep = make_rules()
    with transaction.atomic():
        for number in range(args.cpu):
            new_lead(rep, number)
    dispatch_started = time.process_time()
    while dispatch_pending(limit=1000):
        pass
    dispatch_cpu = time.process_time() - dispatch_started
    worker = Worker(worker_id="bench", batch_seconds=3600)
    worker.run_until_idle(max_rounds=1)  # warm up: the automation user, first queries
    profile = cProfile.Profile() if args.profile else None
    started_cpu, started = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    ran = worker.run_until_idle(max_rounds=100000)
    if profile is not None:
        profile.disable()
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    assert tasks_count() == args.cpu, tasks_count()
    from wasl.automation.models import AutomationRun

    assert AutomationRun.objects.filter(status="done").count() == args.cpu
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "jobs": ran,
                "cpu_ms_per_event": round(cpu * 1000 / ran, 2),
                "wall_ms_per_event": round(wall * 1000 / ran, 2),
                # The scheduler's side: delivering the events, queueing their jobs.
                "dispatch_cpu_ms_per_event": round(dispatch_cpu * 1000 / args.cpu, 2),
            },
            indent=2,
        )
    )
    if profile is not None:
        pstats.Stats(profile).sort_stats(
            os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        ).print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "25")))


def main() -> None:
    args = parse_args()
    env = configure(args)
    if args.cpu:
        cpu_per_event(args)
        return
    from django.db import connection, transaction

    random.seed(1)
    _admin, rep = make_rules()
    from django.db import connections

    logs = BENCH_DIR / ".data" / "automation"
    connections.close_all()
    processes = []
    for command in ("scheduler", "worker"):
        for _attempt in range(3):
            process = start(env, command, logs / f"{command}.log")
            deadline = time.monotonic() + 120  # a loaded machine starts Django slowly
            while process.poll() is None and time.monotonic() < deadline:
                if "running" in (logs / f"{command}.log").read_text():
                    break
                time.sleep(0.2)
            if process.poll() is None and "running" in (logs / f"{command}.log").read_text():
                break
            process.kill()
            process.wait()
        else:
            raise SystemExit(
                f"wasl {command} did not start:\n" + (logs / f"{command}.log").read_text()
            )
        processes.append(process)
    try:
        # Throughput.
        with transaction.atomic():
            for number in range(args.events):
                new_lead(rep, number)
        committed = time.monotonic()
        while tasks_count() < args.events:
            time.sleep(0.05)
        elapsed = time.monotonic() - committed
        throughput = args.events / elapsed

        # Delay from commit to task.
        from wasl.activities.models import Activity

        delays = []
        for number in range(args.samples):
            time.sleep(random.uniform(0.1, 0.6))
            lead = new_lead(rep, 100000 + number)
            created = time.time()
            deadline = created + 30
            while True:
                task = Activity.objects.filter(lead=lead).only("created_at").first()
                if task is not None:
                    delays.append(task.created_at.timestamp() - created)
                    break
                if time.time() > deadline:
                    delays.append(float("inf"))
                    break
                time.sleep(0.01)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    delays.sort()
    result = {
        "vendor": connection.vendor,
        "events": args.events,
        "rules": 20,
        "seconds": round(elapsed, 2),
        "events_per_second": round(throughput, 1),
        "delay_p50_s": round(statistics.median(delays), 3),
        "delay_p95_s": round(delays[int(len(delays) * 0.95) - 1], 3),
        "delay_max_s": round(delays[-1], 3),
        "samples": len(delays),
    }
    print(json.dumps(result, indent=2))
    out = BENCH_DIR / "results" / f"automation-{connection.vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
