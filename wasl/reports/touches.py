"""The customer summary: each customer's touches (done activities but notes, won deals) and
the episodes they were in touch, so the customer reports read a few hundred thousand
index entries instead of joining millions of activities on every request.

Touches belong to customers as in `wasl.reports.customers`: a deal to its company, else to
the primary company of its first contact, else to that contact; an activity to its
company, else its contact's primary company, else its deal's company, else its contact.
A touch at x keeps its customer in touch during (x, x + N days], N being the
organisation's churn days; the union of those stretches are the customer's episodes.

The summary is derived data and stays correct after writes: every write announces itself
in the outbox in its own transaction; the dispatcher hands each event to `fold_event`
(wasl/reports/listeners.py), and `ensure_current` folds the events not delivered yet
before a report reads, so a report never misses a committed change. An undone import
(which removes records without an event each) or a change of the churn days asks for a
full rebuild, done by the next report or `wasl rebuild_customer_summary`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Round
from django.utils import timezone

from wasl.accounts.selectors import organisation_get
from wasl.activities.models import Activity
from wasl.contacts.models import Company, Contact
from wasl.core.models import OutboxEvent
from wasl.core.visibility import is_admin, visible_q
from wasl.deals.models import Deal, Stage
from wasl.reports.filters import zone_named
from wasl.reports.models import (
    CustomerAttribution,
    CustomerEpisode,
    CustomerSummaryState,
    CustomerTotals,
    ExchangeRate,
)
from wasl.reports.money import TOO_LARGE, RateTable

COMPANY = CustomerAttribution.CustomerKind.COMPANY.value
CONTACT = CustomerAttribution.CustomerKind.CONTACT.value
TOUCH_KINDS = (
    Activity.Kind.CALL,
    Activity.Kind.MEETING,
    Activity.Kind.TASK,
    Activity.Kind.EMAIL,
    Activity.Kind.SMS,
)
Customer = tuple[str, int]
_CHUNK = 500
# A purchase converts to at most this many cents, 10^14 in the organisation's currency.
# A deal may be worth up to 10^18 in its own currency at a rate of up to 10^15, but the
# values and their sums are 64-bit integers in both databases: a larger purchase is left
# out of the amounts and named in the warnings as too large (see `left_out_key`).
MAX_VALUE_CENTS = 10**16
# Above this many events not folded a report rebuilds the whole summary rather than
# folding them.
FOLD_LIMIT = 20_000
# A delivery folds at most this many waiting events (a large import's in batches).
DELIVERY_BATCH = 5_000
# A hole in the outbox's ids (see CustomerSummaryState.holes) still empty after this long
# is a number never used, not a transaction yet to commit; ids missing further than
# HOLE_REACH below the newest event are taken for never used at once.
GAP_PATIENCE = dt.timedelta(minutes=10)
HOLE_REACH = 50_000
# The events that can change a touch, an attribution or an episode.
PREFIXES = (
    "activity.",
    "deal.",
    "contact.",
    "company.",
    "lead.converted",
    "import.undone",
    "records.reassigned",
)


def churn_days() -> int:
    return int(getattr(organisation_get(), "churn_after_days", 90) or 90)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(values))
    for index in range(0, len(ordered), _CHUNK):
        yield ordered[index : index + _CHUNK]


# ---------------------------------------------------------------- attributions


def _activity_rows_sql(where: str) -> str:
    """(activity id, customer kind, customer id, touched at) of the done activities but
    notes: their company, else their contact's primary company, else their deal's company,
    else their contact."""
    activity, contact, deal = _table(Activity), _table(Contact), _table(Deal)
    company = 'COALESCE(a."company_id", c."primary_company_id", d."company_id")'
    kinds = ", ".join(f"'{kind}'" for kind in TOUCH_KINDS)
    return f"""
        SELECT a."id",
               CASE WHEN {company} IS NOT NULL THEN '{COMPANY}' ELSE '{CONTACT}' END,
               COALESCE({company}, a."contact_id"), a."done_at"
        FROM {activity} a
        LEFT JOIN {contact} c ON c."id" = a."contact_id"
        LEFT JOIN {deal} d ON d."id" = a."deal_id"
        WHERE a."done_at" IS NOT NULL AND a."kind" IN ({kinds})
          AND COALESCE({company}, a."contact_id") IS NOT NULL {where}
    """  # noqa: S608 (table names and constants only)


def _deal_rows_sql(where: str) -> str:
    """(deal id, customer kind, customer id, touched at, currency, amount, owner, team,
    pipeline, open due, customer's owner, customer's team) of the deals: their company,
    else the primary company of their first contact, else that contact; a touch at the
    close when won; the expected close while open."""
    deal, stage, contact = _table(Deal), _table(Stage), _table(Contact)
    company = _table(Company)
    links = _table(Deal.contacts.through)
    first = f'(SELECT MIN(dc."contact_id") FROM {links} dc WHERE dc."deal_id" = d."id")'  # noqa: S608
    return f"""
        SELECT x."id",
               CASE WHEN x."company" IS NOT NULL THEN '{COMPANY}' ELSE '{CONTACT}' END,
               COALESCE(x."company", x."first"),
               CASE WHEN x."kind" = '{Stage.Kind.WON}' THEN x."closed_at" END,
               x."currency", x."amount", x."owner_id", x."team_id", x."pipeline_id",
               CASE WHEN x."kind" = '{Stage.Kind.OPEN}' THEN x."expected_close" END,
               CASE WHEN x."company" IS NOT NULL THEN co."owner_id" ELSE ct."owner_id" END,
               CASE WHEN x."company" IS NOT NULL THEN co."team_id" ELSE ct."team_id" END
        FROM (
            SELECT d."id", d."closed_at", d."currency", d."amount", d."owner_id", d."team_id",
                   d."pipeline_id", d."expected_close", s."kind", {first} AS "first",
                   COALESCE(d."company_id", (SELECT c."primary_company_id" FROM {contact} c
                                            WHERE c."id" = {first})) AS "company"
            FROM {deal} d JOIN {stage} s ON s."id" = d."stage_id"
            WHERE 1 = 1 {where}
        ) x
        LEFT JOIN {company} co ON co."id" = x."company"
        LEFT JOIN {contact} ct ON x."company" IS NULL AND ct."id" = x."first"
        WHERE COALESCE(x."company", x."first") IS NOT NULL
    """  # noqa: S608 (table names and constants only)


def _insert_rows(column: str, select_sql: str, params: list[Any]) -> None:
    table = _table(CustomerAttribution)
    deal_only = (
        ', "currency", "amount", "owner_id", "team_id", "pipeline_id", "open_due", '
        '"customer_owner_id", "customer_team_id"'
        if column == "deal_id"
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} ("{column}", "customer_kind", "customer_id", "touched_at"'
            f"{deal_only}) " + select_sql,
            params,
        )


def _customers_of(rows: QuerySet[CustomerAttribution]) -> set[Customer]:
    return {(kind, pk) for kind, pk in rows.values_list("customer_kind", "customer_id")}


def refresh_attributions(activity_ids: Iterable[int], deal_ids: Iterable[int]) -> set[Customer]:
    """Write again the rows of these activities and deals (gone, moved, no longer a touch,
    or new); returns the customers whose rows changed, before and after."""
    customers: set[Customer] = set()
    for column, ids, build, alias in (
        ("activity_id", activity_ids, _activity_rows_sql, "a"),
        ("deal_id", deal_ids, _deal_rows_sql, "d"),
    ):
        for chunk in _chunks(ids):
            rows = CustomerAttribution.objects.filter(**{f"{column}__in": chunk})
            customers |= _customers_of(rows)
            rows.delete()
            _insert_rows(column, build(f'AND {alias}."id" IN ({_marks(chunk)})'), chunk)
            if column == "deal_id":
                convert_purchases(chunk)
            customers |= _customers_of(rows)
    return customers


def refresh_customer_owners(kind: str, ids: Iterable[int]) -> None:
    """Copy the owner and team of these companies or contacts (`kind`) to their deals'
    rows again, after the customers were given to another owner."""
    table = _table(CustomerAttribution)
    customers = _table(Company if kind == COMPANY else Contact)
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            cursor.execute(
                f'UPDATE {table} SET ("customer_owner_id", "customer_team_id") = '  # noqa: S608 (table names)
                f'(SELECT c."owner_id", c."team_id" FROM {customers} c '
                f'WHERE c."id" = {table}."customer_id") '
                f'WHERE "deal_id" IS NOT NULL AND "customer_kind" = %s '
                f'AND "customer_id" IN ({_marks(chunk)})',
                [kind, *chunk],
            )


def seen_customers(viewer: Any) -> Q | None:
    """The summary's deal rows whose customer `viewer` may see: the visibility rule for
    companies and contacts (`visible_q`, shares included) as a condition on the
    customer's owner and team the rows carry. None for an administrator (or no viewer)."""
    if viewer is None or is_admin(viewer):
        return None
    either = Q()
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        rule = visible_q(
            viewer,
            model,
            owner_field="customer_owner_id",
            team_field="customer_team_id",
            pk_field="customer_id",
        )
        either |= Q(customer_kind=kind) & (rule if rule is not None else Q())
    return either


def convert_purchases(deal_ids: list[int] | None = None) -> None:
    """Write each purchase's `value_cents` (of these deals, or of every deal): its amount
    in the organisation's currency, in cents, at the rate of its local close day, as
    `RateTable.convert` rounds it; none without a rate. The organisation's own currency
    is converted by the database (its amount times 100, exact for two decimals), any
    other one with a rate in Python, then written back by id. A value over
    MAX_VALUE_CENTS is left empty too."""
    organisation = organisation_get()
    rates = RateTable.load(organisation.currency)
    purchases = CustomerAttribution.objects.filter(deal__isnull=False, touched_at__isnull=False)
    if deal_ids is not None:
        purchases = purchases.filter(deal_id__in=deal_ids)
    own = purchases.filter(currency=organisation.currency)
    own.update(
        value_cents=Case(
            When(
                amount__lte=MAX_VALUE_CENTS // 100,
                then=Cast(Round(F("amount") * 100), BigIntegerField()),
            ),
            default=Value(None, output_field=BigIntegerField()),
        )
    )
    # Rows written just now are empty already; a reconversion empties the others.
    purchases.exclude(currency=organisation.currency).filter(value_cents__isnull=False).update(
        value_cents=None
    )
    tz = zone_named(organisation.time_zone)
    converted: list[tuple[int, int]] = []
    foreign = purchases.filter(currency__in=rates.currencies()).exclude(
        currency=organisation.currency
    )
    for pk, currency, amount, touched_at in foreign.values_list(
        "pk", "currency", "amount", "touched_at"
    ):
        value = rates.convert(amount, currency, touched_at.astimezone(tz).date())
        if value is not None and value * 100 <= MAX_VALUE_CENTS:
            converted.append((pk, int(value * 100)))
    _write_values(converted)


def _write_values(values: list[tuple[int, int]]) -> None:
    """Set `value_cents` of the rows by id, 500 to a statement."""
    table = _table(CustomerAttribution)
    with connection.cursor() as cursor:
        for index in range(0, len(values), 500):
            chunk = values[index : index + 500]
            pairs = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS BIGINT))"] * len(chunk))
            cursor.execute(
                f'WITH v("id", "cents") AS (VALUES {pairs}) '  # noqa: S608 (a table name)
                f'UPDATE {table} SET "value_cents" = v."cents" FROM v WHERE {table}."id" = v."id"',
                [value for pair in chunk for value in pair],
            )


# ---------------------------------------------------------------- episodes


def episodes_of(moments: Iterable[dt.datetime], days: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """(starts_at, ends_at) of the episodes of one customer's touch moments."""
    window = dt.timedelta(days=days)
    found: list[tuple[dt.datetime, dt.datetime]] = []
    start = last = None
    for moment in sorted(moments):
        if last is not None and moment - last <= window:
            last = moment
            continue
        if start is not None and last is not None:
            found.append((start, last + window))
        start = last = moment
    if start is not None and last is not None:
        found.append((start, last + window))
    return found


def _write_episodes(rows: list[CustomerEpisode]) -> None:
    CustomerEpisode.objects.bulk_create(rows, batch_size=2000)


def refresh_episodes(customers: Iterable[Customer], days: int) -> None:
    """Build again the episodes of these customers from their touches, each marked with
    whether its customer has bought (a touch that is a deal's is a purchase)."""
    by_kind: dict[str, list[int]] = {COMPANY: [], CONTACT: []}
    for kind, pk in customers:
        by_kind[kind].append(pk)
    for kind, ids in by_kind.items():
        for chunk in _chunks(ids):
            CustomerEpisode.objects.filter(customer_kind=kind, customer_id__in=chunk).delete()
            moments: dict[int, list[dt.datetime]] = {}
            buyers: set[int] = set()
            for pk, at, deal_id in CustomerAttribution.objects.filter(
                customer_kind=kind, customer_id__in=chunk, touched_at__isnull=False
            ).values_list("customer_id", "touched_at", "deal_id"):
                moments.setdefault(pk, []).append(at)
                if deal_id is not None:
                    buyers.add(pk)
            _write_episodes(
                [
                    CustomerEpisode(
                        customer_kind=kind,
                        customer_id=pk,
                        starts_at=start,
                        ends_at=end,
                        buyer=pk in buyers,
                    )
                    for pk, found in moments.items()
                    for start, end in episodes_of(found, days)
                ]
            )


def _rebuild_episodes(days: int) -> None:
    """All the episodes, from one walk over the touches in customer and time order (raw
    cursors: at 1.5 million touches the ORM's conversions cost most of the time). A
    customer's episodes wait until its last touch is read, which says whether it bought."""
    CustomerEpisode.objects.all().delete()
    window = dt.timedelta(days=days)
    insert = (
        f"INSERT INTO {_table(CustomerEpisode)} "  # noqa: S608 (a table name)
        '("customer_kind", "customer_id", "starts_at", "ends_at", "buyer") '
        "VALUES (%s, %s, %s, %s, %s)"
    )
    touched = (
        CustomerAttribution.objects.filter(touched_at__isnull=False)
        .order_by("customer_kind", "customer_id", "touched_at")
        .values_list("customer_kind", "customer_id", "touched_at", "deal_id")
    )
    sql, params = touched.query.sql_with_params()
    batch: list[tuple[Any, ...]] = []
    current: Customer | None = None
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    bought = False
    start = last = dt.datetime.min

    def close_customer() -> None:
        if current is None:
            return
        spans.append((start, last + window))
        batch.extend((*current, param(low), param(high), bought) for low, high in spans)
        spans.clear()

    with connection.cursor() as reader, connection.cursor() as writer:
        reader.execute(sql, params)
        while rows := reader.fetchmany(20_000):
            for kind, pk, raw, deal_id in rows:
                moment = moment_of(raw)
                assert moment is not None
                if current == (kind, pk):
                    bought = bought or deal_id is not None
                    if moment - last > window:
                        spans.append((start, last + window))
                        start = moment
                    last = moment
                    continue
                close_customer()
                current, start, last = (kind, pk), moment, moment
                bought = deal_id is not None
            if len(batch) >= 20_000:
                writer.executemany(insert, batch)
                batch = []
        close_customer()
        if batch:
            writer.executemany(insert, batch)


# ---------------------------------------------------------------- customer totals


def money_basis() -> str:
    """What converted amounts depend on: the organisation's currency and time zone (a
    deal's day is its local day) and the exchange rates (their number and last change:
    an edit or an addition moves the last change, a deletion the number)."""
    organisation = organisation_get()
    rates = ExchangeRate.objects.aggregate(n=Count("pk"), changed=Max("updated_at"))
    changed = rates["changed"].isoformat() if rates["changed"] else "-"
    return f"{organisation.currency}|{organisation.time_zone}|{rates['n']}|{changed}"


def _totals_rows(kind: str | None, ids: list[int] | None) -> list[tuple[Any, ...]]:
    """The CustomerTotals rows of these customers (every buying customer when `kind` is
    None): their purchases' converted cents summed by currency (so the deals of a
    currency without a rate are counted by it), and their last done activity, one probe
    of the activities index a buyer. Times go back as the cursor gave them (SQLite's
    text in its own format, PostgreSQL's datetimes), which compare in time order either
    way: converting 170,000 of them cost more than the reads at L."""
    purchases = CustomerAttribution.objects.filter(deal__isnull=False, touched_at__isnull=False)
    if kind is not None:
        purchases = purchases.filter(customer_kind=kind, customer_id__in=ids)
    grouped = (
        purchases.order_by()
        .values("customer_kind", "customer_id", "currency")
        .annotate(
            cents=Sum("value_cents"),
            n=Count("pk"),
            converted=Count("value_cents"),
            first=Min("touched_at"),
            last=Max("touched_at"),
        )
        .values_list(
            "customer_kind", "customer_id", "currency", "cents", "n", "converted", "first", "last"
        )
    )
    # customer: [revenue in cents, deals, {left_out_key: deals left out}, first, last]
    found: dict[Customer, list[Any]] = {}
    rated = LazyRatedCurrencies()
    for kind_, pk, currency, cents, n, converted, first, last in raw_rows(grouped):
        row = found.get((kind_, pk))
        if row is None:
            row = found[(kind_, pk)] = [0, 0, {}, first, last]
        else:
            row[3], row[4] = min(row[3], first), max(row[4], last)
        row[0] += int(cents or 0)
        row[1] += n
        if converted < n:
            key = left_out_key(currency, rated)
            row[2][key] = row[2].get(key, 0) + n - converted
    last_activity = dict(_last_activities(purchases))
    return [
        (kind_, pk, cents, n, unconverted_text(missing), first, last, last_activity[(kind_, pk)])
        for (kind_, pk), (cents, n, missing, first, last) in found.items()
    ]


def _last_activities(purchases: QuerySet[Any]) -> Iterator[tuple[Customer, Any]]:
    """((kind, id), last done activity or None) of the customers of `purchases`."""
    buyers = Statement.of(purchases.order_by().values("customer_kind", "customer_id").distinct())
    table = _table(CustomerAttribution)
    sql = f"""
        SELECT b."customer_kind", b."customer_id", (
            SELECT MAX(t."touched_at") FROM {table} t
            WHERE t."customer_kind" = b."customer_kind" AND t."customer_id" = b."customer_id"
              AND t."activity_id" IS NOT NULL
        )
        FROM ({buyers.sql}) b
    """  # noqa: S608 (a table name and a built statement)
    for kind, pk, last in fetch(Statement(sql, buyers.params)):
        yield (kind, pk), last


class LazyRatedCurrencies:
    """The currencies a purchase converts from (the organisation's and every one with a
    rate), read at the first question: most reads find nothing left out and never ask."""

    def __init__(self) -> None:
        self._found: set[str] | None = None

    def __contains__(self, currency: object) -> bool:
        if self._found is None:
            self._found = {
                organisation_get().currency,
                *ExchangeRate.objects.order_by().values_list("currency", flat=True).distinct(),
            }
        return currency in self._found


def left_out_key(currency: str, rated: Container[str]) -> str:
    """How a purchase without a converted value is counted in the warnings: by its
    currency when that currency has no rate, by its currency marked as too large
    (`money.TOO_LARGE`) when it has one, since a currency with any rate always converts
    and only MAX_VALUE_CENTS leaves such a purchase empty."""
    return currency + TOO_LARGE if currency in rated else currency


def unconverted_text(missing: dict[str, int]) -> str:
    """{"USD": 3, "EUR": 1} as "EUR:1 USD:3" (CustomerTotals.unconverted)."""
    return " ".join(f"{currency}:{n}" for currency, n in sorted(missing.items()))


def unconverted_counts(text: str) -> dict[str, int]:
    """ "EUR:1 USD:3" as {"EUR": 1, "USD": 3}."""
    counts: dict[str, int] = {}
    for part in text.split():
        currency, _sep, n = part.rpartition(":")
        counts[currency] = int(n)
    return counts


def unconverted_deals() -> dict[str, int]:
    """The won deals left out of the totals' revenue for want of a rate, by currency."""
    counts: dict[str, int] = {}
    grouped = (
        CustomerTotals.objects.exclude(unconverted="")
        .order_by()
        .values_list("unconverted")
        .annotate(n=Count("pk"))
    )
    for text, customers in grouped:
        for currency, n in unconverted_counts(text).items():
            counts[currency] = counts.get(currency, 0) + n * customers
    return counts


def _insert_totals(rows: list[tuple[Any, ...]]) -> None:
    """Insert the rows: PostgreSQL copies them in (bound as statement parameters, which
    psycopg writes into the SQL text value by value, the 57,000 rows of L took 4–4.7 s,
    copied 1–1.7 s); SQLite inserts 500 to a statement."""
    columns = (
        '"customer_kind", "customer_id", "revenue_cents", "deals", "unconverted", '
        '"first_purchase_at", "last_purchase_at", "last_activity_at"'
    )
    table = _table(CustomerTotals)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for index in range(0, len(rows), 500):
            chunk = rows[index : index + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}",  # noqa: S608
                [value for row in chunk for value in row],
            )


def refresh_totals(customers: Iterable[Customer]) -> None:
    """Write again the totals of these customers from their touches."""
    by_kind: dict[str, list[int]] = {COMPANY: [], CONTACT: []}
    for kind, pk in customers:
        by_kind[kind].append(pk)
    for kind, ids in by_kind.items():
        for chunk in _chunks(ids):
            CustomerTotals.objects.filter(customer_kind=kind, customer_id__in=chunk).delete()
            _insert_totals(_totals_rows(kind, chunk))


def _rebuild_totals(state: CustomerSummaryState) -> None:
    basis = money_basis()
    CustomerTotals.objects.all().delete()
    _insert_totals(_totals_rows(None, None))
    state.money_basis = basis
    CustomerSummaryState.objects.filter(pk=state.pk).update(money_basis=basis)


def ensure_totals_converted() -> None:
    """Convert every purchase again (`convert_purchases`) and build the customers' totals
    again when the rates, the organisation's currency or its time zone changed since
    their revenue was converted, or they were never built (the basis is empty until
    then). Call `ensure_current` first."""
    basis = money_basis()
    state = CustomerSummaryState.objects.order_by("pk").first()
    if state is not None and state.money_basis == basis:
        return
    with transaction.atomic():
        state = _state()
        if state.money_basis != money_basis():
            convert_purchases()
            _rebuild_totals(state)
            _analyse(CustomerTotals)


def ensure_converted() -> None:
    """Fold what is pending and convert the purchases as the rates now are: call before
    reading `value_cents`."""
    ensure_current()
    ensure_totals_converted()


def totals_ready(until: dt.datetime, *, activities: bool = False) -> bool:
    """Bring the customers' totals up to date (pending events folded, revenue converted
    as the rates now are), then say whether they hold exactly the purchases (and, with
    `activities`, the last activities) before `until`: none is at or after it (a deal can
    be closed, an activity done, in the future)."""
    ensure_converted()
    if CustomerTotals.objects.filter(last_purchase_at__gte=until).exists():
        return False
    return not (activities and CustomerTotals.objects.filter(last_activity_at__gte=until).exists())


# ---------------------------------------------------------------- rebuild and fold


def _state() -> CustomerSummaryState:
    state = CustomerSummaryState.objects.select_for_update().order_by("pk").first()
    if state is None:
        state = CustomerSummaryState.objects.create(churn_days=0, rebuild_needed=True)
    return state


def rebuild() -> None:
    """Build the whole summary again from the activities and deals."""
    days = churn_days()
    with transaction.atomic():
        state = _state()
        CustomerAttribution.objects.all().delete()
        _insert_rows("activity_id", _activity_rows_sql(""), [])
        _insert_rows("deal_id", _deal_rows_sql(""), [])
        convert_purchases()
        _rebuild_episodes(days)
        _rebuild_totals(state)
        _analyse()
        state.churn_days = days
        state.rebuild_needed = False
        state.rebuilt_at = timezone.now()
        state.save()


def _analyse(*models: Any) -> None:
    """Fresh planner statistics for rebuilt tables (all three by default). SQLite keeps
    statistics only once ANALYZE has run (without them it guesses the rows of one kind to
    be half the table); PostgreSQL's come from autovacuum, too late for the totals
    rewritten at once, whose join to the companies it would take for a few dozen rows."""
    chosen = models or (CustomerAttribution, CustomerEpisode, CustomerTotals)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                for model in chosen:
                    cursor.execute(f"ANALYZE {_table(model)}")
        elif connection.vendor == "postgresql" and CustomerTotals in chosen:
            cursor.execute(f"ANALYZE {_table(CustomerTotals)}")


@dataclass
class Affected:
    """What a set of events touches: activities, deals, and customers whose attributed
    sources must be looked at again."""

    activities: set[int] = field(default_factory=set)
    deals: set[int] = field(default_factory=set)
    contacts: set[int] = field(default_factory=set)
    companies: set[int] = field(default_factory=set)
    leads: set[int] = field(default_factory=set)
    # Customers given another owner (or team): their deals' rows carry both.
    company_owners: set[int] = field(default_factory=set)
    contact_owners: set[int] = field(default_factory=set)
    # The public ids of merges' survivors whose undo gave them their old owner back.
    company_survivors: set[str] = field(default_factory=set)
    contact_survivors: set[str] = field(default_factory=set)
    rebuild: bool = False

    def add(self, name: str, object_id: int | None, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        if name == "import.undone":
            self.rebuild = True
            return
        if name == "records.reassigned":
            # Records given to another user in bulk: a deal's row carries its owner, and
            # its customer's.
            ids = [int(pk) for pk in data.get("ids", [])]
            owners = {
                "deals.deal": self.deals,
                "contacts.company": self.company_owners,
                "contacts.contact": self.contact_owners,
            }.get(data.get("model", ""))
            if owners is not None:
                owners.update(ids)
            return
        if object_id is None:
            return
        fields = data.get("fields")
        if name.startswith("activity."):
            self.activities.add(object_id)
        elif name.startswith("deal."):
            self.deals.add(object_id)
        elif name in ("contact.created", "company.created"):
            # A new contact or company has nothing yet, but one restored by undoing a
            # merge takes its activities and deals back, and the survivor its fields
            # (its owner among them).
            if data.get("unmerged"):
                (self.contacts if name == "contact.created" else self.companies).add(object_id)
                if data.get("survivor_id"):
                    survivors = (
                        self.contact_survivors
                        if name == "contact.created"
                        else self.company_survivors
                    )
                    survivors.add(str(data["survivor_id"]))
        elif name == "contact.updated":
            # Only a change of companies moves a contact's activities and deals.
            if fields is None or {"primary_company", "companies"} & set(fields):
                self.contacts.add(object_id)
            if fields is None or "owner" in fields:
                self.contact_owners.add(object_id)
        elif name.startswith("contact.") and name != "contact.created":
            self.contacts.add(object_id)
        elif name == "company.updated":
            # A company's own fields never change what belongs to it; its owner is on
            # its deals' rows.
            if fields is None or "owner" in fields:
                self.company_owners.add(object_id)
        elif name.startswith("company.") and name != "company.created":
            # A merge or a deletion changes what belongs to a company.
            self.companies.add(object_id)
        elif name == "lead.converted":
            self.leads.add(object_id)

    def __bool__(self) -> bool:
        return bool(
            self.activities
            or self.deals
            or self.contacts
            or self.companies
            or self.leads
            or self.company_owners
            or self.contact_owners
            or self.rebuild
        )


def _expand(affected: Affected) -> tuple[set[int], set[int]]:
    """The activities and deals whose attribution the affected records can change."""
    activities, deals = set(affected.activities), set(affected.deals)
    links = Deal.contacts.through.objects
    for chunk in _chunks(affected.companies):
        contacts = list(
            Contact.objects.filter(primary_company_id__in=chunk).values_list("pk", flat=True)
        )
        affected.contacts.update(contacts)
        activities.update(
            Activity.objects.filter(company_id__in=chunk).values_list("pk", flat=True)
        )
        deals.update(Deal.objects.filter(company_id__in=chunk).values_list("pk", flat=True))
    for kind, ids in ((COMPANY, affected.companies), (CONTACT, affected.contacts)):
        for chunk in _chunks(ids):
            for activity_id, deal_id in CustomerAttribution.objects.filter(
                customer_kind=kind, customer_id__in=chunk
            ).values_list("activity_id", "deal_id"):
                if activity_id is not None:
                    activities.add(activity_id)
                if deal_id is not None:
                    deals.add(deal_id)
    for chunk in _chunks(affected.contacts):
        activities.update(
            Activity.objects.filter(contact_id__in=chunk).values_list("pk", flat=True)
        )
        deals.update(links.filter(contact_id__in=chunk).values_list("deal_id", flat=True))
    for chunk in _chunks(affected.leads):
        activities.update(Activity.objects.filter(lead_id__in=chunk).values_list("pk", flat=True))
    for chunk in _chunks(deals):
        activities.update(Activity.objects.filter(deal_id__in=chunk).values_list("pk", flat=True))
    return activities, deals


def fold(affected: Affected) -> None:
    """Bring the summary up to date with the affected records, in the caller's
    transaction (or a full rebuild when one is owed)."""
    if not affected:
        return
    state = _state()
    days = churn_days()
    if affected.rebuild or state.rebuild_needed or state.churn_days != days:
        rebuild()
        return
    activities, deals = _expand(affected)
    customers = refresh_attributions(activities, deals)
    for kind, model, owners, survivors in (
        (COMPANY, Company, affected.company_owners, affected.company_survivors),
        (CONTACT, Contact, affected.contact_owners, affected.contact_survivors),
    ):
        found = model.objects.filter(public_id__in=sorted(survivors)).values_list("pk", flat=True)
        refresh_customer_owners(kind, owners | set(found))
    refresh_episodes(customers, days)
    refresh_totals(customers)


def _relevant(name: str) -> bool:
    return name.startswith(PREFIXES)


def _catch_up(state: CustomerSummaryState, limit: int, extra: OutboxEvent | None = None) -> bool:
    """Fold, in the caller's transaction, the events after the watermark (the first
    `limit` that can change the summary), those that filled a hole since, and `extra`;
    then move the watermark and record the ids not seen on the way as holes. Returns
    False without folding when more than `limit` wait, so a report rebuilds instead."""
    since = state.folded_through
    top = OutboxEvent.objects.aggregate(top=Max("pk"))["top"] or since
    low = max(since, top - HOLE_REACH)
    present = set(OutboxEvent.objects.filter(pk__gt=low, pk__lte=top).values_list("pk", flat=True))
    waiting = [
        row
        for row in OutboxEvent.objects.filter(pk__gt=since, pk__lte=top)
        .filter(_relevant_q())
        .order_by("pk")
        .values_list("pk", "name", "object_id", "data")[: limit + 1]
        if row[0] <= low or row[0] in present
    ]
    if len(waiting) > limit:
        if extra is None:
            return False
        waiting = waiting[:limit]
        top = waiting[-1][0]
    hole_ids = [pk for pk, _seen in state.holes]
    filled = list(
        OutboxEvent.objects.filter(pk__in=hole_ids).values_list("pk", "name", "object_id", "data")
    )
    affected = Affected()
    for _pk, name, object_id, data in [*waiting, *filled]:
        if _relevant(name):
            affected.add(name, object_id, data)
    if extra is not None:
        affected.add(extra.name, extra.object_id, extra.data)
    fold(affected)
    _move_watermark(state, since, top, present, {pk for pk, *_rest in filled})
    return True


def _move_watermark(
    state: CustomerSummaryState, since: int, top: int, present: set[int], filled: set[int]
) -> None:
    now = timezone.now().timestamp()
    patience = GAP_PATIENCE.total_seconds()
    holes = [[pk, seen] for pk, seen in state.holes if pk not in filled and seen > now - patience]
    if top > since:
        known = {pk for pk, _seen in holes}
        low = max(since, top - HOLE_REACH)
        holes += [
            [pk, now] for pk in range(low + 1, top + 1) if pk not in present and pk not in known
        ]
    CustomerSummaryState.objects.filter(pk=state.pk).update(
        folded_through=max(since, top), holes=holes
    )


def _relevant_q() -> Q:
    relevant = Q()
    for prefix in PREFIXES:
        relevant |= Q(name__startswith=prefix)
    return relevant


def fold_event(event: OutboxEvent) -> None:
    """The dispatcher's delivery of `event`: nothing to do when it is already folded (a
    report or an earlier delivery caught up past it); otherwise the summary catches up
    with every event waiting, so a large import's thousands of events cost a fold per
    DELIVERY_BATCH rather than one each."""
    if not _relevant(event.name):
        return
    with transaction.atomic():
        state = _state()
        holes = {pk for pk, _seen in state.holes}
        if event.pk <= state.folded_through and event.pk not in holes:
            return
        _catch_up(state, DELIVERY_BATCH, event)


def ensure_current() -> None:
    """Fold every committed change not folded yet, so a report reads a summary that holds
    them all; rebuild when the state asks for it or more than FOLD_LIMIT events wait."""
    state = CustomerSummaryState.objects.order_by("pk").first()
    days = churn_days()
    if (
        state is not None
        and not state.rebuild_needed
        and state.churn_days == days
        and not OutboxEvent.objects.filter(
            Q(pk__gt=state.folded_through) | Q(pk__in=[pk for pk, _seen in state.holes])
        ).exists()
    ):
        return
    with transaction.atomic():
        state = _state()
        owed = state.rebuild_needed or state.churn_days != days
        if owed or not _catch_up(state, FOLD_LIMIT):
            since = state.folded_through
            top = OutboxEvent.objects.aggregate(top=Max("pk"))["top"] or since
            present = set(
                OutboxEvent.objects.filter(
                    pk__gt=max(since, top - HOLE_REACH), pk__lte=top
                ).values_list("pk", flat=True)
            )
            rebuild()
            state.holes = []
            _move_watermark(state, since, top, present, set())


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Statement:
    """A piece of SQL and its parameters, to be nested into another statement."""

    sql: str
    params: list[Any]

    @classmethod
    def of(cls, queryset: QuerySet[Any]) -> Statement:
        sql, params = queryset.query.sql_with_params()
        return cls(sql, list(params))


def param(moment: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def moment_of(value: Any) -> dt.datetime | None:
    """A datetime read by raw SQL: SQLite answers UTC text (or, for a column read as it
    is, a naive UTC datetime), PostgreSQL an aware datetime."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def purchases_before(until: dt.datetime, scope: Q | None = None) -> QuerySet[Any]:
    """The summary's purchases (won deals' rows) closed before `until`, those of the
    deals `scope` picks when given (a condition on the rows' deal, owner, team and
    pipeline: see `wasl.reports.customers.purchase_scope`). Read from the purchases index,
    which carries those columns, whatever the scope."""
    rows = CustomerAttribution.objects.filter(
        deal__isnull=False, touched_at__isnull=False, touched_at__lt=until
    )
    return rows if scope is None else rows.filter(scope)


def buyers(scope: Q | None, until: dt.datetime, viewer: Any = None) -> Statement:
    """The customers of the won deals closed before `until` (every deal when `scope` is
    None, else those it picks) as rows "kind", "id" and "first_at" (the first such deal's
    close), keeping only the companies and contacts `viewer` may see when a viewer is
    given. Reads the summary's purchases index alone, the viewer's check included
    (`seen_customers`); folds pending events first. Every deal's customers, as an
    administrator sees them, come from the customers' totals when those hold exactly
    what came before `until`."""
    every_customer = scope is None and (viewer is None or is_admin(viewer))
    if every_customer and totals_ready(until):
        sql = f"""
            SELECT "customer_kind" AS "kind", "customer_id" AS "id",
                   "first_purchase_at" AS "first_at"
            FROM {_table(CustomerTotals)}
        """  # noqa: S608 (a table name)
        return Statement(sql, [])
    ensure_current()
    rows = purchases_before(until, scope)
    seen = seen_customers(viewer)
    if seen is not None:
        rows = rows.filter(seen)
    grouped = Statement.of(
        rows.order_by().values("customer_kind", "customer_id").annotate(first_at=Min("touched_at"))
    )
    sql = f"""
        SELECT g."customer_kind" AS "kind", g."customer_id" AS "id", g."first_at"
        FROM ({grouped.sql}) g
    """  # noqa: S608 (a compiled query only)
    return Statement(sql, list(grouped.params))


def _moment_search(
    column: str, moments: list[dt.datetime], answer: Callable[[int], str]
) -> tuple[str, list[Any]]:
    """SQL for `answer(k)`, k being how many of `moments` (ascending) are at or before
    `column`'s value (all of them for NULL). The moments are halved at each comparison (a
    nested CASE), so a value meets about log2 of them rather than up to all: it runs for
    every episode of every customer."""

    def between(low: int, high: int) -> tuple[str, list[Any]]:
        # The answer is answer(k) for some k in [low, high].
        if low == high:
            return answer(low), []
        middle = (low + high) // 2
        before, before_params = between(low, middle)
        after, after_params = between(middle + 1, high)
        return (
            f"CASE WHEN {column} < %s THEN {before} ELSE {after} END",
            [param(moments[middle]), *before_params, *after_params],
        )

    return between(0, len(moments))


def _bit_after(column: str, moments: list[dt.datetime]) -> tuple[str, list[Any]]:
    """SQL for 2 to the power of how many of `moments` (ascending) are at or before
    `column`'s value: the bit of the first moment after it."""
    return _moment_search(column, moments, lambda k: str(1 << k))


def count_at_or_before(column: str, moments: list[dt.datetime]) -> tuple[str, list[Any]]:
    """SQL for how many of `moments` (ascending) are at or before `column`'s value (all of
    them for NULL)."""
    return _moment_search(column, moments, str)


def _buyer_episode() -> str:
    """The condition of `customer_episode_buyer` on the episodes `e`, written as the index
    has it (SQLite uses a partial index only for a query stating its condition)."""
    return 'e."buyer" = 1' if connection.vendor == "sqlite" else 'e."buyer"'


def in_touch(
    customers: Statement,
    moments: list[dt.datetime],
    *,
    last_end_before: dt.datetime | None = None,
    most: bool = False,
) -> Statement:
    """`customers` (rows "kind", "id", "first_at": buyers, see `buyers`) with "t0", "t1",
    … (1 when the customer was in touch at moments[i], else 0) and, when `last_end_before`
    is given, "last_end": the end of its last episode starting before that moment (its
    last touch is the churn days earlier). Only buyers' episodes are read (the smaller
    `customer_episode_buyer` index).

    An episode (s, e] covers the moments from the first after s to the last at or before
    e, a run of bits; the episodes of a customer are disjoint, so the sum of their runs is
    the customer's mask of moments in touch. One probe of the episodes index per customer,
    materialised so that reading each bit does not probe again; or, on PostgreSQL when
    `customers` are most of them (`most`: an administrator's or a team's, see
    `customers.many_customers`), one pass over the episodes in range grouped by customer
    and joined to them, which reads each episode once instead of probing tens of
    thousands of times (a churned customer's "last_end" is then among the episodes in
    range, where its episode at the first moment is)."""
    if len(moments) > 60:
        raise ValueError("at most 60 moments")
    low, high = min(moments), max(moments)
    ends, ends_params = _bit_after('e."ends_at"', moments)
    starts, starts_params = _bit_after('e."starts_at"', moments)
    episode = _table(CustomerEpisode)
    buyer = _buyer_episode()
    last_end, last_params = "", []
    if last_end_before is not None:
        last_end = (
            f', (SELECT MAX(e."ends_at") FROM {episode} e'  # noqa: S608
            f' WHERE {buyer} AND e."customer_kind" = c."kind" AND e."customer_id" = c."id"'
            ' AND e."starts_at" < %s) AS "last_end"'
        )
        last_params = [param(last_end_before)]
    bits = ", ".join(f'("mask" / {1 << i}) %% 2 AS "t{i}"' for i in range(len(moments)))
    # Measured at L (57,000 customers): on PostgreSQL the pass takes the churn from 0.6–0.8 s
    # to 0.3 s; SQLite, which has to read every episode in customer order for the
    # grouping, doubles its time, its probes being cheap.
    if most and connection.vendor != "sqlite":
        return _in_touch_by_scan(customers, moments, bits, last_end_before)
    sql = f"""
        WITH "touched" AS MATERIALIZED (
            SELECT c.*, CAST(COALESCE((
                SELECT SUM(({ends}) - ({starts})) FROM {episode} e
                WHERE {buyer} AND e."customer_kind" = c."kind" AND e."customer_id" = c."id"
                  AND e."ends_at" >= %s AND e."starts_at" < %s
            ), 0) AS BIGINT) AS "mask"{last_end}
            FROM ({customers.sql}) c
        )
        SELECT *, {bits} FROM "touched"
    """  # noqa: S608 (table names and placeholders only)
    params = [*ends_params, *starts_params, param(low), param(high), *last_params]
    return Statement(sql, [*params, *customers.params])


def _in_touch_by_scan(
    customers: Statement,
    moments: list[dt.datetime],
    bits: str,
    last_end_before: dt.datetime | None,
) -> Statement:
    """`in_touch` read in one pass over the episodes in range (see there)."""
    ends, ends_params = _bit_after('e."ends_at"', moments)
    starts, starts_params = _bit_after('e."starts_at"', moments)
    last_end, last_column, last_params = "", "", []
    if last_end_before is not None:
        last_end = ', MAX(CASE WHEN e."starts_at" < %s THEN e."ends_at" END) AS "last_end"'
        last_column = ', g."last_end"'
        last_params = [param(last_end_before)]
    sql = f"""
        WITH "touched" AS MATERIALIZED (
            SELECT c.*, CAST(COALESCE(g."mask", 0) AS BIGINT) AS "mask"{last_column}
            FROM ({customers.sql}) c
            LEFT JOIN (
                SELECT e."customer_kind" AS "kind", e."customer_id" AS "id",
                       SUM(({ends}) - ({starts})) AS "mask"{last_end}
                FROM {_table(CustomerEpisode)} e
                WHERE {_buyer_episode()} AND e."ends_at" >= %s AND e."starts_at" < %s
                GROUP BY e."customer_kind", e."customer_id"
            ) g ON g."kind" = c."kind" AND g."id" = c."id"
        )
        SELECT *, {bits} FROM "touched"
    """  # noqa: S608 (table names and placeholders only)
    params = [
        *customers.params,
        *ends_params,
        *starts_params,
        *last_params,
        param(min(moments)),
        param(max(moments)),
    ]
    return Statement(sql, params)


def last_activity(customers: Statement, before: dt.datetime) -> Statement:
    """`customers` (rows "kind", "id", …) with "last_activity": the time of the customer's
    last done activity before `before`, NULL for none (one probe of the summary's
    activities index per customer). Materialised, so that a reader naming the column
    twice does not probe twice."""
    sql = f"""
        WITH "found" AS MATERIALIZED (
            SELECT c.*, (
                SELECT MAX(t."touched_at") FROM {_table(CustomerAttribution)} t
                WHERE t."customer_kind" = c."kind" AND t."customer_id" = c."id"
                  AND t."activity_id" IS NOT NULL AND t."touched_at" < %s
            ) AS "last_activity"
            FROM ({customers.sql}) c
        )
        SELECT * FROM "found"
    """  # noqa: S608 (table names and placeholders only)
    return Statement(sql, [param(before), *customers.params])


def buyers_and_last_activity(scope: Q | None, until: dt.datetime, viewer: Any = None) -> Statement:
    """`buyers` with their last done activity before `until` ("last_activity"). When the
    customers' totals hold exactly what came before `until`, every deal's customers (no
    scope, an administrator) are the totals' rows, and on PostgreSQL anyone else's buyers
    take the last activity from them (`last_activity_from_totals`); else one probe of the
    activities a customer (`last_activity`). At L, for a manager's 40,000 customers,
    PostgreSQL's at-risk went from 563–600 to 466–488 ms with the join; SQLite, whose
    probe of the activities index reads the index alone where the join reads the totals'
    rows, went from 424–458 to 489–538 ms, so it keeps probing."""
    every_customer = scope is None and (viewer is None or is_admin(viewer))
    joins_totals = every_customer or connection.vendor != "sqlite"
    ready = joins_totals and totals_ready(until, activities=True)
    if every_customer and ready:
        sql = f"""
            SELECT "customer_kind" AS "kind", "customer_id" AS "id",
                   "first_purchase_at" AS "first_at", "last_activity_at" AS "last_activity"
            FROM {_table(CustomerTotals)}
        """  # noqa: S608 (a table name)
        return Statement(sql, [])
    customers = buyers(scope, until, viewer)
    if ready and connection.vendor != "sqlite":
        return last_activity_from_totals(customers)
    return last_activity(customers, until)


def last_activity_from_totals(customers: Statement) -> Statement:
    """`customers` (buyers) with "last_activity" from their totals, joined: a customer's
    last done activity by anyone, exact when the totals hold what came before the moment
    the buyers were read for (`totals_ready(until, activities=True)`)."""
    sql = f"""
        SELECT c.*, t."last_activity_at" AS "last_activity"
        FROM ({customers.sql}) c
        LEFT JOIN {_table(CustomerTotals)} t
          ON t."customer_kind" = c."kind" AND t."customer_id" = c."id"
    """  # noqa: S608 (a table name and a built statement)
    return Statement(sql, customers.params)


def deals_per_customer(deal_ids: QuerySet[Any]) -> Statement:
    """Rows "kind", "id", "n": how many of the deals `deal_ids` gives each customer has."""
    deals = Statement.of(deal_ids)
    sql = f"""
        SELECT "customer_kind" AS "kind", "customer_id" AS "id", COUNT(*) AS "n"
        FROM {_table(CustomerAttribution)}
        WHERE "deal_id" IN ({deals.sql})
        GROUP BY "customer_kind", "customer_id"
    """  # noqa: S608 (table names and placeholders only)
    return Statement(sql, deals.params)


def overdue_per_customer(scope: Q | None, today: dt.date) -> Statement:
    """Rows "kind", "id", "n": how many open deals of `scope` (every deal when None; see
    `purchases_before`) each customer has whose expected close is before `today`. Read
    from the open deals' index on the summary's rows alone: joined through the deals, a
    manager's 37,000 overdue deals at L cost PostgreSQL a scan of every deal and of every
    deal's customer (~240 ms)."""
    rows = CustomerAttribution.objects.filter(open_due__isnull=False, open_due__lt=today)
    if scope is not None:
        rows = rows.filter(scope)
    grouped = Statement.of(
        rows.order_by().values("customer_kind", "customer_id").annotate(n=Count("pk"))
    )
    sql = f'SELECT "customer_kind" AS "kind", "customer_id" AS "id", "n" FROM ({grouped.sql}) o'  # noqa: S608
    return Statement(sql, grouped.params)


def fetch(statement: Statement) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return cursor.fetchall()


# Compound statements stay well below SQLite's limit of 500 parts.
PARTS_PER_STATEMENT = 200


def _adapted(value: Any) -> Any:
    return param(value) if isinstance(value, dt.datetime) else value


def repeated(
    template: QuerySet[Any], markers: Sequence[Any], runs: Sequence[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """The rows of the `values_list` queryset `template`, run once for each of `runs`
    (each run's values standing for `markers`, the distinct values the template was
    built with, wherever they appear among its parameters), read in compound statements
    (`UNION ALL`). Django builds the statement once rather than once per run: a hundred
    index ranges cost more to build through the ORM than to read. Values come raw from
    the cursor, as `raw_rows` gives them."""
    if not runs:
        return []
    sql, template_params = template.query.sql_with_params()
    params = list(template_params)
    positions: list[list[int]] = []
    for marker in markers:
        adapted = _adapted(marker)
        found = [i for i, value in enumerate(params) if value == adapted]
        if not found:
            raise ValueError(f"marker {marker!r} is not among the template's parameters")
        positions.append(found)
    rows: list[tuple[Any, ...]] = []
    for first in range(0, len(runs), PARTS_PER_STATEMENT):
        chunk = runs[first : first + PARTS_PER_STATEMENT]
        all_params: list[Any] = []
        for run in chunk:
            run_params = list(params)
            for places, value in zip(positions, run, strict=True):
                for place in places:
                    run_params[place] = _adapted(value)
            all_params += run_params
        compound = " UNION ALL ".join([sql] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(compound, all_params)
            rows += cursor.fetchall()
    return rows


def raw_rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a `values_list` queryset straight from the database cursor, without
    Django's per-value converters (a third of the time on 100,000 grouped rows): dates and
    datetimes come as SQLite's text, numbers as the driver gives them."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
