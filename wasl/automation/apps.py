from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "wasl.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from wasl.automation import listeners  # noqa: F401  (registers the event listener)
