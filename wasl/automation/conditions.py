"""Evaluating a rule's conditions against a record's context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from wasl.automation.context import resolve
from wasl.core.text import normalise


def _number(value: Any) -> Decimal | None:
    kind = type(value)
    if kind is int:
        return Decimal(value)
    if value is None or kind is bool or value == "":
        return None
    if kind is str:
        return _parse(value)
    if kind is Decimal:
        return value if value.is_finite() else None
    return _parse(str(value))


# A rule's constants and a record's values are compared again for every rule of an
# event: their parses are worth keeping (a Decimal is immutable, so sharing it is safe).
@lru_cache(maxsize=4096)
def _parse(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return normalise(str(value))


def _equal(left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    return _text(left) == _text(right)


def _order(left: Any, right: Any) -> int | None:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    if left is None or right is None or left == "" or right == "":
        return None
    # Dates and times compare as ISO text, which orders them.
    x, y = _text(left), _text(right)
    return (x > y) - (x < y)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def compare(actual: Any, op: str, expected: Any) -> bool:
    """One comparison; lists (tags) match when any item does."""
    if op == "is_empty":
        return _empty(actual)
    if op == "is_not_empty":
        return not _empty(actual)
    values = expected if isinstance(expected, list) else [expected]
    if op in ("in", "not_in"):
        items = actual if isinstance(actual, list) else [actual]
        hit = any(_equal(a, v) for a in items for v in values)
        return hit if op == "in" else not hit
    if isinstance(actual, list):
        if op in ("eq", "contains"):
            return any(_equal(a, expected) for a in actual)
        if op in ("ne", "not_contains"):
            return not any(_equal(a, expected) for a in actual)
        return False
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "contains":
        return _text(expected) in _text(actual)
    if op == "not_contains":
        return _text(expected) not in _text(actual)
    if op == "starts_with":
        return _text(actual).startswith(_text(expected))
    order = _order(actual, expected)
    if order is None:
        return False
    return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}.get(op, False)


def matches(condition: dict[str, Any] | None, context: dict[str, Any]) -> bool:
    """Whether the (stored JSON) condition holds; no condition always holds."""
    if not condition:
        return True
    if condition.get("all") is not None:
        return all(matches(c, context) for c in condition["all"])
    if condition.get("any") is not None:
        return any(matches(c, context) for c in condition["any"])
    return compare(resolve(context, condition["field"]), condition["op"], condition.get("value"))
