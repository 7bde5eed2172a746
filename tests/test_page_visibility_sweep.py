"""Every page that takes a record in its URL refuses the users who may not see that record.

The URL patterns are read from the resolver, so a page added later is swept too (or the
test fails until it is listed as taking no record). Rep B (same team as rep A) and the
manager of another team ask every such page for each of rep A's records, by GET and by
POST, and are refused (404, or 403/405 where the page is not theirs at all); rep A's
records are unchanged afterwards. So that the sweep cannot pass by building wrong URLs,
the same URLs answer rep A (or the administrator) with something other than 404."""

from __future__ import annotations

import io
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from wasl.activities.models import Activity
from wasl.activities.services import activity_create
from wasl.contacts.models import Company, Contact
from wasl.contacts.services import company_create, contact_create
from wasl.core.testing import client_for
from wasl.deals.models import Deal
from wasl.deals.services import deal_create, pipeline_ensure_default
from wasl.imports.merge import contact_merge
from wasl.imports.services import import_check
from wasl.leads.models import Lead
from wasl.leads.services import lead_create
from wasl.notifications.services import notification_create

# Patterns whose parameters name no record of a user (report keys, chart references,
# a kind of record to merge chosen in the query string); the API lives under /api/v1/
# and has its own visibility matrix; the operators' admin is staff-only.
NOT_RECORD_PAGES = {
    "reports:dashboard-chart",
    "reports:report",
    "reports:drill",
    "reports:export",
    "imports:merge",
}
REFUSED = {403, 404, 405}


@dataclass
class Page:
    name: str
    route: str
    params: list[tuple[str, str]] = field(default_factory=list)  # (converter, name)


def record_pages() -> list[Page]:
    pages: list[Page] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if "<" not in route or route.startswith(("api/", "operator/")):
                    continue
                name = f"{namespace}:{pattern.name}"
                params = []
                for part in route.split("<")[1:]:
                    spec = part.split(">")[0]
                    converter, _, param = spec.rpartition(":")
                    params.append((converter or "str", param))
                pages.append(Page(name, route, params))

    walk(get_resolver().url_patterns, "", "")
    return pages


@dataclass
class Records:
    by_kind: dict[str, Any]
    merge_audit_id: int

    def candidates(self, page: Page) -> list[dict[str, Any]]:
        """Every way to fill the page's parameters with one of rep A's records."""
        choices: list[list[tuple[str, Any]]] = []
        for converter, name in page.params:
            if name == "kind":
                options = [("kind", kind) for kind in ("contact", "company", "lead", "deal")]
            elif converter == "uuid" or name == "public_id":
                options = [(name, record.public_id) for record in self.by_kind.values()]
            elif name == "audit_id":
                options = [(name, self.merge_audit_id)]
            elif name == "position":
                options = [(name, 0)]
            else:
                raise AssertionError(f"{page.name}: unknown parameter {name}")
            choices.append(options)
        filled = []
        for combination in itertools.product(*choices):
            values = dict(combination)
            kind = values.get("kind")
            if kind is not None and page.params[-1][1] == "public_id":
                # A record URL with its kind: only the record of that kind makes sense.
                values["public_id"] = self.by_kind[kind].public_id
            filled.append(values)
        unique = {tuple(sorted((k, str(v)) for k, v in values.items())) for values in filled}
        return [dict(values) for values in unique]


def url_of(page: Page, values: dict[str, Any]) -> str:
    url = "/" + page.route
    for converter, name in page.params:
        spec = f"<{converter}:{name}>" if f"<{converter}:{name}>" in url else f"<{name}>"
        url = url.replace(spec, str(values[name]))
    return url


@pytest.fixture
def records(personas) -> Records:
    rep = personas.rep_a
    pipeline_ensure_default()
    company = company_create(actor=rep, name="Sepahan Trading")
    contact = contact_create(actor=rep, first_name="Ali", last_name="Rezaei", company=company)
    lead = lead_create(actor=rep, first_name="Maryam", company_name="Karaj Tools")
    deal = deal_create(
        actor=rep,
        title="Ten printers",
        company=company,
        line_items=[{"description": "Printer", "quantity": 10, "unit_price": "120"}],
    )
    activity = activity_create(actor=rep, kind="task", subject="Call Ali", contact=contact)
    notification = notification_create(recipient=rep, title="Call Ali", record=contact)
    upload = io.BytesIO(b"first_name,last_name\nSara,Ahmadi\n")
    job = import_check(actor=rep, upload=upload, filename="people.csv", target="contacts")
    twin = contact_create(actor=rep, first_name="Ali", last_name="Rezaie")
    survivor = contact_create(actor=rep, first_name="Reza", last_name="Karimi")
    merged = contact_create(actor=rep, first_name="Reza", last_name="Karimy")
    audit = contact_merge(actor=rep, survivor=survivor, others=[merged])
    return Records(
        by_kind={
            "contact": contact,
            "company": company,
            "lead": lead,
            "deal": deal,
            "activity": activity,
            "notification": notification,
            "import": job,
            "twin": twin,
        },
        merge_audit_id=audit.pk,
    )


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__name__: sorted(model.objects.values_list("id", "updated_at"))
        for model in (Contact, Company, Lead, Deal, Activity)
    }


def test_every_record_page_is_swept_or_named_as_taking_no_record():
    names = {page.name for page in record_pages()}
    assert names >= NOT_RECORD_PAGES, NOT_RECORD_PAGES - names
    swept = names - NOT_RECORD_PAGES
    # Contacts, companies, deals, leads, activities, tasks, timelines, imports, merges,
    # automation, settings, notifications, exchange rates: several dozen pages.
    assert len(swept) >= 60, sorted(swept)


@pytest.mark.parametrize("outsider", ["rep_b", "manager_b"])
def test_no_page_shows_or_changes_another_users_record(personas, records, outsider):
    client = client_for(getattr(personas, outsider))
    before = snapshot()
    answered: list[str] = []
    for page in record_pages():
        if page.name in NOT_RECORD_PAGES:
            continue
        for values in records.candidates(page):
            url = url_of(page, values)
            for method in ("get", "post"):
                # A GET may redirect (a short record link to its page): follow it to the
                # page that answers. A POST is judged on its own answer, and the records
                # are compared afterwards.
                status = (
                    client.get(url, follow=True) if method == "get" else client.post(url)
                ).status_code
                if status not in REFUSED:
                    answered.append(f"{method.upper()} {url} ({page.name}) -> {status}")
    assert answered == []
    assert snapshot() == before


def reaches(client: Client, url: str) -> bool:
    """A GET that is not a 404, or for pages that only take a POST, a POST that is not a
    404; the POST's changes are rolled back so the next pages find the same records."""
    status = client.get(url).status_code
    if status != 405:
        return status != 404
    with transaction.atomic():
        status = client.post(url).status_code
        transaction.set_rollback(True)
    return status not in (404, 405)


def test_the_swept_urls_reach_the_records_of_those_who_may_see_them(personas, records):
    """The owner (or the administrator, for pages that are theirs) gets past the 404 on
    each page that takes one of the records made here: the sweep builds real URLs."""
    owner, admin = client_for(personas.rep_a), client_for(personas.admin)
    ours = {str(record.public_id) for record in records.by_kind.values()}
    missed = []
    for page in record_pages():
        if page.name in NOT_RECORD_PAGES or page.name.startswith(("settings:", "reports:")):
            continue  # settings and rates take pipelines, tags, users: none made here
        if page.name.startswith("automation:"):
            continue  # rules and parked jobs: none made here
        if page.name.startswith("imports:export"):
            continue  # exports: none made here
        reached = False
        for values in records.candidates(page):
            url = url_of(page, values)
            if not ({str(v) for v in values.values()} & ours) and "audit_id" not in values:
                continue
            for client in (owner, admin):
                if reaches(client, url):
                    reached = True
                    break
            if reached:
                break
        if not reached:
            missed.append(page.name)
    assert missed == []


def test_a_made_up_identifier_is_not_found_on_record_pages(personas):
    client = client_for(personas.admin)
    page = next(p for p in record_pages() if p.name == "contacts:contact-detail")
    assert client.get(url_of(page, {"public_id": uuid.uuid4()})).status_code == 404
