"""Global search over one normalised text column.

Each app's services call `index_record` when a searchable record changes. SQLite answers
with an FTS5 trigram table kept in step by triggers, PostgreSQL with a pg_trgm GIN index;
both find substrings of names, e-mails, company names, tags and phone digits without
scanning the table. Results are narrowed by the visibility rule before ranking.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.backends.signals import connection_created
from django.utils import timezone

from wasl.core.models import RecordShare, SearchEntry
from wasl.core.phones import query_digits, significant_digits
from wasl.core.text import normalise
from wasl.core.visibility import Actor, Role

# Search kinds and the models they index, filled by each app's AppConfig.ready().
KIND_MODELS: dict[str, type[models.Model]] = {}

CANDIDATE_LIMIT = 300
_PHONE_LIKE = re.compile(r"^[\s+()\-.0-9۰-۹٠-٩]{5,}$")


@dataclass(frozen=True)
class SearchHit:
    kind: str
    object_id: int
    public_id: str
    title: str
    subtitle: str
    score: int


def register_kind(kind: str, model: type[models.Model]) -> None:
    KIND_MODELS[kind] = model


def connect_engine_setup() -> None:
    """Nothing to set per connection today; kept as the one place engine hooks belong."""
    connection_created.connect(_on_connection, dispatch_uid="wasl-search-connection")


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    return None


def entry_text(parts: Iterable[str | None], phones: Iterable[str] = ()) -> str:
    """The normalised text stored for a record: its words, then each phone's digits."""
    words = [normalise(part) for part in parts if part]
    digits = [significant_digits(phone) for phone in phones if phone]
    return " ".join(filter(None, [*words, *digits]))[:4000]


def index_record(
    *,
    kind: str,
    record: Any,
    title: str,
    subtitle: str = "",
    parts: Iterable[str | None] = (),
    phones: Iterable[str] = (),
    created: bool = False,
) -> None:
    """Create or refresh the search entry of one record (inside the caller's transaction).

    `created=True` says the record is new, which saves the lookup of an old entry."""
    values = {
        "public_id": record.public_id,
        "title": title[:300],
        "subtitle": (subtitle or "")[:300],
        "owner_id": getattr(record, "owner_id", None),
        "team_id": getattr(record, "team_id", None),
        "text": entry_text([title, subtitle, *parts], phones),
    }
    if not created and SearchEntry.objects.filter(kind=kind, object_id=record.pk).update(
        **values, updated_at=timezone.now()
    ):
        return
    SearchEntry.objects.create(kind=kind, object_id=record.pk, **values)


def unindex_record(*, kind: str, object_id: int) -> None:
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


def reassign_entries(
    *, kind: str, object_ids: Sequence[int], owner_id: int, team_id: int | None
) -> None:
    SearchEntry.objects.filter(kind=kind, object_id__in=list(object_ids)).update(
        owner_id=owner_id, team_id=team_id
    )


def rebuild_fts() -> None:
    """Rebuild the SQLite FTS index from the entries (after bulk loads that bypassed it)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO core_search_fts(core_search_fts) VALUES('rebuild')")


def _visibility_sql(actor: Actor) -> tuple[str, list[Any]] | None:
    """SQL filter on the entry table alias `e`; None means unrestricted (admin)."""
    if not actor.is_active:
        return "0 = 1", []
    if actor.role == Role.ADMIN:
        return None
    clauses = ["e.owner_id = %s"]
    params: list[Any] = [actor.pk]
    if actor.role in (Role.MANAGER, Role.READONLY):
        team_ids = sorted(actor.scope_team_ids())
        if team_ids:
            clauses.append(f"e.team_id IN ({', '.join(['%s'] * len(team_ids))})")
            params.extend(team_ids)
    shares = (
        RecordShare.objects.filter(user_id=actor.pk)
        .values_list("content_type_id", "object_id")
        .order_by()
    )
    by_kind: dict[str, list[int]] = {}
    model_kinds = {
        ContentType.objects.get_for_model(model).pk: kind for kind, model in KIND_MODELS.items()
    }
    for content_type_id, object_id in shares[:2000]:
        kind = model_kinds.get(content_type_id)
        if kind:
            by_kind.setdefault(kind, []).append(object_id)
    for kind, ids in by_kind.items():
        clauses.append(f"(e.kind = %s AND e.object_id IN ({', '.join(['%s'] * len(ids))}))")
        params.extend([kind, *ids])
    return "(" + " OR ".join(clauses) + ")", params


def _terms(query: str) -> tuple[list[str], bool]:
    if _PHONE_LIKE.match(query.strip()):
        digits = query_digits(query)
        if len(digits) >= 3:
            return [digits], True
    return [t for t in normalise(query).split(" ") if t], False


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _candidates(
    actor: Actor, terms: list[str], kinds: Sequence[str] | None, limit: int
) -> list[tuple[Any, ...]]:
    where: list[str] = []
    params: list[Any] = []
    visibility = _visibility_sql(actor)
    if visibility is not None:
        where.append(visibility[0])
        params.extend(visibility[1])
    if kinds:
        where.append(f"e.kind IN ({', '.join(['%s'] * len(kinds))})")
        params.extend(kinds)
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    columns = "e.kind, e.object_id, e.public_id, e.title, e.subtitle, e.text"
    if connection.vendor == "sqlite" and long_terms:
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        source = "core_search_fts f JOIN core_searchentry e ON e.id = f.rowid"
        where.insert(0, "core_search_fts MATCH %s")
        params.insert(0, match)
    else:
        source = "core_searchentry e"
        for term in long_terms:
            where.append("e.text LIKE %s")
            params.append("%" + _like_escape(term) + "%")
    for term in short_terms:
        # Too short for a trigram: match it as a word start only.
        where.append("(e.text LIKE %s OR e.text LIKE %s)")
        params.extend([_like_escape(term) + "%", "% " + _like_escape(term) + "%"])
    sql = f"SELECT {columns} FROM {source} WHERE {' AND '.join(where)} LIMIT %s"  # noqa: S608
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _like_escape(term: str) -> str:
    # The terms are normalised words without LIKE wildcards of meaning to users.
    return term.replace("%", "").replace("_", "")


_KIND_ORDER = {"contact": 0, "company": 1, "lead": 2, "deal": 3}


def _score(terms: list[str], title: str, text: str, is_phone: bool) -> int:
    normalised_title = normalise(title)
    phrase = " ".join(terms)
    if is_phone:
        return 0 if f" {phrase}" in f" {text}" else 1
    if normalised_title == phrase:
        return 0
    if normalised_title.startswith(phrase):
        return 1
    words = normalised_title.split(" ")
    if all(any(w.startswith(t) for w in words) for t in terms):
        return 2
    if all(t in normalised_title for t in terms):
        return 3
    return 4


def search(
    actor: Actor, query: str, *, kinds: Sequence[str] | None = None, limit: int = 20
) -> list[SearchHit]:
    """Records matching `query` that `actor` may see, best first (at most `limit`)."""
    terms, is_phone = _terms(query or "")
    if not terms:
        return []
    rows = _candidates(actor, terms, kinds, CANDIDATE_LIMIT)
    hits = [
        SearchHit(
            kind=kind,
            object_id=object_id,
            public_id=str(uuid.UUID(str(public_id))),
            title=title,
            subtitle=subtitle,
            score=_score(terms, title, text, is_phone),
        )
        for kind, object_id, public_id, title, subtitle, text in rows
    ]
    hits.sort(key=lambda h: (h.score, _KIND_ORDER.get(h.kind, 9), len(h.title), h.title))
    return hits[:limit]
