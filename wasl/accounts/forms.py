"""Forms of the sign-in, preferences and organisation pages."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from wasl.accounts.models import Organisation, User
from wasl.core.forms import BootstrapFormMixin

# The zones this product's users mostly live in, named in the page's language and grouped
# by region; every other IANA zone follows under its id.
COMMON_ZONES: tuple[tuple[Any, tuple[tuple[str, Any], ...]], ...] = (
    (
        _("Iran and its neighbours"),
        (
            ("Asia/Tehran", _("Tehran, Iran")),
            ("Asia/Kabul", _("Kabul, Afghanistan")),
            ("Asia/Baku", _("Baku, Azerbaijan")),
            ("Asia/Yerevan", _("Yerevan, Armenia")),
            ("Asia/Tbilisi", _("Tbilisi, Georgia")),
            ("Asia/Ashgabat", _("Ashgabat, Turkmenistan")),
            ("Asia/Dushanbe", _("Dushanbe, Tajikistan")),
            ("Asia/Karachi", _("Karachi, Pakistan")),
        ),
    ),
    (
        _("Gulf states"),
        (
            ("Asia/Dubai", _("Dubai, United Arab Emirates")),
            ("Asia/Riyadh", _("Riyadh, Saudi Arabia")),
            ("Asia/Qatar", _("Doha, Qatar")),
            ("Asia/Kuwait", _("Kuwait")),
            ("Asia/Bahrain", _("Manama, Bahrain")),
            ("Asia/Muscat", _("Muscat, Oman")),
        ),
    ),
    (
        _("Arab states"),
        (
            ("Asia/Baghdad", _("Baghdad, Iraq")),
            ("Asia/Amman", _("Amman, Jordan")),
            ("Asia/Beirut", _("Beirut, Lebanon")),
            ("Asia/Damascus", _("Damascus, Syria")),
            ("Asia/Aden", _("Aden, Yemen")),
            ("Africa/Cairo", _("Cairo, Egypt")),
            ("Africa/Khartoum", _("Khartoum, Sudan")),
            ("Africa/Tripoli", _("Tripoli, Libya")),
            ("Africa/Tunis", _("Tunis, Tunisia")),
            ("Africa/Algiers", _("Algiers, Algeria")),
            ("Africa/Casablanca", _("Casablanca, Morocco")),
        ),
    ),
    (
        _("Turkey and Europe"),
        (
            ("Europe/Istanbul", _("Istanbul, Turkey")),
            ("Europe/London", _("London, United Kingdom")),
            ("Europe/Paris", _("Paris, France")),
            ("Europe/Berlin", _("Berlin, Germany")),
            ("Europe/Amsterdam", _("Amsterdam, Netherlands")),
            ("Europe/Stockholm", _("Stockholm, Sweden")),
            ("Europe/Moscow", _("Moscow, Russia")),
        ),
    ),
    (
        _("Elsewhere"),
        (
            ("UTC", _("Coordinated Universal Time (UTC)")),
            ("Asia/Kolkata", _("Delhi, India")),
            ("Asia/Shanghai", _("Beijing, China")),
            ("America/New_York", _("New York, United States")),
            ("America/Toronto", _("Toronto, Canada")),
            ("America/Los_Angeles", _("Los Angeles, United States")),
            ("Australia/Sydney", _("Sydney, Australia")),
        ),
    ),
)


@cache
def time_zone_choices() -> list[tuple[Any, Any]]:
    """The common zones by region with translated names, then every other IANA zone by its
    id (so any valid zone stays selectable)."""
    named = {zone for _group, zones in COMMON_ZONES for zone, _label in zones}
    others = sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z and not z.startswith("Etc/") and z not in named
    )
    return [
        *((group, list(zones)) for group, zones in COMMON_ZONES),
        (_("Other time zones"), [(z, z.replace("_", " ")) for z in others]),
    ]


def _language_choices(empty_label: str) -> list[tuple[str, str]]:
    return [("", empty_label), *[(code, str(name)) for code, name in settings.LANGUAGES]]


class PreferencesForm(BootstrapFormMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    calendar = forms.ChoiceField(label=_("Calendar"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    digits = forms.ChoiceField(label=_("Digits"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        default = str(_("Organisation default"))
        self.fields["language"].choices = _language_choices(default)  # type: ignore[attr-defined]
        self.fields["calendar"].choices = [("", default), *User.Calendar.choices]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = [("", default), *time_zone_choices()]  # type: ignore[attr-defined]
        self.fields["digits"].choices = [("", default), *User.Digits.choices]  # type: ignore[attr-defined]


class OrganisationForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200, required=False)
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        help_text=_("Three-letter ISO code: IRR, SAR, AED, USD, EUR…"),
    )
    show_toman = forms.BooleanField(label=_("Show rial amounts in toman"), required=False)
    phone_region = forms.CharField(
        label=_("Region for phone numbers"), max_length=2, help_text=_("e.g. IR, SA, AE")
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    calendar = forms.ChoiceField(label=_("Calendar"), choices=User.Calendar.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"))
    digits = forms.ChoiceField(label=_("Digits"), choices=User.Digits.choices)
    week_start = forms.TypedChoiceField(
        label=_("First day of the week"), choices=Organisation.Weekday.choices, coerce=int
    )
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=Organisation.Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    churn_after_days = forms.IntegerField(
        label=_("Churn after (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("A customer with no won deal and no activity for this long has churned."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["language"].choices = _language_choices(str(_("Each browser's language")))  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = time_zone_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        # Left empty, the setting keeps its current value.
        if cleaned.get("churn_after_days") is None:
            cleaned.pop("churn_after_days", None)
        return cleaned


class PasswordForm(BootstrapFormMixin, PasswordChangeForm):
    pass
