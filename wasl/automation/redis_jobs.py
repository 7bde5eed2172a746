"""Jobs on Redis (`WASL_TASKS_BACKEND=redis`): the backend and the worker that runs it.

The backend is django-tasks-redis (Redis Streams with one consumer group): a queued job is
a hash plus an entry in its queue's stream, a deferred one (a retry after its backoff)
waits in a sorted set until it is due. `wasl worker` reads the streams as a consumer of
the group: a job it reads stays pending in Redis until it has run and its result is
written, and only then is acknowledged. While a job runs, the worker's heartbeat renews
the pending entry every lease/4 seconds; an entry that nobody renewed for
`WASL_WORKER_LEASE_SECONDS` belongs to a dead worker, and every worker sweeps such
entries over to itself once per half lease and runs them again (their idempotency keys
keep the side effects single). Retries, backoff and parking are the task functions' own
(`wasl.automation.jobs.run_with_retry`), exactly as with the database backend; the
outbox dispatcher and the scheduler stay on the database.

Unlike the database worker, rule runs are not batched: each job runs in its own
transaction, one at a time (run more workers to go faster).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.tasks import task_backends
from django_tasks_redis import RedisTaskBackend
from django_tasks_redis.brokers.base import BrokerMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wasl.automation.jobs import Worker

logger = logging.getLogger(__name__)


class RedisBackend(RedisTaskBackend):
    """django-tasks-redis with Wasl's defaults: WASL_REDIS_URL, keys under `wasl`, a job
    handed to another worker after WASL_WORKER_LEASE_SECONDS without a renewal, no cap
    on deliveries (the task functions count their own attempts), queued jobs kept until
    they run and finished ones for WASL_JOB_RESULTS_KEEP_DAYS. OPTIONS override them."""

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        keep = int(float(getattr(settings, "WASL_JOB_RESULTS_KEEP_DAYS", 7)) * 86400)
        options = {
            "REDIS_URL": settings.WASL_REDIS_URL,
            "REDIS_KEY_PREFIX": "wasl",
            "REDIS_CONSUMER_GROUP": "wasl_workers",
            "REDIS_CLAIM_TIMEOUT": float(settings.WASL_WORKER_LEASE_SECONDS),
            "REDIS_MAX_DELIVERIES": 0,
            "REDIS_RESULT_TTL": 0,
            "REDIS_COMPLETED_TASK_TTL": keep,
            **(params.get("OPTIONS") or {}),
        }
        super().__init__(alias, {**params, "OPTIONS": options})


class RedisWorker(Worker):
    """`wasl worker` on the Redis backend: one job at a time, acknowledged after its
    result is written; reclaims the jobs of workers that stopped renewing theirs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._current: BrokerMessage | None = None
        self._swept_at = 0.0

    @property
    def _backend(self) -> RedisTaskBackend:
        return task_backends[self.backend]

    # -- heartbeat: the database row (for the admins) and the running job's entry

    def beat(self) -> None:
        super().beat()
        self.renew()

    def renew(self) -> None:
        """Reset the idle time of the entry of the job running now, so no other worker
        takes it while this one is alive (however long the job takes)."""
        message = self._current
        if message is None:
            return
        stream_key, message_id = message.handle
        backend = self._backend
        backend.get_client().xclaim(
            stream_key,
            backend.consumer_group,
            self.worker_id,
            0,
            [message_id],
            justid=True,
        )

    # -- the loop

    def sweep(self) -> int:
        """Take over the jobs whose worker stopped renewing them for a lease; they run
        again here (first in line: a consumer's own pending entries are read first)."""
        self._swept_at = time.monotonic()
        return self._backend.broker.claim_stale_messages(
            self.worker_id, claim_timeout=float(settings.WASL_WORKER_LEASE_SECONDS)
        )

    def run(self) -> None:
        self.start_heartbeat()
        lease = float(settings.WASL_WORKER_LEASE_SECONDS)
        try:
            while not self.stop.is_set():
                close_old_connections()
                try:
                    if time.monotonic() - self._swept_at > lease / 2:
                        self.sweep()
                    self.run_once(wait=self.interval)
                except (RedisConnectionError, RedisTimeoutError):
                    # Redis restarting or out of reach: try again shortly, do not die.
                    logger.exception("Redis is not reachable")
                    self.stop.wait(max(1.0, self.interval))
        finally:
            self.stop.set()
            # This thread's connections end with it (the worker of `wasl run` is a thread).
            connections.close_all()

    def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        self.sweep()
        return super().run_until_idle(max_rounds=max_rounds)

    def run_once(self, wait: float = 0) -> int:
        """Read one job (waiting up to `wait` seconds for one), run it, acknowledge it."""
        backend = self._backend
        messages = backend.broker.receive(
            max_messages=1, wait_seconds=wait, worker_id=self.worker_id
        )
        if not messages:
            return 0
        message = messages[0]
        self._current = message
        try:
            # Claims READY -> RUNNING, runs the function, writes the result (an exception
            # becomes a FAILED result); None when another worker had claimed it.
            result = backend.run_task(message.task_id, worker_id=self.worker_id)
        except Exception:
            # The task could not even start (unknown task path…): recorded as FAILED.
            logger.exception("job %s could not run", message.task_id)
            result = None
        finally:
            self._current = None
        backend.broker.ack(message)
        if result is not None:
            self.processed += 1
        return 1
