"""Durable jobs on Django's tasks framework: retries with backoff, parking, and the worker.

Jobs of the `automation` queue (rule runs, digests) only write to the database; the worker
runs them in batches inside one transaction, each job in its own savepoint, and marks each
one finished in that same transaction: a worker killed mid-batch leaves nothing half
done, and the jobs simply run again. Jobs of other queues (sending e-mail, SMS, webhook
calls; other apps' jobs) run one at a time outside any transaction, as django-tasks-db's
own worker runs them; a worker that dies while running one stops beating, and its job is
handed back to the queue. Every side effect carries an idempotency key, so a job that
runs twice does its work once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.utils import OperationalError
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger(__name__)

# The queue whose jobs only write to the database and may run batched in one transaction.
BATCH_QUEUE = "automation"
MESSAGES_QUEUE = "messages"
# Rule-run jobs whose events, rules and records are loaded together.
PREFETCH_CHUNK = 16


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay: float  # seconds before the second attempt; doubles each time
    transactional: bool = True
    max_delay: float = 3600.0


RULES = RetryPolicy(max_attempts=5, base_delay=5)
MESSAGES = RetryPolicy(max_attempts=6, base_delay=30, transactional=False)
WEBHOOKS = RetryPolicy(max_attempts=8, base_delay=30, transactional=False)


def backoff(attempt: int, policy: RetryPolicy) -> float:
    """Seconds to wait before attempt `attempt + 1`: exponential with 20% jitter, scaled
    by WASL_JOB_BACKOFF_FACTOR (0 in tests retries at once)."""
    factor = float(getattr(settings, "WASL_JOB_BACKOFF_FACTOR", 1.0))
    delay = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
    return delay * factor * (1 + random.random() * 0.2)  # noqa: S311 - jitter, not secrets


def _database_backend(task: Any) -> bool:
    return isinstance(task_backends[task.backend], DatabaseBackend)


def enqueue(task: Any, **kwargs: Any) -> None:
    """Queue a job so that it exists only if the caller's transaction commits.

    With the database backend the job row joins the transaction (no extra commit); with
    another backend (Redis) a hand-off row joins it and the job is sent after the commit
    (`wasl.automation.handoff`: sent later by the scheduler if this process dies first)."""
    from wasl.automation.handoff import enqueue_after_commit

    if _database_backend(task) or not transaction.get_connection().in_atomic_block:
        task.enqueue(**kwargs)
    else:
        enqueue_after_commit(task, kwargs)


# Set while the batch worker runs a job inside a savepoint of its own (`_guarded`).
_in_job_savepoint: ContextVar[bool] = ContextVar("wasl_in_job_savepoint", default=False)


class _Failed(Exception):
    """A job's work failed inside the worker's savepoint: once that savepoint has rolled
    back, `settle()` queues the next attempt or parks the job (see `run_with_retry`)."""

    def __init__(self, settle: Callable[[], dict[str, Any]]) -> None:
        super().__init__("job failed")
        self.settle = settle


def run_with_retry(
    task: Any, kwargs: dict[str, Any], work: Callable[[], Any], *, attempt: int, policy: RetryPolicy
) -> dict[str, Any]:
    """Run `work`; on an error queue the next attempt after a backoff, or after the last
    attempt park the job as failed (visible to administrators, retryable by hand).

    A transactional job runs in a savepoint that its failure rolls back before the retry
    is queued: its own, or in the batch worker the job's savepoint, which then queues the
    retry (`_Failed`) so that a job costs one savepoint, not two."""
    from wasl.automation.engine import savepoint

    settle = partial(_settle, task, kwargs, attempt=attempt, policy=policy)
    if policy.transactional and _in_job_savepoint.get():
        token = _in_job_savepoint.set(False)
        try:
            return {"ok": True, "result": work()}
        except Exception as error:
            raise _Failed(partial(settle, error)) from error
        finally:
            _in_job_savepoint.reset(token)
    try:
        if policy.transactional:
            with savepoint():
                result = work()
        else:
            result = work()
        return {"ok": True, "result": result}
    except Exception as error:
        return settle(error)


def _settle(
    task: Any, kwargs: dict[str, Any], error: Exception, *, attempt: int, policy: RetryPolicy
) -> dict[str, Any]:
    from wasl.automation.services import failed_job_park

    message = "".join(traceback.format_exception(error))[-4000:]
    logger.warning("job %s failed (attempt %d): %r", task.module_path, attempt, error)
    if attempt < policy.max_attempts:
        run_after = timezone.now() + dt.timedelta(seconds=backoff(attempt, policy))
        enqueue(task.using(run_after=run_after), **kwargs, attempt=attempt + 1)
        return {"ok": False, "retry": attempt + 1, "error": repr(error)[:500]}
    failed_job_park(task_path=task.module_path, kwargs=kwargs, attempts=attempt, error=message)
    return {"ok": False, "parked": True, "error": repr(error)[:500]}


@contextmanager
def _guarded() -> Iterator[None]:
    token = _in_job_savepoint.set(True)
    try:
        yield
    finally:
        _in_job_savepoint.reset(token)


# ---------------------------------------------------------------- the worker


def _test_pause(point: str) -> None:
    """Lets the crash test kill a worker at a known point (never set in production)."""
    if os.environ.get("WASL_TEST_PAUSE_AT") == point:
        marker = os.environ.get("WASL_TEST_PAUSE_MARKER")
        if marker:
            with open(marker, "w") as handle:
                handle.write(point)
        time.sleep(float(os.environ.get("WASL_TEST_PAUSE_SECONDS", "30")))


def _finish(row: DBTaskResult, value: Any, error: BaseException | None) -> None:
    row.finished_at = timezone.now()
    if error is None:
        row.status, row.return_value = TaskResultStatus.SUCCESSFUL, value
        row.exception_class_path = row.traceback = ""
    else:
        row.status, row.return_value = TaskResultStatus.FAILED, None
        row.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
        row.traceback = "".join(traceback.format_exception(error))
    row.save(
        update_fields=[
            "status",
            "return_value",
            "finished_at",
            "started_at",
            "worker_ids",
            "exception_class_path",
            "traceback",
        ]
    )


def _finish_successful(done: list[tuple[DBTaskResult, Any]]) -> None:
    """Mark jobs finished successfully: one UPDATE per distinct (return value, workers),
    which for a batch of rule runs is usually one or two statements."""
    if not done:
        return
    now = timezone.now()
    groups: dict[tuple[str, tuple[str, ...]], list[DBTaskResult]] = {}
    for row, value in done:
        row.return_value = value
        key = (json.dumps(value, sort_keys=True, default=str), tuple(row.worker_ids))
        groups.setdefault(key, []).append(row)
    for rows in groups.values():
        first = rows[0]
        DBTaskResult.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=TaskResultStatus.SUCCESSFUL,
            return_value=first.return_value,
            started_at=min(row.started_at for row in rows),
            finished_at=now,
            worker_ids=first.worker_ids,
            exception_class_path="",
            traceback="",
        )


class Worker:
    """Runs queued jobs until stopped: batches of `automation` jobs in one transaction,
    other jobs one by one; beats a heartbeat so a dead worker's jobs are handed back."""

    def __new__(cls, *args: Any, backend: str = "default", **kwargs: Any) -> Worker:
        # With WASL_TASKS_BACKEND=redis the same worker works the Redis queues.
        mro = type(task_backends[backend]).__mro__
        if cls is Worker and any(k.__module__.startswith("django_tasks_redis") for k in mro):
            from wasl.automation.redis_jobs import RedisWorker

            cls = RedisWorker
        return super().__new__(cls)

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        interval: float | None = None,
        batch_size: int = 100,
        batch_seconds: float = 0.25,
        backend: str = "default",
    ) -> None:
        self.worker_id = worker_id or get_random_string(24)
        self.interval = (
            float(settings.WASL_WORKER_POLL_SECONDS) if interval is None else float(interval)
        )
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.backend = backend
        self.stop = threading.Event()
        self.processed = 0
        self._beating: threading.Thread | None = None

    # -- heartbeat

    def beat(self) -> None:
        from wasl.automation.services import worker_beat

        worker_id = self.worker_id
        worker_beat(worker_id=worker_id, pid=os.getpid(), hostname=socket.gethostname())

    def _beat_forever(self) -> None:
        period = max(0.5, float(settings.WASL_WORKER_LEASE_SECONDS) / 4)
        try:
            while not self.stop.wait(period):
                try:
                    self.beat()
                except Exception:
                    logger.exception("worker heartbeat failed")
                finally:
                    close_old_connections()
        finally:
            from django.db import connections

            connections.close_all()

    def start_heartbeat(self) -> None:
        self.beat()
        self._beating = threading.Thread(
            target=self._beat_forever, name=f"wasl-heartbeat-{self.worker_id}", daemon=True
        )
        self._beating.start()

    # -- the loop

    def run(self) -> None:
        """Work until `stop` is set."""
        from wasl.automation.services import jobs_requeue_orphans

        self.start_heartbeat()
        lease = float(settings.WASL_WORKER_LEASE_SECONDS)
        recovered_at = 0.0
        try:
            while not self.stop.is_set():
                close_old_connections()
                if time.monotonic() - recovered_at > lease:
                    # Jobs of a worker that died are handed back within about a lease.
                    try:
                        jobs_requeue_orphans(now=timezone.now())
                        recovered_at = time.monotonic()
                    except OperationalError as error:
                        # A long write elsewhere holds the SQLite lock: try again later
                        # rather than stop the worker.
                        if not is_locked_database_exception(error):
                            raise
                try:
                    done = self.run_once()
                except OperationalError as error:
                    if not is_locked_database_exception(error):
                        raise
                    done = 0
                if not done:
                    self.stop.wait(self.interval)
        finally:
            self.stop.set()
            close_old_connections()

    def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Run what is ready now, then return how many jobs ran (tests and benchmarks)."""
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def _ready(self) -> Any:
        return DBTaskResult.objects.ready().filter(backend_name=self.backend)

    def run_once(self) -> int:
        return self.run_batch() + self.run_single()

    def run_batch(self) -> int:
        """Up to `batch_size` automation jobs in one transaction (each in a savepoint).

        The jobs run in chunks (`_run_chunk`) that share one load of their events, rules
        and records and one bulk write of the activities their rules create; the jobs that
        succeed are marked finished together at the end of the transaction (a few UPDATEs
        instead of one per job)."""
        started = time.monotonic()
        ran = 0
        with transaction.atomic():
            rows = list(
                self._ready()
                .filter(queue_name=BATCH_QUEUE)
                .select_for_update(skip_locked=True)[: self.batch_size]
            )
            if not rows:
                return 0
            done: list[tuple[DBTaskResult, Any]] = []
            for start in range(0, len(rows), PREFETCH_CHUNK):
                chunk = rows[start : start + PREFETCH_CHUNK]
                try:
                    with transaction.atomic():
                        finished, count, stop = self._run_chunk(chunk, started, bulk=True)
                except OperationalError:
                    raise
                except Exception:
                    # The chunk's bulk write failed (its savepoint undid the whole chunk):
                    # run its jobs again, each writing its own activities.
                    logger.exception("bulk write of a chunk failed; running it job by job")
                    finished, count, stop = self._run_chunk(chunk, started, bulk=False)
                done.extend(finished)
                ran += count
                if stop:
                    break
            _finish_successful(done)
        self.processed += ran
        if ran:
            _test_pause("after_batch")
        return ran

    def _run_chunk(
        self, chunk: list[DBTaskResult], started: float, *, bulk: bool
    ) -> tuple[list[tuple[DBTaskResult, Any]], int, bool]:
        """Run a chunk's jobs, each in a savepoint, sharing one load of their events, rules
        and records (`engine.prepared`: not per claimed batch, since the time budget may
        stop the batch after a few jobs and what was loaded for the rest would be wasted).
        With `bulk`, the activities their rules create are written together at the end.
        Returns the jobs that succeeded with their values, how many ran, and whether the
        time budget is spent."""
        from wasl.automation import engine

        done: list[tuple[DBTaskResult, Any]] = []
        ran = 0
        stop = False
        event_ids = [
            row.args_kwargs["kwargs"].get("event_id")
            for row in chunk
            if row.task_path.endswith(".evaluate_event")
        ]
        with engine.prepared((i for i in event_ids if isinstance(i, int)), bulk=bulk):
            for row in chunk:
                if row.worker_ids[-1:] != [self.worker_id]:
                    row.worker_ids = [*row.worker_ids, self.worker_id]
                row.started_at = timezone.now()
                try:
                    task = row.task
                    try:
                        with engine.savepoint(), _guarded():
                            value = task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
                    except _Failed as failed:
                        # The job's work is undone: queue its retry (or park it).
                        with engine.savepoint():
                            value = failed.settle()
                    done.append((row, value))
                except Exception as error:
                    logger.exception("job %s failed", row.pk)
                    _finish(row, None, error)
                ran += 1
                _test_pause("in_batch")
                if time.monotonic() - started > self.batch_seconds:
                    # Leave the rest for the next round: the SQLite write lock is shared
                    # with the web requests.
                    stop = True
                    break
            engine.flush()
        return done, ran, stop

    def run_single(self) -> int:
        """One job of another queue, claimed first and run outside a transaction."""
        with transaction.atomic():
            row = (
                self._ready()
                .exclude(queue_name=BATCH_QUEUE)
                .select_for_update(skip_locked=True)
                .first()
            )
            if row is None:
                return 0
            row.claim(self.worker_id)
        try:
            task = row.task
            value = task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            row.set_successful(value)
        except Exception as error:
            logger.exception("job %s failed", row.pk)
            row.set_failed(error)
        self.processed += 1
        return 1
