"""API authentication by personal token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from wasl.accounts.preferences import activate_for
from wasl.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token's user becomes `request.auth`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            # The middleware saw no session user: answer in the token user's language.
            activate_for(request, user)
        return user
