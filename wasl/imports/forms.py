"""Forms of the import, merge and export pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wasl.core.forms import BootstrapFormMixin
from wasl.imports import mapping as m
from wasl.imports.models import OnDuplicate, Target

ENCODINGS = [
    ("", _("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("utf-16", "UTF-16"),
    ("windows-1256", _("Windows-1256 (Arabic, Persian)")),
    ("windows-1252", _("Windows-1252 (Western)")),
    ("iso-8859-6", "ISO-8859-6"),
    ("cp720", "DOS-720"),
    ("mac-arabic", _("Mac Arabic")),
]
DELIMITERS = [
    ("", _("Detect automatically")),
    (",", _("Comma ,")),
    (";", _("Semicolon ;")),
    ("\t", _("Tab")),
    ("|", _("Bar |")),
]
CALENDARS = [
    ("gregorian", _("Gregorian")),
    ("jalali", _("Jalali (Persian)")),
    ("hijri", _("Hijri (Umm al-Qura)")),
]
DATE_ORDERS = [("dmy", _("Day before month")), ("mdy", _("Month before day"))]
MATCH_ON = [
    ("email", _("E-mail")),
    ("phone", _("Phone")),
    ("name", _("Name and company")),
]
EXPORT_FORMATS = [("csv", "CSV"), ("xlsx", "XLSX (Excel)"), ("vcf", "vCard")]
EXPORT_DATES = [("user", _("In my calendar")), ("iso", _("ISO (YYYY-MM-DD)"))]
ENTITY_TARGETS = {
    "contact": "contacts",
    "company": "companies",
    "lead": "leads",
    "deal": "deals",
    "activity": "activities",
    "product": "products",
}


class UploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV, Excel (XLSX), vCard (.vcf) from a phone or mail program, or a calendar "
            "(.ics) as activities."
        ),
    )
    target = forms.ChoiceField(label=_("Import as"), choices=Target.choices)
    encoding = forms.ChoiceField(
        label=_("Text encoding"),
        choices=ENCODINGS,
        required=False,
        help_text=_("For CSV files; the encoding is detected unless you choose one."),
    )
    delimiter = forms.ChoiceField(label=_("Column separator"), choices=DELIMITERS, required=False)


class SheetForm(forms.Form):
    sheet = forms.CharField(label=_("Sheet"), max_length=120)


class MappingForm(BootstrapFormMixin, forms.Form):
    """The column → field selects (one per header, `col_<n>`) and the import options."""

    saved_name = forms.CharField(
        label=_("Save this mapping as"),
        max_length=120,
        required=False,
        help_text=_("Leave empty not to save it. Saving a name again replaces that mapping."),
    )
    calendar = forms.ChoiceField(label=_("Dates in the file are"), choices=CALENDARS)
    date_order = forms.ChoiceField(label=_("Day and month order"), choices=DATE_ORDERS)
    tag_separators = forms.CharField(
        label=_("Tag separators"),
        max_length=12,
        required=False,
        strip=False,
        help_text=_("Any of these characters splits a cell into several tags."),
    )
    default_owner = forms.ChoiceField(
        label=_("Owner of rows without one"),
        choices=(),
        required=False,
        help_text=_("Owners in the file are matched by user name, e-mail or full name."),
    )
    owner_map = forms.CharField(
        label=_("Owner names in the file"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_("One per line: a name as written in the file = a user name or e-mail."),
    )
    match_on = forms.MultipleChoiceField(
        label=_("A row is a duplicate when it has the same"),
        choices=MATCH_ON,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    on_duplicate = forms.ChoiceField(
        label=_("When a row matches an existing record"),
        choices=OnDuplicate.choices,
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        target: str,
        custom: dict[str, str],
        people: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.target = target
        choices: list[tuple[str, Any]] = [("", _("— leave out —"))]
        for field, label in m.TARGET_FIELDS[target].items():
            choices.append((field, label))
            if field in ("email", "phone"):
                for kind, kind_label in (
                    ("work", _("work")),
                    ("home", _("home")),
                    ("mobile", _("mobile")),
                ):
                    choices.append((f"{field}:{kind}", f"{label} ({kind_label})"))
        for key, label in custom.items():
            choices.append((f"custom:{key}", label))
        self.column_names = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": index + 1},
                choices=choices,
                required=False,
            )
            self.column_names.append(name)
        self.fields["default_owner"].choices = [
            ("", _("Me")),
            *[(str(p.public_id), p.get_full_name() or p.username) for p in people],
        ]
        self.people = {str(p.public_id): p for p in people}
        self.fields["on_duplicate"].widget.attrs["class"] = "form-check-input"
        if target not in ("contacts", "companies", "leads"):
            del self.fields["match_on"]
        if target in ("products",):
            del self.fields["default_owner"]
            del self.fields["owner_map"]
            del self.fields["tag_separators"]

    def column_fields(self) -> list[tuple[str, Any]]:
        return [
            (header, self[name])
            for header, name in zip(self.headers, self.column_names, strict=True)
        ]

    def columns(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(name) or ""
            for header, name in zip(self.headers, self.column_names, strict=True)
        }

    def clean_owner_map(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for number, line in enumerate((self.cleaned_data.get("owner_map") or "").splitlines()):
            if not line.strip():
                continue
            source, sep, user = line.partition("=")
            if not sep or not source.strip() or not user.strip():
                raise forms.ValidationError(
                    _("Line %(n)s: write “name in the file = user”.") % {"n": number + 1}
                )
            table[source.strip()] = user.strip()
        return table

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        options: dict[str, Any] = {
            "calendar": data["calendar"],
            "date_order": data["date_order"],
            "on_duplicate": data["on_duplicate"],
        }
        if data.get("tag_separators"):
            options["tag_separators"] = data["tag_separators"]
        if "match_on" in self.fields:
            options["match_on"] = list(data.get("match_on") or []) or ["email", "phone", "name"]
        owner = self.people.get(data.get("default_owner") or "")
        if owner is not None:
            options["default_owner_id"] = owner.pk
        if data.get("owner_map"):
            options["value_maps"] = {"owner": data["owner_map"]}
        return options

    @staticmethod
    def initial_from(
        headers: list[str], columns: dict[str, str], options: dict[str, Any], people: list[Any]
    ) -> dict[str, Any]:
        initial: dict[str, Any] = {
            f"col_{i}": columns.get(header, "") for i, header in enumerate(headers)
        }
        owner_pk = options.get("default_owner_id")
        owner = next((p for p in people if p.pk == owner_pk), None)
        owners = (options.get("value_maps") or {}).get("owner") or {}
        initial.update(
            calendar=options.get("calendar") or "gregorian",
            date_order=options.get("date_order") or "dmy",
            tag_separators=options.get("tag_separators") or m.DEFAULT_TAG_SEPARATORS,
            match_on=list(options.get("match_on") or ["email", "phone", "name"]),
            on_duplicate=options.get("on_duplicate") or "skip",
            default_owner=str(owner.public_id) if owner else "",
            owner_map="\n".join(f"{k} = {v}" for k, v in owners.items()),
        )
        return initial


class MergeForm(forms.Form):
    """The survivor and, per field, the record whose value is kept (`field_<name>`)."""

    survivor = forms.ChoiceField(label=_("Keep this record"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, records: list[Any], fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [(str(r.public_id), str(r)) for r in records]
        self.fields["survivor"].choices = ids
        self.merge_fields = fields
        for name in fields:
            self.fields[f"field_{name}"] = forms.ChoiceField(choices=ids, required=False)

    def field_choices(self) -> dict[str, str]:
        return {
            name: value
            for name in self.merge_fields
            if (value := self.cleaned_data.get(f"field_{name}"))
        }


class ExportForm(forms.Form):
    entity = forms.ChoiceField(choices=[(k, k) for k in ENTITY_TARGETS])
    format = forms.ChoiceField(label=_("Format"), choices=EXPORT_FORMATS)
    dates = forms.ChoiceField(label=_("Dates"), choices=EXPORT_DATES, required=False)
    q = forms.CharField(required=False, max_length=4000)
