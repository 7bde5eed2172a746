"""The pipeline board in a real browser: drag a deal across the board and find the move in
its stage history, mark one lost through the dialog, the keyboard's "Move to…" menu, and
right-to-left columns in Persian."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update, user_set_preferences
from wasl.activities.services import activity_create
from wasl.core.testing import make_user
from wasl.deals.models import Deal, Stage
from wasl.deals.services import deal_create, lost_reason_create, pipeline_create

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def sales(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    rep = make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")
    pipeline = pipeline_create(actor=None, name="Sales")
    stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
    lost_reason_create(actor=None, name="Price too high")
    deal = deal_create(actor=rep, title="Fleet renewal", amount=Decimal("12500"), currency="USD")
    other = deal_create(actor=rep, title="Office chairs", amount=Decimal("800"), currency="USD")
    activity_create(actor=rep, kind="task", subject="Send the quote", deal=deal)
    return {"rep": rep, "pipeline": pipeline, "stages": stages, "deal": deal, "other": other}


def drag(page, source, target) -> None:
    """Press on the card's handle, move in steps (SortableJS needs intermediate moves),
    release over the target list."""
    source.scroll_into_view_if_needed()
    handle = source.locator(".wasl-drag").bounding_box()
    box = target.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    x, y = box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 60)
    page.mouse.move(x, y, steps=20)
    page.mouse.move(x + 2, y + 2, steps=5)
    page.mouse.up()


def card(page, deal):
    return page.locator(f"#deal-{deal.public_id}")


def column(page, stage):
    return page.locator(f'.wasl-cards[data-stage="{stage.public_id}"]')


def test_drag_a_deal_across_the_board_and_see_the_stage_history(page, site, sales):
    deal, stages = sales["deal"], sales["stages"]
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/deals/board/")
    assert "Send the quote" in card(page, deal).inner_text()
    screenshot(page, "board-en")

    drag(page, card(page, deal), column(page, stages["Proposal"]))

    column(page, stages["Proposal"]).locator(f"#deal-{deal.public_id}").wait_for()
    page.locator(f'#col-head-{stages["Proposal"].public_id} [data-count="1"]').wait_for()
    assert Deal.objects.get(pk=deal.pk).stage == stages["Proposal"]

    card(page, deal).locator("a").first.click()
    page.wait_for_url(f"{site}/deals/{deal.public_id}/")
    history = page.locator("#stage-history").inner_text()
    assert "Qualified" in history and "Proposal" in history
    assert page.locator("#deal-stage").inner_text() == "Proposal"
    screenshot(page, "deal-page-en")


def test_mark_a_deal_lost_with_a_reason_through_the_dialog(page, site, sales):
    deal, stages = sales["deal"], sales["stages"]
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/deals/board/")

    drag(page, card(page, deal), column(page, stages["Lost"]))

    dialog = page.locator("#move-dialog")
    dialog.get_by_role("button", name="Mark as lost").wait_for()
    # Without a reason the server refuses and the dialog says why.
    dialog.get_by_role("button", name="Mark as lost").click()
    dialog.get_by_text("Say why the deal was lost.").wait_for()
    dialog.get_by_label("Why was it lost?").select_option(label="Price too high")
    dialog.get_by_label("Competitor who won it").fill("Rival Motors")
    screenshot(page, "board-lost-dialog")
    dialog.get_by_role("button", name="Mark as lost").click()

    card(page, deal).wait_for(state="detached")
    lost = Deal.objects.select_related("lost_reason", "competitor").get(pk=deal.pk)
    assert lost.stage == stages["Lost"] and lost.lost_reason.name == "Price too high"
    assert lost.competitor.name == "Rival Motors"
    page.goto(f"{site}/deals/{deal.public_id}/")
    assert "Price too high" in page.locator("#deal-lost-reason").inner_text()


def test_cancelling_the_won_dialog_puts_the_card_back(page, site, sales):
    deal, stages = sales["deal"], sales["stages"]
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/deals/board/")

    drag(page, card(page, deal), column(page, stages["Won"]))
    dialog = page.locator("#move-dialog")
    dialog.get_by_label("Final amount").wait_for()
    dialog.get_by_role("button", name="Cancel").click()

    column(page, stages["Qualified"]).locator(f"#deal-{deal.public_id}").wait_for()
    assert Deal.objects.get(pk=deal.pk).stage == stages["Qualified"]


def test_the_move_to_menu_moves_a_deal_with_the_keyboard(page, site, sales):
    other, stages = sales["other"], sales["stages"]
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/deals/board/")

    card(page, other).get_by_role("button", name="Move to…").focus()
    page.keyboard.press("Enter")
    menu = page.locator("#move-menu")
    menu.get_by_role("button", name="Negotiation").focus()
    page.keyboard.press("Enter")

    column(page, stages["Negotiation"]).locator(f"#deal-{other.public_id}").wait_for()
    page.wait_for_function("() => !document.querySelector('.wasl-busy')")
    assert Deal.objects.get(pk=other.pk).stage == stages["Negotiation"]


def test_the_board_in_persian_flows_right_to_left(page, site, sales):
    user_set_preferences(actor=sales["rep"], language="fa", calendar="jalali", digits="native")
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/deals/board/")

    assert page.locator("html").get_attribute("dir") == "rtl"
    columns = page.locator(".wasl-col")
    first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert first["x"] > second["x"], "the first stage should be on the right"
    counts = page.locator(".wasl-col-head .badge").first.inner_text()
    assert counts == "۲", counts
    screenshot(page, "board-fa")
