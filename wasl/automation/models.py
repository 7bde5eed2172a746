"""Automation: rules and their run log, the jobs' bookkeeping (parked failures, scheduler
ticks and lease, worker heartbeats), and the keyed rows of messages and webhook calls
that make every side effect happen once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from wasl.core.models import PublicIdModel, TimeStampedModel


class Rule(PublicIdModel, TimeStampedModel):
    """A trigger, conditions and actions, kept as the JSON document the API describes."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.JSONField(_("trigger"))
    conditions = models.JSONField(_("conditions"), null=True, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    # Derived from the trigger: the event name that wakes the rule ("" for time-based
    # triggers, which the scheduler evaluates), so the event listener finds candidates
    # with one indexed query.
    event_name = models.CharField(max_length=80, blank=True)
    trigger_type = models.CharField(max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        indexes = [
            models.Index(fields=["event_name", "is_active"], name="rule_event"),
            models.Index(fields=["trigger_type", "is_active"], name="rule_trigger_type"),
        ]

    def __str__(self) -> str:
        return self.name


class AutomationRun(PublicIdModel):
    """One rule run on one record: why it ran and what each action did."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        PARTIAL = "partial", _("Some actions failed")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    record_kind = models.CharField(max_length=20, blank=True)
    record_public_id = models.UUIDField(null=True, blank=True)
    record_repr = models.CharField(max_length=300, blank=True)
    # The record's owner and team when the rule ran, so managers see the runs of their
    # teams' records through the visibility rule.
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    trigger = models.CharField(max_length=120)
    event_id = models.BigIntegerField(null=True, blank=True)
    # "<source>:<rule>:<occurrence>" for real runs; a rerun of the same job finds it and
    # does nothing. Dry runs have none.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    dry_run = models.BooleanField(default=False)
    depth = models.PositiveSmallIntegerField(default=0)
    outcomes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["rule", "-created_at", "-id"], name="run_rule"),
            models.Index(fields=["content_type", "object_id", "-created_at"], name="run_record"),
            models.Index(fields=["-created_at", "-id"], name="run_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.record_kind} {self.object_id}: {self.status}"


class FailedJob(PublicIdModel):
    """A background job that failed on every attempt, parked with its last error until an
    administrator retries it."""

    task_path = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField()
    error = models.TextField()
    failed_at = models.DateTimeField(auto_now_add=True)
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["-failed_at", "-id"], name="failed_job_recent")]

    def __str__(self) -> str:
        return f"{self.task_path} ({self.attempts} attempts)"


class JobHandoff(models.Model):
    """A job for a backend outside the database (Redis), written in the transaction that
    queued it and deleted once the backend has it. A process that dies between the commit
    and the send leaves the row behind, and the scheduler sends it: at least once, the
    jobs' idempotency keys keeping their side effects single."""

    task_path = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    queue_name = models.CharField(max_length=100, default="default")
    priority = models.IntegerField(default=0)
    run_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.task_path} {self.kwargs}"


class SchedulerTick(models.Model):
    """A unit of periodic work that happened: inserting its key is claiming it, so two
    schedulers (or a catch-up after a restart) never fire the same thing twice."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class SchedulerLease(models.Model):
    """Which scheduler delivers events and runs ticks now; another takes over when the
    holder stops renewing it."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=80)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"


class WorkerHeartbeat(models.Model):
    """A worker process that is alive; jobs claimed by a worker that stopped beating are
    handed back to the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    pid = models.IntegerField()
    hostname = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker_id


class AssignmentCursor(models.Model):
    """Where round-robin assignment stopped in one pool of users (a role in a team)."""

    pool = models.CharField(max_length=120, unique=True)
    last_user_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.pool


class OutgoingMessage(PublicIdModel):
    """An e-mail or SMS a rule (or the digest) sends; its key makes sending once per cause."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(max_length=8, choices=Channel.choices)
    key = models.CharField(max_length=200, unique=True)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        AutomationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}"


class WebhookEndpoint(PublicIdModel, TimeStampedModel):
    """A URL rules may call, with the secret its calls are signed with."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(PublicIdModel):
    """One call of a webhook; `public_id` is sent as X-Wasl-Delivery on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        AutomationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.endpoint_id}: {self.key}"
