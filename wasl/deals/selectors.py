"""Reads of deals, pipelines, products, lost reasons and competitors, scoped by visibility.

Pipelines, stages, products, lost reasons and competitors are shared vocabulary: every
active user reads them. Deals follow the one visibility rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

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
    return deals.select_related(
        "owner", "team", "pipeline", "stage", "company", "lost_reason", "competitor"
    ).prefetch_related("tags", "contacts")


def deal_detail(*, actor: Any) -> QuerySet[Deal]:
    """`deal_list` plus the line items (with their products)."""
    return deal_list(actor=actor).prefetch_related(
        Prefetch(
            "line_items",
            queryset=DealLineItem.objects.select_related("product").order_by("position", "id"),
        )
    )


def my_open_deals_by_stage(*, actor: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The actor's own open deals summed by pipeline, stage and currency, in board order:
    `{"pipeline", "stage", "stage_id", "currency", "count", "total"}`. One query."""
    if actor is None or not actor.is_active:
        return []
    rows = (
        Deal.objects.filter(owner_id=actor.pk, closed_at__isnull=True, stage__kind=Stage.Kind.OPEN)
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
