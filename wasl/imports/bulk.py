"""The batch loop of the set-based import (contacts, companies, leads); see `engine`."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import marshal
import multiprocessing
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wasl.contacts.models import Company, Contact, ContactCompany, ContactPoint
from wasl.core.audit import json_value
from wasl.core.visibility import visible
from wasl.imports import engine as e
from wasl.imports.engine import Clean, Counts, Existing, Options, RowError
from wasl.imports.models import ImportJob
from wasl.leads.models import Lead

COMMON = ["id", "created_at", "updated_at", "public_id", "custom", "owner_id", "team_id"]
POINT_COLUMNS = ["kind", "label", "value", "digits", "position", "contact_id", "company_id"]
MEMBER_COLUMNS = ["role", "is_primary", "company_id", "contact_id"]
# Created records are inserted this many at a time within their batch's transaction: a
# whole batch's rows, audit JSON and events held at once were most of the writer's
# memory. The search entries go in once a batch (their index is fed set by set).
WRITE_CHUNK = 1000


def _audit_fields(kind: str) -> list[str]:
    extra = ["status", "disqualify_reason", "score"] if kind == "lead" else []
    fields = [f for f in e.RECORD_FIELDS[kind] if f not in ("phone_digits", "status")]
    return [*fields, *extra, "owner", "custom", *(["primary_company"] if kind == "contact" else [])]


class Prepared(NamedTuple):
    """The normalised text of a new record, which the cleaning workers compute: the
    writer only assembles it with the company it finds or creates."""

    name_key: str
    title: str
    company_key: str
    tag_keys: tuple[str, ...]
    # A company's or lead's search subtitle and text. A contact's text is its normalised
    # name, its company or first e-mail, its e-mails, its company again, then `text`
    # (its tags and phone digits); `emails` are its e-mails normalised.
    subtitle: str
    text: str
    emails: tuple[str, ...]


# What `db_json` makes of a string (its encoder's own function for strings), without
# building an encoder's state per value.
_json_text = encode_basestring


def _json_list(values: list[str]) -> str:
    if not values:
        return "[]"
    return "[" + ",".join(map(_json_text, values)) + "]"


_WORKER_IMPORT: BulkImport | None = None


class KeyFilter:
    """A Bloom filter of the keys met in earlier batches of a dry run: 16 MiB whatever
    the file's size; one key in ~16,000 may be taken for a repeat (at 3 million keys)."""

    BITS = 1 << 27
    PROBES = 4

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS // 8)

    def _positions(self, key: str) -> list[int]:
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        mask = self.BITS - 1
        return [
            int.from_bytes(digest[i * 4 : i * 4 + 4], "little") & mask for i in range(self.PROBES)
        ]

    def add(self, key: str) -> None:
        for position in self._positions(key):
            self.bits[position >> 3] |= 1 << (position & 7)

    def __contains__(self, key: str) -> bool:
        return all(self.bits[p >> 3] & (1 << (p & 7)) for p in self._positions(key))


# Batches travel to and from the cleaning workers as `marshal` data: plain tuples, lists,
# dicts and strings, written and read in C without pickle's memo or a class lookup per
# object (pickling the cells, the `Clean` records and their `Prepared` tuples cost more
# CPU than the cleaning of the phones). Both ends are the same interpreter (forked). A
# batch holding anything else (a date, a Decimal in a custom field) goes as a pickle.
_MARSHALLED, _PICKLED = 0, 1
_ROW_ERROR = 0
_CLEAN = 1


def _pack(value: Any) -> tuple[int, Any]:
    try:
        return _MARSHALLED, marshal.dumps(value)
    except ValueError:
        return _PICKLED, value


def _unpack(packed: tuple[int, Any]) -> Any:
    how, value = packed
    # Only ever bytes this import's own forked processes wrote.
    return marshal.loads(value) if how == _MARSHALLED else value  # noqa: S302


def _clean_in_worker(packed: tuple[int, Any]) -> tuple[int, Any]:
    """Runs in a forked worker: clean a batch, compute its duplicate keys and what the
    writer needs to create each record. What goes back is a tuple a row (see
    `_received`): not the cells, which the writer has, and owners as ids."""
    importer = _WORKER_IMPORT
    assert importer is not None
    cleaner = importer.cleaner
    kind, match_on = cleaner.kind, cleaner.options.match_on
    # The previous batch's garbage (automatic collection is off, see `run`).
    _collect_young()
    out: list[tuple[Any, ...]] = []
    for row, cells in _unpack(packed):
        result = cleaner.clean(row, cells)
        if isinstance(result, RowError):
            out.append((_ROW_ERROR, result.row, result.reason))
            continue
        owner = result.owner
        out.append(
            (
                _CLEAN,
                result.row,
                result.fields,
                result.emails,
                result.phones,
                result.tags,
                result.company,
                result.company_role,
                owner.pk if owner is not None else None,
                result.custom,
                result.keys(kind, match_on),
                tuple(importer.prepare(result)),
            )
        )
    return _pack(out)


def _received(
    items: list[tuple[int, list[str]]], packed: tuple[int, Any], users: dict[int, Any]
) -> list[Clean | RowError]:
    """A worker's results as records again, with their cells and owners (a result per
    item, in order)."""
    results: list[Clean | RowError] = []
    make_prepared = Prepared._make
    for values, (_row, cells) in zip(_unpack(packed), items, strict=True):
        if values[0] == _ROW_ERROR:
            results.append(RowError(values[1], values[2], cells))
            continue
        (_tag, row, fields, emails, phones, tags, company, role, owner, custom, keys, prep) = values
        results.append(
            Clean(
                row,
                cells,
                fields,
                emails,
                phones,
                tags,
                company,
                role,
                users[owner] if owner is not None else None,
                custom,
                keys,
                make_prepared(prep),
            )
        )
    return results


def new_public_ids(count: int) -> list[str]:
    """`count` time-ordered UUIDs (RFC 9562 version 7) as 32 hex digits, increasing in
    the order given: the Unix time in milliseconds, then 74 random bits (from one read
    of the system's random source for them all), sorted.

    Random (version 4) ids put each created record's key on a random page of the unique
    public id index, so every batch dirtied most of that index's pages and its commit
    wrote them all; these go in at the end of it. The random part keeps them as hard to
    guess as ever: knowing one id says nothing useful about the next."""
    raw = os.urandom(10 * count)
    random_bits = sorted(
        int.from_bytes(raw[i : i + 10]) & _RANDOM_MASK for i in range(0, 10 * count, 10)
    )
    prefix = (time.time_ns() // 1_000_000 & _MILLIS_MASK) << 80 | 0x7 << 76 | 0x2 << 62
    return [f"{prefix | r >> 62 << 64 | r & _RAND_B_MASK:032x}" for r in random_bits]


# A version 7 UUID: 48 bits of milliseconds, the version (4 bits), 12 random bits
# ("rand_a"), the variant (2 bits), 62 random bits ("rand_b").
_MILLIS_MASK = (1 << 48) - 1
_RANDOM_MASK = (1 << 74) - 1
_RAND_B_MASK = (1 << 62) - 1


def _dashed(hex_id: str) -> str:
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def _uuid_text(value: Any) -> str:
    """A public id as the ORM gives it, in its usual text form (SQLite stores 32 hex
    digits, PostgreSQL a uuid)."""
    if value.__class__ is str and len(value) == 32:
        # SQLite's column (the hex digits the ORM writes): cut rather than parsed, which
        # was most of the matched records' set-up.
        return _dashed(value.lower())
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _stamp_json(value: Any) -> str | None:
    """A time read with raw SQL as the audit trail's JSON keeps it (`json_value` of the
    aware datetime the ORM would give)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return str(json_value(value))


@contextmanager
def _collect_between_batches() -> Iterator[None]:
    """Switch the cycle collector's automatic runs off for the loop; the loop collects
    the young generations itself between batches (`_collect_young`).

    A batch allocates hundreds of thousands of tuples, lists and dicts, which are freed
    by reference counting, but their allocation triggered ~500 automatic collections a
    100,000-row import, three of them over the whole heap (Django's objects included):
    about a second of the writer's CPU. The import makes no reference cycles of its own,
    so what a collection between batches finds is bounded by one batch. Processes forked
    meanwhile (the cleaning workers) inherit the switch and collect the same way.

    The switch is the process's: other threads (a threaded server checking a file in a
    request) go without automatic runs meanwhile too, their cycles collected between the
    batches or after. Two imports in one process leave it on when the first one to have
    found it on ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _collect_young() -> None:
    """Collect the garbage cycles of the batch just finished (cheap: only the objects
    allocated since the last collection and still alive are scanned)."""
    gc.collect(1)


def _batched(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class BulkImport:
    """Imports rows of one kind in batches; with `dry_run` it only counts and reports."""

    def __init__(
        self,
        *,
        actor: Any,
        job: ImportJob | None,
        target: str,
        headers: list[str],
        columns: dict[str, str],
        options: Options,
        dry_run: bool,
        progress: Callable[[Counts], None] | None = None,
    ) -> None:
        self.actor = actor
        self.job = job
        self.kind = e.KIND_OF[target]
        self.model = e.MODELS[self.kind]
        self.options = options
        self.policy = options.on_duplicate
        self.dry_run = dry_run
        self.progress = progress
        self.resolver = e.Resolver(actor, target, options)
        self.cleaner = e.RowCleaner(
            kind=self.kind, headers=headers, columns=columns, resolver=self.resolver
        )
        self.matcher = e.Matcher(actor, self.kind)
        self.counts = Counts()
        self.errors: list[RowError] = []
        self.keep_errors = job is None
        # Keys of the rows met in earlier batches of a dry run (nothing is written, so
        # the database cannot tell later batches about them); hashes keep it small.
        self.seen = KeyFilter() if dry_run else None
        self.content_type_id = ContentType.objects.get_for_model(self.model).pk
        self.company_type_id = ContentType.objects.get_for_model(Company).pk
        self.actor_id = getattr(actor, "pk", None)
        self.job_public_id = str(job.public_id) if job else None
        # The same on every row: encoded once.
        self.import_data = e.db_json({"import_id": self.job_public_id})
        self.import_id_json = e.db_json(self.job_public_id)
        self.created_tags: list[int] = []
        self.owner_public: dict[int, str] = {}
        self.fields = e.RECORD_FIELDS[self.kind]
        self.defaults = self._defaults()
        audit_fields = _audit_fields(self.kind)
        # The audit fields a created record takes from its columns, in the order the
        # services list them; the others (owner, custom, company, points) follow.
        self.audit_value_fields = [f for f in audit_fields if f in self.defaults]
        self.audit_keys = {
            name: f"{_json_text(name)}:[null,"
            for name in [*audit_fields, "emails", "phones", "tags"]
        }
        self.audit_blank = {name: f'{key}""]' for name, key in self.audit_keys.items()}
        self.sqlite = connection.vendor == "sqlite"
        self._changes_templates: dict[tuple[str, ...], Any] = {}
        self._pending_search: list[tuple[Any, ...]] = []

    # ------------------------------------------------------------ loop

    def run(self, rows: Iterator[tuple[int, list[str]]], *, workers: int = 1) -> Counts:
        """Import the rows; with `workers` > 1, rows are cleaned in that many forked
        processes while this one matches and writes (a few batches read ahead, so memory
        stays bounded)."""
        with _collect_between_batches():
            return self._run(_batched(rows, self.options.batch), workers)

    def _run(self, batches: Iterator[list[tuple[int, list[str]]]], workers: int) -> Counts:
        if workers <= 1:
            for items in batches:
                self._batch(items, self._clean(items))
                _collect_young()
            return self.counts
        self.resolver.preload()
        global _WORKER_IMPORT
        _WORKER_IMPORT = self
        users = {u.pk: u for u in self.resolver.users().values()}
        if self.resolver.default_owner is not None:
            users[self.resolver.default_owner.pk] = self.resolver.default_owner
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            pending: deque[tuple[list[tuple[int, list[str]]], Any]] = deque()
            for items in batches:
                pending.append((items, pool.apply_async(_clean_in_worker, (_pack(items),))))
                if len(pending) > workers:
                    done, result = pending.popleft()
                    self._batch(done, _received(done, result.get(), users))
                    del done, result
                    _collect_young()
            while pending:
                done, result = pending.popleft()
                self._batch(done, _received(done, result.get(), users))
                del done, result
                _collect_young()
        _WORKER_IMPORT = None
        return self.counts

    def _clean(self, items: list[tuple[int, list[str]]]) -> list[Clean | RowError]:
        return [self.cleaner.clean(row, cells) for row, cells in items]

    def _batch(self, items: list[tuple[int, list[str]]], results: list[Clean | RowError]) -> None:
        cleaned: list[Clean] = []
        errors: list[RowError] = []
        for result in results:
            (errors if isinstance(result, RowError) else cleaned).append(result)  # type: ignore[arg-type]
        match_on = self.options.match_on
        keys_of = [
            c.keys(self.kind, match_on) if c.match_keys is None else c.match_keys for c in cleaned
        ]
        wanted = {k for keys in keys_of for k in keys}
        found = self.matcher.find(wanted) if wanted else {}
        existing: dict[int, Existing] = {}
        if found:
            ids = set(found.values())
            owners: dict[int, tuple[int, int | None]] = {}
            public: dict[int, str] = {}
            table = e.quote(self.model._meta.db_table)
            for pk, owner, team, public_id in e.select_in(
                f"SELECT id, owner_id, team_id, public_id FROM {table} WHERE id IN ({{marks}})",  # noqa: S608
                list(ids),
            ):
                owners[pk] = (owner, team)
                public[pk] = public_id
            writable = self.matcher.writable(ids, owners)
            for pk in ids:
                existing[pk] = Existing(
                    kind=self.kind,
                    pk=pk,
                    public_id=_uuid_text(public[pk]),
                    writable=pk in writable,
                )
        pending: list[Clean] = []
        index: dict[str, int] = {}
        updates: list[tuple[Existing, Clean]] = []
        created = updated = skipped = 0
        for clean, keys in zip(cleaned, keys_of, strict=True):
            match = next((found[k] for k in keys if k in found), None)
            if match is not None:
                record = existing[match]
                if not record.writable:
                    errors.append(
                        RowError(
                            clean.row,
                            _("Matches an existing record you may not change; left as it is."),
                            clean.cells,
                        )
                    )
                    continue
                if self.policy == "skip":
                    skipped += 1
                else:
                    updates.append((record, clean))
                continue
            position = next((index[k] for k in keys if k in index), None)
            if position is None and self.seen is not None and keys:
                if any(k in self.seen for k in keys):
                    if self.policy == "skip":
                        skipped += 1
                    else:
                        updated += 1
                    continue
                for k in keys:
                    self.seen.add(k)
            if position is not None:
                if self.policy != "skip" and e.merge_into_pending(
                    pending[position], clean, self.policy
                ):
                    pending[position].prepared = None
                    updated += 1
                else:
                    skipped += 1
                for k in keys:
                    index.setdefault(k, position)
                continue
            for k in keys:
                index.setdefault(k, len(pending))
            pending.append(clean)
            created += 1
        if updates:
            e.load_existing(self.kind, {r.pk: r for r, _c in updates})
        changed_records: dict[int, Existing] = {}
        for record, clean in updates:
            if e.merge_into_existing(record, clean, self.policy, self.kind):
                updated += 1
                changed_records[record.pk] = record
            else:
                skipped += 1
        counts = self.counts
        counts.total += len(items)
        counts.created += created
        counts.updated += updated
        counts.skipped += skipped
        counts.failed += len(errors)
        if not self.dry_run:
            # The batch, its undo records, its refused rows and the job's progress commit
            # together: one commit (one fsync) per batch.
            with transaction.atomic():
                self._write(pending, list(changed_records.values()), errors)
                if self.progress is not None:
                    self.progress(counts)
        else:
            if self.job is not None:
                e.save_row_errors(self.job.pk, errors, dry_run=True)
            if self.progress is not None:
                self.progress(counts)
        if self.keep_errors:
            self.errors.extend(errors)

    # ------------------------------------------------------------ writes

    def _created_data(self, public: str | uuid.UUID) -> str:
        """The `<kind>.created` event's data, as `db_json` writes it (a UUID needs no
        escaping)."""
        return f'{{"id":"{public}","import_id":{self.import_id_json}}}'

    def _owner_public(self, owner: Any) -> str:
        value = self.owner_public.get(owner.pk)
        if value is None:
            value = self.owner_public[owner.pk] = str(owner.public_id)
        return value

    def prepare(self, clean: Clean) -> Prepared:
        """The normalised keys and search text of the record the row would create."""
        kind = self.kind
        norm = e.fast_normalise
        fields = clean.fields
        emails: tuple[str, ...] = ()
        if kind == "contact":
            first, last = fields.get("first_name", ""), fields.get("last_name", "")
            title = " ".join(p for p in (first, last) if p)
            name_key = norm(f"{first} {last}")
            subtitle = ""
            emails = tuple(n for n in (norm(v) for _l, v in clean.emails) if n)
            text = " ".join(
                [n for n in map(norm, sorted(clean.tags)) if n]
                + [d for _l, _v, d in clean.phones if d]
            )
        else:
            values = {**self.defaults, **fields}
            name_key = norm(values["name"]) if kind == "company" else ""
            title, subtitle, text = self._search_parts(
                values, clean.emails, clean.phones, [], clean.tags
            )
        return Prepared(
            name_key=name_key,
            title=title[:300],
            company_key=norm(clean.company) if clean.company else "",
            tag_keys=tuple(norm(t) for t in clean.tags),
            subtitle=subtitle[:300],
            text=text,
            emails=emails,
        )

    def _created_changes(self, values: dict[str, Any], clean: Clean, company: str | None) -> str:
        """The created record's audit changes (`{field: [null, value]}`), as `db_json`
        encodes them, a field at a time: the same text, a third of the time."""
        keys, blank = self.audit_keys, self.audit_blank
        parts = []
        fields = clean.fields
        template = self._changes_templates.get(tuple(fields), False)
        if template is False:
            template = self._changes_template(fields)
        if template:
            # The row's fields are all non-empty text: the blanks around them are the
            # template's constants, and only the row's own values are encoded.
            texts, names = template
            pieces = [texts[0]]
            for name, text in zip(names, texts[1:], strict=True):
                value = fields[name]
                if value.__class__ is not str or not value:
                    break
                pieces.append(_json_text(value))
                pieces.append(text)
            else:
                parts.append("".join(pieces))
        if not parts:
            for name in self.audit_value_fields:
                value = values[name]
                if value.__class__ is str:
                    parts.append(keys[name] + _json_text(value) + "]" if value else blank[name])
                elif value is not None:
                    if isinstance(value, dt.date):
                        value = value.isoformat()
                    parts.append(keys[name] + e.db_json(value) + "]")
        parts.append(keys["owner"] + _json_text(self._owner_public(clean.owner)) + "]")
        parts.append(keys["custom"] + (e.db_json(clean.custom) if clean.custom else "{}") + "]")
        if company is not None:
            parts.append(keys["primary_company"] + _json_text(company) + "]")
        if self.kind != "lead":
            parts.append(keys["emails"] + _json_list([v for _l, v in clean.emails]) + "]")
            parts.append(keys["phones"] + _json_list([v for _l, v, _d in clean.phones]) + "]")
        parts.append(keys["tags"] + _json_list(sorted(clean.tags)) + "]")
        return "{" + ",".join(parts) + "}"

    def _changes_template(self, fields: dict[str, Any]) -> tuple[list[str], list[str]] | None:
        """For rows whose fields are these names with text values, the encoded audit
        fields as constant pieces around the values: (pieces, the names between them).
        None when another field's default is a value (a lead's status) or there is
        nothing to write."""
        texts, names = [""], []
        first = True
        for name in self.audit_value_fields:
            if name in fields:
                texts[-1] += ("" if first else ",") + self.audit_keys[name]
                names.append(name)
                texts.append("]")
            elif self.defaults[name] == "":
                texts[-1] += ("" if first else ",") + self.audit_blank[name]
            elif self.defaults[name] is not None:
                self._changes_templates[tuple(fields)] = None
                return None
            else:
                continue
            first = False
        template = (texts, names) if names or texts[0] else None
        self._changes_templates[tuple(fields)] = template
        return template

    def _write(self, pending: list[Clean], changed: list[Existing], errors: list[RowError]) -> None:
        now = timezone.now()
        stamp = e.db_datetime(now)
        job_id = self.job.pk if self.job else None
        kind = self.kind
        prepared = [c.prepared or self.prepare(c) for c in pending]
        tag_names = [t for c in pending for t in c.tags] + [t for r in changed for t in r.new_tags]
        tag_ids = e.ensure_tags(tag_names, self.created_tags)
        companies: dict[str, tuple[int, str, str]] = {}
        if kind == "contact":
            wanted: dict[str, str] = {}
            owners: dict[str, Any] = {}
            for clean, prep in zip(pending, prepared, strict=True):
                if clean.company:
                    wanted.setdefault(prep.company_key, clean.company.strip())
                    owners[prep.company_key] = clean.owner
            for record in changed:
                if record.new_company:
                    key = e.fast_normalise(record.new_company)
                    wanted.setdefault(key, record.new_company.strip())
            companies = self._ensure_companies(wanted, owners, stamp)
        ids = e.allocate_ids(self.model, len(pending))
        audit_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        search_rows: list[tuple[Any, ...]] = []
        record_rows: list[tuple[Any, ...]] = []
        point_rows: list[tuple[Any, ...]] = []
        member_rows: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[int, int]] = []
        event_name = f"{kind}.created"
        sqlite = self.sqlite
        contact = kind == "contact"
        actor_id, content_type_id, import_data = (
            self.actor_id,
            self.content_type_id,
            self.import_data,
        )
        company_norms: dict[int, str] = {}
        birthday_index = (
            len(COMMON) + self.fields.index("birthday") if "birthday" in self.fields else 0
        )
        defaults, fields = self.defaults, self.fields
        birthday = "birthday" in fields
        lead = kind == "lead"
        # The record's columns in `fields` order, read from its values in one C call.
        field_values = itemgetter(*fields)
        for pk, clean, prep, hex_id in zip(
            ids, pending, prepared, new_public_ids(len(ids)), strict=True
        ):
            public = _dashed(hex_id)
            pid = hex_id if sqlite else public
            owner = clean.owner
            owner_id, team_id = owner.pk, owner.team_id
            values = {**defaults, **clean.fields}
            company = companies.get(prep.company_key) if prep.company_key else None
            row = [
                pk,
                stamp,
                stamp,
                pid,
                e.db_json(clean.custom) if clean.custom else "{}",
                owner_id,
                team_id,
                *field_values(values),
            ]
            if birthday and values["birthday"] is not None:
                row[birthday_index] = values["birthday"].isoformat()
            if lead:
                row.extend(("", 0))
            elif contact:
                row.extend((prep.name_key, company[0] if company else None))
            else:
                row.append(prep.name_key)
            record_rows.append(tuple(row))
            link = (pk, None) if contact else (None, pk)
            position = 0
            for label, value in clean.emails:
                point_rows.append(("email", label, value, "", position, *link))
                position += 1
            for label, e164, digits in clean.phones:
                point_rows.append(("phone", label, e164, digits, position, *link))
                position += 1
            for key in prep.tag_keys:
                tag_rows.append((pk, tag_ids[key]))
            if not contact:
                text, subtitle = prep.text, prep.subtitle
            elif company:
                company_id, company_name, _public = company
                member_rows.append((clean.company_role, True, company_id, pk))
                normed = company_norms.get(company_id)
                if normed is None:
                    normed = company_norms[company_id] = e.fast_normalise(company_name)
                parts = (prep.name_key, normed, *prep.emails, normed, prep.text)
                text = " ".join(filter(None, parts))[:4000]
                subtitle = company_name[:300]
            else:
                first = prep.emails[:1]
                parts = (prep.name_key, *first, *prep.emails, prep.text)
                text = " ".join(filter(None, parts))[:4000]
                subtitle = clean.emails[0][1][:300] if clean.emails else ""
            search_rows.append(
                (kind, pk, pid, prep.title, subtitle, owner_id, team_id, text, stamp)
            )
            changes = self._created_changes(values, clean, company[2] if company else None)
            audit_rows.append(
                (
                    actor_id,
                    "create",
                    content_type_id,
                    pk,
                    pid,
                    prep.title or "—",
                    changes,
                    import_data,
                    stamp,
                )
            )
            event_rows.append(
                (
                    event_name,
                    content_type_id,
                    pk,
                    actor_id,
                    self._created_data(public),
                    stamp,
                    0,
                    "",
                )
            )
            if len(record_rows) >= WRITE_CHUNK:
                self._flush(record_rows, point_rows, member_rows, tag_rows, audit_rows, event_rows)
        self._flush(record_rows, point_rows, member_rows, tag_rows, audit_rows, event_rows)
        if changed:
            self._write_updates(changed, companies, tag_ids, stamp)
        # The updated records' entries replaced and the new records' added in one go:
        # on SQLite, one pass of the trigram index (and its triggers' DDL) a batch.
        e.write_search(self._pending_search, replace=True, new_rows=search_rows)
        self._pending_search = []
        if job_id is not None:
            e.save_created(job_id, kind, ids)
            e.save_created(job_id, "tag", self.created_tags)
            self.created_tags = []
            e.save_row_errors(job_id, errors, dry_run=False)

    def _flush(self, *lists: list[tuple[Any, ...]]) -> None:
        """Insert the rows gathered so far (records, points, company links, tags, audit
        rows, events) and empty the lists."""
        record_rows, point_rows, member_rows, tag_rows, audit_rows, event_rows = lists
        kind = self.kind
        columns = [*COMMON, *self.fields]
        if kind == "lead":
            columns.extend(("disqualify_reason", "score"))
        if kind in ("contact", "company"):
            columns.append("name_key")
        if kind == "contact":
            columns.append("primary_company_id")
        with connection.cursor() as cursor:
            if record_rows:
                cursor.executemany(e.insert_sql(self.model._meta.db_table, columns), record_rows)
            if point_rows:
                cursor.executemany(
                    e.insert_sql(ContactPoint._meta.db_table, POINT_COLUMNS), point_rows
                )
            if member_rows:
                cursor.executemany(
                    e.insert_sql(ContactCompany._meta.db_table, MEMBER_COLUMNS), member_rows
                )
            if tag_rows:
                through = self.model.tags.through  # type: ignore[attr-defined]
                cursor.executemany(
                    e.insert_sql(through._meta.db_table, [f"{kind}_id", "tag_id"]), tag_rows
                )
        e.write_audit(audit_rows)
        e.write_events(event_rows)
        for rows in lists:
            rows.clear()

    def _defaults(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: "" for name in e.RECORD_FIELDS[self.kind]}
        if self.kind == "contact":
            values["birthday"] = None
        if self.kind == "lead":
            values["status"] = "new"
            values["source"] = "import"
        return values

    def _search_parts(
        self,
        values: dict[str, Any],
        emails: list[tuple[str, str]],
        phones: list[tuple[str, str, str]],
        company_names: list[str],
        tags: list[str],
    ) -> tuple[str, str, str]:
        """Title, subtitle and text as the app's index function writes them."""
        norm = e.fast_normalise
        if self.kind == "contact":
            title = " ".join(p for p in (values["first_name"], values["last_name"]) if p)
            email_values = [v for _l, v in emails]
            subtitle = (
                company_names[0] if company_names else (email_values[0] if email_values else "")
            )
            parts = [title, subtitle, *email_values, *company_names, *sorted(tags)]
            digits = [d for _l, _v, d in phones]
        elif self.kind == "company":
            title = values["name"]
            email_values = [v for _l, v in emails]
            subtitle = values["city"] or values["website"]
            parts = [title, subtitle, values["website"], *email_values, *sorted(tags)]
            digits = [d for _l, _v, d in phones]
        else:
            person = " ".join(p for p in (values["first_name"], values["last_name"]) if p)
            title = person or values["company_name"] or values["email"]
            subtitle = values["company_name"]
            parts = [title, subtitle, values["email"], *sorted(tags)]
            digits = [values["phone_digits"]] if values.get("phone") else []
        return title, subtitle, e.entry_text_normed([norm(p) for p in parts if p], digits)

    def _ensure_companies(
        self, wanted: dict[str, str], owners: dict[str, Any], stamp: Any
    ) -> dict[str, tuple[int, str, str]]:
        """Normalised name → (id, name, public id) of a visible company, for `wanted`
        (normalised name → name as written), creating the missing ones (owned by the
        row's owner)."""
        if not wanted:
            return {}
        found: dict[str, tuple[int, str, str]] = {}
        scope = (
            Company.objects.all()
            if self.matcher.admin
            else visible(Company.objects.all(), self.actor)
        )
        for chunk in e._chunks(list(wanted), 2000):
            for pk, key, name, public in (
                scope.filter(name_key__in=chunk)
                .order_by("-pk")
                .values_list("pk", "name_key", "name", "public_id")
            ):
                found[key] = (pk, name, str(public))
        missing = [key for key in wanted if key not in found]
        if not missing:
            return found
        ids = e.allocate_ids(Company, len(missing))
        sqlite = connection.vendor == "sqlite"
        rows, search_rows, audit_rows, event_rows = [], [], [], []
        for pk, key, hex_id in zip(ids, missing, new_public_ids(len(ids)), strict=True):
            public = uuid.UUID(hex=hex_id)
            owner = owners.get(key) or self.resolver.default_owner
            name = wanted[key][:200]
            pid = public.hex if sqlite else str(public)
            rows.append(
                (
                    pk,
                    stamp,
                    stamp,
                    pid,
                    "{}",
                    owner.pk,
                    owner.team_id,
                    name,
                    key,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
            search_rows.append(
                (
                    "company",
                    pk,
                    pid,
                    name[:300],
                    "",
                    owner.pk,
                    owner.team_id,
                    e.entry_text_normed([key], []),
                    stamp,
                )
            )
            changes = {
                "name": [None, name],
                "owner": [None, self._owner_public(owner)],
                "custom": [None, {}],
                "emails": [None, []],
                "phones": [None, []],
                "tags": [None, []],
            }
            for blank in (
                "website",
                "industry",
                "source",
                "notes",
                "street",
                "city",
                "region",
                "postal_code",
                "country",
            ):
                changes[blank] = [None, ""]
            audit_rows.append(
                (
                    self.actor_id,
                    "create",
                    self.company_type_id,
                    pk,
                    pid,
                    name[:300],
                    e.db_json(changes),
                    self.import_data,
                    stamp,
                )
            )
            event_rows.append(
                (
                    "company.created",
                    self.company_type_id,
                    pk,
                    self.actor_id,
                    self._created_data(public),
                    stamp,
                    0,
                    "",
                )
            )
            found[key] = (pk, name, str(public))
        columns = [
            *COMMON,
            "name",
            "name_key",
            "website",
            "industry",
            "source",
            "notes",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
        ]
        with connection.cursor() as cursor:
            cursor.executemany(e.insert_sql(Company._meta.db_table, columns), rows)
        e.write_search(search_rows)
        e.write_audit(audit_rows)
        e.write_events(event_rows)
        if self.job is not None:
            e.save_created(self.job.pk, "company", ids)
        return found

    def _write_updates(
        self,
        changed: list[Existing],
        companies: dict[str, tuple[int, str, str]],
        tag_ids: dict[str, int],
        stamp: Any,
    ) -> None:
        kind = self.kind
        fields = e.RECORD_FIELDS[kind]
        befores: list[tuple[int, dict[str, Any]]] = []
        update_rows: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        point_rows, member_rows, tag_rows = [], [], []
        audit_rows, event_rows = [], []
        demote: list[int] = []
        table = e.quote(self.model._meta.db_table)
        stamps = {
            pk: _stamp_json(stamp)
            for pk, stamp in e.select_in(
                f"SELECT id, updated_at FROM {table} WHERE id IN ({{marks}})",  # noqa: S608
                [r.pk for r in changed],
            )
        }
        for record in changed:
            before_fields = {
                name: value if value.__class__ is str else json_value(value)
                for name, value in ((name, record.fields[name]) for name in fields)
            }
            before: dict[str, Any] = {
                "fields": before_fields,
                "custom": record.custom,
                "owner_id": record.owner_id,
                "team_id": record.team_id,
                "updated_at": stamps.get(record.pk),
                "points_added": [[p[0], p[2]] for p in record.new_points],
                "tags_added": [],
                "primary_company_id": record.primary_company_id,
                "membership_added": None,
            }
            values = {**record.fields, **record.new_fields}
            custom = {**record.custom, **record.new_custom}
            owner_id, team_id = record.owner_id, record.team_id
            if record.new_owner is not None:
                owner_id, team_id = record.new_owner.pk, record.new_owner.team_id
            primary = record.primary_company_id
            company_names = list(record.company_names)
            if kind == "contact" and record.new_company:
                company = companies[e.fast_normalise(record.new_company)]
                if company[0] != primary:
                    if primary is not None:
                        demote.append(record.pk)
                    member_rows.append((record.new_company_role, True, company[0], record.pk))
                    before["membership_added"] = company[0]
                    primary = company[0]
                    company_names.insert(0, company[1])
            # Only the columns the rows change (and the time): an index is kept up only
            # where its columns are set.
            changed_columns = [f for f in fields if f in record.new_fields]
            row = [
                v.isoformat() if hasattr(v, "isoformat") else v
                for v in (values[f] for f in changed_columns)
            ]
            if record.new_custom:
                changed_columns.append("custom")
                row.append(e.db_json(custom))
            if record.new_owner is not None:
                changed_columns += ["owner_id", "team_id"]
                row += [owner_id, team_id]
            changed_columns.append("updated_at")
            row.append(stamp)
            renamed = ("first_name", "last_name") if kind == "contact" else ("name",)
            if kind in ("contact", "company") and any(f in record.new_fields for f in renamed):
                changed_columns.append("name_key")
                row.append(
                    e.fast_normalise(
                        f"{values['first_name']} {values['last_name']}"
                        if kind == "contact"
                        else values["name"]
                    )
                )
            if kind == "contact" and primary != record.primary_company_id:
                changed_columns.append("primary_company_id")
                row.append(primary)
            row.append(record.pk)
            update_rows.setdefault(tuple(changed_columns), []).append(tuple(row))
            link = (record.pk, None) if kind == "contact" else (None, record.pk)
            position = len(record.points)
            for point_kind, label, value, digits in record.new_points:
                point_rows.append((point_kind, label, value, digits, position, *link))
                position += 1
            added_tags = []
            for tag in record.new_tags:
                tag_id = tag_ids[e.fast_normalise(tag)]
                if tag_id not in record.tag_ids:
                    tag_rows.append((record.pk, tag_id))
                    added_tags.append(tag_id)
            before["tags_added"] = added_tags
            befores.append((record.pk, before))
            points = [*record.points, *record.new_points]
            emails = [(p[1], p[2]) for p in points if p[0] == "email"]
            phones = [(p[1], p[2], p[3]) for p in points if p[0] == "phone"]
            tags = [*record.tag_names, *record.new_tags]
            title, subtitle, text = self._search_parts(values, emails, phones, company_names, tags)
            self._pending_search.append(
                (
                    kind,
                    record.pk,
                    record.public_id.replace("-", "") if self.sqlite else record.public_id,
                    title[:300],
                    subtitle[:300],
                    owner_id,
                    team_id,
                    text,
                    stamp,
                )
            )
            changes: dict[str, list[Any]] = {}
            for name, value in record.new_fields.items():
                if name != "phone_digits":
                    changes[name] = [json_value(record.fields.get(name)), json_value(value)]
            if record.new_custom:
                changes["custom"] = [record.custom, custom]
            if record.new_points:
                for point_kind, key in (("email", "emails"), ("phone", "phones")):
                    old = [p[2] for p in record.points if p[0] == point_kind]
                    new = [p[2] for p in points if p[0] == point_kind]
                    if old != new:
                        changes[key] = [old, new]
            if added_tags:
                changes["tags"] = [sorted(record.tag_names), sorted(tags)]
            if record.new_owner is not None:
                changes["owner"] = [None, self._owner_public(record.new_owner)]
            if before["membership_added"]:
                changes["primary_company"] = [
                    None,
                    companies[e.fast_normalise(record.new_company)][2],
                ]
            pid = record.public_id.replace("-", "") if self.sqlite else record.public_id
            audit_rows.append(
                (
                    self.actor_id,
                    "update",
                    self.content_type_id,
                    record.pk,
                    pid,
                    (title or "—")[:300],
                    e.db_json(changes),
                    self.import_data,
                    stamp,
                )
            )
            event_rows.append(
                (
                    f"{kind}.updated",
                    self.content_type_id,
                    record.pk,
                    self.actor_id,
                    e.db_json(
                        {
                            "id": record.public_id,
                            "fields": sorted(changes),
                            "import_id": self.job_public_id,
                        }
                    ),
                    stamp,
                    0,
                    "",
                )
            )
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            for columns, rows in update_rows.items():
                sets = ", ".join(f"{e.quote(c)} = %s" for c in columns)
                cursor.executemany(f"UPDATE {e.quote(table)} SET {sets} WHERE id = %s", rows)  # noqa: S608
            if point_rows:
                cursor.executemany(
                    e.insert_sql(ContactPoint._meta.db_table, POINT_COLUMNS), point_rows
                )
            if demote:
                ContactCompany.objects.filter(contact_id__in=demote, is_primary=True).update(
                    is_primary=False
                )
            if member_rows:
                cursor.executemany(
                    e.insert_sql(ContactCompany._meta.db_table, MEMBER_COLUMNS), member_rows
                )
            if tag_rows:
                through = self.model.tags.through  # type: ignore[attr-defined]
                cursor.executemany(
                    e.insert_sql(through._meta.db_table, [f"{kind}_id", "tag_id"]), tag_rows
                )
        e.write_audit(audit_rows)
        e.write_events(event_rows)
        if self.job is not None:
            e.save_updated(self.job.pk, kind, befores)


def now_stamp() -> dt.datetime:
    return timezone.now()


__all__ = ["BulkImport", "Contact", "Lead"]
