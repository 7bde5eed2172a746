from __future__ import annotations

from django.urls import path

from wasl.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list_view, name="lead-list"),
    path("quick-add/", views.lead_inline, name="lead-inline"),
    path("bulk/", views.lead_bulk, name="lead-bulk"),
    path("columns/", views.lead_columns, name="lead-columns"),
    path("views/", views.lead_views, name="lead-views"),
    path("<uuid:public_id>/", views.lead_detail, name="lead-detail"),
    path("<uuid:public_id>/edit/", views.lead_edit, name="lead-edit"),
    path("<uuid:public_id>/status/", views.lead_status, name="lead-status"),
    path("<uuid:public_id>/convert/", views.lead_convert, name="lead-convert"),
]
