from __future__ import annotations

from django.urls import path

from wasl.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_view, name="search"),
    path("r/<str:kind>/<str:public_id>/", views.resolve_record, name="resolve"),
    path("tasks/<str:public_id>/actions/", views.task_actions, name="task-actions"),
    path("tasks/<str:public_id>/complete/", views.task_complete, name="task-complete"),
    path("tasks/<str:public_id>/reschedule/", views.task_reschedule, name="task-reschedule"),
]
