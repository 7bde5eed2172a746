from __future__ import annotations

import pytest

from wasl.accounts.services import user_update
from wasl.contacts.models import Contact
from wasl.contacts.services import contact_create
from wasl.core.search import search
from wasl.core.sharing import record_share, record_unshare
from wasl.core.visibility import can_write, visible

pytestmark = pytest.mark.django_db


def names(actor):
    return sorted(c.first_name for c in visible(Contact.objects.all(), actor))


def test_each_role_sees_exactly_its_scope(personas):
    contact_create(actor=personas.rep_a, first_name="A")
    contact_create(actor=personas.rep_b, first_name="B")
    contact_create(actor=personas.rep_c, first_name="C")
    assert names(personas.rep_a) == ["A"]
    assert names(personas.rep_b) == ["B"]
    assert names(personas.manager_a) == ["A", "B"]
    assert names(personas.manager_b) == ["C"]
    assert names(personas.readonly) == ["A", "B"]
    assert names(personas.admin) == ["A", "B", "C"]


def test_inactive_users_see_nothing(personas):
    contact_create(actor=personas.rep_a, first_name="A")
    user_update(actor=None, user=personas.admin, is_active=False)
    assert names(personas.admin) == []


def test_sharing_grants_sight_and_optionally_write(personas):
    contact = contact_create(actor=personas.rep_a, first_name="A")
    record_share(actor=personas.rep_a, record=contact, user=personas.rep_c)
    assert names(personas.rep_c) == ["A"]
    assert [h.title for h in search(personas.rep_c, "A")] == ["A"]
    assert not can_write(personas.rep_c, contact)
    record_share(actor=personas.rep_a, record=contact, user=personas.rep_c, can_write=True)
    assert can_write(personas.rep_c, contact)
    record_unshare(actor=personas.rep_a, record=contact, user=personas.rep_c)
    assert names(personas.rep_c) == []


def test_readonly_never_writes_even_own_team(personas):
    contact = contact_create(actor=personas.rep_a, first_name="A")
    assert not can_write(personas.readonly, contact)
    assert can_write(personas.manager_a, contact)
    assert not can_write(personas.manager_b, contact)
