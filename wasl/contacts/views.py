"""Contact and company pages: lists (with the list machinery of `listing_ui`), the record
pages (the customer 360), create and edit forms, inline create and bulk actions.

Views load records through the access functions, read through the selectors and write
through the services, like the API. The parts of a record page that belong to later apps
(its deals and its timeline) are panels served by `wasl.web.records` and loaded by htmx.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wasl.accounts.selectors import user_list
from wasl.contacts import services
from wasl.contacts.access import access_company, access_contact
from wasl.contacts.custom_fields import definitions_for
from wasl.contacts.forms import (
    CompanyForm,
    CompanyInlineForm,
    ContactForm,
    ContactInlineForm,
    important_dates_formset,
    important_dates_from,
    important_dates_valid,
)
from wasl.contacts.listing_ui import (
    BulkAction,
    ChoiceFilter,
    Column,
    ListPage,
    ListSpec,
    add_service_errors,
    page_errors,
    record_link,
)
from wasl.contacts.models import Company, Contact, CustomFieldDefinition, Source
from wasl.contacts.selectors import company_list, company_match, contact_list
from wasl.core.errors import Invalid
from wasl.core.formatting import digits, format_number, local_date, relative
from wasl.core.phones import format_phone, significant_digits
from wasl.core.text import normalise
from wasl.core.visibility import can_assign_to, can_write, require_can_create

Kind = CustomFieldDefinition.Kind


# ---------------------------------------------------------------- cells

contact_url = record_link("contacts:contact-detail")
company_url = record_link("contacts:company-detail")


def _first_point(record: Any, kind: str) -> str:
    return next((p.value for p in record.points.all() if p.kind == kind), "")


def _phone_cell(record: Any) -> str:
    phone = _first_point(record, "phone")
    if not phone:
        return ""
    return format_html('<bdi dir="ltr">{}</bdi>', digits(format_phone(phone)))


def _email_cell(record: Any) -> str:
    email = _first_point(record, "email")
    return format_html('<a href="mailto:{}" dir="ltr">{}</a>', email, email) if email else ""


def _tags_cell(record: Any) -> str:
    return format_html_join(
        " ",
        '<span class="wasl-tag">{}</span>',
        ((t.name,) for t in record.tags.all()),
    )


def _updated_cell(record: Any) -> str:
    return format_html(
        '<span title="{}">{}</span>', local_date(record.updated_at), relative(record.updated_at)
    )


def _contact_name_cell(contact: Contact) -> str:
    return format_html(
        '<a href="{}">{}</a>',
        contact_url(contact),
        contact.full_name or "—",
    )


def _contact_company_cell(contact: Contact) -> str:
    company = contact.primary_company
    if company is None:
        return ""
    return format_html('<a href="{}">{}</a>', company_url(company), company.name)


def _company_name_cell(company: Company) -> str:
    return format_html(
        '<a href="{}">{}</a>',
        company_url(company),
        company.name,
    )


def _text(attribute: str) -> Any:
    def cell(record: Any) -> str:
        return format_html("{}", getattr(record, attribute) or "")

    return cell


def _source_cell(record: Any) -> str:
    return format_html("{}", record.get_source_display() if record.source else "")


def _owner_cell(record: Any) -> str:
    return format_html("{}", str(record.owner))


def custom_display(definition: CustomFieldDefinition, value: Any) -> str:
    """A custom value as the user reads it: dates in their calendar, numbers in their digits,
    choices by their label."""
    if value in (None, "", []):
        return ""
    kind = definition.kind
    if kind == Kind.DATE:
        try:
            return local_date(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if kind in (Kind.NUMBER, Kind.MONEY):
        places = 2 if kind == Kind.MONEY else (0 if float(value).is_integer() else 2)
        return format_number(value, places)
    if kind == Kind.BOOLEAN:
        return str(_("Yes") if value is True else _("No"))
    if kind in (Kind.CHOICE, Kind.MULTI_CHOICE):
        language = (get_language() or "en").split("-")[0]
        labels = {
            str(c.get("value")): str(c.get(language) or c.get("en") or c.get("value"))
            for c in definition.choices
            if isinstance(c, dict)
        }
        items = value if isinstance(value, list) else [value]
        separator = ", " if language == "en" else "، "
        return separator.join(labels.get(str(v), str(v)) for v in items)
    return str(value)


# ---------------------------------------------------------------- bulk actions


def _bulk_owner(actor: Any, params: Any) -> Any:
    wanted = params.get("owner", "")
    owner = next((u for u in user_list(actor=actor) if str(u.public_id) == wanted), None)
    if owner is None:
        raise Invalid({"owner": [_("Choose the new owner.")]})
    return owner


def _bulk_tag(params: Any) -> str:
    tag = " ".join((params.get("tag") or "").split())
    if not tag:
        raise Invalid({"tag": [_("Name the tag.")]})
    return tag


def _names(record: Any) -> list[str]:
    return [t.name for t in record.tags.all()]


def _assign(update: Any, argument: str) -> Any:
    def apply(actor: Any, record: Any, params: Any) -> Any:
        # Resolved once for the whole selection.
        if "_owner" not in params:
            params["_owner"] = _bulk_owner(actor, params)
        owner = params["_owner"]
        return update(actor=actor, **{argument: record}, owner=owner)

    return apply


def _add_tag(update: Any, argument: str) -> Any:
    def apply(actor: Any, record: Any, params: Any) -> Any:
        tag = _bulk_tag(params)
        return update(actor=actor, **{argument: record}, tags=[*_names(record), tag])

    return apply


def _remove_tag(update: Any, argument: str) -> Any:
    def apply(actor: Any, record: Any, params: Any) -> Any:
        key = normalise(_bulk_tag(params))
        kept = [name for name in _names(record) if normalise(name) != key]
        return update(actor=actor, **{argument: record}, tags=kept)

    return apply


def _delete(delete: Any, argument: str) -> Any:
    def apply(actor: Any, record: Any, params: Any) -> Any:
        return delete(actor=actor, **{argument: record})

    return apply


def bulk_actions(update: Any, delete: Any, argument: str) -> tuple[BulkAction, ...]:
    """Assign owner, add tag, remove tag and delete, through the record's services."""
    return (
        BulkAction(
            "assign",
            gettext_lazy("Assign to"),
            _assign(update, argument),
            "owner",
            icon="bi-person",
        ),
        BulkAction(
            "tag_add", gettext_lazy("Add tag"), _add_tag(update, argument), "tag", icon="bi-tag"
        ),
        BulkAction(
            "tag_remove",
            gettext_lazy("Remove tag"),
            _remove_tag(update, argument),
            "tag",
            icon="bi-x",
        ),
        BulkAction(
            "delete",
            gettext_lazy("Delete"),
            _delete(delete, argument),
            confirm=gettext_lazy("Delete the selected records? This cannot be undone."),
            danger=True,
            icon="bi-trash",
        ),
    )


def _source_choices(actor: Any) -> list[tuple[str, Any]]:
    return list(Source.choices)


SOURCE_FILTER = ChoiceFilter(
    "source", gettext_lazy("Source"), _source_choices, lambda qs, value: qs.filter(source=value)
)


# ---------------------------------------------------------------- specs


CONTACTS = ListSpec(
    entity="contact",
    url_name="contacts:contact-list",
    selector=contact_list,
    title=gettext_lazy("Contacts"),
    columns=(
        Column("name", gettext_lazy("Name"), _contact_name_cell, sort="last_name"),
        Column("company", gettext_lazy("Company"), _contact_company_cell),
        Column("phone", gettext_lazy("Phone"), _phone_cell, css="text-nowrap"),
        Column("email", gettext_lazy("E-mail"), _email_cell),
        Column("title", gettext_lazy("Job title"), _text("title"), default=False),
        Column("city", gettext_lazy("City"), _text("city"), default=False),
        Column("source", gettext_lazy("Source"), _source_cell, default=False),
        Column("tags", gettext_lazy("Tags"), _tags_cell),
        Column("owner", gettext_lazy("Owner"), _owner_cell),
        Column(
            "created",
            gettext_lazy("Created"),
            lambda r: format_html("{}", local_date(r.created_at)),
            sort="created_at",
            default=False,
            css="text-nowrap",
        ),
        Column(
            "updated", gettext_lazy("Updated"), _updated_cell, sort="updated_at", css="text-nowrap"
        ),
    ),
    sorts={
        "updated_at": "updated_at",
        "created_at": "created_at",
        "last_name": "last_name",
        "first_name": "first_name",
    },
    default_sort="-updated_at",
    row_url=contact_url,
    custom_entity="contact",
    filters=(SOURCE_FILTER,),
    bulk_actions=bulk_actions(services.contact_update, services.contact_delete, "contact"),
    bulk_url_name="contacts:contact-bulk",
    columns_url_name="contacts:contact-columns",
    views_url_name="contacts:contact-views",
    create_url_name="contacts:contact-create",
    create_label=gettext_lazy("New contact"),
    inline_url_name="contacts:contact-inline",
    inline_template="contacts/partials/contact_inline.html",
)

COMPANIES = ListSpec(
    entity="company",
    url_name="contacts:company-list",
    selector=company_list,
    title=gettext_lazy("Companies"),
    columns=(
        Column("name", gettext_lazy("Name"), _company_name_cell, sort="name"),
        Column("phone", gettext_lazy("Phone"), _phone_cell, css="text-nowrap"),
        Column("email", gettext_lazy("E-mail"), _email_cell, default=False),
        Column("website", gettext_lazy("Website"), _text("website")),
        Column("industry", gettext_lazy("Industry"), _text("industry"), default=False),
        Column("city", gettext_lazy("City"), _text("city")),
        Column("source", gettext_lazy("Source"), _source_cell, default=False),
        Column("tags", gettext_lazy("Tags"), _tags_cell),
        Column("owner", gettext_lazy("Owner"), _owner_cell),
        Column(
            "created",
            gettext_lazy("Created"),
            lambda r: format_html("{}", local_date(r.created_at)),
            sort="created_at",
            default=False,
            css="text-nowrap",
        ),
        Column(
            "updated", gettext_lazy("Updated"), _updated_cell, sort="updated_at", css="text-nowrap"
        ),
    ),
    sorts={"updated_at": "updated_at", "created_at": "created_at", "name": "name"},
    default_sort="-updated_at",
    row_url=company_url,
    custom_entity="company",
    filters=(SOURCE_FILTER,),
    bulk_actions=bulk_actions(services.company_update, services.company_delete, "company"),
    bulk_url_name="contacts:company-bulk",
    columns_url_name="contacts:company-columns",
    views_url_name="contacts:company-views",
    create_url_name="contacts:company-create",
    create_label=gettext_lazy("New company"),
    inline_url_name="contacts:company-inline",
    inline_template="contacts/partials/company_inline.html",
)


# ---------------------------------------------------------------- helpers


def _assignable(actor: Any) -> list[Any]:
    return [u for u in user_list(actor=actor) if can_assign_to(actor, u)]


def _owner_from(people: list[Any], public_id: str) -> Any:
    return next((p for p in people if str(p.public_id) == public_id), None)


def _section(request: HttpRequest, name: str) -> None:
    request.wasl_section = name  # type: ignore[attr-defined]


def _phone_links(phone: str) -> dict[str, str]:
    """Links a user opens to reach a phone number: call, WhatsApp, Telegram. The number is
    shown in the user's digits; the links keep Latin ones, which dialers read."""
    latin = re.sub(r"\D", "", phone)
    return {
        "value": phone,
        "display": digits(format_phone(phone)),
        "tel": f"tel:{phone}",
        "whatsapp": f"https://wa.me/{latin}",
        "telegram": f"https://t.me/+{latin}",
        "digits": significant_digits(phone),
    }


def _points(points: list[Any]) -> dict[str, list[dict[str, str]]]:
    return {
        "phones": [
            {**_phone_links(p.value), "label": p.get_label_display()}
            for p in points
            if p.kind == "phone"
        ],
        "emails": [
            {"value": p.value, "label": p.get_label_display()} for p in points if p.kind == "email"
        ],
    }


def _custom_rows(entity: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (definition.label, custom_display(definition, values.get(definition.key)))
        for definition in definitions_for(entity).values()
    ]


# ---------------------------------------------------------------- lists


def _contact_quick_add(actor: Any, data: dict[str, Any]) -> Contact:
    return services.contact_create(
        actor=actor,
        first_name=data["first_name"],
        last_name=data["last_name"],
        phones=[data["phone"]] if data["phone"] else [],
        emails=[data["email"]] if data["email"] else [],
    )


def _company_quick_add(actor: Any, data: dict[str, Any]) -> Company:
    return services.company_create(
        actor=actor,
        name=data["name"],
        phones=[data["phone"]] if data["phone"] else [],
        website=data["website"],
    )


CONTACT_PAGE = ListPage(
    CONTACTS,
    section="contacts",
    inline_form=ContactInlineForm,
    inline_create=_contact_quick_add,
    inline_aliases={"phones.0": "phone", "emails.0": "email"},
)
COMPANY_PAGE = ListPage(
    COMPANIES,
    section="companies",
    inline_form=CompanyInlineForm,
    inline_create=_company_quick_add,
    inline_aliases={"phones.0": "phone"},
)


# ---------------------------------------------------------------- contacts: record


@require_GET
@page_errors
def contact_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The customer 360: key facts and quick actions, fields, companies, deals and the
    timeline (the last two are panels loaded by htmx)."""
    actor = request.user
    contact = access_contact(actor, public_id)
    _section(request, "contacts")
    points = list(contact.points.all())
    context = {
        "contact": contact,
        **_points(points),
        "memberships": list(contact.memberships.all()),
        "important_dates": list(contact.important_dates.all()),
        "tags": [t.name for t in contact.tags.all()],
        "custom_rows": _custom_rows("contact", contact.custom),
        "writable": can_write(actor, contact),
        "record_kind": "contact",
        "record_id": contact.public_id,
    }
    return render(request, "contacts/contact_detail.html", context)


def _contact_initial(contact: Contact) -> dict[str, Any]:
    points = list(contact.points.all())
    return {
        **{name: getattr(contact, name) for name in services.CONTACT_FIELDS},
        "company": contact.primary_company.name if contact.primary_company else "",
        "emails": "\n".join(p.value for p in points if p.kind == "email"),
        "phones": "\n".join(format_phone(p.value) for p in points if p.kind == "phone"),
        "owner": str(contact.owner.public_id),
        "tags": ", ".join(t.name for t in contact.tags.all()),
    }


def _company_for(actor: Any, form: Any) -> tuple[bool, Any]:
    """The company named on the form: (found, company or None)."""
    name = form.cleaned_data.get("company", "").strip()
    if not name:
        return True, None
    company = company_match(actor=actor, name=name)
    if company is None:
        form.add_error("company", _("No company you can see has this name."))
        return False, None
    return True, company


_CONTACT_ALIASES = {"owner_id": "owner", "company_id": "company"}


def _duplicate_check_url(kind: str, record: Any = None) -> str:
    """The warning under the form of records this one looks like; on an edit form it
    names the record, so that it and the pairs dismissed for it are not suggested."""
    query = {"kind": kind, **({"record": str(record)} if record is not None else {})}
    return f"{reverse('imports:duplicate-check')}?{urlencode(query)}"


@require_http_methods(["GET", "POST"])
@page_errors
def contact_create_view(request: HttpRequest) -> HttpResponse:
    """The full form for a new contact (custom fields included)."""
    actor = request.user
    require_can_create(actor)
    _section(request, "contacts")
    people = _assignable(actor)
    definitions = list(definitions_for("contact").values())
    initial = {"owner": str(actor.public_id)}
    if request.GET.get("company"):
        initial["company"] = request.GET["company"][:200]
    form = ContactForm(
        request.POST or None, people=people, definitions=definitions, initial=initial
    )
    dates = important_dates_formset(request.POST or None)
    if request.method == "POST" and all([form.is_valid(), important_dates_valid(dates)]):
        found, company = _company_for(actor, form)
        if found:
            fields = form.service_fields()
            try:
                contact = services.contact_create(
                    actor=actor,
                    owner=_owner_from(people, form.cleaned_data["owner"]),
                    company=company,
                    important_dates=important_dates_from(dates) or (),
                    **fields,
                )
            except Invalid as error:
                add_service_errors(form, error, _CONTACT_ALIASES)
            else:
                messages.success(request, _("The contact was added."))
                return redirect("contacts:contact-detail", public_id=contact.public_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": _("New contact"),
        "dates": dates,
        "cancel": reverse("contacts:contact-list"),
        "duplicate_check": _duplicate_check_url("contact"),
    }
    return render(request, "contacts/record_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@page_errors
def contact_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit every field of a contact, custom fields included, through `contact_update`."""
    actor = request.user
    contact = access_contact(actor, public_id, for_write=True)
    _section(request, "contacts")
    people = _assignable(actor)
    if contact.owner not in people:
        people.append(contact.owner)
    definitions = list(definitions_for("contact").values())
    form = ContactForm(
        request.POST or None,
        people=people,
        definitions=definitions,
        custom=contact.custom,
        initial=_contact_initial(contact),
    )
    dates = important_dates_formset(request.POST or None, contact)
    if request.method == "POST" and all([form.is_valid(), important_dates_valid(dates)]):
        found, company = _company_for(actor, form)
        if found:
            fields = form.service_fields()
            if (company.pk if company else None) != contact.primary_company_id:
                fields["company"] = company
            try:
                services.contact_update(
                    actor=actor,
                    contact=contact,
                    owner=_owner_from(people, form.cleaned_data["owner"]),
                    important_dates=important_dates_from(dates),
                    **fields,
                )
            except Invalid as error:
                add_service_errors(form, error, _CONTACT_ALIASES)
            else:
                messages.success(request, _("The contact was saved."))
                return redirect("contacts:contact-detail", public_id=contact.public_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": _("Edit %(name)s") % {"name": contact.full_name},
        "dates": dates,
        "cancel": reverse("contacts:contact-detail", args=[contact.public_id]),
        "delete_url": reverse("contacts:contact-delete", args=[contact.public_id]),
        "duplicate_check": _duplicate_check_url("contact", contact.public_id),
    }
    return render(request, "contacts/record_form.html", context, status=status)


@require_POST
@page_errors
def contact_delete_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    contact = access_contact(actor, public_id, for_write=True)
    services.contact_delete(actor=actor, contact=contact)
    messages.success(request, _("The contact was deleted."))
    return redirect("contacts:contact-list")


# ---------------------------------------------------------------- companies


COMPANY_CONTACTS = 50


@require_GET
@page_errors
def company_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A company's 360: facts, quick actions, fields, its contacts, deals and timeline."""
    actor = request.user
    company = access_company(actor, public_id)
    _section(request, "companies")
    points = list(company.points.all())
    people = list(
        contact_list(actor=actor)
        .filter(companies=company)
        .order_by("last_name", "first_name", "id")[: COMPANY_CONTACTS + 1]
    )
    context = {
        "company": company,
        **_points(points),
        "people": people[:COMPANY_CONTACTS],
        "more_people": len(people) > COMPANY_CONTACTS,
        "tags": [t.name for t in company.tags.all()],
        "important_dates": list(company.important_dates.all()),
        "custom_rows": _custom_rows("company", company.custom),
        "writable": can_write(actor, company),
        "record_kind": "company",
        "record_id": company.public_id,
    }
    return render(request, "contacts/company_detail.html", context)


def _company_initial(company: Company) -> dict[str, Any]:
    points = list(company.points.all())
    return {
        **{name: getattr(company, name) for name in services.COMPANY_FIELDS},
        "emails": "\n".join(p.value for p in points if p.kind == "email"),
        "phones": "\n".join(format_phone(p.value) for p in points if p.kind == "phone"),
        "owner": str(company.owner.public_id),
        "tags": ", ".join(t.name for t in company.tags.all()),
    }


@require_http_methods(["GET", "POST"])
@page_errors
def company_create_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    require_can_create(actor)
    _section(request, "companies")
    people = _assignable(actor)
    definitions = list(definitions_for("company").values())
    form = CompanyForm(
        request.POST or None,
        people=people,
        definitions=definitions,
        initial={"owner": str(actor.public_id)},
    )
    dates = important_dates_formset(request.POST or None)
    if request.method == "POST" and all([form.is_valid(), important_dates_valid(dates)]):
        try:
            company = services.company_create(
                actor=actor,
                owner=_owner_from(people, form.cleaned_data["owner"]),
                important_dates=important_dates_from(dates) or (),
                **form.service_fields(),
            )
        except Invalid as error:
            add_service_errors(form, error, {"owner_id": "owner"})
        else:
            messages.success(request, _("The company was added."))
            return redirect("contacts:company-detail", public_id=company.public_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": _("New company"),
        "dates": dates,
        "cancel": reverse("contacts:company-list"),
        "duplicate_check": _duplicate_check_url("company"),
    }
    return render(request, "contacts/record_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@page_errors
def company_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    company = access_company(actor, public_id, for_write=True)
    _section(request, "companies")
    people = _assignable(actor)
    if company.owner not in people:
        people.append(company.owner)
    form = CompanyForm(
        request.POST or None,
        people=people,
        definitions=list(definitions_for("company").values()),
        custom=company.custom,
        initial=_company_initial(company),
    )
    dates = important_dates_formset(request.POST or None, company)
    if request.method == "POST" and all([form.is_valid(), important_dates_valid(dates)]):
        try:
            services.company_update(
                actor=actor,
                company=company,
                owner=_owner_from(people, form.cleaned_data["owner"]),
                important_dates=important_dates_from(dates),
                **form.service_fields(),
            )
        except Invalid as error:
            add_service_errors(form, error, {"owner_id": "owner"})
        else:
            messages.success(request, _("The company was saved."))
            return redirect("contacts:company-detail", public_id=company.public_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": _("Edit %(name)s") % {"name": company.name},
        "dates": dates,
        "cancel": reverse("contacts:company-detail", args=[company.public_id]),
        "delete_url": reverse("contacts:company-delete", args=[company.public_id]),
        "duplicate_check": _duplicate_check_url("company", company.public_id),
    }
    return render(request, "contacts/record_form.html", context, status=status)


@require_POST
@page_errors
def company_delete_view(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    company = access_company(actor, public_id, for_write=True)
    services.company_delete(actor=actor, company=company)
    messages.success(request, _("The company was deleted."))
    return redirect("contacts:company-list")
