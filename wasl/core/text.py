"""Text normalisation: the only way text becomes a search or duplicate-detection key."""

from __future__ import annotations

import re
import unicodedata

_LETTER_MAP = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh
        "ى": "ی",  # alef maksura
        "ئ": "ی",
        "ك": "ک",  # Arabic kaf
        "ڪ": "ک",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ة": "ه",  # teh marbuta
        "ۀ": "ه",
        "ە": "ه",
        "ھ": "ه",
        "ہ": "ه",
        "ؤ": "و",
        "ٶ": "و",
        "\u0640": None,  # tatweel
    }
)
_DIGITS = str.maketrans(
    {
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
    }
)
# Zero-width non-joiner and other joiners/marks fold to a space or vanish.
_SPACE_LIKE = {"\u200c", "\u00a0", "\u202f", "\u2009", "\u200a", "\u3000"}
_WHITESPACE = re.compile(r"\s+")
_NOT_ASCII_DIGITS = re.compile(r"[^0-9]+")


def _normalise_once(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value).casefold()
    decomposed = unicodedata.normalize("NFKD", decomposed)
    kept: list[str] = []
    for char in decomposed:
        if char in _SPACE_LIKE:
            kept.append(" ")
            continue
        category = unicodedata.category(char)
        if category in {"Mn", "Me", "Cf", "Cc"}:
            # Diacritics (harakat, accents), bidi marks, ZWJ and control characters.
            if char in "\t\n\r":
                kept.append(" ")
            continue
        kept.append(char)
    text = "".join(kept).translate(_LETTER_MAP).translate(_DIGITS)
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", text).strip()


def normalise(value: str | None) -> str:
    """Fold a text to its search key: case, Arabic/Persian letter variants, diacritics,
    digits, joiners and spaces. Idempotent: normalise(normalise(x)) == normalise(x)."""
    if not value:
        return ""
    text = _normalise_once(value)
    for _ in range(3):
        again = _normalise_once(text)
        if again == text:
            break
        text = again
    return text


def ascii_digits(value: str) -> str:
    """Only the digits of a text, Persian and Arabic-Indic digits turned ASCII."""
    return _NOT_ASCII_DIGITS.sub("", value.translate(_DIGITS))
