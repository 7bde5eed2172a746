"""Periodic work: delivering the outbox, time-based triggers, overdue escalation, digests.

`tick(now)` does one minute's work and may run any number of times for the same minute:
every firing is claimed by inserting a `SchedulerTick` key in the transaction that queues
its job, so two schedulers, or a catch-up after a restart, never fire anything twice.
Pass `now` to test a given moment.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from wasl.accounts.models import User
from wasl.activities.models import Activity
from wasl.activities.services import PLANNED_KINDS
from wasl.automation import tasks
from wasl.automation.context import MODELS
from wasl.automation.handoff import send_stranded
from wasl.automation.jobs import enqueue
from wasl.automation.models import Rule, SchedulerTick
from wasl.automation.timing import CronError, org_zone, parse_cron
from wasl.contacts.models import ImportantDate
from wasl.core.events import dispatch_pending
from wasl.notifications.services import notification_create

logger = logging.getLogger(__name__)

# Records one time-based rule may fire on per tick (the rest follow on the next ticks).
PER_RULE_LIMIT = 1000
# Minutes of schedules looked back on, so a late tick does not miss a firing.
CRON_LOOKBACK_MINUTES = 5


def claim(key: str) -> bool:
    """Claim a unit of periodic work; False if it was claimed before."""
    try:
        with transaction.atomic():
            SchedulerTick.objects.create(key=key[:200])
    except IntegrityError:
        return False
    return True


def _window() -> dt.timedelta:
    return dt.timedelta(hours=float(settings.WASL_SCHEDULER_CATCH_UP_HOURS))


def _fire(rule: Rule, kind: str, object_id: int | None, occurrence: str, at: dt.datetime) -> bool:
    with transaction.atomic():
        if not claim(f"fire:{rule.pk}:{kind}:{object_id}:{occurrence}"):
            return False
        enqueue(
            tasks.run_time_rule,
            rule_id=rule.pk,
            kind=kind,
            object_id=object_id,
            occurrence=occurrence,
            at=at.isoformat(),
        )
    return True


# ---------------------------------------------------------------- date fields


def _same_day_q(field: str, day: dt.date, yearly: bool) -> Q:
    if not yearly:
        return Q(**{field: day})
    clause = Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
    if day.month == 2 and day.day == 28 and not _leap(day.year):
        # Born on 29 February: remembered on the 28th in other years.
        clause |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return clause


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _date_candidates(trigger: dict[str, Any], target: dt.date) -> list[tuple[int, str]]:
    """(record id, the date it matched) for records whose date field equals `target`."""
    entity, field = trigger["entity"], trigger["field"]
    yearly = bool(trigger.get("yearly")) or field == "birthday"
    if field == "contract_end":
        if entity not in ("contact", "company"):
            return []
        rows = ImportantDate.objects.filter(
            _same_day_q("date", target, yearly), kind=ImportantDate.Kind.CONTRACT_END
        ).filter(**{f"{entity}__isnull": False})
        return [(getattr(r, f"{entity}_id"), r.date.isoformat()) for r in rows[:PER_RULE_LIMIT]]
    model = MODELS[entity]
    if field.startswith("custom."):
        key = field.split(".", 1)[1]
        if yearly:
            suffix = f"-{target.month:02d}-{target.day:02d}"
            rows = model._default_manager.filter(**{f"custom__{key}__endswith": suffix})
        else:
            rows = model._default_manager.filter(**{f"custom__{key}": target.isoformat()})
        return [
            (pk, target.isoformat()) for pk in rows.values_list("pk", flat=True)[:PER_RULE_LIMIT]
        ]
    if field not in {f.name for f in model._meta.get_fields()}:
        return []
    rows = model._default_manager.filter(_same_day_q(field, target, yearly))
    return [
        (pk, value.isoformat())
        for pk, value in rows.values_list("pk", field)[:PER_RULE_LIMIT]
        if value is not None
    ]


def fire_date_rule(rule: Rule, now: dt.datetime) -> int:
    trigger = rule.trigger
    zone = org_zone()
    hours, minutes = (int(x) for x in trigger.get("at", "09:00").split(":"))
    offset = dt.timedelta(days=int(trigger.get("offset_days", 0)))
    local_today = now.astimezone(zone).date()
    fired = 0
    for back in range(int(_window().days) + 2):
        day = local_today - dt.timedelta(days=back)
        at = dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=zone)
        if not (at <= now < at + _window()):
            continue
        # The date field must equal the firing day minus the offset (3 days before the
        # date: offset -3, so the date is 3 days after the firing day).
        target = day - offset
        yearly = bool(trigger.get("yearly")) or trigger["field"] == "birthday"
        for object_id, matched in _date_candidates(trigger, target):
            occurrence = f"{target.year}" if yearly else matched
            fired += _fire(rule, trigger["entity"], object_id, occurrence, at)
    return fired


# ---------------------------------------------------------------- other triggers


def fire_overdue_rule(rule: Rule, now: dt.datetime) -> int:
    after = dt.timedelta(hours=int(rule.trigger.get("after_hours", 0)))
    rows = Activity.objects.filter(
        done_at__isnull=True,
        kind__in=list(PLANNED_KINDS),
        due_at__lte=now - after,
        due_at__gt=now - after - _window(),
    ).values_list("pk", "due_at")[:PER_RULE_LIMIT]
    return sum(_fire(rule, "activity", pk, due.isoformat(), due + after) for pk, due in rows)


def fire_silence_rule(rule: Rule, now: dt.datetime) -> int:
    entity = rule.trigger["entity"]
    cutoff = now - dt.timedelta(days=int(rule.trigger["days"]))
    rows = (
        MODELS[entity]
        ._default_manager.annotate(last=Max("activities__created_at"))
        .filter(Q(last__lt=cutoff) | Q(last__isnull=True, created_at__lt=cutoff))
        .values_list("pk", "last", "created_at")[:PER_RULE_LIMIT]
    )
    fired = 0
    for pk, last, created in rows:
        since = last or created
        fired += _fire(rule, entity, pk, f"quiet-since:{since.isoformat()}", now)
    return fired


def fire_schedule_rule(rule: Rule, now: dt.datetime) -> int:
    try:
        cron = parse_cron(rule.trigger["cron"])
    except CronError:
        return 0
    zone = org_zone()
    minute = now.replace(second=0, microsecond=0)
    fired = 0
    for back in range(CRON_LOOKBACK_MINUTES):
        moment = minute - dt.timedelta(minutes=back)
        if moment < rule.created_at.replace(second=0, microsecond=0):
            break
        if not cron.matches(moment.astimezone(zone)):
            continue
        entity = rule.trigger.get("entity")
        occurrence = moment.isoformat()
        if not entity:
            fired += _fire(rule, "", None, occurrence, moment)
            continue
        ids = MODELS[entity]._default_manager.order_by("pk").values_list("pk", flat=True)
        for pk in ids[:PER_RULE_LIMIT]:
            fired += _fire(rule, entity, pk, occurrence, moment)
    return fired


FIRING = {
    "date_reached": fire_date_rule,
    "task_overdue": fire_overdue_rule,
    "no_activity": fire_silence_rule,
    "schedule": fire_schedule_rule,
}


# ---------------------------------------------------------------- built-in reminders


def escalate_overdue(now: dt.datetime) -> int:
    """Tell an overdue task's assignee, and after WASL_ESCALATION_GRACE_HOURS their team's
    manager (each once per due time; nobody about a task they may not see). Off with
    WASL_OVERDUE_REMINDERS=0 (rules with an overdue trigger can do it their way)."""
    if not settings.WASL_OVERDUE_REMINDERS:
        return 0
    told = 0
    window = _window()
    base = Activity.objects.filter(done_at__isnull=True, kind__in=list(PLANNED_KINDS))
    fresh = base.filter(due_at__lte=now, due_at__gt=now - window).select_related("owner")
    for activity in fresh[:PER_RULE_LIMIT]:
        with translation.override(activity.owner.language or settings.LANGUAGE_CODE):
            title = _("Overdue: %(subject)s") % {"subject": activity.subject}
        note = notification_create(
            recipient=activity.owner,
            title=title,
            record=activity,
            key=f"overdue:{activity.pk}:{activity.due_at.isoformat()}",
        )
        told += note is not None
    grace_hours = float(settings.WASL_ESCALATION_GRACE_HOURS)
    if grace_hours <= 0:
        return told
    grace = dt.timedelta(hours=grace_hours)
    late = base.filter(due_at__lte=now - grace, due_at__gt=now - grace - window).select_related(
        "owner__team__manager"
    )
    for activity in late[:PER_RULE_LIMIT]:
        team = activity.owner.team
        manager = team.manager if team is not None else None
        if manager is None or manager.pk == activity.owner_id:
            continue
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            title = _("Still overdue (%(user)s): %(subject)s") % {
                "user": activity.owner,
                "subject": activity.subject,
            }
        note = notification_create(
            recipient=manager,
            title=title,
            record=activity,
            key=f"escalated:{activity.pk}:{activity.due_at.isoformat()}",
        )
        told += note is not None
    return told


def queue_digests(now: dt.datetime) -> int:
    """From WASL_DIGEST_HOUR (organisation time) on, queue each user's digest once a day."""
    local = now.astimezone(org_zone())
    if local.hour < int(settings.WASL_DIGEST_HOUR):
        return 0
    day = local.date().isoformat()
    users = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .exclude(username=settings.WASL_AUTOMATION_USERNAME)
        .values_list("pk", flat=True)
    )
    queued = 0
    with transaction.atomic():
        if not claim(f"digests:{day}"):
            return 0
        for user_id in users:
            enqueue(tasks.send_digest, user_id=user_id, day=day)
            queued += 1
    return queued


def housekeeping(now: dt.datetime) -> None:
    """Once a day: forget old tick keys (past every catch-up window) and finished jobs."""
    from django_tasks_db.models import DBTaskResult

    if not claim(f"housekeeping:{now.date().isoformat()}"):
        return
    keep = dt.timedelta(days=int(settings.WASL_JOB_RESULTS_KEEP_DAYS))
    SchedulerTick.objects.filter(created_at__lt=now - max(keep, _window() * 2)).delete()
    DBTaskResult.objects.successful().filter(finished_at__lt=now - keep).delete()


def tick(now: dt.datetime | None = None) -> dict[str, int]:
    """One minute's periodic work (idempotent for a given minute)."""
    from wasl.automation.services import jobs_requeue_orphans

    now = now or timezone.now()
    result = {"requeued": jobs_requeue_orphans(now=now), "fired": 0}
    for rule in Rule.objects.filter(is_active=True, trigger_type__in=list(FIRING)):
        try:
            result["fired"] += FIRING[rule.trigger_type](rule, now)
        except Exception:
            # One broken rule must not stop the others.
            logger.exception("time-based rule %s failed to fire", rule.pk)
    result["handed_over"] = send_stranded(now)
    result["escalated"] = escalate_overdue(now)
    result["digests"] = queue_digests(now)
    housekeeping(now)
    return result


# ---------------------------------------------------------------- the scheduler loop


class Scheduler:
    """Delivers the outbox every WASL_DISPATCH_POLL_SECONDS and ticks once a minute,
    while it holds the scheduler lease (a second scheduler waits as a stand-by)."""

    def __init__(self, *, interval: float | None = None, holder: str | None = None) -> None:
        self.interval = (
            float(settings.WASL_DISPATCH_POLL_SECONDS) if interval is None else float(interval)
        )
        self.holder = holder or get_random_string(24)
        self.stop = threading.Event()
        self._lease_until = 0.0
        self._last_minute: dt.datetime | None = None

    def has_lease(self, monotonic_now: float) -> bool:
        from wasl.automation.services import lease_acquire

        if monotonic_now < self._lease_until:
            return True
        seconds = float(settings.WASL_SCHEDULER_LEASE_SECONDS)
        if lease_acquire(name="scheduler", holder=self.holder, seconds=seconds):
            # Renew well before it runs out.
            self._lease_until = monotonic_now + seconds / 3
            return True
        return False

    def run_once(self) -> int:
        import time

        if not self.has_lease(time.monotonic()):
            return 0
        delivered = 0
        while True:
            batch = dispatch_pending(limit=500)
            delivered += batch
            if batch < 500:
                break
        now = timezone.now()
        minute = now.replace(second=0, microsecond=0)
        if minute != self._last_minute and claim(f"tick:{minute.isoformat()}"):
            self._last_minute = minute
            tick(now)
        elif minute != self._last_minute:
            self._last_minute = minute
        return delivered

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                close_old_connections()
                try:
                    self.run_once()
                except Exception:
                    # A failing round (the database briefly locked) must not end delivery.
                    logger.exception("scheduler round failed")
                self.stop.wait(self.interval)
        finally:
            close_old_connections()
