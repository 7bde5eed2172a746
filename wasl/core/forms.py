"""Form fields shared by every page: dates in the user's calendar, text with suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from wasl.core import calendars
from wasl.core.formatting import current_prefs


class SuggestingTextInput(forms.TextInput):
    """A text input offering `options` ((value, label) pairs) in a <datalist>: the browser
    suggests them as the user types, and anything else may still be typed."""

    def __init__(self, attrs: dict[str, Any] | None = None, options: Any = ()) -> None:
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        list_id = f"{(attrs or {}).get('id') or 'id_' + name}-options"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off"}
        field = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        return SafeString(field + format_html('<datalist id="{}">{}</datalist>', list_id, options))


class CalendarDateInput(forms.Widget):
    """The `{% date_input %}` markup as a form widget."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        from wasl.core.templatetags.wasl import render_date_input

        attrs = attrs or {}
        return render_date_input(
            name,
            value,
            id=attrs.get("id", ""),
            required=bool(attrs.get("required")),
        )


class CalendarDateField(forms.Field):
    """A date typed in the user's calendar (Jalali, Hijri or Gregorian; Latin, Persian or
    Arabic digits; `/` or `-`), cleaned to a Gregorian `datetime.date`."""

    widget = CalendarDateInput
    default_error_messages = {
        "invalid": _("Enter a date as year/month/day in your calendar."),
    }

    def __init__(self, *, calendar: str | None = None, **kwargs: Any) -> None:
        self.calendar = calendar
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        calendar = self.calendar or current_prefs().calendar
        try:
            return calendars.parse_date(str(value), calendar)
        except calendars.DateParseError as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error


class BootstrapFormMixin:
    """Gives each widget Bootstrap's class (form-control, form-select, form-check-input) and
    links help texts for screen readers. Put it first: `class F(BootstrapFormMixin, forms.Form)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            elif isinstance(widget, CalendarDateInput):
                continue
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if field.help_text:
                widget.attrs.setdefault("aria-describedby", f"id_{name}_helptext")
