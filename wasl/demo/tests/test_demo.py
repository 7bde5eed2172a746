from __future__ import annotations

import hashlib
import itertools

import pytest
from django.core.management import CommandError, call_command

from wasl.accounts.models import User
from wasl.activities.models import Activity
from wasl.contacts.models import Company, Contact, ContactCompany, ContactPoint
from wasl.core import search
from wasl.core.models import SearchEntry
from wasl.core.phones import parse_phone, significant_digits
from wasl.core.text import normalise
from wasl.deals.models import Deal, DealStageChange, Stage
from wasl.demo.generator import ANCHOR
from wasl.leads.models import Lead

pytestmark = pytest.mark.django_db


def load(seed: int = 7, contacts: int = 300, **options) -> None:
    call_command("demo", contacts=contacts, seed=seed, verbosity=0, **options)


def digest() -> str:
    """A fingerprint of the generated records that ignores database ids."""
    h = hashlib.sha256()
    for row in Contact.objects.order_by("public_id").values_list(
        "public_id", "first_name", "last_name", "birthday", "created_at", "custom"
    ):
        h.update(repr(row).encode())
    for row in ContactPoint.objects.order_by(
        "contact__public_id", "company__public_id", "position"
    ).values_list("value", "digits"):
        h.update(repr(row).encode())
    for row in Deal.objects.order_by("public_id").values_list(
        "public_id", "title", "amount", "stage__name", "closed_at", "stage_entered_at"
    ):
        h.update(repr(row).encode())
    for row in Activity.objects.order_by("public_id").values_list(
        "public_id", "kind", "subject", "due_at", "done_at", "contact__public_id"
    ):
        h.update(repr(row).encode())
    for row in SearchEntry.objects.order_by("public_id").values_list("public_id", "text"):
        h.update(repr(row).encode())
    return h.hexdigest()


def wipe() -> None:
    Activity.objects.all().delete()
    Lead.objects.all().delete()
    Deal.objects.all().delete()
    Contact.objects.all().delete()
    Company.objects.all().delete()
    SearchEntry.objects.all().delete()


def test_the_same_seed_gives_the_same_records():
    load(seed=7)
    first = digest()
    assert Contact.objects.count() == 300
    wipe()
    load(seed=7)
    assert digest() == first
    wipe()
    load(seed=8)
    assert digest() != first


def test_rows_generated_in_a_second_process_are_the_same_rows():
    from wasl.demo.generator import DemoLoader, Plan

    DemoLoader(plan=Plan.for_contacts(200), seed=5, parallel=False).run()
    sequential = digest()
    counts = {model: model.objects.count() for model in (Contact, Company, Deal, Activity, Lead)}
    wipe()
    loader = DemoLoader(plan=Plan.for_contacts(200), seed=5, parallel=True)
    assert loader.parallel
    written = loader.run()
    assert digest() == sequential
    assert {model: model.objects.count() for model in counts} == counts
    assert written[Contact._meta.db_table] == 200
    # The search index was rebuilt over the rows the writing process wrote.
    admin = User.objects.get(username="admin")
    contact = Contact.objects.order_by("id").first()
    hits = search.search(admin, contact.full_name, kinds=["contact"], limit=50)
    assert str(contact.public_id) in {h.public_id for h in hits}


def test_every_stage_holds_deals_and_closed_deals_say_when_and_why():
    load()
    for stage in Stage.objects.all():
        assert Deal.objects.filter(stage=stage).exists(), stage.name
    for deal in Deal.objects.select_related("stage"):
        if deal.stage.kind == Stage.Kind.OPEN:
            assert deal.closed_at is None
            assert deal.probability == deal.stage.probability
        else:
            assert deal.closed_at is not None
            assert deal.closed_at <= ANCHOR
        if deal.stage.kind == Stage.Kind.LOST:
            assert deal.lost_reason_id is not None
        if deal.stage.kind == Stage.Kind.WON:
            assert "contract_end" in deal.custom


def test_stage_history_runs_from_creation_to_the_current_stage():
    load()
    changes: dict[int, list[DealStageChange]] = {}
    for change in DealStageChange.objects.order_by("changed_at", "id"):
        changes.setdefault(change.deal_id, []).append(change)
    deals = list(Deal.objects.all())
    assert deals
    for deal in deals:
        history = changes[deal.pk]
        assert history[0].from_stage_id is None
        assert history[0].seconds_in_previous is None
        assert history[0].changed_at == deal.created_at
        for before, after in itertools.pairwise(history):
            assert after.from_stage_id == before.to_stage_id
            assert (
                after.seconds_in_previous == (after.changed_at - before.changed_at).total_seconds()
            )
        assert history[-1].to_stage_id == deal.stage_id
        assert deal.stage_entered_at == history[-1].changed_at
        if deal.closed_at:
            assert deal.closed_at == history[-1].changed_at


def test_a_persian_name_is_found_when_typed_with_arabic_letters():
    load()
    admin = User.objects.get(username="admin")
    contact = next(c for c in Contact.objects.order_by("id") if "ی" in c.first_name + c.last_name)
    query = contact.full_name.replace("ی", "ي").replace("ک", "ك")
    assert query != contact.full_name
    hits = search.search(admin, query, kinds=["contact"], limit=50)
    assert str(contact.public_id) in {h.public_id for h in hits}


def test_a_contact_is_found_by_its_phone_typed_nationally():
    load()
    admin = User.objects.get(username="admin")
    point = ContactPoint.objects.filter(kind="phone", value__startswith="+989").first()
    hits = search.search(admin, "0" + point.digits, kinds=["contact"], limit=50)
    assert str(point.contact.public_id) in {h.public_id for h in hits}


def test_phones_are_e164_with_their_significant_digits_and_emails_lowercase():
    load()
    for point in ContactPoint.objects.all():
        if point.kind == "phone":
            assert parse_phone(point.value) == point.value
            assert point.digits == significant_digits(point.value)
        else:
            assert point.value == point.value.lower() and "@" in point.value
            assert point.digits == ""
    for lead in Lead.objects.exclude(phone=""):
        assert lead.phone_digits == significant_digits(lead.phone)


def test_keys_are_normalised_names():
    load()
    for contact in Contact.objects.all():
        assert contact.name_key == normalise(f"{contact.first_name} {contact.last_name}")
        assert contact.team_id == contact.owner.team_id
    for company in Company.objects.all():
        assert company.name_key == normalise(company.name)


def _expected_entries() -> dict[tuple[str, int], tuple[str, str, str]]:
    """Search entries as `wasl.core.search.index_record` would build them (conventions)."""
    expected = {}
    for contact in Contact.objects.prefetch_related("points"):
        points = sorted(contact.points.all(), key=lambda p: p.position)
        emails = [p.value for p in points if p.kind == "email"]
        phones = [p.value for p in points if p.kind == "phone"]
        companies = [
            m.company.name
            for m in ContactCompany.objects.filter(contact=contact)
            .select_related("company")
            .order_by("id")
        ]
        tags = list(
            Contact.tags.through.objects.filter(contact=contact)
            .order_by("id")
            .values_list("tag__name", flat=True)
        )
        subtitle = companies[0] if companies else (emails[0] if emails else "")
        title = contact.full_name
        text = search.entry_text([title, subtitle, *emails, *companies, *tags], phones)
        expected[("contact", contact.pk)] = (title, subtitle, text)
    for company in Company.objects.prefetch_related("points"):
        points = sorted(company.points.all(), key=lambda p: p.position)
        emails = [p.value for p in points if p.kind == "email"]
        phones = [p.value for p in points if p.kind == "phone"]
        tags = list(
            Company.tags.through.objects.filter(company=company)
            .order_by("id")
            .values_list("tag__name", flat=True)
        )
        subtitle = company.city or company.website
        text = search.entry_text([company.name, subtitle, company.website, *emails, *tags], phones)
        expected[("company", company.pk)] = (company.name, subtitle, text)
    for lead in Lead.objects.all():
        tags = list(
            Lead.tags.through.objects.filter(lead=lead)
            .order_by("id")
            .values_list("tag__name", flat=True)
        )
        person = " ".join(p for p in (lead.first_name, lead.last_name) if p)
        title = person or lead.company_name or lead.email
        text = search.entry_text([title, lead.company_name, lead.email, *tags], [lead.phone])
        expected[("lead", lead.pk)] = (title, lead.company_name, text)
    for deal in Deal.objects.select_related("company"):
        tags = list(
            Deal.tags.through.objects.filter(deal=deal)
            .order_by("id")
            .values_list("tag__name", flat=True)
        )
        subtitle = deal.company.name if deal.company else ""
        text = search.entry_text([deal.title, subtitle, *tags])
        expected[("deal", deal.pk)] = (deal.title, subtitle, text)
    return expected


def test_search_entries_hold_what_entry_text_builds():
    load(contacts=120)
    expected = _expected_entries()
    entries = {(e.kind, e.object_id): e for e in SearchEntry.objects.all()}
    assert set(entries) == set(expected)
    for key, (title, subtitle, text) in expected.items():
        entry = entries[key]
        assert (entry.title, entry.subtitle, entry.text) == (title, subtitle, text), key


def test_a_database_with_contacts_is_refused_unless_forced():
    load(contacts=50)
    with pytest.raises(CommandError):
        load(contacts=50)
    load(contacts=50, force=True)
    assert Contact.objects.count() == 100
    assert User.objects.filter(username="rep.tehran1").count() == 1
    assert Stage.objects.filter(name="Won").count() == 3


def test_the_planner_statistics_count_every_row():
    """SQLite's statistics after a load come from every row: a sampled ANALYZE guessed the
    rows per owner so far off at L that the admin's lists sorted a million rows."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")
    load(contacts=1500)  # more activities than a sample of 2,000 rows per index
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'activity_upd'")
        (stat,) = cursor.fetchone()
    assert Activity.objects.count() > 2000
    assert int(stat.split()[0]) == Activity.objects.count()


def test_the_load_leaves_the_customer_summary_built():
    """The loader writes no outbox events, so it builds the customer reports' summary
    itself: what it leaves is what a rebuild makes, and no rebuild is owed."""
    from wasl.reports import touches
    from wasl.reports.models import CustomerAttribution, CustomerEpisode, CustomerSummaryState

    load()

    def rows():
        return (
            sorted(
                CustomerAttribution.objects.values_list(
                    "deal_id", "activity_id", "customer_kind", "customer_id", "touched_at"
                ),
                key=repr,
            ),
            sorted(CustomerEpisode.objects.values_list("customer_id", "starts_at", "ends_at")),
        )

    assert not CustomerSummaryState.objects.get().rebuild_needed
    loaded = rows()
    assert CustomerAttribution.objects.filter(deal__isnull=False).count() == Deal.objects.count()
    assert loaded[1]
    touches.rebuild()
    assert rows() == loaded
