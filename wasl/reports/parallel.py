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
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, connections
from django.utils import translation

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def threads() -> int:
    configured = getattr(settings, "WASL_REPORT_THREADS", None)
    if configured is not None:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def can_run_apart() -> bool:
    return threads() > 1 and not connection.in_atomic_block


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=threads() - 1, thread_name_prefix="reports")
        return _pool


def _apart(call: Callable[[], T], language: str | None) -> T:
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


def run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    """The results of `calls`, in order. The first runs on the caller's thread, the others
    on worker threads when `can_run_apart()`; an exception of any is raised here."""
    if len(calls) < 2 or not can_run_apart():
        return [call() for call in calls]
    language = translation.get_language()
    futures = [_executor().submit(_apart, call, language) for call in calls[1:]]
    try:
        first = calls[0]()
    finally:
        others = [future.exception() for future in futures]  # waits for every one
    for error in others:
        if error is not None:
            raise error
    return [first, *[future.result() for future in futures]]
