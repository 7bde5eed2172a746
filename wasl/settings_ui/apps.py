from __future__ import annotations

from django.apps import AppConfig


class SettingsUiConfig(AppConfig):
    """The settings pages of administrators (and the tags page of managers)."""

    name = "wasl.settings_ui"
    label = "settings_ui"
