"""Wasl: an open-source CRM in Persian, Arabic and English."""

__version__ = "0.1.0"
