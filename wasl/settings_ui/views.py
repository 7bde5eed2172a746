"""Settings pages: pipelines and stages, lost reasons, custom fields, tags, users and teams.

Administrators only, except the tags page, where managers may rename and recolour. Every
page reads through the apps' selectors and access functions and writes through their
services (which check the permission again and write the audit row).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from wasl.accounts import services as account_services
from wasl.accounts.access import access_team, access_user
from wasl.accounts.selectors import team_list, user_list
from wasl.contacts import services as contact_services
from wasl.contacts.access import access_custom_field, access_tag
from wasl.contacts.models import CustomFieldDefinition
from wasl.contacts.selectors import custom_field_list, tag_list
from wasl.core.errors import Conflict, Forbidden, Invalid, NotFound
from wasl.core.pagination import keyset_page
from wasl.core.visibility import Role, is_admin
from wasl.deals import services as deal_services
from wasl.deals.access import access_lost_reason, access_pipeline, access_stage
from wasl.deals.models import Stage
from wasl.deals.selectors import lost_reason_list, pipeline_list
from wasl.settings_ui import forms

View = Callable[..., HttpResponse]
INVALID = 422


def _guarded(allowed: Callable[[Any], bool]) -> Callable[[View], View]:
    """Refuse (403) users the page is not for; map the services' errors to responses."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(request.user):
                raise PermissionDenied
            request.wasl_section = "settings"  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404 from error
            except Forbidden as error:
                raise PermissionDenied from error

        return wrapper

    return decorate


admin_only = _guarded(is_admin)
tag_editors = _guarded(
    lambda user: bool(user.is_active and user.role in (Role.ADMIN, Role.MANAGER))
)


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    context.setdefault("is_admin", is_admin(request.user))
    return render(request, f"settings_ui/{template}", context, status=status)


def _invalid_message(request: HttpRequest, error: Invalid | Conflict) -> None:
    if isinstance(error, Conflict):
        messages.error(request, error.message)
        return
    for texts in error.fields.values():
        for text in texts:
            messages.error(request, text)


# ---------------------------------------------------------------- the settings home


@admin_only
def index(request: HttpRequest) -> HttpResponse:
    return _page(request, "index.html", {"section": "index"})


# ---------------------------------------------------------------- pipelines and stages


@admin_only
@require_http_methods(["GET", "POST"])
def pipelines(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = forms.PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = deal_services.pipeline_create(actor=actor, name=form.cleaned_data["name"])
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Pipeline created with the usual stages."))
            return redirect("settings:pipeline", public_id=pipeline.public_id)
    return _page(
        request,
        "pipelines.html",
        {
            "section": "pipelines",
            "pipelines": pipeline_list(actor=actor, include_inactive=True),
            "form": form,
        },
        status=INVALID if form.errors else 200,
    )


def _stage_forms(pipeline: Any, bound: dict[int, forms.StageForm] | None = None) -> list:
    rows = []
    stages = list(pipeline.stages.all())
    for index, stage in enumerate(stages):
        form = (bound or {}).get(stage.pk) or forms.StageForm(
            initial={"name": stage.name, "probability": stage.probability, "kind": stage.kind},
            auto_id=f"stage-{stage.public_id.hex[:10]}-%s",
        )
        form_id = f"stage-form-{stage.public_id.hex[:10]}"
        for field in form.fields.values():
            field.widget.attrs["form"] = form_id
        rows.append(
            {
                "stage": stage,
                "form": form,
                "form_id": form_id,
                "first": index == 0,
                "last": index == len(stages) - 1,
            }
        )
    return rows


def _pipeline_page(
    request: HttpRequest,
    pipeline: Any,
    *,
    rename: forms.PipelineForm | None = None,
    add: forms.StageForm | None = None,
    bound: dict[int, forms.StageForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    return _page(
        request,
        "pipeline.html",
        {
            "section": "pipelines",
            "pipeline": pipeline,
            "rename_form": rename or forms.PipelineForm(initial={"name": pipeline.name}),
            "add_form": add or forms.StageForm(auto_id="new-stage-%s"),
            "rows": _stage_forms(pipeline, bound),
            "kinds": dict(Stage.Kind.choices),
        },
        status=status,
    )


def _stage_table(request: HttpRequest, pipeline: Any) -> HttpResponse:
    return _page(
        request,
        "partials/stage_table.html",
        {"pipeline": pipeline, "rows": _stage_forms(pipeline)},
    )


@admin_only
@require_http_methods(["GET", "POST"])
def pipeline_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The pipeline's stages; POST renames it (`action=rename`), makes it the default,
    archives or restores it."""
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    if request.method == "GET":
        return _pipeline_page(request, pipeline)
    action = request.POST.get("action", "")
    changes: dict[str, Any]
    rename = None
    if action == "rename":
        rename = forms.PipelineForm(request.POST)
        if not rename.is_valid():
            return _pipeline_page(request, pipeline, rename=rename, status=INVALID)
        changes = {"name": rename.cleaned_data["name"]}
    elif action == "make_default":
        changes = {"is_default": True}
    elif action in ("archive", "restore"):
        changes = {"is_active": action == "restore"}
    else:
        return HttpResponse(status=400)
    try:
        deal_services.pipeline_update(actor=actor, pipeline=pipeline, **changes)
    except Invalid as error:
        if rename is not None:
            rename.add_service_errors(error)
            return _pipeline_page(request, pipeline, rename=rename, status=INVALID)
        _invalid_message(request, error)
    else:
        messages.success(request, _("Pipeline saved."))
    return redirect("settings:pipeline", public_id=pipeline.public_id)


@admin_only
@require_POST
def stage_create(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    form = forms.StageForm(request.POST, auto_id="new-stage-%s")
    if form.is_valid():
        try:
            deal_services.stage_create(
                actor=actor,
                pipeline=pipeline,
                name=form.cleaned_data["name"],
                probability=form.cleaned_data["probability"],
                kind=form.cleaned_data["kind"],
            )
        except Invalid as error:
            form.add_service_errors(error, {"stages": "name"})
        else:
            messages.success(request, _("Stage added."))
            return redirect("settings:pipeline", public_id=pipeline.public_id)
    return _pipeline_page(request, access_pipeline(actor, public_id), add=form, status=INVALID)


@admin_only
@require_POST
def stage_update(request: HttpRequest, public_id: str, stage_id: str) -> HttpResponse:
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    stage = access_stage(actor, stage_id, pipeline=pipeline)
    form = forms.StageForm(request.POST, auto_id=f"stage-{stage.public_id.hex[:10]}-%s")
    if form.is_valid():
        fields = {"name": form.cleaned_data["name"], "kind": form.cleaned_data["kind"]}
        if form.cleaned_data["probability"] is not None:
            fields["probability"] = form.cleaned_data["probability"]
        try:
            deal_services.stage_update(actor=actor, stage=stage, **fields)
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("settings:pipeline", public_id=pipeline.public_id)
    return _pipeline_page(request, pipeline, bound={stage.pk: form}, status=INVALID)


@admin_only
@require_POST
def stage_move(request: HttpRequest, public_id: str, stage_id: str) -> HttpResponse:
    """Move a stage one place up or down (the keyboard's way to reorder)."""
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    stage = access_stage(actor, stage_id, pipeline=pipeline)
    stages = list(pipeline.stages.all())
    index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    other = index + step
    if 0 <= other < len(stages):
        stages[index], stages[other] = stages[other], stages[index]
        deal_services.stage_reorder(actor=actor, pipeline=pipeline, stages=stages)
    if request.headers.get("HX-Request"):
        return _stage_table(request, access_pipeline(actor, public_id))
    return redirect("settings:pipeline", public_id=pipeline.public_id)


@admin_only
@require_POST
def stage_reorder(request: HttpRequest, public_id: str) -> HttpResponse:
    """Stages in the order dragged to: `stage` repeated, one public id each."""
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    by_id = {str(s.public_id): s for s in pipeline.stages.all()}
    given = request.POST.getlist("stage")
    try:
        if any(i not in by_id for i in given):
            raise Invalid({"stage_ids": [_("List every stage of this pipeline once.")]})
        deal_services.stage_reorder(
            actor=actor, pipeline=pipeline, stages=[by_id[i] for i in given]
        )
    except Invalid as error:
        if request.headers.get("HX-Request"):
            response = _stage_table(request, access_pipeline(actor, public_id))
            response.status_code = INVALID
            return response
        _invalid_message(request, error)
        return redirect("settings:pipeline", public_id=pipeline.public_id)
    if request.headers.get("HX-Request"):
        response = _stage_table(request, access_pipeline(actor, public_id))
        response["HX-Trigger"] = _notice(_("Order saved."))
        return response
    return redirect("settings:pipeline", public_id=pipeline.public_id)


@admin_only
@require_POST
def stage_delete(request: HttpRequest, public_id: str, stage_id: str) -> HttpResponse:
    actor = request.user
    pipeline = access_pipeline(actor, public_id)
    stage = access_stage(actor, stage_id, pipeline=pipeline)
    try:
        deal_services.stage_delete(actor=actor, stage=stage)
    except Invalid as error:
        _invalid_message(request, error)
    else:
        messages.success(request, _("Stage deleted."))
    return redirect("settings:pipeline", public_id=pipeline.public_id)


def _notice(message: str, level: str = "success") -> str:
    return json.dumps({"wasl:notice": {"message": message, "level": level}})


# ---------------------------------------------------------------- lost reasons


def _reason_rows(actor: Any, bound: dict[int, forms.LostReasonForm] | None = None) -> list:
    reasons = list(lost_reason_list(actor=actor, include_inactive=True))
    return [
        {
            "reason": reason,
            "form": (bound or {}).get(reason.pk)
            or forms.LostReasonForm(
                initial={"name": reason.name}, auto_id=f"reason-{reason.public_id.hex[:10]}-%s"
            ),
            "first": index == 0,
            "last": index == len(reasons) - 1,
        }
        for index, reason in enumerate(reasons)
    ]


def _reasons_page(request, *, add=None, bound=None, status=200) -> HttpResponse:
    return _page(
        request,
        "lost_reasons.html",
        {
            "section": "lost_reasons",
            "rows": _reason_rows(request.user, bound),
            "add_form": add or forms.LostReasonForm(auto_id="new-reason-%s"),
        },
        status=status,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def lost_reasons(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if request.method == "GET":
        return _reasons_page(request)
    form = forms.LostReasonForm(request.POST, auto_id="new-reason-%s")
    if form.is_valid():
        reasons = list(lost_reason_list(actor=actor, include_inactive=True))
        position = max((r.position for r in reasons), default=-1) + 1
        try:
            deal_services.lost_reason_create(
                actor=actor, name=form.cleaned_data["name"], position=min(position, 32767)
            )
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Reason added."))
            return redirect("settings:lost-reasons")
    return _reasons_page(request, add=form, status=INVALID)


@admin_only
@require_POST
def lost_reason_update(request: HttpRequest, public_id: str) -> HttpResponse:
    """`action=rename` (with `name`), `up`, `down`, `deactivate` or `activate`."""
    actor = request.user
    reason = access_lost_reason(actor, public_id)
    action = request.POST.get("action", "")
    if action == "rename":
        form = forms.LostReasonForm(request.POST, auto_id=f"reason-{reason.public_id.hex[:10]}-%s")
        if form.is_valid():
            try:
                deal_services.lost_reason_update(
                    actor=actor, reason=reason, name=form.cleaned_data["name"]
                )
            except Invalid as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Reason saved."))
                return redirect("settings:lost-reasons")
        return _reasons_page(request, bound={reason.pk: form}, status=INVALID)
    if action in ("deactivate", "activate"):
        deal_services.lost_reason_update(actor=actor, reason=reason, is_active=action == "activate")
        messages.success(request, _("Reason saved."))
    elif action in ("up", "down"):
        reasons = list(lost_reason_list(actor=actor, include_inactive=True))
        index = next(i for i, r in enumerate(reasons) if r.pk == reason.pk)
        other = index + (-1 if action == "up" else 1)
        if 0 <= other < len(reasons):
            reasons[index], reasons[other] = reasons[other], reasons[index]
            for position, item in enumerate(reasons):
                if item.position != position:
                    deal_services.lost_reason_update(actor=actor, reason=item, position=position)
    else:
        return HttpResponse(status=400)
    return redirect("settings:lost-reasons")


# ---------------------------------------------------------------- custom fields


def _entity(request: HttpRequest) -> str:
    entity = request.GET.get("entity") or request.POST.get("entity") or "contact"
    if entity not in CustomFieldDefinition.Entity.values:
        raise Http404
    return entity


@admin_only
@require_http_methods(["GET", "POST"])
def custom_fields(request: HttpRequest) -> HttpResponse:
    actor = request.user
    entity = _entity(request)
    form = forms.CustomFieldCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        existing = list(custom_field_list(actor=actor, entity=entity))
        try:
            contact_services.custom_field_create(
                actor=actor,
                entity=entity,
                key=data["key"].strip(),
                kind=data["kind"],
                label_en=data["label_en"],
                label_fa=data["label_fa"],
                label_ar=data["label_ar"],
                required=data["required"],
                choices=data["choices"],
                validation=data["validation"],
                position=min(max((d.position for d in existing), default=-1) + 1, 32767),
            )
        except Invalid as error:
            form.add_service_errors(
                error, {"choices": "choices_text", "validation": "pattern", "entity": "kind"}
            )
        else:
            messages.success(request, _("Field added."))
            return redirect(f"{reverse('settings:custom-fields')}?entity={entity}")
    return _page(
        request,
        "custom_fields.html",
        {
            "section": "custom_fields",
            "entity": entity,
            "entities": CustomFieldDefinition.Entity.choices,
            "definitions": custom_field_list(actor=actor, entity=entity).order_by("position", "id"),
            "form": form,
            "kind": form["kind"].value() or CustomFieldDefinition.Kind.TEXT,
            "kinds": dict(CustomFieldDefinition.Kind.choices),
        },
        status=INVALID if form.errors else 200,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    definition = access_custom_field(actor, public_id)
    form = forms.CustomFieldForm(
        request.POST or None,
        initial=forms.CustomFieldForm.initial_for(definition),
        kind=definition.kind,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contact_services.custom_field_update(
                actor=actor,
                definition=definition,
                label_en=data["label_en"].strip(),
                label_fa=data["label_fa"].strip(),
                label_ar=data["label_ar"].strip(),
                required=data["required"],
                choices=data["choices"],
                validation=data["validation"],
            )
        except Invalid as error:
            form.add_service_errors(error, {"choices": "choices_text", "validation": "pattern"})
        else:
            messages.success(request, _("Field saved."))
            return redirect(f"{reverse('settings:custom-fields')}?entity={definition.entity}")
    return _page(
        request,
        "custom_field.html",
        {
            "section": "custom_fields",
            "definition": definition,
            "form": form,
            "kinds": dict(CustomFieldDefinition.Kind.choices),
            "choice_kind": definition.kind in forms.CHOICE_KINDS,
            "number_kind": definition.kind in forms.NUMBER_KINDS,
            "text_kind": definition.kind in forms.TEXT_KINDS,
        },
        status=INVALID if form.errors else 200,
    )


@admin_only
@require_POST
def custom_field_deactivate(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    definition = access_custom_field(actor, public_id)
    contact_services.custom_field_delete(actor=actor, definition=definition)
    messages.success(request, _("Field deactivated; values already stored are kept."))
    return redirect(f"{reverse('settings:custom-fields')}?entity={definition.entity}")


# ---------------------------------------------------------------- tags

TAGS_PER_PAGE = 50


def _tags_page(request, *, bound=None, status=200) -> HttpResponse:
    tags, next_cursor = keyset_page(
        tag_list(actor=request.user),
        field="key",
        descending=False,
        cursor=request.GET.get("cursor") or None,
        limit=TAGS_PER_PAGE,
    )
    rows = [
        {
            "tag": tag,
            "form": (bound or {}).get(tag.pk)
            or forms.TagForm(
                initial={"name": tag.name, "color": tag.color or "#6c757d"},
                auto_id=f"tag-{tag.public_id.hex[:10]}-%s",
            ),
        }
        for tag in tags
    ]
    return _page(
        request,
        "tags.html",
        {"section": "tags", "rows": rows, "next_cursor": next_cursor},
        status=status,
    )


@tag_editors
@require_http_methods(["GET"])
def tags(request: HttpRequest) -> HttpResponse:
    try:
        return _tags_page(request)
    except Invalid as error:
        raise Http404 from error


@tag_editors
@require_POST
def tag_update(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    tag = access_tag(actor, public_id)
    form = forms.TagForm(request.POST, auto_id=f"tag-{tag.public_id.hex[:10]}-%s")
    if form.is_valid():
        try:
            contact_services.tag_update(
                actor=actor,
                tag=tag,
                name=form.cleaned_data["name"],
                color=form.cleaned_data["color"],
            )
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Tag saved."))
            return redirect("settings:tags")
    return _tags_page(request, bound={tag.pk: form}, status=INVALID)


@admin_only
@require_http_methods(["GET", "POST"])
def tag_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """GET asks for confirmation; POST deletes the tag everywhere."""
    actor = request.user
    tag = access_tag(actor, public_id)
    if request.method == "POST":
        contact_services.tag_delete(actor=actor, tag=tag)
        messages.success(request, _("Tag deleted."))
        return redirect("settings:tags")
    return _page(request, "tag_delete.html", {"section": "tags", "tag": tag})


# ---------------------------------------------------------------- users


def _team_by_id(actor: Any, value: str) -> Any:
    return access_team(actor, value) if value else None


@admin_only
@require_http_methods(["GET"])
def users(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "users.html",
        {
            "section": "users",
            "users": user_list(actor=request.user).order_by("-is_active", "username"),
            "roles": dict(Role.choices),
        },
    )


@admin_only
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    teams = list(team_list(actor=actor))
    form = forms.UserCreateForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = _team_by_id(actor, data["team"])
        try:
            user = account_services.user_create(
                actor=actor,
                username=data["username"],
                role=data["role"],
                team_name=team.name if team else None,
                password=data["password"] or None,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("settings:users")
    return _page(
        request,
        "user_form.html",
        {"section": "users", "form": form},
        status=INVALID if form.errors else 200,
    )


def _other_active_users(actor: Any, user: Any) -> list:
    return [u for u in user_list(actor=actor).filter(is_active=True) if u.pk != user.pk]


@admin_only
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    user = access_user(actor, public_id)
    teams = list(team_list(actor=actor))
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "team": str(user.team.public_id) if user.team else "",
        "is_active": user.is_active,
    }
    form = forms.UserEditForm(
        request.POST or None, initial=initial, teams=teams, editing_self=user.pk == actor.pk
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_services.user_update(
                actor=actor,
                user=user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=(data["email"] or "").lower(),
                role=data["role"],
                team=_team_by_id(actor, data["team"]),
                is_active=data["is_active"],
            )
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("User saved."))
            return redirect("settings:user", public_id=user.public_id)
    return _page(
        request,
        "user_edit.html",
        {
            "section": "users",
            "subject": user,
            "form": form,
            "reassign_form": forms.ReassignForm(users=_other_active_users(actor, user)),
        },
        status=INVALID if form.errors else 200,
    )


@admin_only
@require_POST
def user_reassign(request: HttpRequest, public_id: str) -> HttpResponse:
    """Give every record of a (leaving) user to another. The first POST shows what will
    happen and asks to confirm; the confirmed POST does it."""
    actor = request.user
    user = access_user(actor, public_id)
    form = forms.ReassignForm(request.POST, users=_other_active_users(actor, user))
    if form.is_valid():
        target = access_user(actor, form.cleaned_data["to_user"])
        if not form.cleaned_data["confirm"]:
            return _page(
                request,
                "user_reassign_confirm.html",
                {"section": "users", "subject": user, "target": target},
            )
        try:
            counts = account_services.user_reassign_records(
                actor=actor, from_user=user, to_user=target
            )
        except Invalid as error:
            _invalid_message(request, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d record moved from %(from)s to %(to)s.",
                    "%(count)d records moved from %(from)s to %(to)s.",
                    sum(counts.values()),
                )
                % {"count": sum(counts.values()), "from": user, "to": target},
            )
        return redirect("settings:user", public_id=user.public_id)
    return _page(
        request,
        "user_edit.html",
        {
            "section": "users",
            "subject": user,
            "form": forms.UserEditForm(
                initial={"role": user.role, "is_active": user.is_active},
                teams=list(team_list(actor=actor)),
            ),
            "reassign_form": form,
        },
        status=INVALID,
    )


# ---------------------------------------------------------------- teams


def _managers(actor: Any) -> list:
    return [
        u
        for u in user_list(actor=actor).filter(is_active=True)
        if u.role in (Role.MANAGER, Role.ADMIN)
    ]


def _teams_page(request, *, add=None, bound=None, status=200) -> HttpResponse:
    actor = request.user
    managers = _managers(actor)
    rows = [
        {
            "team": team,
            "form": (bound or {}).get(team.pk)
            or forms.TeamForm(
                initial={
                    "name": team.name,
                    "manager": str(team.manager.public_id) if team.manager else "",
                },
                managers=managers,
                auto_id=f"team-{team.public_id.hex[:10]}-%s",
            ),
        }
        for team in team_list(actor=actor)
    ]
    return _page(
        request,
        "teams.html",
        {
            "section": "teams",
            "rows": rows,
            "add_form": add or forms.TeamForm(managers=managers, auto_id="new-team-%s"),
        },
        status=status,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if request.method == "GET":
        return _teams_page(request)
    form = forms.TeamForm(request.POST, managers=_managers(actor), auto_id="new-team-%s")
    if form.is_valid():
        name = form.cleaned_data["name"].strip()
        if team_list(actor=actor).filter(name__iexact=name).exists():
            form.add_error("name", _("A team with this name exists."))
            form.mark_invalid()
        else:
            manager = form.cleaned_data["manager"]
            try:
                team = account_services.team_get_or_create(actor=actor, name=name)
                if manager:
                    account_services.team_update(
                        actor=actor, team=team, manager=access_user(actor, manager)
                    )
            except Invalid as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Team created."))
                return redirect("settings:teams")
    return _teams_page(request, add=form, status=INVALID)


@admin_only
@require_POST
def team_update(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    team = access_team(actor, public_id)
    form = forms.TeamForm(
        request.POST, managers=_managers(actor), auto_id=f"team-{team.public_id.hex[:10]}-%s"
    )
    if form.is_valid():
        manager = form.cleaned_data["manager"]
        try:
            account_services.team_update(
                actor=actor,
                team=team,
                name=form.cleaned_data["name"],
                manager=access_user(actor, manager) if manager else None,
            )
        except Invalid as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Team saved."))
            return redirect("settings:teams")
    return _teams_page(request, bound={team.pk: form}, status=INVALID)
