"""The record pages' cross-app panels, under the "records" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.web import records

app_name = "records"

urlpatterns = [
    path("<str:kind>/<uuid:public_id>/timeline/", records.timeline, name="timeline"),
    path("<str:kind>/<uuid:public_id>/timeline/add/", records.timeline_add, name="timeline-add"),
    path("<str:kind>/<uuid:public_id>/deals/", records.related_deals, name="deals"),
]
