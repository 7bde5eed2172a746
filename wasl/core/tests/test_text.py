from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wasl.core.text import ascii_digits, normalise

VARIANT_PAIRS = [
    ("علي", "علی"),
    ("كريم", "کریم"),
    ("أحمد", "احمد"),
    ("إيمان", "ایمان"),
    ("آرش", "ارش"),
    ("فاطمة", "فاطمه"),
    ("مُحَمَّد", "محمد"),
    ("مـــحمد", "محمد"),
    ("۰۹۱۲۳۴۵۶۷۸۹", "09123456789"),
    ("٠٩١٢٣٤٥٦٧٨٩", "09123456789"),
    ("می\u200cخواهم", "می خواهم"),
    ("  Ali   REZAEI ", "ali rezaei"),
    ("مؤسسه", "موسسه"),
    ("José", "jose"),
]


def test_listed_letter_and_digit_variants_map_together():
    for variant, canonical in VARIANT_PAIRS:
        assert normalise(variant) == normalise(canonical), (variant, canonical)


def test_empty_and_none_give_empty_key():
    assert normalise(None) == ""
    assert normalise("") == ""
    assert normalise("\u200c \u200f") == ""


@given(st.text())
def test_normalise_is_idempotent(value):
    once = normalise(value)
    assert normalise(once) == once


@given(st.text(alphabet="يىكأإآةيـًٌٍَُِّْ۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩ \u200cابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"))
def test_normalised_text_has_no_arabic_variant_letters_or_native_digits(value):
    result = normalise(value)
    assert not set(result) & set("يىكأإآةـًٌٍَُِّْ\u200c۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")


@given(st.text())
def test_variant_substitution_does_not_change_the_key(value):
    swapped = value.replace("ی", "ي").replace("ک", "ك")
    assert normalise(swapped) == normalise(value)


def test_ascii_digits_keeps_only_digits():
    assert ascii_digits("+98 (912) ۳۴۵-۶۷۸۹") == "989123456789"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_ascii_digits_keeps_what_a_character_by_character_filter_keeps(value):
    translated = value.translate({0x06F0 + i: str(i) for i in range(10)}).translate(
        {0x0660 + i: str(i) for i in range(10)}
    )
    assert ascii_digits(value) == "".join(ch for ch in translated if "0" <= ch <= "9")
