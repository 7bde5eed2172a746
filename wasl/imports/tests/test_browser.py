"""An import in a real browser, in Persian: upload a CSV with Persian headers, check the
suggested columns, dry-run, run and read the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from tests.browser.fixtures import screenshot, sign_in
from wasl.accounts.services import organisation_update
from wasl.contacts.models import Contact
from wasl.core.testing import make_user
from wasl.imports.models import ImportJob
from wasl.imports.tests.test_merge_export import IMMEDIATE

pytestmark = pytest.mark.browser

PASSWORD = "Kh0sh-amadid-2026"
PERSIAN_CSV = (
    "نام,نام خانوادگی,ایمیل,موبایل,برچسب ها\n"
    "علی,رضایی,ali@example.ir,۰۹۱۲۳۴۵۶۷۸۹,مشتری ویژه؛تهران\n"
    "مریم,احمدی,maryam@example.ir,09351234567,تهران\n"
    "خطا,دار,not-an-email,,\n"
)


@pytest.fixture
def rep(site):
    organisation_update(actor=None, language="fa", calendar="jalali", digits="native")
    return make_user("sara", "rep", "Tehran", password=PASSWORD, first_name="Sara")


@override_settings(TASKS=IMMEDIATE)
def test_a_persian_csv_is_mapped_checked_imported_and_reported(page, site, rep, tmp_path):
    path = tmp_path / "مشتریان.csv"
    path.write_text(PERSIAN_CSV, encoding="utf-8")
    sign_in(page, site, "sara", PASSWORD)
    page.goto(f"{site}/imports/new/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#id_file").set_input_files(str(path))
    page.locator("#id_target").select_option("contacts")
    with page.expect_navigation():
        page.locator("#upload-form button[type=submit]").click()

    # The columns, with the suggestions read from the Persian headers.
    page.locator("#mapping-table").wait_for()
    job = ImportJob.objects.get()
    assert "/mapping/" in page.url and job.headers[2] == "ایمیل"
    assert page.locator("#id_col_2").input_value() == "email"
    assert page.locator("#id_col_3").input_value().startswith("phone")
    assert page.locator("#id_col_4").input_value() == "tags"
    assert page.get_by_text("ali@example.ir").is_visible()
    screenshot(page, "imports-mapping-fa")
    with page.expect_navigation():
        page.locator("#check-button").click()

    # The dry run: two to create, one refused with its reason; nothing written yet.
    page.locator("#import-counts").wait_for()
    assert page.locator("[data-count=created]").inner_text() == "۲"
    assert page.locator("[data-count=failed]").inner_text() == "۱"
    assert "not-an-email" in page.locator("#row-errors").inner_text()
    assert Contact.objects.count() == 0
    screenshot(page, "imports-check-fa")
    with page.expect_navigation():
        page.locator("#run-button").click()

    # The result (the worker runs at once here): counts, refused rows, undo.
    page.locator("#failed-rows").wait_for()
    assert page.locator("[data-count=created]").inner_text() == "۲"
    assert page.locator("#undo-link").is_visible()
    ali = Contact.objects.get(first_name="علی")
    assert ali.points.get(kind="phone").value == "+989123456789"
    assert sorted(ali.tags.values_list("name", flat=True)) == ["تهران", "مشتری ویژه"]
    assert Contact.objects.count() == 2
    screenshot(page, "imports-result-fa")


@pytest.fixture
def english_rep(site):
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")
    return make_user("omid", "rep", "Tehran", password=PASSWORD, first_name="Omid")


def test_the_create_form_warns_of_a_duplicate_and_the_list_exports(page, site, english_rep):
    from wasl.contacts.services import contact_create

    twin = contact_create(
        actor=english_rep, first_name="Leila", last_name="Navabi", emails=["leila@example.ir"]
    )
    sign_in(page, site, "omid", PASSWORD)
    page.goto(f"{site}/contacts/new/")
    page.locator("#id_first_name").fill("Leyla")
    page.locator("#id_emails").fill("LEILA@example.ir")
    warning = page.locator("#duplicate-warning")
    warning.wait_for()
    assert "This looks like" in warning.inner_text()
    assert warning.get_by_role("link").get_attribute("href") == f"/r/contact/{twin.public_id}/"
    screenshot(page, "imports-duplicate-warning-en")

    page.goto(f"{site}/contacts/")
    page.get_by_role("button", name="Export").first.click()
    page.locator("#export-xlsx").check()
    with page.expect_download() as download:
        page.locator("#export-list button[type=submit]").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    content = Path(download.value.path()).read_bytes()
    assert content[:2] == b"PK"
