"""Imports of deals, products and activities: each row through the app's own service.

These records carry more rules than a customer card (a deal's stage history, won/lost
transitions, an activity's kind rules), and files of them are small next to contact
lists, so each row calls `deal_create`, `product_create` or `activity_create` inside a
savepoint of the batch's transaction: a refused row leaves nothing behind and is reported
with the service's own messages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.contacts.models import Company, Contact
from wasl.contacts.selectors import company_match, contact_match
from wasl.contacts.services import company_create
from wasl.core.audit import snapshot
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.management.support import describe
from wasl.deals.models import Deal, LostReason, Pipeline, Product, Stage
from wasl.deals.services import deal_create, deal_move_to_stage, product_create, product_update
from wasl.imports import engine as e
from wasl.imports import mapping as m
from wasl.imports.engine import Counts, Options, RowError
from wasl.imports.models import ImportJob

PRODUCT_FIELDS = ["name", "sku", "description", "unit", "price", "currency", "tax_percent"]


class DryRunRollback(Exception):
    """Raised at the end of a dry-run batch to undo what the services wrote."""


class RowImport:
    """Imports deals, products or activities row by row (a dry run rolls each batch back)."""

    def __init__(
        self,
        *,
        actor: Any,
        job: ImportJob | None,
        target: str,
        headers: list[str],
        columns: dict[str, str],
        options: Options,
        dry_run: bool,
        progress: Callable[[Counts], None] | None = None,
    ) -> None:
        self.actor = actor
        self.job = job
        self.target = target
        self.options = options
        self.dry_run = dry_run
        self.progress = progress
        self.resolver = e.Resolver(actor, target, options)
        self.plan = [
            (index, columns.get(header, ""))
            for index, header in enumerate(headers)
            if columns.get(header)
        ]
        self.width = len(headers)
        self.counts = Counts()
        self.errors: list[RowError] = []
        self.keep_errors = job is None
        self.created: dict[str, list[int]] = {}
        self.updated: list[tuple[int, dict[str, Any]]] = []
        self._stages: dict[tuple[int, str], Stage] = {}
        self._pipelines = {e.fast_normalise(p.name): p for p in Pipeline.objects.all()}
        self._companies: dict[str, Company | None] = {}

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> Counts:
        batch: list[tuple[int, list[str]]] = []
        size = min(self.options.batch, 500)
        for item in rows:
            batch.append(item)
            if len(batch) >= size:
                self._batch(batch)
                batch = []
        if batch:
            self._batch(batch)
        return self.counts

    def _batch(self, items: list[tuple[int, list[str]]]) -> None:
        errors: list[RowError] = []
        outcome = {"created": 0, "updated": 0, "skipped": 0}
        try:
            with transaction.atomic():
                for row, cells in items:
                    try:
                        with transaction.atomic():
                            result = self._row(cells)
                        outcome[result] += 1
                    except (Invalid, Forbidden, NotFound, Conflict) as error:
                        errors.append(RowError(row, describe(error), cells))
                    except ValueError as error:
                        errors.append(RowError(row, str(error), cells))
                if self.dry_run:
                    raise DryRunRollback
                if self.job is not None:
                    for kind, ids in self.created.items():
                        e.save_created(self.job.pk, kind, ids)
                    e.save_updated(self.job.pk, self.target[:-1], self.updated)
                    e.save_row_errors(self.job.pk, errors, dry_run=False)
        except DryRunRollback:
            if self.job is not None:
                e.save_row_errors(self.job.pk, errors, dry_run=True)
        self.created, self.updated = {}, []
        self._companies = {}
        if self.keep_errors:
            self.errors.extend(errors)
        self.counts.total += len(items)
        self.counts.created += outcome["created"]
        self.counts.updated += outcome["updated"]
        self.counts.skipped += outcome["skipped"]
        self.counts.failed += len(errors)
        if self.progress is not None:
            self.progress(self.counts)

    # ------------------------------------------------------------ one row

    def _values(self, cells: list[str]) -> dict[str, str]:
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            raise ValueError(
                _("The row has %(cells)d cells; the header has %(columns)d.")
                % {"cells": len(cells), "columns": self.width}
            )
        values: dict[str, str] = {}
        for index, field in self.plan:
            raw = e.unneutralise(cells[index] if index < len(cells) else "").strip()
            if raw:
                name = field.split(":")[0]
                if name in ("notes", "tags", "body") and name in values:
                    values[name] += ("\n" if name != "tags" else ",") + raw
                else:
                    values.setdefault(name, raw)
        return values

    def _row(self, cells: list[str]) -> str:
        values = self._values(cells)
        if self.target == "deals":
            return self._deal(values)
        if self.target == "products":
            return self._product(values)
        return self._activity(values)

    def _track(self, kind: str, pk: int) -> None:
        self.created.setdefault(kind, []).append(pk)

    def _number(self, values: dict[str, str], name: str) -> Any:
        if not values.get(name):
            return None
        try:
            return m.parse_number(values[name])
        except ValueError as error:
            raise Invalid({name: [str(error)]}) from error

    def _date(self, values: dict[str, str], name: str) -> Any:
        if not values.get(name):
            return None
        try:
            return m.parse_date_value(values[name], self.options.calendar, self.options.date_order)
        except ValueError as error:
            raise Invalid({name: [str(error)]}) from error

    def _company(self, name: str, owner: Any) -> Company | None:
        if not name:
            return None
        key = e.fast_normalise(name)
        if key not in self._companies:
            company = company_match(actor=self.actor, name=name)
            if company is None:
                company = company_create(actor=self.actor, name=name, owner=owner)
                self._track("company", company.pk)
            self._companies[key] = company
        return self._companies[key]

    def _contact(self, email: str) -> Contact | None:
        if not email:
            return None
        try:
            address = e.fast_email(email)
        except ValueError as error:
            raise Invalid({"contact_email": [str(error)]}) from error
        contact = contact_match(actor=self.actor, email=address)
        if contact is None:
            raise Invalid({"contact_email": [_("No contact you can see has this e-mail.")]})
        return contact

    def _owner(self, values: dict[str, str]) -> Any:
        try:
            return self.resolver.owner(values.get("owner", ""))
        except ValueError as error:
            raise Invalid({"owner": [str(error)]}) from error

    def _pipeline(self, values: dict[str, str]) -> Pipeline | None:
        name = self.resolver.mapped("pipeline", values.get("pipeline") or self.options.pipeline)
        if not name:
            return None
        pipeline = self._pipelines.get(e.fast_normalise(name))
        if pipeline is None:
            raise Invalid({"pipeline": [_("Unknown pipeline “%(name)s”.") % {"name": name[:60]}]})
        return pipeline

    def _stage(self, pipeline: Pipeline | None, raw: str) -> Stage | None:
        if not raw:
            return None
        name = self.resolver.mapped("stage", raw)
        if pipeline is None:
            from wasl.deals.selectors import default_pipeline

            pipeline = default_pipeline()
            if pipeline is None:
                raise Invalid({"pipeline": [_("Create a pipeline first.")]})
        key = (pipeline.pk, e.fast_normalise(name))
        if key not in self._stages:
            for stage in Stage.objects.filter(pipeline=pipeline):
                self._stages[(pipeline.pk, e.fast_normalise(stage.name))] = stage
        stage = self._stages.get(key)
        if stage is None:
            raise Invalid({"stage": [_("Unknown stage “%(name)s”.") % {"name": name[:60]}]})
        return stage

    def _deal(self, values: dict[str, str]) -> str:
        owner = self._owner(values)
        pipeline = self._pipeline(values)
        stage = self._stage(pipeline, values.get("stage", ""))
        lost = stage is not None and stage.kind == Stage.Kind.LOST
        company = self._company(values.get("company", ""), owner)
        contact = self._contact(values.get("contact_email", ""))
        probability = self._number(values, "probability")
        deal = deal_create(
            actor=self.actor,
            title=values.get("title", ""),
            pipeline=pipeline or (stage.pipeline if stage else None),
            stage=None if lost else stage,
            amount=self._number(values, "amount"),
            currency=values.get("currency") or None,
            expected_close=self._date(values, "expected_close"),
            owner=owner,
            company=company,
            contacts=[contact] if contact else [],
            tags=m.split_tags(values.get("tags", ""), self.options.tag_separators),
            source=values.get("source", "")[:20],
            probability=int(probability) if probability is not None else None,
            notes=values.get("notes", ""),
        )
        self._track("deal", deal.pk)
        if lost and stage is not None:
            reason = LostReason.objects.filter(is_active=True).order_by("position", "id").first()
            if reason is None:
                raise Invalid({"stage": [_("Add a lost reason before importing lost deals.")]})
            deal_move_to_stage(actor=self.actor, deal=deal, stage=stage, lost_reason=reason)
        return "created"

    def _product(self, values: dict[str, str]) -> str:
        sku = values.get("sku", "")
        name = values.get("name", "")
        existing = None
        if sku:
            existing = Product.objects.filter(sku=sku).first()
        if existing is None and name:
            key = e.fast_normalise(name)
            existing = next(
                (
                    p
                    for p in Product.objects.filter(name__iexact=name)
                    if e.fast_normalise(p.name) == key
                ),
                None,
            )
        fields: dict[str, Any] = {}
        for field in ("name", "sku", "description", "unit", "currency"):
            if values.get(field):
                fields[field] = values[field]
        for field in ("price", "tax_percent"):
            number = self._number(values, field)
            if number is not None:
                fields[field] = number
        if existing is None:
            product = product_create(
                actor=self.actor,
                name=fields.pop("name", ""),
                price=fields.pop("price", 0),
                **fields,
            )
            self._track("product", product.pk)
            return "created"
        if self.options.on_duplicate == "skip":
            return "skipped"
        if self.options.on_duplicate == "update":
            fields = {k: v for k, v in fields.items() if getattr(existing, k) in ("", None, 0)}
        fields = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        if not fields:
            return "skipped"
        before = snapshot(existing, PRODUCT_FIELDS)
        before["updated_at"] = existing.updated_at.isoformat()
        product_update(actor=self.actor, product=existing, **fields)
        self.updated.append((existing.pk, {"fields": before}))
        return "updated"

    def _activity(self, values: dict[str, str]) -> str:
        owner = self._owner(values)
        kind_text = e.fast_normalise(self.resolver.mapped("kind", values.get("kind", "")))
        kinds = {e.fast_normalise(v): v for v in Activity.Kind.values}
        for value, label in Activity.Kind.choices:
            kinds.setdefault(e.fast_normalise(str(label)), value)
        kind = kinds.get(kind_text or "task")
        if kind is None:
            raise Invalid({"kind": [_("Unknown kind “%(value)s”.") % {"value": kind_text[:40]}]})
        key = self._activity_key(values.get("external_id", ""))
        if key and Activity.objects.filter(idempotency_key=key).exists():
            return "skipped"
        times: dict[str, Any] = {}
        for name in ("due_at", "ends_at", "done_at"):
            if values.get(name):
                try:
                    times[name] = m.parse_datetime_value(
                        values[name], self.options.calendar, self.options.date_order
                    )
                except ValueError as error:
                    raise Invalid({name: [str(error)]}) from error
        contact = self._activity_contact(values.get("contact_email", ""))
        company = None
        if values.get("company"):
            company = company_match(actor=self.actor, name=values["company"])
            if company is None:
                raise Invalid({"company": [_("No company you can see has this name.")]})
        activity = activity_create(
            actor=self.actor,
            kind=kind,
            subject=values.get("subject", ""),
            body=values.get("body", ""),
            location=values.get("location", ""),
            owner=owner,
            contact=contact,
            company=company,
            idempotency_key=key,
            **times,
        )
        self._track("activity", activity.pk)
        return "created"

    def _activity_key(self, external_id: str) -> str | None:
        """The idempotency key of an imported activity: the same calendar entry imported
        again by the same person is skipped, not doubled."""
        external_id = external_id.strip()
        if not external_id:
            return None
        digest = hashlib.sha256(external_id.encode()).hexdigest()[:40]
        return f"import:{getattr(self.actor, 'pk', 0) or 0}:{digest}"

    def _activity_contact(self, text: str) -> Contact | None:
        """One address must be a contact; of a list (a meeting's attendees), the first
        that is one is linked, and none is no link."""
        addresses = [part.strip() for part in re.split(r"[,;]", text or "") if part.strip()]
        if len(addresses) <= 1:
            return self._contact(addresses[0] if addresses else "")
        for address in addresses:
            try:
                contact = contact_match(actor=self.actor, email=e.fast_email(address))
            except ValueError:
                continue
            if contact is not None:
                return contact
        return None


DEFAULT_CURRENCY = settings.WASL_CURRENCY if hasattr(settings, "WASL_CURRENCY") else "IRR"
__all__ = ["Deal", "RowImport"]
