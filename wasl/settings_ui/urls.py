"""Settings pages, under the "settings" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.settings_ui import views

app_name = "settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("pipelines/", views.pipelines, name="pipelines"),
    path("pipelines/<uuid:public_id>/", views.pipeline_detail, name="pipeline"),
    path("pipelines/<uuid:public_id>/stages/", views.stage_create, name="stage-create"),
    path("pipelines/<uuid:public_id>/order/", views.stage_reorder, name="stage-reorder"),
    path(
        "pipelines/<uuid:public_id>/stages/<uuid:stage_id>/",
        views.stage_update,
        name="stage-update",
    ),
    path(
        "pipelines/<uuid:public_id>/stages/<uuid:stage_id>/move/",
        views.stage_move,
        name="stage-move",
    ),
    path(
        "pipelines/<uuid:public_id>/stages/<uuid:stage_id>/delete/",
        views.stage_delete,
        name="stage-delete",
    ),
    path("lost-reasons/", views.lost_reasons, name="lost-reasons"),
    path("lost-reasons/<uuid:public_id>/", views.lost_reason_update, name="lost-reason"),
    path("custom-fields/", views.custom_fields, name="custom-fields"),
    path("custom-fields/<uuid:public_id>/", views.custom_field_edit, name="custom-field"),
    path(
        "custom-fields/<uuid:public_id>/deactivate/",
        views.custom_field_deactivate,
        name="custom-field-deactivate",
    ),
    path("tags/", views.tags, name="tags"),
    path("tags/<uuid:public_id>/", views.tag_update, name="tag"),
    path("tags/<uuid:public_id>/delete/", views.tag_delete, name="tag-delete"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<uuid:public_id>/", views.user_edit, name="user"),
    path("users/<uuid:public_id>/reassign/", views.user_reassign, name="user-reassign"),
    path("teams/", views.teams, name="teams"),
    path("teams/<uuid:public_id>/", views.team_update, name="team"),
]
