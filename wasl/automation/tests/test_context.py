"""The context copy each render gets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wasl.automation.context import fresh
from wasl.automation.templating import render


def context():
    return {
        "kind": "lead",
        "record": {
            "first_name": "Ali",
            "tags": ["vip", "web"],
            "custom": {"budget": Decimal("12.50"), "seen": [dt.date(2026, 1, 2)]},
            "created_at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
            "owner": {"name": "Sara", "team": None},
        },
    }


def test_a_copy_equals_the_context_and_shares_no_dict_or_list_with_it():
    original = context()
    copied = fresh(original)

    assert copied == original
    assert copied["record"] is not original["record"]
    assert copied["record"]["tags"] is not original["record"]["tags"]
    assert copied["record"]["custom"]["seen"] is not original["record"]["custom"]["seen"]


def test_a_value_of_another_type_is_deep_copied():
    original = {"record": {"pair": ({"a": [1]},), "set": {1, 2}}}
    copied = fresh(original)

    assert copied == original
    assert copied["record"]["pair"][0] is not original["record"]["pair"][0]
    assert copied["record"]["set"] is not original["record"]["set"]


def test_a_template_calling_methods_cannot_change_what_the_next_render_sees():
    shared = context()
    render("{{ record.tags.pop }}{{ record.custom.clear }}{{ record.owner.clear }}", shared)

    assert shared == context()
    assert (
        render("{{ record.tags|join:',' }} {{ record.custom.budget }}", shared) == "vip,web 12.50"
    )
