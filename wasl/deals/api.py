"""Pipelines, stages, deals, stage history, products, lost reasons and competitors over the API.

Stages are managed under their pipeline: `POST pipelines/{id}/stages` adds one,
`PATCH`/`DELETE pipelines/{id}/stages/{stage_id}` change or remove one and
`PUT pipelines/{id}/stage-order` reorders them all. A deal changes stage through
`PATCH deals/{id}` with `stage_id` (and `lost_reason_id`, `competitor`, `lost_note` for a
lost stage); every change is recorded and listed by `GET deals/{id}/stage-history`.
Amounts, prices, quantities and percentages are decimal strings in answers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from wasl.accounts.access import access_user
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.listing import CommonFilters, apply_common_filters, custom_params
from wasl.core.access import parse_public_id
from wasl.core.api import ERROR_RESPONSES, BuiltOut, Page, actor_of
from wasl.core.errors import Invalid, NotFound
from wasl.core.pagination import keyset_page, resolve_sort
from wasl.core.text import normalise
from wasl.deals import services
from wasl.deals.access import (
    access_deal,
    access_lost_reason,
    access_pipeline,
    access_product,
    access_stage,
)
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
from wasl.deals.selectors import (
    competitor_list,
    deal_cycle_seconds,
    deal_list,
    deal_stage_history,
    deal_time_in_stages,
    lost_reason_list,
    pipeline_list,
    product_list,
)

router = Router(tags=["deals"])

DEAL_SORTS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "amount": "amount",
    "expected_close": "expected_close",
    "title": "title",
}


# ---------------------------------------------------------------- schemas


class Ref(BuiltOut):
    id: str
    name: str


class StageOut(BuiltOut):
    id: str
    name: str
    position: int
    probability: int
    kind: str
    rotting_days: int


class PipelineOut(BuiltOut):
    id: str
    name: str
    position: int
    is_default: bool
    is_active: bool
    stages: list[StageOut]


class StageIn(Schema):
    name: str
    probability: int | None = None
    kind: Literal["open", "won", "lost"] = "open"
    rotting_days: int = 0


class StageCreateIn(StageIn):
    position: int | None = None


class StagePatch(Schema):
    name: str | None = None
    probability: int | None = None
    kind: Literal["open", "won", "lost"] | None = None
    rotting_days: int | None = None


class StageOrderIn(Schema):
    stage_ids: list[str]


class PipelineIn(Schema):
    name: str
    is_default: bool = False
    stages: list[StageIn] = []


class PipelinePatch(Schema):
    name: str | None = None
    is_default: bool | None = None
    is_active: bool | None = None
    position: int | None = None


class LineItemOut(BuiltOut):
    product_id: str | None
    product: Ref | None
    description: str
    quantity: str
    unit_price: str
    discount_percent: str
    total: str


class LineItemIn(Schema):
    product_id: str | None = None
    description: str = ""
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal("0")


class StageRef(BuiltOut):
    id: str
    name: str
    kind: str


class DealOut(BuiltOut):
    id: str
    title: str
    amount: str
    currency: str
    expected_close: dt.date | None
    pipeline_id: str
    pipeline: Ref
    stage_id: str
    stage: StageRef
    status: str
    probability: int
    owner_id: str
    team_id: str | None
    company_id: str | None
    company: Ref | None
    contact_ids: list[str]
    tags: list[str]
    source: str
    notes: str
    lost_reason_id: str | None
    lost_reason: Ref | None
    competitor_id: str | None
    competitor: Ref | None
    lost_note: str
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    custom: dict[str, Any]
    line_items: list[LineItemOut] | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealIn(Schema):
    title: str
    pipeline_id: str | None = None
    stage_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    probability: int | None = None
    owner_id: str | None = None
    company_id: str | None = None
    contact_ids: list[str] = []
    tags: list[str] = []
    custom: dict[str, Any] = {}
    source: str = ""
    notes: str = ""
    line_items: list[LineItemIn] = []


class DealPatch(Schema):
    title: str | None = None
    pipeline_id: str | None = None
    stage_id: str | None = None
    lost_reason_id: str | None = None
    competitor: str | None = None
    lost_note: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    probability: int | None = None
    owner_id: str | None = None
    company_id: str | None = None
    contact_ids: list[str] | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    source: str | None = None
    notes: str | None = None
    line_items: list[LineItemIn] | None = None


class DealFilters(CommonFilters):
    pipeline: str | None = None
    stage: str | None = None
    status: Literal["open", "won", "lost"] | None = None
    company: str | None = None
    contact: str | None = None
    expected_close_after: dt.date | None = None
    expected_close_before: dt.date | None = None


class StageChangeOut(BuiltOut):
    from_stage_id: str | None
    from_stage: Ref | None
    to_stage_id: str
    to_stage: Ref
    actor_id: str | None
    changed_at: dt.datetime
    seconds_in_previous: int | None


class StageTimeOut(BuiltOut):
    stage_id: str
    stage: Ref
    seconds: int


class StageHistoryOut(BuiltOut):
    items: list[StageChangeOut]
    time_in_stages: list[StageTimeOut]
    cycle_seconds: int | None


class ProductOut(BuiltOut):
    id: str
    name: str
    sku: str
    description: str
    unit: str
    price: str
    currency: str
    tax_percent: str
    is_active: bool


class ProductIn(Schema):
    name: str
    price: Decimal
    currency: str | None = None
    sku: str = ""
    description: str = ""
    unit: str = ""
    tax_percent: Decimal = Decimal("0")
    is_active: bool = True


class ProductPatch(Schema):
    name: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    sku: str | None = None
    description: str | None = None
    unit: str | None = None
    tax_percent: Decimal | None = None
    is_active: bool | None = None


class LostReasonOut(BuiltOut):
    id: str
    name: str
    position: int
    is_active: bool


class LostReasonIn(Schema):
    name: str
    position: int = 0


class LostReasonPatch(Schema):
    name: str | None = None
    position: int | None = None
    is_active: bool | None = None


class CompetitorOut(BuiltOut):
    id: str
    name: str
    website: str


class CompetitorIn(Schema):
    name: str
    website: str = ""


# ---------------------------------------------------------------- output builders


def _ref(record: Any) -> Ref | None:
    return Ref(id=str(record.public_id), name=record.name) if record is not None else None


def _id(record: Any) -> str | None:
    return str(record.public_id) if record is not None else None


def stage_out(stage: Stage) -> StageOut:
    return StageOut(
        id=str(stage.public_id),
        name=stage.name,
        position=stage.position,
        probability=stage.probability,
        kind=stage.kind,
        rotting_days=stage.rotting_days,
    )


def pipeline_out(pipeline: Pipeline) -> PipelineOut:
    return PipelineOut(
        id=str(pipeline.public_id),
        name=pipeline.name,
        position=pipeline.position,
        is_default=pipeline.is_default,
        is_active=pipeline.is_active,
        stages=[stage_out(s) for s in pipeline.stages.all()],
    )


def line_out(line: DealLineItem) -> LineItemOut:
    return LineItemOut(
        product_id=_id(line.product),
        product=_ref(line.product),
        description=line.description,
        quantity=str(line.quantity),
        unit_price=str(line.unit_price),
        discount_percent=str(line.discount_percent),
        total=str(line.total),
    )


def deal_out(deal: Deal, *, detail: bool = False) -> DealOut:
    return DealOut(
        id=str(deal.public_id),
        title=deal.title,
        amount=str(deal.amount),
        currency=deal.currency,
        expected_close=deal.expected_close,
        pipeline_id=str(deal.pipeline.public_id),
        pipeline=Ref(id=str(deal.pipeline.public_id), name=deal.pipeline.name),
        stage_id=str(deal.stage.public_id),
        stage=StageRef(id=str(deal.stage.public_id), name=deal.stage.name, kind=deal.stage.kind),
        status=deal.stage.kind,
        probability=deal.probability,
        owner_id=str(deal.owner.public_id),
        team_id=_id(deal.team),
        company_id=_id(deal.company),
        company=_ref(deal.company),
        contact_ids=sorted(str(c.public_id) for c in deal.contacts.all()),
        tags=sorted(t.name for t in deal.tags.all()),
        source=deal.source,
        notes=deal.notes,
        lost_reason_id=_id(deal.lost_reason),
        lost_reason=_ref(deal.lost_reason),
        competitor_id=_id(deal.competitor),
        competitor=_ref(deal.competitor),
        lost_note=deal.lost_note,
        stage_entered_at=deal.stage_entered_at,
        closed_at=deal.closed_at,
        custom=deal.custom,
        line_items=[line_out(li) for li in deal.line_items.all()] if detail else None,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def product_out(product: Product) -> ProductOut:
    return ProductOut(
        id=str(product.public_id),
        name=product.name,
        sku=product.sku,
        description=product.description,
        unit=product.unit,
        price=str(product.price),
        currency=product.currency,
        tax_percent=str(product.tax_percent),
        is_active=product.is_active,
    )


def lost_reason_out(reason: LostReason) -> LostReasonOut:
    return LostReasonOut(
        id=str(reason.public_id),
        name=reason.name,
        position=reason.position,
        is_active=reason.is_active,
    )


def competitor_out(competitor: Competitor) -> CompetitorOut:
    return CompetitorOut(
        id=str(competitor.public_id), name=competitor.name, website=competitor.website
    )


def change_out(change: DealStageChange) -> StageChangeOut:
    return StageChangeOut(
        from_stage_id=_id(change.from_stage),
        from_stage=_ref(change.from_stage),
        to_stage_id=str(change.to_stage.public_id),
        to_stage=Ref(id=str(change.to_stage.public_id), name=change.to_stage.name),
        actor_id=_id(change.actor),
        changed_at=change.changed_at,
        seconds_in_previous=change.seconds_in_previous,
    )


# ---------------------------------------------------------------- input resolution


def _uuid_filter(value: str, field: str) -> Any:
    try:
        return parse_public_id(value)
    except NotFound as error:
        raise Invalid({field: [_("Enter a valid id.")]}) from error


def _lines_in(actor: Any, items: list[LineItemIn]) -> list[dict[str, Any]]:
    lines = []
    for item in items:
        data = item.dict()
        product_id = data.pop("product_id")
        data["product"] = access_product(actor, product_id) if product_id else None
        lines.append(data)
    return lines


def _deal_refs(actor: Any, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    """Turn `<thing>_id` public ids in `data` into records the actor may use."""
    refs: dict[str, Any] = {}
    if "pipeline_id" in data:
        pipeline_id = data.pop("pipeline_id")
        if pipeline_id:
            refs["pipeline"] = access_pipeline(actor, pipeline_id)
    if "stage_id" in data:
        stage_id = data.pop("stage_id")
        if stage_id:
            refs["stage"] = access_stage(actor, stage_id)
    if "owner_id" in data:
        owner_id = data.pop("owner_id")
        if owner_id:
            refs["owner"] = access_user(actor, owner_id)
    if "company_id" in data:
        company_id = data.pop("company_id")
        refs["company"] = access_company(actor, company_id) if company_id else None
    if "contact_ids" in data:
        contact_ids = data.pop("contact_ids")
        if contact_ids is not None:
            refs["contacts"] = [access_contact(actor, cid) for cid in dict.fromkeys(contact_ids)]
    if "lost_reason_id" in data:
        reason_id = data.pop("lost_reason_id")
        refs["lost_reason"] = access_lost_reason(actor, reason_id) if reason_id else None
    if "competitor" in data:
        refs["competitor_name"] = data.pop("competitor") or ""
    if "line_items" in data:
        items = data.pop("line_items")
        if items is not None or not patch:
            refs["line_items"] = _lines_in(actor, [LineItemIn(**i) for i in items or []])
    return refs


# ---------------------------------------------------------------- pipelines and stages


@router.get("/pipelines", response={200: Page[PipelineOut], **ERROR_RESPONSES})
def list_pipelines(request: HttpRequest, include_inactive: bool = False):
    """Pipelines in order, each with its stages in order."""
    rows = pipeline_list(actor=actor_of(request), include_inactive=include_inactive)
    return {"items": [pipeline_out(p) for p in rows], "next": None}


@router.post("/pipelines", response={201: PipelineOut, **ERROR_RESPONSES})
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """Create a pipeline (admins). Without stages it gets four open stages, won and lost."""
    actor = actor_of(request)
    pipeline = services.pipeline_create(
        actor=actor,
        name=payload.name,
        stages=[s.dict() for s in payload.stages],
        is_default=payload.is_default,
    )
    return Status(201, pipeline_out(access_pipeline(actor, pipeline.public_id)))


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERROR_RESPONSES})
def get_pipeline(request: HttpRequest, pipeline_id: str):
    return pipeline_out(access_pipeline(actor_of(request), pipeline_id))


@router.patch("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERROR_RESPONSES})
def update_pipeline(request: HttpRequest, pipeline_id: str, payload: PipelinePatch):
    """Rename, reorder, archive (`is_active` false) or make default (admins)."""
    actor = actor_of(request)
    services.pipeline_update(
        actor=actor,
        pipeline=access_pipeline(actor, pipeline_id),
        **payload.dict(exclude_unset=True),
    )
    return pipeline_out(access_pipeline(actor, pipeline_id))


@router.delete("/pipelines/{pipeline_id}", response={204: None, **ERROR_RESPONSES})
def delete_pipeline(request: HttpRequest, pipeline_id: str):
    """Delete a pipeline no deal is in or passed through (admins); else 422, archive it."""
    actor = actor_of(request)
    services.pipeline_delete(actor=actor, pipeline=access_pipeline(actor, pipeline_id))
    return Status(204, None)


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut, **ERROR_RESPONSES})
def create_stage(request: HttpRequest, pipeline_id: str, payload: StageCreateIn):
    """Add a stage (admins); without a position an open stage goes after the open ones."""
    actor = actor_of(request)
    stage = services.stage_create(
        actor=actor, pipeline=access_pipeline(actor, pipeline_id), **payload.dict()
    )
    return Status(201, stage_out(stage))


@router.put("/pipelines/{pipeline_id}/stage-order", response={200: PipelineOut, **ERROR_RESPONSES})
def reorder_stages(request: HttpRequest, pipeline_id: str, payload: StageOrderIn):
    """Put the stages in the order of `stage_ids`, which lists each stage once (admins)."""
    actor = actor_of(request)
    pipeline = access_pipeline(actor, pipeline_id)
    stages = [access_stage(actor, sid, pipeline=pipeline) for sid in payload.stage_ids]
    services.stage_reorder(actor=actor, pipeline=pipeline, stages=stages)
    return pipeline_out(access_pipeline(actor, pipeline_id))


@router.get(
    "/pipelines/{pipeline_id}/stages/{stage_id}", response={200: StageOut, **ERROR_RESPONSES}
)
def get_stage(request: HttpRequest, pipeline_id: str, stage_id: str):
    actor = actor_of(request)
    pipeline = access_pipeline(actor, pipeline_id)
    return stage_out(access_stage(actor, stage_id, pipeline=pipeline))


@router.patch(
    "/pipelines/{pipeline_id}/stages/{stage_id}", response={200: StageOut, **ERROR_RESPONSES}
)
def update_stage(request: HttpRequest, pipeline_id: str, stage_id: str, payload: StagePatch):
    """Rename a stage, change its default probability, kind or rotting days (admins)."""
    actor = actor_of(request)
    stage = access_stage(actor, stage_id, pipeline=access_pipeline(actor, pipeline_id))
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return stage_out(services.stage_update(actor=actor, stage=stage, **data))


@router.delete(
    "/pipelines/{pipeline_id}/stages/{stage_id}", response={204: None, **ERROR_RESPONSES}
)
def delete_stage(request: HttpRequest, pipeline_id: str, stage_id: str):
    """Delete a stage no deal is in or passed through (admins); otherwise 422."""
    actor = actor_of(request)
    stage = access_stage(actor, stage_id, pipeline=access_pipeline(actor, pipeline_id))
    services.stage_delete(actor=actor, stage=stage)
    return Status(204, None)


# ---------------------------------------------------------------- deals


@router.get("/deals", response={200: Page[DealOut], **ERROR_RESPONSES})
def list_deals(request: HttpRequest, filters: Query[DealFilters]):
    """Deals you may see. Filters: owner, team, tag, pipeline, stage, status
    (open/won/lost), company, contact, created/updated/expected-close ranges and
    `custom.<key>=<value>`; sort by updated_at, created_at, amount, expected_close or
    title (prefix `-` for descending)."""
    actor = actor_of(request)
    field, descending = resolve_sort(filters.sort, DEAL_SORTS, "-updated_at")
    queryset = apply_common_filters(
        deal_list(actor=actor), filters, entity="deal", custom=custom_params(request)
    )
    if filters.pipeline:
        queryset = queryset.filter(pipeline__public_id=_uuid_filter(filters.pipeline, "pipeline"))
    if filters.stage:
        queryset = queryset.filter(stage__public_id=_uuid_filter(filters.stage, "stage"))
    if filters.status:
        queryset = queryset.filter(stage__kind=filters.status)
    if filters.company:
        queryset = queryset.filter(company__public_id=_uuid_filter(filters.company, "company"))
    if filters.contact:
        queryset = queryset.filter(contacts__public_id=_uuid_filter(filters.contact, "contact"))
    if filters.expected_close_after:
        queryset = queryset.filter(expected_close__gte=filters.expected_close_after)
    if filters.expected_close_before:
        queryset = queryset.filter(expected_close__lt=filters.expected_close_before)
    rows, next_cursor = keyset_page(
        queryset, field=field, descending=descending, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [deal_out(d) for d in rows], "next": next_cursor}


@router.post("/deals", response={201: DealOut, **ERROR_RESPONSES})
def create_deal(request: HttpRequest, payload: DealIn):
    """Create a deal; pipeline defaults to the default one, stage to its first open one,
    probability to the stage's, currency to the site's, amount to the lines' total."""
    actor = actor_of(request)
    data = payload.dict()
    refs = _deal_refs(actor, data, patch=False)
    deal = services.deal_create(actor=actor, **data, **refs)
    return Status(201, deal_out(access_deal(actor, deal.public_id), detail=True))


@router.get("/deals/{deal_id}", response={200: DealOut, **ERROR_RESPONSES})
def get_deal(request: HttpRequest, deal_id: str):
    return deal_out(access_deal(actor_of(request), deal_id), detail=True)


@router.patch("/deals/{deal_id}", response={200: DealOut, **ERROR_RESPONSES})
def update_deal(request: HttpRequest, deal_id: str, payload: DealPatch):
    """Change the fields sent. `stage_id` moves the deal (a lost stage needs
    `lost_reason_id`; `competitor` and `lost_note` are optional); `line_items` replaces
    the lines and recomputes the amount unless `amount` is sent too."""
    actor = actor_of(request)
    deal = access_deal(actor, deal_id, for_write=True)
    data = payload.dict(exclude_unset=True)
    refs = _deal_refs(actor, data, patch=True)
    for name in ("title", "currency", "probability", "amount", "source", "notes"):
        if name in data and data[name] is None:
            raise Invalid({name: [_("This field cannot be empty.")]})
    services.deal_update(actor=actor, deal=deal, **data, **refs)
    return deal_out(access_deal(actor, deal_id), detail=True)


@router.delete("/deals/{deal_id}", response={204: None, **ERROR_RESPONSES})
def delete_deal(request: HttpRequest, deal_id: str):
    actor = actor_of(request)
    services.deal_delete(actor=actor, deal=access_deal(actor, deal_id, for_write=True))
    return Status(204, None)


@router.get("/deals/{deal_id}/stage-history", response={200: StageHistoryOut, **ERROR_RESPONSES})
def get_stage_history(request: HttpRequest, deal_id: str):
    """Every stage change, oldest first; the seconds spent in each stage; the sales cycle
    (creation to close, null while open)."""
    deal = access_deal(actor_of(request), deal_id)
    history = list(deal_stage_history(deal))
    stages: dict[int, Stage] = {}
    for change in history:
        stages[change.to_stage_id] = change.to_stage
        if change.from_stage is not None:
            stages[change.from_stage.pk] = change.from_stage
    stages[deal.stage_id] = deal.stage
    totals = deal_time_in_stages(deal, history=history)
    return StageHistoryOut(
        items=[change_out(c) for c in history],
        time_in_stages=[
            StageTimeOut(
                stage_id=str(stages[pk].public_id),
                stage=Ref(id=str(stages[pk].public_id), name=stages[pk].name),
                seconds=seconds,
            )
            for pk, seconds in totals.items()
        ],
        cycle_seconds=deal_cycle_seconds(deal),
    )


# ---------------------------------------------------------------- products


@router.get("/products", response={200: Page[ProductOut], **ERROR_RESPONSES})
def list_products(
    request: HttpRequest,
    q: str = "",
    include_inactive: bool = False,
    cursor: str | None = None,
    limit: int = 50,
):
    """The catalogue by name; `q` matches the start of a name or SKU."""
    products = product_list(actor=actor_of(request), include_inactive=include_inactive)
    if q.strip():
        products = products.filter(Q(name__istartswith=q.strip()) | Q(sku__iexact=q.strip()))
    rows, next_cursor = keyset_page(
        products, field="name", descending=False, cursor=cursor, limit=limit
    )
    return {"items": [product_out(p) for p in rows], "next": next_cursor}


@router.post("/products", response={201: ProductOut, **ERROR_RESPONSES})
def create_product(request: HttpRequest, payload: ProductIn):
    """Add a product (admins and managers); currency defaults to the site's."""
    product = services.product_create(actor=actor_of(request), **payload.dict())
    return Status(201, product_out(product))


@router.get("/products/{product_id}", response={200: ProductOut, **ERROR_RESPONSES})
def get_product(request: HttpRequest, product_id: str):
    return product_out(access_product(actor_of(request), product_id))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERROR_RESPONSES})
def update_product(request: HttpRequest, product_id: str, payload: ProductPatch):
    actor = actor_of(request)
    data = payload.dict(exclude_unset=True)
    for name, value in data.items():
        if value is None:
            raise Invalid({name: [_("This field cannot be empty.")]})
    product = services.product_update(
        actor=actor, product=access_product(actor, product_id), **data
    )
    return product_out(product)


@router.delete("/products/{product_id}", response={204: None, **ERROR_RESPONSES})
def delete_product(request: HttpRequest, product_id: str):
    """Delete a product no deal line uses (admins and managers); else 422, deactivate it."""
    actor = actor_of(request)
    services.product_delete(actor=actor, product=access_product(actor, product_id))
    return Status(204, None)


# ---------------------------------------------------------------- lost reasons


@router.get("/lost-reasons", response={200: Page[LostReasonOut], **ERROR_RESPONSES})
def list_lost_reasons(request: HttpRequest, include_inactive: bool = False):
    rows = lost_reason_list(actor=actor_of(request), include_inactive=include_inactive)
    return {"items": [lost_reason_out(r) for r in rows], "next": None}


@router.post("/lost-reasons", response={201: LostReasonOut, **ERROR_RESPONSES})
def create_lost_reason(request: HttpRequest, payload: LostReasonIn):
    """Add a reason to the list offered when a deal is lost (admins)."""
    reason = services.lost_reason_create(actor=actor_of(request), **payload.dict())
    return Status(201, lost_reason_out(reason))


@router.get("/lost-reasons/{reason_id}", response={200: LostReasonOut, **ERROR_RESPONSES})
def get_lost_reason(request: HttpRequest, reason_id: str):
    return lost_reason_out(access_lost_reason(actor_of(request), reason_id))


@router.patch("/lost-reasons/{reason_id}", response={200: LostReasonOut, **ERROR_RESPONSES})
def update_lost_reason(request: HttpRequest, reason_id: str, payload: LostReasonPatch):
    actor = actor_of(request)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    reason = services.lost_reason_update(
        actor=actor, reason=access_lost_reason(actor, reason_id), **data
    )
    return lost_reason_out(reason)


@router.delete("/lost-reasons/{reason_id}", response={204: None, **ERROR_RESPONSES})
def delete_lost_reason(request: HttpRequest, reason_id: str):
    """Delete an unused reason (admins); one that deals carry answers 422."""
    actor = actor_of(request)
    services.lost_reason_delete(actor=actor, reason=access_lost_reason(actor, reason_id))
    return Status(204, None)


# ---------------------------------------------------------------- competitors


@router.get("/competitors", response={200: Page[CompetitorOut], **ERROR_RESPONSES})
def list_competitors(
    request: HttpRequest, q: str = "", cursor: str | None = None, limit: int = 100
):
    """Competitors by name; `q` matches the start of the normalised name."""
    competitors = competitor_list(actor=actor_of(request))
    if q:
        competitors = competitors.filter(key__startswith=normalise(q))
    rows, next_cursor = keyset_page(
        competitors, field="key", descending=False, cursor=cursor, limit=limit
    )
    return {"items": [competitor_out(c) for c in rows], "next": next_cursor}


@router.post("/competitors", response={201: CompetitorOut, **ERROR_RESPONSES})
def create_competitor(request: HttpRequest, payload: CompetitorIn):
    """The competitor with this name (same normalised name: the existing one)."""
    competitor = services.competitor_create(actor=actor_of(request), **payload.dict())
    return Status(201, competitor_out(competitor))
