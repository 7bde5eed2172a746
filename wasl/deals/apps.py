from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "wasl.deals"
    label = "deals"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from wasl.core.search import register_kind
        from wasl.deals.models import Deal

        register_kind("deal", Deal)
        from wasl.deals import listeners  # noqa: F401  (registers the event listeners)
