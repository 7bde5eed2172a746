"""Contact and company record pages (the customer 360), their forms with custom fields, and
the timeline and deals panels they load (wasl.web.records)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from wasl.activities.models import Activity
from wasl.contacts.models import Company, Contact
from wasl.contacts.services import (
    company_create,
    contact_create,
    contact_update,
    custom_field_create,
)
from wasl.core.testing import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(personas):
    company = company_create(actor=personas.rep_a, name="Pars Trading")
    return contact_create(
        actor=personas.rep_a,
        first_name="مریم",
        last_name="احمدی",
        title="Buyer",
        phones=["+98 912 123 4567"],
        emails=["maryam@example.com"],
        company=company,
        tags=["VIP"],
    )


def test_the_360_page_shows_facts_quick_actions_and_panels(personas, contact):
    response = client_for(personas.rep_a).get(
        reverse("contacts:contact-detail", args=[contact.public_id])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "مریم احمدی" in html and "Pars Trading" in html
    assert 'href="tel:+989121234567"' in html
    assert 'href="https://wa.me/989121234567"' in html
    assert 'href="https://t.me/+989121234567"' in html
    assert 'href="mailto:maryam@example.com"' in html
    assert reverse("records:timeline", args=["contact", contact.public_id]) in html
    assert reverse("records:deals", args=["contact", contact.public_id]) in html
    assert reverse("contacts:contact-edit", args=[contact.public_id]) in html


def test_another_reps_contact_is_a_404_page(personas, contact):
    for url in (
        reverse("contacts:contact-detail", args=[contact.public_id]),
        reverse("contacts:contact-edit", args=[contact.public_id]),
        reverse("records:timeline", args=["contact", contact.public_id]),
        reverse("records:deals", args=["contact", contact.public_id]),
    ):
        response = client_for(personas.rep_c).get(url)
        assert response.status_code == 404, url
        assert "This page does not exist" in response.content.decode()


def test_readonly_sees_no_edit_and_is_refused_when_forcing(personas, contact):
    client = client_for(personas.readonly)
    page = client.get(reverse("contacts:contact-detail", args=[contact.public_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("contacts:contact-edit", args=[contact.public_id]) not in html
    assert client.get(reverse("contacts:contact-edit", args=[contact.public_id])).status_code == 403
    forced = client.post(
        reverse("contacts:contact-edit", args=[contact.public_id]),
        {"first_name": "Hijacked", "owner": str(personas.readonly.public_id)},
    )
    assert forced.status_code == 403
    assert (
        client.post(reverse("contacts:contact-delete", args=[contact.public_id])).status_code == 403
    )
    timeline = client.get(reverse("records:timeline", args=["contact", contact.public_id]))
    assert 'id="quick-add"' not in timeline.content.decode()
    note = client.post(
        reverse("records:timeline-add", args=["contact", contact.public_id]),
        {"kind": "note", "body": "sneaky"},
    )
    assert note.status_code == 403
    assert Contact.objects.get(pk=contact.pk).first_name == "مریم"
    assert not Activity.objects.exists()


def test_editing_with_custom_fields_goes_through_the_service(personas, contact):
    admin = personas.admin
    custom_field_create(
        actor=admin,
        entity="contact",
        key="tier",
        label_en="Tier",
        label_fa="سطح",
        kind="choice",
        choices=[{"value": "gold", "en": "Gold", "fa": "طلایی"}],
    )
    custom_field_create(
        actor=admin, entity="contact", key="renewal", label_en="Renewal", kind="date"
    )
    custom_field_create(
        actor=admin,
        entity="contact",
        key="seats",
        label_en="Seats",
        kind="number",
        validation={"max": 100},
    )
    client = client_for(personas.rep_a)
    url = reverse("contacts:contact-edit", args=[contact.public_id])
    form = client.get(url).content.decode()
    assert 'name="custom_tier"' in form and 'name="custom_renewal"' in form

    data = {
        "first_name": "Maryam",
        "last_name": "Ahmadi",
        "title": "Head buyer",
        "company": "pars trading",
        "emails": "maryam@example.com\nm.ahmadi@example.com",
        "phones": "+98 912 123 4567",
        "owner": str(personas.rep_a.public_id),
        "tags": "VIP, Tehran",
        "custom_tier": "gold",
        "custom_renewal": "2026/03/01",
        "custom_seats": "۱۲",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Maryam" and contact.title == "Head buyer"
    assert contact.custom == {"tier": "gold", "renewal": "2026-03-01", "seats": 12}
    assert sorted(t.name for t in contact.tags.all()) == ["Tehran", "VIP"]
    assert contact.points.filter(kind="email").count() == 2

    bad = client.post(url, {**data, "custom_seats": "500", "emails": "not-an-email"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "At most 100." in html
    contact.refresh_from_db()
    assert contact.custom["seats"] == 12

    page = client.get(reverse("contacts:contact-detail", args=[contact.public_id]))
    assert "Gold" in page.content.decode()
    persian = client_for(personas.rep_a)
    persian.cookies["django_language"] = "fa"
    fa_form = persian.get(url, headers={"Accept-Language": "fa"}).content.decode()
    assert "سطح" in fa_form or "Tier" in fa_form


def test_creating_a_contact_from_the_full_form(personas):
    custom_field_create(
        actor=personas.admin,
        entity="contact",
        key="code",
        label_en="Code",
        kind="text",
        required=True,
    )
    client = client_for(personas.rep_a)
    url = reverse("contacts:contact-create")
    missing = client.post(url, {"first_name": "Ali", "owner": str(personas.rep_a.public_id)})
    assert missing.status_code == 422
    assert "This field is required." in missing.content.decode()
    assert not Contact.objects.exists()
    done = client.post(
        url,
        {"first_name": "Ali", "owner": str(personas.rep_a.public_id), "custom_code": "A-1"},
    )
    assert done.status_code == 302
    assert Contact.objects.get().custom == {"code": "A-1"}
    assert client_for(personas.readonly).get(url).status_code == 403


def test_quick_add_note_and_call_show_on_the_timeline(personas, contact):
    client = client_for(personas.rep_a)
    add = reverse("records:timeline-add", args=["contact", contact.public_id])
    response = client.post(
        add, {"kind": "note", "body": "Prefers WhatsApp"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "timeline-changed" in response["HX-Trigger"]
    response = client.post(
        add,
        {
            "kind": "call",
            "subject": "Intro call",
            "outcome": "connected",
            "direction": "outbound",
            "minutes": "5",
        },
        headers={"HX-Request": "true"},
    )
    call = Activity.objects.get(kind="call")
    assert call.contact_id == contact.pk and call.done_at is not None
    assert call.outcome == "connected" and call.duration_seconds == 300
    note = Activity.objects.get(kind="note")
    assert note.subject == "Prefers WhatsApp" and note.owner == personas.rep_a

    task = client.post(add, {"kind": "task", "subject": "Send the quote"})
    assert "Choose the day." in task.content.decode()
    task = client.post(
        add, {"kind": "task", "subject": "Send the quote", "due": "2030/01/15", "time": "10:30"}
    )
    assert Activity.objects.get(kind="task").due_at is not None

    contact_update(actor=personas.rep_a, contact=contact, title="Director")
    html = client.get(reverse("records:timeline", args=["contact", contact.public_id])).content
    html = html.decode()
    assert "Intro call" in html and "Prefers WhatsApp" in html and "Send the quote" in html
    assert "Buyer" in html and "Director" in html  # the change, old → new
    assert 'id="quick-add"' in html


def test_company_page_lists_its_contacts_and_deals_panel(personas, contact):
    company = Company.objects.get(name="Pars Trading")
    client = client_for(personas.rep_a)
    html = client.get(reverse("contacts:company-detail", args=[company.public_id])).content
    assert "مریم احمدی" in html.decode()
    deals = client.get(reverse("records:deals", args=["company", company.public_id]))
    assert deals.status_code == 200
    assert "No deals yet." in deals.content.decode()
    edit = client.post(
        reverse("contacts:company-edit", args=[company.public_id]),
        {"name": "Pars Trading Co", "owner": str(personas.rep_a.public_id)},
    )
    assert edit.status_code == 302
    assert Company.objects.get(pk=company.pk).name == "Pars Trading Co"


def test_record_pages_stay_within_the_statement_budget(
    personas, contact, django_assert_max_num_queries
):
    client = client_for(personas.rep_a)
    url = reverse("contacts:contact-detail", args=[contact.public_id])
    client.get(url)
    with django_assert_max_num_queries(15):
        client.get(url)
    timeline = reverse("records:timeline", args=["contact", contact.public_id])
    client.get(timeline)
    with django_assert_max_num_queries(15):
        client.get(timeline)


def test_phones_are_shown_in_the_users_digits_and_dialled_in_latin_ones(personas, contact):
    from wasl.accounts.services import user_update
    from wasl.core.phones import format_phone

    user_update(actor=None, user=personas.rep_a, language="fa", digits="native")
    client = client_for(personas.rep_a)
    shown = format_phone("+989121234567").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    company = contact.primary_company

    page = client.get(reverse("contacts:contact-detail", args=[contact.public_id])).content
    listing = client.get(reverse("contacts:contact-list")).content.decode()
    company_create(actor=personas.rep_a, name="Tehran Co", phones=["+98 21 8888 1234"])
    companies = client.get(reverse("contacts:company-list")).content.decode()
    html = page.decode()

    assert shown in html and shown in listing
    assert format_phone("+989121234567") not in html + listing
    assert 'href="tel:+989121234567"' in html and 'href="https://wa.me/989121234567"' in html
    assert "۸۸۸۸" in companies and company is not None


def _form_data(client, url):
    """The edit form's current values, as a browser would post them back."""
    import re

    html = client.get(url).content.decode()
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    return html, data


def test_important_dates_are_entered_changed_and_cleared_on_the_edit_form(personas, contact):
    import datetime as dt

    from wasl.accounts.services import organisation_update
    from wasl.contacts.models import ImportantDate
    from wasl.core.models import AuditEntry

    organisation_update(actor=None, calendar="jalali")
    client = client_for(personas.rep_a)
    url = reverse("contacts:contact-edit", args=[contact.public_id])
    html, _ = _form_data(client, url)
    assert 'name="dates-0-kind"' in html and 'name="dates-TOTAL_FORMS"' in html
    base = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company": "Pars Trading",
        "phones": "+98 912 123 4567",
        "emails": "maryam@example.com",
        "owner": str(personas.rep_a.public_id),
        "dates-TOTAL_FORMS": "2",
        "dates-INITIAL_FORMS": "0",
    }

    response = client.post(
        url,
        {
            **base,
            "dates-0-kind": "contract_end",
            "dates-0-date": "1405/12/29",
            "dates-0-label": "",
            "dates-1-kind": "renewal",
            "dates-1-date": "",
        },
    )
    assert response.status_code == 422  # a kind without a date
    assert not ImportantDate.objects.exists()

    response = client.post(
        url, {**base, "dates-0-kind": "contract_end", "dates-0-date": "1405/12/29"}
    )
    assert response.status_code == 302
    (saved,) = ImportantDate.objects.filter(contact=contact)
    assert (saved.kind, saved.date) == ("contract_end", dt.date(2027, 3, 20))
    audit = AuditEntry.objects.filter(object_id=contact.pk, action="update").latest("id")
    assert "important_dates" in audit.changes
    page = client.get(reverse("contacts:contact-detail", args=[contact.public_id])).content
    assert "Contract end" in page.decode()

    # The row comes back filled; clearing it removes the date.
    html, _ = _form_data(client, url)
    assert 'value="1405/12/29"' in html
    client.post(url, {**base, "dates-TOTAL_FORMS": "3", "dates-INITIAL_FORMS": "1"})
    assert not ImportantDate.objects.filter(contact=contact).exists()


def test_a_company_takes_important_dates_and_shows_them(personas, contact):
    import datetime as dt

    company = contact.primary_company
    client = client_for(personas.rep_a)
    url = reverse("contacts:company-edit", args=[company.public_id])
    response = client.post(
        url,
        {
            "name": company.name,
            "owner": str(personas.rep_a.public_id),
            "dates-TOTAL_FORMS": "2",
            "dates-INITIAL_FORMS": "0",
            "dates-0-kind": "renewal",
            "dates-0-date": "2027-01-15",
            "dates-0-label": "Licence renewal",
        },
    )
    assert response.status_code == 302
    assert company.important_dates.get().date == dt.date(2027, 1, 15)
    page = client.get(reverse("contacts:company-detail", args=[company.public_id])).content
    assert "Licence renewal" in page.decode()


def test_a_new_company_takes_important_dates_with_an_audit_row(personas):
    import datetime as dt

    from wasl.contacts.models import Company
    from wasl.core.audit import entries_for

    client = client_for(personas.rep_a)
    form = client.get(reverse("contacts:company-create")).content.decode()
    assert 'name="dates-0-date"' in form
    response = client.post(
        reverse("contacts:company-create"),
        {
            "name": "Kavir Trading",
            "owner": str(personas.rep_a.public_id),
            "dates-TOTAL_FORMS": "2",
            "dates-INITIAL_FORMS": "0",
            "dates-0-kind": "contract_end",
            "dates-0-date": "2027-03-01",
            "dates-0-label": "Supply contract",
        },
    )
    assert response.status_code == 302
    company = Company.objects.get(name="Kavir Trading")
    assert [(d.kind, d.date) for d in company.important_dates.all()] == [
        ("contract_end", dt.date(2027, 3, 1))
    ]
    created = entries_for(company).get()
    assert created.changes["important_dates"][1] == ["contract_end 2027-03-01 Supply contract"]


def test_a_bad_important_date_on_a_new_company_writes_nothing(personas):
    from wasl.contacts.models import Company

    response = client_for(personas.rep_a).post(
        reverse("contacts:company-create"),
        {
            "name": "Kavir Trading",
            "owner": str(personas.rep_a.public_id),
            "dates-TOTAL_FORMS": "1",
            "dates-INITIAL_FORMS": "0",
            "dates-0-kind": "renewal",
            "dates-0-date": "not a date",
        },
    )
    assert response.status_code == 422
    assert not Company.objects.filter(name="Kavir Trading").exists()


@pytest.mark.parametrize(
    ("language", "comma"), [("en", "Tehran, Tehran Province"), ("fa", "Tehran، Tehran Province")]
)
def test_the_address_joins_city_and_region_with_the_languages_comma(personas, language, comma):
    from wasl.accounts.services import user_update

    user_update(actor=None, user=personas.rep_a, language=language)
    company = company_create(
        actor=personas.rep_a, name="Pars", city="Tehran", region="Tehran Province"
    )
    html = client_for(personas.rep_a).get(
        reverse("contacts:company-detail", args=[company.public_id])
    )
    assert comma in html.content.decode()
