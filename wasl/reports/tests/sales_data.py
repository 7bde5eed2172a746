"""A small, hand-crafted sales history around Nowruz 1405 (2026-03-21), in Tehran time.

Pipeline "Sales": Lead (10%) → Proposal (50%) → Won; Lost. The organisation keeps IRR,
the Jalali calendar and Asia/Tehran. USD has rates 10 (from 2026-01-01) and 20 (from
2026-04-01); GBP has none.

D1 rep_a 1000 IRR  created 03-22 10:00 in Lead; Proposal 03-24; back to Lead 03-25;
                   Proposal 03-27; Won 03-30 (all 10:00)
D2 rep_b  500 USD  created 03-22 10:00 in Lead; Proposal 03-26; Lost 03-28 (Price, Acme)
D3 rep_c 2000 IRR  created 03-23 10:00 in Lead; open, expected close 2026-05-01
D4 rep_a  300 GBP  created 03-10 10:00 in Lead; Proposal 03-22 10:00; open, expected
                   close 2026-04-10
D5 rep_a  700 IRR  created and won 03-20 12:00 (the last day of Esfand 1404)
D6 rep_a  900 IRR  created and won 03-21 00:30 (the first minutes of Farvardin 1405)
D7 rep_b  100 USD  created 03-01 10:00 in Lead, probability 40, expected close 2026-06-01
The reports are read on 2026-04-15 10:00 (26 Farvardin 1405).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from wasl.accounts.selectors import organisation_forget, organisation_get
from wasl.deals.models import Deal, Pipeline, Stage
from wasl.deals.services import (
    deal_create,
    deal_move_to_stage,
    lost_reason_create,
    pipeline_create,
)
from wasl.reports.money import set_rate

TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=TEHRAN)


def tehran(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TEHRAN)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Sales:
    pipeline: Pipeline
    stages: dict[str, Stage]
    deals: dict[str, Deal]
    clock: Clock

    def at(self, when: dt.datetime) -> None:
        self.clock.now = when


@pytest.fixture
def clock(monkeypatch) -> Clock:
    current = Clock()
    monkeypatch.setattr(timezone, "now", current)
    return current


@pytest.fixture
def organisation(db):
    org = organisation_get()
    assert (org.currency, org.calendar, org.time_zone) == ("IRR", "jalali", "Asia/Tehran")
    organisation_forget()
    return org


@pytest.fixture
def sales(personas, organisation, clock) -> Sales:
    p = personas
    pipeline = pipeline_create(
        actor=None,
        name="Sales",
        stages=[
            {"name": "Lead", "probability": 10},
            {"name": "Proposal", "probability": 50},
            {"name": "Won", "kind": "won", "probability": 100},
            {"name": "Lost", "kind": "lost", "probability": 0},
        ],
    )
    stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
    reason = lost_reason_create(actor=None, name="Price")
    set_rate(actor=None, currency="USD", rate_date=dt.date(2026, 1, 1), rate="10")
    set_rate(actor=None, currency="USD", rate_date=dt.date(2026, 4, 1), rate="20")
    deals: dict[str, Deal] = {}

    def create(name: str, when: dt.datetime, owner: Any, **fields: Any) -> Deal:
        clock.now = when
        deals[name] = deal_create(actor=owner, title=name, pipeline=pipeline, **fields)
        return deals[name]

    def move(name: str, when: dt.datetime, stage: str, **fields: Any) -> None:
        clock.now = when
        deal = Deal.objects.get(pk=deals[name].pk)
        deals[name] = deal_move_to_stage(actor=None, deal=deal, stage=stages[stage], **fields)

    create("D7", tehran(3, 1), p.rep_b, amount="100", currency="USD", probability=40,
           expected_close=dt.date(2026, 6, 1))  # fmt: skip
    create("D4", tehran(3, 10), p.rep_a, amount="300", currency="GBP",
           expected_close=dt.date(2026, 4, 10))  # fmt: skip
    create("D5", tehran(3, 20, 12), p.rep_a, amount="700", currency="IRR", stage=stages["Won"])
    create("D6", tehran(3, 21, 0, 30), p.rep_a, amount="900", currency="IRR",
           stage=stages["Won"])  # fmt: skip
    create("D1", tehran(3, 22), p.rep_a, amount="1000", currency="IRR")
    create("D2", tehran(3, 22), p.rep_b, amount="500", currency="USD")
    move("D4", tehran(3, 22), "Proposal")
    create("D3", tehran(3, 23), p.rep_c, amount="2000", currency="IRR",
           expected_close=dt.date(2026, 5, 1))  # fmt: skip
    move("D1", tehran(3, 24), "Proposal")
    move("D1", tehran(3, 25), "Lead")
    move("D2", tehran(3, 26), "Proposal")
    move("D1", tehran(3, 27), "Proposal")
    move("D2", tehran(3, 28), "Lost", lost_reason=reason, competitor_name="Acme")
    move("D1", tehran(3, 30), "Won")
    clock.now = NOW
    return Sales(pipeline, stages, deals, clock)
