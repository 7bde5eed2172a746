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


@pytest.mark.parametrize("birthday", ["", "1990-01-02"])
def test_a_workers_batch_comes_back_as_the_records_the_writer_would_clean(personas, birthday):
    # Strings only travel as marshal data; a date in a row sends the batch as a pickle.
    from wasl.imports import bulk
    from wasl.imports.engine import Clean, Options, RowError

    headers = ["First name", "Last name", "Email", "Mobile", "Birthday", "Company", "Tags"]
    columns = {
        "First name": "first_name",
        "Last name": "last_name",
        "Email": "email",
        "Mobile": "phone:mobile",
        "Birthday": "birthday",
        "Company": "company",
        "Tags": "tags",
    }
    importer = BulkImport(
        actor=personas.rep_a,
        job=None,
        target="contacts",
        headers=headers,
        columns=columns,
        options=Options(on_duplicate="update"),
        dry_run=True,
    )
    items = [
        (2, ["Ali", "Rezaei", "ali@x.ir", "0912 345 6789", birthday, "Co", "a; b"]),
        (3, ["", "", "not-an-email", "", "", "", ""]),
        (4, ["علی", "رضایی", "", "۰۹۳۵۱۲۳۴۵۶۷", "", "", ""]),
    ]
    packed = bulk._pack(items)
    assert packed[0] == bulk._MARSHALLED
    bulk._WORKER_IMPORT = importer
    try:
        sent = bulk._clean_in_worker(packed)
    finally:
        bulk._WORKER_IMPORT = None
    assert sent[0] == (bulk._PICKLED if birthday else bulk._MARSHALLED)
    received = bulk._received(items, sent, {personas.rep_a.pk: personas.rep_a})

    expected = importer._clean(items)
    for result in expected:
        if isinstance(result, Clean):
            result.match_keys = result.keys("contact", importer.options.match_on)
            result.prepared = importer.prepare(result)
    assert [type(r) for r in received] == [Clean, RowError, Clean]
    assert received == expected
    assert received[0].owner is personas.rep_a
    assert received[1].cells == items[1][1]


def test_a_batch_written_in_chunks_writes_what_one_chunk_would(personas, tmp_path, monkeypatch):
    from wasl.imports import bulk

    lines = ["First name,Last name,Email,Mobile,Company,Tags"]
    for n in range(11):
        company = f"Co {n % 3}" if n % 2 else ""
        lines.append(f"Name{n},Family{n},c{n}@x.ir,0912{n:07d},{company},t{n % 2}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")

    job = import_file(actor=personas.rep_a, path=path, target="contacts", options={})
    whole = outcome(job)
    import_undo(actor=personas.rep_a, job=job)
    monkeypatch.setattr(bulk, "WRITE_CHUNK", 3)
    job = import_file(actor=personas.rep_a, path=path, target="contacts", options={})
    assert outcome(job) == whole
    assert whole["counts"] == (11, 0, 0, 0)


@pytest.mark.parametrize("enabled_before", [True, False])
def test_an_import_collects_cycles_between_batches_and_gives_the_collector_back(
    personas, tmp_path, monkeypatch, enabled_before
):
    import gc

    seen: list[bool] = []
    original = BulkImport._batch

    def spy(self, items, results):
        seen.append(gc.isenabled())
        return original(self, items, results)

    monkeypatch.setattr(BulkImport, "_batch", spy)
    path = tmp_path / "people.csv"
    path.write_text(
        "First name,Last name,Email\n" + "".join(f"N{n},F{n},n{n}@x.ir\n" for n in range(5))
    )
    (gc.enable if enabled_before else gc.disable)()
    try:
        job = import_file(actor=personas.rep_a, path=path, target="contacts", options={"batch": 2})
        assert job.status == "done" and job.created == 5
        # Automatic runs off in every batch (check and run: three batches each), the
        # collector's own state afterwards.
        assert seen == [False] * 6
        assert gc.isenabled() is enabled_before

        monkeypatch.setattr(BulkImport, "_batch", lambda *args: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            import_file(actor=personas.rep_a, path=path, target="contacts")
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
