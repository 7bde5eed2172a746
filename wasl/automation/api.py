"""Automation over the API: rules (JSON documents), the run log, parked jobs, webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Schema, Status
from pydantic import Field

from wasl.activities.access import access_activity
from wasl.automation import schema, services
from wasl.automation.access import access_failed_job, access_rule, access_webhook
from wasl.automation.describe import describe_rule
from wasl.automation.models import AutomationRun, FailedJob, Rule, WebhookEndpoint
from wasl.automation.selectors import failed_job_list, rule_list, run_list, webhook_list
from wasl.contacts.access import access_company, access_contact
from wasl.core.api import ERROR_RESPONSES, Page, actor_of
from wasl.core.errors import Invalid
from wasl.core.pagination import keyset_page
from wasl.deals.access import access_deal
from wasl.leads.access import access_lead

router = Router(tags=["automation"])

RECORD_ACCESS = {
    "contact": access_contact,
    "company": access_company,
    "lead": access_lead,
    "deal": access_deal,
    "activity": access_activity,
}


class RuleIn(Schema):
    name: str
    description: str = ""
    is_active: bool = True
    trigger: schema.Trigger
    conditions: schema.Condition | None = None
    actions: list[schema.Action] = Field(min_length=1, max_length=20)


class RulePatch(Schema):
    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    trigger: schema.Trigger | None = None
    conditions: schema.Condition | None = None
    actions: list[schema.Action] | None = None


class RuleOut(Schema):
    id: str
    name: str
    description: str
    is_active: bool
    trigger: dict[str, Any]
    conditions: dict[str, Any] | None
    actions: list[dict[str, Any]]
    in_words: str
    created_by_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RecordRefIn(Schema):
    kind: Literal["contact", "company", "lead", "deal", "activity"]
    id: str


class TestIn(Schema):
    record: RecordRefIn


class RunOut(Schema):
    id: str
    rule_id: str
    rule_name: str
    record_kind: str | None
    record_id: str | None
    record_name: str
    trigger: str
    status: str
    dry_run: bool
    depth: int
    outcomes: list[dict[str, Any]]
    error: str
    created_at: dt.datetime


class TestOut(Schema):
    conditions_met: bool
    run: RunOut


class FailedJobOut(Schema):
    id: str
    task: str
    arguments: dict[str, Any]
    attempts: int
    error: str
    failed_at: dt.datetime
    retried_at: dt.datetime | None


class WebhookIn(Schema):
    name: str
    url: str


class WebhookOut(Schema):
    id: str
    name: str
    url: str
    is_active: bool
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str


def rule_out(rule: Rule) -> RuleOut:
    return RuleOut(
        id=str(rule.public_id),
        name=rule.name,
        description=rule.description,
        is_active=rule.is_active,
        trigger=rule.trigger,
        conditions=rule.conditions,
        actions=rule.actions,
        in_words=describe_rule(rule, (get_language() or "en")[:2]),
        created_by_id=str(rule.created_by.public_id) if rule.created_by else None,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def run_out(run: AutomationRun) -> RunOut:
    return RunOut(
        id=str(run.public_id),
        rule_id=str(run.rule.public_id),
        rule_name=run.rule.name,
        record_kind=run.record_kind or None,
        record_id=str(run.record_public_id) if run.record_public_id else None,
        record_name=run.record_repr,
        trigger=run.trigger,
        status=run.status,
        dry_run=run.dry_run,
        depth=run.depth,
        outcomes=run.outcomes,
        error=run.error,
        created_at=run.created_at,
    )


def failed_job_out(job: FailedJob) -> FailedJobOut:
    return FailedJobOut(
        id=str(job.public_id),
        task=job.task_path.rsplit(".", 1)[-1],
        arguments=job.kwargs,
        attempts=job.attempts,
        error=job.error,
        failed_at=job.failed_at,
        retried_at=job.retried_at,
    )


def webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=str(endpoint.public_id),
        name=endpoint.name,
        url=endpoint.url,
        is_active=endpoint.is_active,
        created_at=endpoint.created_at,
    )


# ---------------------------------------------------------------- rules


@router.get("/automation/rules", response={200: Page[RuleOut], **ERROR_RESPONSES})
def list_rules(
    request: HttpRequest, active: bool | None = None, cursor: str | None = None, limit: int = 50
):
    """Rules (administrators and managers), newest change first; `active=false` lists the
    paused ones."""
    queryset = rule_list(actor=actor_of(request))
    if active is not None:
        queryset = queryset.filter(is_active=active)
    rows, next_cursor = keyset_page(
        queryset, field="updated_at", descending=True, cursor=cursor, limit=limit
    )
    return {"items": [rule_out(r) for r in rows], "next": next_cursor}


@router.post("/automation/rules", response={201: RuleOut, **ERROR_RESPONSES})
def create_rule(request: HttpRequest, payload: RuleIn):
    """Create a rule (administrators). The body is the rule document: see the `trigger`,
    `conditions` and `actions` schemas."""
    data = payload.model_dump(mode="json", exclude_none=True)
    rule = services.rule_create(actor=actor_of(request), **data)
    return Status(201, rule_out(rule))


@router.get("/automation/rules/{rule_id}", response={200: RuleOut, **ERROR_RESPONSES})
def get_rule(request: HttpRequest, rule_id: str):
    return rule_out(access_rule(actor_of(request), rule_id))


@router.patch("/automation/rules/{rule_id}", response={200: RuleOut, **ERROR_RESPONSES})
def update_rule(request: HttpRequest, rule_id: str, payload: RulePatch):
    actor = actor_of(request)
    rule = access_rule(actor, rule_id)
    data = payload.model_dump(mode="json", exclude_unset=True)
    if any(data.get(k) is None for k in ("name", "trigger", "actions", "is_active") if k in data):
        raise Invalid({k: ["This field may not be null."] for k in data if data[k] is None})
    return rule_out(services.rule_update(actor=actor, rule=rule, **data))


@router.post("/automation/rules/{rule_id}/pause", response={200: RuleOut, **ERROR_RESPONSES})
def pause_rule(request: HttpRequest, rule_id: str):
    actor = actor_of(request)
    return rule_out(
        services.rule_set_active(actor=actor, rule=access_rule(actor, rule_id), active=False)
    )


@router.post("/automation/rules/{rule_id}/resume", response={200: RuleOut, **ERROR_RESPONSES})
def resume_rule(request: HttpRequest, rule_id: str):
    actor = actor_of(request)
    return rule_out(
        services.rule_set_active(actor=actor, rule=access_rule(actor, rule_id), active=True)
    )


@router.post("/automation/rules/{rule_id}/copy", response={201: RuleOut, **ERROR_RESPONSES})
def copy_rule(request: HttpRequest, rule_id: str):
    """A paused copy of the rule."""
    actor = actor_of(request)
    return Status(201, rule_out(services.rule_copy(actor=actor, rule=access_rule(actor, rule_id))))


@router.delete("/automation/rules/{rule_id}", response={204: None, **ERROR_RESPONSES})
def delete_rule(request: HttpRequest, rule_id: str):
    actor = actor_of(request)
    services.rule_delete(actor=actor, rule=access_rule(actor, rule_id))
    return Status(204, None)


@router.post("/automation/rules/{rule_id}/test", response={200: TestOut, **ERROR_RESPONSES})
def test_rule(request: HttpRequest, rule_id: str, payload: TestIn):
    """Dry run on a record you may see: whether the conditions hold and what each action
    would do. Nothing changes; the dry run is kept in the run log."""
    actor = actor_of(request)
    rule = access_rule(actor, rule_id)
    record = RECORD_ACCESS[payload.record.kind](actor, payload.record.id)
    holds, run = services.rule_test(actor=actor, rule=rule, record=record)
    return TestOut(conditions_met=holds, run=run_out(run))


# ---------------------------------------------------------------- runs


@router.get("/automation/runs", response={200: Page[RunOut], **ERROR_RESPONSES})
def list_runs(
    request: HttpRequest,
    rule: str | None = None,
    record_kind: str | None = None,
    record: str | None = None,
    dry_run: bool | None = None,
    cursor: str | None = None,
    limit: int = 25,
):
    """The run log, newest first, by rule (`rule=<id>`) and record (`record=<id>`)."""
    actor = actor_of(request)
    queryset = run_list(actor=actor)
    if rule:
        queryset = queryset.filter(rule=access_rule(actor, rule))
    if record:
        from wasl.core.access import parse_public_id

        queryset = queryset.filter(record_public_id=parse_public_id(record))
    if record_kind:
        queryset = queryset.filter(record_kind=record_kind)
    if dry_run is not None:
        queryset = queryset.filter(dry_run=dry_run)
    rows, next_cursor = keyset_page(
        queryset, field="created_at", descending=True, cursor=cursor, limit=limit
    )
    return {"items": [run_out(r) for r in rows], "next": next_cursor}


# ---------------------------------------------------------------- parked jobs


@router.get("/automation/failed-jobs", response={200: Page[FailedJobOut], **ERROR_RESPONSES})
def list_failed_jobs(
    request: HttpRequest, retried: bool = False, cursor: str | None = None, limit: int = 25
):
    """Jobs that failed on every attempt (administrators); `retried=true` includes those
    already queued again."""
    rows, next_cursor = keyset_page(
        failed_job_list(actor=actor_of(request), include_retried=retried),
        field="failed_at",
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [failed_job_out(j) for j in rows], "next": next_cursor}


@router.post(
    "/automation/failed-jobs/{job_id}/retry", response={200: FailedJobOut, **ERROR_RESPONSES}
)
def retry_failed_job(request: HttpRequest, job_id: str):
    """Queue the job again from its first attempt."""
    actor = actor_of(request)
    job = services.failed_job_retry(actor=actor, job=access_failed_job(actor, job_id))
    return failed_job_out(job)


# ---------------------------------------------------------------- webhooks


@router.get("/automation/webhooks", response={200: list[WebhookOut], **ERROR_RESPONSES})
def list_webhooks(request: HttpRequest):
    return [webhook_out(w) for w in webhook_list(actor=actor_of(request))]


@router.post("/automation/webhooks", response={201: WebhookCreatedOut, **ERROR_RESPONSES})
def create_webhook(request: HttpRequest, payload: WebhookIn):
    """A webhook rules may call. The signing secret is in this answer only."""
    endpoint = services.webhook_create(actor=actor_of(request), name=payload.name, url=payload.url)
    return Status(201, WebhookCreatedOut(**webhook_out(endpoint).dict(), secret=endpoint.secret))


@router.delete("/automation/webhooks/{webhook_id}", response={204: None, **ERROR_RESPONSES})
def delete_webhook(request: HttpRequest, webhook_id: str):
    actor = actor_of(request)
    services.webhook_delete(actor=actor, endpoint=access_webhook(actor, webhook_id))
    return Status(204, None)
