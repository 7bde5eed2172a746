from __future__ import annotations

from django.urls import path

from wasl.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("preferences/", views.preferences, name="preferences"),
    path("settings/organisation/", views.organisation, name="organisation"),
]
