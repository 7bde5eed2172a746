"""Independent reads of one report run side by side, each on its own database connection.

A report such as the KPIs reads a few unrelated things (churn, revenue, open deals) of a
few hundred milliseconds each; on a server with idle cores they need not wait for each
other. Only reads run apart, and only outside a transaction: another connection would not
see what an open transaction wrote (a test's data lives in one), so inside one everything
runs in turn on the caller's connection. `WASL_REPORT_THREADS` (settings) caps the threads;
1 runs everything in turn.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, connections
from django.utils import translation

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_idle: threading.BoundedSemaphore | None = None
_pool_lock = threading.Lock()


def threads() -> int:
    configured = getattr(settings, "WASL_REPORT_THREADS", None)
    if configured is not None:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def can_run_apart() -> bool:
    return threads() > 1 and not connection.in_atomic_block


def _executor() -> tuple[ThreadPoolExecutor, threading.BoundedSemaphore]:
    global _pool, _idle
    with _pool_lock:
        if _pool is None or _idle is None:
            workers = threads() - 1
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reports")
            _idle = threading.BoundedSemaphore(workers)
        return _pool, _idle


def _apart(call: Callable[[], T], language: str | None, idle: threading.BoundedSemaphore) -> T:
    # The worker's connection is closed after each call: an idle thread holding one
    # would keep a PostgreSQL session open (and a database from being dropped) for
    # nothing; opening one costs a few milliseconds against reads of hundreds.
    try:
        if language is None:
            return call()
        with translation.override(language):
            return call()
    finally:
        connections.close_all()
        idle.release()  # before the result is handed over: the worker is free again


def run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    """The results of `calls`, in order; an exception of any is raised here. The first
    runs on the caller's thread; each other on an idle worker thread when
    `can_run_apart()`, else after it on the caller's: a request never waits in line behind
    another request's reads."""
    if len(calls) < 2 or not can_run_apart():
        return [call() for call in calls]
    pool, idle = _executor()
    language = translation.get_language()
    futures: list[Future[Any] | None] = []
    for call in calls[1:]:
        if idle.acquire(blocking=False):
            try:
                futures.append(pool.submit(_apart, call, language, idle))
            except RuntimeError:  # the pool is shutting down with the process
                idle.release()
                futures.append(None)
        else:
            futures.append(None)
    try:
        results = [calls[0]()]
    finally:
        errors = [future.exception() for future in futures if future is not None]
    for error in errors:
        if error is not None:
            raise error
    for call, future in zip(calls[1:], futures, strict=True):
        results.append(call() if future is None else future.result())
    return results
