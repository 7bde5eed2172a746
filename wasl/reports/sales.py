"""Deal reports: funnel, stage durations, sales cycle, wins and losses, forecast.

Every number starts from `deals_in_scope` / `stage_changes_in_scope`, so it covers only
what the viewer may see, and every number with a drill id has a drill function answering
the very records it counts. Amounts are converted to the organisation's currency on the
day of the event counted (the close day for won and lost deals, the last day of the
period for deals entering a stage, today for open deals); deals whose currency has no
rate are left out of the amounts and named in the warnings.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from statistics import mean, median
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from wasl.accounts.models import Team, User
from wasl.core.errors import Invalid, NotFound
from wasl.deals.models import Competitor, Deal, DealStageChange, LostReason, Pipeline, Stage
from wasl.deals.selectors import default_pipeline
from wasl.reports import parallel
from wasl.reports.filters import ReportFilters, deals_in_scope, stage_changes_in_scope
from wasl.reports.money import CENT, RateTable, merge_missing, missing_rate_warnings
from wasl.reports.periods import Period, aware_bounds, bucket_of, buckets
from wasl.reports.registry import ReportDefinition, register
from wasl.reports.results import Chart, Column, Figure, Report, Table, ratio

DAY = 86400
WON, LOST, OPEN = Stage.Kind.WON, Stage.Kind.LOST, Stage.Kind.OPEN
# Rows of the "deals over their stage's usual time" list; the count covers them all.
OVER_LIST_LIMIT = 25
NONE_KEY = "none"
# A deal's amount weighted by its probability.
WEIGHTED = ExpressionWrapper(
    F("amount") * F("probability") / Decimal(100),
    output_field=DecimalField(max_digits=24, decimal_places=4),
)


# ---------------------------------------------------------------- shared pieces


def _bounds(
    filters: ReportFilters, period: Period | None = None
) -> tuple[dt.datetime, dt.datetime]:
    return aware_bounds(period or filters.period, filters.tz)


def _rate_day(filters: ReportFilters) -> dt.date:
    """The day amounts of a period are converted on: its last day, or today if sooner."""
    return min(filters.period.end - dt.timedelta(days=1), filters.today)


def _days(seconds: float | int | None) -> float | None:
    return None if seconds is None else round(float(seconds) / DAY, 2)


class Amounts:
    """Counts and converted sums per key, fed by grouped (key, currency, day) rows."""

    def __init__(self, rates: RateTable) -> None:
        self.rates = rates
        self.count: dict[Any, int] = defaultdict(int)
        self.value: dict[Any, Decimal] = defaultdict(Decimal)
        self.missing: dict[str, int] = defaultdict(int)

    def add(
        self, key: Any, currency: str, day: dt.date, count: int, amount: Decimal | None
    ) -> None:
        self.count[key] += count
        converted = self.rates.convert(amount or Decimal(0), currency, day)
        if converted is None:
            self.missing[currency] += count
        else:
            self.value[key] += converted

    def total_count(self) -> int:
        return sum(self.count.values())

    def total_value(self) -> Decimal:
        return sum(self.value.values(), Decimal(0))


def _group_rows(
    queryset: QuerySet[Deal], *, keys: Iterable[str], when: str | None, tz: Any
) -> list[dict[str, Any]]:
    """Deals grouped by `keys`, currency and the local day of `when`, counted and summed
    (amount, and amount weighted by probability) in SQL: one row per group."""
    group: dict[str, Any] = {}
    if when is not None:
        group["day"] = TruncDate(when, tzinfo=tz)
    return list(
        queryset.order_by()
        .values(*keys, "currency", **group)
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(WEIGHTED))
    )


def _sum_rows(
    rows: list[dict[str, Any]],
    rates: RateTable,
    key_of: Callable[[dict[str, Any]], Any],
    *,
    fixed_day: dt.date | None = None,
    amount: str = "total",
) -> Amounts:
    """Grouped rows added up by `key_of`, each converted on its day (or `fixed_day`)."""
    result = Amounts(rates)
    for row in rows:
        day = fixed_day if fixed_day is not None else row["day"]
        result.add(key_of(row), row["currency"], day, row["n"], row[amount])
    return result


def _grouped_money(
    queryset: QuerySet[Deal],
    *,
    keys: Iterable[str],
    when: str | None,
    tz: Any,
    rates: RateTable,
    key_of: Callable[[dict[str, Any]], Any] | None = None,
    fixed_day: dt.date | None = None,
) -> Amounts:
    """`_group_rows` added up by `key_of` (default: the keys' values)."""
    fields = list(keys)
    rows = _group_rows(queryset, keys=fields, when=when, tz=tz)
    return _sum_rows(
        rows, rates, key_of or (lambda row: tuple(row[f] for f in fields)), fixed_day=fixed_day
    )


def _won(user: Any, filters: ReportFilters, period: Period | None = None) -> QuerySet[Deal]:
    start, end = _bounds(filters, period)
    return deals_in_scope(user, filters).filter(
        stage__kind=WON, closed_at__gte=start, closed_at__lt=end
    )


def _lost(user: Any, filters: ReportFilters, period: Period | None = None) -> QuerySet[Deal]:
    start, end = _bounds(filters, period)
    return deals_in_scope(user, filters).filter(
        stage__kind=LOST, closed_at__gte=start, closed_at__lt=end
    )


def _open(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    return deals_in_scope(user, filters).filter(stage__kind=OPEN)


def _user_names(ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """id → (name, public id) for the users named in a report."""
    wanted = {i for i in ids if i is not None}
    return {
        u.pk: (str(u), str(u.public_id))
        for u in User.objects.filter(pk__in=wanted).only(
            "pk", "public_id", "username", "first_name", "last_name"
        )
    }


def _team_names(ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    wanted = {i for i in ids if i is not None}
    return {t.pk: (t.name, str(t.public_id)) for t in Team.objects.filter(pk__in=wanted)}


def _by_public_id(model: Any, value: str, **extra: Any) -> Any:
    try:
        found = model.objects.filter(public_id=value, **extra).first()
    except (ValueError, ValidationError):  # a malformed UUID
        found = None
    if found is None:
        raise NotFound()
    return found


def _cell(cell: str) -> tuple[str, str]:
    name, _sep, arg = (cell or "").partition(":")
    return name, arg


def _pipeline(filters: ReportFilters) -> Pipeline | None:
    if filters.pipeline_id is not None:
        return Pipeline.objects.filter(pk=filters.pipeline_id).first()
    return default_pipeline()


def _stages(pipeline: Pipeline | None) -> list[Stage]:
    if pipeline is None:
        return []
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))


def _funnel_stages(stages: list[Stage]) -> list[Stage]:
    """Open stages in order, then the won stages: the path a deal takes to a win."""
    return [s for s in stages if s.kind == OPEN] + [s for s in stages if s.kind == WON]


def _funnel_filters(filters: ReportFilters, pipeline: Pipeline | None) -> ReportFilters:
    """Filters with the funnel's pipeline chosen (the default one when none is given)."""
    if pipeline is None or filters.pipeline_id == pipeline.pk:
        return filters
    values = {name: getattr(filters, name) for name in filters.__dataclass_fields__}
    values["pipeline_id"] = pipeline.pk
    values["pipeline_public_id"] = str(pipeline.public_id)
    return ReportFilters(**values)


# ---------------------------------------------------------------- funnel


def _entered_ids(user: Any, filters: ReportFilters, stage_ids: Iterable[int]) -> QuerySet[Any]:
    start, end = _bounds(filters)
    return (
        stage_changes_in_scope(user, _stage_scope(filters))
        .filter(to_stage_id__in=list(stage_ids), changed_at__gte=start, changed_at__lt=end)
        .values("deal_id")
    )


def _entered(user: Any, filters: ReportFilters, stage: Stage) -> QuerySet[Deal]:
    """Deals that entered `stage` in the period (once each, however often they did)."""
    deals = deals_in_scope(user, _stage_scope(filters))
    return deals.filter(pk__in=_entered_ids(user, filters, [stage.pk]))


def _moved_on(
    user: Any, filters: ReportFilters, stage: Stage, targets: list[Stage]
) -> QuerySet[Deal]:
    """Of the deals that entered `stage` in the period, those that also entered one of
    `targets` from the period's start on."""
    if not targets:
        return Deal.objects.none()
    start, _end = _bounds(filters)
    later = (
        stage_changes_in_scope(user, _stage_scope(filters))
        .filter(to_stage_id__in=[s.pk for s in targets], changed_at__gte=start)
        .values("deal_id")
    )
    return _entered(user, filters, stage).filter(pk__in=later)


def _stage_scope(filters: ReportFilters) -> ReportFilters:
    """The filters of a query already limited to the pipeline's stage ids: the pipeline
    filter would only add a join to every stage change."""
    return replace(filters, pipeline_id=None)


def _after(stage: Stage, path: list[Stage]) -> list[Stage]:
    return path[path.index(stage) + 1 :]


def _funnel_counts(
    user: Any, filters: ReportFilters, path: list[Stage]
) -> dict[str, list[tuple[int, Decimal, int, int]]]:
    """Per currency, per stage of `path`: (deals that entered it in the period, the sum of
    their amounts, how many of them entered a later stage from the period's start on, how
    many entered a won stage from then on). One query: the moves since the start of the
    period are summed per deal, then the deals per currency. The drill-down
    querysets (`_entered`, `_moved_on`) answer the same deals."""
    start, end = _bounds(filters)
    scope = _stage_scope(filters)
    moves = Q(to_stage_id__in=[s.pk for s in path], changed_at__gte=start)
    # PostgreSQL sums every deal's moves of the period and keeps the deals in scope when
    # it joins them for their money: checking each move's deal for the viewer first made
    # it scan every deal twice in each of its parallel workers (a manager's counts at L:
    # 381–429 ms, 150–184 ms so). SQLite reads a rep's few moves with each one's deal.
    if connections[DealStageChange.objects.db].vendor == "postgresql":
        changes = DealStageChange.objects.filter(moves).order_by()
        deal_rows = deals_in_scope(user, scope).order_by().values("id", "currency", "amount")
    else:
        changes = stage_changes_in_scope(user, scope).filter(moves).order_by()
        deal_rows = Deal.objects.order_by().values("id", "currency", "amount")
    integer = IntegerField()
    position = Case(
        *[When(to_stage_id=s.pk, then=Value(i)) for i, s in enumerate(path)],
        output_field=integer,
    )
    won_ids = [s.pk for s in path if s.kind == WON]
    flags = {
        f"e{i}": Max(
            Case(
                When(to_stage_id=s.pk, changed_at__lt=end, then=Value(1)),
                default=Value(0),
                output_field=integer,
            )
        )
        for i, s in enumerate(path)
    }
    per_deal = changes.values("deal_id").annotate(
        reach=Max(position),
        won=Max(
            Case(
                When(to_stage_id__in=won_ids, then=Value(1)), default=Value(0), output_field=integer
            )
        ),
        **flags,
    )
    inner, inner_params = per_deal.query.sql_with_params()
    deals, deal_params = deal_rows.query.sql_with_params()
    params = (*inner_params, *deal_params)
    connection = connections[changes.db]
    if connection.vendor == "sqlite":
        # SQLite would rather walk every move in deal order (to skip the grouping's sort)
        # than read the period's moves by stage and time and sort those few.
        table = connection.ops.quote_name(DealStageChange._meta.db_table)
        inner = inner.replace(f"FROM {table}", f"FROM {table} INDEXED BY stage_change_to", 1)
    columns = []
    for i in range(len(path)):
        columns += [
            f"SUM(e{i})",
            f"SUM(CASE WHEN e{i} = 1 THEN d.amount ELSE 0 END)",
            f"SUM(CASE WHEN e{i} = 1 AND reach > {i} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN e{i} = 1 AND won = 1 THEN 1 ELSE 0 END)",
        ]
    # Only generated column names and the ORM's own SQL go in; values stay parameters. The
    # moves are summed per deal on their own, so the (to_stage, changed_at) index reads
    # the period alone; each deal's currency and amount are then read once by its key.
    sql = (
        f"SELECT d.currency, {', '.join(columns)} FROM ({inner}) per_deal "  # noqa: S608
        f"INNER JOIN ({deals}) d ON d.id = per_deal.deal_id GROUP BY d.currency"
    )
    result: dict[str, list[tuple[int, Decimal, int, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for currency, *sums in cursor.fetchall():
            result[currency] = [
                (
                    int(sums[4 * i] or 0),
                    Decimal(str(sums[4 * i + 1] or 0)).quantize(CENT),
                    int(sums[4 * i + 2] or 0),
                    int(sums[4 * i + 3] or 0),
                )
                for i in range(len(path))
            ]
    return result


def build_funnel(user: Any, filters: ReportFilters) -> Report:
    pipeline = _pipeline(filters)
    filters = _funnel_filters(filters, pipeline)
    report = Report("funnel", str(FUNNEL.title), filters)
    path = _funnel_stages(_stages(pipeline))
    if not path:
        report.warnings.append(_("There is no pipeline to report on."))
        return report
    rates = RateTable.load(filters.currency)
    rate_day = _rate_day(filters)
    won_stages = [s for s in path if s.kind == WON]
    # The counts and the stalled deals read the stage moves apart; each takes about half
    # of a manager's funnel at L, so they run side by side (`parallel`).
    counts, stall = parallel.run_all(
        [
            lambda: _funnel_counts(user, filters, path),
            lambda: _stall_table(user, filters, [s for s in path if s.kind == OPEN]),
        ]
    )
    rows: list[dict[str, Any]] = []
    missing: dict[str, int] = defaultdict(int)
    for index, stage in enumerate(path):
        value = Decimal(0)
        count = 0
        for currency, per_stage in counts.items():
            entered, total, _moved, _won = per_stage[index]
            count += entered
            if not entered:
                continue
            converted = rates.convert(total, currency, rate_day)
            if converted is None:
                missing[currency] += entered
            else:
                value += converted
        ref = str(stage.public_id)
        row: dict[str, Any] = {
            "stage": stage.name,
            "entered": count,
            "value": value,
            "_drill": {"entered": f"entered:{ref}"},
        }
        if stage.kind == OPEN:
            next_count = sum(c[index][2] for c in counts.values())
            won_count = sum(c[index][3] for c in counts.values())
            row.update(
                moved_on=next_count,
                to_next=ratio(next_count, count),
                reached_won=won_count,
                to_won=ratio(won_count, count),
            )
            row["_drill"].update(moved_on=f"next:{ref}", reached_won=f"won:{ref}")
        else:
            row.update(moved_on=None, to_next=None, reached_won=count, to_won=ratio(count, count))
        rows.append(row)
    # Warnings count deals once per stage they entered; say it per distinct currency.
    report.warnings.extend(missing_rate_warnings(missing))
    first = rows[0]
    won_total = sum(r["entered"] for r in rows if r["stage"] in {s.name for s in won_stages})
    report.figures = [
        Figure(
            "entered",
            _("Deals entering the funnel"),
            first["entered"],
            "count",
            first["_drill"]["entered"],
        ),
        Figure(
            "won",
            _("Deals won"),
            won_total,
            "count",
            rows[-1]["_drill"]["entered"] if len(won_stages) == 1 else None,
        ),
        Figure("conversion", _("Funnel conversion to won"), first.get("to_won"), "percent"),
    ]
    report.tables.append(
        Table(
            "funnel",
            _("Funnel"),
            [
                Column("stage", _("Stage")),
                Column("entered", _("Entered"), "count"),
                Column("value", _("Value"), "money"),
                Column("moved_on", _("Moved on"), "count"),
                Column("to_next", _("To next stage"), "percent"),
                Column("reached_won", _("Won"), "count"),
                Column("to_won", _("To won"), "percent"),
            ],
            rows,
        )
    )
    report.charts.append(
        Chart(
            "funnel",
            [r["stage"] for r in rows],
            [{"label": _("Entered"), "data": [r["entered"] for r in rows]}],
            key="funnel",
            title=_("Funnel"),
        )
    )
    report.tables.extend(stall)
    return report


def drill_funnel(user: Any, filters: ReportFilters, cell: str) -> tuple[str, QuerySet[Deal]]:
    pipeline = _pipeline(filters)
    filters = _funnel_filters(filters, pipeline)
    name, arg = _cell(cell)
    if name in ("over",):
        return drill_stage_durations(user, filters, cell)
    path = _funnel_stages(_stages(pipeline))
    stage = next((s for s in path if str(s.public_id) == arg), None)
    if stage is None:
        raise NotFound()
    if name == "entered":
        return "deal", _entered(user, filters, stage)
    if name == "next":
        return "deal", _moved_on(user, filters, stage, _after(stage, path))
    if name == "won":
        return "deal", _moved_on(user, filters, stage, [s for s in path if s.kind == WON])
    raise NotFound()


# ---------------------------------------------------------------- stage durations


def _moves_out(user: Any, filters: ReportFilters, stages: list[Stage]) -> QuerySet[Any]:
    """Moves out of `stages` in the period with the time spent before them; filtered on
    the pipeline's stages as targets so the (to_stage, changed_at) index reads the period
    alone."""
    start, end = _bounds(filters)
    targets = Stage.objects.filter(pipeline_id__in={s.pipeline_id for s in stages})
    return stage_changes_in_scope(user, _stage_scope(filters)).filter(
        to_stage_id__in=list(targets.values_list("pk", flat=True)),
        from_stage_id__in=[s.pk for s in stages],
        changed_at__gte=start,
        changed_at__lt=end,
        seconds_in_previous__isnull=False,
    )


PERCENTILES = (0.5, 0.9)


def _stage_stats(
    user: Any, filters: ReportFilters, stages: list[Stage]
) -> dict[int, dict[str, Any]]:
    """Per stage: moves out in the period, mean, median and 90th percentile seconds, and
    the usual time (rotting days when set, else the 90th percentile). Two queries: the
    counts and means grouped by stage, then the rows at the percentiles' ranks, numbered
    per stage by a window function."""
    moves = _moves_out(user, filters, stages)
    summary = {
        row["from_stage_id"]: row
        for row in moves.order_by()
        .values("from_stage_id")
        .annotate(n=Count("id"), avg=Avg("seconds_in_previous"))
    }
    ranks: set[int] = set()
    for row in summary.values():
        for fraction in PERCENTILES:
            low = math.floor(fraction * (row["n"] - 1))
            ranks |= {low + 1, low + 2}
    picked: dict[tuple[int, int], float] = {}
    if ranks:
        numbered = moves.order_by().annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("from_stage_id")],
                order_by=[F("seconds_in_previous").asc(), F("id").asc()],
            )
        )
        for stage_id, rank, seconds in numbered.filter(rank__in=sorted(ranks)).values_list(
            "from_stage_id", "rank", "seconds_in_previous"
        ):
            picked[(stage_id, rank)] = float(seconds)
    stats: dict[int, dict[str, Any]] = {}
    for stage in stages:
        row = summary.get(stage.pk)
        n = row["n"] if row else 0
        values: dict[float, float | None] = {}
        for fraction in PERCENTILES:
            if not n:
                values[fraction] = None
                continue
            rank = fraction * (n - 1)
            low = math.floor(rank)
            first = picked[(stage.pk, low + 1)]
            second = picked.get((stage.pk, low + 2), first)
            values[fraction] = first + (second - first) * (rank - low)
        p90 = values[0.9]
        stats[stage.pk] = {
            "n": n,
            "mean": row["avg"] if row else None,
            "p50": values[0.5],
            "p90": p90,
            "threshold": float(stage.rotting_days * DAY) if stage.rotting_days else p90,
        }
    return stats


def _over_parts(
    stages: list[Stage], stats: dict[int, dict[str, Any]]
) -> list[tuple[Stage, dt.datetime]]:
    """(stage, cut-off) for each of `stages` with a usual time: its open deals that
    entered it before the cut-off are over their stage's usual time, as of now."""
    now = timezone.now()
    parts = []
    for stage in stages:
        threshold = stats[stage.pk]["threshold"]
        if threshold is not None:
            parts.append((stage, now - dt.timedelta(seconds=threshold)))
    return parts


def _over_q(stages: list[Stage], stats: dict[int, dict[str, Any]]) -> Q | None:
    """Open deals sitting in one of `stages` longer than its usual time, as of now."""
    clause: Q | None = None
    for stage, cutoff in _over_parts(stages, stats):
        part = Q(stage_id=stage.pk, stage_entered_at__lt=cutoff)
        clause = part if clause is None else clause | part
    return clause


def _over(user: Any, filters: ReportFilters, stages: list[Stage]) -> QuerySet[Deal]:
    clause = _over_q(stages, _stage_stats(user, filters, stages))
    if clause is None:
        return Deal.objects.none()
    return deals_in_scope(user, _stage_scope(filters)).filter(clause)


def _over_list(
    user: Any, filters: ReportFilters, stages: list[Stage], stats: dict[int, dict[str, Any]]
) -> tuple[dict[int, int], list[Deal]]:
    """Per stage, how many deals are over its usual time, and the `OVER_LIST_LIMIT`
    longest of them (longest first). Each stage is read on its own, as a range of the
    (stage, stage_entered_at) index: the counts and the longest deals' keys come from the
    index alone, and only the listed deals' rows are read."""
    deals = deals_in_scope(user, _stage_scope(filters)).order_by()
    counts: dict[int, int] = {}
    candidates: list[tuple[dt.datetime, int]] = []
    for stage, cutoff in _over_parts(stages, stats):
        over = deals.filter(stage_id=stage.pk, stage_entered_at__lt=cutoff)
        counts[stage.pk] = over.count()
        if counts[stage.pk]:
            candidates += over.order_by("stage_entered_at", "pk").values_list(
                "stage_entered_at", "pk"
            )[:OVER_LIST_LIMIT]
    chosen = [pk for _entered, pk in sorted(candidates)[:OVER_LIST_LIMIT]]
    if not chosen:
        return counts, []
    listed = (
        Deal.objects.filter(pk__in=chosen)
        .select_related("owner")
        .only(
            "public_id",
            "title",
            "stage_id",
            "stage_entered_at",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
    )
    return counts, sorted(listed, key=lambda deal: (deal.stage_entered_at, deal.pk))


def _stall_table(user: Any, filters: ReportFilters, stages: list[Stage]) -> list[Table]:
    stats = _stage_stats(user, filters, stages)
    over_counts, longest = _over_list(user, filters, stages, stats)
    names = {s.pk: s.name for s in stages}
    now = timezone.now()
    over_rows = [
        {
            "deal": deal.title,
            "id": str(deal.public_id),
            "stage": names[deal.stage_id],
            "owner": str(deal.owner),
            "days": _days((now - deal.stage_entered_at).total_seconds()),
            "usual": _days(stats[deal.stage_id]["threshold"]),
        }
        for deal in longest
    ]
    rows: list[dict[str, Any]] = []
    for stage in stages:
        stage_stats = stats[stage.pk]
        rows.append(
            {
                "stage": stage.name,
                "moves": stage_stats["n"],
                "median": _days(stage_stats["p50"]),
                "p90": _days(stage_stats["p90"]),
                "mean": _days(stage_stats["mean"]),
                "usual": _days(stage_stats["threshold"]),
                "over": over_counts.get(stage.pk, 0),
                "_drill": {"over": f"over:{stage.public_id}"},
            }
        )
    return [
        Table(
            "stage-durations",
            _("Time in each stage"),
            [
                Column("stage", _("Stage")),
                Column("moves", _("Moves out"), "count"),
                Column("median", _("Median"), "days"),
                Column("p90", _("90th percentile"), "days"),
                Column("mean", _("Mean"), "days"),
                Column("usual", _("Usual time"), "days"),
                Column("over", _("Deals over"), "count"),
            ],
            rows,
        ),
        Table(
            "deals-over",
            _("Open deals over their stage's usual time"),
            [
                Column("deal", _("Deal")),
                Column("stage", _("Stage")),
                Column("owner", _("Owner")),
                Column("days", _("Days in stage"), "days"),
                Column("usual", _("Usual time"), "days"),
            ],
            over_rows,
        ),
    ]


def build_stage_durations(user: Any, filters: ReportFilters) -> Report:
    pipeline = _pipeline(filters)
    filters = _funnel_filters(filters, pipeline)
    report = Report("stage-durations", str(STAGE_DURATIONS.title), filters)
    stages = [s for s in _stages(pipeline) if s.kind == OPEN]
    if not stages:
        report.warnings.append(_("There is no pipeline to report on."))
        return report
    report.tables = _stall_table(user, filters, stages)
    rows = report.tables[0].rows
    report.figures = [
        Figure(
            "over",
            _("Deals over their stage's usual time"),
            sum(r["over"] for r in rows),
            "count",
        ),
    ]
    report.charts.append(
        Chart(
            "bar",
            [r["stage"] for r in rows],
            [
                {"label": _("Median"), "data": [r["median"] for r in rows]},
                {"label": _("90th percentile"), "data": [r["p90"] for r in rows]},
            ],
            key="durations",
            title=_("Days in each stage"),
        )
    )
    return report


def drill_stage_durations(
    user: Any, filters: ReportFilters, cell: str
) -> tuple[str, QuerySet[Deal]]:
    pipeline = _pipeline(filters)
    filters = _funnel_filters(filters, pipeline)
    name, arg = _cell(cell)
    stage = next((s for s in _stages(pipeline) if str(s.public_id) == arg), None)
    if name != "over" or stage is None or stage.kind != OPEN:
        raise NotFound()
    return "deal", _over(user, filters, [stage])


# ---------------------------------------------------------------- sales cycle


CYCLE_GROUPS = ("pipeline", "owner", "source")


def _group_value(deal_row: dict[str, Any], group: str) -> Any:
    return deal_row[{"pipeline": "pipeline_id", "owner": "owner_id", "source": "source"}[group]]


def _group_filter(group: str, arg: str) -> Q:
    if group == "pipeline":
        return Q(pipeline__public_id=arg)
    if group == "owner":
        return Q(owner__public_id=arg)
    if group == "source":
        return Q(source="" if arg == NONE_KEY else arg)
    raise NotFound()


def build_sales_cycle(user: Any, filters: ReportFilters) -> Report:
    report = Report("sales-cycle", str(SALES_CYCLE.title), filters)
    rates = RateTable.load(filters.currency)
    tz = filters.tz
    won_rows = list(
        _won(user, filters)
        .order_by()
        .values(
            "pipeline_id", "owner_id", "source", "currency", "amount", "created_at", "closed_at"
        )
    )
    lost_counts: dict[str, dict[Any, int]] = {group: defaultdict(int) for group in CYCLE_GROUPS}
    for row in (
        _lost(user, filters)
        .order_by()
        .values(*(_group_key(g) for g in CYCLE_GROUPS))
        .annotate(n=Count("id"))
    ):
        for group in CYCLE_GROUPS:
            lost_counts[group][row[_group_key(group)]] += row["n"]
    missing: dict[str, int] = defaultdict(int)
    for row in won_rows:
        row["days"] = max(0.0, (row["closed_at"] - row["created_at"]).total_seconds()) / DAY
        row["value"] = rates.convert(
            row["amount"], row["currency"], row["closed_at"].astimezone(tz).date()
        )
        if row["value"] is None:
            missing[row["currency"]] += 1

    def summary(rows: list[dict[str, Any]], lost: int) -> dict[str, Any]:
        days = [r["days"] for r in rows]
        values = [r["value"] for r in rows if r["value"] is not None]
        won = len(rows)
        return {
            "won": won,
            "lost": lost,
            "win_rate": ratio(won, won + lost),
            "median": round(median(days), 2) if days else None,
            "mean": round(mean(days), 2) if days else None,
            "average_size": (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))
            if values
            else None,
            "won_value": sum(values, Decimal(0)),
        }

    total_lost = sum(lost_counts["pipeline"].values())
    overall = summary(won_rows, total_lost)
    report.warnings.extend(missing_rate_warnings(missing))
    report.figures = [
        Figure("won", _("Deals won"), overall["won"], "count", "won"),
        Figure("lost", _("Deals lost"), overall["lost"], "count", "lost"),
        Figure("win_rate", _("Win rate"), overall["win_rate"], "percent"),
        Figure("average_size", _("Average deal size"), overall["average_size"], "money"),
        Figure("median_cycle", _("Median sales cycle"), overall["median"], "days"),
        Figure("mean_cycle", _("Mean sales cycle"), overall["mean"], "days"),
    ]
    names = {
        "pipeline": {p.pk: (p.name, str(p.public_id)) for p in Pipeline.objects.all()},
        "owner": _user_names([r["owner_id"] for r in won_rows] + list(lost_counts["owner"].keys())),
    }
    titles = {
        "pipeline": _("By pipeline"),
        "owner": _("By owner"),
        "source": _("By source"),
    }
    for group in CYCLE_GROUPS:
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in won_rows:
            grouped[_group_value(row, group)].append(row)
        keys = set(grouped) | set(lost_counts[group])
        rows = []
        for key in keys:
            if group == "source":
                label, ref = (key or _("No source")), (key or NONE_KEY)
            else:
                label, ref = names[group].get(key, ("—", ""))
            data = summary(grouped.get(key, []), lost_counts[group].get(key, 0))
            rows.append(
                {
                    "name": label,
                    **data,
                    "_drill": {"won": f"won:{group}:{ref}", "lost": f"lost:{group}:{ref}"},
                }
            )
        rows.sort(key=lambda r: (-r["won"], -r["lost"], str(r["name"])))
        report.tables.append(
            Table(
                group,
                titles[group],
                [
                    Column(
                        "name",
                        {"pipeline": _("Pipeline"), "owner": _("Owner"), "source": _("Source")}[
                            group
                        ],
                    ),
                    Column("won", _("Won"), "count"),
                    Column("lost", _("Lost"), "count"),
                    Column("win_rate", _("Win rate"), "percent"),
                    Column("median", _("Median cycle"), "days"),
                    Column("mean", _("Mean cycle"), "days"),
                    Column("average_size", _("Average deal size"), "money"),
                ],
                rows,
            )
        )
    owners = report.tables[1].rows
    report.charts.append(
        Chart(
            "bar",
            [str(r["name"]) for r in owners],
            [{"label": _("Median cycle"), "data": [r["median"] for r in owners]}],
            key="cycle-by-owner",
            title=_("Median sales cycle by owner"),
        )
    )
    return report


def _group_key(group: str) -> str:
    return {"pipeline": "pipeline_id", "owner": "owner_id", "source": "source"}[group]


def drill_sales_cycle(user: Any, filters: ReportFilters, cell: str) -> tuple[str, QuerySet[Deal]]:
    parts = (cell or "").split(":", 2)
    base = {"won": _won, "lost": _lost}.get(parts[0])
    if base is None:
        raise NotFound()
    deals = base(user, filters)
    if len(parts) == 1:
        return "deal", deals
    if len(parts) != 3 or parts[1] not in CYCLE_GROUPS:
        raise NotFound()
    try:
        if parts[1] != "source":
            uuid.UUID(parts[2])
        return "deal", deals.filter(_group_filter(parts[1], parts[2]))
    except ValueError:
        raise NotFound() from None


# ---------------------------------------------------------------- wins and losses


def _unit(filters: ReportFilters, default: str = "month") -> str:
    unit = (filters.extra.get("unit") or default).strip()
    if unit not in ("month", "quarter"):
        raise Invalid({"unit": [_("Choose month or quarter.")]})
    return unit


def build_win_loss(user: Any, filters: ReportFilters) -> Report:
    report = Report("win-loss", str(WIN_LOSS.title), filters)
    rates = RateTable.load(filters.currency)
    tz = filters.tz
    bounds = buckets(filters.period, _unit(filters), filters.calendar, filters.week_start)
    label = filters.language

    def by_bucket(row: dict[str, Any]) -> Any:
        return bucket_of(row["day"], bounds)

    won = _grouped_money(
        _won(user, filters), keys=[], when="closed_at", tz=tz, rates=rates, key_of=by_bucket
    )
    lost_rows = _group_rows(
        _lost(user, filters), keys=["lost_reason_id", "competitor_id"], when="closed_at", tz=tz
    )
    lost = _sum_rows(lost_rows, rates, by_bucket)
    reasons = _sum_rows(
        lost_rows, rates, lambda r: (r["lost_reason_id"], bucket_of(r["day"], bounds))
    )
    competitors = _sum_rows(lost_rows, rates, lambda r: (r["competitor_id"],))
    missing: dict[str, int] = {}
    for part in (won, lost):
        merge_missing(missing, part.missing)
    report.warnings.extend(missing_rate_warnings(missing))
    won_n, lost_n = won.total_count(), lost.total_count()
    report.figures = [
        Figure("won", _("Deals won"), won_n, "count", "won"),
        Figure("won_value", _("Value won"), won.total_value(), "money"),
        Figure("lost", _("Deals lost"), lost_n, "count", "lost"),
        Figure("lost_value", _("Value lost"), lost.total_value(), "money"),
        Figure("win_rate", _("Win rate"), ratio(won_n, won_n + lost_n), "percent"),
    ]

    reason_names = {r.pk: (r.name, str(r.public_id)) for r in LostReason.objects.all()}
    reason_totals: dict[Any, list[Any]] = {}
    for (reason_id, index), count in reasons.count.items():
        entry = reason_totals.setdefault(reason_id, [0, Decimal(0), [0] * len(bounds)])
        entry[0] += count
        entry[1] += reasons.value[(reason_id, index)]
        if index is not None:
            entry[2][index] += count
    reason_rows = []
    for reason_id, (count, value, trend) in reason_totals.items():
        name, ref = reason_names.get(reason_id, (_("No reason given"), NONE_KEY))
        reason_rows.append(
            {
                "name": name,
                "count": count,
                "value": value,
                "share": ratio(count, lost_n),
                "trend": trend,
                "_drill": {"count": f"reason:{ref}"},
            }
        )
    reason_rows.sort(key=lambda r: (-r["count"], str(r["name"])))

    competitor_names = {
        c.pk: (c.name, str(c.public_id))
        for c in Competitor.objects.filter(pk__in=[k[0] for k in competitors.count if k[0]])
    }
    competitor_rows = []
    for (competitor_id,), count in competitors.count.items():
        name, ref = competitor_names.get(competitor_id, (_("No competitor named"), NONE_KEY))
        competitor_rows.append(
            {
                "name": name,
                "count": count,
                "value": competitors.value[(competitor_id,)],
                "share": ratio(count, lost_n),
                "_drill": {"count": f"competitor:{ref}"},
            }
        )
    competitor_rows.sort(key=lambda r: (-r["count"], str(r["name"])))

    trend_rows = []
    for index, bucket in enumerate(bounds):
        trend_rows.append(
            {
                "bucket": bucket.label(label),
                "won": won.count.get(index, 0),
                "won_value": won.value.get(index, Decimal(0)),
                "lost": lost.count.get(index, 0),
                "lost_value": lost.value.get(index, Decimal(0)),
                "win_rate": ratio(
                    won.count.get(index, 0), won.count.get(index, 0) + lost.count.get(index, 0)
                ),
                "_drill": {"won": f"won:{index}", "lost": f"lost:{index}"},
            }
        )
    money_cols = [
        Column("count", _("Deals"), "count"),
        Column("value", _("Value"), "money"),
        Column("share", _("Share of losses"), "percent"),
    ]
    report.tables = [
        Table(
            "reasons", _("Lost reasons"), [Column("name", _("Reason")), *money_cols], reason_rows
        ),
        Table(
            "competitors",
            _("Lost to competitors"),
            [Column("name", _("Competitor")), *money_cols],
            competitor_rows,
        ),
        Table(
            "trend",
            _("Wins and losses over time"),
            [
                Column("bucket", _("Period")),
                Column("won", _("Won"), "count"),
                Column("won_value", _("Value won"), "money"),
                Column("lost", _("Lost"), "count"),
                Column("lost_value", _("Value lost"), "money"),
                Column("win_rate", _("Win rate"), "percent"),
            ],
            trend_rows,
        ),
    ]
    labels = [r["bucket"] for r in trend_rows]
    report.charts = [
        Chart(
            "bar",
            labels,
            [
                {"label": _("Won"), "data": [r["won"] for r in trend_rows]},
                {"label": _("Lost"), "data": [r["lost"] for r in trend_rows]},
            ],
            key="trend",
            title=_("Wins and losses over time"),
        ),
        Chart(
            "stacked-bar",
            labels,
            [{"label": str(r["name"]), "data": r["trend"]} for r in reason_rows],
            key="reasons",
            title=_("Lost reasons over time"),
        ),
        Chart(
            "doughnut",
            [str(r["name"]) for r in reason_rows],
            [{"label": _("Deals lost"), "data": [r["count"] for r in reason_rows]}],
            key="reason-share",
            title=_("Lost reasons"),
        ),
    ]
    return report


def drill_win_loss(user: Any, filters: ReportFilters, cell: str) -> tuple[str, QuerySet[Deal]]:
    name, arg = _cell(cell)
    if name in ("won", "lost"):
        base = _won if name == "won" else _lost
        if not arg:
            return "deal", base(user, filters)
        bounds = buckets(filters.period, _unit(filters), filters.calendar, filters.week_start)
        if not arg.isdigit() or int(arg) >= len(bounds):
            raise NotFound()
        return "deal", base(user, filters, bounds[int(arg)])
    if name == "reason":
        lost = _lost(user, filters)
        if arg == NONE_KEY:
            return "deal", lost.filter(lost_reason__isnull=True)
        return "deal", lost.filter(lost_reason=_by_public_id(LostReason, arg))
    if name == "competitor":
        lost = _lost(user, filters)
        if arg == NONE_KEY:
            return "deal", lost.filter(competitor__isnull=True)
        return "deal", lost.filter(competitor=_by_public_id(Competitor, arg))
    raise NotFound()


# ---------------------------------------------------------------- forecast


def _target(filters: ReportFilters) -> Decimal | None:
    raw = (filters.extra.get("target") or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ""))
    except ArithmeticError:
        raise Invalid({"target": [_("Enter an amount.")]}) from None
    if not value.is_finite() or value <= 0:
        raise Invalid({"target": [_("Enter an amount above zero.")]})
    return value


def _open_in(user: Any, filters: ReportFilters, period: Period) -> QuerySet[Deal]:
    return _open(user, filters).filter(
        expected_close__gte=period.start, expected_close__lt=period.end
    )


def _forecast_buckets(filters: ReportFilters) -> list[Period]:
    return buckets(filters.period, _unit(filters), filters.calendar, filters.week_start)


def build_forecast(user: Any, filters: ReportFilters) -> Report:
    report = Report("forecast", str(FORECAST.title), filters)
    rates = RateTable.load(filters.currency)
    tz = filters.tz
    bounds = _forecast_buckets(filters)
    target = _target(filters)
    today = filters.today
    period = filters.period

    def index(row: dict[str, Any]) -> Any:
        return bucket_of(row["expected_close"], bounds)

    # One read of the open deals, grouped by day, owner and team: the buckets and the
    # owner and team tables are both sums of these rows.
    open_rows = _group_rows(
        _open_in(user, filters, period),
        keys=["expected_close", "owner_id", "team_id"],
        when=None,
        tz=tz,
    )
    open_by_day = open_rows
    open_by_owner = open_rows
    won_rows = _group_rows(
        _won(user, filters), keys=["owner_id", "team_id"], when="closed_at", tz=tz
    )
    weighted = _sum_rows(open_by_day, rates, index, fixed_day=today, amount="weighted")
    plain = _sum_rows(open_by_day, rates, index, fixed_day=today)
    won = _sum_rows(won_rows, rates, lambda r: bucket_of(r["day"], bounds))
    missing: dict[str, int] = {}
    merge_missing(missing, plain.missing)
    merge_missing(missing, won.missing)
    report.warnings.extend(missing_rate_warnings(missing))

    open_w, won_v = weighted.total_value(), won.total_value()
    figures = [
        Figure("open", _("Open deals expected to close"), plain.total_count(), "count", "open"),
        Figure("open_value", _("Open value"), plain.total_value(), "money"),
        Figure("weighted", _("Weighted open value"), open_w, "money"),
        Figure("won", _("Deals won"), won.total_count(), "count", "won"),
        Figure("won_value", _("Value won"), won_v, "money"),
        Figure("expected", _("Won plus weighted open"), won_v + open_w, "money"),
    ]
    if target is not None:
        figures += [
            Figure("target", _("Target"), target, "money"),
            Figure(
                "coverage", _("Coverage of the target"), ratio(won_v + open_w, target), "percent"
            ),
            Figure(
                "gap",
                _("Left to reach the target"),
                max(target - won_v - open_w, Decimal(0)),
                "money",
            ),
        ]
    undated = _open(user, filters).filter(expected_close__isnull=True).count()
    if undated:
        report.warnings.append(
            ngettext(
                "%(count)s open deal has no expected close date and is not forecast.",
                "%(count)s open deals have no expected close date and are not forecast.",
                undated,
            )
            % {"count": undated}
        )
    report.figures = figures

    bucket_rows = []
    for i, bucket in enumerate(bounds):
        bucket_rows.append(
            {
                "bucket": bucket.label(filters.language),
                "open": plain.count.get(i, 0),
                "open_value": plain.value.get(i, Decimal(0)),
                "weighted": weighted.value.get(i, Decimal(0)),
                "won": won.count.get(i, 0),
                "won_value": won.value.get(i, Decimal(0)),
                "_drill": {"open": f"open:{i}", "won": f"won:{i}"},
            }
        )
    value_columns = [
        Column("open", _("Open deals"), "count"),
        Column("open_value", _("Open value"), "money"),
        Column("weighted", _("Weighted"), "money"),
        Column("won", _("Won"), "count"),
        Column("won_value", _("Value won"), "money"),
    ]
    report.tables.append(
        Table(
            "buckets",
            _("Forecast by expected close"),
            [Column("bucket", _("Period")), *value_columns],
            bucket_rows,
        )
    )

    for group, field_name, names_of, title, heading in (
        ("owner", "owner_id", _user_names, _("By owner"), _("Owner")),
        ("team", "team_id", _team_names, _("By team"), _("Team")),
    ):

        def by_group(row: dict[str, Any], name: str = field_name) -> Any:
            return row[name]

        o_plain = _sum_rows(open_by_owner, rates, by_group, fixed_day=today)
        o_weighted = _sum_rows(open_by_owner, rates, by_group, fixed_day=today, amount="weighted")
        o_won = _sum_rows(won_rows, rates, by_group)
        keys = set(o_plain.count) | set(o_won.count)
        names = names_of(keys)
        rows = []
        for key in keys:
            label, ref = names.get(key, (_("No team") if group == "team" else "—", NONE_KEY))
            rows.append(
                {
                    "name": label,
                    "open": o_plain.count.get(key, 0),
                    "open_value": o_plain.value.get(key, Decimal(0)),
                    "weighted": o_weighted.value.get(key, Decimal(0)),
                    "won": o_won.count.get(key, 0),
                    "won_value": o_won.value.get(key, Decimal(0)),
                    "_drill": {"open": f"open-{group}:{ref}", "won": f"won-{group}:{ref}"},
                }
            )
        rows.sort(key=lambda r: (-(r["weighted"] + r["won_value"]), str(r["name"])))
        report.tables.append(Table(group, title, [Column("name", heading), *value_columns], rows))

    report.charts.append(
        Chart(
            "stacked-bar",
            [r["bucket"] for r in bucket_rows],
            [
                {"label": _("Won"), "data": [r["won_value"] for r in bucket_rows]},
                {"label": _("Weighted open"), "data": [r["weighted"] for r in bucket_rows]},
            ],
            key="forecast",
            title=_("Forecast by expected close"),
        )
    )
    return report


def drill_forecast(user: Any, filters: ReportFilters, cell: str) -> tuple[str, QuerySet[Deal]]:
    name, arg = _cell(cell)
    if name == "open" and not arg:
        return "deal", _open_in(user, filters, filters.period)
    if name == "won" and not arg:
        return "deal", _won(user, filters)
    if name in ("open", "won"):
        bounds = _forecast_buckets(filters)
        if not arg.isdigit() or int(arg) >= len(bounds):
            raise NotFound()
        if name == "open":
            return "deal", _open_in(user, filters, filters.period).filter(
                expected_close__gte=bounds[int(arg)].start,
                expected_close__lt=bounds[int(arg)].end,
            )
        return "deal", _won(user, filters, bounds[int(arg)])
    kind, _sep, group = name.partition("-")
    if kind not in ("open", "won") or group not in ("owner", "team"):
        raise NotFound()
    deals = _open_in(user, filters, filters.period) if kind == "open" else _won(user, filters)
    if arg == NONE_KEY:
        return "deal", deals.filter(**{f"{group}__isnull": True})
    model = User if group == "owner" else Team
    return "deal", deals.filter(**{group: _by_public_id(model, arg)})


# ---------------------------------------------------------------- registration


FUNNEL = register(
    ReportDefinition(
        key="funnel",
        title=gettext_lazy("Sales funnel"),
        description=gettext_lazy(
            "Deals entering each stage, their value, how many move on and how many are won; "
            "where deals stall."
        ),
        build=build_funnel,
        drill=drill_funnel,
    )
)
STAGE_DURATIONS = register(
    ReportDefinition(
        key="stage-durations",
        title=gettext_lazy("Time in stages"),
        description=gettext_lazy(
            "Median, 90th percentile and mean days deals spend in each stage, and the open "
            "deals over their stage's usual time."
        ),
        build=build_stage_durations,
        drill=drill_stage_durations,
    )
)
SALES_CYCLE = register(
    ReportDefinition(
        key="sales-cycle",
        title=gettext_lazy("Sales cycle"),
        description=gettext_lazy(
            "Days from creation to win by pipeline, owner and source; win rate and average "
            "deal size."
        ),
        build=build_sales_cycle,
        drill=drill_sales_cycle,
    )
)
WIN_LOSS = register(
    ReportDefinition(
        key="win-loss",
        title=gettext_lazy("Wins and losses"),
        description=gettext_lazy(
            "Deals won and lost, the reasons and competitors of losses, and their trend."
        ),
        build=build_win_loss,
        drill=drill_win_loss,
    )
)
FORECAST = register(
    ReportDefinition(
        key="forecast",
        title=gettext_lazy("Forecast"),
        description=gettext_lazy(
            "Open deals weighted by probability by expected close, against what is won, per "
            "owner and team, and the coverage of a target."
        ),
        build=build_forecast,
        drill=drill_forecast,
    )
)
