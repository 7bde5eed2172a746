"""Lead pages: the record page with edits and status changes, and conversion to a contact,
company and deal. Views load through `access_lead` and the selectors the API uses and write
through the lead services; NotFound and Forbidden become 404 and 403 pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wasl.accounts.selectors import user_list
from wasl.contacts.custom_fields import definitions_for
from wasl.core.errors import Conflict, Invalid
from wasl.core.visibility import can_write
from wasl.deals.access import access_stage
from wasl.deals.selectors import pipeline_list
from wasl.leads import services
from wasl.leads.access import access_lead
from wasl.leads.forms import ConvertForm, LeadForm, StatusForm
from wasl.leads.models import Lead

Status = Lead.Status


def timeline_url(kind: str, public_id: Any) -> str | None:
    """The shared timeline panel of a record, when the pages that span apps serve it."""
    try:
        return reverse("records:timeline", args=[kind, public_id])
    except NoReverseMatch:
        return None


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
            (d, lead.custom.get(d.key))
            for d in definitions
            if lead.custom.get(d.key) not in (None, "", [])
        ],
        "tags": sorted(t.name for t in lead.tags.all()),
        "phone_digits": lead.phone.lstrip("+"),
        "timeline_url": timeline_url("lead", lead.public_id),
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
