"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasl.core.testing import ApiClient, Personas, build_personas

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"

# The browser fixtures (one Chromium for the whole run, pages, the live site) are
# registered once here, so browser tests in any package share them.
pytest_plugins = ["tests.browser.fixtures"]


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def api_as():
    """`api_as(user)` returns a JSON API client authenticated as that user."""
    return ApiClient


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found next to the project ({SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _language_kept():
    """A request through the test client activates its user's language in the test's
    thread; put back the language the test started with, so no test runs in the language
    an earlier one left behind."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield
