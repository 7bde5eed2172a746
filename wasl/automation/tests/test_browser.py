"""The rule builder in a real browser, in Persian (right to left): an administrator builds
a rule with a condition group and two actions, saves it, finds it in the list and runs a
dry run on a lead chosen with the search box."""

from __future__ import annotations

import pytest

from tests.browser import fixtures as browser
from wasl.accounts.services import organisation_update
from wasl.activities.models import Activity
from wasl.automation.models import AutomationRun, Rule
from wasl.core.testing import make_user
from wasl.leads.services import lead_create

pytestmark = pytest.mark.browser


PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def admin(site):
    organisation_update(actor=None, language="fa", calendar="jalali", digits="latin")
    return make_user("modir", "admin", "Tehran", password=PASSWORD, first_name="Modir")


def test_an_admin_builds_saves_lists_and_dry_runs_a_rule_in_persian(page, site, admin):
    manager = make_user("sara", "manager", "Tehran")
    lead_create(
        actor=manager,
        owner=manager,
        first_name="Parisa",
        last_name="Karimi",
        source="web_form",
        score=80,
    )
    browser.sign_in(page, site, "modir", PASSWORD)
    page.goto(f"{site}/automation/new/")
    assert page.locator("html").get_attribute("dir") == "rtl"

    page.locator("#id_name").fill("تماس با سرنخ‌های داغ")
    page.locator("#trigger-type").select_option("lead_created")
    page.locator("#trigger-source").select_option("web_form")

    page.locator("#add-group").click()
    page.locator("#c0-0-field").fill("score")
    page.locator("#c0-0-op").select_option("gte")
    page.locator("#c0-0-value").fill("50")

    page.locator("#a0-kind").select_option("call")
    page.locator("#a0-subject").fill("تماس با {{ lead.first_name }}")
    page.locator("#a0-has-due").check()
    page.locator("#a0-due").fill("15")
    page.locator("#a0-unit").select_option("minutes")

    page.locator("#add-action").click()
    page.locator("#a1-type").select_option("add_tag")
    page.locator("#a1-tag").fill("داغ")

    # The live preview follows the form.
    preview = page.locator("#rule-preview #rule-in-words")
    preview.filter(has_text="داغ").wait_for()
    assert "web_form" in preview.inner_text()
    browser.screenshot(page, "automation-builder-fa")

    with page.expect_navigation():
        page.locator("#save-rule").click()
    rule = Rule.objects.get()
    assert rule.name == "تماس با سرنخ‌های داغ"
    assert rule.trigger == {"type": "lead_created", "source": "web_form"}
    assert rule.conditions == {"all": [{"field": "score", "op": "gte", "value": 50}]}
    assert [a["type"] for a in rule.actions] == ["create_activity", "add_tag"]
    assert rule.actions[0]["due"] == {"amount": 15, "unit": "minutes", "business_hours": False}
    assert rule.actions[0]["kind"] == "call"
    assert page.locator("#rule-in-words").inner_text().strip()

    page.goto(f"{site}/automation/")
    page.locator("#rule-table").get_by_role("link", name="تماس با سرنخ‌های داغ").wait_for()

    page.goto(f"{site}/automation/{rule.public_id}/test/")
    page.locator("#record-query").fill("Parisa")
    choice = page.locator("#record-choices input[type=radio]")
    choice.first.wait_for()
    choice.first.check()
    with page.expect_navigation():
        page.locator("#run-test").click()
    page.locator("#conditions-met").wait_for()
    assert "تماس با Parisa" in page.locator("#test-result").inner_text()
    browser.screenshot(page, "automation-dry-run-fa")
    assert AutomationRun.objects.get().dry_run is True
    assert not Activity.objects.exists()


def test_the_bell_counts_lists_and_marks_notifications_read(page, site, admin):
    from wasl.notifications.models import Notification
    from wasl.notifications.services import notification_create

    lead = lead_create(actor=admin, first_name="Omid", source="phone")
    notification_create(recipient=admin, title="Call Omid back", record=lead)
    notification_create(recipient=admin, title="Weekly figures are ready")
    browser.sign_in(page, site, "modir", PASSWORD)
    page.goto(f"{site}/")
    assert page.locator("#wasl-unread-count").inner_text() == "2"

    page.locator("#wasl-bell > button").click()
    menu = page.locator("#wasl-bell-menu")
    menu.get_by_role("link", name="Call Omid back").wait_for()
    with page.expect_navigation():
        menu.get_by_role("link", name="Call Omid back").click()
    assert page.url.endswith(f"/leads/{lead.public_id}/")

    page.locator("#wasl-bell > button").click()
    with page.expect_navigation():
        menu.locator("form button[type=submit]").first.click()
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert page.locator("#wasl-unread-count").count() == 0


def test_saving_from_the_builder_keeps_conditions_nested_deeper_than_it_edits(page, site, admin):
    from wasl.automation.services import rule_create

    nested = {"all": [{"field": "first_name", "op": "eq", "value": "Parisa"}]}
    nested["all"].append({"field": "score", "op": "gt", "value": 90})
    rule = rule_create(
        actor=admin,
        name="Deep rule",
        trigger={"type": "lead_created", "source": "web_form"},
        conditions={
            "all": [
                {"field": "score", "op": "gte", "value": 50},
                {"any": [{"field": "source", "op": "eq", "value": "web_form"}, nested]},
            ]
        },
        actions=[{"type": "add_tag", "tag": "deep"}],
    )
    browser.sign_in(page, site, "modir", PASSWORD)
    page.goto(f"{site}/automation/{rule.public_id}/edit/")
    kept = page.locator("[data-kept='1']")
    kept.wait_for()
    assert '"first_name"' in kept.inner_text()

    page.locator("#c0-0-value").fill("60")
    with page.expect_navigation():
        page.locator("#save-rule").click()
    rule.refresh_from_db()
    assert rule.conditions == {
        "all": [
            {"field": "score", "op": "gte", "value": 60},
            {"any": [{"field": "source", "op": "eq", "value": "web_form"}, nested]},
        ]
    }

    # Removing them is a choice the user makes, not a side effect of saving.
    page.goto(f"{site}/automation/{rule.public_id}/edit/")
    page.locator("[data-kept='1']").get_by_role("button").click()
    with page.expect_navigation():
        page.locator("#save-rule").click()
    rule.refresh_from_db()
    assert rule.conditions == {
        "all": [
            {"field": "score", "op": "gte", "value": 60},
            {"field": "source", "op": "eq", "value": "web_form"},
        ]
    }
