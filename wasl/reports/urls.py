"""Report pages, under the "reports" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("print/", views.print_dashboard, name="print"),
    path("dashboard/", views.dashboard_edit, name="dashboard-edit"),
    path("dashboard/chart/<str:ref>/", views.dashboard_chart, name="dashboard-chart"),
    path("exchange-rates/", views.exchange_rates, name="exchange-rates"),
    path(
        "exchange-rates/<uuid:public_id>/",
        views.exchange_rate_edit,
        name="exchange-rate-edit",
    ),
    path(
        "exchange-rates/<uuid:public_id>/delete/",
        views.exchange_rate_delete,
        name="exchange-rate-delete",
    ),
    path("<slug:key>/", views.report, name="report"),
    path("<slug:key>/records/", views.drill, name="drill"),
    path("<slug:key>/export/", views.export, name="export"),
]
