"""The customer summary (wasl.reports.touches): after any write through the services, the
summary a report reads is the one a full rebuild would make, whether the dispatcher has
delivered the events or not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from wasl.accounts.services import organisation_update, user_reassign_records
from wasl.activities.models import Activity
from wasl.activities.services import activity_complete, activity_create, activity_delete
from wasl.contacts.services import (
    company_create,
    company_delete,
    company_update,
    contact_create,
    contact_update,
)
from wasl.core.events import dispatch_pending
from wasl.core.models import OutboxEvent
from wasl.deals.models import Stage
from wasl.deals.services import (
    deal_create,
    deal_move_to_stage,
    deal_update,
    pipeline_ensure_default,
)
from wasl.reports import touches
from wasl.reports.models import (
    CustomerAttribution,
    CustomerEpisode,
    CustomerSummaryState,
    CustomerTotals,
)
from wasl.reports.tests.test_activity import frozen

pytestmark = pytest.mark.django_db

UTC = dt.UTC
DAY = dt.timedelta(days=1)


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, 0, tzinfo=UTC)


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    attributions = sorted(
        CustomerAttribution.objects.values_list(
            "activity_id",
            "deal_id",
            "customer_kind",
            "customer_id",
            "touched_at",
            "currency",
            "amount",
        ),
        key=repr,
    )
    episodes = sorted(
        CustomerEpisode.objects.values_list(
            "customer_kind", "customer_id", "starts_at", "ends_at", "buyer"
        )
    )
    return attributions, episodes


def deal_scopes() -> list[tuple[Any, ...]]:
    return sorted(
        CustomerAttribution.objects.filter(deal__isnull=False).values_list(
            "deal_id",
            "owner_id",
            "team_id",
            "pipeline_id",
            "open_due",
            "customer_owner_id",
            "customer_team_id",
        )
    )


def purchase_values() -> list[tuple[Any, ...]]:
    """Each deal's row with its amount converted (`value_cents`)."""
    return sorted(
        CustomerAttribution.objects.filter(deal__isnull=False).values_list(
            "deal_id", "currency", "amount", "value_cents"
        )
    )


def totals_rows() -> list[tuple[Any, ...]]:
    return sorted(
        CustomerTotals.objects.values_list(
            "customer_kind",
            "customer_id",
            "revenue_cents",
            "deals",
            "unconverted",
            "first_purchase_at",
            "last_purchase_at",
            "last_activity_at",
        )
    )


def assert_as_rebuilt() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The summary after folding what is pending (attributions, episodes and each
    customer's totals) equals a full rebuild's."""
    touches.ensure_converted()
    folded, totals, scopes, values = snapshot(), totals_rows(), deal_scopes(), purchase_values()
    touches.rebuild()
    assert snapshot() == folded
    assert totals_rows() == totals
    assert deal_scopes() == scopes
    assert purchase_values() == values
    return folded


@pytest.fixture
def stages(db) -> dict[str, Stage]:
    pipeline = pipeline_ensure_default()
    return {s.kind: s for s in Stage.objects.filter(pipeline=pipeline).order_by("-position")}


@pytest.fixture
def thirty_days(db):
    organisation_update(actor=None, churn_after_days=30)
    touches.rebuild()


def test_episodes_join_touches_at_most_n_days_apart():
    moments = [at(1, 1), at(1, 31), at(3, 15), at(3, 3)]
    assert touches.episodes_of(moments, 30) == [
        (at(1, 1), at(1, 31) + 30 * DAY),  # 30 days apart: one stretch
        (at(3, 3), at(3, 15) + 30 * DAY),  # 31 days after the last touch: a new one
    ]
    assert touches.episodes_of([], 30) == []


def test_every_kind_of_write_is_folded_as_a_rebuild_would_make_it(personas, stages, thirty_days):
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    beta = company_create(actor=rep, name="Beta")
    sara = contact_create(actor=rep, first_name="Sara", last_name="Karimi", company=acme)
    solo = contact_create(actor=rep, first_name="Ali", last_name="Tanha")
    with frozen(at(1, 10)):
        bought = deal_create(actor=rep, title="First", stage=stages["won"], company=acme)
        personal = deal_create(actor=rep, title="Own", stage=stages["won"], contacts=[solo])
    call = activity_create(actor=rep, kind="call", subject="Call", contact=sara)
    with frozen(at(2, 1)):
        activity_complete(actor=rep, activity=call)
    note = activity_create(actor=rep, kind="note", subject="Note", company=acme)
    attributions, episodes = assert_as_rebuilt()
    company = CustomerAttribution.CustomerKind.COMPANY
    assert (call.pk, None, company, acme.pk, at(2, 1), "", None) in attributions
    assert not any(row[0] == note.pk for row in attributions)  # a note is no touch
    assert (company, acme.pk, at(1, 10), at(2, 1) + 30 * DAY, True) in episodes
    assert CustomerTotals.objects.filter(customer_kind=company, customer_id=acme.pk).values_list(
        "deals", "first_purchase_at", "last_activity_at"
    ).get() == (1, at(1, 10), at(2, 1))

    # Sara moves to Beta: her call goes with her.
    contact_update(actor=rep, contact=sara, company=beta)
    attributions, _episodes = assert_as_rebuilt()
    assert (call.pk, None, company, beta.pk, at(2, 1), "", None) in attributions

    # The purchase's money changes: the summary carries it for the revenue.
    deal_update(actor=rep, deal=personal, amount=Decimal("250.00"), currency="EUR")
    attributions, _episodes = assert_as_rebuilt()
    contact = CustomerAttribution.CustomerKind.CONTACT
    assert (None, personal.pk, contact, solo.pk, at(1, 10), "EUR", Decimal("250")) in attributions
    # ... and its revenue row: EUR has no rate, so the deal is counted but left out;
    # its converted value is none, the IRR deal's its amount in cents.
    assert (personal.pk, "EUR", Decimal("250"), None) in purchase_values()
    assert (bought.pk, "IRR", bought.amount, int(bought.amount * 100)) in purchase_values()
    assert CustomerTotals.objects.filter(customer_kind=contact, customer_id=solo.pk).values_list(
        "revenue_cents", "deals", "unconverted"
    ).get() == (0, 1, "EUR:1")

    # The purchase changes hands, then every deal of its new owner goes to team B in
    # bulk: the rows carry each deal's owner and team for the viewers' scopes.
    deal_update(actor=personas.admin, deal=personal, owner=personas.rep_b)
    assert_as_rebuilt()
    user_reassign_records(actor=None, from_user=personas.rep_b, to_user=personas.rep_c)
    assert_as_rebuilt()
    assert (
        personal.pk,
        personas.rep_c.pk,
        personas.rep_c.team_id,
        personal.pipeline_id,
        None,  # won: not open, so no expected close
        rep.pk,  # the customer's owner and team: Ali is still rep A's
        rep.team_id,
    ) in deal_scopes()

    # Ali is given to rep B, then every record of rep B's to rep C in bulk, and Acme to
    # rep B: the rows carry each customer's owner and team for the viewers' checks.
    contact_update(actor=personas.admin, contact=solo, owner=personas.rep_b)
    assert_as_rebuilt()
    user_reassign_records(actor=None, from_user=personas.rep_b, to_user=personas.rep_c)
    company_update(actor=personas.admin, company=acme, owner=personas.rep_b)
    assert_as_rebuilt()
    assert CustomerAttribution.objects.filter(deal_id=personal.pk).values_list(
        "customer_owner_id", "customer_team_id"
    ).get() == (personas.rep_c.pk, personas.rep_c.team_id)
    assert CustomerAttribution.objects.filter(deal_id=bought.pk).values_list(
        "customer_owner_id", "customer_team_id"
    ).get() == (personas.rep_b.pk, personas.rep_b.team_id)

    # The deal is reopened: no longer a purchase, still Acme's deal, open until its
    # expected close, which then moves.
    deal_move_to_stage(actor=rep, deal=bought, stage=stages["open"])
    assert_as_rebuilt()
    deal_update(actor=rep, deal=bought, expected_close=dt.date(2026, 5, 1))
    attributions, episodes = assert_as_rebuilt()
    assert CustomerAttribution.objects.get(deal_id=bought.pk).open_due == dt.date(2026, 5, 1)
    assert not CustomerAttribution.objects.filter(deal_id=personal.pk, open_due__isnull=False)
    assert (None, bought.pk, company, acme.pk, None, bought.currency, bought.amount) in attributions
    assert not any(row[:2] == (company, acme.pk) for row in episodes)
    assert not CustomerTotals.objects.filter(customer_kind=company, customer_id=acme.pk).exists()

    # Beta is deleted: Sara's call belongs to Sara herself.
    company_delete(actor=personas.admin, company=beta)
    attributions, _episodes = assert_as_rebuilt()
    assert (call.pk, None, contact, sara.pk, at(2, 1), "", None) in attributions

    # The call is deleted; the personal purchase stays.
    call_id = call.pk
    activity_delete(actor=rep, activity=call)
    attributions, _episodes = assert_as_rebuilt()
    assert not any(row[0] == call_id for row in attributions)
    assert (None, personal.pk, contact, solo.pk, at(1, 10), "EUR", Decimal("250")) in attributions


def test_episodes_say_whether_their_customer_bought(personas, stages, thirty_days):
    """The churn reads only buyers' episodes: a customer's episodes are marked when its
    first deal is won, every one of them (those of activities before too), and unmarked
    when it has no won deal any more."""
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    call = activity_create(actor=rep, kind="call", subject="Call", company=acme)
    with frozen(at(1, 5)):
        activity_complete(actor=rep, activity=call)
    company = CustomerAttribution.CustomerKind.COMPANY

    def acme_episodes() -> list[tuple[Any, ...]]:
        _attributions, episodes = assert_as_rebuilt()
        return [row[2:] for row in episodes if row[:2] == (company, acme.pk)]

    assert acme_episodes() == [(at(1, 5), at(1, 5) + 30 * DAY, False)]
    with frozen(at(4, 1)):
        deal = deal_create(actor=rep, title="First", stage=stages["won"], company=acme)
    assert acme_episodes() == [
        (at(1, 5), at(1, 5) + 30 * DAY, True),
        (at(4, 1), at(4, 1) + 30 * DAY, True),
    ]
    deal_move_to_stage(actor=rep, deal=deal, stage=stages["open"])
    assert acme_episodes() == [(at(1, 5), at(1, 5) + 30 * DAY, False)]


def test_the_dispatcher_folds_the_events_so_a_report_finds_nothing_left(
    personas, stages, thirty_days
):
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=rep, title="First", stage=stages["won"], company=acme)
    dispatch_pending()
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert CustomerEpisode.objects.filter(customer_id=acme.pk).count() == 1
    assert_as_rebuilt()


def test_a_change_of_churn_days_or_an_undone_import_rebuilds(personas, stages, thirty_days):
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=rep, title="First", stage=stages["won"], company=acme, amount=Decimal(5))
    with frozen(at(3, 1)):
        deal_create(actor=rep, title="Second", stage=stages["won"], company=acme)
    touches.ensure_current()
    assert CustomerEpisode.objects.filter(customer_id=acme.pk).count() == 2
    organisation_update(actor=None, churn_after_days=90)
    touches.ensure_current()
    assert CustomerSummaryState.objects.get().churn_days == 90
    assert CustomerEpisode.objects.filter(customer_id=acme.pk).count() == 1
    # An undone import removes records without an event each: the summary starts over.
    CustomerAttribution.objects.all().delete()
    OutboxEvent.objects.create(name="import.undone")
    touches.ensure_current()
    assert CustomerAttribution.objects.filter(customer_id=acme.pk).count() == 2


def test_a_task_done_by_a_colleague_keeps_a_reps_customer_in_touch(personas, stages, thirty_days):
    """In touch is the customer's state, whoever touched it: the rep's churn counts the
    customers of their deals, and a colleague's call keeps one of them."""
    from wasl.reports import registry
    from wasl.reports.filters import parse_filters

    acme = company_create(actor=personas.rep_a, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=personas.rep_a, title="First", stage=stages["won"], company=acme)
    task = activity_create(
        actor=personas.admin, kind="task", subject="Visit", company=acme, owner=personas.rep_b
    )
    Activity.objects.filter(pk=task.pk).update(done_at=at(3, 20))
    OutboxEvent.objects.create(name="activity.updated", object_id=task.pk)
    filters = parse_filters(
        personas.rep_a,
        {"period": "custom", "start": "2026-02-01", "end": "2026-03-31"},
        today=dt.date(2026, 5, 1),
    )
    report = registry.get("churn").build(personas.rep_a, filters)
    figures = {f.key: f.value for f in report.figures}
    # In touch on 1 February (bought 10 January) and at the end of March (visited on
    # 20 March by rep B, whose task rep A cannot see).
    assert (figures["active_start"], figures["churned"], figures["active_end"]) == (1, 0, 1)


def test_a_failing_fold_asks_for_a_rebuild_and_lets_the_event_through(
    personas, stages, thirty_days, monkeypatch
):
    def broken(event):
        raise RuntimeError("no")

    monkeypatch.setattr(touches, "fold_event", broken)
    acme = company_create(actor=personas.rep_a, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=personas.rep_a, title="First", stage=stages["won"], company=acme)
    dispatch_pending()
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert CustomerSummaryState.objects.get().rebuild_needed
    monkeypatch.undo()
    touches.ensure_current()
    assert CustomerAttribution.objects.filter(customer_id=acme.pk).exists()


def test_a_report_folds_an_undelivered_event_once(
    personas, stages, thirty_days, django_assert_max_num_queries
):
    acme = company_create(actor=personas.rep_a, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=personas.rep_a, title="First", stage=stages["won"], company=acme)
    touches.ensure_current()
    state = CustomerSummaryState.objects.get()
    assert state.folded_through == OutboxEvent.objects.order_by("pk").last().pk
    with django_assert_max_num_queries(3):  # the state, the organisation, the events
        touches.ensure_current()
    assert CustomerEpisode.objects.filter(customer_id=acme.pk).count() == 1


def test_a_merge_and_its_undo_are_folded_as_a_rebuild_would_make_them(
    personas, stages, thirty_days
):
    from wasl.imports.merge import contact_merge, merge_undo

    rep = personas.rep_a
    ali = contact_create(actor=rep, first_name="Ali", last_name="Rezai")
    twin = contact_create(actor=rep, first_name="Ali", last_name="Rezaee")
    with frozen(at(1, 10)):
        deal_create(actor=rep, title="Own", stage=stages["won"], contacts=[twin])
    call = activity_create(actor=rep, kind="email", subject="Mail", contact=twin, done_at=at(2, 1))
    attributions, _episodes = assert_as_rebuilt()
    contact = CustomerAttribution.CustomerKind.CONTACT
    assert (call.pk, None, contact, twin.pk, at(2, 1), "", None) in attributions
    entry = contact_merge(actor=rep, survivor=ali, others=[twin])
    attributions, _episodes = assert_as_rebuilt()
    assert (call.pk, None, contact, ali.pk, at(2, 1), "", None) in attributions
    merge_undo(actor=rep, audit_entry=entry)
    attributions, _episodes = assert_as_rebuilt()
    assert (call.pk, None, contact, twin.pk, at(2, 1), "", None) in attributions


def test_more_undelivered_events_than_a_report_folds_mean_a_rebuild(
    personas, stages, thirty_days, monkeypatch
):
    monkeypatch.setattr(touches, "FOLD_LIMIT", 1)
    rebuilds = []
    original = touches.rebuild
    monkeypatch.setattr(touches, "rebuild", lambda: (rebuilds.append(1), original()))
    acme = company_create(actor=personas.rep_a, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=personas.rep_a, title="First", stage=stages["won"], company=acme)
        deal_create(actor=personas.rep_a, title="Second", stage=stages["won"], company=acme)
    touches.ensure_current()
    assert rebuilds == [1]
    assert CustomerAttribution.objects.filter(customer_id=acme.pk).count() == 2
    assert_as_rebuilt()


def test_the_dispatcher_folds_a_backlog_of_events_in_one_pass(
    personas, stages, thirty_days, monkeypatch
):
    """A bulk of events (an import's) is folded by the first delivery; the deliveries of
    the others find the watermark past them and fold nothing."""
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        for n in range(6):
            deal_create(actor=rep, title=f"Deal {n}", stage=stages["won"], company=acme)
    for n in range(4):
        activity_create(
            actor=rep, kind="call", subject=f"Call {n}", company=acme, done_at=at(2, n + 1)
        )
    folds = []
    original = touches.fold
    monkeypatch.setattr(touches, "fold", lambda affected: (folds.append(1), original(affected)))
    dispatch_pending()
    assert len(folds) == 1
    assert CustomerAttribution.objects.filter(customer_id=acme.pk).count() == 10
    last = OutboxEvent.objects.order_by("pk").last().pk
    assert CustomerSummaryState.objects.get().folded_through == last
    assert_as_rebuilt()


def test_a_backlog_larger_than_a_delivery_batch_is_folded_a_batch_at_a_time(
    personas, stages, thirty_days, monkeypatch
):
    monkeypatch.setattr(touches, "DELIVERY_BATCH", 2)
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        for n in range(5):
            deal_create(actor=rep, title=f"Deal {n}", stage=stages["won"], company=acme)
    dispatch_pending()
    assert CustomerAttribution.objects.filter(customer_id=acme.pk).count() == 5
    assert_as_rebuilt()


def test_an_event_committed_late_with_a_lower_id_is_folded_when_it_appears(
    personas, stages, thirty_days
):
    """PostgreSQL hands out an event's id before its transaction commits: a later event
    can be seen first. The ids not seen are kept as holes, and an event filling one is
    folded when it appears."""
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    touches.ensure_current()
    with frozen(at(1, 10)):
        late = deal_create(actor=rep, title="Late", stage=stages["won"], company=acme)
    held = list(OutboxEvent.objects.filter(object_id=late.pk, name__startswith="deal."))
    assert held
    OutboxEvent.objects.filter(pk__in=[e.pk for e in held]).delete()  # not committed yet
    CustomerAttribution.objects.filter(deal_id=late.pk).delete()
    company_create(actor=rep, name="Beta")
    touches.ensure_current()
    state = CustomerSummaryState.objects.get()
    assert state.folded_through == OutboxEvent.objects.order_by("pk").last().pk
    assert {e.pk for e in held} <= {pk for pk, _seen in state.holes}
    assert not CustomerAttribution.objects.filter(deal_id=late.pk).exists()

    OutboxEvent.objects.bulk_create(held)  # the late transaction commits
    touches.ensure_current()
    assert CustomerAttribution.objects.filter(deal_id=late.pk).exists()
    assert not {e.pk for e in held} & {pk for pk, _s in CustomerSummaryState.objects.get().holes}
    assert_as_rebuilt()


def test_the_dispatcher_folds_an_event_that_fills_a_hole(personas, stages, thirty_days):
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        late = deal_create(actor=rep, title="Late", stage=stages["won"], company=acme)
    held = list(OutboxEvent.objects.filter(object_id=late.pk, name__startswith="deal."))
    OutboxEvent.objects.filter(pk__in=[e.pk for e in held]).delete()
    CustomerAttribution.objects.filter(deal_id=late.pk).delete()
    company_create(actor=rep, name="Beta")
    dispatch_pending()
    assert not CustomerAttribution.objects.filter(deal_id=late.pk).exists()
    OutboxEvent.objects.bulk_create(held)
    dispatch_pending()
    assert CustomerAttribution.objects.filter(deal_id=late.pk).exists()
    assert_as_rebuilt()


def test_a_hole_never_filled_is_forgotten_after_the_patience(personas, thirty_days):
    rep = personas.rep_a
    company_create(actor=rep, name="Acme")
    touches.ensure_current()
    company_create(actor=rep, name="Gone")
    gone = OutboxEvent.objects.order_by("pk").last().pk
    company_create(actor=rep, name="Kept")
    OutboxEvent.objects.filter(pk=gone).delete()  # a number never used
    touches.ensure_current()
    state = CustomerSummaryState.objects.get()
    assert gone in {pk for pk, _seen in state.holes}
    long_ago = (timezone.now() - touches.GAP_PATIENCE - dt.timedelta(minutes=1)).timestamp()
    CustomerSummaryState.objects.update(holes=[[pk, long_ago] for pk, _seen in state.holes])
    company_create(actor=rep, name="Later")
    touches.ensure_current()
    assert gone not in {pk for pk, _seen in CustomerSummaryState.objects.get().holes}


def test_the_migration_gives_every_deals_row_its_deals_owner_team_and_pipeline(
    personas, stages, thirty_days
):
    """Reports migration 0010 fills the new columns of the rows written before it."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wasl.reports.migrations.0010_purchase_scope")
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=rep, title="First", stage=stages["won"], company=acme)
        deal_create(actor=personas.rep_c, title="Other", stage=stages["open"], company=acme)
    touches.ensure_current()
    expected = deal_scopes()
    assert all(row[1] is not None for row in expected)
    CustomerAttribution.objects.update(owner_id=None, team_id=None, pipeline_id=None)
    # The step reads only the editor's connection (SQLite's editor cannot open in a test's
    # transaction).
    migration.copy_deal_scope(apps, SimpleNamespace(connection=connection))
    assert deal_scopes() == expected
    assert not CustomerAttribution.objects.filter(activity__isnull=False, owner_id__isnull=False)


def test_the_migration_gives_every_open_deals_row_its_expected_close(personas, stages, thirty_days):
    """Reports migration 0011 fills the open deals' expected close on the rows written
    before it, and leaves the won deals' and the activities' empty."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wasl.reports.migrations.0011_open_due")
    rep = personas.rep_a
    acme = company_create(actor=rep, name="Acme")
    with frozen(at(1, 10)):
        deal_create(actor=rep, title="First", stage=stages["won"], company=acme)
        due = deal_create(actor=rep, title="Due", stage=stages["open"], company=acme)
    deal_update(actor=rep, deal=due, expected_close=dt.date(2026, 2, 1))
    activity_complete(
        actor=rep, activity=activity_create(actor=rep, kind="call", subject="Call", company=acme)
    )
    touches.ensure_current()
    expected = deal_scopes()
    assert [row[4] for row in expected].count(dt.date(2026, 2, 1)) == 1
    CustomerAttribution.objects.update(open_due=None)
    migration.copy_open_due(apps, SimpleNamespace(connection=connection))
    assert deal_scopes() == expected
    assert not CustomerAttribution.objects.filter(activity__isnull=False, open_due__isnull=False)


def test_the_migration_gives_every_deals_row_its_customers_owner_and_team(
    personas, stages, thirty_days
):
    """Reports migration 0013 fills the customer's owner and team on the deals' rows
    written before it, a company's and a contact's, and leaves the activities' empty."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wasl.reports.migrations.0013_customer_scope")
    acme = company_create(actor=personas.rep_b, name="Acme")
    solo = contact_create(actor=personas.rep_c, first_name="Ali", last_name="Tanha")
    with frozen(at(1, 10)):
        deal_create(actor=personas.rep_a, title="First", stage=stages["won"], company=acme)
        deal_create(actor=personas.rep_a, title="Own", stage=stages["open"], contacts=[solo])
    activity_complete(
        actor=personas.rep_b,
        activity=activity_create(actor=personas.rep_b, kind="call", subject="Call", company=acme),
    )
    touches.ensure_current()
    expected = deal_scopes()
    assert {row[5:] for row in expected} == {
        (personas.rep_b.pk, personas.rep_b.team_id),
        (personas.rep_c.pk, personas.rep_c.team_id),
    }
    CustomerAttribution.objects.update(customer_owner_id=None, customer_team_id=None)
    migration.copy_customer_scope(apps, SimpleNamespace(connection=connection))
    assert deal_scopes() == expected
    assert not CustomerAttribution.objects.filter(
        activity__isnull=False, customer_owner_id__isnull=False
    )
