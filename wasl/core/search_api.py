"""GET /api/v1/search: one query over contacts, companies, leads and deals."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from wasl.core import search
from wasl.core.api import ERROR_RESPONSES, actor_of

router = Router(tags=["search"])


class SearchHitOut(Schema):
    kind: str
    id: str
    title: str
    subtitle: str


class SearchOut(Schema):
    items: list[SearchHitOut]


@router.get("/search", response={200: SearchOut, **ERROR_RESPONSES})
def global_search(
    request: HttpRequest,
    q: str = "",
    kind: list[str] | None = Query(None),  # noqa: B008
    limit: int = 20,
):
    """Records the caller may see whose name, e-mail, phone, company or tag match `q`.

    Persian/Arabic letter variants, diacritics and digits are folded; a phone matches
    however it is written (`+98 912…`, `0912…`, Persian digits)."""
    hits = search.search(actor_of(request), q, kinds=kind or None, limit=max(1, min(limit, 50)))
    return {
        "items": [
            SearchHitOut(kind=h.kind, id=h.public_id, title=h.title, subtitle=h.subtitle)
            for h in hits
        ]
    }
