"""The search index after an import: SQLite's trigram index is fed set by set, and
matches the entries exactly (also when later batches replace earlier batches' entries)."""

from __future__ import annotations

import pytest
from django.db import connection

from wasl.contacts.services import contact_create
from wasl.core.models import SearchEntry
from wasl.core.search import search
from wasl.imports.services import import_file, import_undo

pytestmark = pytest.mark.django_db


def triggers() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        return dict(cursor.fetchall())


def assert_index_matches_entries() -> None:
    with connection.cursor() as cursor:
        # With rank 1, FTS5 also compares the index with the content table's rows.
        cursor.execute(
            "INSERT INTO core_search_fts(core_search_fts, rank) VALUES('integrity-check', 1)"
        )
        for entry in SearchEntry.objects.all():
            cursor.execute(
                "SELECT rowid FROM core_search_fts WHERE core_search_fts MATCH %s",
                ['"' + entry.text[:12].replace('"', '""') + '"'],
            )
            assert entry.pk in {row[0] for row in cursor.fetchall()}, entry.text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_imported_entries_are_indexed_batch_by_batch_and_undo_unindexes_them(personas, tmp_path):
    before_triggers = triggers()
    contact_create(
        actor=personas.rep_a, first_name="Existing", last_name="Person", emails=["old@x.ir"]
    )
    lines = ["First name,Last name,Email,Mobile,City"]
    for n in range(40):
        # Rows 30-39 repeat rows 0-9 of earlier batches with another mobile: their
        # records are updated and the entries written by the earlier batches replaced.
        k = n % 30
        mobile = f"0912{k:07d}" if n < 30 else f"0935{k:07d}"
        lines.append(f"Zarin{k},Farahani{k},z{k}@x.ir,{mobile},City{n}")
    lines.append("Existing,Person,old@x.ir,09121112233,Yazd")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")

    job = import_file(
        actor=personas.rep_a,
        path=path,
        target="contacts",
        options={"on_duplicate": "update", "batch": 7},
    )

    assert (job.created, job.updated) == (30, 11)
    assert triggers() == before_triggers
    assert_index_matches_entries()
    hits = search(personas.rep_a, "Farahani17")
    assert [h.title for h in hits] == ["Zarin17 Farahani17"]
    assert [h.title for h in search(personas.rep_a, "09121112233")] == ["Existing Person"]
    assert [h.title for h in search(personas.rep_a, "09350000004")] == ["Zarin4 Farahani4"]

    import_undo(actor=personas.rep_a, job=job)
    assert triggers() == before_triggers
    assert_index_matches_entries()
    assert search(personas.rep_a, "Farahani17") == []
    assert [h.title for h in search(personas.rep_a, "Existing")] == ["Existing Person"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_a_batch_indexes_its_entries_in_one_statement(personas, tmp_path):
    from django.test.utils import CaptureQueriesContext

    lines = ["First name,Last name,Email"] + [f"A{n},B{n},a{n}@x.ir" for n in range(30)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    with CaptureQueriesContext(connection) as queries:
        import_file(actor=personas.rep_a, path=path, target="contacts")
    fts = [q["sql"] for q in queries if q["sql"].startswith("INSERT INTO core_search_fts")]
    assert len(fts) == 1
    assert_index_matches_entries()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_a_batch_that_creates_and_updates_indexes_both_in_one_statement(personas, tmp_path):
    from django.test.utils import CaptureQueriesContext

    contact_create(actor=personas.rep_a, first_name="Old", last_name="One", emails=["o@x.ir"])
    lines = ["First name,Last name,Email,City"] + [f"A{n},B{n},a{n}@x.ir," for n in range(5)]
    lines.append("Old,One,o@x.ir,Kerman")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    with CaptureQueriesContext(connection) as queries:
        job = import_file(
            actor=personas.rep_a, path=path, target="contacts", options={"on_duplicate": "update"}
        )
    assert (job.created, job.updated) == (5, 1)
    fts = [q["sql"] for q in queries if q["sql"].startswith("INSERT INTO core_search_fts")]
    assert len(fts) == 2  # the replaced entry out of the index, then the batch's entries in
    assert_index_matches_entries()
    assert [h.title for h in search(personas.rep_a, "Old One")] == ["Old One"]
    assert [h.title for h in search(personas.rep_a, "a3@x.ir")] == ["A3 B3"]
