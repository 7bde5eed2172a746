"""The catalogue of reports: each report module registers its definitions on import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from wasl.core.errors import NotFound
from wasl.reports.filters import ReportFilters
from wasl.reports.results import Report

REPORT_KEYS = (
    "funnel",
    "stage-durations",
    "sales-cycle",
    "win-loss",
    "forecast",
    "activity",
    "lead-sources",
    "retention",
    "churn",
    "lifetime-value",
    "at-risk",
    "kpis",
)
# The record kinds a drill-down can list.
DRILL_KINDS = ("deal", "lead", "contact", "company", "activity")

Build = Callable[[Any, ReportFilters], Report]
Drill = Callable[[Any, ReportFilters, str], tuple[str, QuerySet[Any]]]


@dataclass(frozen=True)
class ReportDefinition:
    key: str
    title: Any  # lazy text
    description: Any  # lazy text
    build: Build
    drill: Drill | None = None


_REGISTRY: dict[str, ReportDefinition] = {}


def register(definition: ReportDefinition) -> ReportDefinition:
    if definition.key not in REPORT_KEYS:
        raise ValueError(f"unknown report key {definition.key!r}")
    _REGISTRY[definition.key] = definition
    return definition


def get(key: str) -> ReportDefinition:
    """The report named `key`; raises NotFound when it does not exist (yet)."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise NotFound() from None


def all_reports() -> list[ReportDefinition]:
    """Registered reports in the catalogue's order."""
    return [_REGISTRY[key] for key in REPORT_KEYS if key in _REGISTRY]
