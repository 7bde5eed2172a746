"""The main pages in Persian and Arabic carry no English: every visible run of Latin letters
is the test's own data or a name that stays Latin everywhere (brands, currency and file
format codes, IANA time-zone ids in the full list)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.activities.services import activity_create
from wasl.contacts.services import company_create, contact_create
from wasl.core.testing import make_user
from wasl.deals.services import deal_create, pipeline_ensure_default

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"
LATIN = re.compile(r"[A-Za-z][A-Za-z'’\-]*")

# Names that are Latin in every language, and the test's own data.
ALLOWED = {
    # currency and file-format codes, brands of the quick actions
    "IRR", "USD", "AED", "US", "CSV", "XLSX", "vCard", "API", "WhatsApp", "Telegram",
    # the data the test creates
    "nadia", "Nadia", "Karimi", "maryam", "example", "com", "sara", "pars", "trading",
}  # fmt: skip

# Every text node (with the placeholder of each field) that the page shows or shows on a
# click (menus, popovers, dialogs), leaving out the options of the full time-zone list,
# which are IANA ids (the common zones are named).
VISIBLE_TEXT = """() => {
  const out = [];
  const shown = (el) => el.checkVisibility({visibilityProperty: true})
    || !!el.closest('.wasl-popover, .dropdown-menu, .modal');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, noscript, template')) continue;
    const option = el.closest('option');
    if (option) {
      if (option.value && option.textContent.trim().replaceAll(' ', '_') === option.value) continue;
      if (!shown(option.closest('select'))) continue;
    } else if (!shown(el)) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const field of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (shown(field)) out.push(field.placeholder);
  }
  return out;
}"""


@pytest.fixture
def world(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    admin = make_user("nadia", "admin", password=PASSWORD, first_name="Nadia")
    with translation.override("fa"):
        pipeline = pipeline_ensure_default()
    company = company_create(actor=admin, name="Pars Trading", phones=["+98 21 8888 1234"])
    contact = contact_create(
        actor=admin,
        first_name="مریم",
        last_name="Karimi",
        emails=["maryam@example.com"],
        phones=["+98 912 123 4567"],
        company=company,
    )
    deal = deal_create(
        actor=admin,
        title="قرارداد پشتیبانی",
        pipeline=pipeline,
        amount=Decimal("1500"),
        currency="USD",
        company=company,
        contacts=[contact],
        expected_close=timezone.localdate() + dt.timedelta(days=10),
    )
    activity_create(
        actor=admin,
        kind="task",
        subject="تماس پیگیری",
        due_at=timezone.now() + dt.timedelta(hours=2),
        contact=contact,
    )
    return admin, contact, deal


def _english_on(page) -> list[str]:
    found = []
    texts = page.evaluate(VISIBLE_TEXT)
    assert len(texts) > 10, texts  # the page rendered and was read
    for text in texts:
        for word in LATIN.findall(text):
            if len(word) > 1 and word not in ALLOWED and word.lower() not in ALLOWED:
                found.append(f"{word!r} in {text[:80]!r}")
    return found


@pytest.mark.parametrize("language", ("fa", "ar"))
def test_the_main_pages_show_no_english_in_persian_and_arabic(page, site, world, language):
    admin, contact, deal = world
    from wasl.accounts.services import user_update

    user_update(actor=None, user=admin, language=language, digits="native")
    sign_in(page, site, "nadia", PASSWORD)
    page.wait_for_url(f"{site}/")
    paths = {
        "home": "/",
        "contacts": "/contacts/",
        "contact": f"/contacts/{contact.public_id}/",
        "deal": f"/deals/{deal.public_id}/",
        "board": "/deals/board/",
        "tasks": "/activities/tasks/",
        "settings": "/settings/",
        "preferences": "/preferences/",
    }
    problems = {}
    for name, path in paths.items():
        page.goto(f"{site}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language
        english = _english_on(page)
        if english:
            problems[name] = english
            screenshot(page, f"english-on-{name}-{language}")
    assert not problems, problems
