"""Contact and company pages, under the "contacts" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.contacts import views

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.contact_list_view, name="contact-list"),
    path("contacts/new/", views.contact_create_view, name="contact-create"),
    path("contacts/quick-add/", views.contact_inline, name="contact-inline"),
    path("contacts/bulk/", views.contact_bulk, name="contact-bulk"),
    path("contacts/columns/", views.contact_columns, name="contact-columns"),
    path("contacts/views/", views.contact_views, name="contact-views"),
    path("contacts/<uuid:public_id>/", views.contact_detail, name="contact-detail"),
    path("contacts/<uuid:public_id>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<uuid:public_id>/delete/", views.contact_delete_view, name="contact-delete"),
    path("companies/", views.company_list_view, name="company-list"),
    path("companies/new/", views.company_create_view, name="company-create"),
    path("companies/quick-add/", views.company_inline, name="company-inline"),
    path("companies/bulk/", views.company_bulk, name="company-bulk"),
    path("companies/columns/", views.company_columns, name="company-columns"),
    path("companies/views/", views.company_views, name="company-views"),
    path("companies/<uuid:public_id>/", views.company_detail, name="company-detail"),
    path("companies/<uuid:public_id>/edit/", views.company_edit, name="company-edit"),
    path("companies/<uuid:public_id>/delete/", views.company_delete_view, name="company-delete"),
]
