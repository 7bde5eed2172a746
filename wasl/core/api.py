"""API plumbing shared by every router: auth, the error envelope, list envelopes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth
from pydantic import BaseModel, ConfigDict

from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound

ItemT = TypeVar("ItemT")


class BuiltOut(BaseModel):
    """Base of output schemas that our own builders fill field by field.

    A Ninja `Schema` wraps every validation in its attribute getter, which costs more than
    the validation itself and runs again when the response is checked; a plain pydantic
    model is validated once, where it is built, and passes the response check as it is.
    Use it for item schemas of long pages (timelines, activity lists)."""

    model_config = ConfigDict(from_attributes=True)


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorEnvelope(Schema):
    error: ErrorBody


class Page(Schema, Generic[ItemT]):
    items: list[ItemT]
    next: str | None = None


ERROR_RESPONSES: dict[int, type[Schema]] = {
    401: ErrorEnvelope,
    403: ErrorEnvelope,
    404: ErrorEnvelope,
    409: ErrorEnvelope,
    422: ErrorEnvelope,
}


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return api.create_response(request, body, status=status)


def _field_name(location: list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "payload")]
    if parts and parts[0] in {"data", "form"} and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "__all__"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(Invalid)
    def on_invalid(request: HttpRequest, exc: Invalid) -> HttpResponse:
        return error_response(api, request, 422, "invalid", exc.message, exc.fields)

    @api.exception_handler(NinjaValidationError)
    def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for item in exc.errors:
            fields.setdefault(_field_name(list(item.get("loc", []))), []).append(
                str(item.get("msg", _("Invalid value.")))
            )
        return error_response(api, request, 422, "invalid", _("Some fields are not valid."), fields)

    @api.exception_handler(NotFound)
    def on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return error_response(api, request, 404, "not_found", exc.message)

    @api.exception_handler(Forbidden)
    def on_forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return error_response(api, request, 403, "forbidden", exc.message)

    @api.exception_handler(Conflict)
    def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return error_response(api, request, 409, "conflict", exc.message)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api, request, 401, "unauthenticated", _("Sign in or send a valid API token.")
        )

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {
            400: "bad_request",
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            429: "rate_limited",
        }
        return error_response(
            api, request, exc.status_code, codes.get(exc.status_code, "error"), str(exc)
        )


class ActiveSessionAuth(SessionAuth):
    """Session cookie with CSRF checked on unsafe methods; inactive users are refused."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and getattr(user, "is_active", False):
            return user
        return None


def actor_of(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def is_debug() -> bool:
    return bool(settings.DEBUG)
