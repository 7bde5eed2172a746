from __future__ import annotations

import importlib
import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each module registers its reports on import. A module that is not written yet is
# skipped, so the reports that exist work while the others are being built.
REPORT_MODULES = ("sales", "activity", "customers", "kpis")


class ReportsConfig(AppConfig):
    name = "wasl.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from wasl.reports import listeners  # noqa: F401 (registers the outbox listener)

        for name in REPORT_MODULES:
            module = f"{self.name}.{name}"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
