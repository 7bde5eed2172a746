"""The import's phone fast path (shapes learnt from one parse) gives what the services give."""

from __future__ import annotations

import random

import pytest

from wasl.core.phones import PhoneError, parse_phone, significant_digits
from wasl.imports import engine
from wasl.imports.engine import fast_phone

NATIONAL = {
    # region: (national prefix written by people, national number lengths, leading digits)
    "IR": ("0", (10, 7, 8), "123456789"),
    "US": ("1", (10, 7), "23456789"),
    "GB": ("0", (10, 9), "123789"),
    "AE": ("0", (9, 8), "2345679"),
    "SA": ("0", (9, 8), "15"),
    "DE": ("0", (10, 11, 7), "123456789"),
    "AR": ("0", (10, 11), "123456789"),
    "BR": ("0", (10, 11), "123456789"),
    "IT": ("", (10, 9), "03"),
}
CODES = {"IR": 98, "US": 1, "GB": 44, "AE": 971, "SA": 966, "DE": 49, "AR": 54, "BR": 55, "IT": 39}


def samples(rng: random.Random, count: int) -> list[tuple[str, str]]:
    found = []
    for _n in range(count):
        region = rng.choice(list(NATIONAL))
        prefix, lengths, leading = NATIONAL[region]
        length = rng.choice(lengths)
        number = rng.choice(leading) + "".join(rng.choice("0123456789") for _ in range(length - 1))
        written = rng.choice(
            [
                prefix + number,
                f"+{CODES[region]} {number}",
                f"00{CODES[region]}{number}",
                f"{CODES[region]}{number}",
                f"+{CODES[region]} 0{number}",
                number,
                number[: rng.randint(1, len(number))],
            ]
        )
        found.append((written, rng.choice(["IR", "IR", "IR", region])))
    return found


def one_parse(raw: str, region: str) -> tuple[str, str] | str:
    """The fast path without learnt shapes: one full parse."""
    saved = engine._SHAPES
    engine._SHAPES = {}
    try:
        return fast_phone(raw, region)
    except PhoneError:
        return "refused"
    finally:
        engine._SHAPES = saved


def services(raw: str, region: str) -> tuple[str, str] | str:
    try:
        e164 = parse_phone(raw, region)
    except PhoneError:
        return "refused"
    return e164, significant_digits(e164)


@pytest.mark.parametrize("seed", [1, 2])
def test_phone_shapes_give_what_one_parse_gives(seed, monkeypatch):
    monkeypatch.setattr(engine, "_SHAPES", {})
    rng = random.Random(seed)
    agree = 0
    cases = samples(rng, 6_000)
    for raw, region in cases:
        try:
            got: tuple[str, str] | str = fast_phone(raw, region)
        except PhoneError:
            got = "refused"
        assert got == one_parse(raw, region), (raw, region)
        # The E.164 form is always the services' one.
        reference = services(raw, region)
        assert got == "refused" if reference == "refused" else got[0] == reference[0]
        agree += got == reference
    assert len(engine._SHAPES) > 100  # the fast path was taken
    assert agree > len(cases) * 0.99
