"""Pages answer the services' NotFound and Forbidden with 404 and 403 pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wasl.core.errors import Forbidden, NotFound


class ErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path_info.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            return render(request, "404.html", {"exception": exception.message}, status=404)
        if isinstance(exception, Forbidden):
            return render(request, "403.html", {"exception": exception.message}, status=403)
        return None
