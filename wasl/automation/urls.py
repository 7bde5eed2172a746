from __future__ import annotations

from django.urls import path

from wasl.automation import views

app_name = "automation"

urlpatterns = [
    path("", views.rule_list_view, name="rule-list"),
    path("new/", views.rule_create_view, name="rule-create"),
    path("preview/", views.rule_preview_view, name="rule-preview"),
    path("records/", views.record_search_view, name="record-search"),
    path("failed-jobs/", views.failed_job_list_view, name="failed-jobs"),
    path(
        "failed-jobs/<uuid:public_id>/retry/",
        views.failed_job_retry_view,
        name="failed-job-retry",
    ),
    path("<uuid:public_id>/", views.rule_detail_view, name="rule-detail"),
    path("<uuid:public_id>/edit/", views.rule_edit_view, name="rule-edit"),
    path("<uuid:public_id>/active/", views.rule_set_active_view, name="rule-active"),
    path("<uuid:public_id>/copy/", views.rule_copy_view, name="rule-copy"),
    path("<uuid:public_id>/delete/", views.rule_delete_view, name="rule-delete"),
    path("<uuid:public_id>/test/", views.rule_test_view, name="rule-test"),
]
