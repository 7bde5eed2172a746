"""A rule in words, in the reader's language: the live preview of the rule pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from wasl.deals.models import Pipeline, Stage


def _entity(name: str | None) -> str:
    return {
        "contact": _("contact"),
        "company": _("company"),
        "lead": _("lead"),
        "deal": _("deal"),
        "activity": _("task"),
    }.get(name or "", name or "")


# Stage and pipeline names by public id, loaded once for a page that describes many rules.
_preloaded: ContextVar[dict[str, str] | None] = ContextVar("describe_preloaded", default=None)


def _valid_ids(values: Iterable[Any]) -> set[str]:
    valid = set()
    for value in values:
        try:
            valid.add(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return valid


@contextmanager
def names_preloaded(triggers: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Within the block, describing these triggers reads the stage and pipeline names they
    name from two queries made here, instead of one query per trigger."""
    triggers = list(triggers)
    stage_ids = _valid_ids(t.get("stage_id") for t in triggers if t.get("stage_id"))
    pipeline_ids = _valid_ids(t.get("pipeline_id") for t in triggers if t.get("pipeline_id"))
    names: dict[str, str] = {}
    if stage_ids:
        rows = Stage.objects.filter(public_id__in=stage_ids).values_list("public_id", "name")
        names.update((str(public_id), name) for public_id, name in rows)
    if pipeline_ids:
        rows = Pipeline.objects.filter(public_id__in=pipeline_ids).values_list("public_id", "name")
        names.update((str(public_id), name) for public_id, name in rows)
    token = _preloaded.set(names)
    try:
        yield
    finally:
        _preloaded.reset(token)


def _name_of(model: type[Stage] | type[Pipeline], public_id: Any) -> str | None:
    if not public_id:
        return None
    preloaded = _preloaded.get()
    if preloaded is not None:
        return preloaded.get(str(public_id))
    if not _valid_ids([public_id]):
        return None
    return model.objects.filter(public_id=public_id).values_list("name", flat=True).first()


def _stage(public_id: str) -> str:
    name = _name_of(Stage, public_id)
    return f"“{name}”" if name is not None else _("a removed stage")


def _quote(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_quote(v) for v in value)
    return f"“{value}”"


def trigger_in_words(trigger: dict[str, Any]) -> str:
    kind = trigger.get("type")
    entity = _entity(trigger.get("entity"))
    if kind == "record_created":
        return _("When a %(entity)s is created") % {"entity": entity}
    if kind == "field_changed":
        text = _("When the %(field)s of a %(entity)s changes") % {
            "field": trigger.get("field"),
            "entity": entity,
        }
        if trigger.get("from_value") is not None:
            text += " " + _("from %(value)s") % {"value": _quote(trigger["from_value"])}
        if trigger.get("to_value") is not None:
            text += " " + _("to %(value)s") % {"value": _quote(trigger["to_value"])}
        return text
    if kind == "stage_entered":
        return _("When a deal enters the stage %(stage)s") % {"stage": _stage(trigger["stage_id"])}
    if kind == "stage_left":
        return _("When a deal leaves the stage %(stage)s") % {"stage": _stage(trigger["stage_id"])}
    if kind in ("deal_won", "deal_lost"):
        text = _("When a deal is won") if kind == "deal_won" else _("When a deal is lost")
        pipeline_name = _name_of(Pipeline, trigger.get("pipeline_id"))
        if pipeline_name is not None:
            text += " " + _("in the pipeline “%(name)s”") % {"name": pipeline_name}
        return text
    if kind == "lead_created":
        if trigger.get("source"):
            return _("When a lead comes in from %(source)s") % {"source": _quote(trigger["source"])}
        return _("When a lead comes in")
    if kind == "task_overdue":
        hours = int(trigger.get("after_hours") or 0)
        if hours:
            return _("When a task has been overdue for %(hours)d hours") % {"hours": hours}
        return _("When a task becomes overdue")
    if kind == "date_reached":
        days = int(trigger.get("offset_days") or 0)
        values = {
            "field": trigger.get("field"),
            "entity": entity,
            "days": abs(days),
            "at": trigger.get("at", "09:00"),
        }
        if days < 0:
            text = _("%(days)d days before the %(field)s of a %(entity)s, at %(at)s") % values
        elif days > 0:
            text = _("%(days)d days after the %(field)s of a %(entity)s, at %(at)s") % values
        else:
            text = _("On the %(field)s of a %(entity)s, at %(at)s") % values
        if trigger.get("yearly") or trigger.get("field") == "birthday":
            text += " " + _("(every year)")
        return text
    if kind == "no_activity":
        return _("When a %(entity)s has had no activity for %(days)d days") % {
            "entity": entity,
            "days": int(trigger.get("days") or 0),
        }
    if kind == "schedule":
        text = _("On the schedule %(cron)s") % {"cron": _quote(trigger.get("cron"))}
        if trigger.get("entity"):
            text += " " + _("for every %(entity)s") % {"entity": entity}
        return text
    return str(kind)


OPERATORS = {
    "eq": lambda: _("is"),
    "ne": lambda: _("is not"),
    "gt": lambda: _("is greater than"),
    "gte": lambda: _("is at least"),
    "lt": lambda: _("is less than"),
    "lte": lambda: _("is at most"),
    "in": lambda: _("is one of"),
    "not_in": lambda: _("is none of"),
    "contains": lambda: _("contains"),
    "not_contains": lambda: _("does not contain"),
    "starts_with": lambda: _("starts with"),
    "is_empty": lambda: _("is empty"),
    "is_not_empty": lambda: _("is not empty"),
}


def conditions_in_words(condition: dict[str, Any] | None, *, nested: bool = False) -> str:
    if not condition:
        return ""
    for joiner, word in (("all", _("and")), ("any", _("or"))):
        parts = condition.get(joiner)
        if parts is not None:
            text = f" {word} ".join(conditions_in_words(p, nested=True) for p in parts)
            return f"({text})" if nested and len(parts) > 1 else text
    op = condition.get("op", "eq")
    words = OPERATORS.get(op, lambda: op)()
    if op in ("is_empty", "is_not_empty"):
        return f"{condition.get('field')} {words}"
    return f"{condition.get('field')} {words} {_quote(condition.get('value'))}"


def _assignee(spec: dict[str, Any] | None) -> str:
    spec = spec or {}
    to = spec.get("to", "owner")
    if to == "owner":
        return _("the owner")
    if to == "manager":
        return _("the owner's manager")
    if to == "user":
        return _("a chosen user")
    how = (
        _("in turn")
        if spec.get("strategy", "round_robin") == "round_robin"
        else _("with the fewest open tasks")
    )
    return _("a %(role)s of the team, %(how)s") % {"role": spec.get("role"), "how": how}


def action_in_words(action: dict[str, Any]) -> str:
    kind = action.get("type")
    if kind == "create_activity":
        text = _("create a %(kind)s “%(subject)s” for %(who)s") % {
            "kind": {"task": _("task"), "call": _("call"), "meeting": _("meeting")}.get(
                action.get("kind", "task"), action.get("kind")
            ),
            "subject": action.get("subject"),
            "who": _assignee(action.get("assign")),
        }
        due = action.get("due")
        if due:
            units = {"minutes": _("minutes"), "hours": _("hours"), "days": _("days")}
            text += " " + _("due in %(amount)d %(unit)s") % {
                "amount": due.get("amount", 0),
                "unit": units.get(due.get("unit", "days"), due.get("unit")),
            }
            if due.get("business_hours"):
                text += " " + _("of working time")
        return text
    if kind == "assign_owner":
        return _("give the record to %(who)s") % {"who": _assignee(action.get("assign"))}
    if kind == "update_field":
        return _("set %(field)s to %(value)s") % {
            "field": action.get("field"),
            "value": _quote(action.get("value")),
        }
    if kind == "move_stage":
        return _("move the deal to %(stage)s") % {"stage": _stage(action.get("stage_id", ""))}
    if kind == "add_tag":
        return _("add the tag %(tag)s") % {"tag": _quote(action.get("tag"))}
    if kind == "remove_tag":
        return _("remove the tag %(tag)s") % {"tag": _quote(action.get("tag"))}
    if kind == "send_email":
        return _("send the e-mail “%(subject)s”") % {"subject": action.get("subject")}
    if kind == "send_sms":
        return _("send an SMS")
    if kind == "notify":
        return _("notify: %(message)s") % {"message": _quote(action.get("message"))}
    if kind == "webhook":
        return _("call a webhook")
    if kind == "generate_document":
        return _("generate a document (not available yet)")
    return str(kind)


def describe_rule(rule: Any, language: str = "en") -> str:
    """The trigger, conditions and actions of a rule (or of an unsaved rule document with
    the same attributes) as one sentence in `language` (en, fa or ar)."""
    with translation.override(language):
        text = trigger_in_words(rule.trigger)
        condition = conditions_in_words(rule.conditions)
        if condition:
            text += ", " + _("if %(condition)s") % {"condition": condition}
        actions = "; ".join(action_in_words(a) for a in rule.actions or [])
        return f"{text}: {actions}."
