"""Helpers for automation tests: run the outbox dispatcher and the real worker until idle."""

from __future__ import annotations

import pytest

from wasl.automation.jobs import Worker
from wasl.core.events import dispatch_pending


def drain(rounds: int = 10) -> int:
    """Deliver events and run jobs (through the worker's own loop) until nothing is left."""
    total = 0
    worker = Worker(worker_id="test-worker")
    for _ in range(rounds):
        delivered = dispatch_pending()
        ran = worker.run_until_idle()
        total += ran
        if not delivered and not ran:
            break
    return total


@pytest.fixture
def pipeline():
    return drain


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.WASL_JOB_BACKOFF_FACTOR = 0
