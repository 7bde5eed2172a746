"""Layout in a real browser: the navbar at laptop widths, the list popovers at phone width
and a visible keyboard focus."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update, user_update
from wasl.core.testing import make_user

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"
LANGUAGES = ("en", "fa", "ar")

# How far the page, and the navbar's farthest item, reach past the viewport's width.
OVERFLOW = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  let reach = 0;
  for (const el of document.querySelectorAll('nav.navbar a, nav.navbar button, nav.navbar input')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    reach = Math.max(reach, box.right - width, -box.left);
  }
  return {page: root.scrollWidth - width, nav: Math.ceil(reach)};
}"""


@pytest.fixture
def admin(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("nadia", "admin", password=PASSWORD, first_name="Nadia")


def _use_language(user, language: str) -> None:
    user_update(actor=None, user=user, language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_navbar_fits_laptop_widths_without_sideways_scrolling(page, site, admin, language):
    _use_language(admin, language)
    sign_in(page, site, "nadia", PASSWORD)
    page.wait_for_url(f"{site}/")
    for width in (992, 1024, 1100, 1200, 1280, 1366, 1600):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{site}/contacts/")
        measured = page.evaluate(OVERFLOW)
        assert measured["page"] <= 0, f"{language} at {width}px scrolls by {measured['page']}px"
        assert measured["nav"] <= 0, f"{language} at {width}px the menu spills {measured['nav']}px"
        # The user menu stays on the first row, beside the brand, not pushed under it.
        brand = page.locator("nav .navbar-brand").bounding_box()
        toggle = page.locator("nav .navbar-toggler")
        if not toggle.is_visible():
            menu = page.locator("#wasl-nav .dropdown-toggle").last.bounding_box()
            assert abs(menu["y"] - brand["y"]) < brand["height"], f"{language} {width}px"
    screenshot(page, f"navbar-{language}-1600")
