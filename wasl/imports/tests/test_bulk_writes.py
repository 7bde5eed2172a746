"""What the set-based writer stores for created records, whatever shortcut builds it."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from wasl.contacts.models import Contact
from wasl.core.models import AuditEntry, OutboxEvent
from wasl.imports.bulk import BulkImport
from wasl.imports.engine import db_json
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
