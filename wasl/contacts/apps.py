from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "wasl.contacts"
    label = "contacts"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from wasl.contacts.models import Company, Contact
        from wasl.core.search import register_kind

        register_kind("contact", Contact)
        register_kind("company", Company)
