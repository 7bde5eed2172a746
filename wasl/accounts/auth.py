"""API authentication by personal token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from wasl.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token's user becomes `request.auth`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return token_authenticate(token)
