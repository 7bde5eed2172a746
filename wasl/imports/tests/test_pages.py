"""The import, duplicate, merge and export pages."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from wasl.accounts.services import user_update
from wasl.activities.models import Activity
from wasl.contacts.models import Contact, ContactPoint
from wasl.contacts.services import company_create, contact_create
from wasl.core.models import AuditEntry
from wasl.imports import exports
from wasl.imports.duplicates import duplicate_scan
from wasl.imports.models import DuplicatePair, ExportJob, ImportJob, ImportMapping
from wasl.imports.services import import_check
from wasl.imports.tests.test_imports import dump_tables
from wasl.imports.tests.test_merge_export import IMMEDIATE, snapshot, twins  # noqa: F401
from wasl.leads.models import Lead
from wasl.leads.services import lead_create

pytestmark = pytest.mark.django_db

CSV_TEXT = (
    "First name,Last name,Email,Phone,Tags\n"
    "Sara,Karimi,sara@example.com,+98 912 000 0001,vip;tehran\n"
    ",,nobody@example.com,,\n"
    "Bad,Email,not-an-email,,\n"
    "Reza,Ahmadi,reza@example.com,+98 912 000 0002,\n"
)


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def upload(client: Client, text: str = CSV_TEXT, name: str = "people.csv", **extra):
    data = {"file": SimpleUploadedFile(name, text.encode()), "target": "contacts", **extra}
    return client.post(reverse("imports:upload"), data)


def checked(user, text: str = CSV_TEXT, name: str = "people.csv") -> ImportJob:
    return import_check(
        actor=user, upload=io.BytesIO(text.encode()), filename=name, target="contacts"
    )


def mapping_post(job: ImportJob, **changes) -> dict:
    data = {f"col_{i}": job.columns.get(h, "") for i, h in enumerate(job.headers)}
    data.update(
        calendar="gregorian",
        date_order="dmy",
        tag_separators=";",
        on_duplicate="skip",
        match_on=["email", "phone"],
    )
    data.update(changes)
    return data


# ---------------------------------------------------------------- the import steps


def test_upload_keeps_the_file_and_shows_the_columns_with_examples_and_suggestions(personas):
    client = signed_in(personas.rep_a)
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.public_id])
    assert job.actor == personas.rep_a and job.status == "checked"
    assert Contact.objects.count() == 0
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "sara@example.com" in html and "Karimi" in html  # sample values
    # The automatic suggestion is preselected: "Email" → email.
    index = job.headers.index("Email")
    assert f'name="col_{index}"' in html
    select = html.split(f'name="col_{index}"')[1].split("</select>")[0]
    assert '<option value="email" selected>' in select


def test_an_unreadable_file_is_refused_on_the_form(personas, data_dir):
    client = signed_in(personas.rep_a)
    response = client.post(
        reverse("imports:upload"),
        {
            "file": SimpleUploadedFile("x.csv", (data_dir / "not_a_table.bin").read_bytes()),
            "target": "contacts",
        },
    )
    assert response.status_code == 422 and b"invalid-feedback" in response.content
    assert ImportJob.objects.count() == 0


def test_read_only_users_cannot_upload(personas):
    client = signed_in(personas.readonly)
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client).status_code == 403
    assert ImportJob.objects.count() == 0


def test_mapping_changes_recheck_the_file_and_save_a_named_mapping(personas):
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    assert job.dry_run["created"] == 2 and job.dry_run["failed"] == 2
    email = job.headers.index("Email")
    # Leaving the e-mail column out: "Bad Email" is no longer refused.
    response = client.post(
        reverse("imports:mapping", args=[job.public_id]),
        mapping_post(job, **{f"col_{email}": "", "saved_name": "Without e-mail"}),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.public_id])
    job.refresh_from_db()
    assert job.columns["Email"] == "" and job.options["tag_separators"] == ";"
    assert job.options["match_on"] == ["email", "phone"]
    assert job.dry_run["created"] == 3 and job.dry_run["failed"] == 1
    assert job.row_errors.filter(dry_run=True).count() == 1
    saved = ImportMapping.objects.get(name="Without e-mail")
    assert saved.columns["Email"] == "" and job.mapping == saved
    assert Contact.objects.count() == 0
    # A saved mapping applies to the form of another import.
    other = checked(personas.rep_a)
    page = client.get(
        reverse("imports:mapping", args=[other.public_id]), {"mapping": saved.public_id}
    )
    select = page.content.decode().split(f'name="col_{email}"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select


def test_a_bad_field_or_option_is_shown_on_the_form(personas):
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    response = client.post(
        reverse("imports:mapping", args=[job.public_id]),
        mapping_post(job, col_0="no_such_field", on_duplicate="explode"),
    )
    assert response.status_code == 422
    job.refresh_from_db()
    assert job.columns["First name"] == "first_name"


def test_the_check_page_shows_counts_and_refused_rows_before_anything_is_written(personas):
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    page = client.get(reverse("imports:detail", args=[job.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-count="created">2<' in html and 'data-count="failed">2<' in html
    assert "not-an-email" in html and reverse("imports:run", args=[job.public_id]) in html
    assert Contact.objects.count() == 0


@override_settings(TASKS=IMMEDIATE)
def test_run_shows_the_result_and_the_failed_rows_csv_holds_exactly_them(
    personas, django_capture_on_commit_callbacks
):
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:run", args=[job.public_id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and (job.created, job.failed) == (2, 2)
    page = client.get(reverse("imports:detail", args=[job.public_id]))
    html = page.content.decode()
    assert 'data-count="created">2<' in html and 'id="undo-link"' in html
    download = client.get(reverse("imports:errors-csv", args=[job.public_id]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Row", "Error", *job.headers]
    failed = list(job.row_errors.filter(dry_run=False).order_by("row"))
    assert len(rows) - 1 == job.failed == len(failed)
    assert [r[2:] for r in rows[1:]] == [[str(v) for v in e.values] for e in failed]
    assert [int(r[0]) for r in rows[1:]] == [e.row for e in failed]
    assert {r[2] for r in rows[1:]} == {"", "Bad"}
    # A second run is refused.
    client.post(reverse("imports:run", args=[job.public_id]))
    assert Contact.objects.count() == 2


@override_settings(TASKS=IMMEDIATE)
def test_undo_from_the_page_restores_the_database(personas, django_capture_on_commit_callbacks):
    existing = contact_create(
        actor=personas.rep_a, first_name="Sara", last_name="", emails=["sara@example.com"]
    )
    before = dump_tables()
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    client.post(
        reverse("imports:mapping", args=[job.public_id]), mapping_post(job, on_duplicate="update")
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run", args=[job.public_id]))
    job.refresh_from_db()
    assert (job.created, job.updated) == (1, 1)
    existing.refresh_from_db()
    assert existing.last_name == "Karimi"
    confirm = client.get(reverse("imports:undo", args=[job.public_id]))
    assert confirm.status_code == 200 and b'id="undo-form"' in confirm.content
    assert dump_tables() != before
    response = client.post(reverse("imports:undo", args=[job.public_id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "undone"
    assert dump_tables() == before
    page = client.get(reverse("imports:detail", args=[job.public_id]))
    assert b'id="undo-link"' not in page.content


def test_progress_is_polled_and_sends_the_browser_to_the_result_when_done(personas):
    client = signed_in(personas.rep_a)
    job = checked(personas.rep_a)
    ImportJob.objects.filter(pk=job.pk).update(status="running", total=4, processed=2)
    page = client.get(reverse("imports:detail", args=[job.public_id]))
    html = page.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="50"' in html
    ImportJob.objects.filter(pk=job.pk).update(status="done")
    partial = client.get(reverse("imports:progress", args=[job.public_id]), HTTP_HX_REQUEST="true")
    assert partial["HX-Redirect"] == reverse("imports:detail", args=[job.public_id])


def test_a_workbook_lists_its_sheets_and_another_one_can_be_read(personas, data_dir):
    client = signed_in(personas.rep_a)
    with open(data_dir / "contacts_fa.xlsx", "rb") as handle:
        client.post(reverse("imports:upload"), {"file": handle, "target": "contacts"})
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:mapping", args=[job.public_id]))
    assert "مشتریان" in page.content.decode() and b'id="sheet-form"' in page.content
    client.post(reverse("imports:sheet", args=[job.public_id]), {"sheet": "Notes"})
    job.refresh_from_db()
    assert job.sheet == "Notes" and job.headers == ["Header", "Other"]
    client.post(reverse("imports:sheet", args=[job.public_id]), {"sheet": "Missing"})
    job.refresh_from_db()
    assert job.sheet == "Notes"


def test_another_users_import_is_not_found_on_every_page(personas):
    job = checked(personas.rep_a)
    client = signed_in(personas.rep_b)
    for name in ("detail", "mapping", "progress", "errors-csv", "undo"):
        assert client.get(reverse(f"imports:{name}", args=[job.public_id])).status_code == 404
    for name in ("mapping", "sheet", "run", "undo"):
        assert client.post(reverse(f"imports:{name}", args=[job.public_id])).status_code == 404
    job.refresh_from_db()
    assert job.status == "checked"
    index = client.get(reverse("imports:index"))
    assert job.filename not in index.content.decode()
    admin_index = signed_in(personas.admin).get(reverse("imports:index"))
    assert job.filename in admin_index.content.decode()
    assert (
        reverse("imports:detail", args=[job.public_id])
        in signed_in(personas.rep_a).get(reverse("imports:index")).content.decode()
    )


def test_pages_cost_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    job = checked(personas.rep_a)
    for _n in range(3):
        checked(personas.rep_a)
    client = signed_in(personas.rep_a)
    client.get(reverse("imports:index"))  # warm the session and the organisation cache
    for url in (
        reverse("imports:index"),
        reverse("imports:detail", args=[job.public_id]),
        reverse("imports:mapping", args=[job.public_id]),
        reverse("imports:duplicates"),
    ):
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200


def test_posts_need_the_csrf_token(personas):
    job = checked(personas.rep_a)
    client = signed_in(personas.rep_a, enforce_csrf_checks=True)
    assert client.post(reverse("imports:run", args=[job.public_id])).status_code == 403
    assert client.post(reverse("imports:undo", args=[job.public_id])).status_code == 403
    assert (
        client.post(reverse("imports:mapping", args=[job.public_id]), mapping_post(job)).status_code
        == 403
    )
    job.refresh_from_db()
    assert job.status == "checked"
    for name in ("imports:export", "imports:duplicate-scan"):
        assert client.post(reverse(name), {"entity": "contact", "format": "csv"}).status_code == 403
    assert ExportJob.objects.count() == 0


def test_merge_and_undo_need_the_csrf_token(personas, twins):  # noqa: F811
    a, b, _deal = twins
    client = signed_in(personas.rep_a, enforce_csrf_checks=True)
    data = {"ids": [a.public_id, b.public_id], "survivor": a.public_id}
    assert client.post(reverse("imports:merge", args=["contact"]), data).status_code == 403
    assert Contact.objects.filter(pk=b.pk).exists()
    signed_in(personas.rep_a).post(reverse("imports:merge", args=["contact"]), data)
    entry = AuditEntry.objects.get(action="merge")
    assert client.post(reverse("imports:merge-undo", args=[entry.pk])).status_code == 403
    assert not Contact.objects.filter(pk=b.pk).exists()


def test_wrong_methods_are_refused(personas):
    job = checked(personas.rep_a)
    client = signed_in(personas.rep_a)
    assert client.get(reverse("imports:run", args=[job.public_id])).status_code == 405
    assert client.post(reverse("imports:detail", args=[job.public_id])).status_code == 405
    assert client.get(reverse("imports:export")).status_code == 405


# ---------------------------------------------------------------- duplicates and merges


def test_duplicates_page_lists_pairs_with_score_and_reasons(personas, twins):  # noqa: F811
    a, b, _deal = twins
    duplicate_scan(kind="contact")
    page = signed_in(personas.rep_a).get(reverse("imports:duplicates"), {"kind": "contact"})
    html = page.content.decode()
    assert "Same e-mail address" in html and str(DuplicatePair.objects.get().score) in html
    assert f"ids={a.public_id}&amp;ids={b.public_id}" in html
    # rep_c sees neither record, so not the pair.
    other = signed_in(personas.rep_c).get(reverse("imports:duplicates"), {"kind": "contact"})
    assert str(a.public_id) not in other.content.decode()


@override_settings(TASKS=IMMEDIATE)
def test_only_managers_and_admins_start_a_scan(personas, twins):  # noqa: F811
    assert (
        signed_in(personas.rep_a)
        .post(reverse("imports:duplicate-scan"), {"kind": "contact"})
        .status_code
        == 403
    )
    assert DuplicatePair.objects.count() == 0
    response = signed_in(personas.manager_a).post(
        reverse("imports:duplicate-scan"), {"kind": "contact"}
    )
    assert response.status_code == 302 and DuplicatePair.objects.count() == 1


def test_merge_page_defaults_to_the_best_values_and_shows_what_moves(personas, twins):  # noqa: F811
    a, b, _deal = twins
    page = signed_in(personas.rep_a).get(
        reverse("imports:merge", args=["contact"]), {"ids": [a.public_id, b.public_id]}
    )
    html = page.content.decode()
    assert page.status_code == 200
    # a has no title, b is "CEO": the title radio defaults to b.
    title_radios = html.split('name="field_title"')
    assert f'value="{b.public_id}" id="f-title-2" checked' in 'name="field_title"'.join(
        title_radios
    )
    assert "Activities: 1" in html and "Deals: 1" in html


def test_merge_from_the_page_keeps_every_related_record_and_undo_restores(personas, twins):  # noqa: F811
    a, b, deal = twins
    before = snapshot()
    client = signed_in(personas.rep_a)
    points = set(ContactPoint.objects.filter(contact__in=[a, b]).values_list("kind", "value"))
    response = client.post(
        reverse("imports:merge", args=["contact"]),
        {
            "ids": [a.public_id, b.public_id],
            "survivor": a.public_id,
            "field_last_name": b.public_id,
            "field_title": b.public_id,
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="merge")
    assert response["Location"] == reverse("imports:merge-result", args=[entry.pk])
    a.refresh_from_db()
    assert not Contact.objects.filter(pk=b.pk).exists()
    assert (a.last_name, a.title) == ("Rezaee", "CEO")
    assert list(deal.contacts.all()) == [a]
    assert Activity.objects.get(subject="Met").contact_id == a.pk
    assert set(a.points.values_list("kind", "value")) == points
    assert set(a.tags.values_list("name", flat=True)) == {"vip", "tehran"}
    result = client.get(response["Location"])
    assert result.status_code == 200 and b'id="merge-undo-form"' in result.content
    # The merge stays reachable, for undo, from the duplicates page.
    listed = client.get(reverse("imports:duplicates"), {"kind": "contact"}).content.decode()
    assert response["Location"] in listed
    other = signed_in(personas.rep_c).get(reverse("imports:duplicates"), {"kind": "contact"})
    assert response["Location"] not in other.content.decode()
    undone = client.post(reverse("imports:merge-undo", args=[entry.pk]))
    assert undone.status_code == 302
    assert snapshot() == before
    again = client.get(reverse("imports:merge-result", args=[entry.pk]))
    assert b'id="merge-undo-form"' not in again.content


def test_records_another_user_cannot_see_cannot_be_merged_or_undone(personas, twins):  # noqa: F811
    a, b, _deal = twins
    outsider = signed_in(personas.rep_c)
    url = reverse("imports:merge", args=["contact"])
    assert outsider.get(url, {"ids": [a.public_id, b.public_id]}).status_code == 404
    response = outsider.post(url, {"ids": [a.public_id, b.public_id], "survivor": a.public_id})
    assert response.status_code == 404 and Contact.objects.filter(pk=b.pk).exists()
    # A teammate who sees but may not change them is refused.
    teammate = signed_in(personas.readonly)
    response = teammate.post(url, {"ids": [a.public_id, b.public_id], "survivor": a.public_id})
    assert response.status_code in (403, 404) and Contact.objects.filter(pk=b.pk).exists()
    client = signed_in(personas.rep_a)
    client.post(url, {"ids": [a.public_id, b.public_id], "survivor": a.public_id})
    entry = AuditEntry.objects.get(action="merge")
    assert outsider.get(reverse("imports:merge-result", args=[entry.pk])).status_code == 404
    assert outsider.post(reverse("imports:merge-undo", args=[entry.pk])).status_code == 404
    assert not Contact.objects.filter(pk=b.pk).exists()


def test_duplicate_warning_while_creating_names_visible_records_only(personas, twins):  # noqa: F811
    a, _b, _deal = twins
    url = reverse("imports:duplicate-check")
    query = {"kind": "contact", "first_name": "Ali", "emails": "ali@example.com"}
    html = signed_in(personas.rep_a).get(url, query).content.decode()
    assert "This looks like" in html and str(a.public_id) in html
    assert "Same e-mail address" in html
    assert signed_in(personas.rep_c).get(url, query).content.strip() == b""
    lead = lead_create(
        actor=personas.rep_a, first_name="Nima", last_name="Sadeghi", email="nima@example.com"
    )
    html = signed_in(personas.rep_a).get(url, {"kind": "lead", "email": "nima@example.com"}).content
    assert str(lead.public_id).encode() in html


def test_duplicate_reasons_are_in_the_users_language(personas, twins):  # noqa: F811
    user_update(actor=None, user=personas.rep_a, language="fa")
    url = reverse("imports:duplicate-check")
    query = {"kind": "contact", "first_name": "Ali", "emails": "ali@example.com"}
    html = signed_in(personas.rep_a).get(url, query).content.decode()
    assert "نشانی ایمیل یکسان" in html
    assert "Same e-mail address" not in html and "Same name" not in html


def test_create_forms_ask_for_the_duplicate_check(personas):
    client = signed_in(personas.rep_a)
    check = reverse("imports:duplicate-check")
    for name in ("contacts:contact-create", "contacts:company-create"):
        assert check in client.get(reverse(name)).content.decode()
    assert check in client.get(reverse("leads:lead-list")).content.decode()


def test_edit_forms_check_for_duplicates_leaving_out_the_record_itself(personas, twins):  # noqa: F811
    a, b, _deal = twins
    client = signed_in(personas.rep_a)
    page = client.get(reverse("contacts:contact-edit", args=[a.public_id])).content.decode()
    found = re.search(r'id="duplicate-check"[^>]*hx-get="([^"]+)"', page)
    assert found, "the edit form asks for the duplicate check"
    url = found.group(1).replace("&amp;", "&")
    assert f"record={a.public_id}" in url
    # What the form sends: the record's own values. It is not its own duplicate; its twin is.
    # As htmx sends it: the form's values added to the URL's own query.
    values = {"first_name": a.first_name, "last_name": a.last_name, "emails": "ali@example.com"}
    html = client.get(f"{url}&{urlencode(values)}").content
    assert str(a.public_id).encode() not in html and str(b.public_id).encode() in html
    company = company_create(actor=personas.rep_a, name="Sepahan Steel")
    page = client.get(reverse("contacts:company-edit", args=[company.public_id])).content
    assert f"record={company.public_id}".encode() in page


# ---------------------------------------------------------------- exports


def test_export_from_a_list_writes_the_filtered_rows_the_user_sees(personas):
    contact_create(actor=personas.rep_a, first_name="Tagged", last_name="One", tags=["vip"])
    contact_create(actor=personas.rep_a, first_name="Plain", last_name="Two")
    contact_create(actor=personas.rep_c, first_name="Hidden", last_name="Three", tags=["vip"])
    client = signed_in(personas.rep_a)
    response = client.post(
        reverse("imports:export"),
        {"entity": "contact", "format": "csv", "dates": "iso", "q": "tag=vip&sort=-updated_at"},
    )
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert "Tagged" in text and "Plain" not in text and "Hidden" not in text
    vcard = client.post(reverse("imports:export"), {"entity": "contact", "format": "vcf", "q": ""})
    assert vcard.content.decode().count("BEGIN:VCARD") == 2
    refused = client.post(reverse("imports:export"), {"entity": "deal", "format": "vcf", "q": ""})
    assert refused.status_code == 302 and ExportJob.objects.count() == 0


@override_settings(TASKS=IMMEDIATE)
def test_an_export_applies_the_lists_own_filters_also_in_the_background(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    lead_create(actor=personas.rep_a, first_name="Fresh", last_name="Lead")
    qualified = lead_create(actor=personas.rep_a, first_name="Ready", last_name="Lead")
    Lead.objects.filter(pk=qualified.pk).update(status="qualified")
    client = signed_in(personas.rep_a)
    data = {"entity": "lead", "format": "csv", "q": "status=qualified&sort=-updated_at"}
    text = client.post(reverse("imports:export"), data).content.decode("utf-8-sig")
    assert "Ready" in text and "Fresh" not in text
    # A value the list would refuse exports nothing rather than everything.
    refused = client.post(reverse("imports:export"), {**data, "q": "status=bogus"})
    assert refused.status_code == 302
    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:export"), data)
    job = ExportJob.objects.get()
    assert job.filters == {"list.status": "qualified"} and job.rows == 1


@override_settings(TASKS=IMMEDIATE)
def test_a_large_export_runs_in_the_background_with_a_download_link(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    contact_create(actor=personas.rep_a, first_name="First", last_name="One")
    contact_create(actor=personas.rep_a, first_name="Second", last_name="Two")
    client = signed_in(personas.rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:export"), {"entity": "contact", "format": "xlsx", "q": ""}
        )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:export-detail", args=[job.public_id])
    page = client.get(response["Location"]).content.decode()
    assert reverse("imports:export-download", args=[job.public_id]) in page
    download = client.get(reverse("imports:export-download", args=[job.public_id]))
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    outsider = signed_in(personas.rep_b)
    assert outsider.get(reverse("imports:export-detail", args=[job.public_id])).status_code == 404
    assert outsider.get(reverse("imports:export-download", args=[job.public_id])).status_code == 404


def test_the_list_toolbar_offers_the_export(personas):
    html = signed_in(personas.rep_a).get(reverse("contacts:contact-list")).content.decode()
    assert reverse("imports:export") in html and 'value="vcf"' in html
