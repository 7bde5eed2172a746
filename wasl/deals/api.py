"""The deals API (filled in by the deals services and selectors)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["deals"])
