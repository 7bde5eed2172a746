from __future__ import annotations

import datetime as dt

import pytest

from wasl.activities import services
from wasl.activities.selectors import activity_list, timeline_for
from wasl.activities.tests.conftest import T0, frozen
from wasl.contacts.services import contact_update
from wasl.core.errors import Invalid

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def _all_pages(actor, record, limit):
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = timeline_for(actor=actor, record=record, limit=limit, cursor=cursor)
        seen.extend(items)
        pages += 1
        if cursor is None:
            return seen, pages
        assert pages < 100


class TestActivityList:
    def test_each_persona_sees_the_activities_the_visibility_rule_allows(self, personas):
        mine = services.activity_create(actor=personas.rep_a, kind="task", subject="a")
        theirs = services.activity_create(actor=personas.rep_c, kind="task", subject="c")
        assert list(activity_list(actor=personas.rep_a)) == [mine]
        assert list(activity_list(actor=personas.rep_b)) == []
        assert list(activity_list(actor=personas.manager_a)) == [mine]
        assert list(activity_list(actor=personas.readonly)) == [mine]
        assert list(activity_list(actor=personas.manager_b)) == [theirs]
        assert set(activity_list(actor=personas.admin)) == {mine, theirs}


class TestTimeline:
    def test_a_contacts_note_call_and_update_show_newest_first_with_old_and_new_values(
        self, personas, contact_of
    ):
        with frozen(T0):
            contact = contact_of(personas.rep_a, title="Buyer")
        with frozen(T0 + MINUTE):
            note = services.activity_create(
                actor=personas.rep_a, kind="note", subject="Prefers e-mail", contact=contact
            )
        with frozen(T0 + 2 * MINUTE):
            call = services.activity_create(
                actor=personas.rep_a,
                kind="call",
                subject="Pricing call",
                contact=contact,
                outcome="connected",
            )
        with frozen(T0 + 3 * MINUTE):
            contact_update(actor=personas.manager_a, contact=contact, title="Head of buying")
        services.activity_create(actor=personas.rep_a, kind="note", subject="Elsewhere")

        items, next_cursor = timeline_for(actor=personas.rep_a, record=contact)

        assert next_cursor is None
        assert [(i.type, i.action or i.kind) for i in items] == [
            ("event", "update"),
            ("activity", "call"),
            ("activity", "note"),
            ("event", "create"),
        ]
        update = items[0]
        assert update.changes == {"title": ["Buyer", "Head of buying"]}
        assert update.actor == personas.manager_a
        assert update.at == T0 + 3 * MINUTE
        assert update.summary.endswith("title")
        assert items[1].id == str(call.public_id) and items[1].activity == call
        assert items[2].id == str(note.public_id) and items[2].actor == personas.rep_a

    def test_a_teammates_activity_on_a_visible_record_shows_on_its_timeline(
        self, personas, contact_of
    ):
        contact = contact_of(personas.rep_a)
        services.activity_create(
            actor=personas.manager_a, kind="call", subject="Manager called", contact=contact
        )
        items, _ = timeline_for(actor=personas.rep_a, record=contact)
        assert "Manager called" in [i.subject for i in items]

    def test_a_companys_timeline_has_activities_linked_to_it(
        self, personas, contact_of, company_of
    ):
        company = company_of(personas.rep_a)
        contact = contact_of(personas.rep_a)
        services.activity_create(
            actor=personas.rep_a, kind="meeting", subject="Visit", company=company
        )
        services.activity_create(actor=personas.rep_a, kind="note", subject="c", contact=contact)
        items, _ = timeline_for(actor=personas.rep_a, record=company)
        assert (items[0].type, items[0].subject) == ("activity", "Visit")
        assert [i.type for i in items] == ["activity", "event"]

    @pytest.mark.parametrize("limit", [1, 2, 3, 7])
    def test_paging_with_the_cursor_yields_every_item_exactly_once(
        self, personas, contact_of, limit
    ):
        with frozen(T0):
            contact = contact_of(personas.rep_a)
        # Several items share each instant, so ties must be broken by the cursor too.
        for step in range(4):
            with frozen(T0 + step * MINUTE):
                for n in range(2):
                    services.activity_create(
                        actor=personas.rep_a, kind="note", subject=f"{step}.{n}", contact=contact
                    )
                contact_update(actor=personas.rep_a, contact=contact, title=f"t{step}")
        everything, _ = timeline_for(actor=personas.rep_a, record=contact, limit=200)
        assert len(everything) == 13
        paged, pages = _all_pages(personas.rep_a, contact, limit)
        assert [(i.type, i.id) for i in paged] == [(i.type, i.id) for i in everything]
        assert pages == -(-13 // limit)
        keys = [i.key for i in everything]
        assert keys == sorted(keys, reverse=True)

    def test_a_broken_cursor_is_invalid(self, personas, contact_of):
        contact = contact_of(personas.rep_a)
        for cursor in ["nonsense", "WzEsMiwzXQ", "e30"]:
            with pytest.raises(Invalid):
                timeline_for(actor=personas.rep_a, record=contact, cursor=cursor)

    def test_a_50_item_page_costs_four_queries(
        self, personas, contact_of, django_assert_num_queries
    ):
        """Activities, audit events, the users they name, and (a contact's timeline) the
        leads converted into the contact."""
        contact = contact_of(personas.rep_a)
        for n in range(30):
            services.activity_create(
                actor=personas.rep_a, kind="note", subject=f"n{n}", contact=contact
            )
            contact_update(actor=personas.rep_a, contact=contact, title=f"t{n}")
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.get_for_model(type(contact))
        with django_assert_num_queries(4):
            items, cursor = timeline_for(actor=personas.rep_a, record=contact, limit=50)
            for item in items:
                _ = (item.actor, item.activity and item.activity.owner)
                if item.activity:
                    activity = item.activity
                    _ = (activity.created_by, activity.team, activity.contact, activity.company)
        assert len(items) == 50 and cursor is not None
