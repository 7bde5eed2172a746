"""Forms of the automation pages. The rule builder keeps the rule's trigger, conditions and
actions as JSON in hidden fields (written by the builder's script); the service checks the
document, so the form only checks that each part is JSON of the right shape."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class RuleForm(forms.Form):
    # Required, but checked by the service with the rest of the rule, so that every problem
    # shows at once.
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    trigger = forms.CharField(widget=forms.HiddenInput)
    conditions = forms.CharField(widget=forms.HiddenInput, required=False)
    actions = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "description"):
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"

    def _json(self, name: str, kind: type | None) -> Any:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as error:
            raise forms.ValidationError(_("This part of the rule could not be read.")) from error
        if value is not None and kind is not None and not isinstance(value, kind):
            raise forms.ValidationError(_("This part of the rule could not be read."))
        return value

    def clean_trigger(self) -> Any:
        return self._json("trigger", dict)

    def clean_conditions(self) -> Any:
        return self._json("conditions", dict)

    def clean_actions(self) -> Any:
        return self._json("actions", list)

    def document(self) -> dict[str, Any]:
        """The cleaned values as the services' keyword arguments."""
        data = self.cleaned_data
        return {
            "name": data.get("name") or "",
            "description": data.get("description") or "",
            "is_active": bool(data.get("is_active")),
            "trigger": data["trigger"],
            "conditions": data.get("conditions"),
            "actions": data["actions"],
        }


def loose_json(raw: Any, default: Any) -> Any:
    """A posted JSON part as far as it can be read (to show the builder again as sent)."""
    try:
        value = json.loads(raw or "")
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) or value is None else default


class RunFilterForm(forms.Form):
    record = forms.UUIDField(label=_("Record id"), required=False)
    status = forms.ChoiceField(label=_("Outcome"), required=False)
    dry_run = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All runs")), ("0", _("Real runs")), ("1", _("Dry runs"))],
    )

    def __init__(self, *args: Any, statuses: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any outcome")), *statuses]
        self.fields["record"].widget.attrs.update(
            {"class": "form-control form-control-sm", "placeholder": _("Record id")}
        )
        for name in ("status", "dry_run"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
