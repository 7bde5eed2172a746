"""Task and activity pages, under the "activities" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.activities import views

app_name = "activities"

urlpatterns = [
    *views.ACTIVITY_PAGE.urls(),
    path("tasks/", views.task_list, name="task-list"),
    path("week/", views.week, name="week"),
    path("<uuid:public_id>/actions/", views.actions, name="activity-actions"),
    path("<uuid:public_id>/complete/", views.complete, name="activity-complete"),
    path("<uuid:public_id>/reopen/", views.reopen, name="activity-reopen"),
    path("<uuid:public_id>/reschedule/", views.reschedule, name="activity-reschedule"),
]
