"""Which column feeds which field: suggestions from header names (en/fa/ar and the exports
of HubSpot, Salesforce, Pipedrive and Zoho), and the conversion of cell values (numbers
with Persian/Arabic digits, dates in three calendars, choices, owners, tags, countries).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wasl.core.calendars import DateParseError, parse_date
from wasl.core.text import normalise

IGNORE = ""

# field → label, per target. Fields that take several columns: email, phone (with an
# optional ":label"), and custom fields as "custom:<key>".
COMMON_PERSON = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "middle_name": gettext_lazy("Middle name"),
    "title": gettext_lazy("Job title"),
}
ADDRESS = {
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Province or state"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country"),
}
TARGET_FIELDS: dict[str, dict[str, Any]] = {
    "contacts": {
        **COMMON_PERSON,
        "email": gettext_lazy("E-mail"),
        "phone": gettext_lazy("Phone"),
        "company": gettext_lazy("Company"),
        "company_role": gettext_lazy("Role at the company"),
        "birthday": gettext_lazy("Birthday"),
        "website": gettext_lazy("Website"),
        "industry": gettext_lazy("Industry"),
        "source": gettext_lazy("Source"),
        "notes": gettext_lazy("Notes"),
        **ADDRESS,
        "tags": gettext_lazy("Tags"),
        "owner": gettext_lazy("Owner"),
    },
    "companies": {
        "name": gettext_lazy("Name"),
        "email": gettext_lazy("E-mail"),
        "phone": gettext_lazy("Phone"),
        "website": gettext_lazy("Website"),
        "industry": gettext_lazy("Industry"),
        "source": gettext_lazy("Source"),
        "notes": gettext_lazy("Notes"),
        **ADDRESS,
        "tags": gettext_lazy("Tags"),
        "owner": gettext_lazy("Owner"),
    },
    "leads": {
        **COMMON_PERSON,
        "company_name": gettext_lazy("Company"),
        "email": gettext_lazy("E-mail"),
        "phone": gettext_lazy("Phone"),
        "website": gettext_lazy("Website"),
        "city": gettext_lazy("City"),
        "country": gettext_lazy("Country"),
        "source": gettext_lazy("Source"),
        "status": gettext_lazy("Status"),
        "notes": gettext_lazy("Notes"),
        "tags": gettext_lazy("Tags"),
        "owner": gettext_lazy("Owner"),
    },
    "deals": {
        "title": gettext_lazy("Title"),
        "amount": gettext_lazy("Amount"),
        "currency": gettext_lazy("Currency"),
        "expected_close": gettext_lazy("Expected close"),
        "pipeline": gettext_lazy("Pipeline"),
        "stage": gettext_lazy("Stage"),
        "probability": gettext_lazy("Probability"),
        "company": gettext_lazy("Company"),
        "contact_email": gettext_lazy("Contact e-mail"),
        "source": gettext_lazy("Source"),
        "notes": gettext_lazy("Notes"),
        "tags": gettext_lazy("Tags"),
        "owner": gettext_lazy("Owner"),
    },
    "products": {
        "name": gettext_lazy("Name"),
        "sku": gettext_lazy("SKU"),
        "description": gettext_lazy("Description"),
        "unit": gettext_lazy("Unit"),
        "price": gettext_lazy("Price"),
        "currency": gettext_lazy("Currency"),
        "tax_percent": gettext_lazy("Tax (%)"),
    },
    "activities": {
        "kind": gettext_lazy("Kind"),
        "subject": gettext_lazy("Subject"),
        "body": gettext_lazy("Details"),
        "due_at": gettext_lazy("Due"),
        "done_at": gettext_lazy("Done"),
        "location": gettext_lazy("Location"),
        "ends_at": gettext_lazy("Ends"),
        "external_id": gettext_lazy("External ID (skips rows already imported)"),
        "contact_email": gettext_lazy("Contact e-mail"),
        "company": gettext_lazy("Company"),
        "owner": gettext_lazy("Owner"),
    },
}
MULTI_FIELDS = {"email", "phone", "tags", "notes"}

# Normalised header → field. Persian and Arabic headers, English words, and the column
# names of HubSpot, Salesforce (API names), Pipedrive ("Person - …") and Zoho exports.
_SYNONYMS: dict[str, list[str]] = {
    "first_name": [
        "first name", "firstname", "first", "given name", "forename", "person first name",
        "contact first name", "lead first name", "نام", "نام کوچک", "الاسم الأول", "الاسم الاول",
        "الاسم",
    ],
    "last_name": [
        "last name", "lastname", "surname", "family name", "last", "person last name",
        "contact last name", "نام خانوادگی", "فامیلی", "اسم العائلة", "اسم العائله", "الكنية",
        "اللقب",
    ],
    "full_name": [
        "full name", "name", "contact name", "person name", "contact", "person", "display name",
        "نام کامل", "نام و نام خانوادگی", "الاسم الكامل", "الاسم بالكامل",
    ],
    "middle_name": ["middle name", "additional name", "نام میانی", "الاسم الأوسط"],
    "title": [
        "title", "job title", "position", "designation", "role", "سمت", "عنوان شغلی", "شغل",
        "المسمى الوظيفي", "الوظيفة", "المنصب",
    ],
    "email": [
        "email", "e mail", "email address", "e mail address", "mail", "work email",
        "primary email", "person email", "person email work", "person email home",
        "secondary email", "email 2", "ایمیل", "پست الکترونیک", "رایانامه", "پست الکترونیکی",
        "البريد الإلكتروني", "البريد الالكتروني", "البريد", "ايميل",
    ],
    "phone": [
        "phone", "phone number", "telephone", "tel", "person phone", "office number",
        "business phone", "work phone", "home phone", "other phone", "assistant phone",
        "asst phone", "تلفن", "شماره تلفن", "شماره تماس", "تلفن ثابت", "الهاتف", "رقم الهاتف",
        "هاتف", "تليفون",
    ],
    "phone:mobile": [
        "mobile", "mobile phone", "cell", "cell phone", "cell number", "mobile number",
        "موبایل", "تلفن همراه", "شماره موبایل", "همراه", "جوال", "الجوال", "رقم الجوال",
        "الهاتف المحمول", "موبايل",
    ],
    "phone:fax": ["fax", "fax number", "فکس", "نمابر", "فاكس"],
    "company": [
        "company", "company name", "organization", "organisation", "organization name",
        "account", "account name", "associated company", "employer", "شرکت", "نام شرکت",
        "سازمان", "الشركة", "اسم الشركة", "المؤسسة",
    ],
    "company_name": [],
    "company_role": ["department", "واحد", "دپارتمان", "القسم"],
    "birthday": [
        "birthday", "birthdate", "birth date", "date of birth", "dob", "تاریخ تولد", "تولد",
        "تاريخ الميلاد", "عيد الميلاد",
    ],
    "website": [
        "website", "web site", "url", "web", "homepage", "company domain name", "domain",
        "وب سایت", "وبسایت", "سایت", "الموقع", "الموقع الإلكتروني",
    ],
    "industry": ["industry", "sector", "صنعت", "حوزه فعالیت", "الصناعة", "القطاع"],
    "source": [
        "source", "lead source", "leadsource", "original source", "منبع", "منبع سرنخ",
        "المصدر", "مصدر",
    ],
    "notes": [
        "notes", "note", "description", "comments", "comment", "note content",
        "یادداشت", "توضیحات", "ملاحظات", "ملاحظة", "الوصف",
    ],
    "street": [
        "street", "address", "mailing street", "billing street", "street address",
        "organization address", "خیابان", "آدرس", "نشانی", "العنوان", "الشارع",
    ],
    "city": [
        "city", "mailing city", "billing city", "town", "شهر", "المدينة", "مدينة",
    ],
    "region": [
        "region", "state", "province", "mailing state", "billing state", "state region",
        "استان", "المنطقة", "المحافظة", "الولاية",
    ],
    "postal_code": [
        "postal code", "zip", "zip code", "postcode", "mailing zip", "mailing postal code",
        "billing postal code", "کد پستی", "الرمز البريدي",
    ],
    "country": [
        "country", "country region", "mailing country", "billing country", "کشور", "الدولة",
        "البلد",
    ],
    "tags": ["tags", "tag", "labels", "label", "categories", "deal label", "برچسب",
             "برچسب ها", "الوسوم", "وسوم", "تصنيف"],
    "owner": [
        "owner", "contact owner", "company owner", "deal owner", "lead owner", "owner id",
        "ownerid", "assigned to", "sales agent", "sales rep", "user", "مالک", "مسئول",
        "کارشناس", "المالك", "المسؤول", "مندوب المبيعات",
    ],
    "name": [],
    "status": ["status", "lead status", "وضعیت", "الحالة"],
    "amount": [
        "amount", "value", "deal value", "close value", "deal amount", "مبلغ", "ارزش",
        "المبلغ", "القيمة",
    ],
    "currency": ["currency", "deal currency", "ارز", "واحد پول", "العملة"],
    "expected_close": [
        "close date", "expected close date", "closedate", "expected close",
        "deal expected close date", "تاریخ بستن", "تاریخ پیش بینی", "تاريخ الإغلاق",
    ],
    "pipeline": ["pipeline", "deal pipeline", "قیف فروش", "خط فروش", "مسار المبيعات"],
    "stage": [
        "stage", "deal stage", "stagename", "stage name", "مرحله", "المرحلة",
    ],
    "probability": ["probability", "deal probability", "احتمال", "الاحتمال"],
    "contact_email": ["contact email", "who contact email", "person email"],
    "sku": ["sku", "product code", "code", "کد کالا", "رمز المنتج"],
    "description": [],
    "unit": ["unit", "واحد", "الوحدة"],
    "price": ["price", "unit price", "sales price", "list price", "قیمت", "السعر"],
    "tax_percent": ["tax", "tax percent", "vat", "مالیات", "الضريبة"],
    "kind": ["type", "activity type", "kind", "نوع", "النوع"],
    "subject": [
        "subject", "activity subject", "موضوع", "الموضوع",
    ],
    "body": ["details", "body", "activity note", "شرح", "التفاصيل"],
    "due_at": ["due date", "due", "activity due date", "date", "موعد", "سررسید", "تاریخ"],
    "done_at": ["done", "done date", "completed", "انجام شده", "تاريخ الإنجاز"],
    "location": ["location", "place", "مکان", "المكان"],
    "ends_at": ["end", "ends", "end time", "end date", "dtend", "پایان", "النهاية"],
    "external_id": ["uid", "external id", "شناسه خارجی", "المعرف الخارجي"],
}  # fmt: skip

# Target-specific readings of ambiguous headers.
_TARGET_OVERRIDES: dict[str, dict[str, str]] = {
    "companies": {
        "name": "name",
        "company": "name",
        "company name": "name",
        "account": "name",
        "account name": "name",
        "organization name": "name",
        "organization": "name",
        "شرکت": "name",
        "نام شرکت": "name",
        "نام": "name",
        "الاسم": "name",
        "اسم الشركة": "name",
        "الشركة": "name",
        "description": "notes",
    },
    "leads": {
        "company": "company_name",
        "company name": "company_name",
        "account": "company_name",
        "account name": "company_name",
        "organization": "company_name",
        "organization name": "company_name",
        "شرکت": "company_name",
        "نام شرکت": "company_name",
        "الشركة": "company_name",
        "اسم الشركة": "company_name",
    },
    "deals": {
        "name": "title",
        "deal name": "title",
        "deal title": "title",
        "title": "title",
        "opportunity name": "title",
        "opportunity": "title",
        "opportunity id": "title",
        "عنوان": "title",
        "نام معامله": "title",
        "اسم الصفقة": "title",
        "account": "company",
        "accountid": "company",
        "account id": "company",
        "organization name": "company",
        "description": "notes",
    },
    "products": {
        "name": "name",
        "product": "name",
        "product name": "name",
        "نام": "name",
        "نام کالا": "name",
        "محصول": "name",
        "اسم المنتج": "name",
        "المنتج": "name",
        "description": "description",
        "توضیحات": "description",
        "الوصف": "description",
    },
    "activities": {
        "description": "body",
        "note content": "body",
        "activity due date": "due_at",
        "activity subject": "subject",
        "who contact email": "contact_email",
        "email": "contact_email",
        "attendees": "contact_email",
        "start": "due_at",
        "dtstart": "due_at",
    },
}

_SEPARATORS = re.compile(r"[\s_\-./:()\[\]#*!]+")


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def header_key(header: str) -> str:
    """A header as the synonym table spells it: camelCase split, normalised, punctuation
    as spaces."""
    return " ".join(_SEPARATORS.sub(" ", normalise(_CAMEL.sub(" ", header or ""))).split())


_INDEX: dict[str, str] = {}
for _field, _names in _SYNONYMS.items():
    for _name in [_field.replace("_", " ").split(":")[0], *_names]:
        _INDEX.setdefault(header_key(_name), _field)
# Salesforce's upper-case API names (BILLINGCITY) match the synonyms without spaces.
_COMPACT = {key.replace(" ", ""): field for key, field in _INDEX.items()}
# Phone labels read from the header words.
_LABEL_WORDS = {
    "mobile": "mobile",
    "cell": "mobile",
    "موبایل": "mobile",
    "همراه": "mobile",
    "جوال": "mobile",
    "home": "home",
    "منزل": "home",
    "خانه": "home",
    "work": "work",
    "office": "work",
    "business": "work",
    "محل کار": "work",
    "العمل": "work",
    "fax": "fax",
    "فکس": "fax",
    "فاكس": "fax",
    "other": "other",
}


def _label_of(key: str) -> str:
    for word, label in _LABEL_WORDS.items():
        if word in key.split(" ") or (not word.isascii() and word in key):
            return label
    return ""


def suggest_field(header: str, target: str) -> str:
    """The field a column most likely feeds in `target`, or "" to leave it out."""
    key = header_key(header)
    if not key:
        return IGNORE
    fields = TARGET_FIELDS[target]
    overrides = _TARGET_OVERRIDES.get(target, {})
    override = overrides.get(key) or next(
        (v for k, v in overrides.items() if k.replace(" ", "") == key.replace(" ", "")), None
    )
    if override:
        return override
    # vCard exports name their phone and e-mail columns "Phone (mobile) 2".
    base = re.sub(r" \d+$", "", key)
    found = _INDEX.get(key) or _INDEX.get(base) or _COMPACT.get(key.replace(" ", ""))
    if found is None:
        words = set(key.split(" "))
        if words & {"email", "mail", "ایمیل", "البريد"} or "e mail" in key:
            found = "email"
        elif words & {"phone", "tel", "telephone", "mobile", "cell", "fax", "تلفن", "هاتف"}:
            found = "phone"
    if found is None:
        return IGNORE
    name, _colon, label = found.partition(":")
    if name in ("email", "phone") and not label:
        label = _label_of(key)
        if name == "email" and label not in ("work", "home", "other"):
            label = ""
    if name not in fields:
        if name == "company" and "company_name" in fields:
            return "company_name"
        if name == "full_name" and "name" in fields:
            return "name"
        if name == "notes" and "body" in fields:
            return "body"
        if name == "email" and "contact_email" in fields:
            return "contact_email"
        return IGNORE
    if target == "leads" and name in ("email", "phone"):
        return name
    return f"{name}:{label}" if label and name in ("email", "phone") else name


def suggest_mapping(headers: list[str], target: str) -> dict[str, str]:
    """header → field for every header; single-value fields go to their first column."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        field = suggest_field(header, target)
        base = field.split(":")[0]
        if field and base not in MULTI_FIELDS and not base.startswith("custom") and base in taken:
            field = IGNORE
        if field:
            taken.add(base)
        mapping[header] = field
    # "Name" as a full name only when no first/last columns exist.
    if {"first_name", "last_name"} & taken:
        for header, field in mapping.items():
            if field == "full_name":
                mapping[header] = IGNORE
    return mapping


def valid_field(field: str, target: str, custom_keys: set[str]) -> bool:
    if not field:
        return True
    name, _colon, extra = field.partition(":")
    if name == "custom":
        return extra in custom_keys
    if name not in TARGET_FIELDS[target]:
        return False
    if extra:
        return name in ("email", "phone") and extra in {"work", "home", "mobile", "fax", "other"}
    return True


# ---------------------------------------------------------------- values

_DIGITS = str.maketrans(
    {
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0x0660 + i): str(i) for i in range(10)},
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
        "\u060c": ",",  # Arabic comma
        "\u2212": "-",
    }
)
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+$")
_GROUPED_DOT = re.compile(r"^\d{1,3}(\.\d{3}){2,}$")


def parse_number(text: str) -> Decimal:
    """A number written with Latin, Persian or Arabic digits and any of the usual thousands
    and decimal separators (٬ ، , . ٫ and spaces). Raises ValueError."""
    raw = (text or "").translate(_DIGITS)
    raw = "".join(ch for ch in raw if not ch.isspace() and ch not in "'\u200f\u200e")
    for symbol in ("$", "€", "£", "﷼", "%", "ریال", "تومان", "ر.س", "د.إ"):
        raw = raw.replace(symbol, "")
    negative = raw.startswith("(") and raw.endswith(")")
    raw = raw.strip("()")
    if not raw:
        raise ValueError(_("Enter a number."))
    if "," in raw and "." in raw:
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif "," in raw:
        raw = raw.replace(",", "") if _GROUPED.match(raw.lstrip("+-")) else raw.replace(",", ".")
    elif _GROUPED_DOT.match(raw.lstrip("+-")):
        raw = raw.replace(".", "")
    try:
        number = Decimal(raw)
    except InvalidOperation as error:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": text[:40]}) from error
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": text[:40]})
    return -number if negative else number


_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ]")
_TIME_TAIL = re.compile(r"[T ]\d{1,2}:\d{2}.*$")


def parse_date_value(text: str, calendar: str = "gregorian", order: str = "dmy") -> dt.date:
    """A date in `calendar` (gregorian, jalali, hijri): year/month/day or day/month/year
    with / - or .; ISO timestamps keep their date. `order` "mdy" reads 07/15/2009 as
    July 15th. Raises ValueError."""
    raw = (text or "").strip().translate(_DIGITS)
    if not raw:
        raise ValueError(_("Enter a date."))
    match = _ISO_DATETIME.match(raw)
    raw = "-".join(match.groups()) if match else _TIME_TAIL.sub("", raw).strip()
    if re.fullmatch(r"\d{8}", raw):
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    parts = re.split(r"\s*[/\-.]\s*", raw)
    if order == "mdy" and len(parts) == 3 and len(parts[2]) == 4:
        raw = f"{parts[1]}/{parts[0]}/{parts[2]}"
    try:
        return parse_date(raw, calendar)
    except (DateParseError, ValueError, OverflowError):
        pass
    if len(parts) == 3 and len(parts[2]) == 4 and order != "mdy":
        # 07/15/2009: the first part cannot be a month above 12, so it is month/day/year.
        try:
            return parse_date(f"{parts[1]}/{parts[0]}/{parts[2]}", calendar)
        except (DateParseError, ValueError, OverflowError):
            pass
    raise ValueError(_("“%(value)s” is not a date.") % {"value": text[:40]})


def parse_datetime_value(
    text: str, calendar: str = "gregorian", order: str = "dmy", tz: Any = None
) -> dt.datetime:
    """A date with an optional time (HH:MM[:SS]); aware in `tz` (default UTC)."""
    raw = (text or "").strip()
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz or dt.UTC)
        return value
    except ValueError:
        pass
    day = parse_date_value(raw, calendar, order)
    match = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", raw.translate(_DIGITS))
    hour, minute, second = (0, 0, 0)
    if match:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    try:
        return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz or dt.UTC)
    except ValueError as error:
        raise ValueError(_("“%(value)s” is not a date and time.") % {"value": text[:40]}) from error


_TRUE = {"true", "yes", "y", "1", "on", "بله", "آری", "درست", "نعم", "صح"}
_FALSE = {"false", "no", "n", "0", "off", "خیر", "نه", "غلط", "لا", "خطأ"}


def parse_bool(text: str) -> bool:
    key = normalise(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(_("Enter yes or no."))


DEFAULT_TAG_SEPARATORS = ",;|،؛"


def split_tags(text: str, separators: str = DEFAULT_TAG_SEPARATORS) -> list[str]:
    if not text:
        return []
    pattern = "[" + re.escape(separators or DEFAULT_TAG_SEPARATORS) + "]"
    return [" ".join(part.split()) for part in re.split(pattern, text) if part.strip()]


COUNTRY_NAMES = {
    "iran": "IR", "ایران": "IR", "إيران": "IR", "ايران": "IR",
    "united arab emirates": "AE", "uae": "AE", "emirates": "AE", "امارات": "AE",
    "الإمارات": "AE", "الامارات": "AE", "الإمارات العربية المتحدة": "AE",
    "saudi arabia": "SA", "ksa": "SA", "عربستان": "SA", "السعودية": "SA",
    "المملكة العربية السعودية": "SA",
    "qatar": "QA", "قطر": "QA", "kuwait": "KW", "کویت": "KW", "الكويت": "KW",
    "bahrain": "BH", "البحرين": "BH", "oman": "OM", "عمان": "OM", "عُمان": "OM",
    "iraq": "IQ", "عراق": "IQ", "العراق": "IQ", "egypt": "EG", "مصر": "EG",
    "jordan": "JO", "الأردن": "JO", "اردن": "JO", "lebanon": "LB", "لبنان": "LB",
    "syria": "SY", "سوريا": "SY", "سوریه": "SY", "turkey": "TR", "türkiye": "TR", "ترکیه": "TR",
    "afghanistan": "AF", "افغانستان": "AF", "pakistan": "PK", "پاکستان": "PK",
    "india": "IN", "هند": "IN", "china": "CN", "چین": "CN", "japan": "JP", "ژاپن": "JP",
    "germany": "DE", "deutschland": "DE", "آلمان": "DE", "ألمانيا": "DE",
    "france": "FR", "فرانسه": "FR", "فرنسا": "FR", "italy": "IT", "spain": "ES",
    "netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "sweden": "SE", "norway": "NO", "norge": "NO", "denmark": "DK", "finland": "FI",
    "poland": "PL", "polska": "PL", "russia": "RU", "روسیه": "RU", "ukraine": "UA",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "انگلستان": "GB", "انگلیس": "GB", "بريطانيا": "GB", "المملكة المتحدة": "GB",
    "united states": "US", "united states of america": "US", "usa": "US", "u s a": "US",
    "us": "US", "america": "US", "آمریکا": "US", "امریکا": "US", "الولايات المتحدة": "US",
    "canada": "CA", "کانادا": "CA", "كندا": "CA", "mexico": "MX", "brazil": "BR",
    "australia": "AU", "استرالیا": "AU", "kenya": "KE", "philipines": "PH",
    "philippines": "PH", "korea": "KR", "south korea": "KR", "belgique": "BE",
}  # fmt: skip
_COUNTRY_INDEX = {header_key(k): v for k, v in COUNTRY_NAMES.items()}


def parse_country(text: str) -> str:
    raw = (text or "").strip()
    if not raw:
        return ""
    if re.fullmatch(r"[A-Za-z]{2}", raw):
        return raw.upper()
    code = _COUNTRY_INDEX.get(header_key(raw))
    if code is None:
        raise ValueError(
            _("Unknown country “%(value)s”: use a two-letter code such as IR or AE.")
            % {"value": raw[:40]}
        )
    return code


def split_full_name(text: str) -> tuple[str, str]:
    """First and last name from one column: the last word is the family name, except
    Persian/Arabic compound prefixes (ال, آل, ابن/بن, عبد) that bind to the next word."""
    words = (text or "").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in {"آل", "ال", "بن", "ابن", "بنت", "Al", "al", "bin", "Bin"}:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])
