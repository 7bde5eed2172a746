"""The leads API (filled in by the leads services and selectors)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["leads"])
