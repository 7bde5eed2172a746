"""Reading import files as a header and a stream of rows: CSV, XLSX and vCard.

Every reader streams: memory does not grow with the file. Anything that makes a file
unreadable (unknown encoding, broken zip, not a table) raises `UnreadableFile` with one
line that says why, never a traceback.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

SAMPLE_BYTES = 256 * 1024
# A single CSV cell larger than this is refused (an embedded image, a runaway quote).
MAX_FIELD = 8 * 1024 * 1024
DELIMITERS = ",;\t|"
# Tried, in order, when a file is not UTF-8 and has no byte-order mark.
LEGACY_ENCODINGS = ("cp1256", "cp1252", "iso8859_6", "cp720", "shift_jis", "cp1251", "latin_1")

csv.field_size_limit(MAX_FIELD)


class UnreadableFile(Exception):
    """The file cannot be read as a table; `message` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """An open import file: its header and its data rows as lists of strings."""

    file_format: str
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number in the file, cells)
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self._closers:
            # Closing a reader must never mask the import's own result.
            with contextlib.suppress(Exception):
                closer.close()


# ---------------------------------------------------------------- format and encoding

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            if name == "utf-16":
                return _utf32_after_utf16_bom(head) or name
            return name
    return None


def _utf32_after_utf16_bom(head: bytes) -> str | None:
    """Some Java tools write a two-byte UTF-16 mark (of either byte order) and then
    UTF-32 text; tell which UTF-32 it is from the zero bytes."""
    body = head[2:66]
    units = [body[i : i + 4] for i in range(0, len(body) - 3, 4)]
    if len(units) < 4:
        return None
    if all(u[:2] == b"\x00\x00" and u[2:] != b"\x00\x00" for u in units):
        return "utf-32-be"
    if all(u[2:] == b"\x00\x00" and u[:2] != b"\x00\x00" for u in units):
        return "utf-32-le"
    return None


def bom_length(head: bytes, encoding: str) -> int:
    """Bytes to skip before decoding with `encoding` (a mark the codec would not eat)."""
    if encoding in {"utf-32-be", "utf-32-le"} and head[:2] in (
        codecs.BOM_UTF16_BE,
        codecs.BOM_UTF16_LE,
    ):
        return 2
    if encoding in {"utf-16-le", "utf-16-be"} and head[:2] in (
        codecs.BOM_UTF16_BE,
        codecs.BOM_UTF16_LE,
    ):
        return 2
    return 0


def _arabic_share(text: str) -> float:
    high = [c for c in text if ord(c) > 127]
    if not high:
        return 0.0
    return sum(1 for c in high if "\u0600" <= c <= "\u06ff") / len(high)


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes: BOM, UTF-8, UTF-16 without a BOM,
    else the legacy code page that reads it best (Windows-1256 for Arabic script)."""
    bom = _bom_encoding(sample)
    if bom:
        return bom
    if b"\x00" in sample:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        if odd > len(sample) // 4 and even < odd // 4:
            return "utf-16-le"
        if even > len(sample) // 4 and odd < even // 4:
            return "utf-16-be"
        raise UnreadableFile(_("This is not a text file (it contains binary data)."))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample[:65536], cp_isolation=list(LEGACY_ENCODINGS)).best()
    except Exception:
        best = None
    candidate = best.encoding if best is not None else None
    # Arabic and Persian text in Windows-1256 is often mistaken for a Latin code page
    # (every byte decodes); read as 1256 it is mostly Arabic letters.
    try:
        if _arabic_share(sample.decode("cp1256")) > 0.6:
            return "cp1256"
    except UnicodeDecodeError:
        pass
    if candidate:
        return candidate
    for name in LEGACY_ENCODINGS:
        try:
            sample.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    return "latin_1"


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as error:
        raise UnreadableFile(_("Unknown encoding “%(name)s”.") % {"name": name[:40]}) from error


def guess_format(head: bytes, filename: str = "") -> str:
    suffix = Path(filename or "").suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(_("Old Excel (.xls) files are not supported; save as .xlsx or CSV."))
    if suffix in {".vcf", ".vcard"}:
        return "vcf"
    if suffix in {".ics", ".ical", ".ifb"}:
        return "ics"
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    encoding = _bom_encoding(head) or ("utf-16-le" if head[1:2] == b"\x00" else "utf-8")
    text = head[:4096].decode(encoding, errors="ignore").lstrip("\ufeff").lstrip().upper()
    if text.startswith("BEGIN:VCARD"):
        return "vcf"
    if text.startswith("BEGIN:VCALENDAR"):
        return "ics"
    return "csv"


def open_table(
    path: str | Path,
    *,
    filename: str = "",
    encoding: str = "",
    sheet: str = "",
    delimiter: str = "",
) -> Table:
    """Open an import file (CSV, XLSX, vCard or iCalendar, told by content and name).

    Raises UnreadableFile with a one-line reason."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except OSError as error:
        raise UnreadableFile(
            _("Cannot open the file: %(reason)s.") % {"reason": error.strerror or error}
        ) from error
    if not head:
        raise UnreadableFile(_("The file is empty."))
    file_format = guess_format(head, filename or str(path))
    if file_format == "xlsx":
        return _open_xlsx(path, sheet)
    if file_format == "ics":
        from wasl.imports.ical import open_ics  # reads tables of this module's shape

        return open_ics(path)
    chosen = _check_encoding(encoding) if encoding else detect_encoding(head)
    if file_format == "vcf":
        return _open_vcard(path, chosen)
    return _open_csv(path, head, chosen, delimiter)


# ---------------------------------------------------------------- CSV


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS)
        found = str(dialect.delimiter)
        if found in DELIMITERS:
            return found
    except csv.Error:
        pass
    best, best_score = ",", 0
    for candidate in DELIMITERS:
        counts = [next(csv.reader([line], delimiter=candidate), []).__len__() for line in lines]
        if counts[0] > 1:
            score = sum(1 for c in counts if c == counts[0]) * counts[0]
            if score > best_score:
                best, best_score = candidate, score
    return best


def _clean_headers(raw: list[str]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(raw):
        name = " ".join(str(value or "").replace("\ufeff", "").split())[:200]
        name = name or _("Column %(n)d") % {"n": index + 1}
        count = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = count
        headers.append(name if count == 1 else f"{name} ({count})")
    return headers


def _decode_error(error: UnicodeDecodeError, encoding: str) -> UnreadableFile:
    return UnreadableFile(
        _("The file is not valid %(encoding)s text; choose its encoding (e.g. windows-1256).")
        % {"encoding": encoding}
    )


def _open_csv(path: str | Path, head: bytes, encoding: str, delimiter: str) -> Table:
    skip = bom_length(head, encoding)
    try:
        sample = head[skip:].decode(
            encoding, errors="ignore" if len(head) == SAMPLE_BYTES else "strict"
        )
    except UnicodeDecodeError as error:
        raise _decode_error(error, encoding) from error
    sample = sample.lstrip("\ufeff")
    chosen = delimiter or _sniff_delimiter(sample)
    if chosen == "\\t":
        chosen = "\t"
    raw = open(path, "rb")  # noqa: SIM115 - closed by Table.close()
    raw.read(skip)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    reader = csv.reader(text, delimiter=chosen)
    header_row: list[str] | None = None
    line = 0
    try:
        for cells in reader:
            line += 1
            if any(c.strip() for c in cells):
                header_row = cells
                break
    except UnicodeDecodeError as error:
        text.close()
        raise _decode_error(error, encoding) from error
    except csv.Error as error:
        text.close()
        raise UnreadableFile(
            _("Line %(line)d: %(reason)s.") % {"line": line + 1, "reason": error}
        ) from error
    if header_row is None:
        text.close()
        raise UnreadableFile(_("The file has no header row."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = line
        try:
            for cells in reader:
                number += 1
                if cells and any(c.strip() for c in cells):
                    yield number, cells
        except UnicodeDecodeError as error:
            raise _decode_error(error, encoding) from error
        except csv.Error as error:
            raise UnreadableFile(
                _("Line %(line)d: %(reason)s.") % {"line": number + 1, "reason": error}
            ) from error

    return Table(
        file_format="csv",
        headers=_clean_headers(header_row),
        rows=rows(),
        encoding=encoding,
        delimiter=chosen,
        _closers=[text],
    )


# ---------------------------------------------------------------- XLSX


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text an import reads."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _open_xlsx(path: str | Path, sheet: str) -> Table:
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise UnreadableFile(_("This is not a readable XLSX workbook.")) from error
    except Exception as error:
        raise UnreadableFile(_("This is not a readable XLSX workbook.")) from error
    names = list(workbook.sheetnames)
    if not names:
        workbook.close()
        raise UnreadableFile(_("The workbook has no sheet."))
    chosen = sheet or names[0]
    if chosen not in names:
        workbook.close()
        raise UnreadableFile(
            _("There is no sheet named “%(sheet)s”; the sheets are: %(names)s.")
            % {"sheet": chosen[:60], "names": ", ".join(names)}
        )
    iterator = workbook[chosen].iter_rows(values_only=True)
    header_row: list[str] | None = None
    number = 0
    try:
        for values in iterator:
            number += 1
            cells = [cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                header_row = cells
                break
    except Exception as error:
        workbook.close()
        raise UnreadableFile(_("This is not a readable XLSX workbook.")) from error
    if header_row is None:
        workbook.close()
        raise UnreadableFile(_("The sheet “%(sheet)s” is empty.") % {"sheet": chosen[:60]})
    while header_row and not header_row[-1].strip():
        header_row.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = number
        try:
            for values in iterator:
                line += 1
                cells = [cell_text(v) for v in values]
                if any(c.strip() for c in cells):
                    yield line, cells
        except Exception as error:
            raise UnreadableFile(
                _("Row %(row)d of the workbook cannot be read.") % {"row": line + 1}
            ) from error

    return Table(
        file_format="xlsx",
        headers=_clean_headers(header_row),
        rows=rows(),
        sheets=names,
        sheet=chosen,
        _closers=[workbook],
    )


def list_sheets(path: str | Path) -> list[str]:
    """The sheet names of a workbook (empty for other files)."""
    with open(path, "rb") as handle:
        if not handle.read(4).startswith(b"PK\x03\x04"):
            return []
    table = _open_xlsx(path, "")
    table.close()
    return table.sheets


# ---------------------------------------------------------------- vCard

VCARD_FIXED = [
    "Full name",
    "First name",
    "Last name",
    "Middle name",
    "Prefix",
    "Suffix",
    "Organisation",
    "Department",
    "Title",
    "Street",
    "City",
    "Region",
    "Postal code",
    "Country",
    "Birthday",
    "Note",
    "Website",
    "Categories",
]
_PHONE_LABELS = {
    "cell": "mobile",
    "mobile": "mobile",
    "iphone": "mobile",
    "home": "home",
    "work": "work",
    "fax": "fax",
    "pager": "other",
}
_PROPERTY_NAME = re.compile(r"^(?:[A-Za-z0-9\-]+\.)?([A-Za-z][A-Za-z0-9\-_]*)$")


def _split_property(line: str) -> tuple[str, str, str] | None:
    """(NAME, ";params", value) of a content line; the first colon outside quotes ends the
    parameters. None when the line is not a property."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1 :]
            name, _semi, params = head.partition(";")
            match = _PROPERTY_NAME.match(name.strip())
            if not match:
                return None
            return match.group(1).upper(), params, value
    return None


@dataclass
class _Card:
    values: dict[str, str] = field(default_factory=dict)
    phones: list[tuple[str, str]] = field(default_factory=list)
    emails: list[tuple[str, str]] = field(default_factory=list)


def _split_params(text: str) -> list[str]:
    params: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            params.append("".join(current))
            current = []
            continue
        current.append(char)
    params.append("".join(current))
    return [p for p in params if p]


def _parse_params(text: str) -> tuple[set[str], dict[str, str]]:
    types: set[str] = set()
    named: dict[str, str] = {}
    for param in _split_params(text):
        if "=" in param:
            key, _eq, value = param.partition("=")
            key = key.strip().upper()
            value = value.strip().strip('"')
            named[key] = value
            if key == "TYPE":
                types.update(v.strip().lower() for v in value.split(",") if v.strip())
        else:
            word = param.strip()
            upper = word.upper()
            if upper in {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT"}:
                named["ENCODING"] = upper
            else:
                types.add(word.lower())
    return types, named


def _recode(value: str, charset: str, fallback: str) -> str:
    data = value.encode("latin-1", errors="replace")
    for name in (charset, fallback, "cp1252"):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _decode_qp(value: str, charset: str) -> str:
    data = bytearray()
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8")
    index = 0
    while index < len(raw):
        byte = raw[index]
        if byte == 0x3D and index + 2 < len(raw) + 0:
            pair = raw[index + 1 : index + 3]
            try:
                data.append(int(pair, 16))
                index += 3
                continue
            except ValueError:
                pass
        data.append(byte)
        index += 1
    for name in (charset or "utf-8", "utf-8", "cp1252"):
        try:
            return bytes(data).decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return bytes(data).decode("latin-1")


_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}


def _split_escaped(value: str, separator: str = ";") -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(_ESCAPES.get(value[index + 1], value[index + 1]))
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    return _split_escaped(value, "\x00")[0]


def _vcard_date(value: str) -> str:
    text = value.strip()
    match = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})", text)
    if match:
        return "-".join(match.groups())
    return ""


def _logical_lines(text: str) -> Iterator[str]:
    """Unfold: a line starting with a space or tab continues the previous one; a
    quoted-printable value ending in `=` continues on the next line."""
    pending: str | None = None
    qp_open = False
    in_base64 = False
    for line in text.splitlines():
        if pending is not None and qp_open:
            pending = pending[:-1] + line.lstrip(" \t") if pending.endswith("=") else pending
            qp_open = pending.endswith("=")
            continue
        if line[:1] in (" ", "\t") and pending is not None:
            pending += line[1:]
            continue
        if in_base64 and pending is not None:
            # vCard 2.1 base64 may continue on lines without indentation, up to a blank line.
            if not line.strip():
                in_base64 = False
                continue
            if _split_property(line) is None:
                continue
            in_base64 = False
        if pending is not None:
            yield pending
        if not line.strip() or line.startswith("#"):
            pending = None
            continue
        pending = line
        head = line.split(":", 1)[0].upper()
        qp_open = "QUOTED-PRINTABLE" in head and line.endswith("=")
        in_base64 = ("BASE64" in head or "ENCODING=B" in head) and (
            "PHOTO" in head or "LOGO" in head
        )
    if pending is not None:
        yield pending


def _read_cards(text: str, raw_encoding: str = "") -> Iterator[_Card]:
    """Cards of a vCard text. With `raw_encoding`, `text` holds the file's bytes as
    Latin-1 and each value is decoded with its CHARSET parameter (else that encoding)."""
    stack: list[_Card] = []
    for line in _logical_lines(text):
        parts = _split_property(line)
        if parts is None:
            continue
        name, params_text, value = parts
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            stack.append(_Card())
            continue
        if not stack:
            continue
        card = stack[-1]
        if name == "END" and value.strip().upper() == "VCARD":
            yield stack.pop()
            continue
        if name in {"PHOTO", "LOGO", "SOUND", "KEY", "AGENT"}:
            continue
        types, named = _parse_params(params_text)
        charset = named.get("CHARSET", "") or raw_encoding or "utf-8"
        if named.get("ENCODING", "").upper() in {"QUOTED-PRINTABLE", "QP"}:
            value = _decode_qp(value, charset)
        elif named.get("ENCODING", "").upper() in {"BASE64", "B"}:
            continue
        elif raw_encoding:
            value = _recode(value, charset, raw_encoding)
        _apply_property(card, name, types, value)
    while stack:
        yield stack.pop()


def _apply_property(card: _Card, name: str, types: set[str], value: str) -> None:
    values = card.values
    if name == "FN":
        values.setdefault("Full name", _unescape(value).strip())
    elif name == "N":
        parts = [*_split_escaped(value), "", "", "", "", ""]
        if "Last name" not in values and "First name" not in values:
            values["Last name"] = parts[0].strip()
            values["First name"] = parts[1].strip()
            values["Middle name"] = parts[2].strip()
            values["Prefix"] = parts[3].strip()
            values["Suffix"] = parts[4].strip()
    elif name == "ORG":
        parts = _split_escaped(value)
        values.setdefault("Organisation", parts[0].strip())
        if len(parts) > 1 and parts[1].strip():
            values.setdefault("Department", parts[1].strip())
    elif name == "TITLE":
        values.setdefault("Title", _unescape(value).strip())
    elif name == "TEL":
        number = _unescape(value).strip()
        if number.lower().startswith("tel:"):
            number = number[4:]
        label = next((_PHONE_LABELS[t] for t in types if t in _PHONE_LABELS), "")
        if "fax" in types:
            label = "fax"
        if number:
            card.phones.append((label, number))
    elif name == "EMAIL":
        address = _unescape(value).strip()
        if address.lower().startswith("mailto:"):
            address = address[7:]
        label = "work" if "work" in types else "home" if "home" in types else ""
        if address:
            card.emails.append((label, address))
    elif name == "ADR":
        if "Street" in values or "City" in values:
            return
        parts = [*_split_escaped(value), "", "", "", "", "", "", ""]
        street = " ".join(p.strip() for p in (parts[0], parts[1], parts[2]) if p.strip())
        values["Street"] = street.replace("\n", ", ")
        values["City"] = parts[3].strip()
        values["Region"] = parts[4].strip()
        values["Postal code"] = parts[5].strip()
        values["Country"] = parts[6].strip()
    elif name == "BDAY":
        values.setdefault("Birthday", _vcard_date(value))
    elif name == "NOTE":
        values.setdefault("Note", _unescape(value).strip())
    elif name == "URL":
        values.setdefault("Website", _unescape(value).strip())
    elif name == "CATEGORIES":
        values.setdefault("Categories", ",".join(p.strip() for p in _split_escaped(value, ",")))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _label_header(kind: str, label: str, index: int) -> str:
    base = {"phone": _("Phone"), "email": _("E-mail")}[kind]
    name = f"{base} ({label})" if label else base
    return name if index == 1 else f"{name} {index}"


def _open_vcard(path: str | Path, encoding: str) -> Table:
    # Address books are small; the text is held once and read twice (widths, then rows).
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise UnreadableFile(str(error.strerror or error)) from error
    raw_encoding = ""
    if encoding.replace("_", "-").lower() in {"utf-8", "utf-8-sig", "utf8"}:
        text = data.decode("utf-8-sig", errors="strict") if _is_utf8(data) else None
        if text is None:
            raw_encoding, text = "cp1252", data.decode("latin-1")
    elif encoding.startswith("utf-16") or encoding.startswith("utf-32"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise _decode_error(error, encoding) from error
    else:
        # Legacy 8-bit files: each property may name its own CHARSET (Shift_JIS, 1256…).
        raw_encoding, text = encoding, data.decode("latin-1")
    text = text.lstrip("\ufeff")
    # First pass: how many phones and e-mails of each label the largest card has.
    widths: dict[tuple[str, str], int] = {}
    cards = 0
    for card in _read_cards(text, raw_encoding):
        cards += 1
        for kind, items in (("phone", card.phones), ("email", card.emails)):
            counts: dict[str, int] = {}
            for label, _value in items:
                counts[label] = counts.get(label, 0) + 1
            for label, count in counts.items():
                widths[(kind, label)] = max(widths.get((kind, label), 0), count)
    if not cards:
        raise UnreadableFile(_("The file holds no vCard (BEGIN:VCARD … END:VCARD)."))
    dynamic = [
        ((kind, label, index), _label_header(kind, label, index))
        for (kind, label), width in sorted(widths.items())
        for index in range(1, width + 1)
    ]
    headers = [*VCARD_FIXED, *(header for _key, header in dynamic)]

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, card in enumerate(_read_cards(text, raw_encoding), start=1):
            cells = [card.values.get(name, "") for name in VCARD_FIXED]
            slots: dict[tuple[str, str, int], str] = {}
            for kind, items in (("phone", card.phones), ("email", card.emails)):
                seen: dict[str, int] = {}
                for label, value in items:
                    seen[label] = seen.get(label, 0) + 1
                    slots[(kind, label, seen[label])] = value
            cells.extend(slots.get(key, "") for key, _header in dynamic)
            yield number, cells

    return Table(file_format="vcf", headers=headers, rows=rows(), encoding=encoding)


def sniff(path: str | Path, filename: str = "") -> dict[str, Any]:
    """What `open_table` would find, without reading the rows (for the upload page)."""
    table = open_table(path, filename=filename)
    try:
        return {
            "format": table.file_format,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "sheets": table.sheets,
            "headers": table.headers,
        }
    finally:
        table.close()
