"""The contacts and companies lists: filters, sort, keyset pages, columns, saved views,
bulk actions, inline create, and the page budgets (SQL statements and weight)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from wasl.contacts.models import Contact, CustomFieldDefinition, SavedView
from wasl.contacts.services import (
    company_create,
    contact_create,
    custom_field_create,
    saved_view_save,
)
from wasl.core.errors import Forbidden
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for

pytestmark = pytest.mark.django_db

LIST = "/contacts/"


def names_in(html: str) -> list[str]:
    body = html[html.index('id="list-rows"') :]
    body = body[: body.index("</tbody>")]
    return re.findall(r'href="/contacts/[0-9a-f-]{36}/">([^<]+)</a>', body)


def header_of(html: str) -> str:
    start = html.index('<thead class="table-light"')
    return html[start : html.index("</thead>", start)]


def make_contacts(owner, count: int, prefix: str = "Person", **extra) -> list[Contact]:
    return [
        contact_create(actor=owner, first_name=prefix, last_name=f"{index:03d}", **extra)
        for index in range(count)
    ]


def test_a_rep_sees_only_their_contacts_newest_first(personas):
    make_contacts(personas.rep_a, 3, "Mine")
    make_contacts(personas.rep_c, 2, "Theirs")

    response = client_for(personas.rep_a).get(LIST)

    assert response.status_code == 200
    names = names_in(response.content.decode())
    assert names == ["Mine 002", "Mine 001", "Mine 000"]


def test_filters_by_owner_tag_source_and_custom_field(personas):
    admin = personas.admin
    custom_field_create(
        actor=admin,
        entity="contact",
        key="tier",
        label_en="Tier",
        kind=CustomFieldDefinition.Kind.CHOICE,
        choices=[{"value": "gold", "en": "Gold"}, {"value": "silver", "en": "Silver"}],
    )
    contact_create(
        actor=personas.rep_a,
        first_name="Gold",
        last_name="Tagged",
        tags=["VIP"],
        source="referral",
        custom={"tier": "gold"},
    )
    contact_create(
        actor=personas.rep_a, first_name="Silver", last_name="Plain", custom={"tier": "silver"}
    )
    contact_create(actor=personas.rep_b, first_name="Other", last_name="Owner", tags=["VIP"])
    client = client_for(admin)

    def names(**params):
        return names_in(client.get(LIST, params).content.decode())

    assert names(tag="vip") == ["Other Owner", "Gold Tagged"]
    assert names(owner=str(personas.rep_a.public_id)) == ["Silver Plain", "Gold Tagged"]
    assert names(source="referral") == ["Gold Tagged"]
    assert names(**{"custom.tier": "silver"}) == ["Silver Plain"]
    assert names(owner="not-a-user") == []
    html = client.get(LIST, {"source": "nonsense"}).content.decode()
    assert "Choose one of the listed values." in html


def test_date_range_filter_reads_the_users_calendar(personas):
    make_contacts(personas.rep_a, 1, "Today")
    client = client_for(personas.rep_a)
    from django.utils import timezone

    today = timezone.localdate()
    next_year = today.replace(year=today.year + 1)

    def names_from(day):
        params = {"date_field": "created", "date_from": day.strftime("%Y/%m/%d")}
        return names_in(client.get(LIST, params).content.decode())

    assert names_from(today) == ["Today 000"]
    assert names_from(next_year) == []
    html = client.get(LIST, {"date_from": "not a date"}).content.decode()
    assert "Enter a date as year/month/day in your calendar." in html


def test_sorting_by_name_and_back(personas):
    for last in ("Bravo", "Alpha", "Charlie"):
        contact_create(actor=personas.rep_a, first_name="X", last_name=last)
    client = client_for(personas.rep_a)

    ascending = names_in(client.get(LIST, {"sort": "last_name"}).content.decode())
    descending = names_in(client.get(LIST, {"sort": "-last_name"}).content.decode())

    assert ascending == ["X Alpha", "X Bravo", "X Charlie"]
    assert descending == list(reversed(ascending))
    html = client.get(LIST, {"sort": "password"}).content.decode()
    assert "This list cannot be sorted that way." in html
    assert 'aria-sort="descending"' in html


def test_keyset_pages_go_forward_and_back_without_gaps(personas):
    make_contacts(personas.rep_a, 60)
    client = client_for(personas.rep_a)
    seen: list[str] = []
    url = LIST + "?sort=last_name"
    pages = []
    while url:
        html = client.get(url).content.decode()
        pages.append((url, names_in(html)))
        seen += names_in(html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == [f"Person {i:03d}" for i in range(60)]
    assert len(pages) == 3
    html = client.get(pages[2][0]).content.decode()
    previous = re.search(r'rel="prev" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert names_in(client.get(previous).content.decode()) == pages[1][1]
    back = client.get(previous).content.decode()
    first = re.search(r'rel="prev" href="([^"]+)"', back).group(1).replace("&amp;", "&")
    assert names_in(client.get(first).content.decode()) == pages[0][1]
    assert "60 records" in html


def test_the_count_is_capped(personas, monkeypatch):
    from wasl.contacts import views

    monkeypatch.setattr(views.CONTACTS, "count_cap", 5)
    make_contacts(personas.rep_a, 7)
    html = client_for(personas.rep_a).get(LIST).content.decode()
    assert "5+ records" in html


def test_htmx_filter_answers_the_table_alone(personas):
    make_contacts(personas.rep_a, 2)
    response = client_for(personas.rep_a).get(
        LIST, {"sort": "last_name"}, headers={"HX-Request": "true", "HX-Target": "list-table"}
    )
    html = response.content.decode()
    assert html.startswith('<div id="list-table"')
    assert "<html" not in html


def test_column_chooser_remembers_the_users_columns(personas):
    make_contacts(personas.rep_a, 1)
    client = client_for(personas.rep_a)
    response = client.post(
        reverse("contacts:contact-columns"), {"cols": ["name", "city", "created"], "q": ""}
    )
    assert response.status_code == 302
    html = client.get(LIST).content.decode()
    header = header_of(html)
    assert "City" in header and "Created" in header and "Owner" not in header
    # Another user keeps the defaults.
    other = client_for(personas.rep_b).get(LIST).content.decode()
    assert "Owner" in header_of(other)


def test_saved_views_private_shared_and_permissions(personas):
    contact_create(actor=personas.rep_a, first_name="Tagged", last_name="One", tags=["hot"])
    contact_create(actor=personas.rep_a, first_name="Plain", last_name="Two")
    rep = client_for(personas.rep_a)

    response = rep.post(
        reverse("contacts:contact-views"), {"name": "Hot ones", "q": "tag=hot&sort=last_name"}
    )
    assert response.status_code == 302
    view = SavedView.objects.get(name="Hot ones")
    assert view.filters == {"tag": "hot"} and view.sort == "last_name" and not view.is_shared
    assert names_in(rep.get(LIST, {"view": str(view.public_id)}).content.decode()) == ["Tagged One"]

    # A rep cannot share; another rep does not see the private view.
    rep.post(reverse("contacts:contact-views"), {"name": "Shared?", "q": "", "is_shared": "on"})
    assert not SavedView.objects.filter(name="Shared?").exists()
    other = client_for(personas.rep_b).get(LIST, {"view": str(view.public_id)}).content.decode()
    assert "This saved view does not exist any more." in other
    with pytest.raises(Forbidden):
        saved_view_save(
            actor=personas.rep_a, entity="contact", name="x", filters={}, is_shared=True
        )

    manager = client_for(personas.manager_a)
    manager.post(
        reverse("contacts:contact-views"),
        {"name": "Team VIPs", "q": "tag=hot", "is_shared": "on"},
    )
    shared = SavedView.objects.get(name="Team VIPs")
    assert shared.is_shared
    assert "Team VIPs" in client_for(personas.rep_b).get(LIST).content.decode()
    # The rep cannot delete the manager's shared view.
    response = client_for(personas.rep_b).post(
        reverse("contacts:contact-views"), {"view": str(shared.public_id), "delete": "1"}
    )
    assert response.status_code == 403
    rep.post(reverse("contacts:contact-views"), {"view": str(view.public_id), "delete": "1"})
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_assign_and_tags_go_through_the_services(personas):
    contacts = make_contacts(personas.manager_a, 3)
    client = client_for(personas.manager_a)
    ids = [str(c.public_id) for c in contacts[:2]]

    response = client.post(
        reverse("contacts:contact-bulk"),
        {"action": "assign", "owner": str(personas.rep_b.public_id), "ids": ids, "q": ""},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Assign to: 2 records." in response["HX-Trigger"]
    assert set(Contact.objects.filter(owner=personas.rep_b).values_list("pk", flat=True)) == {
        c.pk for c in contacts[:2]
    }
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGN).count() == 2

    client.post(reverse("contacts:contact-bulk"), {"action": "tag_add", "tag": "Expo", "ids": ids})
    tagged = Contact.objects.filter(pk__in=[c.pk for c in contacts[:2]], tags__name="Expo")
    assert tagged.count() == 2
    client.post(
        reverse("contacts:contact-bulk"), {"action": "tag_remove", "tag": "expo", "ids": ids[:1]}
    )
    assert [t.name for t in Contact.objects.get(pk=contacts[0].pk).tags.all()] == []


def _bulk_owner_options(html: str) -> str:
    start = html.find('aria-label="New owner"')
    return html[start : html.find("</select>", start)] if start >= 0 else ""


def test_bulk_assign_offers_only_people_the_actor_may_give_records_to(personas):
    make_contacts(personas.rep_a, 1)
    manager = client_for(personas.manager_a).get(reverse("contacts:contact-list")).content
    rep = client_for(personas.rep_a).get(reverse("contacts:contact-list")).content.decode()
    offered = _bulk_owner_options(manager.decode())

    for teammate in (personas.rep_a, personas.rep_b, personas.manager_a):
        assert str(teammate.public_id) in offered
    for outsider in (personas.rep_c, personas.manager_b, personas.admin):
        assert str(outsider.public_id) not in offered
    # A rep may give records only to themselves: no assign action, the others stay.
    assert _bulk_owner_options(rep) == ""
    assert 'value="assign"' not in rep and 'value="tag_add"' in rep


def test_bulk_is_all_or_nothing_and_delete_asks_first(personas):
    mine = make_contacts(personas.manager_a, 1)[0]
    teammate = make_contacts(personas.rep_a, 1, "Team")[0]
    shared_readonly = make_contacts(personas.rep_a, 1, "Other")[0]
    client = client_for(personas.rep_a)
    ids = [str(teammate.public_id), str(shared_readonly.public_id)]

    confirm = client.post(reverse("contacts:contact-bulk"), {"action": "delete", "ids": ids})
    assert confirm.status_code == 200
    assert "This cannot be undone." in confirm.content.decode()
    assert Contact.objects.filter(pk=teammate.pk).exists()

    client.post(
        reverse("contacts:contact-bulk"), {"action": "delete", "ids": ids, "confirmed": "1"}
    )
    assert not Contact.objects.filter(pk__in=[teammate.pk, shared_readonly.pk]).exists()

    # A rep cannot act on a record they do not see: 404, nothing changed.
    forced = client.post(
        reverse("contacts:contact-bulk"),
        {"action": "tag_add", "tag": "x", "ids": [str(mine.public_id)]},
    )
    assert forced.status_code == 404
    assert not mine.tags.exists()

    # A manager's selection that includes a record they may not change changes nothing.
    other_team = make_contacts(personas.rep_c, 1, "Far")[0]
    from wasl.core.sharing import record_share

    record_share(actor=None, record=other_team, user=personas.manager_a, can_write=False)
    manager = client_for(personas.manager_a)
    response = manager.post(
        reverse("contacts:contact-bulk"),
        {
            "action": "tag_add",
            "tag": "Both",
            "ids": [str(mine.public_id), str(other_team.public_id)],
        },
        headers={"HX-Request": "true"},
    )
    assert response["HX-Reswap"] == "none"
    assert "Nothing was changed" in response["HX-Trigger"]
    assert not mine.tags.exists() and not other_team.tags.exists()


def test_readonly_users_get_no_bulk_actions_and_are_refused(personas):
    contact = make_contacts(personas.rep_a, 1)[0]
    client = client_for(personas.readonly)
    html = client.get(LIST).content.decode()
    assert "bulk-tag" not in html and 'name="ids"' not in html and "inline-create" not in html
    response = client.post(
        reverse("contacts:contact-bulk"),
        {"action": "delete", "ids": [str(contact.public_id)], "confirmed": "1"},
    )
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = client.post(reverse("contacts:contact-inline"), {"first_name": "Sneaky"})
    assert response.status_code == 403


def test_inline_create_answers_the_new_row_or_the_form_with_errors(personas):
    client = client_for(personas.rep_a)
    headers = {"HX-Request": "true"}
    response = client.post(
        reverse("contacts:contact-inline"),
        {
            "first_name": "رضا",
            "last_name": "کریمی",
            "phone": "09121234567",
            "email": "reza@example.com",
            "q": "",
        },
        headers=headers,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<tr>") and "رضا کریمی" in html
    assert "list-row-added" in response["HX-Trigger"]
    contact = Contact.objects.get(first_name="رضا")
    assert contact.owner == personas.rep_a

    response = client.post(
        reverse("contacts:contact-inline"), {"first_name": "", "email": "not-mail"}, headers=headers
    )
    assert response["HX-Retarget"] == "#inline-create"
    assert "is-invalid" in response.content.decode()
    assert Contact.objects.count() == 1


def test_csrf_is_enforced_on_list_writes(personas):
    contact = make_contacts(personas.rep_a, 1)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.rep_a)
    for name, data in (
        (
            "contacts:contact-bulk",
            {"action": "delete", "ids": [str(contact.public_id)], "confirmed": "1"},
        ),
        ("contacts:contact-inline", {"first_name": "A"}),
        ("contacts:contact-views", {"name": "V"}),
        ("contacts:contact-columns", {"cols": ["name"]}),
    ):
        assert client.post(reverse(name), data).status_code == 403
    assert Contact.objects.count() == 1 and not SavedView.objects.exists()


def test_companies_list_and_inline_create(personas):
    company_create(actor=personas.rep_a, name="Pars Trading", tags=["supplier"])
    client = client_for(personas.rep_a)
    html = client.get("/companies/").content.decode()
    assert "Pars Trading" in html
    response = client.post(
        reverse("contacts:company-inline"),
        {"name": "Nile Foods", "website": "https://nile.example"},
        headers={"HX-Request": "true"},
    )
    assert "Nile Foods" in response.content.decode()
    html = client.get("/companies/", {"tag": "supplier"}).content.decode()
    assert "Pars Trading" in html and "Nile Foods" not in html


# ---------------------------------------------------------------- budgets


@pytest.mark.parametrize("who", ["rep_a", "admin", "manager_a"])
def test_a_25_row_page_stays_within_the_sql_and_weight_budgets(
    personas, who, django_assert_max_num_queries
):
    user = getattr(personas, who)
    custom_field_create(
        actor=personas.admin, entity="contact", key="tier", label_en="Tier", kind="text"
    )
    company = company_create(actor=personas.rep_a, name="Pars")
    for index in range(30):
        contact_create(
            actor=personas.rep_a,
            first_name="نام",
            last_name=f"خانوادگی {index}",
            phones=["0912 123 45%02d" % index],
            emails=[f"p{index}@example.com"],
            tags=["VIP", "Tehran"],
            company=company,
        )
    client = client_for(user)
    client.get(LIST)  # warm caches that every page shares (organisation, content types)
    with django_assert_max_num_queries(15):
        response = client.get(LIST)
    html = response.content
    assert len(names_in(html.decode())) == 25
    assert len(html) <= 40 * 1024, f"{len(html)} bytes"


def test_the_statement_count_does_not_grow_with_rows(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.rep_a)

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(LIST)
        return len(captured)

    make_contacts(personas.rep_a, 2, tags=["a"], phones=["09121111111"])
    statements()  # the first request fills caches every page shares
    few = statements()
    make_contacts(personas.rep_a, 23, "More", tags=["b"])
    assert statements() == few


def test_more_filters_load_when_opened_and_show_when_in_use(personas):
    custom_field_create(
        actor=personas.admin, entity="contact", key="tier", label_en="Tier", kind="text"
    )
    client = client_for(personas.rep_a)
    page = client.get(LIST).content.decode()
    assert 'name="date_from"' not in page and "part=more-filters" in page
    panel = client.get(LIST, {"part": "more-filters"}).content.decode()
    assert 'name="date_from"' in panel and 'name="custom.tier"' in panel
    filtered = client.get(LIST, {"custom.tier": "x"}).content.decode()
    assert 'name="custom.tier" value="x"' in filtered
