"""The filters every report takes (period, pipeline, owner, team) read from query
parameters, and the visibility-scoped querysets every report number starts from."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wasl.accounts.models import Team, User
from wasl.accounts.selectors import organisation_get
from wasl.activities.models import Activity
from wasl.core import calendars
from wasl.core.errors import Invalid
from wasl.core.visibility import Role, visible, visible_q
from wasl.deals.models import Deal, DealStageChange, Pipeline
from wasl.leads.models import Lead
from wasl.reports.periods import DEFAULT_PERIOD, Period, resolve_period

# Parameters every report reads; the others are kept in `ReportFilters.extra` for the
# report that wants them (`unit`, `target`, ...).
COMMON_PARAMS = ("period", "start", "end", "pipeline", "owner", "team")


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    pipeline_id: int | None
    owner_id: int | None
    team_id: int | None
    calendar: str
    tz: zoneinfo.ZoneInfo
    currency: str  # the organisation's currency
    week_start: int = 0
    today: dt.date = field(default_factory=dt.date.today)
    language: str = "en"
    pipeline_public_id: str | None = None
    owner_public_id: str | None = None
    team_public_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def echo(self) -> dict[str, Any]:
        """The filters as the API answers them."""
        return {
            "period": self.period.key,
            "start": self.period.start.isoformat(),
            "end": (self.period.end - dt.timedelta(days=1)).isoformat(),
            "label": self.period.label(self.language),
            "pipeline": self.pipeline_public_id,
            "owner": self.owner_public_id,
            "team": self.team_public_id,
            "calendar": self.calendar,
            "time_zone": str(self.tz),
            "currency": self.currency,
        }

    def with_period(self, period: Period) -> ReportFilters:
        """The same filters over another period (the previous one, a bucket)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["period"] = period
        return ReportFilters(**values)


def _public_id(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise Invalid({name: [_("This is not a valid id.")]}) from None


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None or not str(value).strip():
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid({name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def user_calendar(user: Any, organisation: Any) -> str:
    """The user's calendar, else the organisation's, else Gregorian."""
    chosen = getattr(user, "calendar", "") or organisation.calendar or calendars.GREGORIAN
    return chosen if chosen in calendars.CALENDARS else calendars.GREGORIAN


def may_filter_by_owner(user: Any, owner: User) -> bool:
    """Whether `user`'s numbers can be narrowed to `owner`'s: admins any user, managers
    and read-only users the members of their teams, reps themselves."""
    if owner.pk == user.pk or user.role == Role.ADMIN:
        return True
    if user.role in (Role.MANAGER, Role.READONLY):
        return owner.team_id is not None and owner.team_id in user.scope_team_ids()
    return False


def may_filter_by_team(user: Any, team: Team) -> bool:
    if user.role == Role.ADMIN or team.pk == user.team_id:
        return True
    return user.role in (Role.MANAGER, Role.READONLY) and team.pk in user.scope_team_ids()


def parse_filters(
    user: Any, params: Mapping[str, Any], *, today: dt.date | None = None
) -> ReportFilters:
    """The report filters in `params`, in `user`'s calendar and the organisation's time
    zone. Raises Invalid for a bad value, and the same Invalid as for an unknown id when
    the owner or team is one `user` may not see."""
    organisation = organisation_get()
    tz = zone_named(organisation.time_zone)
    calendar = user_calendar(user, organisation)
    if today is None:
        today = timezone.now().astimezone(tz).date()
    period = resolve_period(
        str(params.get("period") or DEFAULT_PERIOD),
        calendar=calendar,
        week_start=int(organisation.week_start),
        today=today,
        start=_date(params.get("start"), "start"),
        end=_date(params.get("end"), "end"),
    )

    pipeline: Pipeline | None = None
    if params.get("pipeline"):
        pipeline = Pipeline.objects.filter(public_id=_public_id(params["pipeline"], "pipeline"))
        pipeline = pipeline.first()
        if pipeline is None:
            raise Invalid({"pipeline": [_("There is no such pipeline.")]})

    owner: User | None = None
    if params.get("owner"):
        owner = User.objects.filter(public_id=_public_id(params["owner"], "owner")).first()
        if owner is None or not may_filter_by_owner(user, owner):
            raise Invalid({"owner": [_("There is no such user.")]})

    team: Team | None = None
    if params.get("team"):
        team = Team.objects.filter(public_id=_public_id(params["team"], "team")).first()
        if team is None or not may_filter_by_team(user, team):
            raise Invalid({"team": [_("There is no such team.")]})

    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return ReportFilters(
        period=period,
        pipeline_id=pipeline.pk if pipeline else None,
        owner_id=owner.pk if owner else None,
        team_id=team.pk if team else None,
        calendar=calendar,
        tz=tz,
        currency=organisation.currency,
        week_start=int(organisation.week_start),
        today=today,
        language=language,
        pipeline_public_id=str(pipeline.public_id) if pipeline else None,
        owner_public_id=str(owner.public_id) if owner else None,
        team_public_id=str(team.public_id) if team else None,
        extra={
            str(k): str(v) for k, v in params.items() if k not in COMMON_PARAMS and v is not None
        },
    )


def _narrow(queryset: QuerySet[Any], user: Any, filters: ReportFilters) -> QuerySet[Any]:
    queryset = visible(queryset, user)
    if filters.owner_id is not None:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        queryset = queryset.filter(team_id=filters.team_id)
    return queryset


def deals_in_scope(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    """The deals `user` may see, narrowed by owner, team and pipeline."""
    deals = _narrow(Deal.objects.all(), user, filters)
    if filters.pipeline_id is not None:
        deals = deals.filter(pipeline_id=filters.pipeline_id)
    return deals


def leads_in_scope(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    """The leads `user` may see, narrowed by owner and team (leads have no pipeline)."""
    return _narrow(Lead.objects.all(), user, filters)


def activities_in_scope(user: Any, filters: ReportFilters) -> QuerySet[Activity]:
    """The activities `user` may see, narrowed by owner (assignee) and team."""
    return _narrow(Activity.objects.all(), user, filters)


def stage_changes_in_scope(user: Any, filters: ReportFilters) -> QuerySet[DealStageChange]:
    """The stage moves of the deals `deals_in_scope` answers, joined rather than through
    an id subquery so the (to_stage, changed_at) index drives the query."""
    changes = DealStageChange.objects.all()
    clause = visible_q(
        user, Deal, owner_field="deal__owner_id", team_field="deal__team_id", pk_field="deal_id"
    )
    if clause is not None:
        changes = changes.filter(clause)
    if filters.owner_id is not None:
        changes = changes.filter(deal__owner_id=filters.owner_id)
    if filters.team_id is not None:
        changes = changes.filter(deal__team_id=filters.team_id)
    if filters.pipeline_id is not None:
        changes = changes.filter(deal__pipeline_id=filters.pipeline_id)
    return changes
