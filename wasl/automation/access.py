"""Loading one rule, run, parked job or webhook named by user input."""

from __future__ import annotations

from typing import Any

from wasl.automation.models import AutomationRun, FailedJob, Rule, WebhookEndpoint
from wasl.automation.selectors import failed_job_list, rule_list, run_list, webhook_list
from wasl.core.access import parse_public_id
from wasl.core.errors import NotFound


def _one(queryset: Any, public_id: Any) -> Any:
    found = queryset.filter(public_id=parse_public_id(public_id)).first()
    if found is None:
        raise NotFound()
    return found


def access_rule(actor: Any, public_id: Any) -> Rule:
    """A rule (readers: admins and managers; others are refused before the lookup)."""
    rule: Rule = _one(rule_list(actor=actor), public_id)
    return rule


def access_run(actor: Any, public_id: Any) -> AutomationRun:
    run: AutomationRun = _one(run_list(actor=actor), public_id)
    return run


def access_failed_job(actor: Any, public_id: Any) -> FailedJob:
    job: FailedJob = _one(failed_job_list(actor=actor, include_retried=True), public_id)
    return job


def access_webhook(actor: Any, public_id: Any) -> WebhookEndpoint:
    endpoint: WebhookEndpoint = _one(webhook_list(actor=actor), public_id)
    return endpoint
