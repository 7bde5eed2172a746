"""`parallel.run_all`: reads side by side outside a transaction, in turn inside one."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from wasl.leads.models import Lead
from wasl.reports import parallel, registry
from wasl.reports.filters import parse_filters
from wasl.reports.tests import sales_data
from wasl.reports.tests.test_activity import make_lead
from wasl.reports.tests.test_customers import utc

clock, organisation, sales = sales_data.clock, sales_data.organisation, sales_data.sales


def where() -> int:
    return threading.get_ident()


def test_inside_a_transaction_every_call_runs_on_the_callers_thread(db, settings):
    settings.WASL_REPORT_THREADS = 4
    assert parallel.run_all([where, where, where]) == [threading.get_ident()] * 3


def test_one_thread_runs_every_call_in_turn(transactional_db, settings):
    settings.WASL_REPORT_THREADS = 1
    assert parallel.run_all([where, where]) == [threading.get_ident()] * 2


def test_outside_a_transaction_the_others_run_apart_and_see_committed_rows(
    transactional_db, settings, personas
):
    settings.WASL_REPORT_THREADS = 2
    make_lead(personas.rep_a, utc(2026, 3, 1))
    first, second = parallel.run_all(
        [lambda: (where(), Lead.objects.count()), lambda: (where(), Lead.objects.count())]
    )
    assert first == (threading.get_ident(), 1)
    assert second[0] != threading.get_ident() and second[1] == 1


def test_an_error_apart_is_raised_to_the_caller(transactional_db, settings):
    settings.WASL_REPORT_THREADS = 2

    def fails() -> None:
        raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        parallel.run_all([where, fails])


def test_the_kpis_are_the_same_read_apart_or_in_turn(transactional_db, settings, personas):
    for day in (1, 15):
        make_lead(personas.rep_a, utc(2026, 3, day))
    figures = {}
    for threads in (1, 2):
        settings.WASL_REPORT_THREADS = threads
        report = registry.get("kpis").build(personas.admin, parse_filters(personas.admin, {}))
        figures[threads] = [(f.key, f.value, f.spark) for f in report.figures]
    assert figures[1] == figures[2]
    with transaction.atomic():
        assert parallel.can_run_apart() is False


def test_with_every_worker_busy_the_call_runs_on_the_callers_thread(transactional_db, settings):
    settings.WASL_REPORT_THREADS = 2
    _pool, idle = parallel._executor()
    taken = 0
    while idle.acquire(blocking=False):
        taken += 1
    try:
        assert parallel.run_all([where, where]) == [threading.get_ident()] * 2
    finally:
        for _n in range(taken):
            idle.release()
    assert parallel.run_all([where, where])[1] != threading.get_ident()


def test_the_funnel_is_the_same_read_apart_or_in_turn(transactional_db, settings, sales, personas):
    """The funnel's counts and its stalled deals run side by side outside a transaction."""
    tables = {}
    for threads in (1, 2):
        settings.WASL_REPORT_THREADS = threads
        filters = parse_filters(personas.admin, {"pipeline": str(sales.pipeline.public_id)})
        report = registry.get("funnel").build(personas.admin, filters)
        tables[threads] = [(t.key, t.rows) for t in report.tables]
    assert tables[1] == tables[2]
    assert {key for key, _rows in tables[1]} == {"funnel", "stage-durations", "deals-over"}
    assert tables[1][0][1][0]["entered"] > 0
