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


INSIDE = """(el) => {
  const box = el.getBoundingClientRect();
  const root = document.documentElement;
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom,
          width: root.clientWidth, height: root.clientHeight};
}"""


@pytest.mark.parametrize("language", ("en", "fa"))
def test_the_list_popovers_open_inside_a_phone_screen(page, site, admin, language):
    _use_language(admin, language)
    page.set_viewport_size(PHONE)
    sign_in(page, site, "nadia", PASSWORD)
    page.wait_for_url(f"{site}/")
    for path in ("/contacts/", "/deals/"):
        page.goto(f"{site}{path}")
        for button, panel in (
            ("[aria-controls=column-chooser]", "#column-chooser"),
            ("[aria-controls=views-panel]", "#views-panel"),
            ("[aria-controls=export-list]", "#export-list"),
        ):
            page.locator(button).click()
            box = page.locator(panel)
            box.wait_for(state="visible")
            edges = box.evaluate(INSIDE)
            where = f"{panel} on {path} in {language}: {edges}"
            assert edges["left"] >= 0 and edges["right"] <= edges["width"], where
            assert edges["top"] >= 0 and edges["bottom"] <= edges["height"], where
            if panel == "#column-chooser":
                # Every checkbox can be reached and used.
                last = box.locator("input[type=checkbox]").last
                last.scroll_into_view_if_needed()
                last.click()
                screenshot(page, f"columns-{language}-phone")
            page.keyboard.press("Escape")
            box.wait_for(state="hidden")


FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName, cls: el.className, style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), color: style.outlineColor};
}"""


def test_the_keyboard_focus_is_a_visible_outline_on_links_buttons_and_fields(page, site, admin):
    sign_in(page, site, "nadia", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/contacts/")
    seen = {}
    for _ in range(60):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        kind = (
            "nav-link"
            if "nav-link" in focus["cls"]
            else "button"
            if focus["tag"] == "BUTTON" or "btn" in focus["cls"]
            else focus["tag"].lower()
        )
        seen.setdefault(kind, focus)
        if {"nav-link", "button", "input", "select"} <= set(seen):
            break
    assert {"nav-link", "button", "input", "select"} <= set(seen), seen
    for kind, focus in seen.items():
        assert focus["style"] == "solid" and focus["width"] >= 2, (kind, focus)
        assert focus["color"] not in ("rgba(0, 0, 0, 0)", "transparent"), (kind, focus)
