"""'Not a duplicate' (dismiss and restore a pair) and undoing a merge from the record's
timeline: services, API and pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from wasl.contacts.models import Contact
from wasl.contacts.services import contact_create
from wasl.core.errors import Forbidden, Invalid, NotFound
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.imports.duplicates import (
    dismissed_pair_list,
    duplicate_dismiss,
    duplicate_restore,
    duplicate_scan,
    pair_list,
    possible_duplicates,
)
from wasl.imports.merge import contact_merge, merge_undo, merge_undo_allowed
from wasl.imports.models import DuplicatePair
from wasl.imports.tests.test_merge_export import twins  # noqa: F401

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pair_audits() -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type__model="duplicatepair").order_by("created_at", "id")
    )


@pytest.fixture
def stranger(personas):
    """A record of rep_b's that looks like rep_a's Ali (same e-mail)."""
    return contact_create(
        actor=personas.rep_b, first_name="Ali", last_name="Rezaei", emails=["ali@example.com"]
    )


# ---------------------------------------------------------------- services


def test_dismiss_keeps_the_pair_in_order_with_who_and_when_and_an_audit_row(
    personas,
    twins,  # noqa: F811
):
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    assert len(pair_list(actor=personas.rep_a, kind="contact")) == 1
    # Given in reverse order, stored as (lower id, higher id) on the scan's own row.
    pair = duplicate_dismiss(actor=personas.rep_a, kind="contact", first=b, second=a)
    assert (pair.first_id, pair.second_id) == (a.pk, b.pk)
    assert DuplicatePair.objects.count() == 1
    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.dismissed_by == personas.rep_a
    assert pair.dismissed_at is not None
    [audit] = pair_audits()
    assert audit.actor == personas.rep_a and audit.action == "update"
    assert audit.changes == {"status": ["open", "dismissed"]}
    assert audit.data == {
        "kind": "contact",
        "first_id": str(a.public_id),
        "second_id": str(b.public_id),
    }
    assert pair_list(actor=personas.rep_a, kind="contact") == []
    [event] = OutboxEvent.objects.filter(name="contact.duplicate_dismissed")
    assert event.object_id == a.pk and event.actor_id == personas.rep_a.pk
    assert event.data == {"id": str(a.public_id), "other_id": str(b.public_id)}
    # Saying it twice changes nothing.
    duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    assert len(pair_audits()) == 1
    assert OutboxEvent.objects.filter(name="contact.duplicate_dismissed").count() == 1


def test_a_pair_never_scanned_can_be_dismissed_with_its_score(personas, twins):  # noqa: F811
    a, b, _deal = twins
    pair = duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    assert pair.status == "dismissed" and pair.score >= 60 and "email" in pair.reasons
    assert pair_audits()[0].changes == {"status": ["", "dismissed"]}


def test_dismissed_pairs_never_come_back_in_the_scan_or_the_check(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    result = duplicate_scan(kind="contact")
    assert result["pairs"] == 0
    pair = DuplicatePair.objects.get()
    assert pair.status == "dismissed" and pair.dismissed_by == personas.rep_a
    assert pair_list(actor=personas.rep_a, kind="contact") == []
    data = {"first_name": "Ali", "last_name": "Rezaei", "emails": ["ali@example.com"]}
    # The check for a new record still names both (neither was dismissed with it)...
    assert {c.record.pk for c in possible_duplicates(personas.rep_a, "contact", data)} == {
        a.pk,
        b.pk,
    }
    # ... but the check on `a` itself leaves out `a` and the record dismissed with it.
    assert possible_duplicates(personas.rep_a, "contact", data, record=a) == []
    third = contact_create(
        actor=personas.rep_a, first_name="Ali", last_name="Rezaei", emails=["ali@example.com"]
    )
    found = possible_duplicates(personas.rep_a, "contact", data, record=a)
    assert [c.record.pk for c in found] == [third.pk]
    duplicate_scan(kind="contact")
    open_pairs = set(
        DuplicatePair.objects.filter(status="open").values_list("first_id", "second_id")
    )
    assert open_pairs == {(a.pk, third.pk), (b.pk, third.pk)}


def test_only_a_user_who_may_change_both_records_dismisses(personas, twins, stranger):  # noqa: F811
    a, b, _deal = twins
    with pytest.raises(Forbidden):
        duplicate_dismiss(actor=personas.readonly, kind="contact", first=a, second=b)
    with pytest.raises(Forbidden):
        duplicate_dismiss(actor=personas.rep_b, kind="contact", first=a, second=stranger)
    with pytest.raises(Forbidden):
        duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=stranger)
    # The manager of both reps' team may.
    duplicate_dismiss(actor=personas.manager_a, kind="contact", first=a, second=stranger)
    with pytest.raises(Invalid):
        duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=a)
    with pytest.raises(Invalid):
        duplicate_dismiss(actor=personas.rep_a, kind="lead", first=a, second=b)
    assert DuplicatePair.objects.count() == 1 and len(pair_audits()) == 1


def test_an_administrator_lists_and_restores_dismissed_pairs(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    assert dismissed_pair_list(actor=personas.rep_a, kind="contact") == []
    [(pair, first, second)] = dismissed_pair_list(actor=personas.admin, kind="contact")
    assert (first.pk, second.pk) == (a.pk, b.pk)
    with pytest.raises(Forbidden):
        duplicate_restore(actor=personas.rep_a, kind="contact", first=a, second=b)
    with pytest.raises(Forbidden):
        duplicate_restore(actor=personas.manager_a, kind="contact", first=a, second=b)
    duplicate_restore(actor=personas.admin, kind="contact", first=b, second=a)
    pair.refresh_from_db()
    assert pair.status == "open" and pair.dismissed_by is None and pair.dismissed_at is None
    assert pair_audits()[-1].changes == {"status": ["dismissed", "open"]}
    assert pair_audits()[-1].actor == personas.admin
    [event] = OutboxEvent.objects.filter(name="contact.duplicate_restored")
    assert event.object_id == a.pk and event.actor_id == personas.admin.pk
    assert [p.pk for p, _a, _b in pair_list(actor=personas.rep_a, kind="contact")] == [pair.pk]
    # Restoring a pair that is not dismissed: nothing to restore.
    with pytest.raises(NotFound):
        duplicate_restore(actor=personas.admin, kind="contact", first=a, second=b)
    # The scan finds it again once it is open.
    duplicate_scan(kind="contact")
    assert DuplicatePair.objects.get().status == "open"


def test_merge_undo_is_allowed_to_who_may_change_the_survivor_until_undone(
    personas,
    twins,  # noqa: F811
):
    a, b, _deal = twins
    entry = contact_merge(actor=personas.rep_a, survivor=a, others=[b])
    assert merge_undo_allowed(personas.rep_a, entry)
    assert merge_undo_allowed(personas.manager_a, entry)
    assert not merge_undo_allowed(personas.readonly, entry)
    assert not merge_undo_allowed(personas.rep_c, entry)
    merge_undo(actor=personas.rep_a, audit_entry=entry)
    assert not merge_undo_allowed(personas.rep_a, entry)
    other = AuditEntry.objects.filter(object_id=a.pk, action="update").first()
    assert not merge_undo_allowed(personas.rep_a, other)


# ---------------------------------------------------------------- API


def test_api_dismiss_list_and_restore(personas, api_as, twins, stranger):  # noqa: F811
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    api = api_as(personas.rep_a)
    body = {"kind": "contact", "first_id": str(b.public_id), "second_id": str(a.public_id)}
    # A record the user cannot see is not found; one they see but may not change, refused.
    hidden = {**body, "second_id": str(stranger.public_id)}
    assert api.post("duplicates/dismiss", hidden).status_code == 404
    assert api_as(personas.readonly).post("duplicates/dismiss", body).status_code == 403
    assert api.post("duplicates/dismiss", {**body, "kind": "deal"}).status_code == 422
    response = api.post("duplicates/dismiss", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["first_id"], out["second_id"]) == (str(a.public_id), str(b.public_id))
    assert out["dismissed_by"] == str(personas.rep_a.public_id) and out["dismissed_at"]
    assert api.get("duplicates", kind="contact").json() == []
    check = {"kind": "contact", "emails": ["ali@example.com"], "id": str(a.public_id)}
    assert api.post("duplicates/check", check).json() == []
    assert len(api.post("duplicates/check", {**check, "id": None}).json()) == 2
    assert api.post("duplicates/check", {**check, "id": str(stranger.public_id)}).status_code == (
        404
    )
    # Only administrators list and restore.
    assert api.get("duplicates/dismissed", kind="contact").status_code == 403
    assert api.post("duplicates/restore", body).status_code == 403
    admin = api_as(personas.admin)
    [listed] = admin.get("duplicates/dismissed", kind="contact").json()
    assert listed["first_id"] == str(a.public_id) and listed["dismissed_by_name"]
    response = admin.post("duplicates/restore", body)
    assert response.status_code == 200 and response.json()["score"] >= 60
    assert len(api.get("duplicates", kind="contact").json()) == 1
    assert admin.post("duplicates/restore", body).status_code == 404


def test_the_openapi_documents_dismiss_and_restore(api_as, personas):
    spec = Client().get("/api/v1/openapi.json").json()
    for path in ("dismiss", "dismissed", "restore"):
        assert f"/api/v1/duplicates/{path}" in spec["paths"]
    assert "PairIn" in spec["components"]["schemas"]


# ---------------------------------------------------------------- pages


def test_the_duplicates_page_offers_not_a_duplicate_and_the_row_goes(
    personas,
    twins,  # noqa: F811
    django_assert_max_num_queries,
):
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    client = signed_in(personas.rep_a)
    url = reverse("imports:duplicates")
    with django_assert_max_num_queries(15):
        html = client.get(url, {"kind": "contact"}).content.decode()
    assert reverse("imports:duplicate-dismiss") in html and "Not a duplicate" in html
    assert "dismissed-pairs" not in html  # administrators only
    # The read-only member sees the pair but may not dismiss it.
    readonly = signed_in(personas.readonly)
    assert str(a.public_id) in readonly.get(url, {"kind": "contact"}).content.decode()
    assert "Not a duplicate" not in readonly.get(url, {"kind": "contact"}).content.decode()
    data = {"kind": "contact", "first": a.public_id, "second": b.public_id}
    assert readonly.post(reverse("imports:duplicate-dismiss"), data).status_code == 403
    assert signed_in(personas.rep_c).post(
        reverse("imports:duplicate-dismiss"), data
    ).status_code == (404)
    assert DuplicatePair.objects.get().status == "open"
    response = client.post(reverse("imports:duplicate-dismiss"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert "wasl:notice" in json.loads(response["HX-Trigger"])
    assert DuplicatePair.objects.get().status == "dismissed"
    assert "Not a duplicate" not in client.get(url, {"kind": "contact"}).content.decode()


def test_without_htmx_dismiss_returns_to_the_list_with_a_message(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    client = signed_in(personas.rep_a)
    data = {"kind": "contact", "first": a.public_id, "second": b.public_id}
    response = client.post(reverse("imports:duplicate-dismiss"), data, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('imports:duplicates')}?kind=contact"
    assert "will not be suggested again" in response.content.decode()
    assert client.get(reverse("imports:duplicate-dismiss")).status_code == 405


def test_an_administrator_restores_a_dismissed_pair_on_the_page(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    data = {"kind": "contact", "first": a.public_id, "second": b.public_id}
    assert signed_in(personas.rep_a).post(
        reverse("imports:duplicate-restore"), data
    ).status_code == (403)
    admin = signed_in(personas.admin)
    html = admin.get(reverse("imports:duplicates"), {"kind": "contact"}).content.decode()
    section = html.split('id="dismissed-pairs"')[1]
    assert str(a.public_id) in section and reverse("imports:duplicate-restore") in section
    assert "rep_a" in section or personas.rep_a.get_full_name() in section
    response = admin.post(reverse("imports:duplicate-restore"), data)
    assert response.status_code == 302
    assert DuplicatePair.objects.get().status == "open"
    html = admin.get(reverse("imports:duplicates"), {"kind": "contact"}).content.decode()
    assert "No pair of this kind has been dismissed." in html


def test_the_check_on_an_edited_record_leaves_out_dismissed_pairs(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_dismiss(actor=personas.rep_a, kind="contact", first=a, second=b)
    client = signed_in(personas.rep_a)
    url = reverse("imports:duplicate-check")
    query = {"kind": "contact", "emails": "ali@example.com"}
    assert "duplicate-warning" in client.get(url, query).content.decode()
    assert (
        "duplicate-warning"
        not in client.get(url, {**query, "record": a.public_id}).content.decode()
    )
    assert signed_in(personas.rep_c).get(url, {**query, "record": a.public_id}).status_code == 404


def test_the_survivors_timeline_offers_undo_of_the_merge(personas, twins):  # noqa: F811
    a, b, _deal = twins
    entry = contact_merge(actor=personas.rep_a, survivor=a, others=[b])
    timeline = reverse("records:timeline", args=["contact", a.public_id])
    undo_url = reverse("imports:merge-undo", args=[entry.pk])
    client = signed_in(personas.rep_a)
    html = client.get(timeline).content.decode()
    assert f'id="merge-undo-{entry.pk}"' in html and undo_url in html
    assert "Undo this merge" in html
    # The read-only member sees the timeline, without the action; nor may they undo.
    readonly = signed_in(personas.readonly)
    assert "Undo this merge" not in readonly.get(timeline).content.decode()
    assert readonly.post(undo_url).status_code == 403
    # Another team's rep sees neither the record nor its merge.
    assert signed_in(personas.rep_c).get(timeline).status_code == 404
    assert signed_in(personas.rep_c).post(undo_url).status_code == 404
    response = client.post(undo_url, follow=True)
    assert "The merge was undone." in response.content.decode()
    assert Contact.objects.filter(pk=b.pk).exists()
    # Undone: the action is gone from the timeline.
    assert "Undo this merge" not in client.get(timeline).content.decode()


def test_leads_and_companies_are_dismissed_with_the_scans_score(personas):
    from wasl.contacts.services import company_create
    from wasl.leads.services import lead_create

    one = lead_create(actor=personas.rep_a, first_name="Sara", last_name="Karimi", email="s@x.ir")
    two = lead_create(actor=personas.rep_a, first_name="Sara", last_name="Karimi", email="s@x.ir")
    duplicate_scan(kind="lead")
    scanned = DuplicatePair.objects.get(kind="lead")
    pair = duplicate_dismiss(actor=personas.rep_a, kind="lead", first=two, second=one)
    assert pair.pk == scanned.pk and pair.status == "dismissed"
    duplicate_scan(kind="lead")
    assert pair_list(actor=personas.rep_a, kind="lead") == []
    acme = company_create(actor=personas.rep_a, name="Acme Trading")
    again = company_create(actor=personas.rep_a, name="ACME trading")
    pair = duplicate_dismiss(actor=personas.rep_a, kind="company", first=acme, second=again)
    assert pair.reasons == ["name"] and pair.score == 40
    assert duplicate_scan(kind="company")["pairs"] == 0


def test_the_scans_pair_keys_keep_both_ids_and_refuse_ids_they_cannot_hold():
    from wasl.imports.duplicates import _PACK, _pack, _unpack

    assert _unpack(_pack(7, 1_000_000)) == (7, 1_000_000)
    assert _unpack(_pack(_PACK - 2, _PACK - 1)) == (_PACK - 2, _PACK - 1)
    with pytest.raises(OverflowError):
        _pack(1, _PACK)
