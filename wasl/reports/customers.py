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
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wasl.contacts.models import Company, Contact, Source
from wasl.core.errors import NotFound
from wasl.core.visibility import is_admin, visible
from wasl.deals.models import Deal, Stage
from wasl.leads.models import Lead
from wasl.reports import touches
from wasl.reports.activity import reference_moment
from wasl.reports.filters import (
    ReportFilters,
    deals_in_scope,
    leads_in_scope,
)
from wasl.reports.models import ExchangeRate
from wasl.reports.money import MoneyTotal, RateTable
from wasl.reports.periods import Period, aware_bounds, buckets
from wasl.reports.registry import ReportDefinition, register
from wasl.reports.results import Chart, Column, Figure, Report, Table, ratio

COMPANY = touches.COMPANY
CONTACT = touches.CONTACT
Key = tuple[str, int]
# Rows of the customer lists (top customers, at risk, churned).
LIST_LIMIT = 100
_CHUNK = 2000


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
    """The customers of `keys` whose company or contact `user` may see."""
    keys = set(keys)
    if is_admin(user):
        return keys
    seen: set[Key] = set()
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        ids = sorted(i for k, i in keys if k == kind)
        for chunk in _chunks(ids):
            rows = visible(model.objects.filter(pk__in=chunk), user).values_list("pk", flat=True)
            seen.update((kind, pk) for pk in rows)
    return seen


def won_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    return deals_in_scope(user, filters).filter(stage__kind=Stage.Kind.WON, closed_at__isnull=False)


def customers_until(
    user: Any, filters: ReportFilters, until: dt.datetime
) -> dict[Key, dict[str, Any]]:
    """{customer: {"first": first won}} over the won deals in scope closed before `until`,
    for the customers the viewer sees (read from the customer summary)."""
    found = touches.first_purchases(scope_deal_ids(user, filters), until)
    keep = visible_keys(user, found)
    return {key: {"first": first} for key, first in found.items() if key in keep}


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


def kind_table(
    key: str, title: str, measures: list[tuple[str, str]], sets: dict[str, set[Key]]
) -> Table:
    """Customer counts split into companies and people, each cell drilled."""
    counts = {measure: Counter(map(itemgetter(0), sets[measure])) for measure, _label in measures}
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


# Any day: the rate of a currency with one rate (or none) does not depend on it.
ANY_DAY = dt.date(2000, 1, 1)


def local_day(date_field: str, filters: ReportFilters) -> Any:
    """The local day of `date_field`, for grouping amounts before converting them; NULL
    for currencies whose rate does not change with the day (the organisation's, those
    with one rate or none), so the database groups them whole. On SQLite the day is a
    Python function call per row, which this spares for most rows."""
    varying = list(
        ExchangeRate.objects.order_by()
        .values("currency")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exclude(currency=filters.currency)
        .values_list("currency", flat=True)
    )
    if not varying:
        return Value(None, output_field=DateField())
    return Case(
        When(currency__in=varying, then=TruncDate(date_field, tzinfo=filters.tz)),
        default=Value(None),
        output_field=DateField(),
    )


def money_by_customer(
    deals: QuerySet[Deal], filters: ReportFilters, rates: RateTable
) -> tuple[dict[Key, Decimal], dict[Key, int], MoneyTotal]:
    """Converted revenue and deal count per customer of `deals` (annotated customers)."""
    rows = (
        deals.order_by()
        .values(
            "cust_company",
            "cust_contact",
            "currency",
            day=local_day("closed_at", filters),
        )
        .annotate(total=Sum("amount"), n=Count("pk"))
        .values_list("cust_company", "cust_contact", "currency", "day", "total", "n")
    )
    revenue: dict[Key, Decimal] = defaultdict(Decimal)
    counts: dict[Key, int] = defaultdict(int)
    total = MoneyTotal(rates)
    for company_id, contact_id, currency, day, amount, n in touches.raw_rows(rows):
        key = key_of(company_id, contact_id)
        if key is None:
            continue
        revenue[key] += total.add(as_decimal(amount), currency, as_day(day), n)
        counts[key] += n
    return revenue, counts, total


def as_decimal(value: Any) -> Decimal:
    """A sum as the database cursor gives it (SQLite: a float) as an exact Decimal of its
    written value, as Django's converter makes it."""
    if value is None or isinstance(value, Decimal):
        return value if value is not None else Decimal(0)
    return Decimal(str(value))


def as_day(value: Any) -> dt.date:
    """A local day as the database cursor gives it (SQLite: text), ANY_DAY for none."""
    if value is None:
        return ANY_DAY
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def deal_money(
    deals: QuerySet[Deal], filters: ReportFilters, rates: RateTable, date_field: str = "closed_at"
) -> MoneyTotal:
    total = MoneyTotal(rates)
    rows = (
        deals.order_by()
        .values("currency", day=local_day(date_field, filters))
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    for row in rows:
        total.add(row["total"], row["currency"], row["day"] or ANY_DAY, row["n"])
    return total


def median(values: list[Any]) -> Any:
    return statistics.median(values) if values else None


def mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


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
        for pk, contact_id, closed_at in through.filter(
            contact_id__in=chunk, deal_id__in=won.values("pk")
        ).values_list("deal_id", "contact_id", "deal__closed_at"):
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
                sets,
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


@dataclass
class Churn:
    days: int
    active_start: set[Key] = field(default_factory=set)
    churned: set[Key] = field(default_factory=set)
    active_end: set[Key] = field(default_factory=set)
    new: set[Key] = field(default_factory=set)
    last_touch: dict[Key, dt.datetime] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return ratio(len(self.churned), len(self.active_start))


def scope_deal_ids(user: Any, filters: ReportFilters) -> QuerySet[Deal] | None:
    """The ids of the deals in the viewer's scope, or None when that is every deal (an
    administrator without owner, team or pipeline filters), for the summary's readers."""
    if (
        is_admin(user)
        and filters.owner_id is None
        and filters.team_id is None
        and filters.pipeline_id is None
    ):
        return None
    return deals_in_scope(user, filters).order_by().values("pk")


def churn_over(
    user: Any,
    filters: ReportFilters,
    periods: list[Period],
    *,
    last_touch: bool = True,
) -> list[Churn]:
    """The churn of each of `periods` (oldest first; same filters otherwise), read from the
    customer summary in one statement. `last_touch=False` spares reading each customer's
    last touch (the churned list's dates)."""
    days = touches.churn_days()
    spans = [
        (aware_bounds(period, filters.tz)[0], reference_moment(filters.with_period(period)))
        for period in periods
    ]
    moments = sorted({m for span in spans for m in span})
    index = {moment: i for i, moment in enumerate(moments)}
    until = moments[-1]
    states = touches.customer_states(
        scope_deal_ids(user, filters),
        moments,
        until,
        last_touch_before=until if last_touch else None,
    )
    results = [Churn(days=days) for _p in periods]
    for key in visible_keys(user, states.in_touch):
        touched, bought = states.in_touch[key], states.first_before[key]
        for (start, ref), result in zip(spans, results, strict=True):
            at_start, at_end = index[start], index[ref]
            if not bought[at_end]:
                continue
            if bought[at_start] and touched[at_start]:
                result.active_start.add(key)
                if not touched[at_end]:
                    result.churned.add(key)
            if touched[at_end]:
                result.active_end.add(key)
            if not bought[at_start]:
                result.new.add(key)
    # The churned list shows each customer's last sale or activity: `periods` run oldest
    # first, so the last one ends at `until`.
    final = results[-1]
    for key in final.churned if last_touch else ():
        last = states.last_touch(key)
        assert last is not None
        final.last_touch[key] = last
    return results


def churn(user: Any, filters: ReportFilters) -> Churn:
    """The churn of the filters' period."""
    return churn_over(user, filters, [filters.period])[0]


CHURN_MEASURES = ("active_start", "churned", "active_end", "new")


def build_churn(user: Any, filters: ReportFilters) -> Report:
    data = churn(user, filters)
    figures = [
        Figure("churn_rate", _("Churn rate"), data.rate, "percent"),
        Figure("churned", _("Customers churned"), len(data.churned), "count"),
        Figure(
            "active_start", _("Customers in touch at the start"), len(data.active_start), "count"
        ),
        Figure("active_end", _("Customers in touch at the end"), len(data.active_end), "count"),
        Figure("new", _("New customers"), len(data.new), "count"),
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
    sets = {measure: getattr(data, measure) for measure in CHURN_MEASURES}
    churned = sorted(data.churned, key=lambda k: data.last_touch[k], reverse=True)[:LIST_LIMIT]
    shown = names(churned)
    list_rows = [
        {
            "customer": shown.get(key, "—"),
            "kind": kind_label(key[0]),
            "last_touch": data.last_touch[key].astimezone(filters.tz).date(),
        }
        for key in churned
    ]
    chart = Chart(
        "bar",
        [str(labels[m]) for m in CHURN_MEASURES],
        [{"label": _("Customers"), "data": [len(sets[m]) for m in CHURN_MEASURES]}],
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
                "customers", _("Customers"), [(m, str(labels[m])) for m in CHURN_MEASURES], sets
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
    return records_of(kind, getattr(churn(user, filters), measure))


# ---------------------------------------------------------------- lifetime value


@dataclass
class Lifetime:
    revenue: dict[Key, Decimal]
    deals: dict[Key, int]
    first: dict[Key, dt.datetime]
    money: MoneyTotal

    @property
    def values(self) -> list[Decimal]:
        return list(self.revenue.values())

    def average(self) -> Decimal | None:
        return mean(self.values)

    def median(self) -> Decimal | None:
        found = median(self.values)
        return None if found is None else Decimal(found).quantize(Decimal("0.01"))


def lifetime(user: Any, filters: ReportFilters, rates: RateTable | None = None) -> Lifetime:
    """Won revenue per customer from the first sale up to the period's end."""
    rates = rates or RateTable.load(filters.currency)
    ref = reference_moment(filters)
    customers = customers_until(user, filters, ref)
    deals = with_customer(won_deals(user, filters).filter(closed_at__lt=ref))
    revenue, counts, money = money_by_customer(deals, filters, rates)
    return Lifetime(
        revenue={k: revenue.get(k, Decimal(0)) for k in customers},
        deals={k: counts.get(k, 0) for k in customers},
        first={k: row["first"] for k, row in customers.items()},
        money=money,
    )


def segments(
    keys: Iterable[Key], scope: QuerySet[Any] | None = None
) -> dict[str, dict[Key, list[str]]]:
    """{"industry"|"source"|"tag": {customer: [segment names]}} for the customers `keys`,
    read through a subquery of the scope's purchasers (`scope`: the deal ids, None for
    every deal) rather than thousands of ids written into the statements."""
    keys = set(keys)
    found: dict[str, dict[Key, list[str]]] = {"industry": {}, "source": {}, "tag": {}}
    none, no_tag = _("(none)"), _("(no tag)")
    sources = {code: str(label) for code, label in Source.choices}
    for kind, model in ((COMPANY, Company), (CONTACT, Contact)):
        purchasers = touches.purchasers(kind, scope)
        through = model.tags.through
        owner_field = "company_id" if kind == COMPANY else "contact_id"
        for pk, industry, source in touches.raw_rows(
            model.objects.filter(pk__in=purchasers).values_list("pk", "industry", "source")
        ):
            if (kind, pk) in keys:
                found["industry"][(kind, pk)] = [industry.strip() or none]
                found["source"][(kind, pk)] = [sources.get(source, source) if source else none]
        for pk, tag in touches.raw_rows(
            through.objects.filter(**{f"{owner_field}__in": purchasers}).values_list(
                owner_field, "tag__name"
            )
        ):
            if (kind, pk) in keys:
                found["tag"].setdefault((kind, pk), []).append(tag)
    for key in keys:
        found["tag"].setdefault(key, [no_tag])
    return found


def build_lifetime_value(user: Any, filters: ReportFilters) -> Report:
    data = lifetime(user, filters)
    total = sum(data.values, Decimal(0))
    won = sum(data.deals.values())
    figures = [
        Figure("customers", _("Customers"), len(data.revenue), "count"),
        Figure("average", _("Average lifetime value"), data.average(), "money"),
        Figure("median", _("Median lifetime value"), data.median(), "money"),
        Figure("revenue", _("Won revenue"), total, "money"),
        Figure("won_deals", _("Won deals"), won, "count", "won_deals"),
    ]
    tables = []
    groups = segments(data.revenue, scope_deal_ids(user, filters))
    for segment, title in (
        ("industry", _("By industry")),
        ("source", _("By source")),
        ("tag", _("By tag")),
    ):
        values: dict[str, list[Decimal]] = defaultdict(list)
        for key, labels in groups[segment].items():
            for label in labels:
                values[label].append(data.revenue[key])
        rows = [
            {
                "segment": label,
                "customers": len(amounts),
                "average": mean(amounts),
                "median": Decimal(median(amounts)).quantize(Decimal("0.01")),
                "revenue": sum(amounts, Decimal(0)),
            }
            for label, amounts in sorted(values.items(), key=lambda item: -sum(item[1]))
        ]
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
    top = sorted(data.revenue, key=lambda k: (-data.revenue[k], k))[:LIST_LIMIT]
    shown = names(top)
    ids = public_ids(top)
    top_rows = [
        {
            "customer": shown.get(key, "—"),
            "kind": kind_label(key[0]),
            "revenue": data.revenue[key],
            "won_deals": data.deals[key],
            "first_purchase": data.first[key].astimezone(filters.tz).date(),
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
        warnings=data.money.warnings(),
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
    companies = [i for k, i in data.revenue if k == COMPANY]
    contacts = [i for k, i in data.revenue if k == CONTACT]
    return "deal", annotated.filter(
        Q(cust_company__in=companies) | Q(cust_company__isnull=True, cust_contact__in=contacts)
    )


# ---------------------------------------------------------------- at risk


@dataclass
class AtRisk:
    days: int
    quiet: set[Key] = field(default_factory=set)
    lost: dict[Key, int] = field(default_factory=dict)
    overdue: dict[Key, int] = field(default_factory=dict)
    last_activity: dict[Key, dt.datetime | None] = field(default_factory=dict)

    @property
    def customers(self) -> set[Key]:
        return self.quiet | set(self.lost) | set(self.overdue)


def lost_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    start, end = aware_bounds(filters.period, filters.tz)
    return deals_in_scope(user, filters).filter(
        stage__kind=Stage.Kind.LOST, closed_at__gte=start, closed_at__lt=end
    )


def overdue_deals(user: Any, filters: ReportFilters) -> QuerySet[Deal]:
    today = reference_moment(filters).astimezone(filters.tz).date()
    return deals_in_scope(user, filters).filter(
        stage__kind=Stage.Kind.OPEN, expected_close__lt=today
    )


def open_complaints(user: Any, filters: ReportFilters) -> dict[Key, int]:
    """Open complaints per customer. There is no complaint (ticket) model yet: when the
    service desk lands, count its open complaints per customer here and the at-risk list
    picks them up as a fourth reason."""
    return {}


def at_risk(user: Any, filters: ReportFilters) -> AtRisk:
    days = touches.churn_days()
    ref = reference_moment(filters)
    states = touches.customer_states(
        scope_deal_ids(user, filters), [ref], ref, last_activity_before=ref
    )
    customers = visible_keys(user, states.in_touch)
    quiet_before = ref - dt.timedelta(days=days)
    result = AtRisk(days=days)
    for key in customers:
        last = states.last_activity.get(key)
        result.last_activity[key] = last
        if last is None or last < quiet_before:
            result.quiet.add(key)
    for name, deals in (("lost", lost_deals), ("overdue", overdue_deals)):
        target: dict[Key, int] = getattr(result, name)
        rows = (
            with_customer(deals(user, filters))
            .order_by()
            .values("cust_company", "cust_contact")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            key = key_of(row["cust_company"], row["cust_contact"])
            if key in customers:
                target[key] = row["n"]
    return result


def _deals_of(deals: QuerySet[Deal], keys: Iterable[Key]) -> QuerySet[Deal]:
    keys = list(keys)
    companies = [i for k, i in keys if k == COMPANY]
    contacts = [i for k, i in keys if k == CONTACT]
    return with_customer(deals).filter(
        Q(cust_company__in=companies) | Q(cust_company__isnull=True, cust_contact__in=contacts)
    )


def build_at_risk(user: Any, filters: ReportFilters) -> Report:
    data = at_risk(user, filters)
    customers = data.customers
    figures = [
        Figure("customers", _("Customers at risk"), len(customers), "count"),
        Figure(
            "quiet",
            _("No activity for %(days)s days") % {"days": data.days},
            len(data.quiet),
            "count",
        ),
        Figure(
            "lost_deals",
            _("Deals lost in the period"),
            sum(data.lost.values()),
            "count",
            "lost_deals",
        ),
        Figure(
            "overdue_deals",
            _("Open deals past expected close"),
            sum(data.overdue.values()),
            "count",
            "overdue_deals",
        ),
    ]
    sets = {
        "customers": customers,
        "quiet": data.quiet,
        "lost": set(data.lost),
        "overdue": set(data.overdue),
    }

    def order(key: Key) -> tuple[Any, ...]:
        reasons = (key in data.quiet) + (key in data.lost) + (key in data.overdue)
        last = data.last_activity.get(key)
        return (-reasons, last.timestamp() if last else 0.0, key)

    listed = sorted(customers, key=order)[:LIST_LIMIT]
    shown = names(listed)
    ids = public_ids(listed)
    rows = []
    for key in listed:
        last = data.last_activity.get(key)
        ident = f"{key[0]}:{ids.get(key, '')}"
        rows.append(
            {
                "customer": shown.get(key, "—"),
                "kind": kind_label(key[0]),
                "last_activity": last.astimezone(filters.tz).date() if last else None,
                "quiet": key in data.quiet,
                "lost_deals": data.lost.get(key, 0),
                "overdue_deals": data.overdue.get(key, 0),
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
                sets,
            ),
        ],
        charts=[
            Chart(
                "bar",
                [_("No recent activity"), _("Lost deals"), _("Deals past expected close")],
                [
                    {
                        "label": _("Customers"),
                        "data": [len(data.quiet), len(data.lost), len(data.overdue)],
                    }
                ],
                key="reasons",
                title=_("Why customers are at risk"),
            )
        ],
    )


def drill_at_risk(user: Any, filters: ReportFilters, cell_id: str) -> tuple[str, QuerySet[Any]]:
    measure, _sep, rest = str(cell_id or "").partition(":")
    deal_sets: dict[str, Callable[[Any, ReportFilters], QuerySet[Deal]]] = {
        "lost_deals": lost_deals,
        "overdue_deals": overdue_deals,
    }
    data = at_risk(user, filters)
    if measure in deal_sets:
        keys = set(data.lost) if measure == "lost_deals" else set(data.overdue)
        deals = deal_sets[measure](user, filters)
        if rest:
            return "deal", _customer_deals(user, filters, deals, rest)
        return "deal", _deals_of(deals, keys)
    sets = {
        "customers": data.customers,
        "quiet": data.quiet,
        "lost": set(data.lost),
        "overdue": set(data.overdue),
    }
    _measure, kind = split_cell(cell_id)
    if measure not in sets:
        raise NotFound()
    return records_of(kind, sets[measure])


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
