"""Administrators' settings pages: pipelines, lost reasons, custom fields, tags, users, teams.

No models: every page reads through the apps' selectors and writes through their services.
"""
