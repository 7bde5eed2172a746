"""The users' calendars: Gregorian, Jalali (Solar Hijri) and Hijri (Umm al-Qura).

Pure functions over `datetime.date`; storage stays Gregorian. Jalali goes through
`jdatetime`, Hijri through `hijridate` (valid 1343–1500 AH, i.e. 1924–2077 CE; outside
that range Hijri dates are shown in Gregorian rather than failing the page).
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime
from hijridate import Gregorian, Hijri

GREGORIAN = "gregorian"
JALALI = "jalali"
HIJRI = "hijri"
CALENDARS = (GREGORIAN, JALALI, HIJRI)

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(
    {
        **{d: str(i) for i, d in enumerate(PERSIAN_DIGITS)},
        **{d: str(i) for i, d in enumerate(ARABIC_DIGITS)},
    }
)

# Month names are proper names of each calendar; they are data, not interface strings,
# so they live here rather than in the translation catalogues.
MONTH_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    JALALI: {
        "fa": (
            "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
            "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
        ),
        "ar": (
            "فروردين", "أرديبهشت", "خرداد", "تير", "مرداد", "شهريور",
            "مهر", "آبان", "آذر", "دي", "بهمن", "اسفند",
        ),
        "en": (
            "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
            "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
        ),
    },
    HIJRI: {
        "fa": (
            "محرم", "صفر", "ربیع‌الاول", "ربیع‌الثانی", "جمادی‌الاول", "جمادی‌الثانی",
            "رجب", "شعبان", "رمضان", "شوال", "ذی‌القعده", "ذی‌الحجه",
        ),
        "ar": (
            "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
            "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
        ),
        "en": (
            "Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula",
            "Jumada al-Akhirah", "Rajab", "Shaban", "Ramadan", "Shawwal", "Dhu al-Qadah",
            "Dhu al-Hijjah",
        ),
    },
    GREGORIAN: {
        "fa": (
            "ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن",
            "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر",
        ),
        "ar": (
            "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
            "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
        ),
        "en": (
            "January", "February", "March", "April", "May", "June",
            "July", "August", "September", "October", "November", "December",
        ),
    },
}  # fmt: skip


# A year this large in a Jalali or Hijri input is a Gregorian date (pasted ISO text).
GREGORIAN_YEAR_FLOOR = 1800


class DateParseError(ValueError):
    """The text is not a date of the given calendar."""


def latin_digits(text: str) -> str:
    """Persian and Arabic-Indic digits turned ASCII; everything else kept."""
    return text.translate(_TO_LATIN)


def native_digits(text: str, language: str) -> str:
    """ASCII digits written in the language's own digits (fa: ۰-۹, ar: ٠-٩)."""
    table = {"fa": PERSIAN_DIGITS, "ar": ARABIC_DIGITS}.get(language)
    if table is None:
        return text
    return "".join(table[ord(ch) - 48] if "0" <= ch <= "9" else ch for ch in text)


def to_jalali(value: dt.date) -> tuple[int, int, int]:
    j = jdatetime.date.fromgregorian(date=value)
    return j.year, j.month, j.day


def from_jalali(year: int, month: int, day: int) -> dt.date:
    try:
        return jdatetime.date(year, month, day).togregorian()
    except (ValueError, OverflowError) as error:
        raise DateParseError(str(error)) from error


def to_hijri(value: dt.date) -> tuple[int, int, int]:
    h = Gregorian(value.year, value.month, value.day).to_hijri()
    return h.year, h.month, h.day


def from_hijri(year: int, month: int, day: int) -> dt.date:
    try:
        return Hijri(year, month, day).to_gregorian()
    except (ValueError, OverflowError) as error:
        raise DateParseError(str(error)) from error


def to_calendar(value: dt.date, calendar: str) -> tuple[int, int, int]:
    """(year, month, day) of `value` in `calendar` (see `effective_calendar`)."""
    return _in_calendar(value, calendar)[:3]  # type: ignore[return-value]


def effective_calendar(value: dt.date, calendar: str) -> str:
    """`calendar`, or Gregorian when it is unknown or `value` lies outside its tables."""
    return _in_calendar(value, calendar)[3]  # type: ignore[return-value]


def _in_calendar(value: dt.date, calendar: str) -> tuple[int, int, int, str]:
    if calendar == JALALI:
        return (*to_jalali(value), JALALI)
    if calendar == HIJRI:
        try:
            return (*to_hijri(value), HIJRI)
        except (ValueError, OverflowError):
            pass
    return value.year, value.month, value.day, GREGORIAN


def from_calendar(year: int, month: int, day: int, calendar: str) -> dt.date:
    if calendar == JALALI:
        return from_jalali(year, month, day)
    if calendar == HIJRI:
        return from_hijri(year, month, day)
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise DateParseError(str(error)) from error


def month_length(year: int, month: int, calendar: str) -> int:
    if calendar == JALALI:
        if month <= 6:
            return 31
        if month <= 11:
            return 30
        return 30 if jdatetime.date(year, 1, 1).isleap() else 29
    if calendar == HIJRI:
        return Hijri(year, month, 1).month_length()
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    return (next_month - dt.timedelta(days=1)).day


def month_name(month: int, calendar: str, language: str) -> str:
    names = MONTH_NAMES.get(calendar, MONTH_NAMES[GREGORIAN])
    return names.get(language, names["en"])[month - 1]


def format_date(
    value: dt.date | None,
    calendar: str = GREGORIAN,
    digits: str = "latin",
    language: str = "en",
    *,
    style: str = "short",
) -> str:
    """A date written in `calendar`: short style is year/month/day (Jalali, Hijri) or ISO
    year-month-day (Gregorian); long style spells the month ("2 Azar 1405"). With
    digits="native", fa and ar pages get their own digits."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    year, month, day, shown = _in_calendar(value, calendar)
    if style == "long":
        text = f"{day} {month_name(month, shown, language)} {year}"
    elif shown == GREGORIAN:
        text = f"{year:04d}-{month:02d}-{day:02d}"
    else:
        text = f"{year:04d}/{month:02d}/{day:02d}"
    return native_digits(text, language) if digits == "native" else text


_DATE_TEXT = re.compile(r"^\s*(\d{1,4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,4})\s*$")


def parse_date(text: str, calendar: str = GREGORIAN) -> dt.date:
    """The Gregorian date written as `text` in `calendar`: year/month/day with `/`, `-` or
    `.`, Latin, Persian or Arabic-Indic digits. A four-digit last part is read as the
    year (day/month/year); a year from 1800 on is Gregorian whatever the calendar.
    Raises DateParseError."""
    match = _DATE_TEXT.match(latin_digits(text or "").replace("\u200f", "").replace("\u200e", ""))
    if not match:
        raise DateParseError(text)
    first, second, third = match.groups()
    if len(third) == 4 and len(first) <= 2:
        year, month, day = int(third), int(second), int(first)
    else:
        year, month, day = int(first), int(second), int(third)
    if not 1 <= month <= 12 or not 1 <= day <= 31 or year < 1:
        raise DateParseError(text)
    if calendar != GREGORIAN and year >= GREGORIAN_YEAR_FLOOR:
        # A pasted ISO date: no Jalali or Hijri year of business records reaches 1800.
        calendar = GREGORIAN
    return from_calendar(year, month, day, calendar)


def input_value(
    value: dt.date | None, calendar: str, digits: str = "latin", language: str = "en"
) -> str:
    """How a date input shows `value`: year/month/day in the calendar (parse_date reads it
    back)."""
    if value is None:
        return ""
    year, month, day, shown = _in_calendar(value, calendar)
    separator = "-" if shown == GREGORIAN else "/"
    text = f"{year:04d}{separator}{month:02d}{separator}{day:02d}"
    return native_digits(text, language) if digits == "native" else text
