"""Forms of the task pages: list filters, reschedule and the call outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wasl.activities.models import Activity
from wasl.core.forms import BootstrapFormMixin, CalendarDateField

PLANNED_CHOICES = [
    (Activity.Kind.TASK.value, Activity.Kind.TASK.label),
    (Activity.Kind.CALL.value, Activity.Kind.CALL.label),
    (Activity.Kind.MEETING.value, Activity.Kind.MEETING.label),
]
STATUS_CHOICES = [
    ("open", _("Open")),
    ("overdue", _("Overdue")),
    ("done", _("Done")),
    ("all", _("All")),
]
LINK_KINDS = [
    ("contact", _("Contact")),
    ("company", _("Company")),
    ("lead", _("Lead")),
    ("deal", _("Deal")),
]


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of `day` in the user's time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class _Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = "form-select form-select-sm" if isinstance(widget, forms.Select) else ""
            if isinstance(widget, forms.TextInput | forms.TimeInput):
                css = "form-control form-control-sm"
            if css:
                widget.attrs["class"] = css


class FilterForm(_Styled):
    """Filters shared by the task list, the week and the activity list. Invalid values are
    dropped (a filter never fails the page)."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *PLANNED_CHOICES]
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    due_from = CalendarDateField(label=_("Due from"), required=False)
    due_to = CalendarDateField(label=_("Due until"), required=False)
    owner = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(
        self,
        *args: Any,
        assignees: list[Any] | None = None,
        kinds: list[tuple[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [("", _("All kinds")), *kinds]
        if assignees is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [
                ("", _("Everyone")),
                *((str(user.public_id), str(user)) for user in assignees),
            ]

    def value(self, name: str, default: Any = None) -> Any:
        """The cleaned value of a filter, or `default` when it is missing or invalid."""
        if not self.is_bound or name not in self.fields:
            return default
        self.is_valid()
        value = getattr(self, "cleaned_data", {}).get(name)
        return default if value in (None, "") else value

    def due_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        start, end = self.value("due_from"), self.value("due_to")
        return (
            local_midnight(start) if start else None,
            local_midnight(end + dt.timedelta(days=1)) if end else None,
        )


class QuickActivityForm(BootstrapFormMixin, forms.Form):
    """The quick-add row at the top of the activity list: a task, call, meeting or note
    assigned to the user, with an optional due date in their calendar and time of day."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[*PLANNED_CHOICES, (Activity.Kind.NOTE.value, Activity.Kind.NOTE.label)],
        initial=Activity.Kind.TASK.value,
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    due = CalendarDateField(label=_("Due"), required=False)
    time = forms.TimeField(label=_("Time"), required=False, widget=forms.TimeInput(format="%H:%M"))


class RescheduleForm(forms.Form):
    """A new due date in the user's calendar and an optional time of day."""

    due = CalendarDateField(label=_("New date"))
    time = forms.TimeField(label=_("Time"), required=False, widget=forms.TimeInput(format="%H:%M"))

    def due_at(self, previous: dt.datetime | None) -> dt.datetime:
        """The new due time: the date given, at the time given, else the previous time of
        day, else 09:00 (in the user's time zone)."""
        day: dt.date = self.cleaned_data["due"]
        clock = self.cleaned_data.get("time")
        if clock is None:
            clock = timezone.localtime(previous).time() if previous else dt.time(9, 0)
        return timezone.make_aware(dt.datetime.combine(day, clock.replace(tzinfo=None)))


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Call outcome"), required=False, choices=[("", "—"), *Activity.Outcome.choices]
    )
