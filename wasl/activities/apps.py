from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "wasl.activities"
    label = "activities"
    verbose_name = _("Activities")
