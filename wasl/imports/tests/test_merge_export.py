"""Duplicates, merges (and their undo), exports and the round trip, the API."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import override_settings

from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.contacts.models import Contact, ContactCompany, ContactPoint, ImportantDate
from wasl.contacts.services import company_create, contact_create
from wasl.core.models import AuditEntry, SearchEntry
from wasl.deals.models import Deal
from wasl.deals.services import deal_create, pipeline_ensure_default
from wasl.imports.duplicates import duplicate_scan, possible_duplicates
from wasl.imports.exports import export_to_file, neutralise
from wasl.imports.merge import contact_merge, merge_undo
from wasl.imports.models import DuplicatePair, ExportJob, ImportJob
from wasl.imports.services import import_file
from wasl.leads.models import Lead
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "automation", "messages"],
    }
}


def snapshot() -> dict[str, list]:
    return {
        "contacts": sorted(
            Contact.objects.values_list(
                "pk",
                "public_id",
                "first_name",
                "last_name",
                "name_key",
                "title",
                "custom",
                "owner_id",
                "primary_company_id",
                "updated_at",
            )
        ),
        "points": sorted(
            ContactPoint.objects.values_list("pk", "kind", "value", "contact_id", "company_id")
        ),
        "members": sorted(
            ContactCompany.objects.values_list("pk", "contact_id", "company_id", "is_primary")
        ),
        "activities": sorted(Activity.objects.values_list("pk", "contact_id")),
        "deal_contacts": sorted(Deal.contacts.through.objects.values_list("deal_id", "contact_id")),
        "leads": sorted(Lead.objects.values_list("pk", "converted_contact_id")),
        "dates": sorted(ImportantDate.objects.values_list("pk", "contact_id")),
        "tags": sorted(Contact.tags.through.objects.values_list("contact_id", "tag_id")),
        "search": sorted(
            SearchEntry.objects.filter(kind="contact").values_list("object_id", "title", "text")
        ),
    }


@pytest.fixture
def twins(personas):
    acme = company_create(actor=personas.rep_a, name="Acme")
    other = company_create(actor=personas.rep_a, name="Other Co")
    a = contact_create(
        actor=personas.rep_a,
        first_name="Ali",
        last_name="Rezaei",
        emails=["ali@example.com"],
        phones=["09121234567"],
        company=acme,
        tags=["vip"],
        title="",
    )
    b = contact_create(
        actor=personas.rep_a,
        first_name="Ali",
        last_name="Rezaee",
        emails=["ali@example.com", "ali.r@example.com"],
        company=acme,
        tags=["vip", "tehran"],
        title="CEO",
        important_dates=[{"kind": "renewal", "date": dt.date(2027, 1, 1)}],
    )
    from wasl.contacts.services import contact_link_company

    contact_link_company(actor=personas.rep_a, contact=b, company=other)
    pipeline_ensure_default()
    deal = deal_create(actor=personas.rep_a, title="Big deal", contacts=[b])
    activity_create(actor=personas.rep_a, kind="note", subject="Met", contact=b)
    lead = lead_create(actor=personas.rep_a, first_name="Ali", last_name="Rezaee")
    Lead.objects.filter(pk=lead.pk).update(converted_contact=b, status="converted")
    return a, b, deal


def test_possible_duplicates_warn_with_score_and_reasons(personas, twins):
    a, b, _deal = twins
    found = possible_duplicates(
        personas.rep_a,
        "contact",
        {"first_name": "Ali", "last_name": "Rezai", "emails": ["ALI@example.com"]},
    )
    assert [c.record.pk for c in found][:2] == sorted([a.pk, b.pk])
    assert "email" in found[0].reasons and found[0].score >= 60
    # Another rep sees neither.
    assert possible_duplicates(personas.rep_c, "contact", {"emails": ["ali@example.com"]}) == []


def test_scan_stores_pairs_and_keeps_dismissed_ones(personas, twins):
    a, b, _deal = twins
    result = duplicate_scan(kind="contact")
    assert result["pairs"] == 1
    pair = DuplicatePair.objects.get()
    assert (pair.first_id, pair.second_id) == (a.pk, b.pk) and "email" in pair.reasons
    pair.status = "dismissed"
    pair.save()
    duplicate_scan(kind="contact")
    assert DuplicatePair.objects.filter(status="open").count() == 0


def test_merge_moves_everything_and_undo_restores_it(personas, twins):
    a, b, deal = twins
    before = snapshot()
    entry = contact_merge(
        actor=personas.rep_a, survivor=a, others=[b], field_choices={"last_name": str(b.public_id)}
    )
    a.refresh_from_db()
    assert not Contact.objects.filter(pk=b.pk).exists()
    assert a.last_name == "Rezaee" and a.title == "CEO"
    assert sorted(a.points.values_list("value", flat=True)) == [
        "+989121234567",
        "ali.r@example.com",
        "ali@example.com",
    ]
    assert list(deal.contacts.all()) == [a]
    assert Activity.objects.get(subject="Met").contact_id == a.pk
    assert Lead.objects.get().converted_contact_id == a.pk
    assert ImportantDate.objects.get().contact_id == a.pk
    assert sorted(a.tags.values_list("name", flat=True)) == ["tehran", "vip"]
    assert sorted(a.companies.values_list("name", flat=True)) == ["Acme", "Other Co"]
    assert entry.action == AuditEntry.Action.MERGE and entry.data["merged"] == [str(b.public_id)]
    merge_undo(actor=personas.rep_a, audit_entry=entry)
    assert snapshot() == before
    with pytest.raises(Exception, match="already been undone"):
        merge_undo(actor=personas.rep_a, audit_entry=entry)


def test_a_rep_cannot_merge_another_reps_contact(personas, twins):
    from wasl.core.errors import Forbidden

    a, _b, _deal = twins
    theirs = contact_create(actor=personas.rep_b, first_name="X", last_name="Y")
    with pytest.raises(Forbidden):
        contact_merge(actor=personas.rep_a, survivor=a, others=[theirs])


def test_export_neutralises_formulas_and_round_trips(personas, tmp_path, shared_data):
    payloads = [
        p
        for p in (
            shared_data
            / "adversarial-strings/payloadsallthethings/csv-injection/formula-payloads.txt"
        )
        .read_text()
        .splitlines()
        if p.strip()
    ]
    assert (
        neutralise("=1+1") == "'=1+1"
        and neutralise("+98912") == "'+98912"
        and neutralise("ok") == "ok"
    )
    acme = company_create(actor=personas.rep_a, name="Acme")
    for i, payload in enumerate(payloads):
        contact_create(
            actor=personas.rep_a,
            first_name=payload[:120],
            last_name=f"N{i}",
            emails=[f"p{i}@example.com"],
            phones=[f"0912000{i:04d}"],
            company=acme,
            tags=["x", "y"],
            notes=payload,
            birthday=dt.date(1990, 1, 2),
            city="Tehran",
            country="IR",
            source="referral",
        )
    path = tmp_path / "out.csv"
    rows = export_to_file(actor=personas.rep_a, target="contacts", file_format="csv", path=path)
    assert rows == len(payloads)
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    def state():
        return sorted(
            (
                c.first_name,
                c.last_name,
                c.notes,
                str(c.birthday),
                c.city,
                c.country,
                c.source,
                c.primary_company.name,
                tuple(sorted(c.tags.values_list("name", flat=True))),
                tuple(c.points.values_list("kind", "label", "value")),
            )
            for c in Contact.objects.select_related("primary_company")
        )

    exported = state()
    Contact.objects.all().delete()
    job = import_file(actor=personas.rep_a, path=path, target="contacts")
    assert job.created == len(payloads) and job.failed == 0, list(
        job.row_errors.values_list("reason", flat=True)
    )
    assert state() == exported


def test_xlsx_and_vcard_exports_read_back(personas, tmp_path):
    contact_create(
        actor=personas.rep_a,
        first_name="مریم",
        last_name="احمدی",
        emails=["m@example.ir"],
        phones=[{"value": "09351234567", "label": "mobile"}],
    )
    for file_format in ("xlsx", "vcf"):
        path = tmp_path / f"out.{file_format}"
        assert (
            export_to_file(
                actor=personas.rep_a, target="contacts", file_format=file_format, path=path
            )
            == 1
        )
        Contact.objects.all().delete()
        job = import_file(actor=personas.rep_a, path=path, target="contacts")
        assert job.created == 1, (
            file_format,
            list(job.row_errors.values_list("reason", flat=True)),
        )
        contact = Contact.objects.get()
        assert contact.full_name == "مریم احمدی"
        assert contact.points.get(kind="phone").label == "mobile"


def test_exports_show_only_what_the_user_sees(personas, tmp_path):
    contact_create(actor=personas.rep_a, first_name="Mine", last_name="A")
    contact_create(actor=personas.rep_b, first_name="Theirs", last_name="B")
    path = tmp_path / "mine.csv"
    assert (
        export_to_file(actor=personas.rep_a, target="contacts", file_format="csv", path=path) == 1
    )
    assert "Theirs" not in path.read_text()


@override_settings(TASKS=IMMEDIATE)
def test_api_import_run_errors_undo_and_export(
    personas, api_as, data_dir, django_capture_on_commit_callbacks
):
    api = api_as(personas.rep_a)
    with open(data_dir / "broken_rows.csv", "rb") as handle:
        response = api.client.post(
            "/api/v1/imports", {"file": handle, "target": "contacts"}, headers=api._headers()
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["status"] == "checked" and body["dry_run"]["failed"] == 4 and len(body["errors"]) == 4
    )
    assert Contact.objects.count() == 0
    job_id = body["id"]
    assert api_as(personas.rep_b).get(f"imports/{job_id}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"imports/{job_id}/run")
    assert response.status_code == 202
    body = api.get(f"imports/{job_id}").json()
    assert body["status"] == "done" and body["created"] == 3
    errors = api.client.get(f"/api/v1/imports/{job_id}/errors.csv", headers=api._headers())
    assert errors.status_code == 200 and b"not-an-email" in b"".join(errors.streaming_content)
    assert api.post(f"imports/{job_id}/run").status_code == 409
    assert api.post(f"imports/{job_id}/undo").json()["status"] == "undone"
    assert Contact.objects.count() == 0
    with open(data_dir / "not_a_table.bin", "rb") as handle:
        response = api.client.post(
            "/api/v1/imports", {"file": handle, "target": "contacts"}, headers=api._headers()
        )
    assert response.status_code == 422 and "file" in response.json()["error"]["fields"]
    readonly = api_as(personas.readonly)
    with open(data_dir / "broken_rows.csv", "rb") as handle:
        assert (
            readonly.client.post(
                "/api/v1/imports",
                {"file": handle, "target": "contacts"},
                headers=readonly._headers(),
            ).status_code
            == 403
        )
    contact_create(actor=personas.rep_a, first_name="Exported", last_name="One")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("exports", {"target": "contacts", "format": "csv"})
    assert response.status_code == 202
    export = api.get(f"exports/{response.json()['id']}").json()
    assert export["status"] == "done" and export["rows"] == 1
    download = api.client.get(export["download"], headers=api._headers())
    assert download.status_code == 200 and b"Exported" in b"".join(download.streaming_content)
    assert api_as(personas.rep_b).get(f"exports/{export['id']}").status_code == 404
    assert ExportJob.objects.count() == 1 and ImportJob.objects.count() == 1


def test_api_mappings_duplicates_and_merges(personas, api_as, twins):
    a, b, _deal = twins
    api = api_as(personas.rep_a)
    response = api.post(
        "import-mappings",
        {"name": "Phone book", "target": "contacts", "columns": {"Name": "full_name"}},
    )
    assert response.status_code == 201
    assert [m["name"] for m in api.get("import-mappings").json()] == ["Phone book"]
    assert (
        api.post("import-mappings", {"name": "", "target": "contacts", "columns": {}}).status_code
        == 422
    )
    response = api.post("duplicates/check", {"kind": "contact", "emails": ["ali@example.com"]})
    assert response.status_code == 200 and len(response.json()) == 2
    duplicate_scan(kind="contact")
    assert len(api.get("duplicates", kind="contact").json()) == 1
    assert api_as(personas.rep_c).get("duplicates", kind="contact").json() == []
    response = api.post(
        "merges",
        {"kind": "contact", "survivor_id": str(a.public_id), "other_ids": [str(b.public_id)]},
    )
    assert response.status_code == 201, response.content
    audit_id = response.json()["audit_id"]
    assert api_as(personas.rep_c).post(f"merges/{audit_id}/undo").status_code == 404
    assert api.post(f"merges/{audit_id}/undo").status_code == 200
    assert Contact.objects.filter(pk=b.pk).exists()
    assert api.get("duplicates", kind="contact").json()[0]["score"] >= 50
