from __future__ import annotations

from wasl.contacts.models import Contact, ContactPoint
from wasl.imports.services import import_file


def test_broken_rows_are_refused_one_by_one(personas, data_dir):
    job = import_file(actor=personas.rep_a, path=data_dir / "broken_rows.csv", target="contacts")
    assert job.status == "done", job.error
    reasons = {e.row: e.reason for e in job.row_errors.filter(dry_run=False)}
    print(reasons)
    assert job.created == 3
    assert set(reasons) == {3, 4, 5, 6}
    assert Contact.objects.count() == 3
    assert ContactPoint.objects.filter(kind="phone").count() == 2
