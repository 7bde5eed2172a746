"""The rule document: trigger, conditions and actions, as pydantic models.

These models are the rule's JSON format in the API (and so in the OpenAPI document): an
integrator writes a rule without the pages. Services validate references (stages, users,
webhooks, fields) on top of the shapes checked here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Entity = Literal["contact", "company", "lead", "deal", "activity"]
RecordEntity = Literal["contact", "company", "lead", "deal"]
Scalar = str | int | float | bool | None


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- triggers


class RecordCreated(_Doc):
    """A record of this kind was created."""

    type: Literal["record_created"]
    entity: Entity


class FieldChanged(_Doc):
    """A field changed; with `from_value` / `to_value`, only from or to that value.
    Fields: the record's own (`amount`, `status`, `title`…), `owner`, `tags`, `custom`."""

    type: Literal["field_changed"]
    entity: Entity
    field: str = Field(min_length=1, max_length=80)
    from_value: Scalar = None
    to_value: Scalar = None


class StageEntered(_Doc):
    type: Literal["stage_entered"]
    stage_id: str


class StageLeft(_Doc):
    type: Literal["stage_left"]
    stage_id: str


class DealWon(_Doc):
    type: Literal["deal_won"]
    pipeline_id: str | None = None


class DealLost(_Doc):
    type: Literal["deal_lost"]
    pipeline_id: str | None = None


class LeadCreated(_Doc):
    """A lead was created, optionally only from one source (`web_form`, `phone`…)."""

    type: Literal["lead_created"]
    source: str | None = None


class TaskOverdue(_Doc):
    """An open task, call or meeting passed its due time (`after_hours` later)."""

    type: Literal["task_overdue"]
    after_hours: int = Field(default=0, ge=0, le=24 * 365)


class DateReached(_Doc):
    """A date of the record is `offset_days` away (negative: before) at `at` o'clock in
    the organisation's time zone. Fields: `birthday` (contact; yearly), `contract_end`
    (contact or company important date), `expected_close` (deal), `custom.<key>` (a
    custom date field). `yearly` repeats every year on the date's month and day."""

    type: Literal["date_reached"]
    entity: RecordEntity
    field: str = Field(min_length=1, max_length=80)
    offset_days: int = Field(default=0, ge=-366, le=366)
    at: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    yearly: bool = False


class NoActivity(_Doc):
    """No activity was logged or created on the record for `days` days."""

    type: Literal["no_activity"]
    entity: RecordEntity
    days: int = Field(ge=1, le=3650)


class Schedule(_Doc):
    """A cron-like schedule (`minute hour day month weekday`, organisation time zone;
    weekday 0 = Sunday). With `entity`, the actions run for every record of that kind
    matching the conditions (at most 1,000 per firing); without, once."""

    type: Literal["schedule"]
    cron: str = Field(min_length=9, max_length=120)
    entity: RecordEntity | None = None


Trigger = Annotated[
    RecordCreated
    | FieldChanged
    | StageEntered
    | StageLeft
    | DealWon
    | DealLost
    | LeadCreated
    | TaskOverdue
    | DateReached
    | NoActivity
    | Schedule,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------- conditions

Operator = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "is_empty",
    "is_not_empty",
]


class Comparison(_Doc):
    """`field` is a path: `amount`, `custom.budget`, `deal.stage`, `owner.team`,
    `contact.company.name`, `tags`… (relative to the record when it does not start with
    a record kind, `owner` or `record`)."""

    field: str = Field(min_length=1, max_length=120)
    op: Operator
    value: Scalar | list[Scalar] = None


class Group(_Doc):
    """Exactly one of `all` (AND) or `any` (OR)."""

    all: list[Condition] | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def one_kind(self) -> Group:
        if (self.all is None) == (self.any is None):
            raise ValueError("give exactly one of 'all' or 'any'")
        return self


Condition = Group | Comparison
Group.model_rebuild()

# ---------------------------------------------------------------- actions


class Assignee(_Doc):
    """Who: the record's `owner`, a named `user`, the owner's `manager` (their team's
    manager), or a user with `role` in a team (`team_id`, default the owner's team)
    chosen `round_robin` or `least_loaded` (fewest open tasks, calls and meetings)."""

    to: Literal["owner", "user", "manager", "role"] = "owner"
    user_id: str | None = None
    role: Literal["admin", "manager", "rep", "readonly"] | None = None
    team_id: str | None = None
    strategy: Literal["round_robin", "least_loaded"] = "round_robin"

    @model_validator(mode="after")
    def needs(self) -> Assignee:
        if self.to == "user" and not self.user_id:
            raise ValueError("name the user (user_id)")
        if self.to == "role" and not self.role:
            raise ValueError("name the role")
        return self


class Due(_Doc):
    """Due `amount` `unit` after the trigger; with `business_hours`, counted in the
    organisation's working week and hours."""

    amount: int = Field(default=0, ge=0, le=100000)
    unit: Literal["minutes", "hours", "days"] = "days"
    business_hours: bool = False


class CreateActivity(_Doc):
    """Create a task, call or meeting; `subject` and `body` are templates
    (`{{ contact.first_name }}`, `{{ deal.amount }}`…)."""

    type: Literal["create_activity"]
    kind: Literal["task", "call", "meeting"] = "task"
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=10000)
    assign: Assignee = Assignee()
    due: Due | None = None


class AssignOwner(_Doc):
    type: Literal["assign_owner"]
    assign: Assignee


class UpdateField(_Doc):
    """Set a field of the record (`custom.<key>` for a custom field); a text value is a
    template."""

    type: Literal["update_field"]
    field: str = Field(min_length=1, max_length=80)
    value: Scalar = None


class MoveStage(_Doc):
    type: Literal["move_stage"]
    stage_id: str


class AddTag(_Doc):
    type: Literal["add_tag"]
    tag: str = Field(min_length=1, max_length=80)


class RemoveTag(_Doc):
    type: Literal["remove_tag"]
    tag: str = Field(min_length=1, max_length=80)


class SendEmail(_Doc):
    """E-mail the record itself (its first e-mail address), its owner, or an address."""

    type: Literal["send_email"]
    to: Literal["record", "owner", "address"] = "record"
    address: str | None = None
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20000)


class SendSms(_Doc):
    type: Literal["send_sms"]
    to: Literal["record", "number"] = "record"
    number: str | None = None
    text: str = Field(min_length=1, max_length=1000)


class Recipient(_Doc):
    to: Literal["owner", "manager", "user", "role", "assignee"] = "owner"
    user_id: str | None = None
    role: Literal["admin", "manager", "rep", "readonly"] | None = None


class Notify(_Doc):
    """An in-app notification; people who may not see the record are skipped."""

    type: Literal["notify"]
    recipients: list[Recipient] = Field(min_length=1, max_length=20)
    message: str = Field(min_length=1, max_length=300)


class CallWebhook(_Doc):
    """POST the record's summary (and the trigger) to a webhook, signed, retried."""

    type: Literal["webhook"]
    webhook_id: str


class GenerateDocument(_Doc):
    """Reserved for documents from templates (not available yet: the run log says so)."""

    type: Literal["generate_document"]
    template: str = Field(min_length=1, max_length=120)


Action = Annotated[
    CreateActivity
    | AssignOwner
    | UpdateField
    | MoveStage
    | AddTag
    | RemoveTag
    | SendEmail
    | SendSms
    | Notify
    | CallWebhook
    | GenerateDocument,
    Field(discriminator="type"),
]


class RuleDocument(_Doc):
    trigger: Trigger
    conditions: Condition | None = None
    actions: list[Action] = Field(min_length=1, max_length=20)


def parse_document(trigger: Any, conditions: Any, actions: Any) -> RuleDocument:
    """The stored JSON of a rule as models (raises pydantic.ValidationError)."""
    return RuleDocument.model_validate(
        {"trigger": trigger, "conditions": conditions, "actions": actions}
    )


def entity_of(trigger: BaseModel) -> str | None:
    """The kind of record a trigger is about (None for a schedule without one)."""
    fixed = {
        "stage_entered": "deal",
        "stage_left": "deal",
        "deal_won": "deal",
        "deal_lost": "deal",
        "lead_created": "lead",
        "task_overdue": "activity",
    }
    kind = getattr(trigger, "type", "")
    return fixed.get(kind) or getattr(trigger, "entity", None)


def event_name_of(trigger: BaseModel) -> str:
    """The event that wakes a rule with this trigger ("" when the scheduler does)."""
    kind = getattr(trigger, "type", "")
    entity = getattr(trigger, "entity", None)
    return {
        "record_created": f"{entity}.created",
        "field_changed": f"{entity}.updated",
        "stage_entered": "deal.stage_changed",
        "stage_left": "deal.stage_changed",
        "deal_won": "deal.won",
        "deal_lost": "deal.lost",
        "lead_created": "lead.created",
    }.get(kind, "")
