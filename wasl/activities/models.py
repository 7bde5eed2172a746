"""Tasks, calls, meetings, notes, e-mails and SMS, linked to the records they concern."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wasl.core.models import OwnedRecord

# The condition of the open-activity indexes.
OPEN = Q(done_at__isnull=True)


class Activity(OwnedRecord):
    """One thing done or to do. `owner` is the assignee; links say what it concerns."""

    class Kind(models.TextChoices):
        TASK = "task", _("Task")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        VOICEMAIL = "voicemail", _("Left voicemail")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("details"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, blank=True
    )
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The links are indexed with the creation time (activity_contact... below).
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
    )
    company = models.ForeignKey(
        "contacts.Company",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
    )
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
    )
    deal = models.ForeignKey(
        "deals.Deal",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
    )
    # Guards automation and imports against creating the same activity twice.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        # Open activities (not done) are a few percent of all of them: partial indexes
        # over them let the open and overdue lists walk a page in order instead of
        # sorting every open activity. Queries name them with `done_at IS NULL` (see
        # `selectors.open_q`, which also tells SQLite's planner how many rows that is).
        # (owner, done_at, due_at) serves a user's open ones by due date as well as a
        # user's done ones by done date, so it stays rather than a partial (owner, due_at).
        indexes = [
            # `kind` last: a rep's count of one kind (calls, meetings) reads the index
            # alone. An (owner, kind, ...) index would serve it too, but its statistics
            # turned the rep's open list onto a sort.
            models.Index(
                fields=["owner", "-updated_at", "-id", "kind"], name="activity_owner_upd_kind"
            ),
            models.Index(fields=["team", "-updated_at", "-id"], name="activity_team_upd"),
            models.Index(fields=["-updated_at", "-id"], name="activity_upd"),
            # A user's open tasks in due order (my day: `id` keeps the ties in list order)
            # and done ones in a range; `kind` and `team` last so that the activity report
            # counts each owner's activities of the period, and the tasks open past their
            # due date, from the index alone.
            models.Index(
                fields=["owner", "done_at", "due_at", "id", "kind", "team"],
                name="activity_owner_done_kind",
            ),
            # The activity list sorted by due date or done date (and its due range) walks
            # these rather than sorting everyone's activities (tens of seconds at 2M). An
            # (owner, due_at) index was tried and dropped: before ANALYZE has seen it,
            # SQLite drives every list from the user table through it and sorts 2M rows.
            models.Index(fields=["due_at", "id"], name="activity_due"),
            # Both carry the kind, owner and team, so the activity report's counts of a
            # period (done in it; open and due before its end) are read from the index
            # alone on PostgreSQL, which has no skip scan of the owner's index.
            models.Index(fields=["done_at", "id", "kind", "owner", "team"], name="activity_done"),
            models.Index(
                fields=["due_at", "id", "kind", "owner", "team"],
                condition=OPEN,
                name="activity_open_due",
            ),
            models.Index(fields=["-updated_at", "-id"], condition=OPEN, name="activity_open_upd"),
            models.Index(
                fields=["owner", "-updated_at", "-id"],
                condition=OPEN,
                name="activity_open_owner_upd",
            ),
            # The record links stay full indexes: partial ones (`WHERE lead_id IS NOT
            # NULL`) serve the timelines as well, but the list's "linked to" filter then
            # sorts every linked activity instead of walking the update-time index.
            models.Index(fields=["contact", "-created_at"], name="activity_contact"),
            models.Index(fields=["company", "-created_at"], name="activity_company"),
            models.Index(fields=["lead", "-created_at"], name="activity_lead"),
            models.Index(fields=["deal", "-created_at"], name="activity_deal"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.kind in {
            self.Kind.TASK,
            self.Kind.CALL,
            self.Kind.MEETING,
        }
