"""Settings in a real browser: an administrator adds a stage to a pipeline and reorders
it with the arrow buttons and by dragging; others are not offered the settings."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import PHONE, screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.core.testing import make_user
from wasl.deals.models import Stage
from wasl.deals.services import pipeline_create

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def admin(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("owner", "admin", password=PASSWORD, first_name="Owner")


def names(pipeline) -> list[str]:
    return list(
        Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("name", flat=True)
    )


def shown(page) -> list[str]:
    return page.locator(".wasl-stage input[name=name]").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )


def test_an_admin_adds_a_stage_and_reorders_it(page, site, admin):
    pipeline = pipeline_create(
        actor=None,
        name="Sales",
        stages=[
            {"name": "New", "kind": "open", "probability": 10},
            {"name": "Proposal", "kind": "open", "probability": 50},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    sign_in(page, site, "owner", PASSWORD)
    page.wait_for_url(f"{site}/")
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_role("link", name="Pipelines and stages").first.click()
    page.get_by_role("link", name="Sales").click()

    page.locator("#new-stage-name").fill("Demo")
    page.locator("#new-stage-probability").fill("30")
    page.get_by_role("button", name="Add stage").click()
    page.wait_for_load_state()
    assert shown(page) == ["New", "Proposal", "Demo", "Won", "Lost"]
    assert names(pipeline) == ["New", "Proposal", "Demo", "Won", "Lost"]

    page.get_by_role("button", name="Move Demo up").click()
    page.wait_for_load_state()
    assert shown(page) == ["New", "Demo", "Proposal", "Won", "Lost"]
    assert names(pipeline) == ["New", "Demo", "Proposal", "Won", "Lost"]

    # Drag Demo by its handle above New; htmx saves the order and redraws the list.
    handle = page.locator(".wasl-stage", has=page.locator("input[value=Demo]")).locator(
        ".wasl-drag"
    )
    target = page.locator(".wasl-stage").first
    box, goal = handle.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            box["x"] + box["width"] / 2,
            box["y"] + (goal["y"] + 5 - box["y"]) * step / 10,
        )
    page.mouse.up()
    page.wait_for_function(
        "document.querySelector('.wasl-stage input[name=name]').value === 'Demo'"
    )
    page.wait_for_function("!document.querySelector('#stage-table.htmx-request')")
    page.locator("#wasl-notices .alert").first.wait_for()
    assert names(pipeline) == ["Demo", "New", "Proposal", "Won", "Lost"]
    screenshot(page, "settings-pipeline")

    page.set_viewport_size(PHONE)
    page.reload()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(page, "settings-pipeline-phone")


def test_a_rep_is_not_offered_settings_and_is_refused_them(page, site, admin):
    make_user("sara", "rep", "Tehran", password=PASSWORD)
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")
    assert page.get_by_role("link", name="Settings").count() == 0
    response = page.goto(f"{site}/settings/pipelines/")
    assert response.status == 403
