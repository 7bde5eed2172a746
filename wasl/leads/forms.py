"""Forms of the lead pages: the lead's fields with its custom fields, status changes and
conversion. Forms parse what the user typed; the services validate and write."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wasl.contacts.models import CustomFieldDefinition, Source
from wasl.core.forms import BootstrapFormMixin
from wasl.deals.forms import CustomFieldsMixin, style_custom_fields
from wasl.leads.models import Lead

Status = Lead.Status
SETTABLE = [(s.value, s.label) for s in Status if s != Status.CONVERTED]


class LeadForm(BootstrapFormMixin, CustomFieldsMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), required=False, max_length=120)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=120)
    company_name = forms.CharField(label=_("Company"), required=False, max_length=200)
    title = forms.CharField(label=_("Job title"), required=False, max_length=120)
    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254, widget=forms.EmailInput
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    website = forms.CharField(label=_("Website"), required=False, max_length=300)
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)
    owner = forms.ChoiceField(label=_("Owner"), choices=[], required=False)
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

    def lead_fields(self) -> dict[str, Any]:
        """The plain fields, as the services take them."""
        names = ["first_name", "last_name", "company_name", "title", "email", "phone"]
        names += ["website", "city", "source", "notes"]
        return {name: self.cleaned_data.get(name) or "" for name in names}


class QuickLeadForm(BootstrapFormMixin, forms.Form):
    """The list's inline create: the few fields a lead needs to exist."""

    first_name = forms.CharField(label=_("First name"), required=False, max_length=120)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=120)
    company_name = forms.CharField(label=_("Company"), required=False, max_length=200)
    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254, widget=forms.EmailInput
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)


class StatusForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=SETTABLE)
    reason = forms.CharField(
        label=_("Why is it disqualified?"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConvertForm(BootstrapFormMixin, forms.Form):
    create_deal = forms.BooleanField(label=_("Open a deal too"), required=False)
    deal_title = forms.CharField(label=_("Deal title"), required=False, max_length=200)
    stage = forms.ChoiceField(label=_("Pipeline and stage"), required=False, choices=[])
    deal_amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, max_digits=20, decimal_places=2
    )
    deal_currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def __init__(self, *args: Any, pipelines: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: list[Any] = []
        for pipeline in pipelines:
            stages = [(str(s.public_id), s.name) for s in pipeline.stages.all() if s.kind != "lost"]
            if stages:
                groups.append((pipeline.name, stages))
        self.fields["stage"].choices = [("", _("First stage of the default pipeline")), *groups]
