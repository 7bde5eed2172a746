"""The Persian and Arabic catalogues: complete, well-formed, current, and used by the API."""

from __future__ import annotations

import ast
import gettext
import io
import re
import tokenize
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.signals import setting_changed
from django.utils.translation.template import templatize

from wasl.contacts.models import Contact

PACKAGE = Path(__file__).resolve().parent.parent / "wasl"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("fa", "ar")
PLURAL_FORMS = {
    "fa": "nplurals=2; plural=(n > 1);",
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
}
# Letters one language writes and the other does not: Arabic yeh and kaf in a Persian string
# (or the reverse) look the same on screen but break search, sorting and fonts.
FOREIGN_LETTERS = {"fa": "\u064a\u0643", "ar": "\u06cc\u06a9"}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[sdifrx]|\{\w*\}")
# Where makemessages looks (see the command in docs): the demo word lists are data, not UI.
SKIPPED_PARTS = {"tests", "migrations", "demo"}
GETTEXT_FUNCTIONS = {
    "gettext": ("msgid",),
    "gettext_lazy": ("msgid",),
    "gettext_noop": ("msgid",),
    "ngettext": ("msgid", "msgid_plural"),
    "ngettext_lazy": ("msgid", "msgid_plural"),
    "pgettext": ("msgctxt", "msgid"),
    "pgettext_lazy": ("msgctxt", "msgid"),
    "npgettext": ("msgctxt", "msgid", "msgid_plural"),
    "npgettext_lazy": ("msgctxt", "msgid", "msgid_plural"),
}


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def source_files(pattern: str = "*.py") -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob(pattern))
        if not SKIPPED_PARTS.intersection(path.relative_to(PACKAGE).parts)
    ]


def template_calls(path: Path) -> list[tuple[int, str | None, str, str | None]]:
    """The same for a template: Django's `templatize` (what makemessages feeds to xgettext)
    turns `{% translate %}` and `{% blocktranslate %}` into gettext calls; read them back."""
    text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type in (tokenize.NAME, tokenize.OP, tokenize.STRING)
    ]
    found = []
    for index, token in enumerate(tokens[:-2]):
        if token.string not in {"_", *GETTEXT_FUNCTIONS} or tokens[index + 1].string != "(":
            continue
        function = "gettext" if token.string == "_" else token.string
        strings = []
        for following in tokens[index + 2 :]:
            if following.type == tokenize.STRING:
                strings.append(ast.literal_eval(following.string))
            elif following.string != ",":
                break
        values: dict[str, str | None] = dict.fromkeys(("msgctxt", "msgid_plural"))
        values.update(zip(GETTEXT_FUNCTIONS[function], strings, strict=False))
        if values.get("msgid") is not None:
            found.append(
                (token.start[0], values["msgctxt"], str(values["msgid"]), values["msgid_plural"])
            )
    return found


def all_calls() -> list[tuple[Path, int, str | None, str, str | None]]:
    calls = [(path, *call) for path in source_files() for call in translatable_calls(path)]
    for pattern in ("*.html", "*.txt"):
        calls += [(path, *call) for path in source_files(pattern) for call in template_calls(path)]
    return calls


def translatable_calls(path: Path) -> list[tuple[int, str | None, str, str | None]]:
    """(line, msgctxt, msgid, msgid_plural) for each gettext call in the module, whatever
    name it was imported under (`_`, `gettext_lazy`, ...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    local_names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in GETTEXT_FUNCTIONS:
                    local_names[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        function = local_names.get(node.func.id)
        if function is None:
            continue
        roles = GETTEXT_FUNCTIONS[function]
        values: dict[str, str | None] = {"msgctxt": None, "msgid_plural": None}
        for role, argument in zip(roles, node.args, strict=False):
            assert not isinstance(argument, ast.JoinedStr), (
                f"{path}:{node.lineno}: an f-string cannot be translated; "
                "use a %(name)s placeholder and format after the lookup"
            )
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                values[role] = argument.value
        if "msgid" in values:
            found.append(
                (node.lineno, values["msgctxt"], str(values["msgid"]), values["msgid_plural"])
            )
    return found


@pytest.fixture(scope="session")
def compiled_catalogues() -> None:
    """Build the .mo files from the .po files, as `make install-test` does, so running
    pytest directly sees the current translations."""
    call_command("compiletranslations", verbosity=0)
    # Catalogues loaded before the compile are cached by Python's gettext (per .mo path)
    # and by Django; drop both so the fresh files are read.
    gettext._translations.clear()  # type: ignore[attr-defined]
    setting_changed.send(
        sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_header_names_the_language_and_its_plural_rule(language):
    po = catalogue(language)
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == language
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert po.metadata["Plural-Forms"] == PLURAL_FORMS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = catalogue(language)
    assert len(po) > 0
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    for entry in po:
        if entry.msgid_plural:
            count = int(po.metadata["Plural-Forms"].split("nplurals=")[1].split(";")[0])
            assert sorted(entry.msgstr_plural) == list(range(count)), entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language):
    for entry in catalogue(language):
        if not entry.msgid_plural:
            assert placeholders(entry.msgstr) == placeholders(entry.msgid), entry.msgid
            continue
        expected = placeholders(entry.msgid_plural)
        assert placeholders(entry.msgid) == expected, entry.msgid
        for form in entry.msgstr_plural.values():
            # A form for one or two items may say "one" or use the dual instead of the number,
            # so it may leave out one placeholder (the count), never add one.
            assert set(placeholders(form)) <= set(expected), (entry.msgid, form)
            assert len(set(expected) - set(placeholders(form))) <= 1, (entry.msgid, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_use_the_letters_of_their_own_language(language):
    wrong = [
        entry.msgid
        for entry in catalogue(language)
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        if any(letter in text for letter in FOREIGN_LETTERS[language])
    ]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_source_is_in_the_catalogue(language):
    known = {(entry.msgctxt, entry.msgid): entry for entry in catalogue(language)}
    missing = []
    for path, line, context, msgid, plural in all_calls():
        entry = known.get((context, msgid))
        if entry is None or (plural is not None and entry.msgid_plural != plural):
            missing.append(f"{path.relative_to(PACKAGE)}:{line}: {msgid!r}")
    assert not missing, (
        "Not in the catalogue; run `cd wasl && ../.venv/bin/python ../manage.py makemessages "
        "-l fa -l ar --no-obsolete --ignore 'tests/*' --ignore '*/tests/*' --ignore 'demo/*'` "
        "and translate:\n" + "\n".join(missing)
    )


def test_the_source_scan_finds_the_messages_it_should(tmp_path):
    calls = [msgid for _, _, _, msgid, _ in all_calls()]
    assert "Some fields are not valid." in calls
    assert "“%(value)s” is not a valid e-mail address." in calls
    page = tmp_path / "page.html"
    page.write_text(
        "{% load i18n %}<a title=\"{% translate 'Open' %}\">"
        "{% translate 'May' context 'month' %}</a>"
        "{% blocktranslate count counter=n %}One row{% plural %}{{ counter }} rows"
        "{% endblocktranslate %}"
    )
    assert [call[1:] for call in template_calls(page)] == [
        (None, "Open", None),
        ("month", "May", None),
        (None, "One row", "%(counter)s rows"),
    ]


def expected_message(language: str, msgid: str) -> str:
    return catalogue(language).find(msgid).msgstr


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fa", "ar", "en"])
def test_a_validation_error_answers_in_the_language_the_client_asks_for(
    compiled_catalogues, personas, api_as, language
):
    api = api_as(personas.rep_a)
    response = api.client.post(
        "/api/v1/contacts",
        {"first_name": "Sara", "emails": ["not-an-address"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}", "Accept-Language": language},
    )
    assert response.status_code == 422, response.content
    assert "Accept-Language" in response.headers.get("Vary", "")
    error = response.json()["error"]
    assert error["code"] == "invalid"
    field_messages = [message for messages in error["fields"].values() for message in messages]
    summary = "Some fields are not valid."
    invalid_email = "“%(value)s” is not a valid e-mail address."
    if language == "en":
        assert error["message"] == summary
        assert invalid_email % {"value": "not-an-address"} in field_messages
    else:
        assert error["message"] == expected_message(language, summary)
        expected = expected_message(language, invalid_email) % {"value": "not-an-address"}
        assert expected in field_messages
        assert error["message"] != summary
    assert not Contact.objects.exists()
