from __future__ import annotations

import pytest

from wasl.contacts.models import Contact
from wasl.contacts.services import contact_create
from wasl.core.errors import Invalid
from wasl.core.pagination import keyset_page, resolve_sort

pytestmark = pytest.mark.django_db


def test_keyset_walks_ties_in_both_directions(personas):
    for index in range(9):
        contact_create(actor=personas.rep_a, first_name=f"N{index % 3}")
    for descending in (False, True):
        seen, cursor = [], None
        while True:
            rows, cursor = keyset_page(
                Contact.objects.all(),
                field="first_name",
                descending=descending,
                cursor=cursor,
                limit=2,
            )
            seen.extend(r.pk for r in rows)
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 9
        names = [Contact.objects.get(pk=pk).first_name for pk in seen]
        assert names == sorted(names, reverse=descending)


def test_bad_cursor_and_sort_are_invalid():
    with pytest.raises(Invalid):
        keyset_page(
            Contact.objects.all(),
            field="first_name",
            descending=False,
            cursor="bm90IGpzb24",
            limit=5,
        )
    with pytest.raises(Invalid):
        resolve_sort("-secret", {"name": "name"}, "name")


def test_keyset_keeps_rows_with_empty_sort_values_last_in_both_directions(personas):
    import datetime as dt

    for index in range(6):
        contact_create(
            actor=personas.rep_a,
            first_name=f"P{index}",
            birthday=dt.date(1990, 1, index + 1) if index % 2 else None,
        )
    for descending in (False, True):
        seen, cursor = [], None
        while True:
            rows, cursor = keyset_page(
                Contact.objects.all(),
                field="birthday",
                descending=descending,
                cursor=cursor,
                limit=2,
            )
            seen.extend(rows)
            if cursor is None:
                break
        assert len({r.pk for r in seen}) == 6
        dated = [r.birthday for r in seen if r.birthday]
        assert dated == sorted(dated, reverse=descending)
        assert all(r.birthday is None for r in seen[3:])
