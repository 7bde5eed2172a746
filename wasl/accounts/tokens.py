"""The shape of personal API tokens: a public marker, a listed prefix, a stored hash."""

from __future__ import annotations

import hashlib

TOKEN_PREFIX = "wasl_"  # noqa: S105 - a public marker, not a secret
# How many leading characters are kept in clear to tell tokens apart in listings.
PREFIX_LENGTH = 12


def hash_token(plaintext: str) -> str:
    """SHA-256 suffices: tokens are 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(plaintext.encode()).hexdigest()
