"""Reads of deals, pipelines, products, lost reasons and competitors, scoped by visibility.

Pipelines, stages, products, lost reasons and competitors are shared vocabulary: every
active user reads them. Deals follow the one visibility rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.lookups import IsNull
from django.utils import timezone

from wasl.core.audit import json_value
from wasl.core.pagination import _encode
from wasl.core.planner import Likely
from wasl.core.visibility import visible
from wasl.deals.models import (
    Competitor,
    Deal,
    DealLineItem,
    DealStageChange,
    LostReason,
    Pipeline,
    Product,
    Stage,
)


def _active(actor: Any) -> bool:
    return actor is None or bool(actor.is_active)


# ---------------------------------------------------------------- deals


def deal_list(*, actor: Any) -> QuerySet[Deal]:
    """Deals the actor may see, with what a list row shows loaded in a fixed number of
    queries (one for the rows, one each for tags and contacts)."""
    deals = Deal.objects.all() if actor is None else visible(Deal.objects.all(), actor)
    # Pipelines and stages are tiny tables loaded by prefetch: joining them lets SQLite
    # drive the query from the pipeline/stage index and sort, instead of walking the
    # (stage, updated_at) index in order.
    return deals.select_related(
        "owner", "team", "company", "lost_reason", "competitor"
    ).prefetch_related("pipeline", "stage", "tags", "contacts")


def deal_rows(*, actor: Any) -> QuerySet[Deal]:
    """Deals the actor may see with what the deals list page shows (owner, company, stage
    with its pipeline, tags) in a fixed number of queries. Owners and stages are small
    tables loaded apart, as in `deal_list`, so SQLite walks the deal indexes in order
    instead of sorting joined rows. Read the pipeline as `deal.stage.pipeline`."""
    deals = Deal.objects.all() if actor is None else visible(Deal.objects.all(), actor)
    stages = Prefetch("stage", queryset=Stage.objects.select_related("pipeline"))
    return deals.select_related("company").prefetch_related("owner", stages, "tags")


def deal_detail(*, actor: Any) -> QuerySet[Deal]:
    """`deal_list` plus the line items (with their products)."""
    return deal_list(actor=actor).prefetch_related(
        Prefetch(
            "line_items",
            queryset=DealLineItem.objects.select_related("product").order_by("position", "id"),
        )
    )


class _NotClosed(Likely, IsNull):
    # Open deals are about half of all deals in the demo data (fewer after years of use),
    # not the few rows per value SQLite guesses for `closed_at IS NULL` from the closed-date
    # index: with the hint it reads the owner's open deals from `deal_owner_open` alone.
    share = 0.3


def my_open_deals_by_stage(*, actor: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The actor's own open deals summed by pipeline, stage and currency, in board order:
    `{"pipeline", "stage", "stage_id", "currency", "count", "total"}`. One query."""
    if actor is None or not actor.is_active:
        return []
    rows = (
        Deal.objects.filter(
            _NotClosed(F("closed_at"), True), owner_id=actor.pk, stage__kind=Stage.Kind.OPEN
        )
        .values(
            "pipeline__name",
            "pipeline__position",
            "pipeline_id",
            "stage_id",
            "stage__name",
            "stage__position",
            "currency",
        )
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("pipeline__position", "pipeline_id", "stage__position", "stage_id", "currency")
    )
    return [
        {
            "pipeline": row["pipeline__name"],
            "stage": row["stage__name"],
            "stage_id": row["stage_id"],
            "currency": row["currency"],
            "count": row["count"],
            "total": row["total"],
        }
        for row in rows[:limit]
    ]


def deal_stage_history(deal: Deal) -> QuerySet[DealStageChange]:
    """Every stage change of a deal, oldest first (the first row is its creation).
    Callers check that the actor sees `deal` (load it with `access_deal`)."""
    return (
        DealStageChange.objects.filter(deal_id=deal.pk)
        .select_related("from_stage", "to_stage", "actor")
        .order_by("changed_at", "id")
    )


def deal_time_in_stages(
    deal: Deal,
    *,
    history: list[DealStageChange] | None = None,
    now: dt.datetime | None = None,
) -> dict[int, int]:
    """Seconds the deal has spent in each stage (by stage id), summed over repeat visits.

    An open deal keeps accruing time in its current stage up to `now`; a closed deal's
    clock stopped when it was won or lost, so its final stage counts nothing more.
    """
    rows = history if history is not None else list(deal_stage_history(deal))
    totals: dict[int, int] = {}
    for row in rows:
        if row.from_stage_id is None:
            continue
        seconds = row.seconds_in_previous
        if seconds is None:
            continue
        totals[row.from_stage_id] = totals.get(row.from_stage_id, 0) + int(seconds)
    if deal.closed_at is None:
        elapsed = int(((now or timezone.now()) - deal.stage_entered_at).total_seconds())
        totals[deal.stage_id] = totals.get(deal.stage_id, 0) + max(0, elapsed)
    return totals


def deal_cycle_seconds(deal: Deal) -> int | None:
    """The sales cycle: seconds from creation to close, or None while the deal is open."""
    if deal.closed_at is None:
        return None
    return max(0, int((deal.closed_at - deal.created_at).total_seconds()))


# ---------------------------------------------------------------- pipelines and stages


def _ordered_stages() -> QuerySet[Stage]:
    return Stage.objects.order_by("position", "id")


def pipeline_list(*, actor: Any, include_inactive: bool = False) -> QuerySet[Pipeline]:
    """Pipelines with their stages in order (two queries whatever their number)."""
    if not _active(actor):
        return Pipeline.objects.none()
    pipelines = Pipeline.objects.order_by("position", "id").prefetch_related(
        Prefetch("stages", queryset=_ordered_stages())
    )
    return pipelines if include_inactive else pipelines.filter(is_active=True)


def stage_list(*, actor: Any, pipeline: Pipeline | None = None) -> QuerySet[Stage]:
    if not _active(actor):
        return Stage.objects.none()
    stages = _ordered_stages().select_related("pipeline")
    return stages.filter(pipeline=pipeline) if pipeline is not None else stages


def default_pipeline() -> Pipeline | None:
    """The pipeline new deals go to: the default one, else the first active one."""
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "position", "id").first()


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.filter(pipeline=pipeline, kind=Stage.Kind.OPEN)
        .order_by("position", "id")
        .first()
    )


# ---------------------------------------------------------------- catalogue and reasons


def product_list(*, actor: Any, include_inactive: bool = False) -> QuerySet[Product]:
    if not _active(actor):
        return Product.objects.none()
    products = Product.objects.order_by("name", "id")
    return products if include_inactive else products.filter(is_active=True)


def lost_reason_list(*, actor: Any, include_inactive: bool = False) -> QuerySet[LostReason]:
    if not _active(actor):
        return LostReason.objects.none()
    reasons = LostReason.objects.order_by("position", "name")
    return reasons if include_inactive else reasons.filter(is_active=True)


def competitor_list(*, actor: Any) -> QuerySet[Competitor]:
    if not _active(actor):
        return Competitor.objects.none()
    return Competitor.objects.order_by("key", "id")


# ---------------------------------------------------------------- pipeline board

BOARD_PAGE = 15
CENT = Decimal("0.01")
# Activity kinds that are planned and then done (wasl.activities, a later app, owns them).
_PLANNED_KINDS = ("task", "call", "meeting")


def keyset_cursor(value: Any, pk: int) -> str:
    """The cursor `wasl.core.pagination.keyset_page` continues from after a row with this
    sort value and id."""
    return _encode([json_value(value), pk])


@dataclass
class StageTotals:
    """One board column's figures: deal count and, per currency, total and weighted total."""

    count: int = 0
    amounts: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


@dataclass
class NextTask:
    subject: str
    due_at: dt.datetime | None


def board_deals(
    *,
    actor: Any,
    owner_id: int | None = None,
    team_id: int | None = None,
) -> QuerySet[Deal]:
    """The visible deals, optionally of one owner or team, with what a board card shows
    (owner, company) joined in. Callers narrow by stage, which names the pipeline: a
    pipeline filter here would steer the cards' subqueries away from the stage index."""
    deals = Deal.objects.all()
    if actor is not None:
        deals = visible(deals, actor)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    if team_id is not None:
        deals = deals.filter(team_id=team_id)
    return deals.select_related("owner", "company")


def board_totals(
    deals: QuerySet[Deal], pipeline: Pipeline, stages: Iterable[Stage]
) -> dict[int, StageTotals]:
    """Count, total and weighted total (amount × the deal's probability) of each stage of
    `pipeline`, per currency, in one aggregate query over the `deal_board_totals` index."""
    stage_ids = [stage.pk for stage in stages]
    totals = {pk: StageTotals() for pk in stage_ids}
    if not stage_ids:
        return totals
    money = DecimalField(max_digits=24, decimal_places=4)
    rows = (
        deals.filter(pipeline=pipeline, stage_id__in=stage_ids)
        .order_by()
        .values("stage_id", "currency")
        .annotate(
            n=Count("pk"),
            total=Sum("amount", output_field=money),
            weighted=Sum(
                ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money),
                output_field=money,
            ),
        )
    )
    for row in rows:
        column = totals[row["stage_id"]]
        column.count += row["n"]
        column.amounts[row["currency"]] = (
            Decimal(row["total"] or 0).quantize(CENT),
            Decimal(row["weighted"] or 0).quantize(CENT),
        )
    return totals


def board_cards(
    deals: QuerySet[Deal], stages: Iterable[Stage], *, limit: int = BOARD_PAGE
) -> dict[int, tuple[list[Deal], str | None]]:
    """The first `limit` cards of each stage (most recently updated first) and the cursor
    of each stage's next page (for `keyset_page` on `updated_at` descending). Each stage's
    page is a small indexed read: subqueries of one query on SQLite, one UNION for the ids
    then the cards on PostgreSQL."""
    stage_ids = [stage.pk for stage in stages]
    pages: dict[int, tuple[list[Deal], str | None]] = {pk: ([], None) for pk in stage_ids}
    if not stage_ids:
        return pages
    heads = [
        deals.filter(stage_id=pk)
        .order_by("-updated_at", "-pk")
        .values_list("pk", flat=True)[: limit + 1]
        for pk in stage_ids
    ]
    if connection.features.supports_slicing_ordering_in_compound:
        # PostgreSQL: the ids first, in one UNION of the stages' index reads. An OR of
        # `IN (subquery)` makes it scan and hash every deal (120 ms at 300k deals).
        first, *others = heads
        clause = Q(pk__in=list(first.union(*others, all=True)) if others else list(first))
    else:
        # SQLite reads each `IN (subquery)` of the OR from the stage index (and cannot
        # order and limit the parts of a UNION).
        clause = Q()
        for head in heads:
            clause |= Q(pk__in=head)
    rows: dict[int, list[Deal]] = {pk: [] for pk in stage_ids}
    for deal in deals.filter(clause).order_by("-updated_at", "-pk"):
        rows[deal.stage_id].append(deal)
    for pk, cards in rows.items():
        cursor = None
        if len(cards) > limit:
            cards = cards[:limit]
            cursor = keyset_cursor(cards[-1].updated_at, cards[-1].pk)
        pages[pk] = (cards, cursor)
    return pages


class _OpenActivity(Likely, IsNull):
    # Open activities are a small share of all of them, yet far more than the one or two
    # rows SQLite guesses for `done_at IS NULL`: without the hint it walks every open
    # activity through the done-date index instead of the few of the board's deals.
    share = 0.1


def board_next_tasks(deal_ids: Iterable[int]) -> dict[int, NextTask]:
    """Each deal's next open task, call or meeting (earliest due first, undated last), in
    one query for all the deals given. Callers pass deals the actor sees: a visible deal's
    activities show on it whoever they are assigned to, as on its timeline."""
    ids = sorted(set(deal_ids))
    if not ids:
        return {}
    # Activities are a later app, so deals does not import its model: read it off the
    # reverse relation. The rows come through the (deal, created) index, deal by deal.
    activity = Deal._meta.get_field("activities").related_model
    rows = (
        activity.objects.filter(
            _OpenActivity(F("done_at"), True), deal_id__in=ids, kind__in=_PLANNED_KINDS
        )
        .order_by("deal_id", F("due_at").asc(nulls_last=True), "id")
        .values_list("deal_id", "subject", "due_at")
    )
    found: dict[int, NextTask] = {}
    for pk, subject, due_at in rows:
        if pk not in found:
            found[pk] = NextTask(subject=subject, due_at=due_at)
    return found
