from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """Pages that span apps: the shell's search, the home page, record links."""

    name = "wasl.web"
    label = "web"
