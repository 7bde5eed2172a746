from __future__ import annotations

from django.urls import path

from wasl.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list_view, name="list"),
    path("menu/", views.notification_menu_view, name="menu"),
    path("read-all/", views.notification_read_all_view, name="read-all"),
    path("<uuid:public_id>/read/", views.notification_read_view, name="read"),
]
