from __future__ import annotations

import pytest
from django.test import override_settings

from wasl.contacts.services import company_create, contact_create
from wasl.core.search import search

pytestmark = pytest.mark.django_db


def titles(actor, query, **kwargs):
    return [hit.title for hit in search(actor, query, **kwargs)]


def test_persian_name_is_found_when_typed_with_arabic_letters(personas):
    contact_create(actor=personas.rep_a, first_name="علی", last_name="کریمی")
    assert titles(personas.rep_a, "علي") == ["علی کریمی"]
    assert titles(personas.rep_a, "كريمي") == ["علی کریمی"]
    assert titles(personas.rep_a, "عَلی") == ["علی کریمی"]


@pytest.mark.parametrize(
    "typed",
    [
        "+98 912 345 6789",
        "09123456789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "00989123456789",
        "912 345 6789",
        "٠٩١٢٣٤٥٦٧٨٩",
    ],
)
@pytest.mark.parametrize("region", ["IR", "AE"])
def test_phone_in_any_written_form_finds_the_contact(personas, typed, region):
    contact_create(actor=personas.rep_a, first_name="Phone", phones=["+989123456789"])
    with override_settings(WASL_PHONE_REGION=region):
        assert titles(personas.rep_a, typed) == ["Phone"]


def test_email_company_and_tag_are_searchable(personas):
    company = company_create(actor=personas.rep_a, name="Kish Trading")
    contact_create(
        actor=personas.rep_a,
        first_name="Reza",
        emails=["reza@kish.ir"],
        company=company,
        tags=["wholesale"],
    )
    assert titles(personas.rep_a, "reza@kish") == ["Reza"]
    assert titles(personas.rep_a, "kish trad") == ["Kish Trading", "Reza"]
    assert titles(personas.rep_a, "wholesale") == ["Reza"]
    assert titles(personas.rep_a, "kish", kinds=["company"]) == ["Kish Trading"]


def test_exact_and_prefix_matches_rank_first(personas):
    for first, last in [("Sara", "Alimohammadi"), ("Ali", "Rezaei"), ("Alireza", "Nouri")]:
        contact_create(actor=personas.rep_a, first_name=first, last_name=last)
    assert titles(personas.rep_a, "ali")[:2] == ["Ali Rezaei", "Alireza Nouri"]


def test_search_respects_visibility(personas):
    contact_create(actor=personas.rep_a, first_name="Secret", last_name="Customer")
    assert titles(personas.rep_b, "secret") == []
    assert titles(personas.manager_b, "secret") == []
    assert titles(personas.manager_a, "secret") == ["Secret Customer"]
    assert titles(personas.admin, "secret") == ["Secret Customer"]


def test_short_and_empty_queries(personas):
    contact_create(actor=personas.rep_a, first_name="Bo", last_name="Li")
    assert titles(personas.rep_a, "") == []
    assert titles(personas.rep_a, "   ") == []
    assert titles(personas.rep_a, "bo") == ["Bo Li"]
    assert titles(personas.rep_a, '"; DROP TABLE x; --') == []
