"""The contacts API (filled in by the contacts services and selectors)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["contacts"])
