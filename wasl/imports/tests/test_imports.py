"""Import: parsers, mapping, dry run, duplicates, visibility, undo, CLI and API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wasl.contacts.models import Company, Contact, ContactCompany, ContactPoint, Tag
from wasl.contacts.services import contact_create
from wasl.core.models import AuditEntry, OutboxEvent, SearchEntry
from wasl.core.search import entry_text
from wasl.imports import mapping as m
from wasl.imports.engine import fast_email, fast_normalise, fast_phone
from wasl.imports.models import ImportJob
from wasl.imports.parsers import UnreadableFile, open_table
from wasl.imports.services import import_file, import_undo

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def dump_tables() -> dict[str, list[tuple]]:
    """The rows an import touches, for before/after comparisons."""
    return {
        "contacts": sorted(
            Contact.objects.values_list(
                "pk",
                "public_id",
                "first_name",
                "last_name",
                "name_key",
                "title",
                "city",
                "custom",
                "owner_id",
                "team_id",
                "primary_company_id",
                "updated_at",
            )
        ),
        "companies": sorted(Company.objects.values_list("pk", "name", "name_key", "owner_id")),
        "points": sorted(
            ContactPoint.objects.values_list(
                "kind", "label", "value", "digits", "position", "contact_id", "company_id"
            )
        ),
        "members": sorted(
            ContactCompany.objects.values_list("contact_id", "company_id", "is_primary")
        ),
        "tags": sorted(Tag.objects.values_list("pk", "key")),
        "contact_tags": sorted(Contact.tags.through.objects.values_list("contact_id", "tag_id")),
        "search": sorted(
            SearchEntry.objects.values_list(
                "kind", "object_id", "title", "subtitle", "owner_id", "text"
            )
        ),
    }


# ---------------------------------------------------------------- cleaning equals the services


def test_fast_cleaning_gives_what_the_services_give(settings):
    from wasl.core.phones import parse_phone, significant_digits
    from wasl.core.text import normalise
    from wasl.core.validation import clean_email

    settings.WASL_PHONE_REGION = "IR"
    for raw in [
        "09123456789",
        "+98 912 345 6789",
        "0098-912-345-6789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "+971 50 123 4567",
        "021 8888 7777",
        "+1 (212) 555-0100",
    ]:
        e164 = parse_phone(raw)
        assert fast_phone(raw, "IR") == (e164, significant_digits(e164))
    for raw in [
        "Ali.Rezaei@Example.IR",
        "a+b@sub.example.com",
        " x@EXAMPLE.com ",
        "عربي@example.com",
        "user@bücher.de",
    ]:
        try:
            expected = clean_email(raw)
        except ValueError:
            with pytest.raises(ValueError):
                fast_email(raw)
        else:
            assert fast_email(raw) == expected
    for bad in ["a..b@example.com", "no-at-sign", "x@localhost", "x@-bad.com"]:
        with pytest.raises(ValueError):
            fast_email(bad)
    for text in ["Ali  Rezaei", "علي رضائي", "JAMES\tTaylor", "Ñandú", "x\u200cy"]:
        assert fast_normalise(text) == normalise(text)


def test_numbers_and_dates_in_three_calendars():
    assert m.parse_number("۱۲٬۵۰۰٫۷۵") == m.parse_number("12,500.75")
    assert str(m.parse_number("12.500,75")) == "12500.75"
    assert str(m.parse_number("٣٠٬٠٠٠")) == "30000"
    assert str(m.parse_number("1.234.567")) == "1234567"
    assert str(m.parse_number("3,5")) == "3.5"
    assert m.parse_date_value("۱۴۰۳/۰۱/۰۱", "jalali").isoformat() == "2024-03-20"
    assert m.parse_date_value("1445/09/01", "hijri").isoformat() == "2024-03-11"
    assert m.parse_date_value("2010-10-14T12:00:00.000Z").isoformat() == "2010-10-14"
    assert m.parse_date_value("07/15/2009 02:14:45+0800").isoformat() == "2009-07-15"
    assert m.parse_date_value("17/05/1975").isoformat() == "1975-05-17"
    with pytest.raises(ValueError):
        m.parse_date_value("2009\\7\\14 22:14:45+0800")


def test_suggestions_read_persian_arabic_and_crm_headers():
    fa = m.suggest_mapping(
        ["نام", "نام خانوادگی", "موبایل", "ایمیل", "شرکت", "تاریخ تولد"], "contacts"
    )
    assert list(fa.values()) == [
        "first_name",
        "last_name",
        "phone:mobile",
        "email",
        "company",
        "birthday",
    ]
    ar = m.suggest_mapping(
        ["الاسم الأول", "اسم العائلة", "الجوال", "البريد الإلكتروني"], "contacts"
    )
    assert list(ar.values()) == ["first_name", "last_name", "phone:mobile", "email"]
    sf = m.suggest_mapping(
        ["FirstName", "LastName", "MobilePhone", "Email", "MailingCity"], "contacts"
    )
    assert list(sf.values()) == ["first_name", "last_name", "phone:mobile", "email", "city"]
    pd = m.suggest_mapping(
        ["Deal - Title", "Deal - Value", "Deal - Stage", "Organization - Name"], "deals"
    )
    assert list(pd.values()) == ["title", "amount", "stage", "company"]
    zoho = m.suggest_mapping(["Account Name", "Mailing Zip", "Secondary Email", "Tag"], "contacts")
    assert list(zoho.values()) == ["company", "postal_code", "email", "tags"]


def test_crm_export_header_reference_maps_the_core_fields(shared_data):
    import csv

    rows = list(csv.DictReader((shared_data / "crm-export-headers" / "headers.csv").open()))
    targets = {
        "contacts": "contacts",
        "Contacts": "contacts",
        "Contact": "contacts",
        "companies": "companies",
        "Account": "companies",
        "deals": "deals",
        "Opportunity": "deals",
        "Leads": "leads",
    }
    by_object: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        target = targets.get(row["object"])
        if target:
            by_object.setdefault((row["vendor"], target), []).append(row["header"])
    for (vendor, target), headers in by_object.items():
        fields = set(m.suggest_mapping(list(dict.fromkeys(headers)), target).values())
        need = {
            "contacts": {"first_name", "last_name"},
            "leads": {"first_name", "last_name"},
            "companies": {"name"},
            "deals": {"title", "amount"},
        }[target]
        assert need <= {f.split(":")[0] for f in fields}, (vendor, target, fields)


# ---------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "rows"),
    [
        ("contacts_ar_cp1256.csv", "cp1256", ";", 3),
        ("contacts_utf16.csv", "utf-16", "\t", 3),
        ("hubspot_contacts.csv", "utf-8", ",", 3),
    ],
)
def test_csv_encodings_and_delimiters_are_found(data_dir, name, encoding, delimiter, rows):
    table = open_table(data_dir / name)
    assert table.encoding == encoding and table.delimiter == delimiter
    assert len(list(table.rows)) == rows
    table.close()


def test_xlsx_lists_sheets_and_reads_the_chosen_one(data_dir):
    table = open_table(data_dir / "contacts_fa.xlsx")
    assert table.sheets == ["مشتریان", "Notes"] and table.headers[0] == "نام"
    table.close()
    table = open_table(data_dir / "contacts_fa.xlsx", sheet="Notes")
    assert table.headers == ["Header", "Other"]
    table.close()
    with pytest.raises(UnreadableFile, match="no sheet named"):
        open_table(data_dir / "contacts_fa.xlsx", sheet="Missing")


def test_unreadable_files_give_one_line(data_dir, tmp_path):
    for path in [data_dir / "not_a_table.bin", write(tmp_path, "empty.csv", "")]:
        with pytest.raises(UnreadableFile) as caught:
            open_table(path)
        assert "\n" not in caught.value.message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(UnreadableFile):
        open_table(broken)


def test_every_shared_vcard_and_salesforce_file_reads_or_is_refused_cleanly(shared_data):
    files = sorted((shared_data / "vcard-samples").rglob("*.vcf"))
    files += sorted((shared_data / "salesforce-dataloader-csv").rglob("*.csv"))
    assert len(files) > 60
    for path in files:
        try:
            table = open_table(path)
            list(table.rows)
            table.close()
        except UnreadableFile as error:
            assert "\n" not in error.message


def test_quoted_printable_split_escapes_and_photos(shared_data):
    table = open_table(
        shared_data
        / "vcard-samples/mudita-center-device-fixtures/v2-1-samsung-quoted-printable.vcf"
    )
    first = dict(zip(table.headers, next(table.rows)[1], strict=False))
    assert first["First name"] == "Kjetil Andreas" and first["Last name"] == "Østdalen-Vikeså"
    table.close()
    table = open_table(shared_data / "vcard-samples/android-vcard/v21_base64_no_2_crlf.vcf")
    assert [dict(zip(table.headers, r, strict=False))["Full name"] for _n, r in table.rows] == [
        "fullname"
    ]


def test_utf16_and_utf32_salesforce_files(shared_data):
    for name in [
        "csvtext_BOM_UTF16LE.csv",
        "csvtext_BOM_UTF16BE.csv",
        "csvtext_BOM_UTF32LE.csv",
        "csvtext_BOM_UTF32BE.csv",
    ]:
        table = open_table(shared_data / "salesforce-dataloader-csv/edge-cases" / name)
        assert table.headers == ["column1", "column2", "column3"], name
        assert next(r for _n, r in table.rows) == ["row1-1", "row1-2", "row1-3"]
        table.close()


# ---------------------------------------------------------------- importing


def test_persian_xlsx_imports_with_jalali_birthdays(personas, data_dir):
    job = import_file(
        actor=personas.rep_a,
        path=data_dir / "contacts_fa.xlsx",
        target="contacts",
        options={"calendar": "jalali"},
    )
    assert (job.created, job.failed) == (3, 1)
    ali = Contact.objects.get(first_name="علی")
    assert ali.birthday.isoformat() == "1986-07-03"
    assert ali.primary_company.name == "فولاد مبارکه"
    assert sorted(ali.tags.values_list("name", flat=True)) == ["تهران", "مشتری ویژه"]
    assert ali.points.get(kind="phone").value == "+989123456789"
    # Both rows name the same company: one company, two members.
    assert Company.objects.filter(name="فولاد مبارکه").count() == 1
    assert Contact.objects.get(first_name="سعید").name_key == "سعید کریمی"
    entry = SearchEntry.objects.get(kind="contact", object_id=ali.pk)
    assert entry.text == entry_text(
        [
            "علی رضایی",
            "فولاد مبارکه",
            "ali.rezaei@example.ir",
            "فولاد مبارکه",
            "تهران",
            "مشتری ویژه",
        ],
        ["+989123456789"],
    )
    assert AuditEntry.objects.filter(action="create", object_id=ali.pk).exists()
    assert OutboxEvent.objects.filter(name="contact.created", object_id=ali.pk).exists()
    assert OutboxEvent.objects.filter(name="import.completed").count() == 1


def test_arabic_1256_and_utf16_files_import(personas, data_dir):
    job = import_file(
        actor=personas.admin, path=data_dir / "contacts_ar_cp1256.csv", target="contacts"
    )
    assert (job.created, job.failed) == (3, 0), list(
        job.row_errors.values_list("reason", flat=True)
    )
    assert Contact.objects.filter(last_name="العتيبي", city="الرياض").exists()
    job = import_file(actor=personas.admin, path=data_dir / "contacts_utf16.csv", target="contacts")
    assert (job.created, job.failed) == (3, 0)
    assert ContactPoint.objects.get(value="+971501234567").label == "mobile"


def test_hubspot_and_zoho_exports_import(personas, data_dir):
    job = import_file(
        actor=personas.admin, path=data_dir / "hubspot_contacts.csv", target="contacts"
    )
    assert (job.created, job.failed) == (3, 0)
    assert ContactPoint.objects.filter(value="james.taylor@example.co.uk").exists()
    job = import_file(actor=personas.admin, path=data_dir / "zoho_contacts.csv", target="contacts")
    assert (job.created, job.failed) == (2, 0), list(
        job.row_errors.values_list("reason", flat=True)
    )
    yousef = Contact.objects.get(first_name="Yousef")
    assert yousef.country == "LB" and yousef.source == "exhibition"
    assert sorted(yousef.tags.values_list("name", flat=True)) == ["food", "vip"]
    assert yousef.points.filter(kind="email").count() == 2


def test_dry_run_counts_match_the_run_and_write_nothing(personas, tmp_path):
    contact_create(
        actor=personas.rep_a, first_name="Old", last_name="Timer", emails=["old@example.com"]
    )
    path = write(
        tmp_path,
        "c.csv",
        "First name,Last name,Email,Phone\n"
        "New,One,new1@example.com,\n"
        "Old,Timer,old@example.com,+98 912 111 1111\n"
        "New,One again,new1@example.com,\n"
        "Broken,,bad@,\n",
    )
    before = dump_tables()
    job = import_file(
        actor=personas.rep_a,
        path=path,
        target="contacts",
        options={"on_duplicate": "update"},
        dry_run=True,
    )
    # Row 3 repeats row 1 (same e-mail) and brings nothing new to fill in: skipped.
    assert job.dry_run == {"total": 4, "created": 1, "updated": 1, "skipped": 1, "failed": 1}
    assert dump_tables() == before
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "update"}
    )
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 1, 1, 1)
    old = Contact.objects.get(last_name="Timer")
    assert list(old.points.values_list("value", flat=True)) == ["old@example.com", "+989121111111"]


def test_duplicate_policies_skip_fill_and_overwrite(personas, tmp_path):
    contact_create(
        actor=personas.rep_a,
        first_name="Sara",
        last_name="Nouri",
        emails=["sara@example.com"],
        title="",
    )
    path = write(
        tmp_path,
        "c.csv",
        "First name,Last name,Email,Title,City\nSarah,Nouri,sara@example.com,CEO,Shiraz\n",
    )
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "skip"}
    )
    assert (job.created, job.skipped) == (0, 1)
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "update"}
    )
    sara = Contact.objects.get(last_name="Nouri")
    assert (job.updated, sara.first_name, sara.title, sara.city) == (1, "Sara", "CEO", "Shiraz")
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "overwrite"}
    )
    sara.refresh_from_db()
    assert (job.updated, sara.first_name) == (1, "Sarah")
    updates = AuditEntry.objects.filter(
        object_id=sara.pk, action="update", content_type__model="contact"
    )
    assert updates.count() == 2


def test_a_key_several_records_hold_matches_the_oldest(personas, tmp_path):
    for name in ("Older", "Newer"):
        contact_create(
            actor=personas.rep_a,
            first_name=name,
            last_name="Twin",
            emails=["twin@example.com"],
            phones=["09125550000"],
        )
    older, newer = Contact.objects.filter(last_name="Twin").order_by("pk")
    for cells in ("Twin,twin@example.com,,Tabriz", "Twin,,+989125550000,Yazd"):
        path = write(tmp_path, "c.csv", f"Last name,Email,Mobile,City\n{cells}\n")
        job = import_file(
            actor=personas.rep_a,
            path=path,
            target="contacts",
            options={"on_duplicate": "overwrite"},
        )
        assert job.updated == 1
        older.refresh_from_db()
        assert older.city == cells.rsplit(",", 1)[1]
    newer.refresh_from_db()
    assert newer.city == ""


def test_phone_matching_uses_significant_digits(personas, tmp_path):
    contact_create(actor=personas.rep_a, first_name="Reza", last_name="K", phones=["09121234567"])
    path = write(tmp_path, "c.csv", "Name,Mobile\nReza K,+98 (912) 123-4567\n")
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "skip"}
    )
    assert (job.created, job.skipped) == (0, 1)


def test_a_rep_cannot_update_another_reps_contacts(personas, tmp_path):
    theirs = contact_create(
        actor=personas.rep_b, first_name="Their", last_name="Contact", emails=["their@example.com"]
    )
    path = write(tmp_path, "c.csv", "First name,Last name,Email\nMine,Now,their@example.com\n")
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "overwrite"}
    )
    theirs.refresh_from_db()
    assert theirs.first_name == "Their"
    # Rep A does not see rep B's contact: the row becomes rep A's own new contact.
    assert job.created == 1 and Contact.objects.get(first_name="Mine").owner == personas.rep_a
    # A manager who sees it but imports as overwrite may change it (same team).
    job = import_file(
        actor=personas.manager_a,
        path=path,
        target="contacts",
        options={"on_duplicate": "overwrite"},
    )
    assert job.updated == 1


def test_a_visible_but_read_only_match_is_refused(personas, tmp_path):
    from django.contrib.contenttypes.models import ContentType

    from wasl.core.models import RecordShare

    theirs = contact_create(
        actor=personas.rep_b, first_name="Shared", last_name="Card", emails=["shared@example.com"]
    )
    RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=theirs.pk,
        user=personas.rep_a,
        can_write=False,
    )
    path = write(tmp_path, "c.csv", "First name,Last name,Email\nX,Y,shared@example.com\n")
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "overwrite"}
    )
    assert job.failed == 1 and "may not change" in job.row_errors.get(dry_run=False).reason


def test_owner_column_resolves_users_the_importer_may_assign(personas, tmp_path):
    path = write(tmp_path, "c.csv", "Name,Owner\nA One,rep_b\nB Two,rep_a@nowhere\nC Three,\n")
    job = import_file(actor=personas.manager_a, path=path, target="contacts")
    assert job.created == 2 and job.failed == 1
    assert Contact.objects.get(last_name="One").owner == personas.rep_b
    job = import_file(
        actor=personas.rep_a,
        path=write(tmp_path, "d.csv", "Name,Owner\nD Four,rep_b\n"),
        target="contacts",
    )
    assert job.failed == 1 and "cannot give records" in job.row_errors.get(dry_run=False).reason


def test_undo_restores_the_database_exactly(personas, tmp_path):
    kept = contact_create(
        actor=personas.rep_a,
        first_name="Kept",
        last_name="Person",
        emails=["kept@example.com"],
        tags=["old"],
    )
    before = dump_tables()
    path = write(
        tmp_path,
        "c.csv",
        "First name,Last name,Email,Phone,Company,Tags,City\n"
        "Kept,Person,kept@example.com,+98 912 555 0000,Acme,new-tag,Tabriz\n"
        "Fresh,Face,fresh@example.com,,Acme,new-tag,\n",
    )
    job = import_file(
        actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "update"}
    )
    assert (job.created, job.updated) == (1, 1)
    kept.refresh_from_db()
    assert kept.city == "Tabriz" and kept.primary_company.name == "Acme"
    import_undo(actor=personas.rep_a, job=job)
    assert dump_tables() == before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE


def test_companies_and_leads_import_with_duplicates(personas, tmp_path):
    path = write(
        tmp_path,
        "co.csv",
        "Company name,Phone,Website\nAcme Ltd,+98 21 8888 1111,acme.example\nACME  ltd,,\n",
    )
    job = import_file(
        actor=personas.rep_a, path=path, target="companies", options={"on_duplicate": "update"}
    )
    assert (job.created, job.updated + job.skipped) == (1, 1)
    path = write(
        tmp_path,
        "leads.csv",
        "First Name,Last Name,Company,Email,Mobile,Lead Status\n"
        "Nima,Azad,Azad Co,nima@example.com,09120000001,Contacted\n"
        "Nima,Azad,Azad Co,NIMA@example.com,,New\n"
        "Bad,Status,,b@example.com,,converted\n",
    )
    job = import_file(actor=personas.rep_a, path=path, target="leads")
    assert (job.created, job.skipped, job.failed) == (1, 1, 1)
    from wasl.leads.models import Lead

    lead = Lead.objects.get()
    assert lead.status == "contacted" and lead.phone_digits == "9120000001"


def test_sales_pipeline_dataset_imports_deals_row_by_row(personas, shared_data):
    from wasl.deals.models import Deal, LostReason
    from wasl.deals.services import pipeline_create

    pipeline_create(
        actor=None,
        name="Maven",
        stages=[
            {"name": "Prospecting"},
            {"name": "Engaging"},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    LostReason.objects.create(name="Imported")
    source = shared_data / "crm-sales-opportunities" / "sales_pipeline.csv"
    lines = source.read_text().splitlines()[:121]
    path = Path(personas.admin.username + "-pipeline.csv")
    sample = Path(__file__).parent / "_tmp_pipeline.csv"
    sample.write_text("\n".join(lines) + "\n")
    try:
        job = import_file(
            actor=personas.admin,
            path=sample,
            target="deals",
            columns={
                "opportunity_id": "title",
                "account": "company",
                "deal_stage": "stage",
                "close_value": "amount",
                "close_date": "expected_close",
            },
            options={"pipeline": "Maven"},
        )
    finally:
        sample.unlink()
    assert job.total == 120 and job.failed == 0, list(
        job.row_errors.values_list("reason", flat=True)
    )[:3]
    assert Deal.objects.count() == 120
    assert Deal.objects.filter(stage__kind="lost").exists()
    assert not path.exists()


def test_products_and_activities_import(personas, tmp_path):
    path = write(
        tmp_path,
        "p.csv",
        'Product,SKU,Price,Currency\nGTX Pro,GTX-P,"4,821",USD\nMG Special,,55,USD\n',
    )
    job = import_file(actor=personas.admin, path=path, target="products")
    assert (job.created, job.failed) == (2, 0), list(
        job.row_errors.values_list("reason", flat=True)
    )
    contact_create(
        actor=personas.rep_a, first_name="Call", last_name="Me", emails=["call@example.com"]
    )
    path = write(
        tmp_path,
        "a.csv",
        "Type,Subject,Due date,Email\n"
        "call,Follow up,2026-12-01 10:30,call@example.com\n"
        "fax,Nope,,\n",
    )
    job = import_file(actor=personas.rep_a, path=path, target="activities")
    assert (job.created, job.failed) == (1, 1)


def test_pipedrive_deals_file(personas, data_dir):
    from wasl.deals.services import pipeline_ensure_default

    pipeline_ensure_default()
    job = import_file(actor=personas.admin, path=data_dir / "pipedrive_deals.csv", target="deals")
    assert (job.created, job.failed) == (2, 1), list(
        job.row_errors.values_list("reason", flat=True)
    )
    from wasl.deals.models import Deal

    assert str(Deal.objects.get(title="Annual licence").amount) == "30000.00"


def test_adversarial_strings_import_as_text(personas, shared_data, tmp_path):
    import csv

    strings = (
        (shared_data / "adversarial-strings/blns/blns.txt").read_text(errors="replace").splitlines()
    )
    strings = [s for s in strings if s and not s.startswith("#")][:400]
    path = tmp_path / "naughty.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Last name", "Notes", "Email", "Phone"])
        for i, text in enumerate(strings):
            writer.writerow(
                [text[:120], text, text if i % 3 == 0 else "", text if i % 5 == 0 else ""]
            )
    job = import_file(actor=personas.rep_a, path=path, target="contacts")
    # Rows of nothing but blanks are not rows; every other row is created or refused.
    assert job.status == "done" and job.processed >= len(strings) - 5
    assert job.created + job.failed + job.skipped + job.updated == job.processed


def test_the_command_prints_counts_and_fails_with_one_line(personas, data_dir, tmp_path):
    out = io.StringIO()
    call_command(
        "import",
        str(data_dir / "broken_rows.csv"),
        "--type",
        "contacts",
        "--as",
        "rep_a",
        stdout=out,
    )
    text = out.getvalue()
    assert "created 3" in text and "row 4:" in text
    out = io.StringIO()
    call_command(
        "import", str(data_dir / "broken_rows.csv"), "--type", "contacts", "--dry-run", stdout=out
    )
    assert "Dry run: 7 rows" in out.getvalue()
    with pytest.raises(CommandError) as caught:
        call_command("import", str(data_dir / "not_a_table.bin"), "--type", "contacts")
    assert "\n" not in str(caught.value)


def test_errors_csv_lists_refused_rows_with_reasons(personas, data_dir):
    from wasl.imports.services import import_errors_csv

    job = import_file(actor=personas.rep_a, path=data_dir / "broken_rows.csv", target="contacts")
    text = "".join(import_errors_csv(job=job))
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Row,Error,First name")
    assert len(lines) == 1 + 4
