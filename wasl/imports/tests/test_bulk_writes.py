"""What the set-based writer stores for created records, whatever shortcut builds it."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from wasl.contacts.models import Company, Contact
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.imports.bulk import BulkImport, _audit_fields, _uuid_text, new_public_ids
from wasl.imports.engine import Clean, Options, db_json
from wasl.imports.services import import_file

pytestmark = pytest.mark.django_db


def test_db_json_writes_what_json_dumps_writes():
    for value in [{}, {"a": "علی", "b": [1, None, 2.5]}, "x", None, {"d": uuid.UUID(int=5)}]:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        assert db_json(value) == expected


@pytest.mark.parametrize("job_public_id", ["0b5c6a9e-6f1d-4a43-9a53-7a3c1e0c2d11", None])
def test_the_created_events_data_is_the_encoded_dict(job_public_id):
    writer = BulkImport.__new__(BulkImport)
    writer.import_id_json = db_json(job_public_id)
    public = uuid.uuid4()
    assert writer._created_data(public) == db_json({"id": str(public), "import_id": job_public_id})


def test_created_contacts_have_their_audit_rows_and_events(personas, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("First name,Last name,Email\nSara,Karimi,sara@x.ir\nOmid,Nouri,\n")
    job = import_file(actor=personas.rep_a, path=path, target="contacts")
    assert job.created == 2
    for contact in Contact.objects.all():
        audit = AuditEntry.objects.get(
            content_type=ContentType.objects.get_for_model(Contact), object_id=contact.pk
        )
        assert audit.action == "create"
        assert audit.data == {"import_id": str(job.public_id)}
        assert audit.changes["first_name"] == [None, contact.first_name]
        event = OutboxEvent.objects.get(name="contact.created", object_id=contact.pk)
        assert event.data == {"id": str(contact.public_id), "import_id": str(job.public_id)}
        assert contact.custom == {}


@pytest.mark.parametrize("blank", [False, True])
@pytest.mark.parametrize("birthday", [False, True])
@pytest.mark.parametrize("company", [None, "0b5c6a9e-6f1d-4a43-9a53-7a3c1e0c2d11"])
@pytest.mark.parametrize("target", ["contacts", "companies", "leads"])
def test_created_changes_are_the_encoded_dict_of_every_audited_field(
    personas, target, company, birthday, blank
):
    writer = BulkImport(
        actor=personas.rep_a,
        job=None,
        target=target,
        headers=[],
        columns={},
        options=Options(),
        dry_run=True,
    )
    fields = {"first_name": 'Sa"ra\\', "last_name": "کریمی\u200c", "title": "a\tb\x01"}
    if target == "contacts" and birthday:
        fields["birthday"] = dt.date(1990, 1, 2)
    if target == "companies":
        fields = {"name": "Co “x”", "city": "مشهد"}
    if blank:
        fields["notes"] = ""
    clean = Clean(
        row=1,
        cells=[],
        fields=fields,
        emails=[("", "a@x.ir"), ("work", "b@x.ir")],
        phones=[("mobile", "+989121234567", "9121234567")],
        tags=["b", "A", "ج"],
        owner=personas.rep_a,
        custom={"k": ["x", 1, None], "d": "۱۲"},
    )
    values = {**writer.defaults, **clean.fields}
    kind = writer.kind
    after = {name: values[name] for name in _audit_fields(kind) if name in values}
    if after.get("birthday") is not None:
        after["birthday"] = after["birthday"].isoformat()
    after["owner"] = str(personas.rep_a.public_id)
    after["custom"] = clean.custom
    if kind == "contact":
        after["primary_company"] = company
    if kind in ("contact", "company"):
        after["emails"] = ["a@x.ir", "b@x.ir"]
        after["phones"] = ["+989121234567"]
    after["tags"] = ["A", "b", "ج"]
    expected = db_json({k: [None, v] for k, v in after.items() if v is not None})
    for _again in range(2):  # the second time from the writer's template for the row
        assert writer._created_changes(values, clean, company if kind == "contact" else None) == (
            expected
        )
    assert bool(writer._changes_templates[tuple(fields)]) == (target != "leads")


def test_new_public_ids_are_distinct_time_ordered_uuids():
    before = time.time_ns() // 1_000_000
    ids = new_public_ids(2000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 2000
    # Increasing in the order given, so the records' keys go in at the end of the index.
    assert ids == sorted(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, parsed.hex) == (7, uuid.RFC_4122, value)
        assert before <= parsed.int >> 80 <= after
    # A later call's ids come after the earlier ones.
    time.sleep(0.002)
    assert min(new_public_ids(10)) > max(ids)


def test_new_public_ids_keep_74_random_bits():
    ids = [uuid.UUID(value).int for value in new_public_ids(4000)]
    rand_a = {value >> 64 & 0xFFF for value in ids}
    rand_b = {value & (1 << 62) - 1 for value in ids}
    # 4,000 draws of 12 bits fill most of the 4,096 values; of 62 bits, never collide.
    assert len(rand_a) > 2000
    assert len(rand_b) == 4000
    # Neighbours are not one apart: the next id is not a guess away from the last.
    gaps = [b - a for a, b in itertools.pairwise(ids)]
    assert min(gaps) > 1 << 20


def test_imported_records_get_time_ordered_public_ids(personas, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "First name,Last name,Email,Company\n"
        "Sara,Ahmadi,sara@example.com,Pars Co\n"
        "Reza,Karimi,reza@example.com,Pars Co\n"
        "Nima,Rad,nima@example.com,\n",
        encoding="utf-8",
    )
    job = import_file(actor=personas.admin, path=path, target="contacts")
    assert job.created == 3
    contacts = list(Contact.objects.order_by("pk").values_list("public_id", flat=True))
    company = Company.objects.get(name="Pars Co").public_id
    assert [c.version for c in contacts] == [7, 7, 7]
    assert company.version == 7
    assert contacts == sorted(contacts)


def test_a_duplicate_row_reports_a_change_only_when_it_changes_the_plan():
    from types import SimpleNamespace

    from wasl.imports.engine import Existing, merge_into_existing

    def row(n: int, **kwargs) -> Clean:
        return Clean(row=n, cells=[], fields=kwargs.pop("fields", {}), **kwargs)

    record = Existing(
        kind="contact",
        pk=1,
        public_id="x",
        writable=True,
        fields={"first_name": "Ali", "city": "", "title": ""},
        owner_id=7,
        points=[("email", "", "a@x.ir", "")],
        tag_names=["VIP"],
    )
    owner = SimpleNamespace(pk=8)
    assert merge_into_existing(record, row(2, fields={"city": "Tehran"}), "update", "contact")
    assert not merge_into_existing(record, row(3, fields={"city": "Tehran"}), "update", "contact")
    assert not merge_into_existing(record, row(4, emails=[("", "a@x.ir")]), "update", "contact")
    assert merge_into_existing(record, row(5, emails=[("", "b@x.ir")]), "update", "contact")
    assert not merge_into_existing(record, row(6, tags=["vip"]), "update", "contact")
    assert merge_into_existing(record, row(7, tags=["new"]), "update", "contact")
    assert merge_into_existing(record, row(8, company="Co"), "update", "contact")
    assert not merge_into_existing(record, row(9, company="Co"), "update", "contact")
    assert merge_into_existing(record, row(10, fields={"city": "Shiraz"}), "overwrite", "contact")
    assert not merge_into_existing(
        record, row(11, fields={"city": "Shiraz"}), "overwrite", "contact"
    )
    assert merge_into_existing(record, row(12, owner=owner), "overwrite", "contact")
    assert not merge_into_existing(record, row(13, owner=owner), "overwrite", "contact")
    assert merge_into_existing(record, row(14, custom={"k": 1}), "update", "contact")
    assert not merge_into_existing(record, row(15, custom={"k": 1}), "update", "contact")
    assert record.new_fields == {"city": "Shiraz"}
    assert record.new_points == [("email", "", "b@x.ir", "")]
    assert (record.new_tags, record.new_company, record.new_owner) == (["new"], "Co", owner)
    assert record.rows == list(range(2, 16))


def test_a_public_id_read_from_the_database_is_given_in_its_usual_text_form():
    for public in [uuid.uuid4(), uuid.UUID(hex=new_public_ids(1)[0])]:
        text = str(public)
        assert _uuid_text(public.hex) == text
        assert _uuid_text(public.hex.upper()) == text
        assert _uuid_text(text) == text
        assert _uuid_text(public) == text
