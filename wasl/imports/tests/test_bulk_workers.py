"""Rows cleaned in forked workers import exactly as rows cleaned in the writing process."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from wasl.contacts.models import Company, Contact, ContactPoint
from wasl.contacts.services import contact_create
from wasl.core.models import AuditEntry, OutboxEvent, SearchEntry
from wasl.imports import services
from wasl.imports.bulk import BulkImport
from wasl.imports.models import ImportRowError
from wasl.imports.services import import_file, import_undo

pytestmark = pytest.mark.django_db


def _audit_changes(entry: AuditEntry) -> dict:
    """The changes with the primary company named (its public id differs from run to run)."""
    changes = dict(entry.changes)
    if "primary_company" in changes:
        company = Company.objects.get(public_id=changes["primary_company"][1])
        changes["primary_company"] = [None, company.name]
    return changes


def outcome(job) -> dict:
    names = dict(Contact.objects.values_list("pk", "last_name"))
    return {
        "search": sorted(
            SearchEntry.objects.filter(kind="contact").values_list("title", "subtitle", "text")
        ),
        "audit": sorted(
            (names[entry.object_id], entry.action, sorted(_audit_changes(entry).items()))
            for entry in AuditEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Contact),
                data__import_id=str(job.public_id),
            )
            if entry.object_id in names
        ),
        "events": sorted(
            (names[event.object_id], event.name, sorted(event.data))
            for event in OutboxEvent.objects.filter(name__startswith="contact.")
            if event.object_id in names and event.data.get("import_id") == str(job.public_id)
        ),
        "counts": (job.created, job.updated, job.skipped, job.failed),
        "contacts": sorted(
            Contact.objects.values_list("first_name", "last_name", "name_key", "owner_id", "title")
        ),
        "points": sorted(ContactPoint.objects.values_list("kind", "label", "value", "digits")),
        "errors": sorted(
            ImportRowError.objects.filter(job=job, dry_run=False).values_list("row", "reason")
        ),
    }


def test_a_large_import_cleans_in_workers_with_the_same_result(
    personas, tmp_path, settings, monkeypatch
):
    settings.WASL_IMPORT_WORKERS = 2
    monkeypatch.setattr(services, "PARALLEL_FROM_ROWS", 10)
    used: list[int] = []
    original = BulkImport.run

    def spy(self, rows, *, workers=1):
        used.append(workers)
        return original(self, rows, workers=workers)

    monkeypatch.setattr(BulkImport, "run", spy)
    contact_create(actor=personas.rep_a, first_name="Old", last_name="One", emails=["p3@x.ir"])
    lines = ["First name,Last name,Email,Mobile,Title,Company,Tags"]
    for n in range(60):
        # A repeated row brings a new mobile, so the earlier row it repeats changes.
        mobile = f"0912{n % 45:07d}" if n < 50 else f"0935{n:07d}"
        company = f"Co {n % 5}" if n % 3 else ""
        lines.append(f"Name{n % 45},Family{n % 45},p{n % 45}@x.ir,{mobile},T{n},{company},t{n % 3}")
    lines += ["Bad,Mail,not-an-email,,,,", ",,,,,,"]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    options = {"on_duplicate": "update", "batch": 16}

    job = import_file(actor=personas.rep_a, path=path, target="contacts", options=options)
    parallel = outcome(job)
    assert used == [1, 2] and job.status == "done"  # the check, then the run
    import_undo(actor=personas.rep_a, job=job)

    settings.WASL_IMPORT_WORKERS = 1
    job = import_file(actor=personas.rep_a, path=path, target="contacts", options=options)
    assert used == [1, 2, 1, 1]
    assert outcome(job) == parallel
    assert parallel["counts"][0] == 44 and parallel["counts"][3] == 1  # the blank line is not a row


@pytest.mark.django_db
def test_an_import_runs_with_a_larger_page_cache_and_gives_it_back():
    from django.db import connection

    from wasl.imports.services import (
        IMPORT_CHECKPOINT_PAGES,
        IMPORT_PAGE_CACHE_KIB,
        _import_page_cache,
    )

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page cache")

    def cache_size() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    def checkpoint() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            return cursor.fetchone()[0]

    before, before_checkpoint = cache_size(), checkpoint()
    with _import_page_cache():
        assert cache_size() == -IMPORT_PAGE_CACHE_KIB
        assert checkpoint() == IMPORT_CHECKPOINT_PAGES
    assert (cache_size(), checkpoint()) == (before, before_checkpoint)
    with pytest.raises(RuntimeError), _import_page_cache():
        raise RuntimeError("a failed batch")
    assert (cache_size(), checkpoint()) == (before, before_checkpoint)
