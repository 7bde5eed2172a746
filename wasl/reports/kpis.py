"""The KPI figures of the dashboard, each with its previous period, its change and a spark
line over the last eight periods of the same kind (the period itself last).

Definitions (also in docs/reports.md):
- Leads: leads created in the period. Conversion rate: those of them converted (by now).
- Open deals and their value: deals created before the period's end (or now) and not
  closed by then, valued at the rates of the period's last day (or today). A deal closed
  and reopened later counts as open in between.
- New revenue: deals won in the period, at the rate of the day each was won.
- Average cycle: days from creation to winning, over the deals won in the period.
- Win rate: won / (won + lost) among the deals closed in the period.
- Churn rate: as the churn report. Customer lifetime value: as the lifetime-value report
  (average won revenue per customer up to the period's end).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wasl.core.errors import NotFound
from wasl.deals.models import Deal, Stage
from wasl.leads.models import Lead
from wasl.reports import customers, parallel, touches
from wasl.reports.filters import ReportFilters, deals_in_scope, leads_in_scope
from wasl.reports.models import CustomerAttribution
from wasl.reports.money import (
    MoneyTotal,
    RateTable,
    as_day,
    as_decimal,
    merge_missing,
    missing_rate_warnings,
)
from wasl.reports.periods import Period, aware_bounds, previous_period
from wasl.reports.registry import ReportDefinition, register
from wasl.reports.results import Chart, Figure, Report, change, ratio

SPARK_LENGTH = 8
DAY_SECONDS = 86400


class DaysBetween(Func):
    """Days from the first datetime to the second, computed by the database itself (on
    SQLite a datetime difference is otherwise a Python call per row)."""

    output_field = FloatField()

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        extra.setdefault("template", "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)")
        extra.setdefault("arg_joiner", " - ")
        return super().as_sql(compiler, connection, **extra)


# Stand-ins the range statements are built with (see `touches.repeated`), and the lower
# bound of the first range, before any record.
_LOW = dt.datetime(1901, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
_HIGH = dt.datetime(1901, 1, 1, 0, 0, 2, tzinfo=dt.UTC)
_CURRENCY = "\x1fcurrency"
_PART = -7_000_001
_EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)


def spark_periods(period: Period, calendar: str) -> list[Period]:
    """The last `SPARK_LENGTH` periods of `period`'s kind, oldest first, `period` last."""
    periods = [period]
    while len(periods) < SPARK_LENGTH:
        periods.append(previous_period(periods[-1], calendar))
    return periods[::-1]


def _ends(periods: list[Period], tz: Any) -> list[dt.datetime]:
    now = timezone.now()
    return [min(aware_bounds(period, tz)[1], now) for period in periods]


def _rate_day(period: Period, today: dt.date) -> dt.date:
    return min(period.end - dt.timedelta(days=1), today)


# ---------------------------------------------------------------- querysets (drills)


def period_leads(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    return customers.period_leads(user, filters)


def won_in_period(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    start, end = aware_bounds(filters.period, filters.tz)
    return customers.won_deals(user, filters).filter(closed_at__gte=start, closed_at__lt=end)


def lost_in_period(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    start, end = aware_bounds(filters.period, filters.tz)
    return deals_in_scope(user, filters).filter(
        stage__kind=Stage.Kind.LOST, closed_at__gte=start, closed_at__lt=end
    )


def open_at(user: Any, filters: ReportFilters, moment: dt.datetime) -> QuerySet[Deal]:
    """The deals open at `moment`: created before it and not closed by then."""
    return (
        deals_in_scope(user, filters)
        .filter(created_at__lt=moment)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=moment))
    )


# ---------------------------------------------------------------- series


def _period_runs(periods: list[Period], tz: Any) -> list[tuple[int, dt.datetime, dt.datetime]]:
    return [(index, *aware_bounds(period, tz)) for index, period in enumerate(periods)]


def lead_series(user: Any, filters: ReportFilters, periods: list[Period]) -> dict[str, list[Any]]:
    """Leads created in each period and how many of them are converted: a range of the
    leads' creation index per period."""
    template = (
        leads_in_scope(user, filters)
        .order_by()
        .filter(created_at__gte=_LOW, created_at__lt=_HIGH)
        .annotate(part_index=Value(_PART))
        .values_list("part_index")
        .annotate(n=Count("*"), converted=Count("status", filter=Q(status=Lead.Status.CONVERTED)))
    )
    rows = touches.repeated(template, (_PART, _LOW, _HIGH), _period_runs(periods, filters.tz))
    found = {int(index): (int(n), int(converted or 0)) for index, n, converted in rows}
    leads_made = [found.get(i, (0, 0))[0] for i in range(len(periods))]
    converted = [found.get(i, (0, 0))[1] for i in range(len(periods))]
    return {
        "leads": leads_made,
        "conversion_rate": [ratio(c, n) for c, n in zip(converted, leads_made, strict=True)],
    }


def deal_series(
    user: Any, filters: ReportFilters, periods: list[Period], rates: RateTable
) -> tuple[dict[str, list[Any]], dict[str, int]]:
    """Win rate, sales cycle and new revenue of each period, and the open deals at each
    end. Each period's closed deals are one range of `deal_closed_outcome` per outcome (the
    stages of each kind named, so no join and no grouping by period); the won deals' one
    read gives their money and their days from creation to close."""
    kinds = dict(
        Stage.objects.filter(kind__in=(Stage.Kind.WON, Stage.Kind.LOST)).values_list("pk", "kind")
    )
    deals = deals_in_scope(user, filters).order_by()
    runs = _period_runs(periods, filters.tz)
    revenue = [MoneyTotal(rates) for _p in periods]
    won = [0 for _p in periods]
    won_days = [0.0 for _p in periods]
    lost = [0 for _p in periods]

    def closed_in(kind: str) -> QuerySet[Deal] | None:
        stage_ids = [pk for pk, stage_kind in kinds.items() if stage_kind == kind]
        if not stage_ids:
            return None
        return deals.filter(closed_at__gte=_LOW, closed_at__lt=_HIGH, stage_id__in=stage_ids)

    won_deals = closed_in(Stage.Kind.WON)
    if won_deals is not None:
        template = (
            won_deals.annotate(
                part_index=Value(_PART),
                part_day=customers.local_day("closed_at", filters, (runs[0][1], runs[-1][2])),
            )
            .values_list("part_index", "currency", "part_day")
            .annotate(
                total=Sum("amount"),
                n=Count("*"),
                days=Sum(DaysBetween(F("created_at"), F("closed_at"))),
            )
        )
        for index, currency, day, total, n, days in touches.repeated(
            template, (_PART, _LOW, _HIGH), runs
        ):
            revenue[int(index)].add(as_decimal(total), currency, as_day(day), int(n))
            won[int(index)] += int(n)
            won_days[int(index)] += float(days or 0)
    lost_deals = closed_in(Stage.Kind.LOST)
    if lost_deals is not None:
        template = lost_deals.annotate(part_index=Value(_PART)).values_list("part_index")
        for index, n in touches.repeated(
            template.annotate(n=Count("*")), (_PART, _LOW, _HIGH), runs
        ):
            lost[int(index)] = int(n)
    win_rate = [ratio(n_won, n_won + n_lost) for n_won, n_lost in zip(won, lost, strict=True)]
    cycle_days = [
        round(max(days / n_won, 0.0), 1) if n_won else None
        for days, n_won in zip(won_days, won, strict=True)
    ]
    open_count, open_value, missing = open_series(user, filters, periods, rates)
    merge_missing(missing, revenue[-1].missing)
    return {
        "open_deals": open_count,
        "open_value": open_value,
        "new_revenue": [r.total for r in revenue],
        "cycle_days": cycle_days,
        "win_rate": win_rate,
    }, missing


def _first_moment_after(field: str, moments: list[dt.datetime]) -> Case:
    """The index of the first of `moments` (ascending) after `field`'s value; one past the
    last for a later value or none."""
    return Case(
        *[
            When(**{f"{field}__lt": moment}, then=Value(index))
            for index, moment in enumerate(moments)
        ],
        default=Value(len(moments)),
        output_field=IntegerField(),
    )


def deal_currencies() -> list[str]:
    """The currencies deals are in, hopping along `deal_currency_created` (one index probe
    per currency rather than a scan of every deal; the index needs its condition
    stated)."""
    table = connection.ops.quote_name(Deal._meta.db_table)
    sql = (
        f'WITH RECURSIVE "c"("currency") AS ('  # noqa: S608 (a quoted table name only)
        f'SELECT MIN("currency") FROM {table} WHERE "amount" IS NOT NULL UNION ALL '
        f'SELECT (SELECT MIN("currency") FROM {table} '
        f'WHERE "currency" > "c"."currency" AND "amount" IS NOT NULL) '
        f'FROM "c" WHERE "c"."currency" IS NOT NULL) '
        f'SELECT "currency" FROM "c" WHERE "currency" IS NOT NULL'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [currency for (currency,) in cursor.fetchall()]


def _range_sums(
    deals: QuerySet[Deal], field: str, currencies: list[str], moments: list[dt.datetime]
) -> dict[tuple[str, int], tuple[int, Decimal]]:
    """{(currency, i): (count, amount)} of `deals` whose `field` falls before `moments[0]`
    (i = 0) or in [moments[i - 1], moments[i]): each a range of a currency-led index,
    counted and summed without grouping (the index needs its condition stated)."""
    template = (
        deals.order_by()
        .filter(
            currency=_CURRENCY,
            amount__isnull=False,
            **{f"{field}__gte": _LOW, f"{field}__lt": _HIGH},
        )
        .annotate(part_currency=Value(_CURRENCY), part_index=Value(_PART))
        .values_list("part_currency", "part_index")
        # COUNT(*): PostgreSQL's index holds no id, and counting one visits rows.
        .annotate(n=Count("*"), total=Sum("amount"))
    )
    lows = [_EARLIEST, *moments[:-1]]
    runs = [
        (currency, index, low, high)
        for currency in currencies
        for index, (low, high) in enumerate(zip(lows, moments, strict=True))
    ]
    return {
        (currency, int(index)): (int(n), as_decimal(total))
        for currency, index, n, total in touches.repeated(
            template, (_CURRENCY, _PART, _LOW, _HIGH), runs
        )
        if n
    }


def open_series(
    user: Any, filters: ReportFilters, periods: list[Period], rates: RateTable
) -> tuple[list[int], list[Decimal], dict[str, int]]:
    """Deals open at the end of each period (count, and value at the rates of its last
    day): those created before the end less those closed before it. A deal closed before
    its creation (an imported history) is never open, so it is left out of both. Each
    period's creations and closes, per currency, are a range of an index."""
    moments = _ends(periods, filters.tz)
    deals = deals_in_scope(user, filters)
    currencies = deal_currencies()
    created = _range_sums(
        deals.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at"))),
        "created_at",
        currencies,
        moments,
    )
    closed = _range_sums(
        deals.filter(closed_at__gte=F("created_at")), "closed_at", currencies, moments
    )
    counts = [0 for _m in moments]
    by_currency: list[dict[str, list[Any]]] = [{} for _m in moments]
    for sign, sums in ((1, created), (-1, closed)):
        for (currency, first), (n, total) in sums.items():
            for index in range(first, len(moments)):
                counts[index] += sign * n
                held = by_currency[index].setdefault(currency, [Decimal(0), 0])
                held[0] += sign * total
                held[1] += sign * n
    values = []
    missing: dict[str, int] = {}
    for index, period in enumerate(periods):
        total = MoneyTotal(rates)
        day = _rate_day(period, filters.today)
        for currency, (value, n) in by_currency[index].items():
            if n:
                total.add(value, currency, day, n)
        values.append(total.total)
        if index == len(periods) - 1:
            merge_missing(missing, total.missing)
    return counts, values, missing


def churn_series(
    user: Any, filters: ReportFilters, periods: list[Period]
) -> tuple[list[Any], list[int]]:
    """The churn rate of each period, and how many of the viewer's customers had bought by
    its end (the lifetime value's denominator), from one statement."""
    results = customers.churn_over(
        user, filters, periods, measures=("active_start", "churned", "bought")
    )
    return [r.rate for r in results], [r.total("bought") for r in results]


def clv_revenue(user: Any, filters: ReportFilters, periods: list[Period]) -> list[Decimal]:
    """The won revenue of the viewer's customers up to the end of each period, summed
    from the purchases' converted cents. Every customer's (an administrator without
    filters): each period's purchases a range of the summary's `customer_purchase_time`
    index (the index needs its condition stated). Anyone else's: one grouped read of the
    purchases they may see (by the first period end they come before)."""
    ends = _ends(periods, filters.tz)
    added = [0 for _end in ends]
    if customers.purchase_scope(user, filters) is None:
        touches.ensure_converted()
        template = (
            CustomerAttribution.objects.filter(
                deal__isnull=False,
                touched_at__isnull=False,
                amount__isnull=False,
                touched_at__gte=_LOW,
                touched_at__lt=_HIGH,
            )
            .annotate(part_index=Value(_PART))
            .values_list("part_index")
            .annotate(total=Sum("value_cents"))
            .order_by()
        )
        lows = [_EARLIEST, *ends[:-1]]
        runs = [
            (index, low, high) for index, (low, high) in enumerate(zip(lows, ends, strict=True))
        ]
        rows = touches.repeated(template, (_PART, _LOW, _HIGH), runs)
    else:
        rows = touches.raw_rows(
            customers.purchases(user, filters, ends[-1])
            .annotate(part_index=_first_moment_after("touched_at", ends))
            .order_by()
            .values("part_index")
            .annotate(total=Sum("value_cents"))
            .values_list("part_index", "total")
        )
    for bucket, total in rows:
        if int(bucket) < len(ends):
            added[int(bucket)] += int(total or 0)
    return [customers.money_of_cents(cents) for cents in itertools.accumulate(added)]


def clv_series(revenue: list[Decimal], buyers: list[int]) -> list[Decimal | None]:
    """Average lifetime value at the end of each period: the revenue up to then over the
    customers who had bought by then."""
    return [
        (total / n).quantize(Decimal("0.01")) if n else None
        for total, n in zip(revenue, buyers, strict=True)
    ]


# ---------------------------------------------------------------- the report

FIGURES: list[tuple[str, Any, str, str | None]] = [
    ("leads", gettext_lazy("Leads"), "count", "leads"),
    ("conversion_rate", gettext_lazy("Lead conversion rate"), "percent", "converted"),
    ("open_deals", gettext_lazy("Open deals"), "count", "open_deals"),
    ("open_value", gettext_lazy("Open deals' value"), "money", "open_deals"),
    ("new_revenue", gettext_lazy("New revenue"), "money", "won"),
    ("churn_rate", gettext_lazy("Churn rate"), "percent", None),
    ("cycle_days", gettext_lazy("Average sales cycle"), "days", "won"),
    ("win_rate", gettext_lazy("Win rate"), "percent", "closed"),
    ("clv", gettext_lazy("Customer lifetime value"), "money", None),
]


def series(
    user: Any, filters: ReportFilters, periods: list[Period]
) -> tuple[dict[str, list[Any]], list[str]]:
    """Every figure's spark line. The customers' figures (churn and lifetime value, read
    from the customer summary, brought up to date here) run beside the leads' and deals'
    (`parallel`). For a manager at L on SQLite the sides take about 0.34 and 0.42 s; with
    the revenue beside the deals, that side took 0.55 s. On PostgreSQL the customers' side
    is the longer (0.5–0.6 s)."""
    rates = RateTable.load(filters.currency)
    touches.ensure_converted()

    def leads_and_deals() -> tuple[dict[str, list[Any]], dict[str, int]]:
        values: dict[str, list[Any]] = {}
        values.update(lead_series(user, filters, periods))
        deals, missing = deal_series(user, filters, periods, rates)
        values.update(deals)
        return values, missing

    def customer_figures() -> tuple[list[Any], list[int], list[Decimal]]:
        churn, buyers = churn_series(user, filters, periods)
        return churn, buyers, clv_revenue(user, filters, periods)

    (values, missing), (churn, buyers, revenue) = parallel.run_all(
        [leads_and_deals, customer_figures]
    )
    values["churn_rate"] = churn
    values["clv"] = clv_series(revenue, buyers)
    return values, missing_rate_warnings(missing)


def build(user: Any, filters: ReportFilters) -> Report:
    periods = spark_periods(filters.period, filters.calendar)
    values, warnings = series(user, filters, periods)
    figures = []
    for key, label, kind, drill_id in FIGURES:
        spark = values[key]
        current, previous = spark[-1], spark[-2]
        figures.append(
            Figure(
                key,
                str(label),
                current,
                kind,  # type: ignore[arg-type]
                drill_id,
                previous=previous,
                change=change(current, previous),
                spark=spark,
            )
        )
    labels = [p.label(filters.language) for p in periods]
    charts = [
        Chart(
            "line",
            labels,
            [{"label": _("New revenue"), "data": values["new_revenue"]}],
            key="new-revenue",
            title=_("New revenue"),
        ),
        Chart(
            "bar",
            labels,
            [
                {"label": _("Leads"), "data": values["leads"]},
                {"label": _("Open deals"), "data": values["open_deals"], "kind": "line"},
            ],
            key="leads-deals",
            title=_("Leads and open deals"),
        ),
    ]
    return Report(
        key="kpis",
        title=_("Key figures"),
        filters=filters,
        figures=figures,
        charts=charts,
        warnings=warnings,
    )


DRILLS: dict[str, tuple[str, Callable[[Any, ReportFilters], QuerySet[Any]]]] = {
    "leads": ("lead", period_leads),
    "converted": (
        "lead",
        lambda user, filters: period_leads(user, filters).filter(status=Lead.Status.CONVERTED),
    ),
    "open_deals": (
        "deal",
        lambda user, filters: open_at(user, filters, _ends([filters.period], filters.tz)[0]),
    ),
    "won": ("deal", won_in_period),
    "lost": ("deal", lost_in_period),
    "closed": (
        "deal",
        lambda user, filters: won_in_period(user, filters) | lost_in_period(user, filters),
    ),
}


def drill(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    """The records behind a KPI figure of the period."""
    try:
        kind, records = DRILLS[str(cell_id or "")]
    except KeyError:
        raise NotFound() from None
    return kind, records(user, filters)


register(
    ReportDefinition(
        key="kpis",
        title=gettext_lazy("Key figures"),
        description=gettext_lazy(
            "Leads, conversion, open deals, new revenue, churn, sales cycle, win rate and "
            "customer lifetime value, against the previous period."
        ),
        build=build,
        drill=drill,
    )
)
