"""`touches.repeated`: one statement built by the ORM, run for many ranges."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db.models import Count, Value

from wasl.leads.models import Lead
from wasl.reports.tests.test_activity import make_lead
from wasl.reports.tests.test_customers import utc
from wasl.reports.touches import PARTS_PER_STATEMENT, repeated

LOW = dt.datetime(1901, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
HIGH = dt.datetime(1901, 1, 1, 0, 0, 2, tzinfo=dt.UTC)
PART = -7_000_001


def template(**extra):
    return (
        Lead.objects.order_by()
        .filter(created_at__gte=LOW, created_at__lt=HIGH, **extra)
        .annotate(part=Value(PART))
        .values_list("part")
        .annotate(n=Count("*"))
    )


@pytest.mark.django_db
def test_each_run_counts_its_own_range(personas):
    for day in (1, 2, 2, 5):
        make_lead(personas.rep_a, utc(2026, 3, day))
    days = [utc(2026, 3, day) for day in range(1, 8)]
    runs = [(i, low, high) for i, (low, high) in enumerate(itertools.pairwise(days))]
    found = {int(part): int(n) for part, n in repeated(template(), (PART, LOW, HIGH), runs)}
    assert found == {0: 1, 1: 2, 2: 0, 3: 0, 4: 1, 5: 0}


@pytest.mark.django_db
def test_more_runs_than_one_statement_holds(personas):
    make_lead(personas.rep_a, utc(2026, 3, 1))
    runs = [(i, utc(2026, 1, 1), utc(2026, 4, 1)) for i in range(PARTS_PER_STATEMENT * 2 + 5)]
    rows = repeated(template(), (PART, LOW, HIGH), runs)
    assert sorted(int(part) for part, _n in rows) == list(range(len(runs)))
    assert {int(n) for _part, n in rows} == {1}


@pytest.mark.django_db
def test_the_template_keeps_its_other_conditions(personas):
    make_lead(personas.rep_a, utc(2026, 3, 1))
    make_lead(personas.rep_b, utc(2026, 3, 1))
    runs = [(0, utc(2026, 1, 1), utc(2026, 4, 1))]
    rows = repeated(template(owner=personas.rep_b), (PART, LOW, HIGH), runs)
    assert [int(n) for _part, n in rows] == [1]


@pytest.mark.django_db
def test_a_marker_the_template_lacks_is_refused():
    with pytest.raises(ValueError, match="marker"):
        repeated(
            template(), (PART, LOW, dt.datetime(1902, 1, 1, tzinfo=dt.UTC)), [(0, LOW, HIGH, LOW)]
        )
    assert repeated(template(), (PART, LOW, HIGH), []) == []
