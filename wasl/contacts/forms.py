"""Forms of the contact and company pages, custom fields included.

Forms only parse what the user typed; the services validate and write. Their errors come
back on the form with `listing_ui.add_service_errors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wasl.contacts.models import CustomFieldDefinition, ImportantDate, Source
from wasl.core.forms import BootstrapFormMixin, CalendarDateField

Kind = CustomFieldDefinition.Kind
# Persian and Arabic-Indic digits typed into number fields.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬", "01234567890123456789.,")
CUSTOM_PREFIX = "custom_"


def split_lines(value: str) -> list[str]:
    """E-mails, phones or tags typed one per line or separated by commas."""
    parts = (value or "").replace("،", ",").replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


def _choice_label(choice: dict[str, Any], language: str) -> str:
    return str(choice.get(language) or choice.get("en") or choice.get("value"))


def custom_field(definition: CustomFieldDefinition) -> forms.Field:
    """A form field for one custom field definition, labelled in the user's language."""
    language = (get_language() or "en").split("-")[0]
    options: dict[str, Any] = {"label": definition.label, "required": definition.required}
    kind = definition.kind
    if kind == Kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **options)
    if kind == Kind.DATE:
        return CalendarDateField(**options)
    if kind in (Kind.CHOICE, Kind.MULTI_CHOICE):
        choices = [
            (str(c.get("value")), _choice_label(c, language))
            for c in definition.choices
            if isinstance(c, dict)
        ]
        if kind == Kind.CHOICE:
            return forms.ChoiceField(choices=[("", "—"), *choices], **options)
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **options
        )
    if kind == Kind.BOOLEAN:
        return forms.ChoiceField(
            choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))], **options
        )
    attrs: dict[str, str] = {}
    if kind in (Kind.NUMBER, Kind.MONEY):
        attrs = {"inputmode": "decimal", "dir": "ltr"}
    elif kind in (Kind.URL, Kind.EMAIL, Kind.PHONE):
        attrs = {"dir": "ltr", "type": {"url": "url", "email": "email", "phone": "tel"}[kind]}
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **options)


def custom_initial(definition: CustomFieldDefinition, value: Any) -> Any:
    if value in (None, ""):
        return None
    if definition.kind == Kind.DATE:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return None
    if definition.kind == Kind.BOOLEAN:
        return "true" if value is True else "false"
    return value


class CustomFieldsForm(BootstrapFormMixin, forms.Form):
    """A form with one field per active custom field definition of its record type,
    named `custom_<key>`."""

    def __init__(
        self,
        *args: Any,
        definitions: Iterable[CustomFieldDefinition] = (),
        custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.definitions = list(definitions)
        initial = kwargs.setdefault("initial", {})
        for definition in self.definitions:
            initial.setdefault(
                CUSTOM_PREFIX + definition.key,
                custom_initial(definition, (custom or {}).get(definition.key)),
            )
        # The fields must exist before BootstrapFormMixin styles them.
        self.base_fields = {
            **type(self).base_fields,
            **{CUSTOM_PREFIX + d.key: custom_field(d) for d in self.definitions},
        }
        super().__init__(*args, **kwargs)

    @property
    def custom_field_names(self) -> list[str]:
        return [CUSTOM_PREFIX + d.key for d in self.definitions]

    def custom_values(self) -> dict[str, Any]:
        """The cleaned custom values in the services' form (empty values clear)."""
        values: dict[str, Any] = {}
        for definition in self.definitions:
            value = self.cleaned_data.get(CUSTOM_PREFIX + definition.key)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, str) and definition.kind in (Kind.NUMBER, Kind.MONEY):
                value = value.translate(_DIGITS).strip()
            values[definition.key] = value if value not in (None, []) else ""
        return values


def _owner_choices(people: Iterable[Any]) -> list[tuple[str, str]]:
    return [(str(p.public_id), str(p)) for p in people]


class ContactForm(CustomFieldsForm):
    first_name = forms.CharField(label=_("First name"), max_length=120, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=120, required=False)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        help_text=_("The name of a company you can see."),
    )
    emails = forms.CharField(
        label=_("E-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "ltr"}),
        help_text=_("One per line."),
    )
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "ltr"}),
        help_text=_("One per line."),
    )
    birthday = CalendarDateField(label=_("Birthday"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), choices=())
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    source = forms.ChoiceField(label=_("Source"), choices=(), required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=120, required=False)
    street = forms.CharField(label=_("Street"), max_length=300, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    region = forms.CharField(label=_("Province or state"), max_length=120, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, help_text=_("Two letters, e.g. IR.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, people: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _owner_choices(people)
        self.fields["source"].choices = [("", "—"), *Source.choices]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "title": data["title"],
            "birthday": data["birthday"],
            "website": data["website"],
            "industry": data["industry"],
            "source": data["source"],
            "notes": data["notes"],
            "street": data["street"],
            "city": data["city"],
            "region": data["region"],
            "postal_code": data["postal_code"],
            "country": data["country"].upper(),
            "emails": split_lines(data["emails"]),
            "phones": split_lines(data["phones"]),
            "tags": split_lines(data["tags"]),
            "custom": self.custom_values(),
        }


class CompanyForm(CustomFieldsForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    emails = ContactForm.base_fields["emails"]
    phones = ContactForm.base_fields["phones"]
    owner = forms.ChoiceField(label=_("Owner"), choices=())
    tags = ContactForm.base_fields["tags"]
    source = forms.ChoiceField(label=_("Source"), choices=(), required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=120, required=False)
    street = forms.CharField(label=_("Street"), max_length=300, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    region = forms.CharField(label=_("Province or state"), max_length=120, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = ContactForm.base_fields["country"]
    notes = ContactForm.base_fields["notes"]

    def __init__(self, *args: Any, people: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _owner_choices(people)
        self.fields["source"].choices = [("", "—"), *Source.choices]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "website": data["website"],
            "industry": data["industry"],
            "source": data["source"],
            "notes": data["notes"],
            "street": data["street"],
            "city": data["city"],
            "region": data["region"],
            "postal_code": data["postal_code"],
            "country": data["country"].upper(),
            "emails": split_lines(data["emails"]),
            "phones": split_lines(data["phones"]),
            "tags": split_lines(data["tags"]),
            "custom": self.custom_values(),
        }


class ContactInlineForm(BootstrapFormMixin, forms.Form):
    """The quick-add row at the top of the contacts list."""

    first_name = forms.CharField(label=_("First name"), max_length=120, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=120, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput({"dir": "ltr"})
    )
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False, widget=forms.TextInput({"dir": "ltr"})
    )


class CompanyInlineForm(BootstrapFormMixin, forms.Form):
    """The quick-add row at the top of the companies list."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = ContactInlineForm.base_fields["phone"]
    website = forms.CharField(
        label=_("Website"), max_length=300, required=False, widget=forms.TextInput({"dir": "ltr"})
    )


class ImportantDateForm(BootstrapFormMixin, forms.Form):
    """One important date (contract end, renewal, …); a row left empty is ignored."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", "—"), *ImportantDate.Kind.choices]
    )
    date = CalendarDateField(label=_("Date"), required=False)
    label = forms.CharField(label=_("Label"), required=False, max_length=120)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("kind") or data.get("label")) and not data.get("date"):
            self.add_error("date", _("Give a kind and a date."))
        elif data.get("date") and not data.get("kind"):
            self.add_error("kind", _("Give a kind and a date."))
        return data


ImportantDateFormSet = forms.formset_factory(ImportantDateForm, extra=2, max_num=20)


def important_dates_formset(data: Any = None, record: Any = None) -> Any:
    """The important-dates rows of a contact or company form: the record's dates, then two
    empty rows; clearing a row removes its date. A post without the rows (an older form, a
    script) leaves the dates alone."""
    initial = (
        [{"kind": d.kind, "date": d.date, "label": d.label} for d in record.important_dates.all()]
        if record is not None
        else []
    )
    posted = data is not None and "dates-TOTAL_FORMS" in data
    return ImportantDateFormSet(data if posted else None, initial=initial, prefix="dates")


def important_dates_valid(formset: Any) -> bool:
    return formset.is_valid() if formset.is_bound else True


def important_dates_from(formset: Any) -> list[dict[str, Any]] | None:
    """The filled rows of a valid formset in the services' form; None when not posted."""
    if not formset.is_bound:
        return None
    return [
        {
            "kind": f.cleaned_data["kind"],
            "date": f.cleaned_data["date"],
            "label": f.cleaned_data["label"],
        }
        for f in formset.forms
        if f.cleaned_data.get("kind") and f.cleaned_data.get("date")
    ]
