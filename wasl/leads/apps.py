from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "wasl.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from wasl.core.search import register_kind
        from wasl.leads.models import Lead

        register_kind("lead", Lead)
