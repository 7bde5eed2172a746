from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from wasl.api import api
from wasl.core.views import health

urlpatterns = [
    path("api/v1/", api.urls),
    path("health", health, name="health"),
    path("operator/", admin.site.urls),
    path("", include("wasl.accounts.urls")),
    path("activities/", include("wasl.activities.urls")),
    path("settings/", include("wasl.settings_ui.urls")),
    path("deals/", include("wasl.deals.urls")),
    path("leads/", include("wasl.leads.urls")),
    path("automation/", include("wasl.automation.urls")),
    path("notifications/", include("wasl.notifications.urls")),
    path("reports/", include("wasl.reports.urls")),
    path("imports/", include("wasl.imports.urls")),
    path("", include("wasl.contacts.urls")),
    path("records/", include("wasl.web.record_urls")),
    path("", include("wasl.web.urls")),
]
