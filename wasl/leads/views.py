"""Lead pages: the record page with edits and status changes, and conversion to a contact,
company and deal. Views load through `access_lead` and the selectors the API uses and write
through the lead services; NotFound and Forbidden become 404 and 403 pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from wasl.accounts.selectors import user_list
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.listing_ui import (
    BulkAction,
    ChoiceFilter,
    ListPage,
    ListSpec,
    record_link,
)
from wasl.contacts.listing_ui import Column as ListColumn
from wasl.contacts.models import Source
from wasl.contacts.views import bulk_actions, custom_display
from wasl.core import formatting
from wasl.core.errors import Conflict, Invalid
from wasl.core.phones import format_phone
from wasl.core.visibility import can_write
from wasl.deals.access import access_stage
from wasl.deals.selectors import pipeline_list
from wasl.leads import services
from wasl.leads.access import access_lead
from wasl.leads.forms import ConvertForm, LeadForm, QuickLeadForm, StatusForm
from wasl.leads.models import Lead
from wasl.leads.selectors import lead_rows

Status = Lead.Status


def _owners(actor: Any, current: Any) -> list[Any]:
    owners = [u for u in user_list(actor=actor) if u.is_active]
    if current is not None and current not in owners:
        owners.append(current)
    return owners


def _lead_form(actor: Any, lead: Lead, data: Any = None) -> LeadForm:
    return LeadForm(
        data,
        owners=_owners(actor, lead.owner),
        definitions=definitions_for("lead").values(),
        custom=lead.custom,
        initial={
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "company_name": lead.company_name,
            "title": lead.title,
            "email": lead.email,
            "phone": lead.phone,
            "website": lead.website,
            "city": lead.city,
            "source": lead.source,
            "owner": str(lead.owner.public_id),
            "tags": ", ".join(sorted(t.name for t in lead.tags.all())),
            "notes": lead.notes,
        },
    )


def _detail_context(
    request: HttpRequest,
    lead: Lead,
    *,
    form: LeadForm | None = None,
    status_form: StatusForm | None = None,
) -> dict[str, Any]:
    actor = request.user
    writable = can_write(actor, lead) and lead.status != Status.CONVERTED
    definitions = list(definitions_for("lead").values())
    return {
        "lead": lead,
        "writable": writable,
        "form": form if form is not None else (_lead_form(actor, lead) if writable else None),
        "status_form": status_form
        if status_form is not None
        else StatusForm(initial={"status": Status.DISQUALIFIED}),
        "statuses": [(s.value, s.label) for s in Status if s != Status.CONVERTED],
        "custom_values": [
            (d.label, custom_display(d, lead.custom.get(d.key)))
            for d in definitions
            if lead.custom.get(d.key) not in (None, "", [])
        ],
        "tags": sorted(t.name for t in lead.tags.all()),
        "phone_digits": lead.phone.lstrip("+"),
        "timeline_url": reverse("records:timeline", args=["lead", lead.public_id]),
    }


@require_http_methods(["GET"])
def lead_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A lead's record page: key facts, quick contact links, status, fields, timeline."""
    lead = access_lead(request.user, public_id)
    request.wasl_section = "leads"  # type: ignore[attr-defined]
    return render(request, "leads/lead_detail.html", _detail_context(request, lead))


@require_POST
def lead_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Save the record page's form through `lead_update`; errors re-show the page (422)."""
    actor = request.user
    lead = access_lead(actor, public_id, for_write=True)
    form = _lead_form(actor, lead, request.POST)
    if form.is_valid():
        owner_id = form.cleaned_data.get("owner")
        owner = next((u for u in _owners(actor, None) if str(u.public_id) == owner_id), None)
        try:
            services.lead_update(
                actor=actor,
                lead=lead,
                owner=owner if owner is not None else lead.owner,
                tags=form.tag_names(),
                custom=form.custom_values(),
                **form.lead_fields(),
            )
        except Invalid as error:
            form.add_service_errors(error.fields)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("leads:lead-detail", public_id=lead.public_id)
        else:
            messages.success(request, _("The lead was saved."))
            return redirect("leads:lead-detail", public_id=lead.public_id)
    context = _detail_context(request, lead, form=form)
    context["edit_open"] = True
    return render(request, "leads/lead_detail.html", context, status=422)


@require_POST
def lead_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move a lead to new, contacted, qualified or disqualified (which needs a reason)."""
    actor = request.user
    lead = access_lead(actor, public_id, for_write=True)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.lead_set_status(
                actor=actor,
                lead=lead,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data.get("reason") or "",
            )
        except Invalid as error:
            for name, problems in error.fields.items():
                field = "reason" if name == "disqualify_reason" else name
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("leads:lead-detail", public_id=lead.public_id)
        else:
            messages.success(
                request,
                _("The lead is now %(status)s.")
                % {"status": Status(form.cleaned_data["status"]).label.lower()},
            )
            return redirect("leads:lead-detail", public_id=lead.public_id)
    context = _detail_context(request, lead, status_form=form)
    context["status_open"] = True
    return render(request, "leads/lead_detail.html", context, status=422)


@require_http_methods(["GET", "POST"])
def lead_convert(request: HttpRequest, public_id: str) -> HttpResponse:
    """The conversion page: which of your contacts and companies it will reuse (or create),
    an optional deal, then `lead_convert` and on to the new contact. Converting twice
    changes nothing: a converted lead shows what it became."""
    actor = request.user
    lead = access_lead(actor, public_id, for_write=request.method == "POST")
    pipelines = list(pipeline_list(actor=actor))
    form = ConvertForm(
        request.POST if request.method == "POST" else None,
        pipelines=pipelines,
        initial={
            "deal_title": lead.company_name or str(lead),
            "create_deal": False,
        },
    )
    if request.method == "POST" and lead.status != Status.CONVERTED and form.is_valid():
        data = form.cleaned_data
        stage = access_stage(actor, data["stage"]) if data.get("stage") else None
        try:
            result = services.lead_convert(
                actor=actor,
                lead=lead,
                create_deal=data["create_deal"],
                deal_title=data.get("deal_title") or "",
                deal_amount=data.get("deal_amount"),
                deal_currency=(data.get("deal_currency") or "").upper() or None,
                pipeline=stage.pipeline if stage else None,
                stage=stage,
            )
        except Invalid as error:
            for name, problems in error.fields.items():
                field = {"stage_id": "stage", "amount": "deal_amount"}.get(name, name)
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The lead was converted."))
            if result.contact is not None:
                return redirect("web:resolve", kind="contact", public_id=result.contact.public_id)
            if result.company is not None:
                return redirect("web:resolve", kind="company", public_id=result.company.public_id)
            return redirect("leads:lead-detail", public_id=lead.public_id)
    elif request.method == "POST" and lead.status == Status.CONVERTED:
        return redirect("leads:lead-convert", public_id=lead.public_id)
    preview = services.lead_conversion_preview(actor=actor, lead=lead)
    context = {
        "lead": lead,
        "preview": preview,
        "form": form,
        "can_convert": can_write(actor, lead)
        and lead.status not in (Status.CONVERTED, Status.DISQUALIFIED),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/convert.html", context, status=status)


# ---------------------------------------------------------------- list

lead_url = record_link("leads:lead-detail")

_STATUS_BADGES = {
    Status.NEW: "text-bg-info",
    Status.CONTACTED: "text-bg-warning",
    Status.QUALIFIED: "text-bg-primary",
    Status.DISQUALIFIED: "text-bg-secondary",
    Status.CONVERTED: "text-bg-success",
}


def _name_cell(lead: Lead) -> str:
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    return format_html(
        '<a href="{}" class="fw-semibold">{}</a>', lead_url(lead), name or lead.email or "—"
    )


def _status_cell(lead: Lead) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        _STATUS_BADGES.get(lead.status, "text-bg-light"),
        lead.get_status_display(),
    )


def _email_cell(lead: Lead) -> str:
    if not lead.email:
        return ""
    return format_html('<a href="mailto:{}" dir="ltr">{}</a>', lead.email, lead.email)


def _phone_cell(lead: Lead) -> str:
    if not lead.phone:
        return ""
    return format_html('<span dir="ltr">{}</span>', formatting.digits(format_phone(lead.phone)))


def _text(attribute: str) -> Any:
    def cell(record: Any) -> str:
        return format_html("{}", getattr(record, attribute) or "")

    return cell


def _tags_cell(record: Any) -> str:
    return format_html_join(
        " ",
        '<span class="badge text-bg-light border">{}</span>',
        ((t.name,) for t in record.tags.all()),
    )


def _date_cell(attribute: str) -> Any:
    def cell(record: Any) -> str:
        value = getattr(record, attribute)
        return format_html(
            '<span title="{}">{}</span>',
            formatting.local_datetime(value),
            formatting.relative(value),
        )

    return cell


def _status_choices(actor: Any) -> list[tuple[str, Any]]:
    return list(Status.choices)


def _source_choices(actor: Any) -> list[tuple[str, Any]]:
    return list(Source.choices)


def _set_status_in_bulk(actor: Any, lead: Lead, params: dict[str, Any]) -> Lead:
    status = params.get("status") or ""
    if status not in (Status.NEW, Status.CONTACTED, Status.QUALIFIED):
        raise Invalid({"status": [_("Choose new, contacted or qualified.")]})
    return services.lead_set_status(actor=actor, lead=lead, status=status)


def _bulk_status(label: Any, status: str) -> BulkAction:
    def apply(actor: Any, lead: Lead, params: dict[str, Any]) -> Lead:
        return _set_status_in_bulk(actor, lead, {**params, "status": status})

    return BulkAction(f"status_{status}", label, apply, icon="bi-flag")


LEADS = ListSpec(
    entity="lead",
    url_name="leads:lead-list",
    selector=lead_rows,
    title=gettext_lazy("Leads"),
    columns=(
        ListColumn("name", gettext_lazy("Name"), _name_cell, sort="last_name"),
        ListColumn("company", gettext_lazy("Company"), _text("company_name")),
        ListColumn("status", gettext_lazy("Status"), _status_cell),
        ListColumn("phone", gettext_lazy("Phone"), _phone_cell, css="text-nowrap"),
        ListColumn("email", gettext_lazy("E-mail"), _email_cell, default=False),
        ListColumn(
            "source",
            gettext_lazy("Source"),
            lambda lead: format_html("{}", lead.get_source_display()),
        ),
        ListColumn(
            "score",
            gettext_lazy("Score"),
            lambda lead: format_html("{}", formatting.digits(str(lead.score))),
            sort="score",
            default=False,
            css="text-end",
        ),
        ListColumn("owner", gettext_lazy("Owner"), lambda r: format_html("{}", str(r.owner))),
        ListColumn("tags", gettext_lazy("Tags"), _tags_cell, default=False),
        ListColumn(
            "created",
            gettext_lazy("Created"),
            _date_cell("created_at"),
            sort="created_at",
            default=False,
            css="text-nowrap",
        ),
        ListColumn(
            "updated",
            gettext_lazy("Updated"),
            _date_cell("updated_at"),
            sort="updated_at",
            css="text-nowrap",
        ),
    ),
    sorts={
        "updated_at": "updated_at",
        "created_at": "created_at",
        "score": "score",
        "last_name": "last_name",
    },
    default_sort="-updated_at",
    row_url=lead_url,
    custom_entity="lead",
    filters=(
        ChoiceFilter(
            "status",
            gettext_lazy("Status"),
            _status_choices,
            lambda qs, value: qs.filter(status=value),
        ),
        ChoiceFilter(
            "source",
            gettext_lazy("Source"),
            _source_choices,
            lambda qs, value: qs.filter(source=value),
        ),
    ),
    bulk_actions=(
        _bulk_status(gettext_lazy("Mark contacted"), Status.CONTACTED),
        _bulk_status(gettext_lazy("Mark qualified"), Status.QUALIFIED),
        *bulk_actions(services.lead_update, services.lead_delete, "lead"),
    ),
    bulk_url_name="leads:lead-bulk",
    columns_url_name="leads:lead-columns",
    views_url_name="leads:lead-views",
    inline_url_name="leads:lead-inline",
    inline_template="leads/partials/lead_inline.html",
)


LEAD_PAGE = ListPage(
    LEADS,
    section="leads",
    inline_form=QuickLeadForm,
    inline_create=lambda actor, data: services.lead_create(actor=actor, **data),
)
