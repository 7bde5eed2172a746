"""The set-based import of contacts, companies and leads.

Rows are read in batches of a few thousand. Each batch is validated in Python with the
rules the services apply (`parse_phone`, `clean_email`, `normalise`, custom field
`clean_value`, the model's lengths and choices), matched against existing records with one
query per key kind (e-mails, phone digits, name keys) plus an index of the batch itself,
and written in one transaction with `executemany`: records, e-mails and phones, company
links, tags, search entries, one audit row and one outbox event per record, and what undo
needs (runs of created ids, before-images of updated records). No `save()`, no signals, no
per-row service call: a row costs tens of microseconds instead of milliseconds.

Duplicates are matched only among records the importer may see; a visible match the
importer may not change is refused with a reason, and records the importer cannot see are
never matched (the row becomes a new record; the duplicate finder shows such pairs to
someone who sees both).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.accounts.models import User
from wasl.contacts.custom_fields import clean_value, definitions_for
from wasl.contacts.models import Company, Contact, ContactCompany, ContactPoint, Source, Tag
from wasl.core.models import AuditEntry, OutboxEvent, RecordShare, SearchEntry
from wasl.core.text import normalise
from wasl.core.validation import clean_email
from wasl.core.visibility import Role, can_assign_to, visible
from wasl.imports import mapping as m
from wasl.imports.models import ImportCreated, ImportRowError, ImportUpdated
from wasl.leads.models import Lead

# Rows a batch (one transaction, one commit): each commit writes the index pages the
# batch touched, all over the contact and point indexes, so larger batches write fewer
# of them per row. 5,000 keeps the writer's peak under 200 MiB with its 64 MiB page
# cache (6,000 reached 190-200 MiB at M).
BATCH = 5000
MAX_POINTS = 20


# ---------------------------------------------------------------- fast, equivalent cleaning


@lru_cache(maxsize=20_000)
def _norm_cached(value: str) -> str:
    return normalise(value)


def fast_normalise(value: str | None) -> str:
    """`normalise(value)`, with a shortcut for printable ASCII (lower case, spaces
    folded), which is what normalise does to such text."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():
        return " ".join(value.lower().split())
    return _norm_cached(value)


@lru_cache(maxsize=20_000)
def _domain(domain: str) -> str | None:
    try:
        return clean_email("a@" + domain).partition("@")[2]
    except ValueError:
        return None


_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
)


def fast_email(value: str) -> str:
    """`clean_email(value)`: a plain dot-atom local part is checked here and each domain
    once (through clean_email); anything else goes through clean_email whole."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if (
        at
        and local
        and len(local) <= 64
        and local.isascii()
        and "@" not in local
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and all(c in _ATEXT or c == "." for c in local)
    ):
        clean_domain = _domain(domain)
        if clean_domain is not None:
            address = f"{local}@{clean_domain}".lower()
            if len(address) <= 254:
                return address
    return clean_email(text)


# Phones of one shape (region, with or without "+", the first digits and the length) parse
# the same way: the country code, then the digits after a fixed cut. A shape is learnt from
# one full parse and reused, which costs a slice instead of a parse (most of an import's
# cleaning time). Shapes are kept only where the parse just cuts digits off the front, and
# never for countries whose national prefix rule rewrites digits (Argentina, Brazil).
_SHAPE_DIGITS = 6
_SHAPES: dict[tuple[str, bool, str, int], tuple[int, int]] = {}
_SHAPES_MAX = 200_000


def _rewrites_digits(region: str, country_code: int) -> bool:
    from phonenumbers import PhoneMetadata

    regions = {region, *phonenumbers.region_codes_for_country_code(country_code)}
    for code in regions:
        metadata = PhoneMetadata.metadata_for_region(code) if code else None
        if metadata is not None and metadata.national_prefix_transform_rule:
            return True
    return False


def fast_phone(raw: str, region: str) -> tuple[str, str]:
    """(E.164, significant digits) exactly as `parse_phone` then `significant_digits`
    give them, with at most one parse. Raises ValueError with the services' message."""
    from wasl.core.phones import PhoneError
    from wasl.core.text import ascii_digits

    text = (raw or "").strip()
    digits = ascii_digits(text)
    if not digits:
        raise PhoneError(_("Enter a phone number."))
    if text.startswith("00"):
        candidate = "+" + digits[2:]
    elif text.startswith("+"):
        candidate = "+" + digits
    else:
        candidate = digits
    plus = candidate.startswith("+")
    body = candidate[1:] if plus else candidate
    shape = (region, plus, body[:_SHAPE_DIGITS], len(body))
    known = _SHAPES.get(shape)
    if known is not None:
        national = body[known[1] :]
        return f"+{known[0]}{national}", national
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneError(_("“%(value)s” is not a phone number.") % {"value": raw}) from error
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(_("“%(value)s” is not a possible phone number.") % {"value": raw})
    national = phonenumbers.national_significant_number(number)
    if (
        len(body) > _SHAPE_DIGITS
        and body.isdigit()
        and body.endswith(national)
        and not _rewrites_digits(region, number.country_code)
    ):
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[shape] = (number.country_code, len(body) - len(national))
    return f"+{number.country_code}{national}", national


def entry_text_normed(normed: Iterable[str], digits: Iterable[str]) -> str:
    """What `wasl.core.search.entry_text` returns for parts already normalised."""
    return " ".join([w for w in normed if w] + [d for d in digits if d])[:4000]


# ---------------------------------------------------------------- options and results


@dataclass
class Options:
    on_duplicate: str = "skip"
    match_on: tuple[str, ...] = ("email", "phone", "name")
    calendar: str = "gregorian"
    date_order: str = "dmy"
    tag_separators: str = m.DEFAULT_TAG_SEPARATORS
    extra_tags: tuple[str, ...] = ()
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    default_owner_id: int | None = None
    pipeline: str = ""
    region: str = ""
    batch: int = BATCH

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        match_on = data.get("match_on") or ("email", "phone", "name")
        return cls(
            on_duplicate=data.get("on_duplicate") or "skip",
            match_on=tuple(match_on),
            calendar=data.get("calendar") or "gregorian",
            date_order=data.get("date_order") or "dmy",
            tag_separators=data.get("tag_separators") or m.DEFAULT_TAG_SEPARATORS,
            extra_tags=tuple(data.get("extra_tags") or ()),
            value_maps={
                key: {fast_normalise(k): v for k, v in (values or {}).items()}
                for key, values in (data.get("value_maps") or {}).items()
            },
            default_owner_id=data.get("default_owner_id"),
            pipeline=data.get("pipeline") or "",
            region=data.get("region") or "",
            batch=int(data.get("batch") or BATCH),
        )


@dataclass
class Counts:
    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
        }


@dataclass
class RowError:
    row: int
    reason: str
    cells: list[str]


# ---------------------------------------------------------------- value resolution


class Resolver:
    """Owners, choices and custom fields, loaded once per import."""

    def __init__(self, actor: Any, target: str, options: Options) -> None:
        self.actor = actor
        self.options = options
        self.target = target
        self._users: dict[str, User] | None = None
        self._assignable: dict[int, bool] = {}
        entity = {"contacts": "contact", "companies": "company", "leads": "lead"}.get(target)
        self.custom = definitions_for(entity) if entity else {}
        default = None
        if options.default_owner_id:
            default = User.objects.filter(pk=options.default_owner_id, is_active=True).first()
        self.default_owner = default or actor
        self.sources = {fast_normalise(v): v for v in Source.values}
        for value, label in Source.choices:
            self.sources.setdefault(fast_normalise(str(label)), value)

    def preload(self) -> None:
        """Load every user and whether the actor may assign to them, so cleaning needs no
        database (it may run in forked workers)."""
        for user in {u.pk: u for u in self.users().values()}.values():
            if user.pk not in self._assignable:
                self._assignable[user.pk] = self.actor is None or can_assign_to(self.actor, user)

    def users(self) -> dict[str, User]:
        if self._users is None:
            found: dict[str, User] = {}
            for user in User.objects.filter(is_active=True).order_by("id"):
                for key in (
                    user.username,
                    user.email,
                    user.get_full_name(),
                    f"{user.last_name} {user.first_name}",
                    str(user.public_id),
                ):
                    if key and key.strip():
                        found.setdefault(fast_normalise(key), user)
            self._users = found
        return self._users

    def mapped(self, name: str, raw: str) -> str:
        table = self.options.value_maps.get(name)
        if table:
            return table.get(fast_normalise(raw), raw)
        return raw

    def owner(self, raw: str) -> User:
        text = self.mapped("owner", raw).strip()
        if not text:
            if self.default_owner is None:
                raise ValueError(_("Choose an owner."))
            return self.default_owner
        user = self.users().get(fast_normalise(text))
        if user is None:
            raise ValueError(_("Unknown owner “%(value)s”.") % {"value": text[:60]})
        allowed = self._assignable.get(user.pk)
        if allowed is None:
            allowed = self.actor is None or can_assign_to(self.actor, user)
            self._assignable[user.pk] = allowed
        if not allowed:
            raise ValueError(_("You cannot give records to “%(value)s”.") % {"value": text[:60]})
        return user

    def source(self, raw: str) -> str:
        text = self.mapped("source", raw).strip()
        if not text:
            return ""
        value = self.sources.get(fast_normalise(text))
        if value is None:
            raise ValueError(_("Unknown source “%(value)s”.") % {"value": text[:60]})
        return value

    def custom_value(self, key: str, raw: str) -> Any:
        definition = self.custom[key]
        kind = definition.kind
        text = self.mapped(f"custom:{key}", raw).strip()
        if kind == "date":
            text = m.parse_date_value(text, self.options.calendar, self.options.date_order)
            return clean_value(definition, text)
        if kind in ("number", "money"):
            return clean_value(definition, str(m.parse_number(text)))
        if kind == "multi_choice":
            return clean_value(definition, m.split_tags(text, self.options.tag_separators))
        return clean_value(definition, text)


def _limit(model: type[models.Model], name: str) -> int:
    return int(model._meta.get_field(name).max_length or 10000)


# ---------------------------------------------------------------- the per-kind rules


@dataclass(slots=True)
class Clean:
    """One valid row, ready to write or to merge into a match (slots: a batch or two of
    them wait in memory beside the one being written)."""

    row: int
    cells: list[str]
    fields: dict[str, Any]
    emails: list[tuple[str, str]] = field(default_factory=list)
    phones: list[tuple[str, str, str]] = field(default_factory=list)  # label, e164, digits
    tags: list[str] = field(default_factory=list)
    company: str = ""
    company_role: str = ""
    owner: Any = None
    custom: dict[str, Any] = field(default_factory=dict)
    # The duplicate keys of the row as read (before other rows are merged into it), when
    # a cleaning worker has computed them already.
    match_keys: list[str] | None = None
    # What the writer needs to create the record (see `bulk.Prepared`), when a cleaning
    # worker has computed it; dropped when a later row of the file changes the row.
    prepared: Any = None

    def keys(self, kind: str, match_on: tuple[str, ...]) -> list[str]:
        keys: list[str] = []
        if "email" in match_on:
            keys.extend("e:" + value for _label, value in self.emails)
        if "phone" in match_on:
            keys.extend("p:" + digits for _label, _e164, digits in self.phones)
        if "name" in match_on:
            name = self.name_key(kind)
            if name:
                keys.append("n:" + name)
        return keys

    def name_key(self, kind: str) -> str:
        if kind == "company":
            return fast_normalise(self.fields.get("name", ""))
        person = fast_normalise(
            f"{self.fields.get('first_name', '')} {self.fields.get('last_name', '')}"
        )
        company = fast_normalise(self.company or self.fields.get("company_name", ""))
        return f"{person}|{company}" if person and company else ""


KIND_OF = {"contacts": "contact", "companies": "company", "leads": "lead"}
MODELS: dict[str, type[models.Model]] = {"contact": Contact, "company": Company, "lead": Lead}
TEXT_FIELDS = {
    "contact": [
        "first_name",
        "last_name",
        "title",
        "website",
        "industry",
        "notes",
        "street",
        "city",
        "region",
        "postal_code",
    ],
    "company": [
        "name",
        "website",
        "industry",
        "notes",
        "street",
        "city",
        "region",
        "postal_code",
    ],
    "lead": ["first_name", "last_name", "company_name", "title", "website", "city", "notes"],
}
# The columns each kind writes besides the common ones (update statements set them all).
RECORD_FIELDS = {
    "contact": [
        "first_name",
        "last_name",
        "title",
        "birthday",
        "website",
        "industry",
        "source",
        "notes",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
    ],
    "company": [
        "name",
        "website",
        "industry",
        "source",
        "notes",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
    ],
    "lead": [
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
        "notes",
    ],
}
LEAD_STATUSES = {"new", "contacted", "qualified"}


class RowCleaner:
    """Turns the cells of one row into a `Clean` record or a reason."""

    def __init__(
        self, *, kind: str, headers: list[str], columns: dict[str, str], resolver: Resolver
    ) -> None:
        self.kind = kind
        self.resolver = resolver
        self.options = resolver.options
        self.region = resolver.options.region or settings.WASL_PHONE_REGION
        self.width = len(headers)
        self.plan: list[tuple[int, str, str]] = []  # (cell index, field, extra)
        for index, header in enumerate(headers):
            chosen = columns.get(header, "")
            if chosen:
                name, _colon, extra = chosen.partition(":")
                self.plan.append((index, name, extra))
        model = MODELS[kind]
        self.limits = {name: _limit(model, name) for name in TEXT_FIELDS[kind]}
        self.limits["notes"] = 10000

    def clean(self, row: int, cells: list[str]) -> Clean | RowError:
        problems: list[str] = []
        fields: dict[str, Any] = {}
        record = Clean(row=row, cells=cells, fields=fields)
        full_name = middle = ""
        notes: list[str] = []
        tags: list[str] = list(self.options.extra_tags)
        owner_text = ""
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            problems.append(
                _("The row has %(cells)d cells; the header has %(columns)d.")
                % {"cells": len(cells), "columns": self.width}
            )
        for index, name, extra in self.plan:
            raw = cells[index] if index < len(cells) else ""
            value = unneutralise(raw).strip()
            if not value:
                continue
            try:
                if name == "email":
                    if self.kind == "lead":
                        fields["email"] = fast_email(value)
                    else:
                        for part in _split_multi(value):
                            record.emails.append(
                                (extra if extra != "mobile" else "", fast_email(part))
                            )
                elif name == "phone":
                    if self.kind == "lead":
                        e164, digits = fast_phone(value, self.region)
                        fields["phone"], fields["phone_digits"] = e164, digits
                    else:
                        for part in _split_multi(value):
                            e164, digits = fast_phone(part, self.region)
                            record.phones.append((extra, e164, digits))
                elif name == "full_name":
                    full_name = value
                elif name == "middle_name":
                    middle = value
                elif name == "notes":
                    notes.append(value)
                elif name == "tags":
                    tags.extend(
                        m.split_tags(
                            self.resolver.mapped("tags", value), self.options.tag_separators
                        )
                    )
                elif name == "owner":
                    owner_text = value
                elif name == "company":
                    record.company = value
                elif name == "company_role":
                    record.company_role = value[:120]
                elif name == "birthday":
                    fields["birthday"] = m.parse_date_value(
                        value, self.options.calendar, self.options.date_order
                    )
                elif name == "country":
                    fields["country"] = m.parse_country(self.resolver.mapped("country", value))
                elif name == "source":
                    fields["source"] = self.resolver.source(value)
                elif name == "status":
                    status = fast_normalise(self.resolver.mapped("status", value))
                    if status not in LEAD_STATUSES:
                        raise ValueError(_("Choose new, contacted or qualified."))
                    fields["status"] = status
                elif name == "custom":
                    if extra in self.resolver.custom:
                        record.custom[extra] = self.resolver.custom_value(extra, value)
                else:
                    fields[name] = value
            except ValueError as error:
                problems.append(f"{_field_label(name, extra)}: {error}")
        if notes:
            fields["notes"] = "\n".join(notes)
        if full_name and self.kind in ("contact", "lead"):
            if not fields.get("first_name") and not fields.get("last_name"):
                first, last = m.split_full_name(full_name)
                fields["first_name"], fields["last_name"] = first, last
        elif full_name and self.kind == "company" and not fields.get("name"):
            fields["name"] = full_name
        if middle and self.kind in ("contact", "lead"):
            fields["first_name"] = " ".join(p for p in (fields.get("first_name", ""), middle) if p)
        for name, limit in self.limits.items():
            value = fields.get(name)
            if value and len(value) > limit:
                problems.append(
                    f"{_field_label(name, '')}: "
                    + _("at most %(limit)d characters.") % {"limit": limit}
                )
        if len(record.emails) > MAX_POINTS or len(record.phones) > MAX_POINTS:
            problems.append(
                ngettext(
                    "At most %(count)d e-mail or phone.",
                    "At most %(count)d e-mails and phones.",
                    MAX_POINTS,
                )
                % {"count": MAX_POINTS}
            )
        if self.kind == "contact":
            if not fields.get("first_name") and not fields.get("last_name"):
                problems.append(_("Enter a first or last name."))
            if len(record.company) > 200:
                problems.append(_("Company: at most 200 characters."))
        elif self.kind == "company":
            if not fields.get("name"):
                problems.append(_("Enter the company name."))
        elif self.kind == "lead" and not any(
            fields.get(n) for n in ("first_name", "last_name", "company_name", "email", "phone")
        ):
            problems.append(_("Enter a name, a company name, an e-mail address or a phone number."))
        for tag in tags:
            if len(tag) > 80:
                problems.append(_("A tag has at most 80 characters."))
                break
        if not problems:
            try:
                record.owner = self.resolver.owner(owner_text)
            except ValueError as error:
                problems.append(f"{_field_label('owner', '')}: {error}")
        if not problems:
            problems.extend(_missing_required(record, self.resolver))
        if problems:
            return RowError(row=row, reason="; ".join(problems), cells=cells)
        record.tags = _unique_tags(tags)
        record.emails = _unique(record.emails, lambda p: p[1])
        record.phones = _unique(record.phones, lambda p: p[1])
        return record


def unneutralise(value: str) -> str:
    """Remove the apostrophe an export puts before a cell a spreadsheet would run."""
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


def _missing_required(record: Clean, resolver: Resolver) -> list[str]:
    return [
        _("%(field)s: this field is required.") % {"field": definition.label}
        for key, definition in resolver.custom.items()
        if definition.required and key not in record.custom
    ]


def _split_multi(value: str) -> list[str]:
    """Several e-mails or phones in one cell, separated by ; , or new lines."""
    if not any(sep in value for sep in ";\n،؛") and value.count(",") == 0:
        return [value]
    parts = [
        p.strip() for p in value.replace("\n", ";").replace("،", ";").replace("؛", ";").split(";")
    ]
    out: list[str] = []
    for part in parts:
        if "@" in part and "," in part:
            out.extend(p.strip() for p in part.split(","))
        else:
            out.append(part)
    return [p for p in out if p]


def _unique(items: list[Any], key: Callable[[Any], str]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _unique_tags(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join(name.split())
        if clean:
            seen.setdefault(fast_normalise(clean), clean)
    return list(seen.values())


def _field_label(name: str, extra: str) -> str:
    if name == "custom":
        return extra
    return name.replace("_", " ")


# ---------------------------------------------------------------- existing records


@dataclass
class Existing:
    """An existing record matched by a row, with the state an update starts from."""

    kind: str
    pk: int
    public_id: str
    writable: bool
    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    owner_id: int | None = None
    team_id: int | None = None
    primary_company_id: int | None = None
    points: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind,label,value,digits
    tag_ids: set[int] = field(default_factory=set)
    tag_names: list[str] = field(default_factory=list)
    company_names: list[str] = field(default_factory=list)
    loaded: bool = False
    # Changes planned by the rows of this import:
    new_fields: dict[str, Any] = field(default_factory=dict)
    new_custom: dict[str, Any] = field(default_factory=dict)
    new_points: list[tuple[str, str, str, str]] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)
    new_company: str = ""
    new_company_role: str = ""
    new_owner: Any = None
    rows: list[int] = field(default_factory=list)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class Matcher:
    """Finds, for a batch of rows, the visible records they duplicate: one query per key
    kind, then in-memory lookups."""

    def __init__(self, actor: Any, kind: str) -> None:
        self.actor = actor
        self.kind = kind
        self.model = MODELS[kind]
        self.admin = actor is None or (actor.is_active and actor.role == Role.ADMIN)

    def _scope(self) -> models.QuerySet[Any]:
        base = self.model._default_manager.all()
        return base if self.admin else visible(base, self.actor)

    def find(self, keys: set[str]) -> dict[str, int]:
        """key → id of the oldest visible record holding it."""
        emails = [k[2:] for k in keys if k.startswith("e:")]
        digits = [k[2:] for k in keys if k.startswith("p:")]
        names = [k[2:] for k in keys if k.startswith("n:")]
        found: dict[str, int] = {}
        if self.kind in ("contact", "company"):
            owner_field = quote(f"{self.kind}_id")
            # Raw SQL: the ORM would prepare each of the thousands of values one by one.
            scope_sql, scope_params = "", []
            if not self.admin:
                sql, params = self._scope().values("pk").query.sql_with_params()
                scope_sql, scope_params = f" AND {owner_field} IN ({sql})", list(params)
            table = quote(ContactPoint._meta.db_table)
            with connection.cursor() as cursor:
                for prefix, values, column in (("e:", emails, "value"), ("p:", digits, "digits")):
                    # Only phones have digits: filtering on the kind too would let SQLite
                    # walk every phone through the (kind, value) index.
                    kind_sql = "kind = 'email' AND " if prefix == "e:" else ""
                    for chunk in _chunks(values, 2000):
                        marks = ", ".join(["%s"] * len(chunk))
                        cursor.execute(
                            f"SELECT {owner_field}, {quote(column)} FROM {table} "  # noqa: S608
                            f"WHERE {kind_sql}{quote(column)} IN ({marks}) "
                            f"AND {owner_field} IS NOT NULL{scope_sql}",
                            [*chunk, *scope_params],
                        )
                        # The oldest record holding the key, taken here rather than with
                        # an ORDER BY, which sorted every match in a temporary b-tree.
                        for object_id, value in cursor.fetchall():
                            key = prefix + value
                            if object_id < found.get(key, object_id + 1):
                                found[key] = object_id
            if names and self.kind == "company":
                for chunk in _chunks(names, 2000):
                    rows = self._scope().filter(name_key__in=chunk).values_list("pk", "name_key")
                    for pk, key in rows.order_by("pk"):
                        found.setdefault("n:" + key, pk)
            elif names:
                people = {n.split("|", 1)[0] for n in names}
                wanted = set(names)
                for chunk in _chunks(sorted(people), 2000):
                    rows = (
                        self._scope()
                        .filter(name_key__in=chunk, primary_company__isnull=False)
                        .values_list("pk", "name_key", "primary_company__name_key")
                    )
                    for pk, person, company in rows.order_by("pk"):
                        key = f"{person}|{company}"
                        if key in wanted:
                            found.setdefault("n:" + key, pk)
        else:
            for prefix, values, column in (("e:", emails, "email"), ("p:", digits, "phone_digits")):
                for chunk in _chunks(values, 2000):
                    rows = self._scope().filter(**{f"{column}__in": chunk})
                    for pk, value in rows.values_list("pk", column).order_by("pk"):
                        found.setdefault(prefix + value, pk)
        return found

    def writable(self, ids: set[int], owners: dict[int, tuple[int, int | None]]) -> set[int]:
        if self.actor is None or self.admin:
            return set(ids)
        actor = self.actor
        if not actor.is_active or actor.role == Role.READONLY:
            return set()
        scope = actor.scope_team_ids() if actor.role == Role.MANAGER else frozenset()
        allowed = {
            pk
            for pk in ids
            if owners[pk][0] == actor.pk or (owners[pk][1] is not None and owners[pk][1] in scope)
        }
        rest = ids - allowed
        if rest:
            content_type = ContentType.objects.get_for_model(self.model)
            allowed |= set(
                RecordShare.objects.filter(
                    content_type=content_type,
                    object_id__in=list(rest),
                    user_id=actor.pk,
                    can_write=True,
                ).values_list("object_id", flat=True)
            )
        return allowed


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def select_in(sql: str, values: list[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of `sql`, whose `{marks}` is an IN list, for every value, a chunk of values
    a statement. Raw SQL: the ORM would prepare each of the thousands of values one by one."""
    with connection.cursor() as cursor:
        for chunk in _chunks(values, 2000):
            cursor.execute(sql.format(marks=", ".join(["%s"] * len(chunk))), chunk)
            yield from cursor.fetchall()


def load_existing(kind: str, records: dict[int, Existing]) -> None:
    """Fill the state of matched records (fields, points, tags, company names): a fixed
    number of queries for the whole batch."""
    ids = [pk for pk, e in records.items() if not e.loaded]
    if not ids:
        return
    model = MODELS[kind]
    fields = RECORD_FIELDS[kind]
    count = len(fields)
    columns = ", ".join(quote(c) for c in ["id", *fields, "custom", "owner_id", "team_id"])
    if kind == "contact":
        columns += ", " + quote("primary_company_id")
    table = quote(model._meta.db_table)
    for row in select_in(f"SELECT {columns} FROM {table} WHERE id IN ({{marks}})", ids):  # noqa: S608
        record = records[row[0]]
        values = dict(zip(fields, row[1 : count + 1], strict=True))
        birthday = values.get("birthday")
        if isinstance(birthday, str):
            values["birthday"] = dt.date.fromisoformat(birthday)
        record.fields = values
        custom = row[count + 1]
        record.custom = json.loads(custom) if isinstance(custom, str) else dict(custom or {})
        record.owner_id, record.team_id = row[count + 2], row[count + 3]
        record.primary_company_id = row[count + 4] if kind == "contact" else None
        record.loaded = True
    link = quote(f"{kind}_id")
    if kind in ("contact", "company"):
        points = quote(ContactPoint._meta.db_table)
        for owner, point_kind, label, value, digits in select_in(
            f"SELECT {link}, kind, label, value, digits FROM {points} "  # noqa: S608
            f"WHERE {link} IN ({{marks}}) ORDER BY position, id",
            ids,
        ):
            records[owner].points.append((point_kind, label, value, digits))
    through = quote(model.tags.through._meta.db_table)  # type: ignore[attr-defined]
    tags = quote(Tag._meta.db_table)
    for owner, tag_id, name in select_in(
        f"SELECT t.{link}, t.tag_id, g.name FROM {through} t "  # noqa: S608
        f"JOIN {tags} g ON g.id = t.tag_id WHERE t.{link} IN ({{marks}})",
        ids,
    ):
        records[owner].tag_ids.add(tag_id)
        records[owner].tag_names.append(name)
    if kind == "contact":
        members = quote(ContactCompany._meta.db_table)
        companies = quote(Company._meta.db_table)
        for contact_id, name in select_in(
            f"SELECT m.contact_id, c.name FROM {members} m "  # noqa: S608
            f"JOIN {companies} c ON c.id = m.company_id WHERE m.contact_id IN ({{marks}})",
            ids,
        ):
            records[contact_id].company_names.append(name)


_UNSET = object()


def _plans(planned: dict[str, Any], name: str, value: Any) -> bool:
    """Plan `name` = `value`; True if that changes the plan (a new name, or a value that
    is not the very one planned already, as its repr tells)."""
    old = planned.get(name, _UNSET)
    planned[name] = value
    return old is _UNSET or (old is not value and repr(old) != repr(value))


def merge_into_existing(existing: Existing, clean: Clean, policy: str, kind: str) -> bool:
    """Plan the changes a duplicate row brings to a matched record; True if it brings any."""
    changed = False
    overwrite = policy == "overwrite"
    current = {**existing.fields, **existing.new_fields}
    for name, value in clean.fields.items():
        if _is_empty(value):
            continue
        if name == "phone_digits":
            continue
        if (overwrite or _is_empty(current.get(name))) and current.get(name) != value:
            changed |= _plans(existing.new_fields, name, value)
            if name == "phone":
                digits = clean.fields.get("phone_digits", "")
                changed |= _plans(existing.new_fields, "phone_digits", digits)
    custom = {**existing.custom, **existing.new_custom}
    for key, value in clean.custom.items():
        if (overwrite or _is_empty(custom.get(key))) and custom.get(key) != value:
            changed |= _plans(existing.new_custom, key, value)
    have = {(p[0], p[2]) for p in [*existing.points, *existing.new_points]}
    for label, value in clean.emails:
        if ("email", value) not in have:
            existing.new_points.append(("email", label, value, ""))
            have.add(("email", value))
            changed = True
    for label, e164, digits in clean.phones:
        if ("phone", e164) not in have:
            existing.new_points.append(("phone", label, e164, digits))
            have.add(("phone", e164))
            changed = True
    # The record's tags and companies are normalised only when the row names some (most
    # rows of a contacts file name neither, and most of a record's names are not ASCII).
    if clean.tags:
        known = {fast_normalise(n) for n in [*existing.tag_names, *existing.new_tags]}
        for tag in clean.tags:
            if fast_normalise(tag) not in known:
                existing.new_tags.append(tag)
                known.add(fast_normalise(tag))
                changed = True
    fresh = existing.primary_company_id is None and not existing.new_company
    if (
        kind == "contact"
        and clean.company
        and (overwrite or fresh)
        and fast_normalise(clean.company) not in {fast_normalise(n) for n in existing.company_names}
    ):
        changed |= existing.new_company != clean.company
        existing.new_company = clean.company
        existing.new_company_role = clean.company_role
    if overwrite and clean.owner is not None and clean.owner.pk != existing.owner_id:
        changed |= getattr(existing.new_owner, "pk", None) != clean.owner.pk
        existing.new_owner = clean.owner
    existing.rows.append(clean.row)
    return changed


def merge_into_pending(pending: Clean, clean: Clean, policy: str) -> bool:
    """Fold a row into an earlier row of the file that creates the same record; True if
    it changed anything."""
    overwrite = policy == "overwrite"
    changed = False
    for name, value in clean.fields.items():
        wanted = overwrite or _is_empty(pending.fields.get(name))
        if not _is_empty(value) and wanted and pending.fields.get(name) != value:
            pending.fields[name] = value
            changed = True
    for key, value in clean.custom.items():
        if (overwrite or key not in pending.custom) and pending.custom.get(key) != value:
            pending.custom[key] = value
            changed = True
    emails = {v for _l, v in pending.emails}
    for label, value in clean.emails:
        if value not in emails:
            pending.emails.append((label, value))
            emails.add(value)
            changed = True
    phones = {v for _l, v, _d in pending.phones}
    for label, e164, digits in clean.phones:
        if e164 not in phones:
            pending.phones.append((label, e164, digits))
            phones.add(e164)
            changed = True
    known = {fast_normalise(t) for t in pending.tags}
    for tag in clean.tags:
        if fast_normalise(tag) not in known:
            pending.tags.append(tag)
            known.add(fast_normalise(tag))
            changed = True
    wanted = overwrite or not pending.company
    if clean.company and wanted and pending.company != clean.company:
        pending.company, pending.company_role = clean.company, clean.company_role
        changed = True
    return changed


# ---------------------------------------------------------------- raw writes


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def insert_sql(table: str, columns: list[str]) -> str:
    # Built once per statement shape: quoting a name goes through the thread's connection
    # handler, and the writer asks for the same few statements a thousand rows at a time.
    return _insert_sql(connection.vendor, table, tuple(columns))


@lru_cache(maxsize=256)
def _insert_sql(vendor: str, table: str, columns: tuple[str, ...]) -> str:
    cols = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})"  # noqa: S608


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for explicit inserts, inside the caller's transaction.

    SQLite: the transaction holds the write lock (IMMEDIATE), so the ids after the larger
    of MAX(id) and the AUTOINCREMENT counter are ours. PostgreSQL: taken from the
    column's sequence, so concurrent inserts never collide."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX(id) FROM {quote(table)}")  # noqa: S608
        top = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row and row[0] and row[0] > top:
                top = row[0]
        return list(range(top + 1, top + 1 + count))


def id_runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for pk in sorted(ids):
        if runs and pk == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], pk)
        else:
            runs.append((pk, pk))
    return runs


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# One encoder for every row: `json.dumps` with options builds a new encoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def db_json(value: Any) -> str:
    return _encode_json(value)


def db_uuid(value: uuid.UUID) -> str:
    return value.hex if connection.vendor == "sqlite" else str(value)


def json_field_value(value: Any) -> Any:
    """A JSON column's value as `executemany` passes it."""
    return db_json(value)


# Convenience used by the writer and merge code alike.
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
AUDIT_COLUMNS = [
    "actor_id",
    "action",
    "content_type_id",
    "object_id",
    "object_public_id",
    "object_repr",
    "changes",
    "data",
    "created_at",
]
EVENT_COLUMNS = [
    "name",
    "content_type_id",
    "object_id",
    "actor_id",
    "data",
    "created_at",
    "attempts",
    "last_error",
]


def write_audit(rows: list[tuple[Any, ...]]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(insert_sql(AuditEntry._meta.db_table, AUDIT_COLUMNS), rows)


def write_events(rows: list[tuple[Any, ...]]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(insert_sql(OutboxEvent._meta.db_table, EVENT_COLUMNS), rows)


# SQLite's trigram index is fed by triggers on the entry table; one statement per row
# through a trigger costs ~100 µs, while one INSERT ... SELECT over the batch's entries
# costs ~25 µs a row. `write_search` therefore drops the insert and delete triggers inside
# the batch's transaction, indexes the batch itself and puts the triggers back before the
# commit: other connections never see the index without its triggers (they cannot write
# while the batch holds the write lock, and the DDL commits or rolls back with the rows).
FTS_TABLE = "core_search_fts"
FTS_BULK_TRIGGERS = ("core_search_ai", "core_search_ad")


def _fts_triggers(cursor: Any) -> list[str]:
    """The CREATE statements of the index's insert and delete triggers, or [] when they
    are not both there (a large import has dropped them and rebuilds the index after)."""
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
        list(FTS_BULK_TRIGGERS),
    )
    found = dict(cursor.fetchall())
    if set(found) != set(FTS_BULK_TRIGGERS):
        return []
    return [found[name] for name in FTS_BULK_TRIGGERS]


def write_search(
    rows: list[tuple[Any, ...]],
    replace: bool = False,
    *,
    new_rows: list[tuple[Any, ...]] | None = None,
) -> None:
    """Insert search entries (with `replace`, delete the records' old entries first),
    keeping SQLite's trigram index in step set by set rather than row by row.
    `new_rows` are entries of new records, inserted and indexed with `rows`."""
    if not rows and not new_rows:
        return
    table = SearchEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        triggers = _fts_triggers(cursor) if connection.vendor == "sqlite" else []
        for name in FTS_BULK_TRIGGERS if triggers else ():
            cursor.execute(f"DROP TRIGGER {name}")
        if replace:
            by_kind: dict[str, list[int]] = {}
            for row in rows:
                by_kind.setdefault(row[0], []).append(row[1])
            for kind, ids in by_kind.items():
                for chunk in _chunks(ids, 900):
                    marks = ", ".join(["%s"] * len(chunk))
                    where = f"kind = %s AND object_id IN ({marks})"
                    if triggers:
                        # In rowid order: FTS5 flushes its pending terms to a new segment
                        # whenever a rowid comes lower than the one before.
                        cursor.execute(
                            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) "  # noqa: S608
                            f"SELECT 'delete', id, text FROM {quote(table)} "
                            f"WHERE {where} ORDER BY id",
                            [kind, *chunk],
                        )
                    cursor.execute(
                        f"DELETE FROM {quote(table)} WHERE {where}",  # noqa: S608
                        [kind, *chunk],
                    )
        top = 0
        if triggers:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table)}")  # noqa: S608
            top = cursor.fetchone()[0]
        for inserted in (rows, new_rows):
            if inserted:
                cursor.executemany(insert_sql(table, SEARCH_COLUMNS), inserted)
        if triggers:
            # AUTOINCREMENT: the ids above the old maximum are the rows just inserted.
            cursor.execute(
                f"INSERT INTO {FTS_TABLE}(rowid, text) "  # noqa: S608
                f"SELECT id, text FROM {quote(table)} WHERE id > %s",
                [top],
            )
            for statement in triggers:
                cursor.execute(statement)


def ensure_tags(names: Iterable[str], created: list[int]) -> dict[str, int]:
    """Normalised name → tag id for every name, creating the missing tags (their ids are
    appended to `created`)."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(fast_normalise(name), name)
    if not wanted:
        return {}
    found: dict[str, int] = {}
    for chunk in _chunks(list(wanted), 2000):
        found.update(Tag.objects.filter(key__in=chunk).values_list("key", "pk"))
    missing = [key for key in wanted if key not in found]
    if missing:
        ids = allocate_ids(Tag, len(missing))
        now = db_datetime(timezone.now())
        with connection.cursor() as cursor:
            cursor.executemany(
                insert_sql(
                    Tag._meta.db_table,
                    ["id", "public_id", "created_at", "updated_at", "name", "key", "color"],
                ),
                [
                    (pk, db_uuid(uuid.uuid4()), now, now, wanted[key][:80], key, "")
                    for pk, key in zip(ids, missing, strict=True)
                ],
            )
        for pk, key in zip(ids, missing, strict=True):
            found[key] = pk
        created.extend(ids)
    return found


def save_row_errors(job_id: int, errors: list[RowError], *, dry_run: bool) -> None:
    if errors:
        ImportRowError.objects.bulk_create(
            [
                ImportRowError(
                    job_id=job_id,
                    dry_run=dry_run,
                    row=e.row,
                    reason=e.reason[:2000],
                    values=[c[:2000] for c in e.cells[:200]],
                )
                for e in errors
            ],
            batch_size=1000,
        )


def save_created(job_id: int, kind: str, ids: Iterable[int]) -> None:
    runs = id_runs(ids)
    if runs:
        ImportCreated.objects.bulk_create(
            [ImportCreated(job_id=job_id, kind=kind, first_id=a, last_id=b) for a, b in runs]
        )


def save_updated(job_id: int, kind: str, befores: list[tuple[int, dict[str, Any]]]) -> None:
    if befores:
        with connection.cursor() as cursor:
            cursor.executemany(
                insert_sql(ImportUpdated._meta.db_table, ["job_id", "kind", "object_id", "before"]),
                [(job_id, kind, pk, db_json(before)) for pk, before in befores],
            )


def in_transaction(function: Callable[[], Any]) -> Any:
    with transaction.atomic():
        return function()
