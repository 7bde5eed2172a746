"""The demo data loader: deterministic, realistic records written in bulk.

Why it bypasses the services: a large data set (a million contacts, two million
activities) must load in minutes, so rows are built in Python and written with
`executemany` in batches of thousands inside short transactions; no `save()`, no signals,
no per-row permission checks. It writes what the services would have written for the same
records, with three deliberate differences:

- No audit rows and no outbox events. The audit trail records what people changed; demo
  rows are loaded by the operator at the shell in one step, and one `create` entry per row
  would add 3.4 million rows that say nothing. Emitting events would make automation
  rules, webhooks and notifications react to synthetic history. The users and teams are
  made through `wasl.accounts.services`, so they are audited as usual.
- Search entries are written directly, with the text `wasl.core.search.entry_text` would
  build: words drawn from the lists are normalised once and cached, e-mails and web
  addresses are generated already in normal form, and phone digits are known when the
  number is made (`_text` joins them; a test compares every generated entry with
  `entry_text`).
  On SQLite the FTS triggers are dropped during the load and the index is rebuilt once
  after, which is far faster than feeding it row by row.
- Timestamps come from a fixed anchor (`ANCHOR`), not the clock, and every random choice
  from one `random.Random(seed)`, so a seed always yields the same rows (ids aside, which
  follow whatever the database already holds).
"""

# Seeded pseudo-random numbers are the point here: demo data, not secrets.
# ruff: noqa: S311

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import importlib
import itertools
import json
import multiprocessing
import random
import time
import traceback
import uuid
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.management.color import no_style
from django.db import OperationalError, connection, transaction

from wasl.accounts.models import Team, User
from wasl.accounts.services import team_get_or_create, team_update, user_create
from wasl.activities.models import Activity
from wasl.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactPoint,
    CustomFieldDefinition,
    ImportantDate,
    Source,
    Tag,
)
from wasl.core import search
from wasl.core.models import SearchEntry
from wasl.core.text import normalise
from wasl.core.visibility import Role
from wasl.deals.models import (
    Competitor,
    Deal,
    DealLineItem,
    DealStageChange,
    LostReason,
    Pipeline,
    Product,
    Stage,
)
from wasl.demo import words
from wasl.leads.models import Lead

SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}
# "Today" for the demo data: records spread over the two years before it.
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SPAN_SECONDS = 730 * 86_400
DAY = 86_400
BATCH = 20_000

LOCALES = ("fa", "ar", "en")
LOCALE_WEIGHTS = (0.55, 0.25, 0.20)
COUNTRY_CODES = {"IR": "98", "AE": "971", "SA": "966", "QA": "974", "KW": "965", "GB": "44"}
COUNTRY_CODES |= {"DE": "49", "US": "1"}
# National significant number length of a landline, by country.
LANDLINE_LENGTH = {"IR": 10, "AE": 8, "SA": 9, "QA": 8, "KW": 8, "GB": 10, "DE": 10, "US": 10}
MOBILE_PREFIXES = {
    "IR": ["912", "913", "915", "917", "919", "901", "902", "935", "936", "937", "939", "990"],
    "AE": ["50", "52", "54", "55", "56", "58"],
    "SA": ["50", "53", "54", "55", "56", "59"],
    "QA": ["33", "55", "66", "77"],
    "KW": ["50", "60", "65", "90", "99"],
    "GB": ["74", "75", "77", "78", "79"],
    "DE": ["151", "152", "157", "160", "162", "170", "171", "176"],
    "US": ["212", "415", "646", "917"],
}
MOBILE_LENGTH = {"IR": 10, "AE": 9, "SA": 9, "QA": 8, "KW": 8, "GB": 10, "DE": 11, "US": 10}
CURRENCIES = {"IR": "IRR", "AE": "AED", "SA": "SAR", "QA": "QAR", "KW": "KWD", "GB": "GBP"}
CURRENCIES |= {"DE": "EUR", "US": "USD"}
TLDS = {"IR": "ir", "AE": "ae", "SA": "sa", "QA": "qa", "KW": "kw", "GB": "co.uk", "DE": "de"}
TLDS |= {"US": "com"}
CUSTOMER_TIERS = [
    {"value": "gold", "en": "Gold", "fa": "طلایی", "ar": "ذهبي"},
    {"value": "silver", "en": "Silver", "fa": "نقره‌ای", "ar": "فضي"},
    {"value": "bronze", "en": "Bronze", "fa": "برنزی", "ar": "برونزي"},
]

# (kind, weight): calls and e-mails dominate a sales team's timeline.
ACTIVITY_KINDS = ("call", "email", "task", "meeting", "note", "sms")
ACTIVITY_WEIGHTS = (0.30, 0.20, 0.15, 0.10, 0.15, 0.10)
LEAD_STATUSES = (
    (Lead.Status.NEW, 0.35),
    (Lead.Status.CONTACTED, 0.25),
    (Lead.Status.QUALIFIED, 0.15),
    (Lead.Status.DISQUALIFIED, 0.15),
    (Lead.Status.CONVERTED, 0.10),
)
SOURCES = [s.value for s in Source if s not in (Source.IMPORT, Source.API)]

TEAMS = {"fa": "Tehran", "ar": "Gulf", "en": "Europe"}
# username, first name, last name, role, team locale
DEMO_USERS = [
    ("manager.tehran", "نسرین", "کاظمی", Role.MANAGER, "fa"),
    ("manager.gulf", "Khalid", "Al Mansouri", Role.MANAGER, "ar"),
    ("rep.tehran1", "علی", "رضایی", Role.REP, "fa"),
    ("rep.tehran2", "مریم", "احمدی", Role.REP, "fa"),
    ("rep.tehran3", "سعید", "کریمی", Role.REP, "fa"),
    ("rep.tehran4", "نگار", "یزدانی", Role.REP, "fa"),
    ("rep.tehran5", "پیمان", "شریفی", Role.REP, "fa"),
    ("rep.gulf1", "Omar", "Haddad", Role.REP, "ar"),
    ("rep.gulf2", "Reem", "Al Otaibi", Role.REP, "ar"),
    ("rep.gulf3", "Yousef", "Khoury", Role.REP, "ar"),
    ("rep.gulf4", "Layla", "Al Kaabi", Role.REP, "ar"),
    ("rep.europe1", "Emma", "Fischer", Role.REP, "en"),
    ("rep.europe2", "James", "Taylor", Role.REP, "en"),
    ("rep.europe3", "Lena", "Weber", Role.REP, "en"),
    ("readonly", "Read", "Only", Role.READONLY, "fa"),
]

COMMON = ["id", "created_at", "updated_at", "public_id", "custom"]
ADDRESS = ["street", "city", "region", "postal_code", "country"]
COMPANY_COLUMNS = [
    *COMMON,
    *ADDRESS,
    "name",
    "name_key",
    "website",
    "industry",
    "source",
    "notes",
    "owner_id",
    "team_id",
]
CONTACT_COLUMNS = [
    *COMMON,
    *ADDRESS,
    "first_name",
    "last_name",
    "name_key",
    "title",
    "birthday",
    "website",
    "industry",
    "source",
    "notes",
    "owner_id",
    "primary_company_id",
    "team_id",
]
POINT_COLUMNS = ["kind", "label", "value", "digits", "position", "contact_id", "company_id"]
MEMBER_COLUMNS = ["role", "is_primary", "company_id", "contact_id"]
DATE_COLUMNS = ["kind", "label", "date", "contact_id", "company_id"]
LEAD_COLUMNS = [
    *COMMON,
    "first_name",
    "last_name",
    "company_name",
    "title",
    "email",
    "phone",
    "phone_digits",
    "website",
    "city",
    "country",
    "source",
    "status",
    "disqualify_reason",
    "score",
    "notes",
    "converted_at",
    "converted_company_id",
    "converted_contact_id",
    "converted_deal_id",
    "owner_id",
    "team_id",
]
DEAL_COLUMNS = [
    *COMMON,
    "title",
    "amount",
    "currency",
    "expected_close",
    "probability",
    "source",
    "lost_note",
    "stage_entered_at",
    "closed_at",
    "notes",
    "company_id",
    "competitor_id",
    "owner_id",
    "team_id",
    "lost_reason_id",
    "pipeline_id",
    "stage_id",
]
CHANGE_COLUMNS = [
    "changed_at",
    "seconds_in_previous",
    "actor_id",
    "deal_id",
    "from_stage_id",
    "to_stage_id",
]
LINE_COLUMNS = [
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "position",
    "deal_id",
    "product_id",
]
ACTIVITY_COLUMNS = [
    "created_at",
    "updated_at",
    "public_id",
    "custom",
    "kind",
    "subject",
    "body",
    "due_at",
    "ends_at",
    "done_at",
    "location",
    "direction",
    "duration_seconds",
    "outcome",
    "company_id",
    "contact_id",
    "created_by_id",
    "deal_id",
    "lead_id",
    "owner_id",
    "team_id",
]
SEARCH_COLUMNS = [
    "kind",
    "object_id",
    "public_id",
    "title",
    "subtitle",
    "owner_id",
    "team_id",
    "text",
    "updated_at",
]

COMPANY_TABLE = Company._meta.db_table
CONTACT_TABLE = Contact._meta.db_table
POINT_TABLE = ContactPoint._meta.db_table
MEMBER_TABLE = ContactCompany._meta.db_table
DATE_TABLE = ImportantDate._meta.db_table
LEAD_TABLE = Lead._meta.db_table
DEAL_TABLE = Deal._meta.db_table
CHANGE_TABLE = DealStageChange._meta.db_table
LINE_TABLE = DealLineItem._meta.db_table
ACTIVITY_TABLE = Activity._meta.db_table
SEARCH_TABLE = SearchEntry._meta.db_table
# Tables filled in bulk: their non-unique indexes are built once after the load.
BULK_TABLES = [
    COMPANY_TABLE,
    CONTACT_TABLE,
    POINT_TABLE,
    MEMBER_TABLE,
    DATE_TABLE,
    LEAD_TABLE,
    DEAL_TABLE,
    CHANGE_TABLE,
    LINE_TABLE,
    ACTIVITY_TABLE,
    SEARCH_TABLE,
    "contacts_contact_tags",
    "contacts_company_tags",
    "leads_lead_tags",
    "deals_deal_contacts",
    "deals_deal_tags",
]

PARENT_ORDER = {COMPANY_TABLE: 0, CONTACT_TABLE: 1, LEAD_TABLE: 2, DEAL_TABLE: 3}
# The SQL that keeps the SQLite FTS table in step with core_searchentry.
_SEARCH_MIGRATION = importlib.import_module("wasl.core.migrations.0002_search_index")
FTS_TRIGGERS = {"core_search_ai", "core_search_ad", "core_search_au"}
FTS_TRIGGER_SQL = [
    sql for sql in _SEARCH_MIGRATION.SQLITE_FORWARD if sql.startswith("CREATE TRIGGER")
]


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


@dataclass(frozen=True)
class Plan:
    contacts: int
    companies: int
    deals: int
    activities: int
    leads: int

    @classmethod
    def for_contacts(cls, contacts: int) -> Plan:
        contacts = max(contacts, 10)
        return cls(
            contacts=contacts,
            companies=max(contacts // 10, 1),
            deals=max(contacts * 3 // 10, 1),
            activities=contacts * 2,
            leads=max(contacts // 10, 1),
        )


@lru_cache(maxsize=200_000)
def _norm(value: str) -> str:
    return normalise(value)


def _text(normed: Sequence[str], digits: Sequence[str]) -> str:
    """What `entry_text` returns for parts whose normal forms are `normed`."""
    return " ".join([w for w in normed if w] + [d for d in digits if d])[:4000]


@dataclass
class _Table:
    sql: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    count: int = 0


class Writer:
    """Buffers rows per table and writes them with `executemany` in batches."""

    def __init__(self, *, flush_every: int = BATCH * 4) -> None:
        self.tables: dict[str, _Table] = {}
        self.quote = connection.ops.quote_name
        self.pending = 0
        self.flush_every = flush_every

    def table(self, name: str, columns: Sequence[str]) -> _Table:
        if name not in self.tables:
            cols = ", ".join(self.quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            self.tables[name] = _Table(
                f"INSERT INTO {self.quote(name)} ({cols}) VALUES ({marks})"  # noqa: S608
            )
        return self.tables[name]

    def add(self, name: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        table = self.tables.get(name) or self.table(name, columns)
        table.rows.append(row)
        self.pending += 1

    def maybe_flush(self) -> None:
        """Flush a full buffer; called between records, so a record and the rows that
        refer to it land in the same transaction."""
        if self.pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        # Parents first: a child row whose parent is not written yet counts as a pending
        # foreign-key violation, and while one is pending SQLite scans the child tables
        # for every parent row inserted, which without their indexes is quadratic.
        order = sorted(self.tables, key=lambda name: PARENT_ORDER.get(name, len(PARENT_ORDER)))
        with connection.cursor() as cursor:
            for table in (self.tables[name] for name in order):
                if table.rows:
                    cursor.executemany(table.sql, table.rows)
                    table.count += len(table.rows)
                    table.rows = []
        self.pending = 0

    def counts(self) -> dict[str, int]:
        return {name: t.count for name, t in self.tables.items()}

    def take(self) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
        """The buffered rows, parents first, as (table, INSERT, rows); empties the buffer."""
        order = sorted(self.tables, key=lambda name: PARENT_ORDER.get(name, len(PARENT_ORDER)))
        batch = []
        for name in order:
            table = self.tables[name]
            if table.rows:
                batch.append((name, table.sql, table.rows))
                table.count += len(table.rows)
                table.rows = []
        self.pending = 0
        return batch

    def write(self, batch: list[tuple[str, str, list[tuple[Any, ...]]]]) -> None:
        """Write a batch another process took (see `take`), counting its rows here."""
        with connection.cursor() as cursor:
            for name, sql, rows in batch:
                cursor.executemany(sql, rows)
                table = self.tables.get(name)
                if table is None:
                    table = self.tables[name] = _Table(sql)
                table.count += len(rows)


class PipeWriter(Writer):
    """The generating process's writer: sends each full buffer to the writing process."""

    def __init__(self, pipe: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipe = pipe

    def flush(self) -> None:
        batch = self.take()
        if batch:
            self.pipe.send(("rows", batch))


# From this many contacts on, rows are generated in a second process while this one
# writes (where the platform can fork).
PARALLEL_FROM = 50_000


class DemoLoader:
    """Generates `plan`'s records with `seed` and writes them (see the module docstring)."""

    def __init__(
        self,
        *,
        plan: Plan,
        seed: int | str,
        log: Callable[[str], None] | None = None,
        defer_indexes: bool = True,
        parallel: bool | None = None,
    ) -> None:
        # Generate rows in a forked process while this one writes them (same rows, same
        # order: one process draws every random number, the other only writes).
        if parallel is None:
            parallel = plan.contacts >= PARALLEL_FROM
        self.parallel = parallel and "fork" in multiprocessing.get_all_start_methods()
        self._preset_ids: dict[str, int] = {}
        # Drop the bulk tables' non-unique indexes and build them once after the load.
        self.defer_indexes = defer_indexes
        self.plan = plan
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log or (lambda message: None)
        self.vendor = connection.vendor
        self.writer = Writer()
        self.started = time.perf_counter()
        self._tz_suffix = "" if self.vendor == "sqlite" else "+00:00"
        self._epoch_anchor = int(ANCHOR.timestamp())
        self._rand = self.rng.random
        self._days: dict[int, str] = {}

    # -- small helpers ---------------------------------------------------------------

    def uuid(self) -> str:
        """`uuid.UUID(int=rng.getrandbits(128), version=4).hex`, without the object."""
        bits = (self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET
        return f"{bits:032x}"

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self._rand() * len(items))]

    def between(self, start: int, stop: int | None = None) -> int:
        """Like `randrange(start, stop)`: start <= n < stop (or 0 <= n < start)."""
        if stop is None:
            start, stop = 0, start
        return start + int(self._rand() * (stop - start))

    def ts(self, seconds: int) -> str:
        """A stored timestamp `seconds` after the epoch, in the form Django writes it
        (SQLite: naive UTC text; PostgreSQL: with its offset)."""
        day, rest = divmod(seconds, DAY)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        return f"{date} {_CLOCK[rest]}{self._tz_suffix}"

    def past(self, within: int = SPAN_SECONDS) -> int:
        """A moment in the `within` seconds before the anchor."""
        return self._epoch_anchor - 3600 - int(self.rng.random() * within)

    def later(self, start: int, most: int) -> int:
        """A moment after `start`, at most `most` seconds later and never after the anchor."""
        end = min(start + most, self._epoch_anchor)
        return start + int(self.rng.random() * max(end - start, 0))

    def next_id(self, model: Any) -> int:
        table = model._meta.db_table
        if table in self._preset_ids:
            return self._preset_ids.pop(table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            (value,) = cursor.fetchone()
        return int(value or 0) + 1

    def phone(self, country: str, *, mobile: bool, prefix: str = "") -> tuple[str, str]:
        """(E.164, significant digits) of a made-up but well-formed number."""
        if mobile:
            prefix = self.pick(MOBILE_PREFIXES[country])
            length = MOBILE_LENGTH[country]
        else:
            length = LANDLINE_LENGTH[country]
        rest = length - len(prefix)
        subscriber = str(self.between(2 * 10 ** (rest - 1), 10**rest))
        digits = prefix + subscriber
        return f"+{COUNTRY_CODES[country]}{digits}", digits

    def locale(self) -> int:
        r = self.rng.random()
        return 0 if r < LOCALE_WEIGHTS[0] else 1 if r < LOCALE_WEIGHTS[0] + LOCALE_WEIGHTS[1] else 2

    def person(self, loc: int) -> tuple[str, str, str, str, int]:
        """First and last name, their Latin spellings, and the last name's list index."""
        firsts, lasts = (
            (words.PERSIAN_FIRST, words.PERSIAN_LAST),
            (words.ARABIC_FIRST, words.ARABIC_LAST),
            (words.ENGLISH_FIRST, words.ENGLISH_LAST),
        )[loc]
        first, first_latin = self.pick(firsts)
        last_index = self.between(len(lasts))
        last, last_latin = lasts[last_index]
        return first, last, first_latin, last_latin, last_index

    def email(self, first: str, last: str, domain: str) -> str:
        r = self.rng.random()
        if r < 0.5:
            local = f"{first}.{last}"
        elif r < 0.7:
            local = f"{first}{last}{self.between(10, 99)}"
        elif r < 0.9:
            local = f"{first[0]}.{last}"
        else:
            local = f"{first}_{last}{self.between(60, 99)}"
        return f"{local}@{domain}".lower()

    def owner_for(self, loc: int) -> int:
        """Index into self.users: mostly a rep of the locale's team, sometimes its manager."""
        candidates = self.team_owners[loc] if self.rng.random() < 0.92 else self.all_owners
        return self.pick(candidates)

    def tag_picks(self, chance: float) -> list[int]:
        if self.rng.random() >= chance:
            return []
        count = 1 if self.rng.random() < 0.7 else 2
        return self.rng.sample(range(len(self.tags)), count)

    # -- phases -----------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.prepare_users()
        self.prepare_reference_data()
        self.tune_connection()
        fts_paused = self.pause_fts()
        indexes = self.pause_indexes() if self.defer_indexes else []
        try:
            # One transaction per phase, flushed in batches: SQLite writes each changed page
            # to the WAL once per commit, and rows with random keys (public ids) touch most
            # pages of their index, so frequent commits would rewrite those indexes again
            # and again.
            phases = [
                self.load_companies,
                self.load_contacts,
                self.load_leads,
                self.load_deals,
                self.load_activities,
            ]
            if self.parallel:
                self.load_in_parallel(phases)
            else:
                for phase in phases:
                    with transaction.atomic():
                        phase()
                        self.writer.flush()
        finally:
            # Put back what was set aside even when the load fails half way, so the
            # database keeps its indexes and a search index that matches its entries.
            self.resume_indexes(indexes)
            if fts_paused:
                self.resume_fts()
            self.untune_connection()
        self.reset_sequences()
        self.summarise_customers()
        self.analyse()
        counts = {name: count for name, count in self.writer.counts().items() if count}
        self.step("done")
        return counts

    def load_in_parallel(self, phases: list[Callable[[], None]]) -> None:
        """Run the phases in a forked child that sends its rows through a pipe; write
        them here, one transaction per phase as in a sequential load. The child only
        computes (it never touches the database: the first ids are read before the fork),
        and the pipe's buffer keeps it at most a batch or two ahead."""
        for model in (Company, Contact, Lead, Deal):
            self._preset_ids[model._meta.db_table] = self.next_id(model)
        receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
        child = multiprocessing.get_context("fork").Process(
            target=self._produce, args=(sender, phases), daemon=True
        )
        child.start()
        sender.close()
        self._preset_ids.clear()
        try:
            for _phase in phases:
                with transaction.atomic():
                    while True:
                        try:
                            kind, payload = receiver.recv()
                        except EOFError:
                            raise RuntimeError("The demo data generator stopped.") from None
                        if kind == "rows":
                            self.writer.write(payload)
                        elif kind == "log":
                            self.log(payload)
                        elif kind == "error":
                            raise RuntimeError(f"The demo data generator failed:\n{payload}")
                        else:
                            break
        finally:
            receiver.close()
            if child.is_alive():
                child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()

    def _produce(self, pipe: Any, phases: list[Callable[[], None]]) -> None:
        """The forked child's work: every phase, each followed by an end marker."""
        self.writer = PipeWriter(pipe)
        self.log = lambda message: pipe.send(("log", message))
        try:
            for phase in phases:
                phase()
                self.writer.flush()
                pipe.send(("end", phase.__name__))
        except BaseException:
            pipe.send(("error", traceback.format_exc()))
        finally:
            pipe.close()

    def step(self, message: str) -> None:
        self.log(f"[{time.perf_counter() - self.started:7.1f}s] {message}")

    def prepare_users(self) -> None:
        """Teams, two managers, twelve reps, one read-only user and an admin if none."""
        self.step("users and teams")
        if (
            not User.objects.filter(role=Role.ADMIN, is_active=True).exists()
            and not User.objects.filter(username="admin").exists()
        ):
            user_create(actor=None, username="admin", role=Role.ADMIN, email="admin@example.com")
        by_name = {
            u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])
        }
        for username, first, last, role, loc in DEMO_USERS:
            if username not in by_name:
                by_name[username] = user_create(
                    actor=None,
                    username=username,
                    role=role,
                    team_name=TEAMS[loc],
                    first_name=first,
                    last_name=last,
                    email=f"{username}@wasl.example",
                )
        teams = {t.name: t for t in Team.objects.filter(name__in=TEAMS.values())}
        managers = {"Tehran": "manager.tehran", "Europe": "manager.tehran", "Gulf": "manager.gulf"}
        for team_name, username in managers.items():
            team = teams.get(team_name)
            if team is None:
                team = team_get_or_create(actor=None, name=team_name)
            if team.manager_id != by_name[username].pk:
                team_update(actor=None, team=team, manager=by_name[username])
        # Owners of records: (user id, team id), reps weighted above managers.
        self.users: list[tuple[int, int | None]] = []
        self.team_owners: list[list[int]] = [[], [], []]
        self.all_owners: list[int] = []
        for username, _first, _last, role, loc in DEMO_USERS:
            if role == Role.READONLY:
                continue
            user = by_name[username]
            index = len(self.users)
            self.users.append((user.pk, user.team_id))
            weight = 4 if role == Role.REP else 1
            self.team_owners[LOCALES.index(loc)].extend([index] * weight)
            self.all_owners.extend([index] * weight)

    def prepare_reference_data(self) -> None:
        """Tags, custom fields, pipelines, lost reasons, competitors and products: reused
        when they exist (matched on their natural key), so --force adds no duplicates."""
        self.step("reference data")
        # A separate stream, so that whether these rows exist does not shift the records.
        ref = random.Random(f"wasl-demo-reference-{self.seed}")
        created = self.ts(self._epoch_anchor - SPAN_SECONDS - 30 * DAY)

        def ref_uuid() -> str:
            return uuid.UUID(int=ref.getrandbits(128), version=4).hex

        with transaction.atomic(), connection.cursor() as cursor:
            existing = dict(Tag.objects.values_list("key", "id"))
            tag_id = self.next_id(Tag)
            rows = []
            for name, color in words.TAGS:
                key = normalise(name)
                uid = ref_uuid()
                if key not in existing:
                    existing[key] = tag_id
                    rows.append((tag_id, created, created, uid, name, key, color))
                    tag_id += 1
            self._insert(
                cursor,
                Tag,
                ["id", "created_at", "updated_at", "public_id", "name", "key", "color"],
                rows,
            )
            self.tags = [(existing[normalise(name)], name) for name, _c in words.TAGS]

            fields = [
                (
                    "contact",
                    "customer_tier",
                    "Customer tier",
                    "سطح مشتری",
                    "فئة العميل",
                    "choice",
                    CUSTOMER_TIERS,
                ),
                (
                    "company",
                    "employees",
                    "Employees",
                    "تعداد کارکنان",
                    "عدد الموظفين",
                    "number",
                    [],
                ),
                (
                    "deal",
                    "contract_end",
                    "Contract end",
                    "پایان قرارداد",
                    "نهاية العقد",
                    "date",
                    [],
                ),
                ("lead", "budget", "Budget", "بودجه", "الميزانية", "money", []),
            ]
            have = set(CustomFieldDefinition.objects.values_list("entity", "key"))
            rows = []
            field_id = self.next_id(CustomFieldDefinition)
            for position, (entity, key, en, fa, ar, kind, choices) in enumerate(fields):
                uid = ref_uuid()
                if (entity, key) not in have:
                    validation = json.dumps({"min": 0} if kind == "number" else {})
                    rows.append(
                        (
                            field_id,
                            created,
                            created,
                            uid,
                            entity,
                            key,
                            en,
                            fa,
                            ar,
                            kind,
                            False,
                            json.dumps(choices),
                            validation,
                            position,
                            True,
                        )
                    )
                    field_id += 1
            self._insert(
                cursor,
                CustomFieldDefinition,
                [
                    "id",
                    "created_at",
                    "updated_at",
                    "public_id",
                    "entity",
                    "key",
                    "label_en",
                    "label_fa",
                    "label_ar",
                    "kind",
                    "required",
                    "choices",
                    "validation",
                    "position",
                    "is_active",
                ],
                rows,
            )

            # Pipelines and their stages: (pipeline id, [open stage ids], won id, lost id).
            self.pipelines: list[tuple[int, list[tuple[int, int]], int, int, int]] = []
            has_default = Pipeline.objects.filter(is_default=True).exists()
            pipeline_id = self.next_id(Pipeline)
            stage_id = self.next_id(Stage)
            for position, (name, stages, weight) in enumerate(words.PIPELINES):
                uid = ref_uuid()
                stage_uids = [ref_uuid() for _ in range(len(stages) + 2)]
                found = Pipeline.objects.filter(name=name).order_by("id").first()
                if found is None:
                    is_default = not has_default and position == 0
                    self._insert(
                        cursor,
                        Pipeline,
                        [
                            "id",
                            "created_at",
                            "updated_at",
                            "public_id",
                            "name",
                            "position",
                            "is_default",
                            "is_active",
                        ],
                        [(pipeline_id, created, created, uid, name, position, is_default, True)],
                    )
                    stage_rows = []
                    for stage_position, (stage_name, probability, rotting) in enumerate(stages):
                        stage_rows.append(
                            (
                                stage_id,
                                created,
                                created,
                                stage_uids[stage_position],
                                stage_name,
                                stage_position,
                                probability,
                                Stage.Kind.OPEN,
                                rotting,
                                pipeline_id,
                            )
                        )
                        stage_id += 1
                    stage_rows.append(
                        (
                            stage_id,
                            created,
                            created,
                            stage_uids[-2],
                            "Won",
                            len(stages),
                            100,
                            Stage.Kind.WON,
                            0,
                            pipeline_id,
                        )
                    )
                    stage_rows.append(
                        (
                            stage_id + 1,
                            created,
                            created,
                            stage_uids[-1],
                            "Lost",
                            len(stages) + 1,
                            0,
                            Stage.Kind.LOST,
                            0,
                            pipeline_id,
                        )
                    )
                    stage_id += 2
                    self._insert(
                        cursor,
                        Stage,
                        [
                            "id",
                            "created_at",
                            "updated_at",
                            "public_id",
                            "name",
                            "position",
                            "probability",
                            "kind",
                            "rotting_days",
                            "pipeline_id",
                        ],
                        stage_rows,
                    )
                    found_id = pipeline_id
                    pipeline_id += 1
                else:
                    found_id = found.pk
                stage_list = list(
                    Stage.objects.filter(pipeline_id=found_id)
                    .order_by("position", "id")
                    .values_list("id", "kind", "probability")
                )
                opens = [(sid, prob) for sid, kind, prob in stage_list if kind == Stage.Kind.OPEN]
                won = next((sid for sid, kind, _p in stage_list if kind == Stage.Kind.WON), None)
                lost = next((sid for sid, kind, _p in stage_list if kind == Stage.Kind.LOST), None)
                if opens and won and lost:
                    self.pipelines.append((found_id, opens, won, lost, weight))
            if not self.pipelines:
                raise RuntimeError("No pipeline with open, won and lost stages to put deals in.")
            self.pipeline_weights = [p[4] for p in self.pipelines]

            existing = dict(LostReason.objects.values_list("name", "id"))
            reason_id = self.next_id(LostReason)
            rows = []
            for position, name in enumerate(words.LOST_REASONS):
                uid = ref_uuid()
                if name not in existing:
                    existing[name] = reason_id
                    rows.append((reason_id, created, created, uid, name, position, True))
                    reason_id += 1
            self._insert(
                cursor,
                LostReason,
                ["id", "created_at", "updated_at", "public_id", "name", "position", "is_active"],
                rows,
            )
            self.lost_reasons = [existing[name] for name in words.LOST_REASONS]

            existing = dict(Competitor.objects.values_list("key", "id"))
            competitor_id = self.next_id(Competitor)
            rows = []
            for name, website in words.COMPETITORS:
                uid = ref_uuid()
                key = normalise(name)
                if key not in existing:
                    existing[key] = competitor_id
                    rows.append((competitor_id, created, created, uid, name, key, website))
                    competitor_id += 1
            self._insert(
                cursor,
                Competitor,
                ["id", "created_at", "updated_at", "public_id", "name", "key", "website"],
                rows,
            )
            self.competitors = [existing[normalise(name)] for name, _w in words.COMPETITORS]

            existing = dict(Product.objects.exclude(sku="").values_list("sku", "id"))
            product_id = self.next_id(Product)
            rows = []
            for sku, name, unit, price, tax in words.PRODUCTS:
                uid = ref_uuid()
                if sku not in existing:
                    existing[sku] = product_id
                    rows.append(
                        (
                            product_id,
                            created,
                            created,
                            uid,
                            name,
                            sku,
                            "",
                            unit,
                            str(Decimal(price)),
                            "IRR",
                            str(Decimal(tax)),
                            True,
                        )
                    )
                    product_id += 1
            self._insert(
                cursor,
                Product,
                [
                    "id",
                    "created_at",
                    "updated_at",
                    "public_id",
                    "name",
                    "sku",
                    "description",
                    "unit",
                    "price",
                    "currency",
                    "tax_percent",
                    "is_active",
                ],
                rows,
            )
            self.products = [(existing[p[0]], p[1], p[3]) for p in words.PRODUCTS]

    def _insert(
        self, cursor: Any, model: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if rows:
            table = self.writer.table(model._meta.db_table, columns)
            cursor.executemany(table.sql, rows)
            table.count += len(rows)

    # -- records ---------------------------------------------------------------------------

    def place(self, loc: int) -> tuple[str, str, str, str, list[str]]:
        return self.pick(words.PLACES[LOCALES[loc]])

    def street(self, loc: int, streets: list[str]) -> str:
        number = self.between(1, 240)
        name = self.pick(streets)
        return (f"{name}، پلاک {number}", f"{name}، مبنى {number}", f"{number} {name}")[loc]

    def postal_code(self, country: str) -> str:
        if country == "IR":
            return str(self.between(10**9, 10**10))
        if country == "GB":
            return f"W{self.between(1, 14)} {self.between(1, 9)}AB"
        return str(self.between(10_000, 99_999))

    def record_times(self, created_within: int = SPAN_SECONDS) -> tuple[int, int]:
        created = self.past(created_within)
        updated = self.later(created, 120 * DAY) if self.rng.random() < 0.6 else created
        return created, updated

    def search_row(
        self,
        kind: str,
        object_id: int,
        public_id: str,
        title: str,
        subtitle: str,
        owner: int,
        normed: Sequence[str],
        digits: Sequence[str],
        updated: str,
    ) -> None:
        user_id, team_id = self.users[owner]
        self.writer.add(
            SEARCH_TABLE,
            SEARCH_COLUMNS,
            (
                kind,
                object_id,
                public_id,
                title[:300],
                subtitle[:300],
                user_id,
                team_id,
                _text(normed, digits),
                updated,
            ),
        )

    def load_companies(self) -> None:
        n = self.plan.companies
        self.step(f"{n:,} companies")
        rng = self.rng
        rand = rng.random
        self.company_base = base = self.next_id(Company)
        self.company_names: list[str] = []
        self.company_domains: list[str] = []
        self.company_loc = bytearray(n)
        self.company_place = bytearray(n)
        self.company_owner = bytearray(n)
        for i in range(n):
            loc = self.locale()
            place_index = self.between(len(words.PLACES[LOCALES[loc]]))
            city, region, country, landline, streets = words.PLACES[LOCALES[loc]][place_index]
            prefixes, middles, suffixes = words.COMPANY_WORDS[LOCALES[loc]]
            middle, latin = self.pick(middles)
            name = " ".join(p for p in (self.pick(prefixes), middle, self.pick(suffixes)) if p)
            domain = f"{latin}{self.between(2, 999)}.{TLDS[country]}"
            website = f"www.{domain}" if rand() < 0.7 else ""
            owner = self.owner_for(loc)
            user_id, team_id = self.users[owner]
            created, updated = self.record_times()
            custom = (
                {"employees": self.pick((5, 12, 25, 40, 80, 150, 400, 1200))}
                if rand() < 0.6
                else {}
            )
            company_id = base + i
            public_id = self.uuid()
            self.writer.add(
                COMPANY_TABLE,
                COMPANY_COLUMNS,
                (
                    company_id,
                    self.ts(created),
                    self.ts(updated),
                    public_id,
                    json.dumps(custom),
                    self.street(loc, streets),
                    city,
                    region,
                    self.postal_code(country),
                    country,
                    name,
                    _norm(name),
                    website,
                    self.pick(words.INDUSTRIES[LOCALES[loc]]),
                    self.pick(SOURCES),
                    self.pick(words.NOTES[LOCALES[loc]]) if rand() < 0.1 else "",
                    user_id,
                    team_id,
                ),
            )
            digits: list[str] = []
            emails: list[str] = []
            position = 0
            if rand() < 0.9:
                value, sig = self.phone(country, mobile=False, prefix=landline)
                self.writer.add(
                    POINT_TABLE,
                    POINT_COLUMNS,
                    ("phone", "work", value, sig, position, None, company_id),
                )
                digits.append(sig)
                position += 1
            if rand() < 0.6:
                email = f"info@{domain}"
                self.writer.add(
                    POINT_TABLE,
                    POINT_COLUMNS,
                    ("email", "work", email, "", position, None, company_id),
                )
                emails.append(email)
            tags = self.tag_picks(0.2)
            for t in tags:
                self.writer.add(
                    "contacts_company_tags", ["company_id", "tag_id"], (company_id, self.tags[t][0])
                )
            if rand() < 0.05:
                day = dt.date.fromtimestamp(self.later(created, 400 * DAY) + 200 * DAY)
                self.writer.add(
                    DATE_TABLE,
                    DATE_COLUMNS,
                    ("contract_end", "", day.isoformat(), None, company_id),
                )
            self.search_row(
                "company",
                company_id,
                public_id,
                name,
                city or website,
                owner,
                [
                    _norm(name),
                    _norm(city),
                    website,
                    *emails,
                    *(_norm(self.tags[t][1]) for t in tags),
                ],
                digits,
                self.ts(updated),
            )
            self.company_names.append(name)
            self.company_domains.append(domain)
            self.company_loc[i] = loc
            self.company_place[i] = place_index
            self.company_owner[i] = owner
            self.writer.maybe_flush()

    def load_contacts(self) -> None:
        n = self.plan.contacts
        self.step(f"{n:,} contacts")
        rng = self.rng
        rand = rng.random
        companies = self.plan.companies
        self.contact_base = base = self.next_id(Contact)
        self.contact_loc = bytearray(n)
        self.contact_place = bytearray(n)
        self.contact_owner = bytearray(n)
        self.contact_company = array("i", bytes(4 * n))  # company index + 1, 0 for none
        self.contact_last = array("H", bytes(2 * n))
        tiers = [c["value"] for c in CUSTOMER_TIERS]
        for i in range(n):
            company = int(rand() * companies) if rand() < 0.7 else -1
            if company >= 0:
                loc = self.company_loc[company]
                place_index = (
                    self.company_place[company]
                    if rand() < 0.8
                    else self.between(len(words.PLACES[LOCALES[loc]]))
                )
                owner = self.company_owner[company] if rand() < 0.8 else self.owner_for(loc)
            else:
                loc = self.locale()
                place_index = self.between(len(words.PLACES[LOCALES[loc]]))
                owner = self.owner_for(loc)
            city, region, country, landline, streets = words.PLACES[LOCALES[loc]][place_index]
            first, last, first_latin, last_latin, last_index = self.person(loc)
            user_id, team_id = self.users[owner]
            created, updated = self.record_times()
            full_name = f"{first} {last}"
            if rand() < 0.6:
                birthday = dt.date(
                    self.between(1960, 2004), self.between(1, 13), self.between(1, 29)
                ).isoformat()
            else:
                birthday = None
            has_address = rand() < 0.7
            contact_id = base + i
            public_id = self.uuid()
            custom = {"customer_tier": self.pick(tiers)} if rand() < 0.5 else {}
            self.writer.add(
                CONTACT_TABLE,
                CONTACT_COLUMNS,
                (
                    contact_id,
                    self.ts(created),
                    self.ts(updated),
                    public_id,
                    json.dumps(custom),
                    self.street(loc, streets) if has_address else "",
                    city if has_address else "",
                    region if has_address else "",
                    self.postal_code(country) if has_address else "",
                    country,
                    first,
                    last,
                    _norm(full_name),
                    self.pick(words.JOB_TITLES[LOCALES[loc]]) if rand() < 0.7 else "",
                    birthday,
                    "",
                    "",
                    self.pick(SOURCES),
                    self.pick(words.NOTES[LOCALES[loc]]) if rand() < 0.1 else "",
                    user_id,
                    self.company_base + company if company >= 0 else None,
                    team_id,
                ),
            )
            digits: list[str] = []
            position = 0
            value, sig = self.phone(country, mobile=True)
            self.writer.add(
                POINT_TABLE, POINT_COLUMNS, ("phone", "mobile", value, sig, 0, contact_id, None)
            )
            digits.append(sig)
            position = 1
            if rand() < 0.3:
                value, sig = self.phone(country, mobile=False, prefix=landline)
                self.writer.add(
                    POINT_TABLE, POINT_COLUMNS, ("phone", "work", value, sig, 1, contact_id, None)
                )
                digits.append(sig)
                position = 2
            emails: list[str] = []
            if rand() < 0.85:
                if company >= 0 and rand() < 0.5:
                    domain = self.company_domains[company]
                else:
                    domain = self.pick(words.EMAIL_DOMAINS[LOCALES[loc]])
                email = self.email(first_latin, last_latin, domain)
                self.writer.add(
                    POINT_TABLE,
                    POINT_COLUMNS,
                    ("email", "work", email, "", position, contact_id, None),
                )
                emails.append(email)
            company_names: list[str] = []
            if company >= 0:
                roles = words.MEMBER_ROLES[LOCALES[loc]]
                self.writer.add(
                    MEMBER_TABLE,
                    MEMBER_COLUMNS,
                    (self.pick(roles), True, self.company_base + company, contact_id),
                )
                company_names.append(self.company_names[company])
                if rand() < 0.1:
                    other = int(rand() * companies)
                    if other != company:
                        self.writer.add(
                            MEMBER_TABLE,
                            MEMBER_COLUMNS,
                            (self.pick(roles), False, self.company_base + other, contact_id),
                        )
                        company_names.append(self.company_names[other])
            tags = self.tag_picks(0.4)
            for t in tags:
                self.writer.add(
                    "contacts_contact_tags", ["contact_id", "tag_id"], (contact_id, self.tags[t][0])
                )
            if rand() < 0.08:
                kind = self.pick(("anniversary", "contract_end", "renewal", "other"))
                day = dt.date.fromtimestamp(self.later(created, 300 * DAY) + 60 * DAY)
                self.writer.add(
                    DATE_TABLE, DATE_COLUMNS, (kind, "", day.isoformat(), contact_id, None)
                )
            subtitle = company_names[0] if company_names else (emails[0] if emails else "")
            self.search_row(
                "contact",
                contact_id,
                public_id,
                full_name,
                subtitle,
                owner,
                [
                    _norm(full_name),
                    _norm(subtitle) if company_names else subtitle,
                    *emails,
                    *(_norm(c) for c in company_names),
                    *(_norm(self.tags[t][1]) for t in tags),
                ],
                digits,
                self.ts(updated),
            )
            self.contact_loc[i] = loc
            self.contact_place[i] = place_index
            self.contact_owner[i] = owner
            self.contact_company[i] = company + 1
            self.contact_last[i] = last_index
            self.writer.maybe_flush()

    def contact_name(self, index: int) -> str:
        lasts = (words.PERSIAN_LAST, words.ARABIC_LAST, words.ENGLISH_LAST)[self.contact_loc[index]]
        return lasts[self.contact_last[index]][0]

    def load_leads(self) -> None:
        n = self.plan.leads
        self.step(f"{n:,} leads")
        rng = self.rng
        rand = rng.random
        self.lead_base = base = self.next_id(Lead)
        self.lead_loc = bytearray(n)
        self.lead_owner = bytearray(n)
        statuses = [s for s, _w in LEAD_STATUSES]
        weights = [w for _s, w in LEAD_STATUSES]
        for i in range(n):
            loc = self.locale()
            city, _region, country, _landline, _streets = self.place(loc)
            owner = self.owner_for(loc)
            user_id, team_id = self.users[owner]
            created, updated = self.record_times()
            first, last, first_latin, last_latin, _last_index = self.person(loc)
            if rand() >= 0.7:
                first = last = ""
            company_name = ""
            domain = self.pick(words.EMAIL_DOMAINS[LOCALES[loc]])
            if rand() < 0.6 or not first:
                prefixes, middles, suffixes = words.COMPANY_WORDS[LOCALES[loc]]
                middle, latin = self.pick(middles)
                company_name = " ".join(
                    p for p in (self.pick(prefixes), middle, self.pick(suffixes)) if p
                )
                if not first:
                    domain = f"{latin}{self.between(2, 999)}.{TLDS[country]}"
            email = (
                self.email(first_latin, last_latin, domain)
                if rand() < 0.8 or not (first or company_name)
                else ""
            )
            phone, digits = self.phone(country, mobile=True) if rand() < 0.8 else ("", "")
            status = rng.choices(statuses, weights)[0]
            converted_at = converted_contact = converted_company = None
            if status == Lead.Status.CONVERTED:
                contact = int(rand() * self.plan.contacts)
                converted_contact = self.contact_base + contact
                company = self.contact_company[contact]
                converted_company = self.company_base + company - 1 if company else None
                converted_at = self.ts(self.later(created, 60 * DAY))
            lead_id = base + i
            public_id = self.uuid()
            budget = {"budget": str(self.between(10, 900) * 1_000_000)} if rand() < 0.3 else {}
            self.writer.add(
                LEAD_TABLE,
                LEAD_COLUMNS,
                (
                    lead_id,
                    self.ts(created),
                    self.ts(updated),
                    public_id,
                    json.dumps(budget),
                    first,
                    last,
                    company_name,
                    self.pick(words.JOB_TITLES[LOCALES[loc]]) if first and rand() < 0.5 else "",
                    email,
                    phone,
                    digits,
                    "",
                    city,
                    country,
                    self.pick(SOURCES),
                    status,
                    self.pick(words.DISQUALIFY_REASONS)
                    if status == Lead.Status.DISQUALIFIED
                    else "",
                    self.between(0, 101),
                    "",
                    converted_at,
                    converted_company,
                    converted_contact,
                    None,
                    user_id,
                    team_id,
                ),
            )
            tags = self.tag_picks(0.15)
            for t in tags:
                self.writer.add(
                    "leads_lead_tags", ["lead_id", "tag_id"], (lead_id, self.tags[t][0])
                )
            person = " ".join(p for p in (first, last) if p)
            title = person or company_name or email
            self.search_row(
                "lead",
                lead_id,
                public_id,
                title,
                company_name,
                owner,
                [
                    _norm(title) if person or company_name else title,
                    _norm(company_name),
                    email,
                    *(_norm(self.tags[t][1]) for t in tags),
                ],
                [digits],
                self.ts(updated),
            )
            self.lead_loc[i] = loc
            self.lead_owner[i] = owner
            self.writer.maybe_flush()

    def deal_path(self, index: int) -> tuple[int, list[tuple[int, int]], str]:
        """(pipeline id, [(stage id, probability)] in the order visited, outcome)."""
        rng = self.rng
        if index < len(self.stage_slots):
            # The first deals visit every stage once, so no column of a board stays empty.
            pipeline_index, kind, depth = self.stage_slots[index]
        else:
            pipeline_index = rng.choices(range(len(self.pipelines)), self.pipeline_weights)[0]
            pipeline = self.pipelines[pipeline_index]
            r = rng.random()
            kind = "open" if r < 0.55 else "won" if r < 0.80 else "lost"
            opens = len(pipeline[1])
            depth = (
                self.between(opens) if kind != "won" else opens - 1 - int(rng.random() ** 3 * opens)
            )
        pipeline_id, opens_list, won, lost, _weight = self.pipelines[pipeline_index]
        path = list(opens_list[: depth + 1])
        if kind == "won":
            path.append((won, 100))
        elif kind == "lost":
            path.append((lost, 0))
        return pipeline_id, path, kind

    def line_items(self, deal_id: int) -> Decimal:
        total = Decimal("0")
        for position, (product_id, name, price) in enumerate(
            self.rng.sample(self.products, self.between(1, 4))
        ):
            quantity = Decimal(self.pick((1, 1, 2, 3, 5, 10, 20)))
            discount = Decimal(self.pick((0, 0, 0, 5, 10, 15)))
            unit_price = Decimal(price)
            gross = quantity * unit_price
            total += (gross * (Decimal("100") - discount) / Decimal("100")).quantize(
                Decimal("0.01")
            )
            self.writer.add(
                LINE_TABLE,
                LINE_COLUMNS,
                (
                    name,
                    f"{quantity:.3f}",
                    f"{unit_price:.2f}",
                    f"{discount:.2f}",
                    position,
                    deal_id,
                    product_id,
                ),
            )
        return total

    def load_deals(self) -> None:
        n = self.plan.deals
        self.step(f"{n:,} deals")
        rng = self.rng
        rand = rng.random
        contacts = self.plan.contacts
        self.stage_slots = [
            (p, "open", depth)
            for p, pipeline in enumerate(self.pipelines)
            for depth in range(len(pipeline[1]))
        ]
        self.stage_slots += [
            (p, kind, len(self.pipelines[p][1]) - 1)
            for p in range(len(self.pipelines))
            for kind in ("won", "lost")
        ]
        self.deal_base = base = self.next_id(Deal)
        self.deal_owner = bytearray(n)
        self.deal_loc = bytearray(n)
        self.deal_contact = array("i", bytes(4 * n))
        self.deal_company = array("i", bytes(4 * n))
        for i in range(n):
            contact = int(rand() * contacts)
            loc = self.contact_loc[contact]
            company = self.contact_company[contact] - 1
            if company < 0 and rand() < 0.5:
                company = int(rand() * self.plan.companies)
            owner = self.contact_owner[contact] if rand() < 0.8 else self.owner_for(loc)
            user_id, team_id = self.users[owner]
            country = words.PLACES[LOCALES[loc]][self.contact_place[contact]][2]
            currency = CURRENCIES[country]
            pipeline_id, path, outcome = self.deal_path(i)
            # Stage history: created in the first stage, then each move some days later.
            created = self.past()
            room = self._epoch_anchor - created
            moments = [created]
            for _ in path[1:]:
                step = int(rand() * min(45 * DAY, room / len(path))) + 3600
                moments.append(min(moments[-1] + step, self._epoch_anchor - 60))
            deal_id = base + i
            previous = None
            for (stage_id, _prob), moment, before in zip(
                path, moments, [None, *moments], strict=False
            ):
                self.writer.add(
                    CHANGE_TABLE,
                    CHANGE_COLUMNS,
                    (
                        self.ts(moment),
                        moment - before if before is not None else None,
                        user_id,
                        deal_id,
                        previous,
                        stage_id,
                    ),
                )
                previous = stage_id
            stage_id, probability = path[-1]
            last_move = moments[-1]
            updated = self.later(last_move, 20 * DAY)
            closed_at = self.ts(last_move) if outcome != "open" else None
            if outcome == "open":
                expected = dt.date.fromtimestamp(self._epoch_anchor + self.between(1, 120) * DAY)
            else:
                expected = dt.date.fromtimestamp(last_move)
            company_name = self.company_names[company] if company >= 0 else ""
            templates = words.DEAL_TITLES[LOCALES[loc]]
            title = self.pick(templates).format(c=company_name or self.contact_name(contact))
            if currency == "IRR" and rand() < 0.4:
                amount = self.line_items(deal_id)
            elif currency == "IRR":
                amount = Decimal(self.between(50, 5000) * 10_000_000)
            else:
                amount = Decimal(self.between(10, 5000) * 100)
            lost_reason = competitor = None
            lost_note = ""
            if outcome == "lost":
                reason_index = self.between(len(self.lost_reasons))
                lost_reason = self.lost_reasons[reason_index]
                if words.LOST_REASONS[reason_index] == "Chose a competitor" or rand() < 0.15:
                    competitor = self.pick(self.competitors)
                if rand() < 0.4:
                    lost_note = self.pick(
                        (
                            "Budget moved to next year",
                            "Went with the cheaper offer",
                            "بودجه تصویب نشد",
                            "اختاروا عرضاً أرخص",
                        )
                    )
            custom = {}
            if outcome == "won":
                custom = {"contract_end": dt.date.fromtimestamp(last_move + 365 * DAY).isoformat()}
            public_id = self.uuid()
            self.writer.add(
                DEAL_TABLE,
                DEAL_COLUMNS,
                (
                    deal_id,
                    self.ts(created),
                    self.ts(updated),
                    public_id,
                    json.dumps(custom),
                    title,
                    f"{amount:.2f}",
                    currency,
                    expected.isoformat(),
                    probability,
                    self.pick(SOURCES),
                    lost_note,
                    self.ts(last_move),
                    closed_at,
                    "",
                    self.company_base + company if company >= 0 else None,
                    competitor,
                    user_id,
                    team_id,
                    lost_reason,
                    pipeline_id,
                    stage_id,
                ),
            )
            self.writer.add(
                "deals_deal_contacts",
                ["deal_id", "contact_id"],
                (deal_id, self.contact_base + contact),
            )
            if rand() < 0.25:
                other = int(rand() * contacts)
                if other != contact:
                    self.writer.add(
                        "deals_deal_contacts",
                        ["deal_id", "contact_id"],
                        (deal_id, self.contact_base + other),
                    )
            tags = self.tag_picks(0.15)
            for t in tags:
                self.writer.add(
                    "deals_deal_tags", ["deal_id", "tag_id"], (deal_id, self.tags[t][0])
                )
            self.search_row(
                "deal",
                deal_id,
                public_id,
                title,
                company_name,
                owner,
                [_norm(title), _norm(company_name), *(_norm(self.tags[t][1]) for t in tags)],
                [],
                self.ts(updated),
            )
            self.deal_owner[i] = owner
            self.deal_loc[i] = loc
            self.deal_contact[i] = contact
            self.deal_company[i] = company + 1
            self.writer.maybe_flush()

    def load_activities(self) -> None:
        n = self.plan.activities
        self.step(f"{n:,} activities")
        rng = self.rng
        rand = rng.random
        contacts, deals, companies, leads = (
            self.plan.contacts,
            self.plan.deals,
            self.plan.companies,
            self.plan.leads,
        )
        cumulative = list(itertools.accumulate(ACTIVITY_WEIGHTS))
        outcomes = [o.value for o in Activity.Outcome]
        anchor = self._epoch_anchor
        ts = self.ts
        for _ in range(n):
            r = rand()
            contact_id = company_id = deal_id = lead_id = None
            if r < 0.55:
                # Skewed towards the first contacts, so some have long timelines.
                contact = int(contacts * rand() ** 1.5)
                contact_id = self.contact_base + contact
                company = self.contact_company[contact]
                company_id = self.company_base + company - 1 if company else None
                owner, loc = self.contact_owner[contact], self.contact_loc[contact]
            elif r < 0.8:
                deal = int(rand() * deals)
                deal_id = self.deal_base + deal
                contact_id = self.contact_base + self.deal_contact[deal]
                company = self.deal_company[deal]
                company_id = self.company_base + company - 1 if company else None
                owner, loc = self.deal_owner[deal], self.deal_loc[deal]
            elif r < 0.9:
                company = int(rand() * companies)
                company_id = self.company_base + company
                owner, loc = self.company_owner[company], self.company_loc[company]
            else:
                lead = int(rand() * leads)
                lead_id = self.lead_base + lead
                owner, loc = self.lead_owner[lead], self.lead_loc[lead]
            kind = ACTIVITY_KINDS[bisect.bisect(cumulative, rand() * cumulative[-1])]
            user_id, team_id = self.users[owner]
            created = self.past()
            due = ends = done = None
            location = direction = outcome = ""
            duration = None
            if kind in ("note", "email", "sms"):
                done = created
                if kind != "note":
                    direction = "outbound" if rand() < 0.7 else "inbound"
            elif kind == "call":
                direction = "outbound" if rand() < 0.75 else "inbound"
                if rand() < 0.85:
                    due = created
                    outcome = outcomes[0] if rand() < 0.6 else self.pick(outcomes[1:])
                    duration = self.between(20, 1800) if outcome == "connected" else 0
                    done = created + duration
                else:
                    due = created + self.between(1, 14) * DAY
                    done = due + 120 if due < anchor and rand() < 0.9 else None
            elif kind == "task":
                due = created + self.between(1, 21) * DAY
                done = due - self.between(0, DAY) if due < anchor and rand() < 0.85 else None
            else:
                due = created - created % 3600 + self.between(1, 14) * DAY
                ends = due + self.pick((30, 45, 60, 90)) * 60
                location = self.pick(words.MEETING_PLACES[LOCALES[loc]])
                done = ends if ends < anchor and rand() < 0.9 else None
            updated = max(created, done or created)
            self.writer.add(
                ACTIVITY_TABLE,
                ACTIVITY_COLUMNS,
                (
                    ts(created),
                    ts(min(updated, anchor)),
                    self.uuid(),
                    "{}",
                    kind,
                    self.pick(words.ACTIVITY_SUBJECTS[kind][LOCALES[loc]]),
                    self.pick(words.NOTES[LOCALES[loc]]) if rand() < 0.3 else "",
                    ts(due) if due is not None else None,
                    ts(ends) if ends is not None else None,
                    ts(done) if done is not None else None,
                    location,
                    direction,
                    duration,
                    outcome,
                    company_id,
                    contact_id,
                    user_id,
                    deal_id,
                    lead_id,
                    user_id,
                    team_id,
                ),
            )
            self.writer.maybe_flush()

    # -- bulk-load settings: secondary indexes built once after, a bigger page cache ---------

    def tune_connection(self) -> None:
        """SQLite: a 1 GB page cache, no fsync and the rollback journal in memory for the
        load (restored after). Each phase is one transaction, so in WAL mode every page
        would be written twice (to the log, then back into the file by a checkpoint); a
        crash during a load leaves a database to throw away either way. The journal mode
        only changes when no other connection has the file open (otherwise it stays WAL)."""
        self._saved_pragmas: dict[str, Any] = {}
        if self.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            for name in ("cache_size", "synchronous", "journal_mode"):
                cursor.execute(f"PRAGMA {name}")
                self._saved_pragmas[name] = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size=-1000000")
            if connection.in_atomic_block:
                # Inside a transaction (tests) neither may change.
                return
            cursor.execute("PRAGMA synchronous=OFF")
            if self._saved_pragmas["journal_mode"] == "wal":
                with contextlib.suppress(OperationalError):
                    cursor.execute("PRAGMA journal_mode=MEMORY")

    def untune_connection(self) -> None:
        saved = getattr(self, "_saved_pragmas", {})
        if self.vendor != "sqlite" or not saved:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(saved['cache_size'])}")
            if connection.in_atomic_block:
                return
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] != saved["journal_mode"]:
                cursor.execute(f"PRAGMA journal_mode={saved['journal_mode']}")
            cursor.execute(f"PRAGMA synchronous={int(saved['synchronous'])}")

    def pause_indexes(self) -> list[str]:
        """Drop the non-unique indexes of the bulk tables; return the SQL that rebuilds them.

        Inserting into a dozen B-trees row by row costs far more than sorting each once;
        unique indexes stay, so constraints hold during the load."""
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                    " AND sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(%s))",
                    [json.dumps(BULK_TABLES)],
                )
            elif self.vendor == "postgresql":
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                    " WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    [BULK_TABLES],
                )
            else:
                return []
            found = [
                (name, sql)
                for name, sql in cursor.fetchall()
                if not sql.upper().startswith("CREATE UNIQUE")
            ]
            with transaction.atomic():
                for name, _sql in found:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [sql for _name, sql in found]

    def resume_indexes(self, statements: list[str]) -> None:
        if statements:
            self.step(f"{len(statements)} indexes")
            with transaction.atomic(), connection.cursor() as cursor:
                if self.vendor == "sqlite":
                    # Sort with a helper thread when the library allows it.
                    cursor.execute("PRAGMA threads=2")
                if self.vendor == "postgresql":
                    # Inside an outer transaction (tests), deferred foreign-key checks are
                    # still pending and PostgreSQL refuses CREATE INDEX until they have run.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for statement in statements:
                    cursor.execute(statement)
                if self.vendor == "postgresql":
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # -- SQLite FTS: triggers off during the load, one rebuild after ---------------------

    def pause_fts(self) -> bool:
        if self.vendor != "sqlite":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {row[0] for row in cursor.fetchall()} & FTS_TRIGGERS
            if present != FTS_TRIGGERS:
                return False
            for name in sorted(FTS_TRIGGERS):
                cursor.execute(f"DROP TRIGGER {name}")
        return True

    def resume_fts(self) -> None:
        self.step("search index (FTS rebuild)")
        with transaction.atomic():
            search.rebuild_fts()
            with connection.cursor() as cursor:
                for statement in FTS_TRIGGER_SQL:
                    cursor.execute(statement)

    def reset_sequences(self) -> None:
        """PostgreSQL: move the id sequences past the explicit ids written here."""
        if self.vendor != "postgresql":
            return
        models = [
            Tag,
            CustomFieldDefinition,
            Pipeline,
            Stage,
            LostReason,
            Competitor,
            Product,
            Company,
            Contact,
            Lead,
            Deal,
        ]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def summarise_customers(self) -> None:
        """The customer reports' summary of touches and episodes (wasl.reports.touches):
        the loader writes no outbox events, so it is built here in one pass."""
        from wasl.reports import touches

        self.step("customer summary")
        touches.rebuild()

    def analyse(self) -> None:
        self.step("ANALYZE")
        with connection.cursor() as cursor:
            # Full statistics, not a sample (`PRAGMA analysis_limit`): a sample of 2,000
            # rows per index guessed a million contacts as a few thousand per owner, and
            # SQLite then drove the admin's lists from the user table, sorting every row
            # (2.6 s instead of 25 ms at L). The full pass costs about 12 s at L.
            cursor.execute("ANALYZE")
