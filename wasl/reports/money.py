"""Converting amounts to the organisation's currency for reports, and keeping the rates.

A `RateTable` is loaded once per report (the rates table is small) and converts with the
latest rate on or before a date, else the earliest rate after it. Amounts in a currency
without any rate are left out of money totals and named in the report's warnings.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, Func, Value, When
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.accounts.selectors import organisation_get
from wasl.core import events, formatting
from wasl.core.audit import record_audit
from wasl.core.errors import FieldErrors, Invalid, NotFound
from wasl.core.visibility import require_admin
from wasl.deals.money import clean_currency, clean_decimal
from wasl.reports.models import ExchangeRate

CENT = Decimal("0.01")
MAX_RATE = Decimal("1e15")
# Marks a currency's deals left out of the amounts as too large to add up, not for want
# of a rate, in the counts `missing_rate_warnings` reads ("IRR+": 1).
TOO_LARGE = "+"


class RateTable:
    """Every exchange rate, in memory, for one report."""

    def __init__(self, currency: str, rates: dict[str, list[tuple[dt.date, Decimal]]]) -> None:
        self.currency = currency
        self._dates = {code: [day for day, _r in rows] for code, rows in rates.items()}
        self._rates = {code: [rate for _d, rate in rows] for code, rows in rates.items()}
        # A report asks for the same currency and day many times (once per customer).
        self._found: dict[tuple[str, dt.date], Decimal | None] = {}

    @classmethod
    def load(cls, currency: str) -> RateTable:
        rates: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for code, day, rate in ExchangeRate.objects.order_by("currency", "rate_date").values_list(
            "currency", "rate_date", "rate"
        ):
            rates[code].append((day, rate))
        return cls(currency, dict(rates))

    def currencies(self) -> list[str]:
        """The currencies with at least one rate."""
        return sorted(self._dates)

    def rate(self, currency: str, on: dt.date) -> Decimal | None:
        """One unit of `currency` in the organisation's currency on `on`, or None."""
        try:
            return self._found[(currency, on)]
        except KeyError:
            found = self._found[(currency, on)] = self._look_up(currency, on)
            return found

    def _look_up(self, currency: str, on: dt.date) -> Decimal | None:
        if currency == self.currency:
            return Decimal(1)
        dates = self._dates.get(currency)
        if not dates:
            return None
        index = bisect.bisect_right(dates, on) - 1
        return self._rates[currency][max(index, 0)]

    def convert(self, amount: Decimal, currency: str, on: dt.date) -> Decimal | None:
        rate = self.rate(currency, on)
        if rate is None:
            return None
        if rate == 1 and isinstance(amount, Decimal):
            return amount.quantize(CENT)
        return (Decimal(amount) * rate).quantize(CENT)


class MoneyTotal:
    """Adds converted amounts and counts the records whose currency has no rate."""

    def __init__(self, rates: RateTable) -> None:
        self.rates = rates
        self.total = Decimal(0)
        self.missing: dict[str, int] = defaultdict(int)

    def add(self, amount: Decimal | None, currency: str, on: dt.date, count: int = 1) -> Decimal:
        """Add `amount` (the sum of `count` records in `currency`); returns what it added."""
        if amount is None:
            return Decimal(0)
        converted = self.rates.convert(amount, currency, on)
        if converted is None:
            self.missing[currency] += count
            return Decimal(0)
        self.total += converted
        return converted

    def warnings(self) -> list[str]:
        return missing_rate_warnings(self.missing)


# Any day: the rate of a currency with one rate (or none) does not depend on it.
ANY_DAY = dt.date(2000, 1, 1)


def rate_day(
    date_field: str,
    currency: str,
    tz: dt.tzinfo,
    within: tuple[dt.datetime, dt.datetime] | None = None,
) -> Any:
    """The local day of `date_field`, for grouping amounts before converting them; NULL
    for currencies whose rate does not change with the day (the organisation's, those
    with one rate or none), so the database groups them whole. `within`: the range the
    rows' values fall in, when known (see `local_date`)."""
    varying = list(
        ExchangeRate.objects.order_by()
        .values("currency")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exclude(currency=currency)
        .values_list("currency", flat=True)
    )
    if not varying:
        return Value(None, output_field=DateField())
    return Case(
        When(currency__in=varying, then=local_date(date_field, tz, within)),
        default=Value(None),
        output_field=DateField(),
    )


def local_date(
    date_field: str, tz: dt.tzinfo, within: tuple[dt.datetime, dt.datetime] | None = None
) -> Any:
    """The day in `tz` of the moments of `date_field`. On SQLite Django's `TruncDate` calls
    a Python function for every row (with daily rates the KPIs' won deals of two years:
    ~0.4 s of the administrator's 0.5 s at L); when the range of the moments is known
    (`within`), the zone's offsets from UTC over it become an argument of SQLite's own
    `date()`: one constant for a zone that keeps its offset there, else a `CASE` over the
    moments it changes."""
    if connection.vendor != "sqlite" or within is None:
        return TruncDate(date_field, tzinfo=tz)
    offsets = utc_offsets(tz, *within)
    modifier: Any = Value(_minutes(offsets[-1][1]))
    if len(offsets) > 1:
        modifier = Case(
            *[
                When(**{f"{date_field}__gte": since}, then=Value(_minutes(minutes)))
                for since, minutes in reversed(offsets[1:])
            ],
            default=Value(_minutes(offsets[0][1])),
        )
    return Func(F(date_field), modifier, function="date", output_field=DateField())


def _minutes(offset: int) -> str:
    return f"{offset:+d} minutes"


def utc_offsets(
    tz: dt.tzinfo, low: dt.datetime, high: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """[(from this moment, the offset of `tz` in minutes)] over [low, high]: the first
    from `low`, then one at each moment the offset changes (found day by day, then to
    the minute)."""

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]

    low, high = low.astimezone(dt.UTC), high.astimezone(dt.UTC)
    found = [(low, offset(low))]
    day = dt.timedelta(days=1)
    moment = low
    while moment < high:
        step = min(moment + day, high)
        if offset(step) != found[-1][1]:
            before, after = moment, step
            while after - before > dt.timedelta(minutes=1):
                middle = before + (after - before) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= before:
                    middle = before + dt.timedelta(minutes=1)
                if offset(middle) == found[-1][1]:
                    before = middle
                else:
                    after = middle
            found.append((after, offset(after)))
        moment = step
    return found


def as_decimal(value: Any) -> Decimal:
    """A sum as the database cursor gives it (SQLite: an integer or a float) as an exact
    Decimal of its written value, as Django's converter makes it."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return Decimal(str(value))


def as_day(value: Any) -> dt.date:
    """A local day as the database cursor gives it (SQLite: text), ANY_DAY for none."""
    if value is None:
        return ANY_DAY
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def missing_rate_warnings(missing: dict[str, int]) -> list[str]:
    """ "2 deals in GBP have no exchange rate", one line per currency; a currency marked
    TOO_LARGE says its deals are worth too much to add up."""
    lines = []
    for key, count in sorted(missing.items()):
        if not count:
            continue
        currency = key.removesuffix(TOO_LARGE)
        if key.endswith(TOO_LARGE):
            text = ngettext(
                "%(count)s deal in %(currency)s is worth too much to add up and is left out "
                "of the amounts.",
                "%(count)s deals in %(currency)s are worth too much to add up and are left "
                "out of the amounts.",
                count,
            )
        else:
            text = ngettext(
                "%(count)s deal in %(currency)s has no exchange rate and is left out of the "
                "amounts.",
                "%(count)s deals in %(currency)s have no exchange rate and are left out of the "
                "amounts.",
                count,
            )
        lines.append(text % {"count": formatting.digits(count), "currency": currency})
    return lines


def merge_missing(target: dict[str, int], source: dict[str, int]) -> None:
    for currency, count in source.items():
        target[currency] = target.get(currency, 0) + count


def _clean_rate(currency: Any, rate_date: Any, rate: Any) -> tuple[str, dt.date, Decimal]:
    errors = FieldErrors()
    code = clean_currency(currency, errors)
    day: dt.date | None = None
    if isinstance(rate_date, dt.datetime):
        day = rate_date.date()
    elif isinstance(rate_date, dt.date):
        day = rate_date
    else:
        try:
            day = dt.date.fromisoformat(str(rate_date or ""))
        except ValueError:
            errors.add("rate_date", _("Enter a date as YYYY-MM-DD."))
    value = clean_decimal(rate, errors, "rate", places=8, maximum=MAX_RATE)
    if value is not None and value <= 0:
        errors.add("rate", _("Enter a rate above zero."))
    errors.raise_if_any()
    assert day is not None and value is not None
    return code, day, value


def set_rate(*, actor: Any, currency: Any, rate_date: Any, rate: Any) -> ExchangeRate:
    """Set the rate of `currency` on `rate_date` (creating or replacing it). Admins only;
    raises Forbidden or Invalid."""
    if actor is not None:
        require_admin(actor)
    code, day, value = _clean_rate(currency, rate_date, rate)
    if code == organisation_get().currency:
        raise Invalid({"currency": [_("The organisation's own currency needs no rate.")]})
    with transaction.atomic():
        found = ExchangeRate.objects.select_for_update().filter(currency=code, rate_date=day)
        existing = found.first()
        if existing is None:
            created = ExchangeRate.objects.create(currency=code, rate_date=day, rate=value)
            record_audit(
                actor=actor,
                action="create",
                record=created,
                changes={
                    "currency": [None, code],
                    "rate_date": [None, day],
                    "rate": [None, value],
                },
            )
            _emit_rate_event("exchange_rate.changed", created, actor)
            return created
        if existing.rate != value:
            old = existing.rate
            existing.rate = value
            existing.save(update_fields=["rate", "updated_at"])
            record_audit(
                actor=actor, action="update", record=existing, changes={"rate": [old, value]}
            )
            _emit_rate_event("exchange_rate.changed", existing, actor)
        return existing


def _emit_rate_event(name: str, rate: ExchangeRate, actor: Any) -> None:
    """Tell the outbox's listeners that a rate changed: the customer summary converts its
    purchases again in the background (`reports.listeners`) rather than in the next
    report's request."""
    events.emit(
        name,
        rate,
        actor,
        {
            "id": rate.public_id,
            "currency": rate.currency,
            "rate_date": rate.rate_date,
            "rate": rate.rate,
        },
    )


def delete_rate(*, actor: Any, rate: ExchangeRate) -> None:
    """Delete one exchange rate. Admins only; raises Forbidden."""
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action="delete",
            record=rate,
            changes={"rate": [rate.rate, None]},
            data={"currency": rate.currency, "rate_date": rate.rate_date},
        )
        _emit_rate_event("exchange_rate.deleted", rate, actor)
        rate.delete()


def rate_list() -> Any:
    """Every exchange rate, by currency then newest date (the table is visible to all)."""
    return ExchangeRate.objects.order_by("currency", "-rate_date", "-id")


def rate_get(public_id: Any) -> ExchangeRate:
    """One exchange rate by its public id; raises NotFound."""
    try:
        found = ExchangeRate.objects.filter(public_id=public_id).first()
    except (ValueError, ValidationError):
        found = None
    if found is None:
        raise NotFound()
    return found
