"""Loading one deal, pipeline, stage, product, lost reason or competitor named by user input."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet

from wasl.core.access import access_record, parse_public_id
from wasl.core.errors import NotFound
from wasl.deals.models import Competitor, Deal, LostReason, Pipeline, Product, Stage
from wasl.deals.selectors import (
    competitor_list,
    deal_detail,
    lost_reason_list,
    pipeline_list,
    product_list,
    stage_list,
)

ModelT = TypeVar("ModelT", bound=models.Model)


def _one(scoped: QuerySet[ModelT], public_id: Any) -> ModelT:
    record = scoped.filter(public_id=parse_public_id(public_id)).first()
    if record is None:
        raise NotFound()
    return record


def access_deal(actor: Any, public_id: Any, *, for_write: bool = False) -> Deal:
    """The deal if the actor sees it (and, with for_write, may change it); NotFound for a
    missing or invisible deal, Forbidden for a visible one the actor may not change."""
    return access_record(actor, deal_detail(actor=actor), public_id, for_write=for_write)


def access_pipeline(actor: Any, public_id: Any) -> Pipeline:
    """A pipeline (archived ones too) with its stages prefetched."""
    return _one(pipeline_list(actor=actor, include_inactive=True), public_id)


def access_stage(actor: Any, public_id: Any, *, pipeline: Pipeline | None = None) -> Stage:
    """A stage; with `pipeline`, only one of that pipeline's stages."""
    return _one(stage_list(actor=actor, pipeline=pipeline), public_id)


def access_product(actor: Any, public_id: Any) -> Product:
    return _one(product_list(actor=actor, include_inactive=True), public_id)


def access_lost_reason(actor: Any, public_id: Any) -> LostReason:
    return _one(lost_reason_list(actor=actor, include_inactive=True), public_id)


def access_competitor(actor: Any, public_id: Any) -> Competitor:
    return _one(competitor_list(actor=actor), public_id)
