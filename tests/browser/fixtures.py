"""Playwright driving Debian's Chromium against the app on loopback (pytest-django's
live_server). Screenshots go to test-output/screenshots/ for review.

Registered as a plugin by the root conftest: a browser test anywhere uses the fixtures
`chromium`, `page` and `site` without importing them (importing them into a test module
would start a second Playwright beside the first)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium floods the closed network with background requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


class OneRequestAtATimeServer(WSGIServer):
    """The live server without a thread per request. With the in-memory SQLite test
    database every request thread shares the test's one connection, and a page that loads
    several parts at once (the dashboard's charts) broke it ("bad parameter or other API
    misuse"). Django closes each connection after its answer when the server is not
    threaded, so a browser's keep-alive cannot block the next request."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


LiveServerThread.server_class = OneRequestAtATimeServer

# Playwright's sync API runs an event loop in this thread; the test's own database calls
# are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
            "`make test` does it when run as root)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, transactional_db) -> str:
    """The live server's base URL, with the database emptied after each test."""
    return live_server.url


@pytest.fixture
def page(chromium) -> Iterator[Any]:
    context = chromium.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot for review (test-output/ is ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^a-z0-9_-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/sign-in/")
    # By id: the labels are in whatever language the organisation chose.
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
