"""The KPI dashboard: which cards and charts each user sees, in which order, and the
figures behind them.

A user without a saved dashboard gets the default of their role: every KPI figure (their
own numbers for a rep, their teams' for a manager, everyone's for an administrator; the
visibility rule does the scoping) and the charts of `DEFAULT_CHARTS`. The first change a
user makes saves the default as their own list, which they then edit; resetting deletes
it. A card is named by a reference: `figure:<KPI figure key>` or `chart:<report key>:<n>`
(the report's n-th chart).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.core.audit import record_audit
from wasl.core.errors import Forbidden, Invalid, NotFound
from wasl.reports import registry
from wasl.reports.filters import ReportFilters, parse_filters
from wasl.reports.models import Dashboard, DashboardCard
from wasl.reports.results import Chart, Figure, Report

KPI_REPORT = "kpis"
# Charts on a default dashboard, by role; those whose report is missing are left out. The
# KPI report's own charts cost nothing more; the others load after the page (see views).
DEFAULT_CHARTS = {
    "rep": ("chart:kpis:0", "chart:kpis:1", "chart:forecast:0"),
    "readonly": ("chart:kpis:0", "chart:kpis:1", "chart:forecast:0"),
    "manager": ("chart:kpis:0", "chart:kpis:1", "chart:forecast:0", "chart:activity:0"),
    "admin": ("chart:kpis:0", "chart:kpis:1", "chart:forecast:0", "chart:activity:0"),
}
MAX_CARDS = 24
_REF = re.compile(r"^(figure):([a-z0-9_-]{1,60})$|^(chart):([a-z0-9_-]{1,40}):(\d{1,2})$")


@dataclass(frozen=True)
class CardRef:
    ref: str
    kind: str  # "figure" or "chart"
    key: str  # the figure's key, or the chart's report key
    index: int = 0


def parse_ref(ref: str) -> CardRef:
    """A card reference checked for shape; raises Invalid."""
    match = _REF.match(str(ref or ""))
    if match is None:
        raise Invalid({"card": [_("This is not a card of the dashboard.")]})
    if match.group(1):
        return CardRef(ref, "figure", match.group(2))
    return CardRef(ref, "chart", match.group(4), int(match.group(5)))


# ---------------------------------------------------------------- selectors


def is_customised(*, user: Any) -> bool:
    return Dashboard.objects.filter(owner_id=user.pk).exists()


def kpi_report(user: Any, filters: ReportFilters | None = None) -> Report | None:
    try:
        definition = registry.get(KPI_REPORT)
    except NotFound:
        return None
    return definition.build(user, filters or parse_filters(user, {}))


def default_refs(*, user: Any, kpis: Report | None = None) -> list[str]:
    """The cards of `user`'s default dashboard."""
    refs = [f"figure:{f.key}" for f in kpis.figures] if kpis is not None else []
    for ref in DEFAULT_CHARTS.get(str(user.role), DEFAULT_CHARTS["rep"]):
        card = parse_ref(ref)
        if card.key == KPI_REPORT:
            if kpis is not None and card.index < len(kpis.charts):
                refs.append(ref)
            continue
        try:
            registry.get(card.key)
        except NotFound:
            continue
        refs.append(ref)
    return refs


def dashboard_cards(*, user: Any, kpis: Report | None = None) -> list[CardRef]:
    """The cards `user` sees, in order: their saved list, else their role's default
    (which needs the KPI report's figures; it is built when not given)."""
    saved = Dashboard.objects.filter(owner_id=user.pk).first()
    if saved is not None:
        return [
            parse_ref(ref)
            for ref in saved.cards.order_by("position", "id").values_list("ref", flat=True)
        ]
    if kpis is None:
        kpis = kpi_report(user)
    return [parse_ref(ref) for ref in default_refs(user=user, kpis=kpis)]


def card_labels(*, user: Any, kpis: Report | None = None) -> list[tuple[str, str]]:
    """Every card `user` may put on the dashboard, with its name: the KPI figures and the
    first chart of each report."""
    if kpis is None:
        kpis = kpi_report(user)
    choices: list[tuple[str, str]] = []
    if kpis is not None:
        choices += [(f"figure:{f.key}", str(f.label)) for f in kpis.figures]
        choices += [
            (f"chart:{KPI_REPORT}:{n}", _("Chart: %(report)s") % {"report": c.title or kpis.title})
            for n, c in enumerate(kpis.charts)
        ]
    for definition in registry.all_reports():
        if definition.key != KPI_REPORT:
            choices.append(
                (f"chart:{definition.key}:0", _("Chart: %(report)s") % {"report": definition.title})
            )
    return choices


@dataclass
class BuiltCard:
    ref: CardRef
    report_key: str
    title: str = ""
    index: int = 0
    figure: Figure | None = None
    chart: Chart | None = None
    lazy: bool = False  # a chart of another report, loaded after the page


@dataclass
class BuiltDashboard:
    cards: list[BuiltCard] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # cards whose report is not there
    warnings: list[str] = field(default_factory=list)
    customised: bool = False


def build_dashboard(*, user: Any, filters: ReportFilters, lazy: bool = False) -> BuiltDashboard:
    """The dashboard's cards filled with their numbers for `filters`: the KPI report is
    built once, and each other report once however many of its charts are shown. With
    `lazy`, charts of reports other than the KPI report are left to load on their own
    (`BuiltCard.lazy`), so the page answers in the time of the KPI report alone."""
    kpis = kpi_report(user, filters)
    customised = is_customised(user=user)
    refs = dashboard_cards(user=user, kpis=kpis)
    board = BuiltDashboard(customised=customised)
    reports: dict[str, Report | None] = {KPI_REPORT: kpis}
    warnings: list[str] = list(kpis.warnings) if kpis is not None else []
    figures = {f.key: f for f in kpis.figures} if kpis is not None else {}
    for ref in refs:
        if ref.kind == "figure":
            figure = figures.get(ref.key)
            if figure is None:
                board.missing.append(ref.ref)
                continue
            board.cards.append(BuiltCard(ref, KPI_REPORT, str(figure.label), figure=figure))
            continue
        if lazy and ref.key not in reports:
            try:
                definition = registry.get(ref.key)
            except NotFound:
                board.missing.append(ref.ref)
                continue
            title = str(definition.title)
            board.cards.append(BuiltCard(ref, ref.key, title, ref.index, lazy=True))
            continue
        if ref.key not in reports:
            try:
                definition = registry.get(ref.key)
            except NotFound:
                reports[ref.key] = None
            else:
                reports[ref.key] = definition.build(user, filters)
                warnings += [w for w in reports[ref.key].warnings if w not in warnings]  # type: ignore[union-attr]
        built = reports[ref.key]
        if built is None or ref.index >= len(built.charts):
            board.missing.append(ref.ref)
            continue
        chart = built.charts[ref.index]
        title = str(getattr(chart, "title", "") or built.title)
        board.cards.append(BuiltCard(ref, ref.key, title, ref.index, chart=chart))
    board.warnings = warnings
    return board


# ---------------------------------------------------------------- services


def _require_user(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise Forbidden()


def _defaults_unless_saved(actor: Any) -> list[str]:
    """The actor's default cards when they have no dashboard of their own yet; worked out
    before the transaction, as it builds the KPI report."""
    if is_customised(user=actor):
        return []
    return default_refs(user=actor, kpis=kpi_report(actor))


def _own_dashboard(actor: Any, defaults: list[str]) -> Dashboard:
    """The actor's saved dashboard, created with `defaults` when they have none yet.
    Call inside a transaction."""
    dashboard = Dashboard.objects.select_for_update().filter(owner_id=actor.pk).first()
    if dashboard is not None:
        return dashboard
    refs = defaults
    dashboard = Dashboard.objects.create(owner_id=actor.pk)
    DashboardCard.objects.bulk_create(
        DashboardCard(dashboard=dashboard, ref=ref, position=n) for n, ref in enumerate(refs)
    )
    return dashboard


def _refs(dashboard: Dashboard) -> list[str]:
    return list(dashboard.cards.order_by("position", "id").values_list("ref", flat=True))


def _audit(actor: Any, dashboard: Dashboard, before: list[str], action: str = "update") -> None:
    after = _refs(dashboard)
    if before != after:
        record_audit(
            actor=actor, action=action, record=dashboard, changes={"cards": [before, after]}
        )


def dashboard_add_card(*, actor: Any, card: str) -> None:
    """Put a card at the end of the actor's dashboard. Raises Invalid for an unknown card,
    one already shown, or a full dashboard."""
    _require_user(actor)
    ref = parse_ref(card)
    try:
        registry.get(KPI_REPORT if ref.kind == "figure" else ref.key)
    except NotFound:
        raise Invalid({"card": [_("This is not a card of the dashboard.")]}) from None
    defaults = _defaults_unless_saved(actor)
    with transaction.atomic(durable=True):
        dashboard = _own_dashboard(actor, defaults)
        before = _refs(dashboard)
        if ref.ref in before:
            raise Invalid({"card": [_("This card is already on your dashboard.")]})
        if len(before) >= MAX_CARDS:
            raise Invalid(
                {
                    "card": [
                        ngettext(
                            "A dashboard holds at most %(n)s card.",
                            "A dashboard holds at most %(n)s cards.",
                            MAX_CARDS,
                        )
                        % {"n": MAX_CARDS}
                    ]
                }
            )
        last = dashboard.cards.aggregate(last=Max("position"))["last"]
        DashboardCard.objects.create(
            dashboard=dashboard, ref=ref.ref, position=0 if last is None else last + 1
        )
        _audit(actor, dashboard, before)


def dashboard_remove_card(*, actor: Any, card: str) -> None:
    """Take a card off the actor's dashboard (nothing happens when it is not there)."""
    _require_user(actor)
    ref = parse_ref(card)
    defaults = _defaults_unless_saved(actor)
    with transaction.atomic(durable=True):
        dashboard = _own_dashboard(actor, defaults)
        before = _refs(dashboard)
        dashboard.cards.filter(ref=ref.ref).delete()
        _audit(actor, dashboard, before)


def dashboard_move_card(*, actor: Any, card: str, offset: int) -> None:
    """Move a card `offset` places (−1: one earlier, 1: one later), within the list."""
    _require_user(actor)
    ref = parse_ref(card)
    defaults = _defaults_unless_saved(actor)
    with transaction.atomic(durable=True):
        dashboard = _own_dashboard(actor, defaults)
        before = _refs(dashboard)
        if ref.ref not in before:
            raise Invalid({"card": [_("This card is not on your dashboard.")]})
        order = list(before)
        at = order.index(ref.ref)
        to = max(0, min(len(order) - 1, at + int(offset)))
        order.insert(to, order.pop(at))
        cards = {c.ref: c for c in dashboard.cards.all()}
        changed = []
        for position, name in enumerate(order):
            row = cards[name]
            if row.position != position:
                row.position = position
                changed.append(row)
        DashboardCard.objects.bulk_update(changed, ["position"])
        _audit(actor, dashboard, before)


def dashboard_reset(*, actor: Any) -> None:
    """Forget the actor's own dashboard: they see their role's default again."""
    _require_user(actor)
    with transaction.atomic(durable=True):
        dashboard = Dashboard.objects.select_for_update().filter(owner_id=actor.pk).first()
        if dashboard is None:
            return
        before = _refs(dashboard)
        record_audit(
            actor=actor, action="delete", record=dashboard, changes={"cards": [before, None]}
        )
        dashboard.delete()
