from __future__ import annotations

from django.urls import path

from wasl.deals import views

app_name = "deals"

urlpatterns = [
    *views.DEAL_PAGE.urls(),
    path("new/", views.deal_create_view, name="deal-create"),
    path("board/", views.board, name="board"),
    path("board/column/", views.board_column, name="board-column"),
    path("<uuid:public_id>/", views.deal_detail, name="deal-detail"),
    path("<uuid:public_id>/move/", views.deal_move, name="deal-move"),
    path("<uuid:public_id>/edit/", views.deal_edit, name="deal-edit"),
    path("<uuid:public_id>/contacts/", views.deal_contact_add, name="contact-add"),
    path(
        "<uuid:public_id>/contacts/<uuid:contact_id>/remove/",
        views.deal_contact_remove,
        name="contact-remove",
    ),
    path("<uuid:public_id>/lines/", views.line_add, name="line-add"),
    path(
        "<uuid:public_id>/lines/<int:position>/remove/",
        views.line_remove,
        name="line-remove",
    ),
]
