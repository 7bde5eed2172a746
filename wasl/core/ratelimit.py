"""A fixed-window rate limit kept in the cache (shared when the cache is shared)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def too_many(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for (scope, key); True when the window's limit is exceeded."""
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{digest}"
    cache.add(cache_key, 0, timeout=window)
    try:
        attempts = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window)
        attempts = 1
    return attempts > limit


def client_address(meta: dict[str, str]) -> str:
    return meta.get("REMOTE_ADDR", "") or "unknown"
