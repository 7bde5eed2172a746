"""Duplicates in a real browser: a pair is dismissed as "not a duplicate" from the
duplicates page, and a merge is undone from the surviving record's timeline."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.contacts.models import Contact
from wasl.contacts.services import contact_create
from wasl.core.testing import make_user
from wasl.imports.duplicates import duplicate_scan
from wasl.imports.merge import contact_merge
from wasl.imports.models import DuplicatePair

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"


@pytest.fixture
def rep(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


def test_dismiss_a_pair_then_undo_a_merge_from_the_timeline(page, site, rep):
    first = contact_create(
        actor=rep, first_name="Leila", last_name="Navabi", emails=["leila@example.ir"]
    )
    second = contact_create(
        actor=rep, first_name="Leyla", last_name="Navaby", emails=["leila@example.ir"]
    )
    duplicate_scan(kind="contact")
    sign_in(page, site, "sara", PASSWORD)
    page.wait_for_url(f"{site}/")

    # "Not a duplicate": the row leaves the list, a notice says so, and it stays gone.
    page.goto(f"{site}/imports/duplicates/?kind=contact")
    rows = page.locator("#duplicate-pairs tbody tr")
    assert rows.count() == 1
    screenshot(page, "duplicates-before-dismiss")
    rows.first.get_by_role("button", name="Not a duplicate").click()
    rows.first.wait_for(state="detached")
    page.get_by_text("will not be suggested again").first.wait_for()
    pair = DuplicatePair.objects.get()
    assert pair.status == "dismissed" and pair.dismissed_by_id == rep.pk
    page.reload()
    assert page.locator("#duplicate-pairs").count() == 0
    assert page.get_by_text("Leyla Navaby").count() == 0

    # A merge, undone from the surviving record's timeline.
    entry = contact_merge(actor=rep, survivor=first, others=[second])
    page.goto(f"{site}/contacts/{first.public_id}/")
    button = page.locator(f"#merge-undo-{entry.pk}").get_by_role("button", name="Undo this merge")
    button.wait_for()
    screenshot(page, "timeline-merge-undo")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        button.click()
    page.get_by_text("The merge was undone.").wait_for()
    assert page.url.startswith(f"{site}/contacts/{first.public_id}/")
    assert Contact.objects.filter(pk=second.pk, first_name="Leyla").exists()
    page.locator("#timeline-items").wait_for()
    assert page.locator(f"#merge-undo-{entry.pk}").count() == 0
