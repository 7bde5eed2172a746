"""Writes on deals, their stage history and line items, pipelines, stages, products,
lost reasons and competitors.

Rules kept here (and tested in tests/test_services.py):

* Probability. A new deal takes its stage's default unless one is given. On a stage
  change the deal follows the new stage's default when its probability still equals the
  old stage's default (it was never overridden); an overridden probability is kept.
  Moving into a won or lost stage always takes that stage's probability, and a
  probability given in the same call wins over both.
* Amount. Whenever a call changes a deal's line items and the deal ends up with at least
  one line, `amount` becomes the sum of the line totals, unless that same call passes
  `amount`. A call that does not touch the lines never recomputes, and removing the last
  line keeps the amount as it was.
* Stages. The stage must belong to the deal's pipeline; changing pipeline needs a stage
  of the new pipeline. Won and lost stages set `closed_at`; lost needs a lost reason.
  Moving back to an open stage clears `closed_at`, the lost reason, competitor and note.
  Each change writes a `DealStageChange` row (the first at creation, `from_stage` NULL).
* Deleting. A stage that holds deals, or that stage history refers to, is not deleted
  (422); the same for a pipeline. Lost reasons and products in use are deactivated
  instead of deleted (422 tells so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.contacts.custom_fields import clean_custom_values
from wasl.contacts.services import tags_resolve
from wasl.core import events, search
from wasl.core.audit import diff, record_audit, snapshot
from wasl.core.errors import FieldErrors, Forbidden, Invalid
from wasl.core.models import AuditEntry
from wasl.core.text import normalise
from wasl.core.validation import UNSET, model_field_errors
from wasl.core.visibility import (
    Role,
    require_admin,
    require_assign_to,
    require_can_create,
    require_write,
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
from wasl.deals.money import (
    MAX_MONEY,
    clean_currency,
    clean_decimal,
    clean_money,
    clean_percent,
)
from wasl.deals.selectors import default_pipeline, first_open_stage

Kind = Stage.Kind

MAX_LINES = 200
MAX_STAGES = 50
MAX_NOTE = 10000
# Quantity is DecimalField(max_digits=14, decimal_places=3).
MAX_QUANTITY = Decimal("99999999999.999")


def _at_most_stages() -> str:
    return ngettext("At most %(count)d stage.", "At most %(count)d stages.", MAX_STAGES) % {
        "count": MAX_STAGES
    }


_DEAL_SCALARS = [
    "title",
    "amount",
    "currency",
    "expected_close",
    "probability",
    "source",
    "notes",
    "custom",
    "lost_note",
    "closed_at",
]
_DEAL_REFS = ["owner", "pipeline", "stage", "company", "lost_reason", "competitor"]
# Fields a stage move may change by itself; other changes also announce `deal.updated`.
_MOVE_FIELDS = {
    "stage",
    "pipeline",
    "probability",
    "closed_at",
    "lost_reason",
    "competitor",
    "lost_note",
}
_UPDATABLE = {
    "title",
    "amount",
    "currency",
    "expected_close",
    "probability",
    "source",
    "notes",
    "owner",
    "company",
    "contacts",
    "tags",
    "custom",
    "pipeline",
    "stage",
    "lost_reason",
    "competitor_name",
    "lost_note",
    "line_items",
}
_LINE_KEYS = {"product", "description", "quantity", "unit_price", "discount_percent"}
# Model validation runs for lengths and types; references are checked by the services.
_NOT_MODEL_CHECKED = [
    "owner",
    "team",
    "pipeline",
    "stage",
    "company",
    "lost_reason",
    "competitor",
    "custom",
    "stage_entered_at",
    "amount",
    "probability",
]


# ---------------------------------------------------------------- helpers


def _require_catalog_editor(actor: Any) -> None:
    if actor is None:
        return
    if not actor.is_active or actor.role not in (Role.ADMIN, Role.MANAGER):
        raise Forbidden()


def _resolve_owner(actor: Any, owner: Any) -> Any:
    chosen = owner if owner not in (None, UNSET) else actor
    if chosen is None:
        raise Invalid({"owner_id": [_("Choose an owner.")]})
    if actor is not None:
        require_assign_to(actor, chosen)
    return chosen


def _clean_probability(value: Any, errors: FieldErrors, field: str = "probability") -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
        errors.add(field, _("Enter a whole number from 0 to 100."))
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= 100:
        errors.add(field, _("Enter a whole number from 0 to 100."))
        return None
    return int(number)


def _clean_text(value: Any, errors: FieldErrors, field: str, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors.add(field, _("At most %(limit)d characters.") % {"limit": limit})
    return text


def _check_tag_names(names: Iterable[str] | None, errors: FieldErrors) -> None:
    for raw in names or []:
        if len(" ".join(str(raw).split())) > 80:
            errors.add("tags", _("A tag has at most 80 characters."))
            return


def _clean_lines(
    items: Sequence[Any] | None, currency: str, errors: FieldErrors
) -> list[dict[str, Any]]:
    """Validated line items as dicts of model fields, in the order given."""
    items = list(items or [])
    if len(items) > MAX_LINES:
        errors.add(
            "line_items",
            ngettext("At most %(count)d line.", "At most %(count)d lines.", MAX_LINES)
            % {"count": MAX_LINES},
        )
        return []
    lines: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        field = f"line_items.{index}"
        if not isinstance(item, dict):
            errors.add(field, _("Give each line as product, quantity, price and discount."))
            continue
        for key in set(item) - _LINE_KEYS:
            errors.add(f"{field}.{key}", _("Unknown field."))
        product = item.get("product")
        if product is not None and not isinstance(product, Product):
            errors.add(f"{field}.product_id", _("Choose a product from the catalogue."))
            continue
        description = _clean_text(item.get("description"), errors, f"{field}.description", 300)
        if not description and product is not None:
            description = product.name[:300]
        if not description:
            errors.add(f"{field}.description", _("Describe the line or choose a product."))
        quantity = clean_decimal(
            item.get("quantity", 1),
            errors,
            f"{field}.quantity",
            places=3,
            minimum=Decimal("0.001"),
            maximum=MAX_QUANTITY,
        )
        raw_price = item.get("unit_price")
        if raw_price is None and product is not None:
            if product.currency != currency:
                errors.add(
                    f"{field}.unit_price",
                    _("The product is priced in %(product)s; give a price in %(deal)s.")
                    % {"product": product.currency, "deal": currency},
                )
                continue
            raw_price = product.price
        if raw_price is None:
            errors.add(f"{field}.unit_price", _("Enter a unit price."))
            continue
        unit_price = clean_money(raw_price, errors, f"{field}.unit_price")
        discount = clean_percent(
            item.get("discount_percent", 0) or 0, errors, f"{field}.discount_percent"
        )
        if quantity is None or unit_price is None or discount is None:
            continue
        line = {
            "product": product,
            "description": description,
            "quantity": quantity,
            "unit_price": unit_price,
            "discount_percent": discount,
        }
        if DealLineItem(**line).total > MAX_MONEY:
            errors.add(f"{field}.quantity", _("This line's total is too large."))
            continue
        lines.append(line)
    return lines


def _lines_total(lines: Iterable[DealLineItem]) -> Decimal:
    total = sum((line.total for line in lines), Decimal("0"))
    return min(total, MAX_MONEY)


def _replace_lines(deal: Deal, lines: list[dict[str, Any]]) -> list[DealLineItem]:
    DealLineItem.objects.filter(deal=deal).delete()
    return DealLineItem.objects.bulk_create(
        DealLineItem(deal=deal, position=position, **line) for position, line in enumerate(lines)
    )


def _line_state(line: DealLineItem) -> dict[str, Any]:
    return {
        "product": str(line.product.public_id) if line.product else None,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
    }


def _deal_state(deal: Deal) -> dict[str, Any]:
    """What the audit trail compares: fields, references by public id, links and lines."""
    state = snapshot(deal, _DEAL_SCALARS)
    for name in _DEAL_REFS:
        related = getattr(deal, name)
        state[name] = str(related.public_id) if related is not None else None
    state["contacts"] = sorted(str(p) for p in deal.contacts.values_list("public_id", flat=True))
    state["tags"] = sorted(deal.tags.values_list("name", flat=True))
    state["line_items"] = [
        _line_state(line)
        for line in DealLineItem.objects.filter(deal=deal)
        .select_related("product")
        .order_by("position", "id")
    ]
    return state


def _index_deal(deal: Deal) -> None:
    search.index_record(
        kind="deal",
        record=deal,
        title=deal.title,
        subtitle=deal.company.name if deal.company_id and deal.company else "",
        parts=list(deal.tags.values_list("name", flat=True)),
    )


def competitor_resolve(name: str) -> Competitor | None:
    """The competitor with this normalised name, created when new; None for a blank name.
    Call inside the caller's transaction, after validation."""
    clean = " ".join((name or "").split())
    key = normalise(clean)
    if not key:
        return None
    competitor, _created = Competitor.objects.get_or_create(
        key=key[:160], defaults={"name": clean[:160]}
    )
    return competitor


def _check_competitor_name(name: Any, errors: FieldErrors, field: str = "competitor") -> str:
    clean = " ".join(str(name or "").split())
    if len(clean) > 160:
        errors.add(field, _("At most %(limit)d characters.") % {"limit": 160})
    return clean


# ---------------------------------------------------------------- stage moves


def _check_target_stage(
    stage: Stage,
    pipeline: Pipeline,
    *,
    lost_reason: LostReason | None,
    competitor_name: str,
    lost_note: str,
    errors: FieldErrors,
) -> None:
    """Validate a move into `stage` of `pipeline` with the lost details given."""
    if stage.pipeline_id != pipeline.pk:
        errors.add("stage_id", _("This stage belongs to another pipeline."))
        return
    _check_lost_details(
        stage.kind,
        lost_reason=lost_reason,
        competitor_name=competitor_name,
        lost_note=lost_note,
        require_reason=True,
        errors=errors,
    )


def _check_lost_details(
    kind: str,
    *,
    lost_reason: LostReason | None,
    competitor_name: str,
    lost_note: str,
    require_reason: bool,
    errors: FieldErrors,
) -> None:
    if kind == Kind.LOST:
        if lost_reason is None and require_reason:
            errors.add("lost_reason_id", _("Say why the deal was lost."))
        elif lost_reason is not None and not lost_reason.is_active:
            errors.add("lost_reason_id", _("This reason is no longer offered; choose another."))
        if len(lost_note or "") > MAX_NOTE:
            errors.add("lost_note", _("At most %(limit)d characters.") % {"limit": MAX_NOTE})
        return
    message = _("Only a lost deal has a lost reason, competitor or note.")
    if lost_reason is not None:
        errors.add("lost_reason_id", message)
    if competitor_name:
        errors.add("competitor", message)
    if lost_note:
        errors.add("lost_note", message)


def _apply_stage(
    *,
    actor: Any,
    deal: Deal,
    stage: Stage,
    lost_reason: LostReason | None,
    competitor_name: str,
    lost_note: str,
    now: Any,
) -> DealStageChange:
    """Put `deal` (locked, validated) into `stage` and write the history row.
    The caller saves the deal."""
    old_stage = deal.stage
    follows_stage = deal.probability == old_stage.probability
    seconds = max(0, int((now - deal.stage_entered_at).total_seconds()))
    deal.pipeline_id = stage.pipeline_id
    deal.pipeline = stage.pipeline
    deal.stage = stage
    deal.stage_entered_at = now
    if stage.kind in (Kind.WON, Kind.LOST) or follows_stage:
        deal.probability = stage.probability
    if stage.kind == Kind.OPEN:
        deal.closed_at = None
    elif old_stage.kind == Kind.OPEN or deal.closed_at is None or old_stage.kind != stage.kind:
        deal.closed_at = now
    if stage.kind == Kind.LOST:
        deal.lost_reason = lost_reason
        deal.competitor = competitor_resolve(competitor_name)
        deal.lost_note = (lost_note or "").strip()
    else:
        deal.lost_reason, deal.competitor, deal.lost_note = None, None, ""
    return DealStageChange.objects.create(
        deal=deal,
        from_stage=old_stage,
        to_stage=stage,
        actor_id=getattr(actor, "pk", None),
        changed_at=now,
        seconds_in_previous=seconds,
    )


def _emit_move(actor: Any, deal: Deal, change: DealStageChange) -> None:
    from_stage = change.from_stage
    data = {
        "id": deal.public_id,
        "pipeline_id": deal.pipeline.public_id,
        "from_stage_id": from_stage.public_id if from_stage else None,
        "to_stage_id": deal.stage.public_id,
        "seconds_in_previous": change.seconds_in_previous,
    }
    events.emit("deal.stage_changed", deal, actor, data)
    closed = {
        "id": deal.public_id,
        "stage_id": deal.stage.public_id,
        "amount": deal.amount,
        "currency": deal.currency,
    }
    if deal.stage.kind == Kind.WON:
        events.emit("deal.won", deal, actor, closed)
    elif deal.stage.kind == Kind.LOST:
        events.emit(
            "deal.lost",
            deal,
            actor,
            {
                **closed,
                "lost_reason_id": deal.lost_reason.public_id if deal.lost_reason else None,
                "competitor_id": deal.competitor.public_id if deal.competitor else None,
            },
        )


# ---------------------------------------------------------------- deals


def deal_create(
    *,
    actor: Any,
    title: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Any = None,
    currency: str | None = None,
    expected_close: Any = None,
    owner: Any = None,
    company: Any = None,
    contacts: Iterable[Any] = (),
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    source: str = "",
    probability: Any = None,
    notes: str = "",
    line_items: Sequence[dict[str, Any]] = (),
) -> Deal:
    """Create a deal in `stage` (default: the first open stage of `pipeline`, default: the
    default pipeline), with contacts, tags, custom values and line items.

    Validates everything before writing; raises Invalid (nothing written) or Forbidden.
    """
    if actor is not None:
        require_can_create(actor)
    owner = _resolve_owner(actor, owner)
    errors = FieldErrors()
    if pipeline is None and stage is not None:
        pipeline = stage.pipeline
    if pipeline is None:
        pipeline = default_pipeline()
        if pipeline is None:
            errors.add("pipeline_id", _("Create a pipeline first."))
    elif not pipeline.is_active:
        errors.add("pipeline_id", _("This pipeline is archived."))
    if pipeline is not None:
        if stage is None:
            stage = first_open_stage(pipeline)
            if stage is None:
                errors.add("stage_id", _("This pipeline has no open stage."))
        elif stage.pipeline_id != pipeline.pk:
            errors.add("stage_id", _("This stage belongs to another pipeline."))
        elif stage.kind == Kind.LOST:
            errors.add(
                "stage_id",
                _("Create the deal in an open or won stage, then mark it lost with a reason."),
            )
    currency = clean_currency(currency or settings.WASL_CURRENCY, errors)
    lines = _clean_lines(line_items, currency, errors)
    clean_amount = None if amount is None else clean_money(amount, errors, "amount")
    chosen_probability = None if probability is None else _clean_probability(probability, errors)
    _check_tag_names(tags, errors)
    contacts = list(contacts or [])
    now = timezone.now()
    deal = Deal(
        title=(title or "").strip(),
        currency=currency,
        expected_close=expected_close,
        owner=owner,
        team_id=owner.team_id,
        company=company,
        source=(source or "").strip(),
        notes=_clean_text(notes, errors, "notes", MAX_NOTE),
        stage_entered_at=now,
    )
    if not deal.title:
        errors.add("title", _("Give the deal a title."))
    model_field_errors(deal, errors, exclude=_NOT_MODEL_CHECKED)
    deal.custom = clean_custom_values(entity="deal", values=custom, errors=errors)
    errors.raise_if_any()
    assert pipeline is not None and stage is not None
    deal.pipeline, deal.stage = pipeline, stage
    deal.probability = stage.probability if chosen_probability is None else chosen_probability
    if stage.kind == Kind.WON:
        deal.closed_at = now
    if clean_amount is not None:
        deal.amount = clean_amount
    elif lines:
        deal.amount = _lines_total(DealLineItem(**line) for line in lines)
    with transaction.atomic():
        deal.save()
        if contacts:
            deal.contacts.set(contacts)
        deal.tags.set(tags_resolve(actor=actor, names=tags))
        _replace_lines(deal, lines)
        change = DealStageChange.objects.create(
            deal=deal,
            from_stage=None,
            to_stage=stage,
            actor_id=getattr(actor, "pk", None),
            changed_at=now,
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=deal,
            changes=diff({}, _deal_state(deal)),
        )
        events.emit(
            "deal.created",
            deal,
            actor,
            {"id": deal.public_id, "stage_id": stage.public_id, "pipeline_id": pipeline.public_id},
        )
        if stage.kind == Kind.WON:
            _emit_move(actor, deal, change)
        _index_deal(deal)
    return deal


def deal_update(*, actor: Any, deal: Deal, **fields: Any) -> Deal:
    """Change the fields given (others stay); `contacts`, `tags` and `line_items` given
    replace the old ones. A `stage` (and `pipeline`) given moves the deal with the same
    rules as `deal_move_to_stage`, with `lost_reason`, `competitor_name` and `lost_note`.

    Locks the row, validates everything first, audits old and new values."""
    if actor is not None:
        require_write(actor, deal)
    errors = FieldErrors()
    for name in sorted(set(fields) - _UPDATABLE):
        errors.add(name, _("Unknown field."))
    errors.raise_if_any()
    with transaction.atomic():
        # The lock serialises concurrent moves so each history row sees the true stage.
        deal = (
            Deal.objects.select_for_update(of=("self",))
            .select_related("stage", "pipeline", "owner", "company", "lost_reason", "competitor")
            .get(pk=deal.pk)
        )
        before = _deal_state(deal)
        now = timezone.now()
        for name in ("title", "source"):
            if name in fields:
                setattr(deal, name, str(fields[name] or "").strip())
        if "notes" in fields:
            deal.notes = _clean_text(fields["notes"], errors, "notes", MAX_NOTE)
        if "title" in fields and not deal.title:
            errors.add("title", _("Give the deal a title."))
        if "expected_close" in fields:
            deal.expected_close = fields["expected_close"]
        if "currency" in fields:
            deal.currency = clean_currency(fields["currency"], errors)
        new_amount = None
        if "amount" in fields:
            new_amount = clean_money(fields["amount"], errors, "amount")
        new_probability = None
        if "probability" in fields:
            new_probability = _clean_probability(fields["probability"], errors)
        owner = fields.get("owner")
        if owner is not None and owner.pk != deal.owner_id:
            if actor is not None:
                require_assign_to(actor, owner)
            deal.owner, deal.team_id = owner, owner.team_id
        if "company" in fields:
            deal.company = fields["company"]
        if "custom" in fields and fields["custom"] is not None:
            deal.custom = clean_custom_values(
                entity="deal", values=fields["custom"], existing=deal.custom, errors=errors
            )
        if "tags" in fields:
            _check_tag_names(fields["tags"], errors)
        lines = None
        if fields.get("line_items") is not None:
            lines = _clean_lines(fields["line_items"], deal.currency, errors)

        pipeline = fields.get("pipeline") or deal.pipeline
        stage = fields.get("stage")
        lost_reason = fields.get("lost_reason")
        competitor_name = _check_competitor_name(fields.get("competitor_name"), errors)
        lost_note = str(fields.get("lost_note") or "").strip()
        if pipeline.pk != deal.pipeline_id:
            if stage is None:
                errors.add("stage_id", _("Choose a stage of the new pipeline."))
            if not pipeline.is_active:
                errors.add("pipeline_id", _("This pipeline is archived."))
        if stage is not None and stage.pk != deal.stage_id:
            moving = True
            _check_target_stage(
                stage,
                pipeline,
                lost_reason=lost_reason,
                competitor_name=competitor_name,
                lost_note=lost_note,
                errors=errors,
            )
        else:
            moving = False
            if stage is not None and stage.pipeline_id != pipeline.pk:
                errors.add("stage_id", _("This stage belongs to another pipeline."))
            _check_lost_details(
                deal.stage.kind,
                lost_reason=lost_reason,
                competitor_name=competitor_name,
                lost_note=lost_note,
                require_reason="lost_reason" in fields,
                errors=errors,
            )
        model_field_errors(deal, errors, exclude=_NOT_MODEL_CHECKED)
        errors.raise_if_any()

        if lines is not None:
            created = _replace_lines(deal, lines)
            if created and new_amount is None:
                deal.amount = _lines_total(created)
        if new_amount is not None:
            deal.amount = new_amount
        change = None
        if moving and stage is not None:
            change = _apply_stage(
                actor=actor,
                deal=deal,
                stage=stage,
                lost_reason=lost_reason,
                competitor_name=competitor_name,
                lost_note=lost_note,
                now=now,
            )
        elif deal.stage.kind == Kind.LOST:
            if lost_reason is not None:
                deal.lost_reason = lost_reason
            if "competitor_name" in fields:
                deal.competitor = competitor_resolve(competitor_name)
            if "lost_note" in fields:
                deal.lost_note = lost_note
        if new_probability is not None:
            deal.probability = new_probability
        deal.save()
        if "contacts" in fields:
            deal.contacts.set(list(fields["contacts"] or []))
        if "tags" in fields:
            deal.tags.set(tags_resolve(actor=actor, names=fields["tags"] or []))
        changes = diff(before, _deal_state(deal))
        if change is not None:
            record_audit(
                actor=actor,
                action=AuditEntry.Action.STAGE_MOVE,
                record=deal,
                changes=changes,
                data={"seconds_in_previous": change.seconds_in_previous},
            )
            _emit_move(actor, deal, change)
        elif changes:
            action = (
                AuditEntry.Action.ASSIGN if set(changes) == {"owner"} else AuditEntry.Action.UPDATE
            )
            record_audit(actor=actor, action=action, record=deal, changes=changes)
        other = sorted(set(changes) - _MOVE_FIELDS) if change is not None else sorted(changes)
        if other:
            events.emit("deal.updated", deal, actor, {"id": deal.public_id, "fields": other})
        _index_deal(deal)
    return deal


def deal_move_to_stage(
    *,
    actor: Any,
    deal: Deal,
    stage: Stage,
    lost_reason: LostReason | None = None,
    competitor_name: str = "",
    lost_note: str = "",
    amount: Any = None,
) -> Deal:
    """Move a deal to another stage of its pipeline (a lost stage needs `lost_reason`).

    Locks the deal, records the change with the time spent in the previous stage, audits it
    and emits `deal.stage_changed` plus `deal.won` or `deal.lost`. Moving to the stage the
    deal is in changes nothing but the lost details given."""
    fields: dict[str, Any] = {"stage": stage, "lost_reason": lost_reason}
    if competitor_name:
        fields["competitor_name"] = competitor_name
    if lost_note:
        fields["lost_note"] = lost_note
    if amount is not None:
        fields["amount"] = amount
    if stage.kind != Kind.LOST and lost_reason is None:
        fields.pop("lost_reason")
    if stage.pk == deal.stage_id and lost_reason is None:
        fields.pop("lost_reason", None)
    return deal_update(actor=actor, deal=deal, **fields)


def deal_delete(*, actor: Any, deal: Deal) -> None:
    """Delete a deal with its history and lines; the audit row keeps every value it had."""
    if actor is not None:
        require_write(actor, deal)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=deal,
            changes=diff(_deal_state(deal), {}),
        )
        events.emit("deal.deleted", deal, actor, {"id": deal.public_id})
        search.unindex_record(kind="deal", object_id=deal.pk)
        deal.delete()


def deals_reindex_company(*, company_id: int) -> int:
    """Refresh the search entries of a company's deals (their subtitle is its name)."""
    count = 0
    for deal in Deal.objects.filter(company_id=company_id).select_related("company"):
        _index_deal(deal)
        count += 1
    return count


# ---------------------------------------------------------------- line items


def _lines_changed(actor: Any, deal: Deal, before: dict[str, Any]) -> None:
    """After the lines of a locked deal changed: recompute the amount, audit, announce."""
    lines = list(DealLineItem.objects.filter(deal=deal))
    if lines:
        deal.amount = _lines_total(lines)
    deal.save(update_fields=["amount", "updated_at"])
    changes = diff(before, _deal_state(deal))
    if changes:
        record_audit(actor=actor, action=AuditEntry.Action.UPDATE, record=deal, changes=changes)
        events.emit("deal.updated", deal, actor, {"id": deal.public_id, "fields": sorted(changes)})


def deal_line_item_add(
    *,
    actor: Any,
    deal: Deal,
    product: Product | None = None,
    description: str = "",
    quantity: Any = 1,
    unit_price: Any = None,
    discount_percent: Any = 0,
) -> DealLineItem:
    """Append a line to a deal and recompute its amount. Raises Invalid or Forbidden."""
    if actor is not None:
        require_write(actor, deal)
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal.pk)
        errors = FieldErrors()
        item = {
            "product": product,
            "description": description,
            "quantity": quantity,
            "unit_price": unit_price,
            "discount_percent": discount_percent,
        }
        lines = _clean_lines([item], deal.currency, errors)
        errors.raise_if_any()
        before = _deal_state(deal)
        position = (
            DealLineItem.objects.filter(deal=deal).aggregate(top=Max("position"))["top"] or 0
        ) + 1
        line = DealLineItem.objects.create(deal=deal, position=position, **lines[0])
        _lines_changed(actor, deal, before)
        return line


def deal_line_item_update(*, actor: Any, item: DealLineItem, **fields: Any) -> DealLineItem:
    """Change a line's product, description, quantity, unit price or discount."""
    if actor is not None:
        require_write(actor, item.deal)
    unknown = set(fields) - _LINE_KEYS
    if unknown:
        raise Invalid({name: [_("Unknown field.")] for name in unknown})
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=item.deal_id)
        item = DealLineItem.objects.select_related("product").get(pk=item.pk)
        current = {
            "product": item.product,
            "description": item.description,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "discount_percent": item.discount_percent,
        }
        if "product" in fields and "unit_price" not in fields:
            current["unit_price"] = None
        errors = FieldErrors()
        lines = _clean_lines([{**current, **fields}], deal.currency, errors)
        errors.raise_if_any()
        before = _deal_state(deal)
        for name, value in lines[0].items():
            setattr(item, name, value)
        item.save()
        _lines_changed(actor, deal, before)
        return item


def deal_line_item_remove(*, actor: Any, item: DealLineItem) -> None:
    """Remove a line; the amount is recomputed from the lines left (kept if none are)."""
    if actor is not None:
        require_write(actor, item.deal)
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=item.deal_id)
        before = _deal_state(deal)
        DealLineItem.objects.filter(pk=item.pk).delete()
        _lines_changed(actor, deal, before)


# ---------------------------------------------------------------- pipelines and stages


def _default_probability(kind: str) -> int:
    return 100 if kind == Kind.WON else 0


def _clean_stage_fields(
    spec: dict[str, Any], errors: FieldErrors, field: str, *, creating: bool
) -> dict[str, Any]:
    allowed = {"name", "probability", "kind", "rotting_days"}
    for key in set(spec) - allowed:
        errors.add(f"{field}{key}", _("Unknown field."))
    cleaned: dict[str, Any] = {}
    if creating or "name" in spec:
        name = " ".join(str(spec.get("name") or "").split())
        if not name:
            errors.add(f"{field}name", _("Name the stage."))
        elif len(name) > 120:
            errors.add(f"{field}name", _("At most %(limit)d characters.") % {"limit": 120})
        cleaned["name"] = name
    if creating or "kind" in spec:
        kind = spec.get("kind") or Kind.OPEN
        if kind not in Kind.values:
            errors.add(f"{field}kind", _("Choose open, won or lost."))
            kind = Kind.OPEN
        cleaned["kind"] = kind
    if spec.get("probability") is not None:
        cleaned["probability"] = _clean_probability(
            spec["probability"], errors, f"{field}probability"
        )
    elif creating:
        cleaned["probability"] = _default_probability(cleaned["kind"])
    if spec.get("rotting_days") is not None:
        days = spec["rotting_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
            errors.add(f"{field}rotting_days", _("Enter a number of days from 0 to 3650."))
        cleaned["rotting_days"] = days
    return cleaned


def _default_stage_specs() -> list[dict[str, Any]]:
    return [
        {"name": _("Qualified"), "probability": 10, "kind": Kind.OPEN},
        {"name": _("Needs analysis"), "probability": 25, "kind": Kind.OPEN},
        {"name": _("Proposal"), "probability": 50, "kind": Kind.OPEN},
        {"name": _("Negotiation"), "probability": 75, "kind": Kind.OPEN},
        {"name": _("Won"), "probability": 100, "kind": Kind.WON},
        {"name": _("Lost"), "probability": 0, "kind": Kind.LOST},
    ]


def _clean_pipeline_name(name: Any, errors: FieldErrors) -> str:
    clean = " ".join(str(name or "").split())
    if not clean:
        errors.add("name", _("Name the pipeline."))
    elif len(clean) > 120:
        errors.add("name", _("At most %(limit)d characters.") % {"limit": 120})
    return clean


def pipeline_create(
    *,
    actor: Any,
    name: str,
    stages: Sequence[dict[str, Any]] | None = None,
    is_default: bool = False,
) -> Pipeline:
    """Create a pipeline with its stages in the order given (admins only). Without stages
    it gets a usual set: four open stages, won and lost. The first pipeline is the default.
    Raises Invalid (nothing written) or Forbidden."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    clean_name = _clean_pipeline_name(name, errors)
    specs = list(stages) if stages else _default_stage_specs()
    if len(specs) > MAX_STAGES:
        errors.add("stages", _at_most_stages())
        specs = []
    cleaned = [
        _clean_stage_fields(
            spec if isinstance(spec, dict) else {}, errors, f"stages.{i}.", creating=True
        )
        for i, spec in enumerate(specs)
    ]
    keys = [normalise(s["name"]) for s in cleaned]
    if len(set(keys)) != len(keys):
        errors.add("stages", _("Give each stage a different name."))
    if specs and not any(s["kind"] == Kind.OPEN for s in cleaned):
        errors.add("stages", _("A pipeline needs at least one open stage."))
    errors.raise_if_any()
    with transaction.atomic():
        first = not Pipeline.objects.exists()
        position = (Pipeline.objects.aggregate(top=Max("position"))["top"] or 0) + (
            0 if first else 1
        )
        if is_default:
            Pipeline.objects.filter(is_default=True).update(is_default=False)
        pipeline = Pipeline.objects.create(
            name=clean_name, position=position, is_default=is_default or first
        )
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, position=index, **spec) for index, spec in enumerate(cleaned)
        )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=pipeline,
            changes={
                "name": [None, pipeline.name],
                "stages": [None, [s["name"] for s in cleaned]],
            },
        )
        return pipeline


def pipeline_ensure_default(*, actor: Any = None) -> Pipeline:
    """The default pipeline, created with the usual stages when there is none at all."""
    pipeline = default_pipeline()
    if pipeline is not None:
        return pipeline
    return pipeline_create(actor=actor, name=_("Sales"), is_default=True)


def _valid_position(position: Any, errors: FieldErrors) -> bool:
    """Whether `position` fits a small positive integer column; adds the error if not."""
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 32767:
        errors.add("position", _("Enter a position from 0 to 32767."))
        return False
    return True


def pipeline_update(
    *,
    actor: Any,
    pipeline: Pipeline,
    name: Any = UNSET,
    is_default: Any = UNSET,
    is_active: Any = UNSET,
    position: Any = UNSET,
) -> Pipeline:
    """Rename, reorder, archive or make default a pipeline (admins only)."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        audited = ["name", "is_default", "is_active", "position"]
        before = snapshot(pipeline, audited)
        if name is not UNSET:
            pipeline.name = _clean_pipeline_name(name, errors)
        if position is not UNSET and _valid_position(position, errors):
            pipeline.position = position
        if is_active is not UNSET:
            pipeline.is_active = bool(is_active)
        if is_default is not UNSET:
            if not is_default and pipeline.is_default:
                errors.add("is_default", _("Make another pipeline the default instead."))
            pipeline.is_default = pipeline.is_default or bool(is_default)
        if pipeline.is_default and not pipeline.is_active:
            errors.add("is_active", _("The default pipeline cannot be archived."))
        errors.raise_if_any()
        if pipeline.is_default and not before["is_default"]:
            Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(
                is_default=False
            )
        pipeline.save()
        changes = diff(before, snapshot(pipeline, audited))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=pipeline, changes=changes
            )
        return pipeline


def _stage_in_history(stages: Any) -> bool:
    return DealStageChange.objects.filter(
        Q(from_stage__in=stages) | Q(to_stage__in=stages)
    ).exists()


def pipeline_delete(*, actor: Any, pipeline: Pipeline) -> None:
    """Delete a pipeline that no deal is in or has passed through (admins only); otherwise
    Invalid, and archiving it (`is_active` false) is the way to retire it."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        count = Deal.objects.filter(pipeline=pipeline).count()
        if count:
            raise Invalid(
                {
                    "deals": [
                        ngettext(
                            "%(count)d deal is in this pipeline; move it or archive the pipeline.",
                            "%(count)d deals are in this pipeline; move them or archive it.",
                            count,
                        )
                        % {"count": count}
                    ]
                }
            )
        stages = Stage.objects.filter(pipeline=pipeline)
        if _stage_in_history(stages):
            raise Invalid(
                {"deals": [_("Deals have passed through this pipeline; archive it instead.")]}
            )
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=pipeline,
            changes={"name": [pipeline.name, None]},
        )
        was_default = pipeline.is_default
        pipeline.delete()
        if was_default:
            successor = Pipeline.objects.filter(is_active=True).order_by("position", "id").first()
            if successor is not None:
                Pipeline.objects.filter(pk=successor.pk).update(is_default=True)


def _renumber(pipeline: Pipeline, ordered: list[Stage]) -> None:
    for position, stage in enumerate(ordered):
        if stage.position != position:
            stage.position = position
            stage.save(update_fields=["position", "updated_at"])


def stage_create(
    *,
    actor: Any,
    pipeline: Pipeline,
    name: str,
    probability: Any = None,
    kind: str = Kind.OPEN,
    rotting_days: int = 0,
    position: int | None = None,
) -> Stage:
    """Add a stage to a pipeline (admins only). Without `position`, an open stage goes after
    the last open stage and a won or lost stage at the end."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    spec = {"name": name, "probability": probability, "kind": kind, "rotting_days": rotting_days}
    cleaned = _clean_stage_fields(spec, errors, "", creating=True)
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
        if len(stages) >= MAX_STAGES:
            errors.add("stages", _at_most_stages())
        if cleaned["name"] and normalise(cleaned["name"]) in {normalise(s.name) for s in stages}:
            errors.add("name", _("This pipeline already has a stage with this name."))
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or position < 0
        ):
            errors.add("position", _("Enter a position of 0 or more."))
        errors.raise_if_any()
        if position is None:
            if cleaned["kind"] == Kind.OPEN:
                open_positions = [i for i, s in enumerate(stages) if s.kind == Kind.OPEN]
                index = open_positions[-1] + 1 if open_positions else 0
            else:
                index = len(stages)
        else:
            index = min(position, len(stages))
        stage = Stage.objects.create(pipeline=pipeline, position=index, **cleaned)
        stages.insert(index, stage)
        _renumber(pipeline, stages)
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=stage,
            changes=diff({}, snapshot(stage, ["name", "kind", "probability", "position"])),
            data={"pipeline": pipeline.public_id},
        )
        return stage


def stage_update(*, actor: Any, stage: Stage, **fields: Any) -> Stage:
    """Rename a stage or change its default probability, kind or rotting days (admins only).
    Deals already in the stage keep their probability. The kind of a stage holding deals
    does not change (their closed dates and lost reasons would no longer fit)."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    cleaned = _clean_stage_fields(fields, errors, "", creating=False)
    errors.raise_if_any()
    with transaction.atomic():
        stage = Stage.objects.select_for_update().get(pk=stage.pk)
        audited = ["name", "kind", "probability", "rotting_days"]
        before = snapshot(stage, audited)
        siblings = Stage.objects.filter(pipeline_id=stage.pipeline_id).exclude(pk=stage.pk)
        if "name" in cleaned and normalise(cleaned["name"]) in {
            normalise(s.name) for s in siblings
        }:
            errors.add("name", _("This pipeline already has a stage with this name."))
        new_kind = cleaned.get("kind", stage.kind)
        if new_kind != stage.kind:
            if Deal.objects.filter(stage=stage).exists():
                errors.add(
                    "kind", _("Deals are in this stage; move them before changing its kind.")
                )
            if stage.kind == Kind.OPEN and not siblings.filter(kind=Kind.OPEN).exists():
                errors.add("kind", _("A pipeline needs at least one open stage."))
        errors.raise_if_any()
        for name, value in cleaned.items():
            setattr(stage, name, value)
        stage.save()
        changes = diff(before, snapshot(stage, audited))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=stage, changes=changes
            )
        return stage


def stage_reorder(*, actor: Any, pipeline: Pipeline, stages: Sequence[Stage]) -> list[Stage]:
    """Put a pipeline's stages in the order given; every stage must be named exactly once."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        current = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
        given = [s.pk for s in stages]
        if sorted(given) != sorted(s.pk for s in current) or len(set(given)) != len(given):
            raise Invalid({"stage_ids": [_("List every stage of this pipeline once.")]})
        by_pk = {s.pk: s for s in current}
        ordered = [by_pk[pk] for pk in given]
        before = [s.name for s in current]
        _renumber(pipeline, ordered)
        after = [s.name for s in ordered]
        if before != after:
            record_audit(
                actor=actor,
                action=AuditEntry.Action.UPDATE,
                record=pipeline,
                changes={"stages": [before, after]},
            )
        return ordered


def stage_delete(*, actor: Any, stage: Stage) -> None:
    """Delete a stage no deal is in or has passed through (admins only); otherwise Invalid
    saying why, since stage history keeps its stages. The last open stage stays."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        stage = Stage.objects.select_for_update().get(pk=stage.pk)
        count = Deal.objects.filter(stage=stage).count()
        if count:
            raise Invalid(
                {
                    "deals": [
                        ngettext(
                            "%(count)d deal is in this stage; move it to another stage first.",
                            "%(count)d deals are in this stage; move them to another stage first.",
                            count,
                        )
                        % {"count": count}
                    ]
                }
            )
        if _stage_in_history([stage.pk]):
            raise Invalid(
                {"deals": [_("Deals have passed through this stage; rename it instead.")]}
            )
        others = Stage.objects.filter(pipeline_id=stage.pipeline_id).exclude(pk=stage.pk)
        if stage.kind == Kind.OPEN and not others.filter(kind=Kind.OPEN).exists():
            raise Invalid({"kind": [_("A pipeline needs at least one open stage.")]})
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=stage,
            changes={"name": [stage.name, None]},
        )
        stage.delete()
        _renumber(stage.pipeline, list(others.order_by("position", "id")))


# ---------------------------------------------------------------- lost reasons


def _clean_reason_name(name: Any, errors: FieldErrors, exclude_pk: int | None = None) -> str:
    clean = " ".join(str(name or "").split())
    if not clean:
        errors.add("name", _("Name the reason."))
    elif len(clean) > 160:
        errors.add("name", _("At most %(limit)d characters.") % {"limit": 160})
    elif LostReason.objects.filter(name__iexact=clean).exclude(pk=exclude_pk or 0).exists():
        errors.add("name", _("This reason is already listed."))
    return clean


def lost_reason_create(*, actor: Any, name: str, position: int = 0) -> LostReason:
    """Add a reason to the list offered when a deal is lost (admins only)."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    clean = _clean_reason_name(name, errors)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 32767:
        errors.add("position", _("Enter a position from 0 to 32767."))
    errors.raise_if_any()
    with transaction.atomic():
        reason = LostReason.objects.create(name=clean, position=position)
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=reason,
            changes={"name": [None, clean]},
        )
        return reason


def lost_reason_update(
    *,
    actor: Any,
    reason: LostReason,
    name: Any = UNSET,
    position: Any = UNSET,
    is_active: Any = UNSET,
) -> LostReason:
    """Rename, reorder or retire a lost reason (admins only); deals keep it."""
    if actor is not None:
        require_admin(actor)
    errors = FieldErrors()
    with transaction.atomic():
        reason = LostReason.objects.select_for_update().get(pk=reason.pk)
        audited = ["name", "position", "is_active"]
        before = snapshot(reason, audited)
        if name is not UNSET:
            reason.name = _clean_reason_name(name, errors, exclude_pk=reason.pk)
        if position is not UNSET and _valid_position(position, errors):
            reason.position = position
        if is_active is not UNSET:
            reason.is_active = bool(is_active)
        errors.raise_if_any()
        reason.save()
        changes = diff(before, snapshot(reason, audited))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=reason, changes=changes
            )
        return reason


def lost_reason_delete(*, actor: Any, reason: LostReason) -> None:
    """Delete an unused reason (admins only); one that deals carry is retired instead."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        if Deal.objects.filter(lost_reason=reason).exists():
            raise Invalid({"deals": [_("Lost deals carry this reason; deactivate it instead.")]})
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=reason,
            changes={"name": [reason.name, None]},
        )
        reason.delete()


# ---------------------------------------------------------------- competitors


def competitor_create(*, actor: Any, name: str, website: str = "") -> Competitor:
    """The competitor with this name (matched on its normalised form), created when new."""
    if actor is not None:
        require_can_create(actor)
    errors = FieldErrors()
    clean = _check_competitor_name(name, errors, "name")
    if not normalise(clean):
        errors.add("name", _("Name the competitor."))
    website = _clean_text(website, errors, "website", 300)
    errors.raise_if_any()
    with transaction.atomic():
        existing = Competitor.objects.filter(key=normalise(clean)).first()
        if existing is not None:
            return existing
        competitor = competitor_resolve(clean)
        assert competitor is not None
        if website:
            competitor.website = website
            competitor.save(update_fields=["website", "updated_at"])
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=competitor,
            changes={"name": [None, competitor.name]},
        )
        return competitor


# ---------------------------------------------------------------- products

_PRODUCT_FIELDS = [
    "name",
    "sku",
    "description",
    "unit",
    "price",
    "currency",
    "tax_percent",
    "is_active",
]


def _clean_product(product: Product, fields: dict[str, Any], errors: FieldErrors) -> None:
    if "name" in fields:
        product.name = _clean_text(fields["name"], errors, "name", 200)
        if not product.name:
            errors.add("name", _("Name the product."))
    if "sku" in fields:
        product.sku = _clean_text(fields["sku"], errors, "sku", 64)
        if product.sku and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
            errors.add("sku", _("Another product has this SKU."))
    if "description" in fields:
        product.description = _clean_text(fields["description"], errors, "description", MAX_NOTE)
    if "unit" in fields:
        product.unit = _clean_text(fields["unit"], errors, "unit", 32)
    if "price" in fields:
        price = clean_money(fields["price"], errors, "price")
        if price is not None:
            product.price = price
    if "currency" in fields:
        product.currency = clean_currency(fields["currency"], errors)
    if "tax_percent" in fields:
        tax = clean_percent(fields["tax_percent"], errors, "tax_percent")
        if tax is not None:
            product.tax_percent = tax
    if "is_active" in fields:
        product.is_active = bool(fields["is_active"])


def product_create(
    *,
    actor: Any,
    name: str,
    price: Any,
    currency: str | None = None,
    sku: str = "",
    description: str = "",
    unit: str = "",
    tax_percent: Any = 0,
    is_active: bool = True,
) -> Product:
    """Add a product to the catalogue (admins and managers). Raises Invalid or Forbidden."""
    _require_catalog_editor(actor)
    errors = FieldErrors()
    product = Product()
    _clean_product(
        product,
        {
            "name": name,
            "price": price,
            "currency": currency or settings.WASL_CURRENCY,
            "sku": sku,
            "description": description,
            "unit": unit,
            "tax_percent": tax_percent,
            "is_active": is_active,
        },
        errors,
    )
    errors.raise_if_any()
    with transaction.atomic():
        product.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            record=product,
            changes=diff({}, snapshot(product, _PRODUCT_FIELDS)),
        )
        return product


def product_update(*, actor: Any, product: Product, **fields: Any) -> Product:
    """Change the fields given of a product (admins and managers); deals' lines keep their
    own prices."""
    _require_catalog_editor(actor)
    errors = FieldErrors()
    for name in set(fields) - set(_PRODUCT_FIELDS):
        errors.add(name, _("Unknown field."))
    errors.raise_if_any()
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        before = snapshot(product, _PRODUCT_FIELDS)
        _clean_product(product, fields, errors)
        errors.raise_if_any()
        product.save()
        changes = diff(before, snapshot(product, _PRODUCT_FIELDS))
        if changes:
            record_audit(
                actor=actor, action=AuditEntry.Action.UPDATE, record=product, changes=changes
            )
        return product


def product_delete(*, actor: Any, product: Product) -> None:
    """Delete a product no deal line uses (admins and managers); otherwise Invalid, and
    deactivating it (`is_active` false) takes it out of the catalogue."""
    _require_catalog_editor(actor)
    with transaction.atomic():
        if DealLineItem.objects.filter(product=product).exists():
            raise Invalid({"deals": [_("Deal lines use this product; deactivate it instead.")]})
        record_audit(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            record=product,
            changes=diff(snapshot(product, _PRODUCT_FIELDS), {}),
        )
        product.delete()
