"""Maps a residual SQLite "database is locked" to 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and "locked" in str(exception).lower():
            response = JsonResponse(
                {"error": {"code": "busy", "message": _("The database is busy; try again.")}},
                status=503,
            )
            response["Retry-After"] = "1"
            return response
        return None
