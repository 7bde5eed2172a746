"""iCalendar import: calendar exports become meetings and tasks, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wasl.activities.models import Activity
from wasl.contacts.services import contact_create
from wasl.core.errors import Invalid
from wasl.imports import mapping as m
from wasl.imports.parsers import UnreadableFile, open_table
from wasl.imports.services import import_file, import_undo

pytestmark = pytest.mark.django_db

CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Phone calendar//EN\r
BEGIN:VTIMEZONE\r
TZID:Asia/Tehran\r
BEGIN:STANDARD\r
DTSTART:19700101T000000\r
TZOFFSETFROM:+0330\r
TZOFFSETTO:+0330\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:meeting-1@example.com\r
DTSTAMP:20261201T080000Z\r
DTSTART;TZID=Asia/Tehran:20261207T103000\r
DTEND;TZID=Asia/Tehran:20261207T113000\r
SUMMARY:جلسه با آقای رضایی\r
DESCRIPTION:Price list\\, delivery dates\\nand the contract\r
LOCATION:Tehran office\r
ORGANIZER:mailto:boss@example.com\r
ATTENDEE;CN=Someone:mailto:stranger@example.com\r
ATTENDEE;CN=Reza:mailto:Reza@Example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:all-day@example.com\r
DTSTAMP:20261201T080000Z\r
DTSTART;VALUE=DATE:20261210\r
DURATION:P1D\r
SUMMARY:Exhibition\r
END:VEVENT\r
BEGIN:VTODO\r
UID:todo-1@example.com\r
DTSTAMP:20261201T080000Z\r
DUE:20261205T120000Z\r
COMPLETED:20261204T090000Z\r
STATUS:COMPLETED\r
SUMMARY:Send the estimate\r
END:VTODO\r
END:VCALENDAR\r
"""


def write(tmp_path: Path, text: str, name: str = "calendar.ics") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_events_and_todos_become_rows_with_utc_times(tmp_path):
    table = open_table(write(tmp_path, CALENDAR))
    rows = [cells for _number, cells in table.rows]
    assert table.file_format == "ics"
    by_subject = {cells[1]: dict(zip(table.headers, cells, strict=True)) for cells in rows}
    meeting = by_subject["جلسه با آقای رضایی"]
    assert meeting["Type"] == "meeting"
    assert meeting["Start"] == "2026-12-07T07:00:00+00:00"
    assert meeting["End"] == "2026-12-07T08:00:00+00:00"
    assert meeting["Description"] == "Price list, delivery dates\nand the contract"
    assert meeting["Attendees"] == "stranger@example.com, Reza@Example.com"
    assert by_subject["Exhibition"]["Start"] == "2026-12-10"
    assert by_subject["Exhibition"]["End"] == "2026-12-11T00:00:00"
    todo = by_subject["Send the estimate"]
    assert (todo["Type"], todo["Start"], todo["Completed"]) == (
        "task",
        "2026-12-05T12:00:00+00:00",
        "2026-12-04T09:00:00+00:00",
    )


def test_calendar_columns_map_themselves():
    table_headers = ["Type", "Subject", "Description", "Location", "Start", "End"]
    table_headers += ["Completed", "Attendees", "Organizer", "UID"]
    mapping = m.suggest_mapping(table_headers, "activities")
    assert mapping == {
        "Type": "kind",
        "Subject": "subject",
        "Description": "body",
        "Location": "location",
        "Start": "due_at",
        "End": "ends_at",
        "Completed": "done_at",
        "Attendees": "contact_email",
        "Organizer": "",
        "UID": "external_id",
    }


def test_import_links_the_attendee_who_is_a_contact_and_runs_once(personas, tmp_path):
    reza = contact_create(
        actor=personas.rep_a, first_name="Reza", last_name="Rezaei", emails=["reza@example.com"]
    )
    path = write(tmp_path, CALENDAR)
    job = import_file(actor=personas.rep_a, path=path, target="activities")
    assert (job.created, job.failed) == (3, 0), list(
        job.row_errors.values_list("reason", flat=True)
    )
    meeting = Activity.objects.get(subject="جلسه با آقای رضایی")
    assert meeting.kind == "meeting"
    assert meeting.contact == reza
    assert meeting.owner == personas.rep_a
    assert meeting.due_at == dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)
    assert meeting.ends_at == dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
    assert meeting.location == "Tehran office"
    task = Activity.objects.get(subject="Send the estimate")
    assert task.kind == "task"
    assert task.done_at == dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

    again = import_file(actor=personas.rep_a, path=path, target="activities")
    assert (again.created, again.skipped, again.failed) == (0, 3, 0)
    assert Activity.objects.filter(owner=personas.rep_a).count() == 3

    # Another person's copy of the same calendar is theirs, not skipped as rep_a's.
    other = import_file(actor=personas.rep_b, path=path, target="activities")
    assert other.created == 3
    assert Activity.objects.get(owner=personas.rep_b, subject="جلسه با آقای رضایی").contact is None

    import_undo(actor=personas.rep_a, job=job)
    assert not Activity.objects.filter(owner=personas.rep_a).exists()
    assert Activity.objects.filter(owner=personas.rep_b).count() == 3


def test_a_file_without_events_or_a_broken_one_is_refused_in_one_line(tmp_path):
    empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
    with pytest.raises(UnreadableFile) as raised:
        open_table(write(tmp_path, empty))
    assert "no events" in raised.value.message
    with pytest.raises(UnreadableFile) as raised:
        open_table(write(tmp_path, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nnonsense", "x.ics"))
    assert "\n" not in raised.value.message


def test_every_shared_calendar_reads_or_is_refused_cleanly(shared_data, personas, tmp_path):
    files = sorted((shared_data / "icalendar-samples").rglob("*.ics"))
    assert len(files) > 100
    read = refused = 0
    for path in files:
        try:
            table = open_table(path)
            rows = list(table.rows)
            table.close()
        except UnreadableFile as error:
            assert "\n" not in error.message and error.message, path
            refused += 1
            continue
        assert all(len(cells) == len(table.headers) for _number, cells in rows), path
        read += 1
    assert read > 80
    assert refused > 0


def test_shared_calendars_import_row_by_row_without_crashing(shared_data, personas):
    folder = shared_data / "icalendar-samples"
    names = ["vobject/radicale-0816.ics", "vobject/tzid_8bit.ics"]
    files = [folder / name for name in names if (folder / name).exists()]
    files += sorted((folder / "collective-icalendar").rglob("*.ics"))[:30]
    for path in files:
        try:
            job = import_file(actor=personas.rep_a, path=path, target="activities")
        except Invalid as error:
            assert error.fields["file"], path
            continue
        assert job.created + job.updated + job.skipped + job.failed == job.processed, path
        for reason in job.row_errors.values_list("reason", flat=True):
            assert reason and "Traceback" not in reason
