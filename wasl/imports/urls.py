"""Import, duplicate, merge and export pages, under the "imports" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.upload, name="upload"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/mapping/", views.mapping, name="mapping"),
    path("<uuid:public_id>/sheet/", views.sheet, name="sheet"),
    path("<uuid:public_id>/run/", views.run, name="run"),
    path("<uuid:public_id>/progress/", views.progress, name="progress"),
    path("<uuid:public_id>/failed-rows.csv", views.errors_csv, name="errors-csv"),
    path("<uuid:public_id>/undo/", views.undo, name="undo"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/scan/", views.duplicate_scan, name="duplicate-scan"),
    path("duplicates/check/", views.duplicate_check, name="duplicate-check"),
    path("duplicates/dismiss/", views.duplicate_dismiss, name="duplicate-dismiss"),
    path("duplicates/restore/", views.duplicate_restore, name="duplicate-restore"),
    path("merge/<str:kind>/", views.merge_records, name="merge"),
    path("merges/<int:audit_id>/", views.merge_result, name="merge-result"),
    path("merges/<int:audit_id>/undo/", views.merge_undo, name="merge-undo"),
    path("export/", views.export, name="export"),
    path("exports/<uuid:public_id>/", views.export_detail, name="export-detail"),
    path("exports/<uuid:public_id>/download/", views.export_download, name="export-download"),
]
