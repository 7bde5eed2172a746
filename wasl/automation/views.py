"""Automation pages: the rule list, the rule builder with its live preview, a rule's page
with its run log, the dry run against a record, and the parked jobs.

Managers and administrators read rules and runs (`selectors`); only administrators change
rules and retry jobs (the services refuse anyone else, whatever the page shows)."""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from wasl.accounts.selectors import team_list, user_list
from wasl.activities.access import access_activity
from wasl.automation import schema, services
from wasl.automation.access import access_failed_job, access_rule
from wasl.automation.describe import (
    action_in_words,
    describe_rule,
    names_preloaded,
    trigger_in_words,
)
from wasl.automation.forms import RuleForm, RunFilterForm, loose_json
from wasl.automation.models import AutomationRun, Rule
from wasl.automation.selectors import (
    failed_job_list,
    require_rule_reader,
    rule_list,
    run_list,
    webhook_list,
)
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing_ui import page_errors
from wasl.contacts.models import CustomFieldDefinition, Source
from wasl.core import formatting
from wasl.core.errors import Conflict, Forbidden, Invalid
from wasl.core.links import record_link
from wasl.core.pagination import keyset_page, next_page_url
from wasl.core.search import search
from wasl.core.visibility import is_admin
from wasl.deals.access import access_deal
from wasl.deals.selectors import stage_list
from wasl.leads.access import access_lead

RECORD_ACCESS = {
    "contact": access_contact,
    "company": access_company,
    "lead": access_lead,
    "deal": access_deal,
    "activity": access_activity,
}
RUNS_PER_PAGE = 20
JOBS_PER_PAGE = 25
RULES_SHOWN = 200
SEARCH_HITS = 10
FAILING = (AutomationRun.Status.FAILED, AutomationRun.Status.PARTIAL)
ENTITIES = {
    "contact": gettext_lazy("Contact"),
    "company": gettext_lazy("Company"),
    "lead": gettext_lazy("Lead"),
    "deal": gettext_lazy("Deal"),
    "activity": gettext_lazy("Task, call or meeting"),
}
DATE_FIELDS = {
    "contact": [
        ("birthday", gettext_lazy("Birthday")),
        ("contract_end", gettext_lazy("Contract end")),
    ],
    "company": [("contract_end", gettext_lazy("Contract end"))],
    "deal": [("expected_close", gettext_lazy("Expected close"))],
    "lead": [],
}
# Paths a condition may compare, offered as suggestions (any path may be typed).
CONDITION_FIELDS = (
    "amount",
    "currency",
    "source",
    "status",
    "score",
    "tags",
    "title",
    "city",
    "owner",
    "owner.team",
    "owner.role",
    "deal.stage",
    "deal.pipeline",
    "contact.company.name",
    "custom.",
)
_UNION_TAG = re.compile(r"^(function-|Group$|Comparison$)")


def _language() -> str:
    return (get_language() or "en")[:2]


def _allow(condition: bool) -> None:
    if not condition:
        raise Forbidden()


# ---------------------------------------------------------------- rule list


def _run_stats(actor: Any, rule_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Runs, failures and last run of each rule among the runs the actor may see (one
    grouped query); dry runs do not count."""
    rows = (
        run_list(actor=actor)
        .filter(rule_id__in=rule_ids, dry_run=False)
        .order_by()
        .values("rule_id")
        .annotate(
            runs=Count("id"),
            failures=Count("id", filter=Q(status__in=FAILING)),
            last=Max("created_at"),
        )
    )
    return {row["rule_id"]: row for row in rows}


@require_GET
@page_errors
def rule_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    rules = list(rule_list(actor=actor)[:RULES_SHOWN])
    stats = _run_stats(actor, [rule.pk for rule in rules])
    with names_preloaded(rule.trigger for rule in rules):
        rows = [
            {
                "rule": rule,
                "trigger": trigger_in_words(rule.trigger),
                "runs": stats.get(rule.pk, {}).get("runs", 0),
                "failures": stats.get(rule.pk, {}).get("failures", 0),
                "last": stats.get(rule.pk, {}).get("last"),
            }
            for rule in rules
        ]
    return render(
        request,
        "automation/rule_list.html",
        {"rows": rows, "can_write": is_admin(actor), "can_see_jobs": is_admin(actor)},
    )


@require_POST
@page_errors
def rule_set_active_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    rule = access_rule(actor, public_id)
    active = request.POST.get("active") == "1"
    services.rule_set_active(actor=actor, rule=rule, active=active)
    if active:
        messages.success(request, _("The rule “%(name)s” runs again.") % {"name": rule.name})
    else:
        messages.success(request, _("The rule “%(name)s” is paused.") % {"name": rule.name})
    return redirect(_back(request, reverse("automation:rule-list")))


@require_POST
@page_errors
def rule_copy_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    copy = services.rule_copy(actor=actor, rule=access_rule(actor, public_id))
    messages.success(request, _("Copied; the copy is paused until you switch it on."))
    return redirect("automation:rule-edit", public_id=copy.public_id)


@require_http_methods(["GET", "POST"])
@page_errors
def rule_delete_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """A confirmation page; the rule goes only on a POST with `confirmed=1`."""
    actor = request.user
    rule = access_rule(actor, public_id)
    _allow(is_admin(actor))
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        services.rule_delete(actor=actor, rule=rule)
        messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
        return redirect("automation:rule-list")
    return render(request, "automation/rule_delete.html", {"rule": rule})


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


# ---------------------------------------------------------------- builder


def _builder_options(actor: Any) -> dict[str, Any]:
    """The choices the builder offers: stages, pipelines, users, teams, webhooks, sources
    and the date fields of each kind of record."""
    stages = list(stage_list(actor=actor))
    pipelines: dict[str, str] = {}
    for stage in stages:
        pipelines.setdefault(str(stage.pipeline.public_id), stage.pipeline.name)
    date_fields: dict[str, list[list[str]]] = {}
    for entity, fixed in DATE_FIELDS.items():
        custom = [
            [f"custom.{key}", definition.label or key]
            for key, definition in definitions_for(entity).items()
            if definition.kind == CustomFieldDefinition.Kind.DATE
        ]
        date_fields[entity] = [[name, str(label)] for name, label in fixed] + custom
    return {
        "stages": [
            {"id": str(s.public_id), "label": f"{s.pipeline.name} › {s.name}"} for s in stages
        ],
        "pipelines": [{"id": key, "label": name} for key, name in pipelines.items()],
        "users": [
            {"id": str(u.public_id), "label": u.get_full_name() or u.username}
            for u in user_list(actor=actor)
            if u.is_active
        ],
        "teams": [{"id": str(t.public_id), "label": t.name} for t in team_list(actor=actor)],
        "webhooks": [{"id": str(w.public_id), "label": w.name} for w in webhook_list(actor=actor)],
        "sources": [{"id": value, "label": str(label)} for value, label in Source.choices],
        "entities": [{"id": key, "label": str(label)} for key, label in ENTITIES.items()],
        "date_fields": date_fields,
        "condition_fields": list(CONDITION_FIELDS),
    }


def _error_paths(error: Invalid) -> dict[str, list[str]]:
    """The services' error paths without pydantic's union tags
    (`actions.0.create_activity.subject` → `actions.0.subject`)."""
    tags = {"create_activity", "assign_owner", "update_field", "move_stage", "add_tag"}
    tags |= {"remove_tag", "send_email", "send_sms", "notify", "webhook", "generate_document"}
    tags |= {"record_created", "field_changed", "stage_entered", "stage_left", "deal_won"}
    tags |= {"deal_lost", "lead_created", "task_overdue", "date_reached", "no_activity"}
    tags |= {"schedule"}
    paths: dict[str, list[str]] = {}
    for path, problems in error.fields.items():
        parts = path.split(".")
        kept = [
            part
            for index, part in enumerate(parts)
            if not _UNION_TAG.match(part)
            and not (index > 0 and part in tags and parts[0] in ("trigger", "actions"))
        ]
        if kept and kept[0] == "conditions":
            # A wrong condition is reported once for each shape it could have had; the
            # comparison's own complaint is the one to show.
            problems = [p for p in problems if "Extra inputs" not in p] or problems
        key = ".".join(kept) or "rule"
        for problem in problems:
            if problem not in paths.setdefault(key, []):
                paths[key].append(problem)
    return paths


def _builder_page(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    actor = request.user
    _allow(is_admin(actor))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = RuleForm(request.POST)
        document = {
            "trigger": loose_json(request.POST.get("trigger"), {}),
            "conditions": loose_json(request.POST.get("conditions"), {}),
            "actions": loose_json(request.POST.get("actions"), []),
        }
        if form.is_valid():
            try:
                if rule is None:
                    rule = services.rule_create(actor=actor, **form.document())
                    messages.success(request, _("The rule is saved."))
                else:
                    rule = services.rule_update(actor=actor, rule=rule, **form.document())
                    messages.success(request, _("The rule is saved."))
                return redirect("automation:rule-detail", public_id=rule.public_id)
            except Invalid as error:
                errors = _error_paths(error)
                for name in ("name", "description", "is_active"):
                    for problem in errors.pop(name, []):
                        form.add_error(name, problem)
        else:
            for name in ("trigger", "conditions", "actions"):
                if name in form.errors:
                    errors[name] = list(form.errors[name])
    else:
        if rule is not None:
            initial = {"name": rule.name, "description": rule.description}
            initial["is_active"] = rule.is_active
            document = {
                "trigger": rule.trigger,
                "conditions": rule.conditions,
                "actions": rule.actions,
            }
        else:
            initial = {"is_active": True}
            document = {
                "trigger": {"type": "lead_created"},
                "conditions": None,
                "actions": [{"type": "create_activity", "kind": "task", "subject": ""}],
            }
        form = RuleForm(initial=initial)
    builder = {**document, "errors": errors, "options": _builder_options(actor)}
    return render(
        request,
        "automation/rule_form.html",
        {"form": form, "rule": rule, "builder": builder, "errors": errors},
        status=422 if errors or form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@page_errors
def rule_create_view(request: HttpRequest) -> HttpResponse:
    return _builder_page(request, None)


@require_http_methods(["GET", "POST"])
@page_errors
def rule_edit_view(request: HttpRequest, public_id: str) -> HttpResponse:
    return _builder_page(request, access_rule(request.user, public_id))


@require_POST
@page_errors
def rule_preview_view(request: HttpRequest) -> HttpResponse:
    """The builder's rule in words (htmx partial), or why it cannot be read yet."""
    require_rule_reader(request.user)
    trigger = loose_json(request.POST.get("trigger"), {})
    conditions = loose_json(request.POST.get("conditions"), {}) or None
    actions = loose_json(request.POST.get("actions"), [])
    text, complete = "", False
    if not trigger.get("type"):
        return render(request, "automation/partials/preview.html", {"text": "", "complete": False})
    try:
        parsed = schema.parse_document(trigger, conditions, actions)
        dumped = parsed.model_dump(mode="json", exclude_none=True)
        text = describe_rule(SimpleNamespace(**dumped), _language())
        complete = True
    except ValidationError:
        try:
            text = describe_rule(
                SimpleNamespace(trigger=trigger, conditions=conditions, actions=actions),
                _language(),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            text = ""
    return render(request, "automation/partials/preview.html", {"text": text, "complete": complete})


# ---------------------------------------------------------------- rule page and runs


DETAIL_LABELS = {
    "kind": gettext_lazy("kind"),
    "subject": gettext_lazy("title"),
    "assignee": gettext_lazy("for"),
    "due_at": gettext_lazy("due"),
    "owner": gettext_lazy("owner"),
    "tag": gettext_lazy("tag"),
    "tags": gettext_lazy("tags"),
    "field": gettext_lazy("field"),
    "value": gettext_lazy("value"),
    "stage": gettext_lazy("stage"),
    "to": gettext_lazy("to"),
    "message": gettext_lazy("message"),
    "notified": gettext_lazy("notified"),
    "skipped": gettext_lazy("skipped"),
    "webhook": gettext_lazy("webhook"),
}


def _detail_value(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("username") or value.get("title") or "")
    if isinstance(value, list):
        return ", ".join(_detail_value(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            return formatting.local_datetime(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


def _detail_text(detail: Any) -> str:
    """An action's outcome as short text (`title: Call Nima · for: Sara`); ids are left
    out, they mean nothing to a reader."""
    if not isinstance(detail, dict):
        return _detail_value(detail)
    parts = []
    for key, value in detail.items():
        if key == "id" or key.endswith("_id"):
            continue
        text = _detail_value(value)
        if text:
            parts.append(f"{DETAIL_LABELS.get(key, key)}: {text}")
    return " · ".join(parts)


def _run_rows(runs: list[AutomationRun], rule: Rule) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        outcomes = []
        for index, outcome in enumerate(run.outcomes or []):
            action = rule.actions[index] if index < len(rule.actions or []) else None
            outcomes.append(
                {
                    "words": action_in_words(action) if action else outcome.get("action", ""),
                    "status": outcome.get("status", ""),
                    "detail": _detail_text(outcome.get("detail")),
                    "error": outcome.get("error") or "",
                }
            )
        link = ""
        if run.record_public_id:
            link = record_link(run.record_kind, run.record_public_id)
        rows.append(
            {
                "run": run,
                "outcomes": outcomes,
                "link": link,
                "messages": list(run.messages.all()),
                "deliveries": list(run.deliveries.all()),
            }
        )
    return rows


@require_GET
@page_errors
def rule_detail_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    rule = access_rule(actor, public_id)
    filters = RunFilterForm(request.GET or None, statuses=AutomationRun.Status.choices)
    runs = run_list(actor=actor).filter(rule=rule)
    if filters.is_bound and not filters.is_valid():
        runs = runs.none()
    elif filters.is_bound:
        data = filters.cleaned_data
        if data.get("record"):
            runs = runs.filter(record_public_id=data["record"])
        if data.get("status"):
            runs = runs.filter(status=data["status"])
        if data.get("dry_run"):
            runs = runs.filter(dry_run=data["dry_run"] == "1")
    runs = runs.prefetch_related("messages", "deliveries__endpoint")
    page, next_cursor = keyset_page(
        runs,
        field="created_at",
        descending=True,
        cursor=request.GET.get("cursor") or None,
        limit=RUNS_PER_PAGE,
    )
    context = {
        "rule": rule,
        "in_words": describe_rule(rule, _language()),
        "rule_json": json.dumps(
            {
                "name": rule.name,
                "description": rule.description,
                "is_active": rule.is_active,
                "trigger": rule.trigger,
                "conditions": rule.conditions,
                "actions": rule.actions,
            },
            indent=2,
            ensure_ascii=False,
        ),
        "runs": _run_rows(page, rule),
        "filters": filters,
        "next_url": next_page_url(request.GET, next_cursor),
        "can_write": is_admin(actor),
        "filtered": bool(request.GET.get("cursor") or filters.is_bound),
    }
    return render(request, "automation/rule_detail.html", context)


# ---------------------------------------------------------------- dry run


def _hits(actor: Any, query: str) -> list[dict[str, str]]:
    hits = search(actor, query, limit=SEARCH_HITS) if query else []
    return [
        {
            "value": f"{hit.kind}:{hit.public_id}",
            "kind": str(ENTITIES.get(hit.kind, hit.kind)),
            "title": hit.title,
            "subtitle": hit.subtitle,
        }
        for hit in hits
    ]


@require_http_methods(["GET", "POST"])
@page_errors
def rule_test_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Pick a record with the search box, then see what the rule would do to it."""
    actor = request.user
    rule = access_rule(actor, public_id)
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()[:200]
    result = None
    problem = ""
    if request.method == "POST":
        kind, _sep, record_id = (request.POST.get("record") or "").partition(":")
        if kind not in RECORD_ACCESS or not record_id:
            problem = _("Choose a record to test the rule on.")
        else:
            record = RECORD_ACCESS[kind](actor, record_id)
            holds, run = services.rule_test(actor=actor, rule=rule, record=record)
            result = {
                "holds": holds,
                "record": run.record_repr or str(record),
                "link": record_link(kind, record.public_id),
                "rows": _run_rows([run], rule)[0],
            }
    return render(
        request,
        "automation/rule_test.html",
        {
            "rule": rule,
            "in_words": describe_rule(rule, _language()),
            "query": query,
            "hits": _hits(actor, query),
            "result": result,
            "problem": problem,
        },
        status=422 if problem else 200,
    )


@require_GET
@page_errors
def record_search_view(request: HttpRequest) -> HttpResponse:
    """The dry run's record choices (htmx partial) from the global search."""
    require_rule_reader(request.user)
    query = (request.GET.get("q") or "").strip()[:200]
    return render(
        request,
        "automation/partials/record_choices.html",
        {"query": query, "hits": _hits(request.user, query)},
    )


# ---------------------------------------------------------------- parked jobs


@require_GET
@page_errors
def failed_job_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    include_retried = request.GET.get("retried") == "1"
    jobs, next_cursor = keyset_page(
        failed_job_list(actor=actor, include_retried=include_retried),
        field="failed_at",
        descending=True,
        cursor=request.GET.get("cursor") or None,
        limit=JOBS_PER_PAGE,
    )
    return render(
        request,
        "automation/failed_jobs.html",
        {
            "jobs": [
                {"job": job, "task": job.task_path.rsplit(".", 1)[-1], "arguments": job.kwargs}
                for job in jobs
            ],
            "include_retried": include_retried,
            "next_url": next_page_url(request.GET, next_cursor),
        },
    )


@require_POST
@page_errors
def failed_job_retry_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    job = access_failed_job(actor, public_id)
    try:
        services.failed_job_retry(actor=actor, job=job)
        messages.success(request, _("The job is queued again."))
    except Conflict as error:
        messages.error(request, error.message)
    return redirect("automation:failed-jobs")
