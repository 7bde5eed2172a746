"""Lead services: validation, status, tags, custom fields, ownership, audit and events."""

from __future__ import annotations

import pytest

from wasl.contacts.models import Tag
from wasl.contacts.services import custom_field_create
from wasl.core.errors import Conflict, Forbidden, Invalid
from wasl.core.models import AuditEntry, OutboxEvent, SearchEntry
from wasl.leads.models import Lead
from wasl.leads.services import (
    lead_convert,
    lead_create,
    lead_delete,
    lead_set_status,
    lead_update,
)
from wasl.leads.tests.factories import lead_audits, lead_events, make_lead

pytestmark = pytest.mark.django_db


def invalid_fields(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as caught:
        call(**kwargs)
    return caught.value.fields


def test_a_rep_creates_a_lead_they_own_in_their_team(personas):
    lead = make_lead(personas.rep_a, company_name="Parsian", source="web_form")
    assert lead.owner == personas.rep_a
    assert lead.team_id == personas.rep_a.team_id
    assert lead.status == Lead.Status.NEW
    assert lead.source == "web_form"
    assert lead.score == 0


def test_source_defaults_to_other(personas):
    assert make_lead(personas.rep_a).source == "other"


def test_email_is_validated_and_lowercased(personas):
    lead = make_lead(personas.rep_a, email="  Sara.Ahmadi@Example.COM ")
    assert lead.email == "sara.ahmadi@example.com"


def test_an_invalid_email_is_refused_and_nothing_is_written(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", email="not-an-email")
    assert list(fields) == ["email"]
    assert not Lead.objects.exists()
    assert not AuditEntry.objects.filter(action="create", object_repr="X").exists()


def test_a_phone_in_persian_digits_is_stored_in_e164_with_its_digits(personas):
    lead = make_lead(personas.rep_a, phone="۰۹۱۲ ۳۴۵ ۶۷۸۹")
    assert lead.phone == "+989123456789"
    assert lead.phone_digits == "9123456789"


def test_an_impossible_phone_is_refused(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", phone="12")
    assert "phone" in fields


def test_an_unknown_source_is_refused(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", source="carrier")
    assert "source" in fields


def test_the_country_is_a_two_letter_code(personas):
    assert make_lead(personas.rep_a, country="ir").country == "IR"
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", country="Iran")
    assert "country" in fields


def test_a_too_long_name_is_refused(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, first_name="x" * 121)
    assert "first_name" in fields


def test_a_lead_needs_a_name_a_company_an_email_or_a_phone(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, city="Tehran")
    assert "__all__" in fields
    for only in (
        {"first_name": "Sara"},
        {"company_name": "Parsian"},
        {"email": "a@example.com"},
        {"phone": "09123456789"},
    ):
        assert lead_create(actor=personas.rep_a, **only).pk


def test_every_invalid_field_is_reported_at_once(personas):
    fields = invalid_fields(
        lead_create,
        actor=personas.rep_a,
        last_name="X",
        email="bad",
        phone="1",
        source="nope",
        status="won",
    )
    assert {"email", "phone", "source", "status"} <= set(fields)


def test_disqualifying_needs_a_reason(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", status="disqualified")
    assert "disqualify_reason" in fields
    lead = make_lead(personas.rep_a)
    fields = invalid_fields(lead_set_status, actor=personas.rep_a, lead=lead, status="disqualified")
    assert "disqualify_reason" in fields
    lead.refresh_from_db()
    assert lead.status == "new"


def test_a_status_change_is_audited_and_announced(personas):
    lead = make_lead(personas.rep_a)
    lead_set_status(actor=personas.rep_a, lead=lead, status="disqualified", reason="No budget")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "No budget")
    event = OutboxEvent.objects.filter(name="lead.status_changed").get()
    assert event.data == {
        "id": str(lead.public_id),
        "from": "new",
        "to": "disqualified",
        "reason": "No budget",
    }
    audit = lead_audits(lead.pk, "update").get()
    assert audit.changes["status"] == ["new", "disqualified"]
    lead_set_status(actor=personas.rep_a, lead=lead, status="qualified")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("qualified", "")


def test_converted_is_reached_only_by_converting(personas):
    lead = make_lead(personas.rep_a)
    fields = invalid_fields(lead_set_status, actor=personas.rep_a, lead=lead, status="converted")
    assert "status" in fields
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", status="converted")
    assert "status" in fields


def test_a_converted_lead_keeps_its_status(personas):
    lead = make_lead(personas.rep_a)
    lead_convert(actor=personas.rep_a, lead=lead)
    with pytest.raises(Conflict):
        lead_set_status(actor=personas.rep_a, lead=lead, status="new")
    lead_update(actor=personas.rep_a, lead=lead, notes="Met at the fair")
    lead.refresh_from_db()
    assert (lead.status, lead.notes) == ("converted", "Met at the fair")


def test_tags_are_resolved_by_their_normalised_name(personas):
    first = make_lead(personas.rep_a, tags=["مشتري ويژه", "VIP"])
    second = make_lead(personas.rep_a, tags=["مشتری ویژه", "vip "])
    assert Tag.objects.count() == 2
    assert set(first.tags.all()) == set(second.tags.all())
    lead_update(actor=personas.rep_a, lead=first, tags=["Expo"])
    assert sorted(first.tags.values_list("name", flat=True)) == ["Expo"]


def test_a_too_long_tag_is_refused_and_no_tag_is_left_behind(personas):
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X", tags=["ok", "x" * 81])
    assert "tags" in fields
    assert not Tag.objects.exists()
    assert not Lead.objects.exists()


def test_custom_values_are_validated_against_the_lead_definitions(personas):
    custom_field_create(actor=None, entity="lead", key="budget", label_en="Budget", kind="number")
    lead = make_lead(personas.rep_a, custom={"budget": "1,500"})
    assert lead.custom == {"budget": 1500}
    fields = invalid_fields(
        lead_create, actor=personas.rep_a, last_name="X", custom={"budget": "lots", "nope": 1}
    )
    assert set(fields) == {"custom.budget", "custom.nope"}
    lead_update(actor=personas.rep_a, lead=lead, custom={"budget": 2000})
    lead.refresh_from_db()
    assert lead.custom == {"budget": 2000}


def test_a_required_custom_field_must_be_given_on_create(personas):
    custom_field_create(
        actor=None, entity="lead", key="channel", label_en="Channel", kind="text", required=True
    )
    fields = invalid_fields(lead_create, actor=personas.rep_a, last_name="X")
    assert "custom.channel" in fields


def test_only_admins_and_managers_set_the_score(personas):
    with pytest.raises(Forbidden):
        make_lead(personas.rep_a, score=50)
    lead = make_lead(personas.rep_a)
    with pytest.raises(Forbidden):
        lead_update(actor=personas.rep_a, lead=lead, score=10)
    lead_update(actor=personas.manager_a, lead=lead, score=70)
    lead.refresh_from_db()
    assert lead.score == 70
    fields = invalid_fields(lead_update, actor=personas.admin, lead=lead, score="high")
    assert "score" in fields


def test_read_only_users_cannot_create_or_change_leads(personas):
    with pytest.raises(Forbidden):
        make_lead(personas.readonly)
    lead = make_lead(personas.rep_a)
    with pytest.raises(Forbidden):
        lead_update(actor=personas.readonly, lead=lead, notes="x")


def test_a_rep_cannot_give_a_lead_to_another_rep(personas):
    with pytest.raises(Forbidden):
        make_lead(personas.rep_a, owner=personas.rep_b)


def test_reassigning_moves_the_team_and_is_audited_as_assign(personas):
    lead = make_lead(personas.rep_a)
    lead_update(actor=personas.admin, lead=lead, owner=personas.rep_c)
    lead.refresh_from_db()
    assert (lead.owner, lead.team_id) == (personas.rep_c, personas.rep_c.team_id)
    audit = lead_audits(lead.pk, "assign").get()
    assert list(audit.changes) == ["owner"]
    assert SearchEntry.objects.get(kind="lead", object_id=lead.pk).team_id == personas.rep_c.team_id


def test_creating_writes_audit_event_and_search_entry(personas):
    lead = make_lead(
        personas.rep_a,
        company_name="Parsian",
        email="sara@example.com",
        phone="09123456789",
        tags=["Expo"],
    )
    audit = lead_audits(lead.pk, "create").get()
    assert audit.changes["email"] == [None, "sara@example.com"]
    assert audit.changes["tags"] == [None, ["Expo"]]
    assert lead_events(lead.pk, "lead.created").count() == 1
    entry = SearchEntry.objects.get(kind="lead", object_id=lead.pk)
    assert (entry.title, entry.subtitle) == ("Sara Ahmadi", "Parsian")
    assert "sara@example.com" in entry.text
    assert "9123456789" in entry.text
    assert "expo" in entry.text


def test_a_company_only_lead_is_indexed_under_the_company_name(personas):
    lead = lead_create(actor=personas.rep_a, company_name="Parsian")
    assert SearchEntry.objects.get(kind="lead", object_id=lead.pk).title == "Parsian"


def test_an_update_records_only_what_changed(personas):
    lead = make_lead(personas.rep_a, city="Tehran")
    lead_update(actor=personas.rep_a, lead=lead, city="Shiraz", first_name="Sara")
    audit = lead_audits(lead.pk, "update").get()
    assert audit.changes == {"city": ["Tehran", "Shiraz"]}
    event = OutboxEvent.objects.filter(name="lead.updated").get()
    assert event.data["fields"] == ["city"]
    lead_update(actor=personas.rep_a, lead=lead, city="Shiraz")
    assert OutboxEvent.objects.filter(name="lead.updated").count() == 1


def test_an_invalid_update_writes_nothing(personas):
    lead = make_lead(personas.rep_a, email="a@example.com")
    fields = invalid_fields(
        lead_update, actor=personas.rep_a, lead=lead, email="broken", tags=["New tag"]
    )
    assert "email" in fields
    lead.refresh_from_db()
    assert lead.email == "a@example.com"
    assert not Tag.objects.exists()
    assert not lead_audits(lead.pk, "update").exists()


def test_clearing_every_identity_field_is_refused(personas):
    lead = lead_create(actor=personas.rep_a, email="a@example.com")
    fields = invalid_fields(lead_update, actor=personas.rep_a, lead=lead, email="")
    assert "__all__" in fields


def test_deleting_a_lead_is_audited_announced_and_unindexed(personas):
    lead = make_lead(personas.rep_a)
    pk = lead.pk
    lead_delete(actor=personas.rep_a, lead=lead)
    assert not Lead.objects.filter(pk=pk).exists()
    assert lead_audits(pk, "delete").exists()
    assert lead_events(pk, "lead.deleted").exists()
    assert not SearchEntry.objects.filter(kind="lead", object_id=pk).exists()


def test_a_converted_lead_cannot_be_deleted(personas):
    lead = make_lead(personas.rep_a)
    lead_convert(actor=personas.rep_a, lead=lead)
    with pytest.raises(Conflict):
        lead_delete(actor=personas.rep_a, lead=lead)
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_operator_may_create_leads_for_anyone(personas):
    lead = lead_create(actor=None, owner=personas.rep_c, last_name="Karimi", score=10)
    assert (lead.owner, lead.team_id, lead.score) == (
        personas.rep_c,
        personas.rep_c.team_id,
        10,
    )
    with pytest.raises(Invalid):
        lead_create(actor=None, last_name="Nobody")
