"""Forms of the settings pages. They parse input only; the views hand it to a service."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wasl.contacts.models import CustomFieldDefinition
from wasl.core.errors import Invalid
from wasl.core.visibility import Role
from wasl.deals.models import Stage

CHOICE_KINDS = (CustomFieldDefinition.Kind.CHOICE, CustomFieldDefinition.Kind.MULTI_CHOICE)
NUMBER_KINDS = (CustomFieldDefinition.Kind.NUMBER, CustomFieldDefinition.Kind.MONEY)
TEXT_KINDS = (
    CustomFieldDefinition.Kind.TEXT,
    CustomFieldDefinition.Kind.LONG_TEXT,
    CustomFieldDefinition.Kind.URL,
    CustomFieldDefinition.Kind.EMAIL,
    CustomFieldDefinition.Kind.PHONE,
)


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and `is-invalid` plus `aria-invalid` on fields
    with errors once validated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            elif isinstance(widget, forms.TextInput) and widget.input_type == "color":
                css = "form-control form-control-color"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"

    def add_service_errors(self, error: Invalid, aliases: dict[str, str] | None = None) -> None:
        """Show a service's field errors beside the fields they name (others on top)."""
        aliases = aliases or {}
        for name, messages in error.fields.items():
            target = aliases.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
        self.mark_invalid()


# ---------------------------------------------------------------- pipelines and stages


class PipelineForm(StyledForm):
    name = forms.CharField(label=_("Pipeline name"), max_length=120)


class StageForm(StyledForm):
    name = forms.CharField(label=_("Stage name"), max_length=120)
    probability = forms.IntegerField(
        label=_("Win probability (%)"), min_value=0, max_value=100, required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Stage.Kind.choices, initial="open")


class StageOrderForm(forms.Form):
    """The stages of a pipeline, by public id, in their new order (from drag and drop)."""

    stage = forms.CharField(required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.ordered_ids: list[str] = list(data.getlist("stage")) if data is not None else []

    def clean(self) -> dict[str, Any]:
        if not self.ordered_ids:
            raise forms.ValidationError(_("List every stage of this pipeline once."))
        return super().clean() or {}


# ---------------------------------------------------------------- lost reasons


class LostReasonForm(StyledForm):
    name = forms.CharField(label=_("Reason"), max_length=160)


# ---------------------------------------------------------------- custom fields


def _choices_text(choices: list[dict[str, Any]]) -> str:
    lines = []
    for choice in choices or []:
        parts = [str(choice.get(k, "")) for k in ("value", "en", "fa", "ar")]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


class CustomFieldForm(StyledForm):
    """A custom field's definition. Choices are typed one a line:
    `value | English | Persian | Arabic` (the labels are optional)."""

    label_en = forms.CharField(label=_("Label (English)"), max_length=120)
    label_fa = forms.CharField(label=_("Label (Persian)"), max_length=120, required=False)
    label_ar = forms.CharField(label=_("Label (Arabic)"), max_length=120, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices_text = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text=_("One a line: value | English | Persian | Arabic"),
    )
    min_value = forms.DecimalField(label=_("Smallest value"), required=False)
    max_value = forms.DecimalField(label=_("Largest value"), required=False)
    max_length = forms.IntegerField(
        label=_("Longest text (characters)"), required=False, min_value=1, max_value=10000
    )
    pattern = forms.CharField(
        label=_("Pattern (regular expression)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind

    def field_kind(self) -> str:
        return self.kind or ""

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data.get("pattern") or ""
        if pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                raise forms.ValidationError(
                    _("The pattern is not a valid regular expression.")
                ) from error
        return pattern

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = self.field_kind()
        choices: list[dict[str, str]] = []
        seen: set[str] = set()
        for number, line in enumerate((data.get("choices_text") or "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            value = parts[0]
            if not value:
                self.add_error(
                    "choices_text", _("Line %(number)d has no value.") % {"number": number}
                )
                continue
            if value in seen:
                self.add_error(
                    "choices_text",
                    _("The value “%(value)s” is listed twice.") % {"value": value},
                )
                continue
            seen.add(value)
            choice = {"value": value}
            for key, label in zip(("en", "fa", "ar"), parts[1:4], strict=False):
                if label:
                    choice[key] = label
            choices.append(choice)
        if kind in CHOICE_KINDS and not choices and "choices_text" not in self.errors:
            self.add_error("choices_text", _("List the choices, one a line."))
        data["choices"] = choices if kind in CHOICE_KINDS else []
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", _("The largest value is below the smallest."))
        validation: dict[str, Any] = {}
        if kind in NUMBER_KINDS:
            for key, value in (("min", low), ("max", high)):
                if value is not None:
                    validation[key] = _json_number(value)
        if kind in TEXT_KINDS:
            if data.get("max_length"):
                validation["max_length"] = data["max_length"]
            if data.get("pattern"):
                validation["pattern"] = data["pattern"]
        data["validation"] = validation
        return data

    @classmethod
    def initial_for(cls, definition: CustomFieldDefinition) -> dict[str, Any]:
        validation = definition.validation or {}
        return {
            "label_en": definition.label_en,
            "label_fa": definition.label_fa,
            "label_ar": definition.label_ar,
            "required": definition.required,
            "choices_text": _choices_text(definition.choices),
            "min_value": validation.get("min"),
            "max_value": validation.get("max"),
            "max_length": validation.get("max_length"),
            "pattern": validation.get("pattern", ""),
        }


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class CustomFieldCreateForm(CustomFieldForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomFieldDefinition.Kind.choices)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
        help_text=_("Used in imports and the API: lowercase letters, digits and underscores."),
    )
    field_order = ["kind", "key", "label_en", "label_fa", "label_ar", "required"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        self.fields["kind"].widget.attrs["x-model"] = "kind"

    def field_kind(self) -> str:
        return str(self.cleaned_data.get("kind") or "")


# ---------------------------------------------------------------- tags


class TagForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=80)
    color = forms.CharField(
        label=_("Colour"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"type": "color"}),
    )

    def clean_color(self) -> str:
        color = (self.cleaned_data.get("color") or "").strip()
        if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise forms.ValidationError(_("Choose a colour."))
        return color


# ---------------------------------------------------------------- users and teams


def _team_choices(teams: Any) -> list[tuple[str, str]]:
    return [("", _("No team")), *((str(t.public_id), t.name) for t in teams)]


class UserCreateForm(StyledForm):
    username = forms.CharField(
        label=_("User name"), max_length=150, widget=forms.TextInput(attrs={"dir": "ltr"})
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.REP)
    team = forms.ChoiceField(label=_("Team"), required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to set it later; the user cannot sign in until then."),
    )

    def __init__(self, *args: Any, teams: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _team_choices(teams)


class UserEditForm(StyledForm):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ChoiceField(label=_("Team"), required=False)
    is_active = forms.BooleanField(
        label=_("Active (may sign in)"),
        required=False,
    )

    def __init__(self, *args: Any, teams: Any = (), editing_self: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _team_choices(teams)
        self.editing_self = editing_self

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing_self:
            if data.get("role") and data["role"] != Role.ADMIN:
                self.add_error("role", _("You cannot take away your own administrator role."))
            if "is_active" in data and not data["is_active"]:
                self.add_error("is_active", _("You cannot deactivate yourself."))
        return data


class ReassignForm(StyledForm):
    to_user = forms.ChoiceField(label=_("Give every record to"))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, users: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = [("", "—"), *((str(u.public_id), str(u)) for u in users)]


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Team name"), max_length=120)
    manager = forms.ChoiceField(label=_("Manager"), required=False)

    def __init__(self, *args: Any, managers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [
            ("", _("No manager")),
            *((str(u.public_id), str(u)) for u in managers),
        ]
