"""Customer reports: lead sources, retention and cohorts, churn, lifetime value and the
customers at risk.

Definitions (also in docs/reports.md):
- A customer is a company, or a contact without a company, with at least one won deal.
  A deal belongs to its company; a deal without a company to the primary company of its
  first contact (lowest id), else to that contact. An activity belongs to its company,
  else its contact's primary company, else its deal's company, else its contact.
- Only the customers the viewer may see, through deals they may see, are counted.
- A customer is in touch at a moment when it had a won deal or a done activity (any kind
  but a note, by anyone) within the last N days, N being the organisation's
  `churn_after_days`; read from the customer summary (`wasl.reports.touches`).
  Churned during a period: in touch at the period's start, no longer at its end (or now
  for a period not over). Churn rate: churned / in touch at the start.
- New customers of a period made their first purchase (won deal) in it; repeat customers
  bought in it and before it.
- Lead sources follow the leads created in the period up to now: those converted since,
  and the won deals of those conversions (the converted deal, or a deal of the company or
  contact the lead became, won at or after the conversion); days to convert are counted
  from the lead's creation to its conversion.
- Revenue is converted to the organisation's currency at the rate of the day the deal was
  won; amounts without a rate are left out and named in the warnings.
"""

from __future__ import annotations

import datetime as dt
import heapq
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wasl.contacts.models import Company, Contact, Source, Tag
from wasl.core.errors import NotFound
from wasl.core.visibility import Role, is_admin, visible, visible_q
from wasl.deals.models import Deal, Stage
from wasl.leads.models import Lead
from wasl.reports import parallel, touches
from wasl.reports.activity import reference_moment
from wasl.reports.filters import (
    ReportFilters,
    deals_in_scope,
    leads_in_scope,
)
from wasl.reports.models import CustomerTotals
from wasl.reports.money import (
    CENT,
    MoneyTotal,
    RateTable,
    merge_missing,
    missing_rate_warnings,
    rate_day,
)
from wasl.reports.periods import Period, aware_bounds, buckets
from wasl.reports.registry import ReportDefinition, register
from wasl.reports.results import Chart, Column, Figure, Report, Table, ratio

COMPANY = touches.COMPANY
CONTACT = touches.CONTACT
Key = tuple[str, int]
# Rows of the customer lists (top customers, at risk, churned).
LIST_LIMIT = 100
_CHUNK = 2000
WHOLE = Decimal(1)


# ---------------------------------------------------------------- customers


def with_customer(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """`deals` annotated with their customer: `cust_company`, else `cust_contact`, read
    from the customer summary (one join; the summary is brought up to date first)."""
    touches.ensure_current()
    kind = "customer_attribution__customer_kind"
    customer = "customer_attribution__customer_id"
    return deals.annotate(
        cust_company=Case(
            When(**{kind: COMPANY}, then=F(customer)),
            default=None,
            output_field=BigIntegerField(),
        ),
        cust_contact=Case(
            When(**{kind: CONTACT}, then=F(customer)),
            default=None,
            output_field=BigIntegerField(),
        ),
    )


def key_of(company_id: int | None, contact_id: int | None) -> Key | None:
    if company_id is not None:
        return (COMPANY, company_id)
    if contact_id is not None:
        return (CONTACT, contact_id)
    return None


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for index in range(0, len(values), _CHUNK):
        yield values[index : index + _CHUNK]


def visible_keys(user: Any, keys: Iterable[Key]) -> set[Key]:
    """The customers of `keys` whose company or contact `user` may see: the visibility
    rule's query compiled once a kind, then asked for the ids a chunk at a time (a
    manager's 40,000 customers at L: the ORM preparing every id cost 0.3 s)."""
    keys = set(keys)
    if is_admin(user):
        return keys
    seen: set[Key] = set()
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        ids = [i for k, i in keys if k == kind]
        if not ids:
            continue
        allowed = touches.Statement.of(visible(model.objects.all(), user).values("pk"))
        select = f'SELECT "pk" FROM ({allowed.sql}) v'  # noqa: S608 (a compiled query)
        rows = _read_by_id(select, '"pk"', ids, params=allowed.params)
        seen.update((kind, pk) for (pk,) in rows)
    return seen


def won_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    return deals_in_scope(user, filters).filter(stage__kind=Stage.Kind.WON, closed_at__isnull=False)


def customers_until(
    user: Any, filters: ReportFilters, until: dt.datetime
) -> dict[Key, dict[str, Any]]:
    """{customer: {"first": first won}} over the won deals in scope closed before `until`,
    for the customers the viewer sees (read from the customer summary in one statement,
    each customer checked against the visibility rule there)."""
    rows = touches.fetch(touches.buyers(purchase_scope(user, filters), until, user))
    return {(kind, pk): {"first": touches.moment_of(first)} for kind, pk, first in rows}


def names(keys: Iterable[Key]) -> dict[Key, str]:
    keys = list(keys)
    found: dict[Key, str] = {}
    companies = [i for k, i in keys if k == COMPANY]
    for pk, name in Company.objects.filter(pk__in=companies).values_list("pk", "name"):
        found[(COMPANY, pk)] = name
    contacts = [i for k, i in keys if k == CONTACT]
    for pk, first, last in Contact.objects.filter(pk__in=contacts).values_list(
        "pk", "first_name", "last_name"
    ):
        found[(CONTACT, pk)] = " ".join(p for p in (first, last) if p) or "—"
    return found


def public_ids(keys: Iterable[Key]) -> dict[Key, str]:
    keys = list(keys)
    found: dict[Key, str] = {}
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        ids = [i for k, i in keys if k == kind]
        for pk, public in model.objects.filter(pk__in=ids).values_list("pk", "public_id"):
            found[(kind, pk)] = str(public)
    return found


def kind_label(kind: str) -> str:
    return _("Company") if kind == COMPANY else _("Person")


def records_of(kind: str, keys: Iterable[Key]) -> tuple[str, QuerySet[Any]]:
    """The drill answer for a set of customers of one kind."""
    ids = [i for k, i in keys if k == kind]
    model = Company if kind == COMPANY else Contact
    return kind, model.objects.filter(pk__in=ids)


def counted(sets: dict[str, set[Key]]) -> dict[str, Counter[str]]:
    """{measure: {kind: customers}} of sets of customers."""
    return {measure: Counter(map(itemgetter(0), keys)) for measure, keys in sets.items()}


def kind_table(
    key: str, title: str, measures: list[tuple[str, str]], counts: dict[str, Counter[str]]
) -> Table:
    """Customer counts ({measure: {kind: n}}) split into companies and people, each cell
    drilled."""
    rows = []
    for kind, label in ((COMPANY, _("Companies")), (CONTACT, _("People without a company"))):
        row: dict[str, Any] = {"kind": label, "_drill": {}}
        for measure, _label in measures:
            row[measure] = counts[measure][kind]
            row["_drill"][measure] = f"{measure}:{kind}"
        rows.append(row)
    columns = [Column("kind", _("Customers"))] + [
        Column(measure, label, "count") for measure, label in measures
    ]
    return Table(key, title, columns, rows)


def split_cell(cell_id: str) -> tuple[str, str]:
    measure, _sep, kind = str(cell_id or "").partition(":")
    if kind not in (COMPANY, CONTACT):
        raise NotFound()
    return measure, kind


def local_day(
    date_field: str,
    filters: ReportFilters,
    within: tuple[dt.datetime, dt.datetime] | None = None,
) -> Any:
    """The local day of `date_field` for converting amounts (see `money.rate_day`)."""
    return rate_day(date_field, filters.currency, filters.tz, within)


def median(values: list[Any]) -> Any:
    return statistics.median(values) if values else None


def source_label(code: str) -> str:
    try:
        return str(Source(code).label)
    except ValueError:
        return code or _("(none)")


# ---------------------------------------------------------------- lead sources


def period_leads(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    start, end = aware_bounds(filters.period, filters.tz)
    return leads_in_scope(user, filters).filter(created_at__gte=start, created_at__lt=end)


def conversion_deal_ids(
    user: Any, filters: ReportFilters, leads: QuerySet[Lead]
) -> dict[str, set[int]]:
    """{lead source: ids of the won deals of the conversions of `leads`}, up to now: a
    lead's converted deal, or a deal of the company or contact it became, won at or after
    the conversion. Read from the converted leads' side (few) rather than the deals'."""
    converted = list(
        leads.filter(status=Lead.Status.CONVERTED, converted_at__isnull=False).values_list(
            "source",
            "converted_at",
            "converted_deal_id",
            "converted_company_id",
            "converted_contact_id",
        )
    )
    by_deal: dict[int, set[str]] = defaultdict(set)
    by_company: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    by_contact: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for source, converted_at, deal_id, company_id, contact_id in converted:
        if deal_id is not None:
            by_deal[deal_id].add(source)
        if company_id is not None:
            by_company[company_id].append((source, converted_at))
        if contact_id is not None:
            by_contact[contact_id].append((source, converted_at))
    found: dict[str, set[int]] = defaultdict(set)
    if not converted:
        return found
    start, _end = aware_bounds(filters.period, filters.tz)
    # Leads of the period convert, and their deals are won, after the period starts.
    won = won_deals(user, filters).filter(closed_at__gte=start)
    for chunk_deals, chunk_companies in _pairs(sorted(by_deal), sorted(by_company)):
        for pk, company_id, closed_at in won.filter(
            Q(pk__in=chunk_deals) | Q(company_id__in=chunk_companies)
        ).values_list("pk", "company_id", "closed_at"):
            for source in by_deal.get(pk, ()):
                found[source].add(pk)
            for source, converted_at in by_company.get(company_id, ()):
                if converted_at <= closed_at:
                    found[source].add(pk)
    through = Deal.contacts.through.objects
    for chunk in _chunks(sorted(by_contact)):
        # EXISTS per link: the few contacts' links drive the plan (an `IN` of the won
        # deals had SQLite list every won deal first, 0.23 s at L).
        for pk, contact_id, closed_at in (
            through.filter(contact_id__in=chunk)
            .filter(Exists(won.filter(pk=OuterRef("deal_id"))))
            .values_list("deal_id", "contact_id", "deal__closed_at")
        ):
            for source, converted_at in by_contact[contact_id]:
                if converted_at <= closed_at:
                    found[source].add(pk)
    return found


def _pairs(first: list[int], second: list[int]) -> Iterable[tuple[list[int], list[int]]]:
    """Both lists cut into chunks side by side (an empty chunk where one runs out)."""
    index = 0
    while index < max(len(first), len(second), 1):
        yield first[index : index + _CHUNK], second[index : index + _CHUNK]
        index += _CHUNK


def conversion_deals(user: Any, filters: ReportFilters, leads: QuerySet[Lead]) -> QuerySet[Deal]:
    """The won deals of the conversions of `leads` (see `conversion_deal_ids`)."""
    ids = set().union(*conversion_deal_ids(user, filters, leads).values())
    return won_deals(user, filters).filter(pk__in=sorted(ids))


def lead_source_rows(
    user: Any, filters: ReportFilters, rates: RateTable
) -> tuple[list[dict[str, Any]], MoneyTotal, int]:
    """One row per source of the leads created in the period, and the won deals of every
    conversion (money and count; a deal following leads of two sources counts once)."""
    leads = period_leads(user, filters)
    counts = (
        leads.order_by()
        .values("source")
        .annotate(leads=Count("pk"), converted=Count("pk", filter=Q(status=Lead.Status.CONVERTED)))
    )
    cycles: dict[str, list[float]] = defaultdict(list)
    for source, created, converted_at in leads.filter(
        status=Lead.Status.CONVERTED, converted_at__isnull=False
    ).values_list("source", "created_at", "converted_at"):
        cycles[source].append(max((converted_at - created).total_seconds(), 0) / 86400)
    deal_ids = conversion_deal_ids(user, filters, leads)
    every = set().union(*deal_ids.values())
    amounts: dict[int, Decimal | None] = {}
    grand = MoneyTotal(rates)
    for pk, currency, amount, closed_at in Deal.objects.filter(pk__in=sorted(every)).values_list(
        "pk", "currency", "amount", "closed_at"
    ):
        day = closed_at.astimezone(filters.tz).date()
        amounts[pk] = rates.convert(amount, currency, day)
        grand.add(amount, currency, day)
    rows = []
    for row in sorted(counts, key=lambda r: (-r["leads"], r["source"])):
        source = row["source"]
        ids = deal_ids.get(source, set())
        days = median(cycles.get(source, []))
        rows.append(
            {
                "source": source_label(source),
                "leads": row["leads"],
                "converted": row["converted"],
                "conversion_rate": ratio(row["converted"], row["leads"]),
                "won_deals": len(ids),
                "revenue": sum((amounts.get(pk) or Decimal(0) for pk in ids), Decimal(0)),
                "median_cycle_days": round(days, 1) if days is not None else None,
                "_drill": {
                    "leads": f"leads:{source}",
                    "converted": f"converted:{source}",
                    "won_deals": f"won_deals:{source}",
                },
            }
        )
    return rows, grand, len(every)


def build_lead_sources(user: Any, filters: ReportFilters) -> Report:
    rates = RateTable.load(filters.currency)
    rows, money, won = lead_source_rows(user, filters, rates)
    leads = sum(r["leads"] for r in rows)
    converted = sum(r["converted"] for r in rows)
    figures = [
        Figure("leads", _("Leads"), leads, "count", "leads"),
        Figure("converted", _("Converted"), converted, "count", "converted"),
        Figure("conversion_rate", _("Conversion rate"), ratio(converted, leads), "percent"),
        Figure("won_deals", _("Won deals"), won, "count", "won_deals"),
        Figure("revenue", _("Revenue"), money.total, "money"),
    ]
    columns = [
        Column("source", _("Source")),
        Column("leads", _("Leads"), "count"),
        Column("converted", _("Converted"), "count"),
        Column("conversion_rate", _("Conversion rate"), "percent"),
        Column("won_deals", _("Won deals"), "count"),
        Column("revenue", _("Revenue"), "money"),
        Column("median_cycle_days", _("Median days to convert"), "days"),
    ]
    chart = Chart(
        "bar",
        [r["source"] for r in rows],
        [
            {"label": _("Leads"), "data": [r["leads"] for r in rows]},
            {"label": _("Converted"), "data": [r["converted"] for r in rows]},
        ],
        key="by-source",
        title=_("Leads and conversions by source"),
    )
    revenue_chart = Chart(
        "doughnut",
        [r["source"] for r in rows],
        [{"label": _("Revenue"), "data": [r["revenue"] for r in rows]}],
        key="revenue-by-source",
        title=_("Revenue by source"),
    )
    return Report(
        key="lead-sources",
        title=_("Lead sources"),
        filters=filters,
        figures=figures,
        tables=[Table("by-source", _("By source"), columns, rows)],
        charts=[chart, revenue_chart],
        warnings=money.warnings(),
    )


def drill_lead_sources(
    user: Any, filters: ReportFilters, cell_id: str
) -> tuple[str, QuerySet[Any]]:
    measure, _sep, source = str(cell_id or "").partition(":")
    leads = period_leads(user, filters)
    if _sep:
        leads = leads.filter(source=source)
    if measure == "leads":
        return "lead", leads
    if measure == "converted":
        return "lead", leads.filter(status=Lead.Status.CONVERTED)
    if measure == "won_deals":
        return "deal", conversion_deals(user, filters, leads)
    raise NotFound()


# ---------------------------------------------------------------- retention


@dataclass
class Retention:
    new: set[Key] = field(default_factory=set)
    repeat: set[Key] = field(default_factory=set)
    months: list[Period] = field(default_factory=list)
    # cohort index → customers, and the customers buying in each later month
    cohorts: dict[int, set[Key]] = field(default_factory=dict)
    buying: dict[int, set[Key]] = field(default_factory=dict)


def _bucket_case(bounds: list[tuple[dt.datetime, dt.datetime]], name: str) -> Case:
    return Case(
        *[
            When(**{f"{name}__gte": first, f"{name}__lt": last}, then=Value(index))
            for index, (first, last) in enumerate(bounds)
        ],
        default=None,
        output_field=IntegerField(),
    )


def cohort_unit(period: Period) -> str:
    """Months for periods up to two years; quarters, then years, for longer ones, so the
    cohort table stays readable."""
    if period.days <= 2 * 366:
        return "month"
    return "quarter" if period.days <= 6 * 366 else "year"


def retention(user: Any, filters: ReportFilters) -> Retention:
    start, end = aware_bounds(filters.period, filters.tz)
    ref = min(end, reference_moment(filters))
    customers = customers_until(user, filters, ref)
    months = buckets(
        filters.period, cohort_unit(filters.period), filters.calendar, filters.week_start
    )
    bounds = [aware_bounds(month, filters.tz) for month in months]
    rows = (
        with_customer(won_deals(user, filters).filter(closed_at__gte=start, closed_at__lt=ref))
        .annotate(bucket=_bucket_case(bounds, "closed_at"))
        .order_by()
        .values_list("cust_company", "cust_contact", "bucket")
        .distinct()
    )
    result = Retention(months=months)
    for company_id, contact_id, bucket in rows:
        key = key_of(company_id, contact_id)
        if key is None or key not in customers or bucket is None:
            continue
        result.buying.setdefault(bucket, set()).add(key)
        if customers[key]["first"] >= start:
            result.new.add(key)
        else:
            result.repeat.add(key)
    for key, row in customers.items():
        first = row["first"]
        if first < start:
            continue
        for index, (first_moment, last_moment) in enumerate(bounds):
            if first_moment <= first < last_moment:
                result.cohorts.setdefault(index, set()).add(key)
                break
    return result


def build_retention(user: Any, filters: ReportFilters) -> Report:
    data = retention(user, filters)
    buyers = len(data.new) + len(data.repeat)
    figures = [
        Figure("customers", _("Customers buying"), buyers, "count"),
        Figure("new", _("New customers"), len(data.new), "count"),
        Figure("repeat", _("Repeat customers"), len(data.repeat), "count"),
        Figure(
            "repeat_share", _("Repeat customers' share"), ratio(len(data.repeat), buyers), "percent"
        ),
    ]
    language = filters.language
    labels = [month.label(language) for month in data.months]
    later_columns = len(data.months)
    cohort_rows = []
    for index in range(len(data.months)):
        cohort = data.cohorts.get(index, set())
        row: dict[str, Any] = {"cohort": labels[index], "customers": len(cohort)}
        for offset in range(later_columns):
            later_index = index + offset
            if later_index >= len(data.months) or not cohort:
                row[f"m{offset}"] = None
                continue
            row[f"m{offset}"] = ratio(
                len(cohort & data.buying.get(later_index, set())), len(cohort)
            )
        cohort_rows.append(row)
    later_label = {
        "month": _("Month %(n)s"),
        "quarter": _("Quarter %(n)s"),
        "year": _("Year %(n)s"),
    }[cohort_unit(filters.period)]
    cohort_columns = [
        Column("cohort", _("First purchase")),
        Column("customers", _("Customers"), "count"),
    ] + [
        Column(f"m{offset}", later_label % {"n": offset}, "percent")
        for offset in range(later_columns)
    ]
    sets = {"new": data.new, "repeat": data.repeat}
    chart = Chart(
        "stacked-bar",
        labels,
        [
            {
                "label": _("New customers"),
                "data": [len(data.buying.get(i, set()) & data.new) for i in range(len(labels))],
            },
            {
                "label": _("Repeat customers"),
                "data": [len(data.buying.get(i, set()) - data.new) for i in range(len(labels))],
            },
        ],
        key="new-repeat",
        title=_("New and repeat customers"),
    )
    return Report(
        key="retention",
        title=_("Retention"),
        filters=filters,
        figures=figures,
        tables=[
            kind_table(
                "customers",
                _("New and repeat customers"),
                [("new", _("New")), ("repeat", _("Repeat"))],
                counted(sets),
            ),
            Table("cohorts", _("Cohorts by first purchase"), cohort_columns, cohort_rows),
        ],
        charts=[chart],
    )


def drill_retention(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    measure, kind = split_cell(cell_id)
    data = retention(user, filters)
    sets = {"new": data.new, "repeat": data.repeat}
    if measure not in sets:
        raise NotFound()
    return records_of(kind, sets[measure])


# ---------------------------------------------------------------- churn


CHURN_MEASURES = ("active_start", "churned", "active_end", "new")


@dataclass
class Churn:
    days: int
    # {measure: {kind: customers}}, measures as in CHURN_MEASURES.
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    # The churned customers with their last sale or activity, latest first (LIST_LIMIT).
    churned_list: list[tuple[Key, dt.datetime]] = field(default_factory=list)

    def total(self, measure: str) -> int:
        return sum(self.counts.get(measure, Counter()).values())

    @property
    def rate(self) -> float | None:
        return ratio(self.total("churned"), self.total("active_start"))


def purchase_scope(user: Any, filters: ReportFilters) -> Q | None:
    """The deals in the viewer's scope as a condition on the summary's deal rows, which
    carry their deal's owner, team and pipeline: the visibility rule for deals (as
    `deals_in_scope` applies it) and the owner, team and pipeline filters. None when that
    is every deal (an administrator without filters)."""
    scope = visible_q(user, Deal, pk_field="deal_id") or Q()
    if filters.owner_id is not None:
        scope &= Q(owner_id=filters.owner_id)
    if filters.team_id is not None:
        scope &= Q(team_id=filters.team_id)
    if filters.pipeline_id is not None:
        scope &= Q(pipeline_id=filters.pipeline_id)
    return scope or None


def many_customers(user: Any, filters: ReportFilters) -> bool:
    """Whether the viewer's customers are likely most of them (an administrator's, a
    manager's teams', a pipeline's) rather than one owner's: PostgreSQL then reads the
    buyers' episodes in one pass instead of probing each customer (`touches.in_touch`).
    At L the KPI churn series of a manager's 40,000 customers took 352–565 ms probed and
    240 ms in one pass; a rep's 56–63 ms probed and 96–158 ms in one pass."""
    if filters.owner_id is not None:
        return False
    return is_admin(user) or user.role in (Role.MANAGER, Role.READONLY)


def _churn_flags(
    user: Any, filters: ReportFilters, periods: list[Period], *, last_end: bool
) -> tuple[touches.Statement, list[tuple[int, int]], list[dt.datetime]]:
    """The viewer's customers with their in-touch flags at every period's start and end
    (see `touches.in_touch`), each period's (start, end) flag indexes, and the moments."""
    spans = [
        (aware_bounds(period, filters.tz)[0], reference_moment(filters.with_period(period)))
        for period in periods
    ]
    moments = sorted({m for span in spans for m in span})
    index = {moment: i for i, moment in enumerate(moments)}
    until = moments[-1]
    scope = purchase_scope(user, filters)
    customers = touches.buyers(scope, until, user)
    flags = touches.in_touch(
        customers,
        moments,
        last_end_before=until if last_end else None,
        most=many_customers(user, filters),
    )
    return flags, [(index[start], index[end]) for start, end in spans], moments


def _churn_conditions(
    span: tuple[int, int], moments: list[dt.datetime], *, grouped: bool = False
) -> dict[str, tuple[str, list[Any]]]:
    """Each churn measure of a period as a condition on `_churn_flags`' rows: bought
    before the start and in touch then (in touch at the start), and no longer at the end
    (churned); bought before the end and in touch then (at the end); first bought in the
    period (new); bought before the end (bought, not one of the report's measures).
    `grouped`: on the rows of `_grouped_flags`, where "first_at" < moments[i] is "k" <= i."""
    start, end = span

    def bought_before(index: int) -> tuple[str, list[Any]]:
        if grouped:
            return f'"k" <= {index}', []
        return '"first_at" < %s', [touches.param(moments[index])]

    at_start, start_params = bought_before(start)
    at_end, end_params = bought_before(end)
    return {
        "active_start": (f'{at_start} AND "t{start}" = 1', start_params),
        "churned": (f'{at_start} AND "t{start}" = 1 AND "t{end}" = 0', start_params),
        "active_end": (f'{at_end} AND "t{end}" = 1', end_params),
        "new": (f"{at_end} AND NOT ({at_start})", [*end_params, *start_params]),
        "bought": (at_end, end_params),
    }


def _grouped_flags(flags: touches.Statement, moments: list[dt.datetime]) -> touches.Statement:
    """`_churn_flags`' rows counted ("n") by kind, mask of moments in touch and "k", how
    many of the moments are at or before the first purchase, with the mask's bits again
    ("t0", …). Tens of thousands of customers fall into a few thousand groups, so the
    measures of many periods are summed over the groups rather than over every customer."""
    bucket, bucket_params = touches.count_at_or_before('"first_at"', moments)
    bits = ", ".join(f'("mask" / {1 << i}) %% 2 AS "t{i}"' for i in range(len(moments)))
    sql = (
        f'SELECT *, {bits} FROM (SELECT "kind", "mask", {bucket} AS "k", COUNT(*) AS "n" '  # noqa: S608
        f'FROM ({flags.sql}) f GROUP BY "kind", "mask", "k") g'
    )
    return touches.Statement(sql, [*bucket_params, *flags.params])


def churn_over(
    user: Any,
    filters: ReportFilters,
    periods: list[Period],
    *,
    listed: bool = False,
    measures: tuple[str, ...] = CHURN_MEASURES,
) -> list[Churn]:
    """The churn of each of `periods` (oldest first; same filters otherwise), counted by the
    database in one statement (only `measures`; the others stay 0); `listed` also reads
    the last period's churned customers (LIST_LIMIT, latest last touch first) in the same
    statement. Several periods are summed over the customers' groups (`_grouped_flags`):
    at L, eight periods' 24 sums over 57,000 customers cost a third of the churn."""
    days = touches.churn_days()
    flags, spans, moments = _churn_flags(user, filters, periods, last_end=listed)
    grouped = len(periods) > 1 and not listed
    counted_rows, one = (_grouped_flags(flags, moments), '"n"') if grouped else (flags, "1")
    sums, params = [], []
    for span in spans:
        conditions = _churn_conditions(span, moments, grouped=grouped)
        for measure in measures:
            condition, condition_params = conditions[measure]
            sums.append(f"SUM(CASE WHEN {condition} THEN {one} ELSE 0 END)")
            params += condition_params
    sql = (
        f'WITH "f" AS ({counted_rows.sql}) '  # noqa: S608 (built from placeholders only)
        f'SELECT "kind", NULL, NULL, {", ".join(sums)} FROM "f" GROUP BY "kind"'
    )
    all_params = [*counted_rows.params, *params]
    if listed:
        churned, churned_params = _churn_conditions(spans[-1], moments)["churned"]
        nothing = ", ".join(["NULL"] * len(sums))
        sql += (
            f' UNION ALL SELECT *, {nothing} FROM (SELECT "kind", "id", "last_end" FROM "f"'  # noqa: S608
            f' WHERE {churned} ORDER BY "last_end" DESC, "kind", "id" LIMIT {LIST_LIMIT}) l'
        )
        all_params += churned_params
    counted = dict.fromkeys((*CHURN_MEASURES, *measures))
    results = [Churn(days=days, counts={m: Counter() for m in counted}) for _p in periods]
    width = len(measures)
    for row in touches.fetch(touches.Statement(sql, all_params)):
        kind, pk, last_end, numbers = row[0], row[1], row[2], row[3:]
        if pk is not None:
            last = touches.moment_of(last_end)
            assert last is not None
            results[-1].churned_list.append(((kind, pk), last - dt.timedelta(days=days)))
            continue
        for result, offset in zip(results, range(0, len(numbers), width), strict=True):
            for measure, n in zip(measures, numbers[offset : offset + width], strict=True):
                result.counts[measure][kind] = int(n or 0)
    return results


def churn(user: Any, filters: ReportFilters) -> Churn:
    """The churn of the filters' period, with its churned customers listed."""
    return churn_over(user, filters, [filters.period], listed=True)[0]


def churn_members(user: Any, filters: ReportFilters, measure: str, kind: str) -> list[int]:
    """The ids of the customers of `kind` counted in `measure` (drill-downs)."""
    flags, spans, moments = _churn_flags(user, filters, [filters.period], last_end=False)
    condition, params = _churn_conditions(spans[0], moments)[measure]
    sql = f'SELECT "id" FROM ({flags.sql}) f WHERE "kind" = %s AND {condition}'  # noqa: S608
    return [pk for (pk,) in touches.fetch(touches.Statement(sql, [*flags.params, kind, *params]))]


def build_churn(user: Any, filters: ReportFilters) -> Report:
    data = churn(user, filters)
    figures = [
        Figure("churn_rate", _("Churn rate"), data.rate, "percent"),
        Figure("churned", _("Customers churned"), data.total("churned"), "count"),
        Figure(
            "active_start",
            _("Customers in touch at the start"),
            data.total("active_start"),
            "count",
        ),
        Figure("active_end", _("Customers in touch at the end"), data.total("active_end"), "count"),
        Figure("new", _("New customers"), data.total("new"), "count"),
        Figure(
            "churn_after_days", _("Days without a sale or activity before churn"), data.days, "days"
        ),
    ]
    labels = dict(
        zip(
            CHURN_MEASURES,
            (_("In touch at the start"), _("Churned"), _("In touch at the end"), _("New")),
            strict=True,
        )
    )
    shown = names([key for key, _last in data.churned_list])
    list_rows = [
        {
            "customer": shown.get(key, "—"),
            "kind": kind_label(key[0]),
            "last_touch": last.astimezone(filters.tz).date(),
        }
        for key, last in data.churned_list
    ]
    chart = Chart(
        "bar",
        [str(labels[m]) for m in CHURN_MEASURES],
        [{"label": _("Customers"), "data": [data.total(m) for m in CHURN_MEASURES]}],
        key="churn",
        title=_("Customers in touch and churned"),
    )
    return Report(
        key="churn",
        title=_("Churn"),
        filters=filters,
        figures=figures,
        tables=[
            kind_table(
                "customers",
                _("Customers"),
                [(m, str(labels[m])) for m in CHURN_MEASURES],
                data.counts,
            ),
            Table(
                "churned",
                _("Churned customers"),
                [
                    Column("customer", _("Customer")),
                    Column("kind", _("Kind")),
                    Column("last_touch", _("Last sale or activity"), "date"),
                ],
                list_rows,
            ),
        ],
        charts=[chart],
    )


def drill_churn(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    measure, kind = split_cell(cell_id)
    if measure not in CHURN_MEASURES:
        raise NotFound()
    model = Company if kind == COMPANY else Contact
    return kind, model.objects.filter(pk__in=churn_members(user, filters, measure, kind))


# ---------------------------------------------------------------- lifetime value


@dataclass
class Lifetime:
    """Each customer's won revenue in cents of the organisation's currency (integers: exact
    sums, fast sorting of 57,000 customers) and won deals, and the deals left out for
    want of a rate."""

    cents: dict[Key, int]
    deals: dict[Key, int]
    missing: dict[str, int]

    def revenue(self, key: Key) -> Decimal:
        return money_of_cents(self.cents[key])

    def total(self) -> Decimal:
        return money_of_cents(sum(self.cents.values()))

    def average(self) -> Decimal | None:
        return average_of_cents(list(self.cents.values()))

    def median(self) -> Decimal | None:
        return median_of_cents(sorted(self.cents.values()))

    def warnings(self) -> list[str]:
        return missing_rate_warnings(self.missing)


def money_of_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def average_of_cents(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).scaleb(-2).quantize(CENT)


def median_of_cents(ordered: list[int]) -> Decimal | None:
    """The median of sorted cents, in money (the mean of the middle two of an even count)."""
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return money_of_cents(ordered[middle])
    return (Decimal(ordered[middle - 1] + ordered[middle]) / 2).scaleb(-2).quantize(CENT)


def purchases(user: Any, filters: ReportFilters, until: dt.datetime) -> QuerySet[Any]:
    """The summary's rows of the won deals in scope closed before `until` whose customer
    the viewer sees, each with its deal's money, read from the purchases index alone: the
    rows carry their deal's and their customer's owner and team, so both halves of the
    visibility rule are conditions on the row (`purchase_scope`,
    `touches.seen_customers`). At L on PostgreSQL a manager's grouped purchases took
    ~0.7 s with each customer probed by an EXISTS, ~0.1 s read from the index."""
    touches.ensure_converted()
    rows = touches.purchases_before(until, purchase_scope(user, filters))
    seen = touches.seen_customers(user)
    return rows if seen is None else rows.filter(seen)


def every_customer_read(filters: ReportFilters) -> bool:
    """Whether the lifetime value may read the customers' totals (one row a customer,
    converted ahead) instead of summing the purchases: for every customer and deal (an
    administrator without filters) when no purchase is dated at or after the period's
    end."""
    return touches.totals_ready(reference_moment(filters))


def lifetime(user: Any, filters: ReportFilters, kind: str | None = None) -> Lifetime:
    """Won revenue per customer the viewer sees (of one kind, companies or contacts, when
    `kind` is given), from the first sale up to the period's end: the customers' totals,
    or one grouped read of the purchases' converted cents (by currency, so the deals of a
    currency without a rate are counted by it)."""
    if kind is None and purchase_scope(user, filters) is None and every_customer_read(filters):
        return _lifetime_of_every_customer()
    bought = purchases(user, filters, reference_moment(filters))
    if kind is not None:
        bought = bought.filter(customer_kind=kind)
    rows = (
        bought.order_by()
        .values("customer_kind", "customer_id", "currency")
        .annotate(
            cents=Sum("value_cents"),
            n=Count("deal"),
            converted=Count("value_cents"),
        )
        .values_list("customer_kind", "customer_id", "cents", "n", "converted", "currency")
    )
    cents: dict[Key, int] = {}
    counts: dict[Key, int] = {}
    missing: dict[str, int] = defaultdict(int)
    rated = touches.LazyRatedCurrencies()
    for kind, pk, amount, n, converted, currency in touches.raw_rows(rows):
        key = (kind, pk)
        # PostgreSQL sums a bigint column as a numeric (which cannot overflow).
        cents[key] = cents.get(key, 0) + int(amount or 0)
        counts[key] = counts.get(key, 0) + n
        if converted < n:
            missing[touches.left_out_key(currency, rated)] += n - converted
    return Lifetime(cents=cents, deals=counts, missing=missing)


def _lifetime_of_every_customer() -> Lifetime:
    rows = CustomerTotals.objects.values_list(
        "customer_kind", "customer_id", "revenue_cents", "deals"
    )
    cents: dict[Key, int] = {}
    counts: dict[Key, int] = {}
    for kind, pk, revenue, n in touches.raw_rows(rows):
        cents[(kind, pk)] = revenue
        counts[(kind, pk)] = n
    return Lifetime(cents=cents, deals=counts, missing=touches.unconverted_deals())


def first_purchase_of(
    user: Any, filters: ReportFilters, keys: Iterable[Key], until: dt.datetime
) -> dict[Key, dt.datetime]:
    """{customer: its first won deal in scope closed before `until`} for `keys` (a list's
    few customers)."""
    found: dict[Key, dt.datetime] = {}
    scope = purchase_scope(user, filters)
    for kind in (COMPANY, CONTACT):
        ids = [pk for k, pk in keys if k == kind]
        if not ids:
            continue
        rows = touches.purchases_before(until, scope).filter(
            customer_kind=kind, customer_id__in=ids
        )
        for pk, first in rows.order_by().values_list("customer_id").annotate(Min("touched_at")):
            found[(kind, pk)] = first
    return found


Segments = dict[str, dict[str, list[int]]]


def _no_segments() -> Segments:
    return {"industry": defaultdict(list), "source": defaultdict(list), "tag": defaultdict(list)}


def _read_by_id(
    select_from: str, column: str, ids: list[int], *, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """The rows of `select_from` (SQL up to its FROM clause, with `params`) whose `column`
    is among `ids`. Raw SQL: for a manager's 40,000 customers at L the ORM's preparing of
    every id cost more than the reads themselves. PostgreSQL takes the ids as one text,
    split into an array by the server: bound as thousands of parameters, psycopg wrote
    each into the statement's text (12–20 ms a chunk of 2,000), and as a list it still
    adapted each (40,000 companies by id: 157–168 ms as a list, 75–91 ms as a text).
    SQLite reads a chunk a statement."""
    if connection.vendor == "postgresql":
        sql = f"{select_from} WHERE {column} = ANY(string_to_array(%s, ',')::bigint[])"
        listed = ",".join(map(str, sorted(ids)))
        return touches.fetch(touches.Statement(sql, [*params, listed]))
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(ids)):
        marks = ", ".join(["%s"] * len(chunk))
        sql = f"{select_from} WHERE {column} IN ({marks})"
        rows += touches.fetch(touches.Statement(sql, [*params, *chunk]))
    return rows


def segments(cents: dict[Key, int]) -> Segments:
    """{"industry"|"source"|"tag": {segment name: [cents of each of its customers]}} for
    the customers of `cents` (a rep's or a team's thousands), read by id."""
    found = _no_segments()
    none = _("(none)")
    sources = {code: str(label) for code, label in Source.choices}
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        table = connection.ops.quote_name(model._meta.db_table)
        ids = [pk for k, pk in cents if k == kind]
        if not ids:
            continue
        select = f'SELECT "id", "industry", "source" FROM {table}'  # noqa: S608 (a table name)
        for pk, industry, source in _read_by_id(select, '"id"', ids):
            amount = cents[(kind, pk)]
            found["industry"][(industry or "").strip() or none].append(amount)
            found["source"][sources.get(source, source) if source else none].append(amount)
    _add_tags(found, cents, every_customer=False)
    return found


def _add_tags(found: Segments, cents: dict[Key, int], *, every_customer: bool) -> None:
    tagged: set[Key] = set()
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        for pk, tag in _tag_rows(kind, model, cents, every_customer=every_customer):
            amount = cents.get((kind, pk))
            if amount is not None:
                found["tag"][tag].append(amount)
                tagged.add((kind, pk))
    untagged = [amount for key, amount in cents.items() if key not in tagged]
    if untagged:
        found["tag"][_("(no tag)")] = untagged


def _every_customer_lifetime_and_segments() -> tuple[Lifetime, Segments]:
    """`lifetime` and `segments` of every customer from the customers' totals, each
    joined to its company or contact in one statement a kind."""
    cents: dict[Key, int] = {}
    counts: dict[Key, int] = {}
    found = _no_segments()
    by_industry, by_source = found["industry"], found["source"]
    none = _("(none)")
    sources = {code: str(label) for code, label in Source.choices}
    revenue = connection.ops.quote_name(CustomerTotals._meta.db_table)
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        table = connection.ops.quote_name(model._meta.db_table)
        joined = f'LEFT JOIN {table} m ON m."id" = r."customer_id"'
        if kind == CONTACT and connection.vendor == "postgresql":
            # Few of a million contacts are customers (10,000 at L): PostgreSQL's planner
            # hashed them against a scan of every contact (283–345 ms) rather than
            # probing each (40 ms). OFFSET 0 keeps the probe from being made a join.
            joined = (
                f'LEFT JOIN LATERAL (SELECT "industry", "source" FROM {table} '  # noqa: S608
                'WHERE "id" = r."customer_id" OFFSET 0) m ON TRUE'
            )
        rows = touches.fetch(
            touches.Statement(
                f'SELECT r."customer_id", r."revenue_cents", r."deals", m."industry", m."source" '  # noqa: S608 (table names)
                f"FROM {revenue} r {joined} "
                'WHERE r."customer_kind" = %s',
                [kind],
            )
        )
        for pk, amount, n, industry, source in rows:
            cents[(kind, pk)] = amount
            counts[(kind, pk)] = n
            by_industry[(industry or "").strip() or none].append(amount)
            by_source[sources.get(source, source) if source else none].append(amount)
    _add_tags(found, cents, every_customer=True)
    return Lifetime(cents=cents, deals=counts, missing=touches.unconverted_deals()), found


def _tag_rows(
    kind: str, model: Any, cents: dict[Key, int], *, every_customer: bool
) -> list[tuple[Any, ...]]:
    """(customer id, tag name) of the tags of the customers of `kind` in `cents`: every
    buying customer's joined to the customers' totals, else read by id."""
    through = model.tags.through
    owner_field = "company_id" if kind == COMPANY else "contact_id"
    quote = connection.ops.quote_name
    links, tags = quote(through._meta.db_table), quote(Tag._meta.db_table)
    if not every_customer:
        ids = [pk for k, pk in cents if k == kind]
        if not ids:
            return []
        select = (
            f'SELECT t."{owner_field}", g."name" FROM {links} t '  # noqa: S608 (table names)
            f'JOIN {tags} g ON g."id" = t."tag_id"'
        )
        return _read_by_id(select, f't."{owner_field}"', ids)
    totals = quote(CustomerTotals._meta.db_table)
    return touches.fetch(
        touches.Statement(
            f'SELECT t."{owner_field}", g."name" FROM {totals} r '  # noqa: S608 (table names)
            f'JOIN {links} t ON t."{owner_field}" = r."customer_id" '
            f'JOIN {tags} g ON g."id" = t."tag_id" WHERE r."customer_kind" = %s',
            [kind],
        )
    )


def top_customers(cents: dict[Key, int], limit: int) -> list[Key]:
    """The `limit` customers of most revenue (ties by kind and id), without sorting all."""
    if not cents:
        return []
    floor = heapq.nlargest(limit, cents.values())[-1]
    leaders = [(-amount, key) for key, amount in cents.items() if amount >= floor]
    leaders.sort()
    return [key for _amount, key in leaders[:limit]]


def _lifetime_and_segments_apart(user: Any, filters: ReportFilters) -> tuple[Lifetime, Segments]:
    """`lifetime` and `segments` of the viewer's customers; on PostgreSQL the companies'
    beside the contacts' (`parallel`), each half a grouped read of purchases and reads by
    id of thousands of customers, mostly waiting on the server (a manager at L: 0.60–0.68
    s at once, 0.46–0.62 s apart, in-process). SQLite works in the process itself, where
    two threads contend (0.36 s at once, 0.45 s apart)."""

    def of_kind(kind: str) -> Callable[[], tuple[Lifetime, Segments]]:
        def read() -> tuple[Lifetime, Segments]:
            data = lifetime(user, filters, kind)
            return data, segments(data.cents)

        return read

    cents: dict[Key, int] = {}
    deals: dict[Key, int] = {}
    missing: dict[str, int] = {}
    found = _no_segments()
    if connection.vendor != "postgresql":
        data = lifetime(user, filters)
        return data, segments(data.cents)
    for data, groups in parallel.run_all([of_kind(COMPANY), of_kind(CONTACT)]):
        cents.update(data.cents)
        deals.update(data.deals)
        merge_missing(missing, data.missing)
        for segment, labels in groups.items():
            for label, amounts in labels.items():
                found[segment][label].extend(amounts)
    return Lifetime(cents=cents, deals=deals, missing=missing), found


def build_lifetime_value(user: Any, filters: ReportFilters) -> Report:
    if purchase_scope(user, filters) is None and every_customer_read(filters):
        data, groups = _every_customer_lifetime_and_segments()
    else:
        data, groups = _lifetime_and_segments_apart(user, filters)
    figures = [
        Figure("customers", _("Customers"), len(data.cents), "count"),
        Figure("average", _("Average lifetime value"), data.average(), "money"),
        Figure("median", _("Median lifetime value"), data.median(), "money"),
        Figure("revenue", _("Won revenue"), data.total(), "money"),
        Figure("won_deals", _("Won deals"), sum(data.deals.values()), "count", "won_deals"),
    ]
    tables = []
    for segment, title in (
        ("industry", _("By industry")),
        ("source", _("By source")),
        ("tag", _("By tag")),
    ):
        totals = {label: sum(amounts) for label, amounts in groups[segment].items()}
        rows = []
        for label, amounts in sorted(groups[segment].items(), key=lambda i: (-totals[i[0]], i[0])):
            amounts.sort()
            rows.append(
                {
                    "segment": label,
                    "customers": len(amounts),
                    "average": average_of_cents(amounts),
                    "median": median_of_cents(amounts),
                    "revenue": money_of_cents(totals[label]),
                }
            )
        tables.append(
            Table(
                f"by-{segment}",
                title,
                [
                    Column("segment", _("Segment")),
                    Column("customers", _("Customers"), "count"),
                    Column("average", _("Average"), "money"),
                    Column("median", _("Median"), "money"),
                    Column("revenue", _("Won revenue"), "money"),
                ],
                rows,
            )
        )
    top = top_customers(data.cents, LIST_LIMIT)
    shown = names(top)
    ids = public_ids(top)
    firsts = first_purchase_of(user, filters, top, reference_moment(filters))
    top_rows = [
        {
            "customer": shown.get(key, "—"),
            "kind": kind_label(key[0]),
            "revenue": data.revenue(key),
            "won_deals": data.deals[key],
            "first_purchase": firsts[key].astimezone(filters.tz).date(),
            "_drill": {"won_deals": f"won_deals:{key[0]}:{ids.get(key, '')}"},
        }
        for key in top
    ]
    tables.insert(
        0,
        Table(
            "top",
            _("Top customers"),
            [
                Column("customer", _("Customer")),
                Column("kind", _("Kind")),
                Column("revenue", _("Won revenue"), "money"),
                Column("won_deals", _("Won deals"), "count"),
                Column("first_purchase", _("First purchase"), "date"),
            ],
            top_rows,
        ),
    )
    chart_rows = tables[1].rows[:12]
    chart = Chart(
        "bar",
        [r["segment"] for r in chart_rows],
        [{"label": _("Average lifetime value"), "data": [r["average"] for r in chart_rows]}],
        key="by-industry",
        title=_("Average lifetime value by industry"),
    )
    return Report(
        key="lifetime-value",
        title=_("Customer lifetime value"),
        filters=filters,
        figures=figures,
        tables=tables,
        charts=[chart],
        warnings=data.warnings(),
    )


def _customer_deals(
    user: Any, filters: ReportFilters, deals: QuerySet[Deal], cell_rest: str
) -> QuerySet[Deal]:
    """`deals` of the customer named "company:<public id>" or "contact:<public id>"."""
    kind, _sep, public_id = cell_rest.partition(":")
    model = {COMPANY: Company, CONTACT: Contact}.get(kind)
    if model is None:
        raise NotFound()
    try:
        ident = uuid.UUID(public_id)
    except ValueError:
        raise NotFound() from None
    pk = model.objects.filter(public_id=ident).values_list("pk", flat=True).first()
    if pk is None or (kind, pk) not in visible_keys(user, [(kind, pk)]):
        raise NotFound()
    annotated = with_customer(deals)
    if kind == COMPANY:
        return annotated.filter(cust_company=pk)
    return annotated.filter(cust_company__isnull=True, cust_contact=pk)


def drill_lifetime_value(
    user: Any, filters: ReportFilters, cell_id: str
) -> tuple[str, QuerySet[Any]]:
    measure, _sep, rest = str(cell_id or "").partition(":")
    if measure != "won_deals":
        raise NotFound()
    ref = reference_moment(filters)
    deals = won_deals(user, filters).filter(closed_at__lt=ref)
    if rest:
        return "deal", _customer_deals(user, filters, deals, rest)
    data = lifetime(user, filters)
    annotated = with_customer(deals)
    companies = [i for k, i in data.cents if k == COMPANY]
    contacts = [i for k, i in data.cents if k == CONTACT]
    return "deal", annotated.filter(
        Q(cust_company__in=companies) | Q(cust_company__isnull=True, cust_contact__in=contacts)
    )


# ---------------------------------------------------------------- at risk


AT_RISK_MEASURES = ("customers", "quiet", "lost", "overdue")


@dataclass
class AtRisk:
    days: int
    # {measure: {kind: customers}}, measures as in AT_RISK_MEASURES.
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    lost_deals: int = 0
    overdue_deals: int = 0
    # The customers listed: most reasons first, then the longest without an activity.
    listed: list[AtRiskRow] = field(default_factory=list)

    def total(self, measure: str) -> int:
        return sum(self.counts.get(measure, Counter()).values())


@dataclass(frozen=True)
class AtRiskRow:
    key: Key
    last_activity: dt.datetime | None
    quiet: bool
    lost: int
    overdue: int


def lost_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    start, end = aware_bounds(filters.period, filters.tz)
    return deals_in_scope(user, filters).filter(
        stage__kind=Stage.Kind.LOST, closed_at__gte=start, closed_at__lt=end
    )


def overdue_day(filters: ReportFilters) -> dt.date:
    """The day an open deal is overdue before: the reference moment's, in the
    organisation's time zone."""
    return reference_moment(filters).astimezone(filters.tz).date()


def overdue_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    """The open deals in scope past their expected close (the at-risk drill-down; its
    counts read the same from the summary's rows: `touches.overdue_per_customer`)."""
    today = overdue_day(filters)
    # The open stages as a subquery, so that SQLite reads the expected-close index
    # rather than every open deal of each open stage.
    return deals_in_scope(user, filters).filter(
        stage__in=Stage.objects.filter(kind=Stage.Kind.OPEN), expected_close__lt=today
    )


def open_complaints(user: Any, filters: ReportFilters) -> dict[Key, int]:
    """Open complaints per customer. There is no complaint (ticket) model yet: when the
    service desk lands, count its open complaints per customer here and the at-risk list
    picks them up as a fourth reason."""
    return {}


def _at_risk_rows(user: Any, filters: ReportFilters) -> tuple[touches.Statement, dict[str, str]]:
    """The viewer's customers (bought in scope before the reference moment) with
    "last_activity", "lost" and "overdue" (their deals lost in the period and open past
    their expected close), and each at-risk measure as a condition on those rows."""
    ref = reference_moment(filters)
    customers = touches.buyers_and_last_activity(purchase_scope(user, filters), ref, user)
    lost = touches.deals_per_customer(lost_deals(user, filters).order_by().values("pk"))
    overdue = touches.overdue_per_customer(purchase_scope(user, filters), overdue_day(filters))
    sql = f"""
        SELECT c."kind", c."id", c."last_activity",
               COALESCE(l."n", 0) AS "lost", COALESCE(o."n", 0) AS "overdue",
               CASE WHEN c."last_activity" IS NULL OR c."last_activity" < %s
                    THEN 1 ELSE 0 END AS "quiet"
        FROM ({customers.sql}) c
        LEFT JOIN ({lost.sql}) l ON l."kind" = c."kind" AND l."id" = c."id"
        LEFT JOIN ({overdue.sql}) o ON o."kind" = c."kind" AND o."id" = c."id"
    """  # noqa: S608 (built from placeholders only)
    quiet_before = ref - dt.timedelta(days=touches.churn_days())
    params = [touches.param(quiet_before), *customers.params, *lost.params, *overdue.params]
    conditions = {
        "customers": '("quiet" = 1 OR "lost" > 0 OR "overdue" > 0)',
        "quiet": '"quiet" = 1',
        "lost": '"lost" > 0',
        "overdue": '"overdue" > 0',
    }
    return touches.Statement(sql, params), conditions


def at_risk(user: Any, filters: ReportFilters) -> AtRisk:
    """The at-risk counts and list, in one statement."""
    rows, conditions = _at_risk_rows(user, filters)
    sums = [f"SUM(CASE WHEN {conditions[m]} THEN 1 ELSE 0 END)" for m in AT_RISK_MEASURES]
    nothing = ", ".join(["NULL"] * (len(sums) + 2))
    sql = (
        f'WITH "r" AS ({rows.sql}) '  # noqa: S608 (built from placeholders only)
        f'SELECT "kind", NULL, NULL, NULL, NULL, NULL, {", ".join(sums)}, SUM("lost"),'
        f' SUM("overdue") FROM "r" GROUP BY "kind"'
        f' UNION ALL SELECT *, {nothing} FROM (SELECT "kind", "id", "last_activity", "quiet",'
        f' "lost", "overdue" FROM "r" WHERE {conditions["customers"]}'
        ' ORDER BY "quiet" + (CASE WHEN "lost" > 0 THEN 1 ELSE 0 END)'
        ' + (CASE WHEN "overdue" > 0 THEN 1 ELSE 0 END) DESC,'
        ' "last_activity" IS NOT NULL, "last_activity", "kind", "id"'
        f" LIMIT {LIST_LIMIT}) l"
    )
    result = AtRisk(days=touches.churn_days(), counts={m: Counter() for m in AT_RISK_MEASURES})
    for row in touches.fetch(touches.Statement(sql, rows.params)):
        kind, pk = row[0], row[1]
        if pk is not None:
            quiet, lost, overdue = row[3:6]
            result.listed.append(
                AtRiskRow((kind, pk), touches.moment_of(row[2]), bool(quiet), lost, overdue)
            )
            continue
        *numbers, lost_n, overdue_n = row[6:]
        for measure, n in zip(AT_RISK_MEASURES, numbers, strict=True):
            result.counts[measure][kind] = int(n or 0)
        result.lost_deals += int(lost_n or 0)
        result.overdue_deals += int(overdue_n or 0)
    return result


def at_risk_members(user: Any, filters: ReportFilters, measure: str, kind: str) -> list[int]:
    """The ids of the customers of `kind` counted in `measure` (drill-downs)."""
    rows, conditions = _at_risk_rows(user, filters)
    sql = f'SELECT "id" FROM ({rows.sql}) r WHERE "kind" = %s AND {conditions[measure]}'  # noqa: S608
    return [pk for (pk,) in touches.fetch(touches.Statement(sql, [*rows.params, kind]))]


def _deals_of(deals: QuerySet[Deal], keys: Iterable[Key]) -> QuerySet[Deal]:
    keys = list(keys)
    companies = [i for k, i in keys if k == COMPANY]
    contacts = [i for k, i in keys if k == CONTACT]
    return with_customer(deals).filter(
        Q(cust_company__in=companies) | Q(cust_company__isnull=True, cust_contact__in=contacts)
    )


def build_at_risk(user: Any, filters: ReportFilters) -> Report:
    data = at_risk(user, filters)
    figures = [
        Figure("customers", _("Customers at risk"), data.total("customers"), "count"),
        Figure(
            "quiet",
            _("No activity for %(days)s days") % {"days": data.days},
            data.total("quiet"),
            "count",
        ),
        Figure(
            "lost_deals",
            _("Deals lost in the period"),
            data.lost_deals,
            "count",
            "lost_deals",
        ),
        Figure(
            "overdue_deals",
            _("Open deals past expected close"),
            data.overdue_deals,
            "count",
            "overdue_deals",
        ),
    ]
    listed = [row.key for row in data.listed]
    shown = names(listed)
    ids = public_ids(listed)
    rows = []
    for row in data.listed:
        ident = f"{row.key[0]}:{ids.get(row.key, '')}"
        rows.append(
            {
                "customer": shown.get(row.key, "—"),
                "kind": kind_label(row.key[0]),
                "last_activity": (
                    row.last_activity.astimezone(filters.tz).date() if row.last_activity else None
                ),
                "quiet": row.quiet,
                "lost_deals": row.lost,
                "overdue_deals": row.overdue,
                "_drill": {
                    "lost_deals": f"lost_deals:{ident}",
                    "overdue_deals": f"overdue_deals:{ident}",
                },
            }
        )
    return Report(
        key="at-risk",
        title=_("Customers at risk"),
        filters=filters,
        figures=figures,
        tables=[
            Table(
                "customers",
                _("Customers at risk"),
                [
                    Column("customer", _("Customer")),
                    Column("kind", _("Kind")),
                    Column("last_activity", _("Last activity"), "date"),
                    Column("quiet", _("No recent activity")),
                    Column("lost_deals", _("Deals lost"), "count"),
                    Column("overdue_deals", _("Deals past expected close"), "count"),
                ],
                rows,
            ),
            kind_table(
                "by-kind",
                _("Customers at risk by reason"),
                [
                    ("customers", _("At risk")),
                    ("quiet", _("No recent activity")),
                    ("lost", _("Lost deals")),
                    ("overdue", _("Deals past expected close")),
                ],
                data.counts,
            ),
        ],
        charts=[
            Chart(
                "bar",
                [_("No recent activity"), _("Lost deals"), _("Deals past expected close")],
                [
                    {
                        "label": _("Customers"),
                        "data": [data.total(m) for m in ("quiet", "lost", "overdue")],
                    }
                ],
                key="reasons",
                title=_("Why customers are at risk"),
            )
        ],
    )


def drill_at_risk(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    measure, _sep, rest = str(cell_id or "").partition(":")
    deal_sets: dict[str, tuple[str, Callable[[Any, ReportFilters], QuerySet[Deal]]]] = {
        "lost_deals": ("lost", lost_deals),
        "overdue_deals": ("overdue", overdue_deals),
    }
    if measure in deal_sets:
        reason, deals_of = deal_sets[measure]
        deals = deals_of(user, filters)
        if rest:
            return "deal", _customer_deals(user, filters, deals, rest)
        keys = [
            (kind, pk)
            for kind in (COMPANY, CONTACT)
            for pk in at_risk_members(user, filters, reason, kind)
        ]
        return "deal", _deals_of(deals, keys)
    _measure, kind = split_cell(cell_id)
    if measure not in AT_RISK_MEASURES:
        raise NotFound()
    model = Company if kind == COMPANY else Contact
    return kind, model.objects.filter(pk__in=at_risk_members(user, filters, measure, kind))


# ---------------------------------------------------------------- registration

register(
    ReportDefinition(
        key="lead-sources",
        title=gettext_lazy("Lead sources"),
        description=gettext_lazy(
            "Leads, conversions, won revenue and days to convert by the source the leads came from."
        ),
        build=build_lead_sources,
        drill=drill_lead_sources,
    )
)
register(
    ReportDefinition(
        key="retention",
        title=gettext_lazy("Retention"),
        description=gettext_lazy(
            "New and repeat customers, and cohorts by the month of their first purchase."
        ),
        build=build_retention,
        drill=drill_retention,
    )
)
register(
    ReportDefinition(
        key="churn",
        title=gettext_lazy("Churn"),
        description=gettext_lazy(
            "Customers who went without a won deal or an activity for the organisation's "
            "churn days during the period."
        ),
        build=build_churn,
        drill=drill_churn,
    )
)
register(
    ReportDefinition(
        key="lifetime-value",
        title=gettext_lazy("Customer lifetime value"),
        description=gettext_lazy(
            "Won revenue per customer, its average and median by industry, source and tag, "
            "and the top customers."
        ),
        build=build_lifetime_value,
        drill=drill_lifetime_value,
    )
)
register(
    ReportDefinition(
        key="at-risk",
        title=gettext_lazy("Customers at risk"),
        description=gettext_lazy(
            "Customers with no recent activity, deals lost in the period or open deals past "
            "their expected close."
        ),
        build=build_at_risk,
        drill=drill_at_risk,
    )
)
