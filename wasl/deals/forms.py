"""Forms of the deal pages: stage moves (with the won and lost details), the deal's fields
with its custom fields, and line items.

Forms only parse what the user typed; the services validate and write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wasl.contacts.models import CustomFieldDefinition
from wasl.contacts.selectors import contact_handle
from wasl.core.forms import (
    BootstrapFormMixin,
    CalendarDateField,
    CalendarDateInput,
    SuggestingTextInput,
)

Kind = CustomFieldDefinition.Kind
CUSTOM_PREFIX = "custom__"


def _label(definition: CustomFieldDefinition) -> str:
    language = (get_language() or "en")[:2]
    return getattr(definition, f"label_{language}", "") or definition.label_en


def _choice_label(choice: dict[str, Any]) -> str:
    language = (get_language() or "en")[:2]
    return str(choice.get(language) or choice.get("en") or choice.get("value"))


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    """A form field that reads one custom field's value as typed; the service checks it."""
    common: dict[str, Any] = {"label": _label(definition), "required": False}
    kind = definition.kind
    if kind == Kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (Kind.NUMBER, Kind.MONEY):
        return forms.DecimalField(**common)
    if kind == Kind.DATE:
        return CalendarDateField(**common)
    if kind == Kind.CHOICE:
        choices = [("", "—")] + [
            (str(c.get("value")), _choice_label(c))
            for c in definition.choices
            if isinstance(c, dict)
        ]
        return forms.ChoiceField(choices=choices, **common)
    if kind == Kind.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=[
                (str(c.get("value")), _choice_label(c))
                for c in definition.choices
                if isinstance(c, dict)
            ],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == Kind.BOOLEAN:
        return forms.NullBooleanField(
            widget=forms.Select(choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))]),
            **common,
        )
    if kind == Kind.EMAIL:
        return forms.CharField(widget=forms.EmailInput, **common)
    if kind == Kind.URL:
        return forms.CharField(widget=forms.URLInput, **common)
    if kind == Kind.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    return forms.CharField(**common)


def style_custom_fields(form: Any) -> None:
    """Bootstrap classes on the custom fields added after BootstrapFormMixin ran."""
    for key in form.custom_keys:
        widget = form.fields[CUSTOM_PREFIX + key].widget
        if isinstance(widget, CalendarDateInput):
            continue
        if isinstance(widget, forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = css


class CustomFieldsMixin:
    """Adds a field per custom field definition (`custom__<key>`) and gathers their values
    for the services (`custom_values()`); an emptied field clears the value."""

    def add_custom_fields(
        self, definitions: Iterable[CustomFieldDefinition], values: dict[str, Any]
    ) -> None:
        self.custom_keys: list[str] = []
        for definition in definitions:
            name = CUSTOM_PREFIX + definition.key
            self.fields[name] = custom_form_field(definition)  # type: ignore[attr-defined]
            value = values.get(definition.key)
            if definition.kind == Kind.DATE and isinstance(value, str):
                # Stored as ISO text; the calendar input shows a date in the user's calendar.
                with contextlib.suppress(ValueError):
                    value = dt.date.fromisoformat(value)
            self.initial.setdefault(name, value)  # type: ignore[attr-defined]
            self.custom_keys.append(definition.key)

    def custom_values(self) -> dict[str, Any]:
        data = self.cleaned_data  # type: ignore[attr-defined]
        values: dict[str, Any] = {}
        for key in self.custom_keys:
            value = data.get(CUSTOM_PREFIX + key)
            if isinstance(value, Decimal):
                value = str(value)
            values[key] = value if value is not None else ""
        return values

    def custom_bound_fields(self) -> list[Any]:
        return [self[CUSTOM_PREFIX + key] for key in self.custom_keys]  # type: ignore[index]

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Put a service's Invalid messages on the matching fields (others on the form)."""
        for name, problems in fields.items():
            field = name.removesuffix("_id")
            if name.startswith("custom."):
                field = CUSTOM_PREFIX + name.removeprefix("custom.")
            target = field if field in self.fields else None  # type: ignore[attr-defined]
            for problem in problems:
                self.add_error(target, problem)  # type: ignore[attr-defined]


class MoveForm(BootstrapFormMixin, CustomFieldsMixin, forms.Form):
    """A stage move; a lost stage takes a reason, a competitor and a note, a won stage the
    final amount."""

    stage = forms.CharField(widget=forms.HiddenInput)
    lost_reason = forms.ChoiceField(label=_("Why was it lost?"), required=False, choices=[])
    competitor = forms.CharField(
        label=_("Competitor who won it"),
        required=False,
        max_length=160,
        widget=forms.TextInput(attrs={"list": "wasl-competitors", "autocomplete": "off"}),
    )
    lost_note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    amount = forms.DecimalField(label=_("Final amount"), required=False, min_value=0)

    def __init__(self, *args: Any, reasons: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lost_reason"].choices = [("", _("Choose a reason"))] + [
            (str(r.public_id), r.name) for r in reasons
        ]


class DealForm(BootstrapFormMixin, CustomFieldsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=20, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
    expected_close = CalendarDateField(label=_("Expected close"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), choices=[])
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        owners: Iterable[Any] = (),
        definitions: Iterable[CustomFieldDefinition] = (),
        custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(str(u.public_id), str(u)) for u in owners]
        self.add_custom_fields(definitions, custom or {})
        style_custom_fields(self)

    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [name.strip() for name in raw.replace("،", ",").split(",") if name.strip()]


class LineItemForm(BootstrapFormMixin, forms.Form):
    product = forms.ChoiceField(label=_("Product"), required=False, choices=[])
    description = forms.CharField(label=_("Description"), required=False, max_length=300)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, initial=1)
    unit_price = forms.DecimalField(label=_("Unit price"), required=False, min_value=0)
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"), required=False, min_value=0, max_value=100, initial=0
    )

    def __init__(self, *args: Any, products: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", _("No product"))] + [
            (str(p.public_id), p.name) for p in products
        ]


class DealCreateForm(BootstrapFormMixin, forms.Form):
    """A new deal: the stage list holds each active pipeline's open and won stages (a deal
    is never created lost), the company is named as on the contact form."""

    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, max_digits=20, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3)
    stage = forms.ChoiceField(label=_("Pipeline and stage"), choices=[])
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        help_text=_("The name of a company you can see."),
    )
    contact = forms.CharField(
        label=_("Contact"),
        max_length=200,
        required=False,
        help_text=_("The name, e-mail or phone of a contact you can see."),
        widget=SuggestingTextInput(),
    )
    expected_close = CalendarDateField(label=_("Expected close"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), choices=[])

    def __init__(
        self,
        *args: Any,
        stages: Iterable[Any] = (),
        contacts: Iterable[Any] = (),
        owners: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
        for stage in stages:
            if stage.kind != "lost":
                group = groups.setdefault(stage.pipeline_id, (stage.pipeline.name, []))
                group[1].append((str(stage.public_id), stage.name))
        self.fields["stage"].choices = list(groups.values())
        self.fields["contact"].widget.options = [(contact_handle(c), str(c)) for c in contacts]
        self.fields["owner"].choices = [(str(u.public_id), str(u)) for u in owners]
        self.fields["currency"].widget.attrs.update({"dir": "ltr", "size": 3})


class QuickDealForm(DealCreateForm):
    """The list's inline create: title, amount, currency, stage and expected close; the
    actor owns the deal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("company", "contact", "owner"):
            del self.fields[name]


class DealContactForm(BootstrapFormMixin, forms.Form):
    """Link one more contact to a deal, named by name, e-mail or phone; the deal's
    company's contacts are suggested."""

    contact = forms.CharField(
        label=_("Add a contact"),
        max_length=200,
        help_text=_("The name, e-mail or phone of a contact you can see."),
        widget=SuggestingTextInput(),
    )

    def __init__(self, *args: Any, suggested: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].widget.options = [(contact_handle(c), str(c)) for c in suggested]
