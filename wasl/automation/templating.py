"""Rendering action texts (`{{ contact.first_name }}`) in a sandbox.

A fresh template engine with no loaders, no installed tag libraries and autoescaping off
(the output is plain text: e-mails, SMS, task subjects) renders against the whitelisted
context of `wasl.automation.context`; nothing but those plain values is reachable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError

from wasl.automation.context import fresh
from wasl.core.errors import Invalid


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False, debug=False)


@lru_cache(maxsize=512)
def _compile(source: str) -> Any:
    return _engine().from_string(source)


def check(source: str, field: str) -> None:
    """Raise Invalid when a template does not parse (or loads tags)."""
    if "{%" in source and ("load" in source or "include" in source or "extends" in source):
        raise Invalid({field: ["Templates may use variables, filters, if and for only."]})
    try:
        _compile(source)
    except TemplateSyntaxError as error:
        raise Invalid({field: [str(error)]}) from error


def render(source: str, context: dict[str, Any]) -> str:
    """The text with variables filled in (missing ones render empty)."""
    if "{" not in source:
        return source
    return str(_compile(source).render(Context(fresh(context), autoescape=False))).strip()
