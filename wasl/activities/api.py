"""The activities API (filled in by the activities services and selectors)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["activities"])
