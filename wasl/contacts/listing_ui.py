"""List pages: declarative columns, filters read from the query string, sortable headers,
a column chooser, saved views, bulk actions, keyset pages with a capped count and inline
create. The contacts and companies pages use it; the leads, deals and activities pages
build their lists with it too (see docs/ui.md, "Lists").

A page declares a `ListSpec` once (module level) and calls `list_response(request, spec)`.
Every read goes through the spec's selector (already scoped by the visibility rule) and
`apply_common_filters`; every write of a bulk action through the domain service the action
names, per record, inside one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, get_script_prefix, get_urlconf, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wasl.accounts.selectors import team_list, user_list
from wasl.contacts.access import access_saved_view
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing import CommonFilters, apply_common_filters
from wasl.contacts.models import CustomFieldDefinition, SavedView
from wasl.contacts.selectors import list_views, tag_list, writable_ids
from wasl.contacts.services import list_columns_set, saved_view_delete, saved_view_save
from wasl.core.audit import json_value
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.forms import CalendarDateField
from wasl.core.pagination import MAX_LIMIT, _decode, _encode, keyset_page, resolve_sort
from wasl.core.text import normalise
from wasl.core.visibility import Role, can_assign_to

PAGE_SIZE = 25
COUNT_CAP = 1000
# Query parameters that describe a list (kept by links, pages and saved views).
BASE_PARAMS = ("owner", "team", "tag", "created_after", "created_before", "updated_after")
BASE_PARAMS += ("updated_before", "sort")
PAGING_PARAMS = ("cursor", "before")
Renderer = Callable[[Any], str]
# Columns whose header sorts A→Z (or soonest first) on the first click; others newest first.
ASCENDING_FIRST = ("name", "first_name", "last_name", "title", "subject", "due_at")


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Column:
    """One column: `render(record)` returns the cell's HTML, already escaped (build it with
    `format_html`; format dates, numbers and money with `wasl.core.formatting`, the same
    functions as the `local_date`, `digits` and `money` filters). `sort` names a key of the
    spec's `sorts` to make the header sortable."""

    key: str
    label: str | Promise
    render: Renderer
    sort: str = ""
    default: bool = True
    css: str = ""


@dataclass(frozen=True)
class ChoiceFilter:
    """A filter by one of a few values (source, stage, status): a select in the filter bar.
    `choices(actor)` lists (value, label); `apply(queryset, value)` narrows the queryset."""

    name: str
    label: str | Promise
    choices: Callable[[Any], Sequence[tuple[str, str | Promise]]]
    apply: Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass(frozen=True)
class ValueFilter:
    """A filter by a free value from the query string that the filter bar does not show
    (e.g. a linked record's public id from a record page's link); `apply(queryset, value)`
    narrows the queryset, giving an empty one for a value it does not know."""

    name: str
    apply: Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass(frozen=True)
class DateFilter:
    """A date field the filter bar's date range may use besides created and updated:
    `<name>_after` / `<name>_before` narrow `field`."""

    name: str
    label: str | Promise
    field: str


@dataclass(frozen=True)
class BulkAction:
    """An action on the selected rows. `apply(actor, record, params)` calls one domain
    service for one record; all records run inside one transaction, so a refusal (Forbidden,
    Invalid, NotFound, Conflict) leaves every record unchanged. `needs` names the input the
    toolbar shows with it: "owner", "tag", "stage" (the page gives `stage_choices`), "days"
    (a whole number of days) or ""."""

    key: str
    label: str | Promise
    apply: Callable[[Any, Any, dict[str, Any]], Any]
    needs: str = ""
    confirm: str | Promise = ""
    danger: bool = False
    icon: str = ""


@dataclass
class ListSpec:
    """Everything a list page declares. `selector(actor=...)` returns the visible records
    with what rows show already loaded; `row_url(record)` is the record page."""

    entity: str
    url_name: str
    selector: Callable[..., QuerySet[Any]]
    columns: Sequence[Column]
    sorts: Mapping[str, str]
    default_sort: str
    row_url: Callable[[Any], str]
    title: str | Promise = ""
    custom_entity: str | None = None
    has_tags: bool = True
    filters: Sequence[ChoiceFilter] = ()
    value_filters: Sequence[ValueFilter] = ()
    date_filters: Sequence[DateFilter] = ()
    # The date field the filter bar's range applies to when the request names none.
    default_date: str = "updated"
    bulk_actions: Sequence[BulkAction] = ()
    bulk_url_name: str = ""
    columns_url_name: str = ""
    views_url_name: str = ""
    create_url_name: str = ""
    create_label: str | Promise = ""
    inline_url_name: str = ""
    inline_template: str = ""
    stage_choices: Callable[[Any], Sequence[tuple[str, str]]] | None = None
    page_size: int = PAGE_SIZE
    count_cap: int = COUNT_CAP
    # The template of the whole page; the table partial is `partials/list/table.html`.
    template: str = "partials/list/page.html"

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def param_names(self) -> tuple[str, ...]:
        return (
            BASE_PARAMS
            + tuple(f.name for f in self.filters)
            + tuple(f.name for f in self.value_filters)
            + self.extra_date_params
        )

    @property
    def date_names(self) -> tuple[str, ...]:
        """The date fields the filter bar's range may use, by name."""
        return ("created", "updated", *(f.name for f in self.date_filters))

    @property
    def extra_date_params(self) -> tuple[str, ...]:
        return tuple(f"{f.name}_{end}" for f in self.date_filters for end in ("after", "before"))


# ---------------------------------------------------------------- record links

_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"


def record_link(name: str) -> Callable[[Any], str]:
    """A fast `reverse(name, kwargs={"public_id": ...})` for row links: the pattern is
    reversed once (per URLconf and script prefix) and the id put in its place, since a full
    reverse costs more than the rest of a row."""
    known: dict[tuple[Any, str], str] = {}

    def link(record_or_id: Any) -> str:
        key = (get_urlconf(), get_script_prefix())
        pattern = known.get(key)
        if pattern is None:
            pattern = known[key] = reverse(name, kwargs={"public_id": _PLACEHOLDER})
        public_id = getattr(record_or_id, "public_id", record_or_id)
        return pattern.replace(_PLACEHOLDER, str(public_id))

    return link


# ---------------------------------------------------------------- errors


def page_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Map the services' errors to pages: NotFound → 404, Forbidden → 403 (the shell's
    error pages). Invalid is the view's to show on its form; left over, it is a 422."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except Forbidden as error:
            return render(request, "403.html", {"exception": error.message}, status=403)
        except Invalid as error:
            return notice_response(_invalid_text(error), status=422)

    return wrapped


def _invalid_text(error: Invalid) -> str:
    problems = [m for messages in error.fields.values() for m in messages]
    return " ".join(problems) or error.message


def add_service_errors(form: Any, error: Invalid, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's field errors on a Django form (unknown fields as form errors)."""
    aliases = aliases or {}
    for name, problems in error.fields.items():
        target = aliases.get(name, name.replace(".", "_"))
        if target not in form.fields:
            target = aliases.get(name.split(".", 1)[0], name.split(".", 1)[0])
        for problem in problems:
            form.add_error(target if target in form.fields else None, problem)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def notice_response(message: str, *, level: str = "danger", status: int = 200) -> HttpResponse:
    """An empty htmx answer that only shows a notice (nothing is swapped)."""
    response = HttpResponse(status=status)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"wasl:notice": {"message": message, "level": level}})
    return response


def trigger(response: HttpResponse, **events: Any) -> HttpResponse:
    """Add htmx events (`HX-Trigger`) to a response, keeping any already there."""
    current = json.loads(response.get("HX-Trigger") or "{}")
    current.update(events)
    response["HX-Trigger"] = json.dumps(current)
    return response


# ---------------------------------------------------------------- state


@dataclass
class Row:
    record: Any
    id: str
    url: str
    cells: list[tuple[str, str]]  # (css class, HTML)
    writable: bool


@dataclass
class ListState:
    """A list request understood: its filters, sort, columns, view and page."""

    spec: ListSpec
    actor: Any
    params: dict[str, str]
    custom: dict[str, str]
    sort: str
    columns: list[Column]
    view: SavedView | None = None
    cursor: str | None = None
    before: str | None = None
    errors: list[str] = field(default_factory=list)
    explicit_columns: bool = False
    views: list[SavedView] = field(default_factory=list)
    # The filter bar's tags (name → id by normalised key), loaded once per page.
    tag_names: list[str] = field(default_factory=list)
    tag_ids: dict[str, int] = field(default_factory=dict)

    def query(self, **changes: str | None) -> str:
        """The list's query string with `changes` (None drops a parameter); paging
        parameters are dropped unless given."""
        values: dict[str, Any] = {k: v for k, v in self.params.items() if v}
        values.update({f"custom.{k}": v for k, v in self.custom.items() if v})
        if self.sort != self.spec.default_sort:
            values["sort"] = self.sort
        else:
            values.pop("sort", None)
        if self.view is not None:
            values["view"] = str(self.view.public_id)
        if self.explicit_columns:
            values["cols"] = ",".join(c.key for c in self.columns)
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return urlencode(values)

    def url(self, **changes: str | None) -> str:
        query = self.query(**changes)
        base = reverse(self.spec.url_name)
        return f"{base}?{query}" if query else base

    def saved_filters(self) -> dict[str, str]:
        """What a saved view keeps: every filter (not the page, the sort or the columns)."""
        values = {k: v for k, v in self.params.items() if v and k != "sort"}
        values.update({f"custom.{k}": v for k, v in self.custom.items() if v})
        return values

    @property
    def filtered(self) -> bool:
        return bool(self.saved_filters())


def _canonical_date(value: str) -> str:
    """An ISO date or datetime from a link or saved view, kept as given when it parses."""
    value = value.strip()
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    return value


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _parse_moment(value: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _read_dates(
    spec: ListSpec, source: QueryDict, params: dict[str, str], errors: list[str]
) -> None:
    """The date filter of the filter bar (`date_field`, `date_from`, `date_to` in the
    user's calendar; the end day is included) becomes `<field>_after`/`<field>_before`."""
    for which in spec.date_names:
        for end in ("after", "before"):
            name = f"{which}_{end}"
            if source.get(name):
                params[name] = _canonical_date(source[name])
    which = source.get("date_field") or spec.default_date
    if which not in spec.date_names:
        which = spec.default_date
    calendar_field = CalendarDateField(required=False)
    for raw_name, suffix, shift in (("date_from", "after", 0), ("date_to", "before", 1)):
        raw = (source.get(raw_name) or "").strip()
        if not raw:
            continue
        try:
            day = calendar_field.clean(raw)
        except ValidationError:
            errors.append(_("Enter a date as year/month/day in your calendar."))
            continue
        if day is not None:
            params[f"{which}_{suffix}"] = (day + dt.timedelta(days=shift)).isoformat()


def _column_keys(raw: str | Sequence[str]) -> list[str]:
    if isinstance(raw, str):
        return [key for key in raw.split(",") if key]
    return [key for item in raw for key in str(item).split(",") if key]


def read_state(request: HttpRequest, spec: ListSpec, source: QueryDict | None = None) -> ListState:
    """Read a list request: a saved view (`view=`) supplies filters, sort and columns that
    the query string may override; `cols=` chooses columns, else the user's chosen ones,
    else the spec's defaults."""
    actor = request.user
    source = source if source is not None else request.GET
    errors: list[str] = []
    views, settings_row = list_views(actor=actor, entity=spec.entity)
    view = None
    if source.get("view"):
        view = next((v for v in views if str(v.public_id) == source["view"]), None)
        if view is None:
            errors.append(_("This saved view does not exist any more."))
    params: dict[str, str] = {}
    custom: dict[str, str] = {}
    if view is not None:
        for key, value in view.filters.items():
            if key.startswith("custom."):
                custom[key.removeprefix("custom.")] = str(value)
            elif key in spec.param_names:
                params[key] = str(value)
        if view.sort:
            params["sort"] = view.sort
    for name in spec.param_names:
        if name in source and not name.endswith(("_after", "_before")):
            params[name] = source[name].strip()[:200]
    _read_dates(spec, source, params, errors)
    custom.update({k: v.strip()[:200] for k, v in custom_params_of(source).items()})
    if not spec.custom_entity:
        custom = {}
    sort = params.get("sort") or spec.default_sort
    try:
        resolve_sort(sort, spec.sorts, spec.default_sort)
    except Invalid:
        errors.append(_("This list cannot be sorted that way."))
        sort = spec.default_sort
    params["sort"] = sort
    explicit = bool(source.get("cols"))
    if explicit:
        keys = _column_keys(source.getlist("cols"))
    elif view is not None and view.columns:
        keys = list(view.columns)
    else:
        keys = list(settings_row.columns) if settings_row and settings_row.columns else []
    columns = [c for key in keys if (c := spec.column(key)) is not None]
    if not columns:
        columns = [c for c in spec.columns if c.default]
    if spec.columns[0] not in columns:
        columns.insert(0, spec.columns[0])
    return ListState(
        spec=spec,
        actor=actor,
        params=params,
        custom=custom,
        sort=sort,
        columns=columns,
        view=view,
        cursor=source.get("cursor") or None,
        before=source.get("before") or None,
        errors=errors,
        explicit_columns=explicit,
        views=views,
    )


def custom_params_of(source: QueryDict) -> dict[str, str]:
    """`custom.<key>=<value>` parameters (as `wasl.contacts.listing.custom_params`)."""
    return {
        key.removeprefix("custom."): value
        for key, value in source.items()
        if key.startswith("custom.") and len(key) > len("custom.")
    }


def filtered_queryset(state: ListState) -> QuerySet[Any]:
    """The spec's selector narrowed by the state's filters; Invalid filters give an empty
    list and their messages in `state.errors`."""
    spec = state.spec
    queryset = spec.selector(actor=state.actor)
    params = state.params
    try:
        filters = CommonFilters(
            owner=params.get("owner") or None,
            team=params.get("team") or None,
            tag=params.get("tag") or None,
            created_after=_parse_moment(params.get("created_after", "")),
            created_before=_parse_moment(params.get("created_before", "")),
            updated_after=_parse_moment(params.get("updated_after", "")),
            updated_before=_parse_moment(params.get("updated_before", "")),
        )
        queryset = apply_common_filters(
            queryset,
            filters,
            entity=spec.custom_entity,
            custom=state.custom or None,
            has_tags=spec.has_tags,
            tag_id=state.tag_ids.get(normalise(params["tag"])) if params.get("tag") else None,
        )
    except Invalid as error:
        state.errors.append(_invalid_text(error))
        return queryset.none()
    except ValueError:
        state.errors.append(_("Enter a date as year/month/day in your calendar."))
        return queryset.none()
    try:
        for date_filter in spec.date_filters:
            for end, lookup in (("after", "gte"), ("before", "lt")):
                moment = _parse_moment(params.get(f"{date_filter.name}_{end}", ""))
                if moment is not None:
                    queryset = queryset.filter(**{f"{date_filter.field}__{lookup}": moment})
    except ValueError:
        state.errors.append(_("Enter a date as year/month/day in your calendar."))
        return queryset.none()
    for choice in spec.filters:
        value = params.get(choice.name)
        if value:
            allowed = {str(v) for v, _label in choice.choices(state.actor)}
            if value not in allowed:
                state.errors.append(_("Choose one of the listed values."))
                return queryset.none()
            queryset = choice.apply(queryset, value)
    for value_filter in spec.value_filters:
        value = params.get(value_filter.name)
        if value:
            queryset = value_filter.apply(queryset, value)
    return queryset


# ---------------------------------------------------------------- pages


@dataclass
class Page:
    rows: list[Row]
    next: str | None
    previous: str | None
    count: int
    capped: bool


def _reverse_ordering(model_field: Any, field_name: str, descending: bool) -> list[Any]:
    """keyset_page's order walked backwards (it puts empty values last either way)."""
    if model_field.null:
        if descending:
            return [F(field_name).asc(nulls_first=True), "pk"]
        return [F(field_name).desc(nulls_first=True), "-pk"]
    prefix = "" if descending else "-"
    return [f"{prefix}{field_name}", f"{prefix}pk"]


def keyset_page_before(
    queryset: QuerySet[Any], *, field: str, descending: bool, cursor: str, limit: int
) -> tuple[list[Any], str | None]:
    """The page that ends just before the row `cursor` names (in keyset_page's order), and
    the cursor of the page before it (None at the start)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    model_field = queryset.model._meta.get_field(field)
    raw_value, raw_id = _decode(cursor)
    try:
        value = model_field.to_python(raw_value) if raw_value is not None else None
        first_id = int(raw_id)
    except (ValueError, TypeError) as error:
        raise Invalid({"cursor": [_("This cursor is not valid.")]}) from error
    op = "gt" if descending else "lt"
    if value is None:
        earlier = Q(**{f"{field}__isnull": True, f"pk__{op}": first_id}) | Q(
            **{f"{field}__isnull": False}
        )
    else:
        # `f >= v AND (f > v OR pk > id)` (descending) keeps a bound range on the index,
        # as in keyset_page.
        bound = "gte" if descending else "lte"
        earlier = Q(**{f"{field}__{bound}": value}) & (
            Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": first_id})
        )
    rows = list(
        queryset.filter(earlier).order_by(*_reverse_ordering(model_field, field, descending))[
            : limit + 1
        ]
    )
    more = len(rows) > limit
    rows = list(reversed(rows[:limit]))
    previous = _row_cursor(rows[0], model_field) if more and rows else None
    return rows, previous


def _row_cursor(record: Any, model_field: Any) -> str:
    return _encode([json_value(getattr(record, model_field.attname)), record.pk])


def capped_count(queryset: QuerySet[Any], cap: int) -> tuple[int, bool]:
    """How many rows match, counting at most `cap` + 1 (one LIMIT query, no full count)."""
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


def counting_queryset(state: ListState, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
    """The list's rows shaped for the capped count, when that differs: the tag filter is an
    EXISTS probe so that a page walks the list's sort index; for counting, the same filter
    also joined lets the planner start from the tag's rows instead (tens of milliseconds
    at a million contacts when a rep owns many). None when the page's shape is right."""
    tag = state.params.get("tag")
    if not tag or not state.spec.has_tags:
        return None
    tag_id = state.tag_ids.get(normalise(tag))
    return None if tag_id is None else queryset.filter(tags=tag_id)


def load_page(
    state: ListState, queryset: QuerySet[Any], count_queryset: QuerySet[Any] | None = None
) -> Page:
    spec = state.spec
    field_name, descending = resolve_sort(state.sort, spec.sorts, spec.default_sort)
    model_field = queryset.model._meta.get_field(field_name)
    previous: str | None = None
    try:
        if state.before:
            records, previous = keyset_page_before(
                queryset,
                field=field_name,
                descending=descending,
                cursor=state.before,
                limit=spec.page_size,
            )
            following = _row_cursor(records[-1], model_field) if records else None
        else:
            records, following = keyset_page(
                queryset,
                field=field_name,
                descending=descending,
                cursor=state.cursor,
                limit=spec.page_size,
            )
            if state.cursor and records:
                previous = _row_cursor(records[0], model_field)
    except Invalid as error:
        state.errors.append(_invalid_text(error))
        records, following, previous = [], None, None
    count, capped = capped_count(
        queryset if count_queryset is None else count_queryset, spec.count_cap
    )
    return Page(
        rows=build_rows(state, records),
        next=following,
        previous=previous,
        count=count,
        capped=capped,
    )


def build_rows(state: ListState, records: list[Any]) -> list[Row]:
    spec = state.spec
    writable = writable_ids(state.actor, records) if spec.bulk_actions else set()
    return [
        Row(
            record=record,
            id=str(record.public_id),
            url=spec.row_url(record),
            cells=[(column.css, column.render(record)) for column in state.columns],
            writable=record.pk in writable,
        )
        for record in records
    ]


def _can_write_records(actor: Any) -> bool:
    return bool(actor.is_active and actor.role != Role.READONLY)


def _custom_filter_fields(entity: str | None, values: Mapping[str, str]) -> list[dict[str, Any]]:
    if not entity:
        return []
    language = (get_language() or "en").split("-")[0]
    fields = []
    for definition in definitions_for(entity).values():
        choices: list[tuple[str, str]] = []
        if definition.kind in (
            CustomFieldDefinition.Kind.CHOICE,
            CustomFieldDefinition.Kind.MULTI_CHOICE,
        ):
            choices = [
                (str(c.get("value")), str(c.get(language) or c.get("en") or c.get("value")))
                for c in definition.choices
                if isinstance(c, dict)
            ]
        elif definition.kind == CustomFieldDefinition.Kind.BOOLEAN:
            choices = [("true", _("Yes")), ("false", _("No"))]
        fields.append(
            {
                "key": definition.key,
                "label": definition.label,
                "choices": choices,
                "value": values.get(definition.key, ""),
            }
        )
    return fields


def list_context(request: HttpRequest, spec: ListSpec, state: ListState) -> dict[str, Any]:
    """Everything `partials/list/page.html` and `partials/list/table.html` show."""
    actor = state.actor
    if spec.has_tags:
        for pk, name, key in tag_list(actor=actor).values_list("pk", "name", "key")[:300]:
            state.tag_names.append(name)
            state.tag_ids[key] = pk
    queryset = filtered_queryset(state)
    page = load_page(state, queryset, counting_queryset(state, queryset))
    sort_field = state.sort.lstrip("-")
    descending = state.sort.startswith("-")
    headers = []
    for column in state.columns:
        header: dict[str, Any] = {"column": column, "url": "", "aria": "none"}
        if column.sort:
            active = column.sort == sort_field
            next_sort = column.sort if (active and descending) else f"-{column.sort}"
            if not active and column.sort in ASCENDING_FIRST:
                next_sort = column.sort
            header["url"] = state.url(sort=next_sort)
            if active:
                header["aria"] = "descending" if descending else "ascending"
        headers.append(header)
    people = [u for u in user_list(actor=actor) if u.is_active]
    writer = _can_write_records(actor)
    assignees = [u for u in people if can_assign_to(actor, u)]
    return {
        "spec": spec,
        "state": state,
        "page": page,
        "headers": headers,
        "people": people,
        "teams": list(team_list(actor=actor)),
        "tags": state.tag_names,
        "choice_filters": [
            {"filter": f, "choices": f.choices(actor), "value": state.params.get(f.name, "")}
            for f in spec.filters
        ],
        **(_more_filters(spec, state) if _more_filters_open(spec, state) else {}),
        "more_filters_open": _more_filters_open(spec, state),
        "views": state.views,
        "may_share": actor.role in (Role.ADMIN, Role.MANAGER),
        "bulk_actions": _offered_actions(spec, assignees) if writer else (),
        "assignees": assignees,
        "needs_tag": writer and any(a.needs == "tag" for a in spec.bulk_actions),
        "create_url": reverse(spec.create_url_name) if spec.create_url_name and writer else "",
        "create_label": spec.create_label,
        "stage_choices": spec.stage_choices(actor) if spec.stage_choices and writer else [],
        "can_create": writer and bool(spec.inline_url_name),
        "next_url": state.url(cursor=page.next) if page.next else "",
        "previous_url": state.url(before=page.previous)
        if page.previous
        else (state.url() if state.cursor or state.before else ""),
        "list_url": reverse(spec.url_name),
        "query": state.query(),
        "all_columns": spec.columns,
        "shown_columns": {c.key for c in state.columns},
    }


def _offered_actions(spec: ListSpec, assignees: list[Any]) -> tuple[BulkAction, ...]:
    """The bulk actions a writer is offered: "assign" only when someone other than the
    actor may receive the records (`can_assign_to` gave `assignees`)."""
    if len(assignees) > 1:
        return spec.bulk_actions
    return tuple(a for a in spec.bulk_actions if a.needs != "owner")


def _more_filters_open(spec: ListSpec, state: ListState) -> bool:
    dated = any(state.params.get(f"{w}_{e}") for w in spec.date_names for e in ("after", "before"))
    return bool(dated or state.custom)


def _more_filters(spec: ListSpec, state: ListState) -> dict[str, Any]:
    used = next(
        (
            w
            for w in spec.date_names
            if state.params.get(f"{w}_after") or state.params.get(f"{w}_before")
        ),
        spec.default_date,
    )
    return {
        "custom_fields": _custom_filter_fields(spec.custom_entity, state.custom),
        "date_field": used,
        "date_choices": [(f.name, f.label) for f in spec.date_filters],
        "date_from": _date_param(spec, state.params, "after"),
        "date_to": _date_param(spec, state.params, "before", shift=-1),
    }


def _date_param(
    spec: ListSpec, params: Mapping[str, str], suffix: str, shift: int = 0
) -> dt.date | None:
    for which in spec.date_names:
        value = params.get(f"{which}_{suffix}")
        if value:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                return None
            return moment.date() + dt.timedelta(days=shift)
    return None


def list_response(
    request: HttpRequest, spec: ListSpec, extra: Mapping[str, Any] | None = None
) -> HttpResponse:
    """The list page, or (for htmx filter, sort, page and column changes) its table."""
    state = read_state(request, spec)
    if request.GET.get("part") == "more-filters":
        # The filter bar's date and custom field filters, loaded when first opened.
        return render(request, "partials/list/more_filters.html", _more_filters(spec, state))
    context = {**list_context(request, spec, state), **(extra or {})}
    if is_htmx(request) and request.headers.get("HX-Target") == "list-table":
        return render(request, "partials/list/table.html", context)
    return render(request, spec.template, context)


# ---------------------------------------------------------------- writes


MAX_BULK = MAX_LIMIT


def run_bulk(
    *, actor: Any, records: Iterable[Any], action: BulkAction, params: dict[str, Any]
) -> int:
    """Apply a bulk action to each record through its service, all in one transaction:
    either every record changes or none does. Returns how many records were changed."""
    done = 0
    with transaction.atomic():
        for record in records:
            action.apply(actor, record, params)
            done += 1
    return done


def bulk_response(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    """POST: `action`, `ids` (public ids of the selected rows), the action's input and
    `q` (the list's query string). Answers the refreshed table (htmx) or redirects."""
    actor = request.user
    query = request.POST.get("q", "")
    action = next((a for a in spec.bulk_actions if a.key == request.POST.get("action")), None)
    if action is None or not _can_write_records(actor):
        raise Forbidden()
    ids = [i for i in request.POST.getlist("ids") if i][:MAX_BULK]
    if not ids:
        return _bulk_answer(request, spec, query, _("Select at least one row."), "warning")
    records = _selected(spec, actor, ids)
    if len(records) != len(set(ids)):
        raise NotFound()
    if action.confirm and request.POST.get("confirmed") != "1":
        context = {"spec": spec, "action": action, "records": records, "query": query}
        context["post"] = request.POST
        return render(request, "partials/list/confirm.html", context)
    try:
        params: dict[str, Any] = request.POST.dict()
        done = run_bulk(actor=actor, records=records, action=action, params=params)
    except (Forbidden, NotFound) as error:
        message = _("Nothing was changed: %(reason)s") % {"reason": error.message}
        return _bulk_answer(request, spec, query, message, "danger", status=403)
    except (Invalid, Conflict) as error:
        reason = _invalid_text(error) if isinstance(error, Invalid) else error.message
        message = _("Nothing was changed: %(reason)s") % {"reason": reason}
        return _bulk_answer(request, spec, query, message, "danger", status=422)
    message = ngettext("%(action)s: %(count)d record.", "%(action)s: %(count)d records.", done) % {
        "action": action.label,
        "count": done,
    }
    return _bulk_answer(request, spec, query, message, "success")


def _selected(spec: ListSpec, actor: Any, ids: list[str]) -> list[Any]:
    parsed = []
    for value in ids:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError as error:
            raise NotFound() from error
    return list(spec.selector(actor=actor).filter(public_id__in=parsed))


def _bulk_answer(
    request: HttpRequest,
    spec: ListSpec,
    query: str,
    message: str,
    level: str,
    status: int = 200,
) -> HttpResponse:
    if not is_htmx(request):
        if level == "success":
            messages.success(request, message)
        elif status == 200:
            messages.warning(request, message)
        else:
            messages.error(request, message)
        target = reverse(spec.url_name)
        return redirect(f"{target}?{query}" if query else target)
    if status != 200:
        return notice_response(message, level=level)
    source = QueryDict(query)
    state = read_state(request, spec, source)
    response = render(request, "partials/list/table.html", list_context(request, spec, state))
    response["HX-Retarget"] = "#list-table"
    response["HX-Reswap"] = "outerHTML"
    return trigger(response, **{"wasl:notice": {"message": message, "level": level}})


def columns_response(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    """POST from the column chooser: remember the columns for this user and show them."""
    keys = [k for k in request.POST.getlist("cols") if spec.column(k) is not None]
    list_columns_set(actor=request.user, entity=spec.entity, columns=keys)
    source = QueryDict(request.POST.get("q", ""), mutable=True)
    source.pop("cols", None)
    if source.get("view"):
        # A view's own columns would hide the choice: show it explicitly.
        source["cols"] = ",".join(keys)
    state = read_state(request, spec, source)
    if not is_htmx(request):
        return redirect(state.url())
    response = render(request, "partials/list/table.html", list_context(request, spec, state))
    response["HX-Push-Url"] = state.url()
    return response


def saved_view_response(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    """POST: save the list's current filters, sort and columns (`q`) as a named view, or
    (with `view`) replace that view; `delete=1` deletes it. Redirects to the list."""
    actor = request.user
    source = QueryDict(request.POST.get("q", ""))
    existing = None
    if request.POST.get("view"):
        existing = access_saved_view(actor, request.POST["view"], entity=spec.entity)
    if existing is not None and request.POST.get("delete") == "1":
        saved_view_delete(actor=actor, view=existing)
        messages.success(request, _("The view was deleted."))
        return redirect(reverse(spec.url_name))
    state = read_state(request, spec, source)
    try:
        view = saved_view_save(
            actor=actor,
            entity=spec.entity,
            name=request.POST.get("name", "") or (existing.name if existing else ""),
            filters=state.saved_filters(),
            columns=[c.key for c in state.columns],
            sort=state.sort if state.sort != spec.default_sort else "",
            is_shared=request.POST.get("is_shared") == "on",
            view=existing,
        )
    except Invalid as error:
        messages.error(request, _invalid_text(error))
        return redirect(state.url())
    messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
    state.view = view
    state.explicit_columns = False
    return redirect(state.url())


# ---------------------------------------------------------------- inline create


def inline_row_response(request: HttpRequest, spec: ListSpec, record: Any) -> HttpResponse:
    """The new record's row, for htmx to put at the top of the table."""
    state = read_state(request, spec, QueryDict(request.POST.get("q", "")))
    context = {"spec": spec, "state": state, "rows": build_rows(state, [record])}
    context["bulk_actions"] = spec.bulk_actions if _can_write_records(request.user) else ()
    response = render(request, "partials/list/rows.html", context)
    return trigger(
        response,
        **{
            "wasl:notice": {"message": _("Added."), "level": "success"},
            "list-row-added": {},
        },
    )


def inline_error_response(
    request: HttpRequest, template: str, context: dict[str, Any]
) -> HttpResponse:
    """The inline form again with its errors, swapped in place of itself."""
    response = render(request, template, context)
    response["HX-Retarget"] = "#inline-create"
    response["HX-Reswap"] = "outerHTML"
    return response


# ---------------------------------------------------------------- pages from specs


def _local_name(url_name: str) -> str:
    """ "contacts:contact-list" → "contact-list" (the app's urls.py sets the namespace)."""
    return url_name.rpartition(":")[2]


@dataclass
class ListPage:
    """A list page's views and URL patterns made from its spec: the list (GET), bulk
    actions, the column chooser and saved views (POST), and with `inline_form` and
    `inline_create` the quick-add row. Each entity declares one; its views are
    `page.list_view`, `page.bulk_view`, `page.columns_view`, `page.views_view` and
    `page.inline_view`, and `page.urls(prefix)` names them after the spec's URL names.

    `inline_create(actor, cleaned_data)` calls the create service; `inline_aliases` maps
    the service's field names to the form's; `inline_form_kwargs(actor)` gives the form
    what it offers the actor (stages, say)."""

    spec: ListSpec
    section: str
    inline_form: Any = None
    inline_create: Callable[[Any, dict[str, Any]], Any] | None = None
    inline_form_kwargs: Callable[[Any], dict[str, Any]] | None = None
    inline_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.list_view = self._named("list", require_GET(page_errors(self._list)))
        self.bulk_view = self._named("bulk", require_POST(page_errors(self._bulk)))
        self.columns_view = self._named("columns", require_POST(page_errors(self._columns)))
        self.views_view = self._named("views", require_POST(page_errors(self._views)))
        self.inline_view = self._named("inline", require_POST(page_errors(self._inline)))

    def _named(self, what: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view.__name__ = view.__qualname__ = f"{self.spec.entity}_{what}"
        return view

    def _list(self, request: HttpRequest) -> HttpResponse:
        request.wasl_section = self.section  # type: ignore[attr-defined]
        extra = None
        if self.inline_form is not None and _can_write_records(request.user):
            extra = {"inline_form": self.inline_form(**self._inline_kwargs(request.user))}
        return list_response(request, self.spec, extra)

    def _inline_kwargs(self, actor: Any) -> dict[str, Any]:
        return self.inline_form_kwargs(actor) if self.inline_form_kwargs is not None else {}

    def _bulk(self, request: HttpRequest) -> HttpResponse:
        return bulk_response(request, self.spec)

    def _columns(self, request: HttpRequest) -> HttpResponse:
        return columns_response(request, self.spec)

    def _views(self, request: HttpRequest) -> HttpResponse:
        return saved_view_response(request, self.spec)

    def _inline(self, request: HttpRequest) -> HttpResponse:
        """Quick add from the list → the create service → the new row at the top."""
        if self.inline_form is None or self.inline_create is None:
            raise Http404()
        actor = request.user
        if not _can_write_records(actor):
            raise Forbidden()
        form = self.inline_form(request.POST, **self._inline_kwargs(actor))
        if form.is_valid():
            try:
                record = self.inline_create(actor, form.cleaned_data)
            except Invalid as error:
                add_service_errors(form, error, self.inline_aliases)
            else:
                record = self.spec.selector(actor=actor).get(pk=record.pk)
                return inline_row_response(request, self.spec, record)
        context = {"inline_form": form, "spec": self.spec, "query": request.POST.get("q", "")}
        return inline_error_response(request, self.spec.inline_template, context)

    def urls(self, prefix: str = "") -> list[URLPattern]:
        """The list at `prefix`, then `bulk/`, `columns/`, `views/` (and `quick-add/`)
        under it, named as the spec names them."""
        spec = self.spec
        patterns = [
            path(prefix, self.list_view, name=_local_name(spec.url_name)),
            path(f"{prefix}bulk/", self.bulk_view, name=_local_name(spec.bulk_url_name)),
            path(f"{prefix}columns/", self.columns_view, name=_local_name(spec.columns_url_name)),
            path(f"{prefix}views/", self.views_view, name=_local_name(spec.views_url_name)),
        ]
        if spec.inline_url_name and self.inline_form is not None:
            name = _local_name(spec.inline_url_name)
            patterns.append(path(f"{prefix}quick-add/", self.inline_view, name=name))
        return patterns
