"""Each buying customer's totals kept with the customer summary (CustomerTotals): the
lifetime value and the customers at risk an administrator reads from them equal those
summed from the purchases and probed from the activities, after new sales, changed rates
and a changed time zone; a purchase or an activity after the period's end sends the report
back to the touches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from wasl.accounts.services import organisation_update
from wasl.contacts.models import Company, Contact
from wasl.contacts.services import company_update, contact_update
from wasl.reports import customers, touches
from wasl.reports.filters import parse_filters
from wasl.reports.models import ExchangeRate
from wasl.reports.money import delete_rate, set_rate
from wasl.reports.tests.test_customers import (  # noqa: F401 (fixtures)
    book,
    build,
    esfand_farvardin,
    stages,
    tehran,
    utc,
    values,
    won,
)


@pytest.fixture
def shop(book):  # noqa: F811
    """The customer reports' book (see test_customers)."""
    return book


@pytest.fixture
def kinds_of_stage(stages):  # noqa: F811
    return stages


@pytest.fixture
def read_from(monkeypatch) -> list[str]:
    """Each lifetime value read from the summary's revenue rows, as "revenue rows"."""
    ways: list[str] = []
    decide = customers.every_customer_read

    def spied(filters: Any) -> bool:
        chosen = decide(filters)
        if chosen:
            ways.append("revenue rows")
        return chosen

    monkeypatch.setattr(customers, "every_customer_read", spied)
    return ways


def summed_from_purchases(monkeypatch, user: Any, filters: Any) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(customers, "every_customer_read", lambda _filters: False)
        return build("lifetime-value", user, filters)


def as_compared(report: Any) -> tuple[Any, ...]:
    return (
        [(f.key, f.value) for f in report.figures],
        [(t.key, t.rows) for t in report.tables],
        report.warnings,
    )


def test_the_totals_rows_give_the_lifetime_value_the_purchases_give(
    shop, kinds_of_stage, read_from, monkeypatch
):
    # Tags make segments of their own: Alborz has two, Sara one, the others none.
    company_update(
        actor=shop.admin, company=Company.objects.get(name="Alborz"), tags=["VIP", "B2B"]
    )
    contact_update(actor=shop.admin, contact=Contact.objects.get(first_name="Sara"), tags=["VIP"])
    filters = esfand_farvardin(shop.admin)
    report = build("lifetime-value", shop.admin, filters)
    assert read_from == ["revenue rows"]
    assert values(report)["revenue"] == Decimal("123100.00")
    by_tag = {row["segment"]: row["customers"] for row in report.table("by-tag").rows}
    assert by_tag == {"VIP": 2, "B2B": 1, "(no tag)": 4}
    assert as_compared(report) == as_compared(
        summed_from_purchases(monkeypatch, shop.admin, filters)
    )
    # A rep's, or a filtered, lifetime value is summed from the purchases in their scope.
    build("lifetime-value", shop.rep_a, esfand_farvardin(shop.rep_a))
    build(
        "lifetime-value", shop.admin, esfand_farvardin(shop.admin, owner=str(shop.rep_a.public_id))
    )
    assert read_from == ["revenue rows"]


def test_a_purchase_after_the_periods_end_sends_the_report_to_the_purchases(
    shop, kinds_of_stage, read_from
):
    alborz = Company.objects.get(name="Alborz")
    won(shop.rep_a, kinds_of_stage, utc(2026, 5, 10), "9999", company=alborz)
    report = build("lifetime-value", shop.admin, esfand_farvardin(shop.admin))
    assert read_from == []
    assert (values(report)["revenue"], values(report)["won_deals"]) == (Decimal("123100.00"), 8)
    spring = parse_filters(
        shop.admin,
        {"period": "custom", "start": "2026-02-20", "end": "2026-05-31"},
        today=dt.date(2026, 6, 1),
    )
    report = build("lifetime-value", shop.admin, spring)
    assert read_from == ["revenue rows"]
    assert (values(report)["revenue"], values(report)["won_deals"]) == (Decimal("133099.00"), 9)


def test_new_sales_and_changed_rates_show_at_the_next_read(
    shop, kinds_of_stage, read_from, monkeypatch
):
    filters = esfand_farvardin(shop.admin)
    assert values(build("lifetime-value", shop.admin, filters))["revenue"] == Decimal("123100.00")
    sara = Contact.objects.get(first_name="Sara")
    # 10 USD on 1 April, at that day's rate (1200).
    won(shop.rep_a, kinds_of_stage, utc(2026, 4, 1), "10", contacts=[sara], currency="USD")
    assert values(build("lifetime-value", shop.admin, filters))["revenue"] == Decimal("135100.00")

    # The rate from 15 March is changed: Behsaz 100 × 1300 + 200, Sara 300 + 10 × 1300.
    set_rate(actor=shop.admin, currency="USD", rate_date=dt.date(2026, 3, 15), rate="1300")
    report = build("lifetime-value", shop.admin, filters)
    assert values(report)["revenue"] == Decimal("146100.00")
    assert as_compared(report) == as_compared(
        summed_from_purchases(monkeypatch, shop.admin, filters)
    )

    # ... then deleted: every USD deal at the rate of 1 January (1000).
    delete_rate(actor=shop.admin, rate=ExchangeRate.objects.get(rate_date=dt.date(2026, 3, 15)))
    assert values(build("lifetime-value", shop.admin, filters))["revenue"] == Decimal("113100.00")

    # EUR gets a rate: Caspian's 50 EUR count, and the warning goes.
    set_rate(actor=shop.admin, currency="EUR", rate_date=dt.date(2026, 1, 1), rate="1500")
    report = build("lifetime-value", shop.admin, filters)
    assert values(report)["revenue"] == Decimal("188100.00")
    assert report.warnings == []
    assert read_from == ["revenue rows"] * 5


def test_a_new_time_zone_converts_the_revenue_again(shop, monkeypatch):
    filters = esfand_farvardin(shop.admin)
    build("lifetime-value", shop.admin, filters)
    before = touches.money_basis()
    # In UTC, Behsaz's USD deal of 20 March 20:00 falls on 20 March, still after the rate
    # of 15 March; the figures stay and are read from rows converted again.
    organisation_update(actor=None, time_zone="UTC")
    assert touches.money_basis() != before
    filters = esfand_farvardin(shop.admin)
    report = build("lifetime-value", shop.admin, filters)
    assert values(report)["revenue"] == Decimal("123100.00")
    assert as_compared(report) == as_compared(
        summed_from_purchases(monkeypatch, shop.admin, filters)
    )


def test_the_deals_without_a_rate_are_kept_by_currency():
    text = touches.unconverted_text({"USD": 3, "EUR": 1})
    assert text == "EUR:1 USD:3"
    assert touches.unconverted_counts(text) == {"EUR": 1, "USD": 3}
    assert touches.unconverted_text({}) == "" and touches.unconverted_counts("") == {}


def test_the_totals_give_the_customers_at_risk_the_probes_give(shop, monkeypatch):
    """An administrator's buyers and last activities, and anyone else's last activities,
    come from the totals; probed from the summary's activities they are the same."""
    for user in (shop.admin, shop.manager_a, shop.rep_a, shop.rep_b):
        filters = esfand_farvardin(user)
        read = build("at-risk", user, filters)
        with monkeypatch.context() as patched:
            patched.setattr(touches, "totals_ready", lambda *_args, **_kwargs: False)
            probed = build("at-risk", user, filters)
        assert as_compared(read) == as_compared(probed), user.username
        assert values(read)["quiet"], user.username
    assert values(build("at-risk", shop.admin, esfand_farvardin(shop.admin)))["quiet"] == 4


def test_the_totals_give_a_viewers_buyers_the_last_activity_their_probes_give(shop):
    """PostgreSQL joins a rep's or a manager's buyers to their totals for their last
    activity; both readings are compared here on any database."""
    until = utc(2026, 4, 20)
    assert touches.totals_ready(until, activities=True)
    for user in (shop.manager_a, shop.rep_a, shop.rep_b):
        customers = touches.buyers(customers_scope(user), until, user)
        probed = moments(touches.last_activity(customers, until))
        joined = moments(touches.last_activity_from_totals(customers))
        assert probed == joined, user.username
        assert any(row[-1] is not None for row in probed), user.username


def moments(statement: Any) -> list[tuple[Any, ...]]:
    """The rows, their times read alike (SQLite gives each column's text as stored)."""
    rows = touches.fetch(statement)
    return sorted((kind, pk, *map(touches.moment_of, rest)) for kind, pk, *rest in rows)


def customers_scope(user: Any) -> Any:
    return customers.purchase_scope(user, esfand_farvardin(user))


def test_an_activity_after_the_periods_end_leaves_the_totals_aside(shop, monkeypatch):
    from wasl.reports.tests.test_activity import log

    behsaz = Company.objects.get(name="Behsaz")
    # Behsaz's call on 1 May is after the period: it stays quiet in Esfand–Farvardin.
    log(shop.rep_a, "call", utc(2026, 5, 1), company=behsaz)
    used: list[tuple[bool, bool]] = []
    ready = touches.totals_ready

    def spied(until: Any, **options: Any) -> bool:
        found = ready(until, **options)
        used.append((options.get("activities", False), found))
        return found

    monkeypatch.setattr(touches, "totals_ready", spied)
    report = build("at-risk", shop.admin, esfand_farvardin(shop.admin))
    # The last activities are probed; the buyers still come from the totals.
    assert used == [(True, False), (False, True)]
    rows = {row["customer"]: row for row in report.table("customers").rows}
    assert rows["Behsaz"]["quiet"] is True
    assert values(report)["quiet"] == 4


def test_one_pass_over_the_episodes_gives_the_flags_the_probes_give(shop):
    """PostgreSQL reads every customer's in-touch flags in one pass over the episodes;
    both readings are compared here on any database."""
    moments = [utc(2026, 2, 1), utc(2026, 2, 20), utc(2026, 3, 21), utc(2026, 4, 20)]
    until = moments[-1]
    customers = touches.buyers(None, until)

    def read(statement: Any) -> dict[Any, tuple[Any, ...]]:
        rows = touches.fetch(statement)
        return {(row[0], row[1]): row for row in rows}

    probed = read(touches.in_touch(customers, moments))
    scanned = read(touches._in_touch_by_scan(customers, moments, _bits(moments), None))
    assert probed == scanned
    assert any(row[3] for row in probed.values())  # some customer is in touch somewhere

    probed = read(touches.in_touch(customers, moments, last_end_before=until))
    scanned = read(touches._in_touch_by_scan(customers, moments, _bits(moments), until))
    in_touch_first = [key for key, row in probed.items() if row[3] % 2]
    assert in_touch_first
    for key in in_touch_first:
        assert probed[key] == scanned[key]


def _bits(moments: list[Any]) -> str:
    return ", ".join(f'("mask" / {1 << i}) %% 2 AS "t{i}"' for i in range(len(moments)))


def test_each_purchase_is_converted_once_at_its_days_rate_and_again_when_rates_change(
    shop, kinds_of_stage, monkeypatch
):
    """A purchase's value in the organisation's currency is its own amount at its day's
    rate, rounded to the cent as `RateTable.convert` rounds (half to even), whatever
    other purchases its customer has; the lifetime value and the KPIs add those values.
    A changed rate converts every purchase again before the next read."""
    from wasl.reports.models import CustomerAttribution

    def revenue_of(name: str) -> Decimal:
        report = build("lifetime-value", shop.rep_a, esfand_farvardin(shop.rep_a))
        return {row["customer"]: row["revenue"] for row in report.table("top").rows}[name]

    set_rate(actor=shop.admin, currency="USD", rate_date=dt.date(2026, 4, 2), rate="1000.5")
    sara = Contact.objects.get(first_name="Sara")
    cents = [
        won(shop.rep_a, kinds_of_stage, utc(2026, 4, 3), "0.01", contacts=[sara], currency="USD")
        for _n in range(2)
    ]
    touches.ensure_converted()

    def values_of() -> list[int]:
        rows = CustomerAttribution.objects.filter(deal__in=cents)
        return list(rows.values_list("value_cents", flat=True))

    # 0.01 × 1000.5 = 10.005, to the cent 10.00 (half to even): 1,000 cents each, where
    # the sum's conversion (0.02 × 1000.5 = 20.01) would have given one more.
    assert values_of() == [1000, 1000]
    assert revenue_of("Sara Karimi") == Decimal("320.00")  # 300 IRR + 2 × 10.00
    admin = esfand_farvardin(shop.admin)
    assert as_compared(build("lifetime-value", shop.admin, admin)) == as_compared(
        summed_from_purchases(monkeypatch, shop.admin, admin)
    )

    set_rate(actor=shop.admin, currency="USD", rate_date=dt.date(2026, 4, 2), rate="1500")
    assert revenue_of("Sara Karimi") == Decimal("330.00")
    assert values_of() == [1500, 1500]

    # USD loses every rate: its purchases are converted to nothing and counted apart.
    for rate in ExchangeRate.objects.filter(currency="USD"):
        delete_rate(actor=shop.admin, rate=rate)
    assert revenue_of("Sara Karimi") == Decimal("300.00")
    assert values_of() == [None, None]


def test_the_migration_has_the_next_read_convert_every_purchase(shop):
    """Reports migration 0012 adds `value_cents` empty and forgets the money basis: the
    next read converts every purchase and the figures are as before."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from wasl.reports.models import CustomerAttribution

    migration = importlib.import_module("wasl.reports.migrations.0012_purchase_value")
    filters = esfand_farvardin(shop.manager_a)
    before = as_compared(build("lifetime-value", shop.manager_a, filters))
    converted = sorted(
        CustomerAttribution.objects.filter(deal__isnull=False).values_list(
            "deal_id", "value_cents"
        ),
        key=repr,
    )
    assert any(value for _deal, value in converted)
    CustomerAttribution.objects.update(value_cents=None)
    migration.convert_at_the_next_read(apps, SimpleNamespace(connection=connection))
    assert as_compared(build("lifetime-value", shop.manager_a, filters)) == before
    assert (
        sorted(
            CustomerAttribution.objects.filter(deal__isnull=False).values_list(
                "deal_id", "value_cents"
            ),
            key=repr,
        )
        == converted
    )


def test_a_deal_worth_too_much_to_add_up_is_left_out_with_its_own_warning(
    shop, kinds_of_stage, monkeypatch
):
    """A won deal may be worth up to 10^18 in its currency, more than the summary's
    64-bit cents hold. One over MAX_VALUE_CENTS (in the organisation's currency, or in
    another at its rate) is left out of the amounts and named as too large, not as
    without a rate; every customer report still answers, for every viewer."""
    from wasl.reports import registry

    sara = Contact.objects.get(first_name="Sara")
    admin = esfand_farvardin(shop.admin)
    earlier = build("lifetime-value", shop.admin, admin)
    # The book's deal in EUR has no rate, and says so beside the deals too large.
    assert earlier.warnings == [
        "1 deal in EUR has no exchange rate and is left out of the amounts."
    ]
    before = values(earlier)
    set_rate(actor=shop.admin, currency="USD", rate_date=dt.date(2026, 4, 2), rate="1500")
    won(shop.rep_a, kinds_of_stage, utc(2026, 4, 3), "900000000000000000", contacts=[sara])
    # 10^11 USD is 1.5 × 10^14 IRR at 1,500: over the limit only once converted.
    won(
        shop.rep_a,
        kinds_of_stage,
        utc(2026, 4, 3),
        "100000000000",
        contacts=[sara],
        currency="USD",
    )
    # At the limit exactly, a deal still adds up.
    won(shop.rep_a, kinds_of_stage, utc(2026, 4, 4), "100000000000000", contacts=[sara])
    too_large = [
        "1 deal in IRR is worth too much to add up and is left out of the amounts.",
        "1 deal in USD is worth too much to add up and is left out of the amounts.",
    ]
    report = build("lifetime-value", shop.admin, admin)
    assert report.warnings == [*earlier.warnings, *too_large]
    assert values(report)["revenue"] == before["revenue"] + Decimal("100000000000000")
    assert values(report)["won_deals"] == before["won_deals"] + 3
    assert as_compared(report) == as_compared(summed_from_purchases(monkeypatch, shop.admin, admin))
    for user in (shop.admin, shop.manager_a, shop.rep_a):
        filters = esfand_farvardin(user)
        for key in ("retention", "churn", "lifetime-value", "at-risk", "kpis"):
            registry.get(key).build(user, filters)


def test_a_changed_rate_is_converted_in_the_background_before_the_next_report(
    shop, kinds_of_stage, monkeypatch
):
    """Setting or deleting a rate emits an event; its delivery converts every purchase
    and rebuilds the totals, so the next report finds them current and converts
    nothing. Before the delivery, a report still converts first."""
    from wasl.core.events import dispatch_pending
    from wasl.core.models import OutboxEvent
    from wasl.reports.models import CustomerAttribution, CustomerSummaryState

    sara = Contact.objects.get(first_name="Sara")
    sold = won(shop.rep_a, kinds_of_stage, utc(2026, 4, 3), "2", contacts=[sara], currency="USD")
    build("lifetime-value", shop.admin, esfand_farvardin(shop.admin))
    dispatch_pending()

    def value() -> int | None:
        return CustomerAttribution.objects.get(deal=sold).value_cents

    def basis_current() -> bool:
        return CustomerSummaryState.objects.get().money_basis == touches.money_basis()

    rate = set_rate(actor=shop.admin, currency="USD", rate_date=dt.date(2026, 4, 2), rate="700")
    event = OutboxEvent.objects.filter(name="exchange_rate.changed").latest("pk")
    assert event.object_id == rate.pk and event.data["currency"] == "USD"
    assert not basis_current()
    dispatch_pending()
    assert basis_current() and value() == 140_000

    def no_conversion(*_args: Any) -> None:
        raise AssertionError("the report converted again")

    with monkeypatch.context() as patched:
        patched.setattr(touches, "convert_purchases", no_conversion)
        report = build("lifetime-value", shop.admin, esfand_farvardin(shop.admin))
    assert {row["customer"]: row["revenue"] for row in report.table("top").rows}[
        "Sara Karimi"
    ] == Decimal("1700.00")  # 300 IRR + 2 USD × 700

    rate_id = rate.pk
    delete_rate(actor=shop.admin, rate=rate)
    assert OutboxEvent.objects.filter(name="exchange_rate.deleted", object_id=rate_id).exists()
    dispatch_pending()
    # The book's earlier USD rate (1,200) applies again.
    assert basis_current() and value() == 240_000
