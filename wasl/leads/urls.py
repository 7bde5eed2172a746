from __future__ import annotations

from django.urls import path

from wasl.leads import views

app_name = "leads"

urlpatterns = [
    *views.LEAD_PAGE.urls(),
    path("<uuid:public_id>/", views.lead_detail, name="lead-detail"),
    path("<uuid:public_id>/edit/", views.lead_edit, name="lead-edit"),
    path("<uuid:public_id>/status/", views.lead_status, name="lead-status"),
    path("<uuid:public_id>/convert/", views.lead_convert, name="lead-convert"),
]
