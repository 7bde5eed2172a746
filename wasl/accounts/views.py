"""Sign-in, sign-out, password change, preferences and organisation settings pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from wasl.accounts import services
from wasl.accounts.forms import OrganisationForm, PasswordForm, PreferencesForm
from wasl.accounts.selectors import organisation_get
from wasl.core.errors import Invalid
from wasl.core.ratelimit import client_address, too_many
from wasl.core.visibility import require_admin

# One shared address (an office behind NAT) carries several people's sign-ins.
ADDRESS_RATE_FACTOR = 3


def sign_in_throttled(request: HttpRequest, username: str) -> bool:
    """Count a sign-in attempt; True when the name at this address, or the address as a
    whole, has used up its attempts for the window (settings.WASL_LOGIN_RATE)."""
    limit, window = settings.WASL_LOGIN_RATE
    address = client_address(request.META)
    by_name = too_many("login", f"{address}:{username.strip().lower()}", limit=limit, window=window)
    by_address = too_many(
        "login-address", address, limit=limit * ADDRESS_RATE_FACTOR, window=window
    )
    return by_name or by_address


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if sign_in_throttled(request, request.POST.get("username", "")):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many attempts; wait a minute and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordForm
    success_url = reverse_lazy("accounts:preferences")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


def signed_in_user(request: HttpRequest) -> Any:
    """The user object itself rather than the lazy proxy (services audit its type)."""
    user = request.user
    _ = user.pk  # evaluates the proxy
    return getattr(user, "_wrapped", user)


def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in user's language, calendar, time zone and digits."""
    user = signed_in_user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.user_set_preferences(actor=user, **form.cleaned_data)  # type: ignore[arg-type]
            except Invalid as error:
                for field, problems in error.fields.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, _("Your preferences were saved."))
                return redirect("accounts:preferences")
    else:
        form = PreferencesForm(
            initial={
                name: getattr(user, name)
                for name in ("language", "calendar", "time_zone", "digits")
            }
        )
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "organisation": organisation_get()},
        status=400 if form.errors else 200,
    )


def organisation(request: HttpRequest) -> HttpResponse:
    """Organisation defaults (admins only): currency, phone region, language, calendar…"""
    actor = signed_in_user(request)
    require_admin(actor)
    current = organisation_get()
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                services.organisation_update(actor=actor, **form.cleaned_data)
            except Invalid as error:
                for field, problems in error.fields.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, _("The organisation settings were saved."))
                return redirect("accounts:organisation")
    else:
        form = OrganisationForm(
            initial={name: getattr(current, name) for name in services.ORGANISATION_FIELDS}
        )
    return render(
        request,
        "accounts/organisation.html",
        {"form": form, "organisation": current},
        status=400 if form.errors else 200,
    )
