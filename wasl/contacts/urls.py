"""Contact and company pages, under the "contacts" namespace."""

from __future__ import annotations

from django.urls import path

from wasl.contacts import views

app_name = "contacts"

urlpatterns = [
    *views.CONTACT_PAGE.urls("contacts/"),
    *views.COMPANY_PAGE.urls("companies/"),
    path("contacts/new/", views.contact_create_view, name="contact-create"),
    path("contacts/<uuid:public_id>/", views.contact_detail, name="contact-detail"),
    path("contacts/<uuid:public_id>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<uuid:public_id>/delete/", views.contact_delete_view, name="contact-delete"),
    path("companies/new/", views.company_create_view, name="company-create"),
    path("companies/<uuid:public_id>/", views.company_detail, name="company-detail"),
    path("companies/<uuid:public_id>/edit/", views.company_edit, name="company-edit"),
    path("companies/<uuid:public_id>/delete/", views.company_delete_view, name="company-delete"),
]
