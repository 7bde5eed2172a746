"""Forms of the report pages: the filter bar, the dashboard's cards and exchange rates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wasl.accounts.selectors import team_list, user_list
from wasl.core.calendars import latin_digits
from wasl.core.forms import BootstrapFormMixin, CalendarDateField
from wasl.core.visibility import Role
from wasl.deals.selectors import pipeline_list

PERIOD_CHOICES = (
    ("this_week", _("This week")),
    ("last_week", _("Last week")),
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_quarter", _("This quarter")),
    ("last_quarter", _("Last quarter")),
    ("this_year", _("This year")),
    ("last_year", _("Last year")),
    ("custom", _("Custom range")),
)
DEFAULT_PERIOD = "this_quarter"
FILTER_NAMES = ("period", "start", "end", "pipeline", "owner", "team", "unit", "target")
UNIT_CHOICES = (("", _("By month")), ("quarter", _("By quarter")))
# Options some reports take beyond the common filters.
REPORT_OPTIONS = {"win-loss": ("unit",), "forecast": ("unit", "target")}


def owner_choices(user: Any) -> list[tuple[str, str]]:
    """The people whose numbers `user` may ask for: everyone for an administrator, the
    members of the teams they manage or belong to for a manager or read-only user, and
    themselves for a rep."""
    people = user_list(actor=user).filter(is_active=True)
    if user.role != Role.ADMIN:
        teams = user.scope_team_ids() if user.role in (Role.MANAGER, Role.READONLY) else ()
        people = (
            people.filter(team_id__in=sorted(teams)) | people.filter(pk=user.pk)
            if teams
            else people.filter(pk=user.pk)
        )
    return [(str(p.public_id), p.get_full_name() or p.username) for p in people.distinct()]


def team_choices(user: Any) -> list[tuple[str, str]]:
    """The teams `user` may narrow to: all for an administrator, their own and those they
    manage otherwise."""
    teams = team_list(actor=user)
    if user.role != Role.ADMIN:
        ids = set(user.scope_team_ids()) if user.role != Role.REP else set()
        if user.team_id:
            ids.add(user.team_id)
        teams = teams.filter(pk__in=sorted(ids))
    return [(str(t.public_id), t.name) for t in teams]


def pipeline_choices(user: Any) -> list[tuple[str, str]]:
    return [(str(p.public_id), p.name) for p in pipeline_list(actor=user)]


class ReportFilterForm(BootstrapFormMixin, forms.Form):
    """The filter bar. Dates are typed in the viewer's calendar and handed to
    `wasl.reports.filters.parse_filters` as ISO dates, the form the API takes."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = CalendarDateField(label=_("From"), required=False)
    end = CalendarDateField(label=_("To"), required=False)
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    unit = forms.ChoiceField(label=_("Group by"), choices=UNIT_CHOICES, required=False)
    target = forms.CharField(
        label=_("Target"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )

    def __init__(self, data: Any, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["pipeline"].choices = [("", _("All pipelines")), *pipeline_choices(user)]
        self.fields["owner"].choices = [("", _("Everyone I can see")), *owner_choices(user)]
        self.fields["team"].choices = [("", _("All my teams")), *team_choices(user)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start:
                self.add_error("start", _("Choose the first day of the range."))
            if not end:
                self.add_error("end", _("Choose the last day of the range."))
            if start and end and end < start:
                self.add_error("end", _("The range ends before it starts."))
        return data

    def params(self) -> dict[str, str]:
        """The filters as query parameters (ISO dates): for `parse_filters`, export and
        drill-down links. Empty values are left out."""
        data = self.cleaned_data
        params = {
            "period": data.get("period") or "",
            "pipeline": data.get("pipeline") or "",
            "owner": data.get("owner") or "",
            "team": data.get("team") or "",
        }
        if data.get("unit"):
            params["unit"] = data["unit"]
        target = latin_digits(str(data.get("target") or "")).strip()
        if target:
            params["target"] = target.replace("\u066b", ".").replace("\u066c", "").replace(",", "")
        if params["period"] == "custom":
            params["start"] = data["start"].isoformat()
            params["end"] = data["end"].isoformat()
        return {key: value for key, value in params.items() if value}


class CardAddForm(BootstrapFormMixin, forms.Form):
    card = forms.ChoiceField(label=_("Add a card or chart"))

    def __init__(self, data: Any = None, *, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["card"].choices = choices


class ExchangeRateForm(BootstrapFormMixin, forms.Form):
    currency = forms.CharField(
        label=_("Currency"),
        min_length=3,
        max_length=3,
        help_text=_("The three-letter code, e.g. EUR."),
    )
    rate_date = CalendarDateField(label=_("Date"))
    rate = forms.CharField(
        label=_("Rate"),
        max_length=40,
        help_text=_("What one unit of this currency is worth in the organisation's currency."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )

    def clean_currency(self) -> str:
        value = str(self.cleaned_data["currency"]).strip().upper()
        if not value.isascii() or not value.isalpha():
            raise forms.ValidationError(_("Enter a three-letter currency code."))
        return value

    def clean_rate(self) -> str:
        # Persian and Arabic digits and decimal separators; the service validates the rest.
        value = latin_digits(str(self.cleaned_data["rate"])).strip()
        return value.replace("\u066b", ".").replace("\u066c", "").replace(",", "")
