"""Fixtures of the deals tests: a pipeline with named stages, a lost reason, a clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from wasl.deals.models import Pipeline, Stage
from wasl.deals.services import deal_create, lost_reason_create, pipeline_create


@pytest.fixture
def pipeline(db) -> Pipeline:
    return pipeline_create(
        actor=None,
        name="Sales",
        stages=[
            {"name": "Lead", "probability": 10},
            {"name": "Proposal", "probability": 50},
            {"name": "Won", "kind": "won", "probability": 100},
            {"name": "Lost", "kind": "lost", "probability": 0},
        ],
    )


@pytest.fixture
def stages(pipeline) -> dict[str, Stage]:
    return {stage.name: stage for stage in Stage.objects.filter(pipeline=pipeline)}


@pytest.fixture
def other_pipeline(db) -> Pipeline:
    return pipeline_create(
        actor=None,
        name="Renewals",
        stages=[{"name": "Due", "probability": 30}, {"name": "Renewed", "kind": "won"}],
    )


@pytest.fixture
def reason(db):
    return lost_reason_create(actor=None, name="Price too high")


@pytest.fixture
def make_deal(pipeline):
    """`make_deal(owner, **fields)` creates a deal as its owner through the service."""

    def make(owner: Any, title: str = "Fleet renewal", **fields: Any):
        return deal_create(actor=owner, title=title, **fields)

    return make


class Clock:
    """A controllable `timezone.now()`."""

    def __init__(self) -> None:
        self.now = timezone.now().replace(microsecond=0) - dt.timedelta(days=30)

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    current = Clock()
    monkeypatch.setattr(timezone, "now", lambda: current.now)
    return current
