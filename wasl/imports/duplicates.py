"""Finding duplicates among contacts, companies and leads: scoring, the check on create,
and the full scan that stores `DuplicatePair` rows.

Evidence and weights: same e-mail (60), same phone by significant digits (50), same
normalised name (40) or a similar one (rapidfuzz `token_sort_ratio` ≥ 85 on normalised
names: 10–35), same company (15). A pair is reported from 50 (the check on create warns
from 40). Fuzzy names are compared only inside blocks (records of the same company, or
sharing an e-mail or phone), never all against all, so a scan stays linear.

"Not a duplicate": `duplicate_dismiss` keeps a pair as dismissed (who and when); the scan
keeps it, `pair_list` and `possible_duplicates(record=…)` leave it out, and an
administrator can give it back with `duplicate_restore`.
"""

from __future__ import annotations

import contextlib
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from wasl.contacts.models import Company, Contact, ContactPoint
from wasl.core import events
from wasl.core.audit import record_audit
from wasl.core.errors import Invalid, NotFound
from wasl.core.models import AuditEntry, RecordShare
from wasl.core.phones import PhoneError, parse_phone, significant_digits
from wasl.core.text import normalise
from wasl.core.validation import clean_email
from wasl.core.visibility import Role, require_admin, require_write, visible
from wasl.imports.models import DuplicatePair
from wasl.leads.models import Lead

REPORT_FROM = 50
WARN_FROM = 40
FUZZY_FROM = 85
MAX_GROUP = 50
KIND_MODELS = {"contact": Contact, "company": Company, "lead": Lead}


@dataclass
class Candidate:
    kind: str
    record: Any
    score: int
    reasons: list[str]


def score(
    *,
    same_email: bool = False,
    same_phone: bool = False,
    name_a: str = "",
    name_b: str = "",
    same_company: bool = False,
) -> tuple[int, list[str]]:
    """The score of a pair and the reasons shown to the user."""
    total = 0
    reasons: list[str] = []
    if same_email:
        total += 60
        reasons.append("email")
    if same_phone:
        total += 50
        reasons.append("phone")
    if name_a and name_b:
        if name_a == name_b:
            total += 40
            reasons.append("name")
        else:
            ratio = fuzz.token_sort_ratio(name_a, name_b)
            if ratio >= FUZZY_FROM:
                total += int(10 + (ratio - FUZZY_FROM) * 25 / (100 - FUZZY_FROM))
                reasons.append("similar_name")
    if same_company:
        total += 15
        reasons.append("company")
    return min(total, 100), reasons


REASON_TEXT = {
    "email": gettext_lazy("Same e-mail address"),
    "phone": gettext_lazy("Same phone number"),
    "name": gettext_lazy("Same name"),
    "similar_name": gettext_lazy("Similar name"),
    "company": gettext_lazy("Same company"),
}


def reason_labels(reasons: Iterable[str]) -> list[str]:
    """The reasons a pair looks alike, in the active language (unknown codes as given)."""
    return [str(REASON_TEXT.get(r, r)) for r in reasons]


# ---------------------------------------------------------------- the check on create


def _clean_inputs(data: dict[str, Any]) -> tuple[set[str], set[str]]:
    emails: set[str] = set()
    digits: set[str] = set()
    for raw in [*(data.get("emails") or []), data.get("email") or ""]:
        value = raw.get("value", "") if isinstance(raw, dict) else str(raw or "")
        if value.strip():
            with contextlib.suppress(ValueError):
                emails.add(clean_email(value))
    for raw in [*(data.get("phones") or []), data.get("phone") or ""]:
        value = raw.get("value", "") if isinstance(raw, dict) else str(raw or "")
        if value.strip():
            with contextlib.suppress(PhoneError):
                digits.add(significant_digits(parse_phone(value)))
    return emails, digits


def possible_duplicates(
    actor: Any, kind: str, data: dict[str, Any], *, limit: int = 10, record: Any = None
) -> list[Candidate]:
    """Records the actor sees that `data` (a record about to be created) may duplicate,
    best first. `data`: first_name, last_name / name, emails, phones, company. Given
    `record` (the record being edited), leaves out that record and every record a user
    said it is not a duplicate of."""
    model = KIND_MODELS[kind]
    scope = visible(model._default_manager.all(), actor)
    emails, digits = _clean_inputs(data)
    if kind == "company":
        name = normalise(data.get("name", ""))
    else:
        name = normalise(f"{data.get('first_name', '')} {data.get('last_name', '')}")
    company = normalise(data.get("company") or data.get("company_name") or "")
    ids: set[int] = set()
    by_email: set[int] = set()
    by_phone: set[int] = set()
    if kind in ("contact", "company"):
        link = f"{kind}_id"
        if emails:
            by_email = set(
                ContactPoint.objects.filter(
                    kind="email", value__in=emails, **{f"{link}__in": scope.values("pk")}
                ).values_list(link, flat=True)
            )
        if digits:
            by_phone = set(
                ContactPoint.objects.filter(
                    digits__in=digits, **{f"{link}__in": scope.values("pk")}
                ).values_list(link, flat=True)
            )
    else:
        if emails:
            by_email = set(scope.filter(email__in=emails).values_list("pk", flat=True))
        if digits:
            by_phone = set(scope.filter(phone_digits__in=digits).values_list("pk", flat=True))
    ids |= by_email | by_phone
    excluded = dismissed_partners(kind, record.pk) | {record.pk} if record is not None else set()
    if name and kind in ("contact", "company"):
        first = name.split(" ")[0][:3]
        similar = scope.filter(name_key__gte=first, name_key__lt=first + "\uffff")
        ids |= set(similar.values_list("pk", flat=True)[:300])
        last = name.split(" ")[-1][:3]
        if last != first:
            similar = scope.filter(name_key__gte=last, name_key__lt=last + "\uffff")
            ids |= set(similar.values_list("pk", flat=True)[:300])
    elif name:
        first, _sp, last = name.partition(" ")
        ids |= set(
            scope.filter(first_name__iexact=data.get("first_name", "")).values_list(
                "pk", flat=True
            )[:300]
        )
    candidates: list[Candidate] = []
    records = model._default_manager.filter(pk__in=list(ids - excluded))
    if kind == "contact":
        records = records.select_related("primary_company")
    for record in records:
        if kind == "company":
            other_name, other_company = record.name_key, ""
        elif kind == "contact":
            other_name = record.name_key
            other_company = record.primary_company.name_key if record.primary_company else ""
        else:
            other_name = normalise(f"{record.first_name} {record.last_name}")
            other_company = normalise(record.company_name)
        value, reasons = score(
            same_email=record.pk in by_email,
            same_phone=record.pk in by_phone,
            name_a=name,
            name_b=other_name,
            same_company=bool(company) and company == other_company,
        )
        if value >= WARN_FROM:
            candidates.append(Candidate(kind=kind, record=record, score=value, reasons=reasons))
    candidates.sort(key=lambda c: (-c.score, c.record.pk))
    return candidates[:limit]


# ---------------------------------------------------------------- the full scan


def _groups(sql: str, params: list[Any]) -> Iterable[list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        current_key = None
        members: list[int] = []
        for key, object_id in cursor.fetchall():
            if key != current_key:
                if len(members) > 1:
                    yield members
                current_key, members = key, []
            if object_id not in members and len(members) < MAX_GROUP:
                members.append(object_id)
        if len(members) > 1:
            yield members


def _pairs(members: list[int]) -> Iterable[tuple[int, int]]:
    ordered = sorted(members)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            yield a, b


EVIDENCE_BITS = {"email": 1, "phone": 2, "company": 4}
SCAN_WRITE_BATCH = 5000
_PACK = 1 << 40  # ids below a trillion


def _pack(a: int, b: int) -> int:
    if b >= _PACK:
        raise OverflowError(f"record id {b} is too large for the duplicate scan's pair keys")
    return a * _PACK + b


def _unpack(key: int) -> tuple[int, int]:
    return divmod(key, _PACK)


def duplicate_scan(*, kind: str) -> dict[str, Any]:
    """Scan every record of `kind` for likely duplicates; replace the open pairs (dismissed
    and merged ones stay). Returns counts."""
    model = KIND_MODELS[kind]
    table = model._meta.db_table
    point_table = ContactPoint._meta.db_table
    # {pair key: reason bits}. A million contacts give millions of candidate pairs: a
    # packed int and a small int per pair instead of a tuple and a set (and no model
    # instance per pair before the write) keep the L scan under 1 GiB instead of 4.
    evidence: dict[int, int] = defaultdict(int)
    if kind in ("contact", "company"):
        link = f"{kind}_id"
        for point_kind, column, reason in (
            ("email", "value", "email"),
            ("phone", "digits", "phone"),
        ):
            sql = (
                f"SELECT p.{column}, p.{link} FROM {point_table} p WHERE p.kind = %s AND "  # noqa: S608
                f"p.{link} IS NOT NULL AND p.{column} IN (SELECT {column} FROM {point_table} "
                f"WHERE kind = %s AND {link} IS NOT NULL AND {column} <> '' GROUP BY {column} "
                f"HAVING COUNT(DISTINCT {link}) > 1) ORDER BY p.{column}, p.{link}"
            )
            for members in _groups(sql, [point_kind, point_kind]):
                for a, b in _pairs(members):
                    evidence[_pack(a, b)] |= EVIDENCE_BITS[reason]
    else:
        for column, reason in (("email", "email"), ("phone_digits", "phone")):
            sql = (
                f"SELECT {column}, id FROM {table} WHERE {column} IN (SELECT {column} FROM "  # noqa: S608
                f"{table} WHERE {column} <> '' GROUP BY {column} HAVING COUNT(*) > 1) "
                f"ORDER BY {column}, id"
            )
            for members in _groups(sql, []):
                for a, b in _pairs(members):
                    evidence[_pack(a, b)] |= EVIDENCE_BITS[reason]
    names: dict[int, str] = {}
    companies: dict[int, str] = {}
    # Name blocks: records of one company (contacts, leads) or of one name (companies).
    if kind == "contact":
        sql = (
            f"SELECT primary_company_id, id, name_key FROM {table} "  # noqa: S608
            "WHERE primary_company_id IS NOT NULL ORDER BY primary_company_id, id"
        )
    elif kind == "lead":
        sql = (
            f"SELECT company_name, id, first_name || ' ' || last_name FROM {table} "  # noqa: S608
            "WHERE company_name <> '' ORDER BY company_name, id"
        )
    else:
        sql = (
            f"SELECT name_key, id, name_key FROM {table} WHERE name_key IN (SELECT name_key "  # noqa: S608
            f"FROM {table} GROUP BY name_key HAVING COUNT(*) > 1) ORDER BY name_key, id"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        block_key = None
        block: list[tuple[int, str]] = []

        def close_block() -> None:
            if len(block) < 2:
                return
            keys = [normalise(n) if kind == "lead" else n for _i, n in block]
            for i in range(len(block) - 1):
                matches = process.extract(
                    keys[i],
                    keys[i + 1 :],
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=FUZZY_FROM,
                    limit=None,
                )
                for _choice, _score, offset in matches:
                    j = i + 1 + offset
                    a, b = sorted((block[i][0], block[j][0]))
                    evidence[_pack(a, b)] |= EVIDENCE_BITS["company"]
                    names[block[i][0]], names[block[j][0]] = keys[i], keys[j]
                    companies[a] = companies[b] = str(block_key)

        while True:
            rows = cursor.fetchmany(20_000)
            if not rows:
                break
            for key, object_id, name in rows:
                if key != block_key:
                    close_block()
                    block_key, block = key, []
                if len(block) < 500:
                    block.append((object_id, name or ""))
        close_block()
    missing = {i for key in evidence for i in _unpack(key) if i not in names}
    for chunk_start in range(0, len(missing), 5000):
        chunk = list(missing)[chunk_start : chunk_start + 5000]
        if kind == "lead":
            for pk, first, last, company in Lead.objects.filter(pk__in=chunk).values_list(
                "pk", "first_name", "last_name", "company_name"
            ):
                names[pk] = normalise(f"{first} {last}")
                companies[pk] = normalise(company)
        elif kind == "contact":
            for pk, key, company in Contact.objects.filter(pk__in=chunk).values_list(
                "pk", "name_key", "primary_company_id"
            ):
                names[pk] = key
                companies[pk] = str(company) if company else ""
        else:
            for pk, key in Company.objects.filter(pk__in=chunk).values_list("pk", "name_key"):
                names[pk] = key
    kept = set(
        DuplicatePair.objects.filter(kind=kind)
        .exclude(status=DuplicatePair.Status.OPEN)
        .values_list("first_id", "second_id")
    )
    candidates = len(evidence)
    # The pairs to write, column by column; their reason lists are few and shared.
    firsts, seconds, values, label_ids = array("q"), array("q"), array("h"), array("h")
    label_lists: dict[tuple[str, ...], int] = {}
    for key, bits in evidence.items():
        a, b = _unpack(key)
        if (a, b) in kept:
            continue
        same_company = bool(bits & EVIDENCE_BITS["company"]) and kind != "company"
        if kind == "company" and names.get(a) == names.get(b):
            same_company = False
        value, labels = score(
            same_email=bool(bits & EVIDENCE_BITS["email"]),
            same_phone=bool(bits & EVIDENCE_BITS["phone"]),
            name_a=names.get(a, ""),
            name_b=names.get(b, ""),
            same_company=same_company
            or (bool(companies.get(a)) and companies.get(a) == companies.get(b)),
        )
        if value >= REPORT_FROM:
            firsts.append(a)
            seconds.append(b)
            values.append(value)
            label_ids.append(label_lists.setdefault(tuple(labels), len(label_lists)))
    evidence.clear()
    labels_by_id = [list(labels) for labels in label_lists]
    with transaction.atomic():
        DuplicatePair.objects.filter(kind=kind, status=DuplicatePair.Status.OPEN).delete()
        for start in range(0, len(firsts), SCAN_WRITE_BATCH):
            DuplicatePair.objects.bulk_create(
                [
                    DuplicatePair(
                        kind=kind,
                        first_id=firsts[i],
                        second_id=seconds[i],
                        score=values[i],
                        reasons=labels_by_id[label_ids[i]],
                    )
                    for i in range(start, min(start + SCAN_WRITE_BATCH, len(firsts)))
                ]
            )
    return {"kind": kind, "pairs": len(firsts), "candidates": candidates}


def pair_list(*, actor: Any, kind: str) -> list[tuple[DuplicatePair, Any, Any]]:
    """Open pairs of records the actor sees both of, best first (at most 200)."""
    model = KIND_MODELS[kind]
    pairs = list(DuplicatePair.objects.filter(kind=kind, status=DuplicatePair.Status.OPEN)[:2000])
    ids = {i for p in pairs for i in (p.first_id, p.second_id)}
    records = {r.pk: r for r in visible(model._default_manager.filter(pk__in=list(ids)), actor)}
    return [
        (p, records[p.first_id], records[p.second_id])
        for p in pairs
        if p.first_id in records and p.second_id in records
    ][:200]


# ---------------------------------------------------------------- "not a duplicate"


def dismissed_partners(kind: str, pk: int) -> set[int]:
    """Ids of the records a user said record `pk` is not a duplicate of."""
    rows = DuplicatePair.objects.filter(
        Q(first_id=pk) | Q(second_id=pk), kind=kind, status=DuplicatePair.Status.DISMISSED
    ).values_list("first_id", "second_id")
    return {b if a == pk else a for a, b in rows}


def _evidence(kind: str, record: Any) -> tuple[set[str], set[str], str, str]:
    """A record's e-mails, phone digits, name key and company key, for `pair_score`."""
    if kind == "lead":
        return (
            {record.email} if record.email else set(),
            {record.phone_digits} if record.phone_digits else set(),
            normalise(f"{record.first_name} {record.last_name}"),
            normalise(record.company_name),
        )
    points = ContactPoint.objects.filter(**{f"{kind}_id": record.pk}).values_list(
        "kind", "value", "digits"
    )
    emails = {value for point_kind, value, _d in points if point_kind == "email"}
    digits = {d for point_kind, _v, d in points if point_kind == "phone" and d}
    company = str(record.primary_company_id or "") if kind == "contact" else ""
    return emails, digits, record.name_key, company


def pair_score(kind: str, first: Any, second: Any) -> tuple[int, list[str]]:
    """The score and reasons of two existing records, as the scan would give them."""
    emails_a, digits_a, name_a, company_a = _evidence(kind, first)
    emails_b, digits_b, name_b, company_b = _evidence(kind, second)
    return score(
        same_email=bool(emails_a & emails_b),
        same_phone=bool(digits_a & digits_b),
        name_a=name_a,
        name_b=name_b,
        same_company=bool(company_a) and company_a == company_b,
    )


def _check_pair(kind: str, first: Any, second: Any) -> tuple[Any, Any]:
    model = KIND_MODELS.get(kind)
    if model is None or not isinstance(first, model) or not isinstance(second, model):
        raise Invalid({"kind": [_("Both records must be of the chosen kind.")]})
    if first.pk == second.pk:
        raise Invalid({"second_id": [_("Choose two different records.")]})
    return (first, second) if first.pk < second.pk else (second, first)


def _pair_data(kind: str, first: Any, second: Any) -> dict[str, Any]:
    return {"kind": kind, "first_id": str(first.public_id), "second_id": str(second.public_id)}


def _emit_pair_event(name: str, actor: Any, first: Any, second: Any) -> None:
    """An event on the first record of the pair naming the other, for the outbox's
    listeners (no rule trigger offers it yet)."""
    events.emit(name, first, actor, {"id": first.public_id, "other_id": second.public_id})


def duplicate_dismiss(*, actor: Any, kind: str, first: Any, second: Any) -> DuplicatePair:
    """Say two records are not duplicates: the pair is kept as dismissed (by whom, when) so
    neither the scan, the pair lists nor the check on a record suggest it again. The actor
    must be allowed to change both records (the caller loaded them through their access
    functions, so an invisible record is already "not found"). Dismissing a dismissed
    pair changes nothing. Raises Invalid, Forbidden."""
    first, second = _check_pair(kind, first, second)
    if actor is not None:
        require_write(actor, first)
        require_write(actor, second)
    with transaction.atomic():
        pair = (
            DuplicatePair.objects.select_for_update()
            .filter(kind=kind, first_id=first.pk, second_id=second.pk)
            .first()
        )
        if pair is not None and pair.status == DuplicatePair.Status.DISMISSED:
            return pair
        now = timezone.now()
        previous = pair.status if pair is not None else ""
        if pair is None:
            value, reasons = pair_score(kind, first, second)
            pair = DuplicatePair.objects.create(
                kind=kind,
                first_id=first.pk,
                second_id=second.pk,
                score=value,
                reasons=reasons,
                status=DuplicatePair.Status.DISMISSED,
                dismissed_by=actor,
                dismissed_at=now,
            )
        else:
            pair.status = DuplicatePair.Status.DISMISSED
            pair.dismissed_by = actor
            pair.dismissed_at = now
            pair.save(update_fields=["status", "dismissed_by", "dismissed_at"])
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record=pair,
            changes={"status": [previous, DuplicatePair.Status.DISMISSED]},
            data=_pair_data(kind, first, second),
        )
        _emit_pair_event(f"{kind}.duplicate_dismissed", actor, first, second)
    return pair


def duplicate_restore(*, actor: Any, kind: str, first: Any, second: Any) -> DuplicatePair:
    """Take a dismissal back (administrators): the pair is open again and shows among the
    duplicates until merged, dismissed again or no longer found by a scan. Raises
    Forbidden, NotFound (no such dismissed pair)."""
    first, second = _check_pair(kind, first, second)
    if actor is not None:
        require_admin(actor)
    with transaction.atomic():
        pair = (
            DuplicatePair.objects.select_for_update()
            .filter(
                kind=kind,
                first_id=first.pk,
                second_id=second.pk,
                status=DuplicatePair.Status.DISMISSED,
            )
            .first()
        )
        if pair is None:
            raise NotFound()
        pair.status = DuplicatePair.Status.OPEN
        pair.dismissed_by = None
        pair.dismissed_at = None
        pair.save(update_fields=["status", "dismissed_by", "dismissed_at"])
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record=pair,
            changes={"status": [DuplicatePair.Status.DISMISSED, DuplicatePair.Status.OPEN]},
            data=_pair_data(kind, first, second),
        )
        _emit_pair_event(f"{kind}.duplicate_restored", actor, first, second)
    return pair


def dismissed_pair_list(
    *, actor: Any, kind: str, limit: int = 200
) -> list[tuple[DuplicatePair, Any, Any]]:
    """Dismissed pairs of one kind, newest dismissal first, with both records (pairs whose
    records are gone are left out). Administrators only; anyone else gets none."""
    if not getattr(actor, "is_active", False) or actor.role != Role.ADMIN:
        return []
    model = KIND_MODELS[kind]
    pairs = list(
        DuplicatePair.objects.filter(kind=kind, status=DuplicatePair.Status.DISMISSED)
        .select_related("dismissed_by")
        .order_by("-dismissed_at", "-id")[:limit]
    )
    ids = {i for p in pairs for i in (p.first_id, p.second_id)}
    records = model._default_manager.in_bulk(sorted(ids))
    return [
        (p, records[p.first_id], records[p.second_id])
        for p in pairs
        if p.first_id in records and p.second_id in records
    ]


def writable_ids(actor: Any, records: Iterable[Any]) -> set[int]:
    """Which of these records (of one kind, all visible to the actor) the actor may change:
    `can_write` for many records at once, with at most one query (write shares)."""
    records = list(records)
    if not records or not actor.is_active or actor.role == Role.READONLY:
        return set()
    if actor.role == Role.ADMIN:
        return {r.pk for r in records}
    teams = actor.scope_team_ids() if actor.role == Role.MANAGER else frozenset()
    allowed = {r.pk for r in records if r.owner_id == actor.pk or r.team_id in teams}
    rest = sorted({r.pk for r in records} - allowed)
    if rest:
        allowed |= set(
            RecordShare.objects.filter(
                content_type=ContentType.objects.get_for_model(type(records[0])),
                object_id__in=rest,
                user_id=actor.pk,
                can_write=True,
            ).values_list("object_id", flat=True)
        )
    return allowed
