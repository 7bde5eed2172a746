"""Per-request preferences, and sign-in required for every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from wasl.accounts.preferences import activate_for
from wasl.core.formatting import reset_prefs, set_prefs


class PreferencesMiddleware:
    """Activates the user's language (else the organisation's, else the browser's) and time
    zone, and makes their calendar, digits and currency current for formatting. Runs after
    the authentication and locale middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_prefs(None)
        try:
            activate_for(request, getattr(request, "user", None))
            return self.get_response(request)
        finally:
            reset_prefs(token)
            timezone.deactivate()


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a signed-in user, except views marked `login_not_required`, the
    JSON API (it answers 401 itself) and the health check."""

    open_prefixes = ("/api/",)
    open_view_names = frozenset({"health"})

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.path_info.startswith(self.open_prefixes):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.open_view_names:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request: HttpRequest, view_func: Callable[..., Any]) -> Any:
        response = super().handle_no_permission(request, view_func)
        if request.headers.get("HX-Request"):
            # An htmx fragment must not swap the sign-in page into a list: reload instead.
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response
