"""Reads of rules, runs, parked jobs and webhooks. Administrators and managers read rules;
a manager sees the runs on records of their teams; parked jobs are for administrators."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wasl.automation.models import AutomationRun, FailedJob, Rule, WebhookEndpoint
from wasl.core.errors import Forbidden
from wasl.core.visibility import Role, visible_q


def can_read_rules(actor: Any) -> bool:
    return bool(getattr(actor, "is_active", False) and actor.role in (Role.ADMIN, Role.MANAGER))


def require_rule_reader(actor: Any) -> None:
    if not can_read_rules(actor):
        raise Forbidden()


def rule_list(*, actor: Any) -> QuerySet[Rule]:
    require_rule_reader(actor)
    return Rule.objects.select_related("created_by").order_by("name", "id")


def run_list(*, actor: Any) -> QuerySet[AutomationRun]:
    """Runs, newest first; managers see those on their teams' records and their own."""
    require_rule_reader(actor)
    queryset = AutomationRun.objects.select_related("rule")
    clause = visible_q(actor, AutomationRun)
    return queryset if clause is None else queryset.filter(clause)


def failed_job_list(*, actor: Any, include_retried: bool = False) -> QuerySet[FailedJob]:
    if not getattr(actor, "is_active", False) or actor.role != Role.ADMIN:
        raise Forbidden()
    queryset = FailedJob.objects.select_related("retried_by")
    if not include_retried:
        queryset = queryset.filter(retried_at__isnull=True)
    return queryset


def webhook_list(*, actor: Any) -> QuerySet[WebhookEndpoint]:
    require_rule_reader(actor)
    return WebhookEndpoint.objects.order_by("name", "id")
