"""Customer reports on small crafted data sets, with the numbers worked out by hand.

The customers set lives in Tehran (UTC+3:30) with the Jalali calendar, and the period is
Esfand 1404 + Farvardin 1405 (2026-02-20 to 2026-04-20): a deal won at 23:30 on the last
evening of Esfand and one won at 00:30 on Nowruz fall in different cohorts, although both
are 20 March in UTC and both March in the Gregorian calendar.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from wasl.accounts.selectors import organisation_get
from wasl.accounts.services import organisation_update, user_update
from wasl.activities.models import Activity
from wasl.contacts.services import company_create, contact_create
from wasl.deals.models import Deal, Stage
from wasl.deals.services import deal_create, pipeline_ensure_default
from wasl.leads.models import Lead
from wasl.reports import registry
from wasl.reports.filters import parse_filters
from wasl.reports.money import set_rate
from wasl.reports.results import Report
from wasl.reports.tests.test_activity import check_drills, frozen, log, make_lead

UTC = dt.UTC


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def esfand_farvardin(user: Any, **params: str) -> Any:
    return parse_filters(
        user,
        {"period": "custom", "start": "2026-02-20", "end": "2026-04-20", **params},
        today=dt.date(2026, 6, 1),
    )


def build(key: str, user: Any, filters: Any) -> Report:
    return registry.get(key).build(user, filters)


def values(report: Report) -> dict[str, Any]:
    return {f.key: f.value for f in report.figures}


def kinds(report: Report, table: str = "customers") -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in report.table(table).rows}


@pytest.fixture
def stages(db) -> dict[str, Stage]:
    pipeline = pipeline_ensure_default()
    return {
        stage.kind: stage for stage in Stage.objects.filter(pipeline=pipeline).order_by("-position")
    }


def won(owner: Any, stages: dict[str, Stage], moment: dt.datetime, amount: str, **fields: Any):
    fields.setdefault("currency", "IRR")
    with frozen(moment):
        return deal_create(
            actor=owner,
            title=f"won {moment:%Y-%m-%d}",
            stage=stages["won"],
            amount=Decimal(amount),
            **fields,
        )


@pytest.fixture
def tehran(db):
    organisation_update(
        actor=None, time_zone="Asia/Tehran", calendar="jalali", currency="IRR", churn_after_days=30
    )
    set_rate(actor=None, currency="USD", rate_date=dt.date(2026, 1, 1), rate="1000")
    set_rate(actor=None, currency="USD", rate_date=dt.date(2026, 3, 15), rate="1200")


@pytest.fixture
def book(personas, stages, tehran):
    """Six customers of team A and B (see the module docstring for the period)."""
    p = personas
    alborz = company_create(actor=p.rep_a, name="Alborz", industry="Retail")
    behsaz = company_create(actor=p.rep_a, name="Behsaz", industry="Retail")
    caspian = company_create(actor=p.rep_b, name="Caspian")
    dena = company_create(actor=p.rep_c, name="Dena", industry="Energy")
    ekbatan = company_create(actor=p.rep_b, name="Ekbatan")
    sara = contact_create(actor=p.rep_a, first_name="Sara", last_name="Karimi")
    reza = contact_create(actor=p.rep_a, first_name="Reza", last_name="Alborzi", company=alborz)

    # Alborz: bought before the period and in it (a repeat customer); in touch throughout.
    won(p.rep_a, stages, utc(2026, 1, 10), "1000", company=alborz)
    won(p.rep_a, stages, utc(2026, 3, 20, 20, 0), "500", company=alborz)
    log(p.rep_a, "call", utc(2026, 2, 1), company=alborz)
    log(p.rep_a, "call", utc(2026, 4, 10), contact=reza)  # counts for Alborz
    overdue = deal_create(actor=p.rep_a, title="Alborz renewal", company=alborz)
    Deal.objects.filter(pk=overdue.pk).update(expected_close=dt.date(2026, 4, 1))
    # Behsaz: first bought on the last evening of Esfand (USD), again in Farvardin.
    won(p.rep_a, stages, utc(2026, 3, 20, 20, 0), "100", company=behsaz, currency="USD")
    won(p.rep_a, stages, utc(2026, 4, 5), "200", company=behsaz)
    # Sara, a person without a company: first bought at 00:30 on Nowruz (Tehran).
    won(p.rep_a, stages, utc(2026, 3, 20, 21, 0), "300", contacts=[sara])
    # Caspian: bought in Esfand in EUR (no rate), lost a deal in the period.
    won(p.rep_b, stages, utc(2026, 2, 25), "50", company=caspian, currency="EUR")
    lost = deal_create(actor=p.rep_b, title="Caspian extension", company=caspian)
    Deal.objects.filter(pk=lost.pk).update(stage=stages["lost"], closed_at=utc(2026, 3, 1))
    # Dena (team B): an old customer, last touched on 10 February through a deal.
    old = won(p.rep_c, stages, utc(2025, 6, 1), "700", company=dena)
    log(p.rep_c, "meeting", utc(2026, 2, 10), deal=old)
    # Ekbatan: an old customer kept in touch by calls.
    won(p.rep_b, stages, utc(2025, 12, 1), "400", company=ekbatan)
    log(p.rep_b, "call", utc(2026, 2, 15), company=ekbatan)
    log(p.rep_b, "call", utc(2026, 4, 15), company=ekbatan)
    upcoming = deal_create(actor=p.rep_b, title="Ekbatan upgrade", company=ekbatan)
    Deal.objects.filter(pk=upcoming.pk).update(expected_close=dt.date(2026, 5, 1))
    return p


# ---------------------------------------------------------------- retention


def test_new_and_repeat_customers_of_the_period(book):
    report = build("retention", book.admin, esfand_farvardin(book.admin))
    assert (values(report)["new"], values(report)["repeat"]) == (3, 1)
    rows = kinds(report)
    assert (rows["Companies"]["new"], rows["Companies"]["repeat"]) == (2, 1)
    assert (
        rows["People without a company"]["new"],
        rows["People without a company"]["repeat"],
    ) == (1, 0)


def test_cohorts_split_at_nowruz_in_the_jalali_calendar(book):
    report = build("retention", book.admin, esfand_farvardin(book.admin))
    cohorts = report.table("cohorts").rows
    assert [row["cohort"] for row in cohorts] == ["Esfand 1404", "Farvardin 1405"]
    esfand, farvardin = cohorts
    # Esfand: Behsaz and Caspian; only Behsaz bought again in Farvardin.
    assert (esfand["customers"], esfand["m0"], esfand["m1"]) == (2, 1.0, 0.5)
    # Farvardin: Sara alone, nothing after.
    assert (farvardin["customers"], farvardin["m0"], farvardin["m1"]) == (1, 1.0, None)


def test_the_same_customers_share_march_in_the_gregorian_calendar(book):
    user_update(actor=None, user=book.admin, calendar="gregorian")
    report = build("retention", book.admin, esfand_farvardin(book.admin))
    cohorts = {row["cohort"]: row["customers"] for row in report.table("cohorts").rows}
    # Caspian in February; Behsaz (20 March UTC) and Sara (21 March in Tehran) in March.
    assert cohorts == {"February 2026": 1, "March 2026": 2, "April 2026": 0}


def test_cohorts_of_a_long_period_are_quarters_or_years(book):
    filters = parse_filters(
        book.admin,
        {"period": "custom", "start": "2023-03-21", "end": "2026-03-20"},
        today=dt.date(2026, 6, 1),
    )
    cohorts = build("retention", book.admin, filters).table("cohorts").rows
    assert len(cohorts) == 12  # three Jalali years of quarters
    assert cohorts[-1]["cohort"] == "Q4 1404"
    # Q4 1404 (Dey–Esfand): Alborz (10 January), Behsaz, Caspian; Ekbatan is Azar (Q3).
    assert cohorts[-1]["customers"] == 3
    filters = parse_filters(
        book.admin,
        {"period": "custom", "start": "2016-03-20", "end": "2026-03-20"},
        today=dt.date(2026, 6, 1),
    )
    # Nowruz 1395 fell on 2016-03-20: ten Jalali years, 1395 to 1404.
    years = build("retention", book.admin, filters).table("cohorts").rows
    assert [row["cohort"] for row in years] == [str(year) for year in range(1395, 1405)]


def test_a_viewer_counts_only_the_customers_they_may_see(book, stages):
    """The customers of a viewer's deals are kept only when the viewer may see the
    company or contact itself (`visible_keys`), a record shared with them included."""
    from wasl.contacts.models import Company, Contact
    from wasl.core.sharing import record_share
    from wasl.reports.customers import visible_keys

    rep = book.rep_a
    companies = {c.name: c.pk for c in Company.objects.all()}
    every_key = {("company", pk) for pk in companies.values()} | {
        ("contact", pk) for pk in Contact.objects.values_list("pk", flat=True)
    }
    own = {("company", companies["Alborz"]), ("company", companies["Behsaz"])}
    assert {key for key in visible_keys(rep, every_key) if key[0] == "company"} == own
    caspian = Company.objects.get(name="Caspian")
    record_share(actor=None, record=caspian, user=rep)
    shared = visible_keys(rep, every_key)
    assert ("company", caspian.pk) in shared and ("company", companies["Dena"]) not in shared

    # A won deal of the rep's on Dena, a customer of team B the rep may not see: the
    # rep's retention does not count Dena, which becomes the rep's once shared.
    before = values(build("retention", rep, esfand_farvardin(rep)))
    worth = values(build("lifetime-value", rep, esfand_farvardin(rep)))
    dena = Company.objects.get(name="Dena")
    with frozen(utc(2026, 3, 1)):
        deal_create(
            actor=book.admin, title="Dena via A", stage=stages["won"], company=dena, owner=rep
        )
    assert values(build("retention", rep, esfand_farvardin(rep))) == before
    assert values(build("lifetime-value", rep, esfand_farvardin(rep))) == worth
    record_share(actor=None, record=dena, user=rep)
    after = values(build("retention", rep, esfand_farvardin(rep)))
    # New to the rep: their own first sale to Dena is in the period (team B's is older).
    assert (after["new"], after["repeat"]) == (before["new"] + 1, before["repeat"])
    shared = values(build("lifetime-value", rep, esfand_farvardin(rep)))
    assert (shared["customers"], shared["won_deals"]) == (
        worth["customers"] + 1,
        worth["won_deals"] + 1,
    )


def test_retention_of_a_rep_and_of_the_other_teams_manager(book):
    rep = build("retention", book.rep_a, esfand_farvardin(book.rep_a))
    assert (values(rep)["new"], values(rep)["repeat"]) == (2, 1)
    other = build("retention", book.manager_b, esfand_farvardin(book.manager_b))
    assert (values(other)["new"], values(other)["repeat"]) == (0, 0)


# ---------------------------------------------------------------- churn


def test_churn_rate_counts_customers_in_touch_at_the_start_and_gone_at_the_end(book):
    report = build("churn", book.admin, esfand_farvardin(book.admin))
    figures = values(report)
    # In touch at the start (30 days): Alborz (call 1 Feb), Dena (meeting 10 Feb through
    # its deal), Ekbatan (call 15 Feb). At the end only Alborz (call to its contact on
    # 10 April) and Ekbatan (15 April) remain, with Behsaz (bought 5 April).
    assert figures["active_start"] == 3
    assert figures["churned"] == 1
    assert figures["churn_rate"] == pytest.approx(0.3333)
    assert figures["active_end"] == 3
    assert figures["new"] == 3
    assert figures["churn_after_days"] == 30
    assert [row["customer"] for row in report.table("churned").rows] == ["Dena"]


def test_calls_before_the_first_purchase_do_not_make_a_customer_in_touch(book):
    from wasl.contacts.models import Company

    behsaz = Company.objects.get(name="Behsaz")
    log(book.rep_a, "call", utc(2026, 2, 10), company=behsaz)  # a prospect still
    figures = values(build("churn", book.admin, esfand_farvardin(book.admin)))
    assert (figures["active_start"], figures["churned"]) == (3, 1)


def test_churn_as_seen_by_each_manager(book):
    team_a = values(build("churn", book.manager_a, esfand_farvardin(book.manager_a)))
    assert (team_a["active_start"], team_a["churned"], team_a["churn_rate"]) == (2, 0, 0.0)
    team_b = values(build("churn", book.manager_b, esfand_farvardin(book.manager_b)))
    assert (team_b["active_start"], team_b["churned"], team_b["churn_rate"]) == (1, 1, 1.0)


def test_a_longer_churn_setting_keeps_customers_in_touch(book):
    organisation_update(actor=None, churn_after_days=365)
    figures = values(build("churn", book.admin, esfand_farvardin(book.admin)))
    assert figures["churned"] == 0
    assert figures["active_start"] == 3  # Alborz, Dena and Ekbatan bought within the year


def test_the_churn_of_many_periods_at_once_is_each_period_s_own(book):
    """Several periods are counted over groups of customers (`_grouped_flags`), one period
    over every customer: both give the same numbers, measure by measure, for every
    viewer, with purchases and calls before the first period (a prospect's call too)."""
    from wasl.contacts.models import Company
    from wasl.reports.customers import CHURN_MEASURES, churn_over
    from wasl.reports.kpis import spark_periods

    log(book.rep_a, "call", utc(2026, 2, 10), company=Company.objects.get(name="Behsaz"))
    measures = (*CHURN_MEASURES, "bought")
    for user in (book.admin, book.rep_a, book.manager_a, book.manager_b):
        filters = esfand_farvardin(user)
        periods = spark_periods(filters.period, filters.calendar)
        together = churn_over(user, filters, periods, measures=measures)
        for period, found in zip(periods, together, strict=True):
            alone = churn_over(user, filters.with_period(period), [period], measures=measures)
            assert found.counts == alone[0].counts, (user, period)
    filters = esfand_farvardin(book.admin)
    periods = spark_periods(filters.period, filters.calendar)
    totals = {
        m: sum(r.total(m) for r in churn_over(book.admin, filters, periods)) for m in CHURN_MEASURES
    }
    assert all(totals.values()), totals  # every measure is met somewhere


def test_the_purchase_scope_picks_the_won_deals_the_viewer_s_scope_has(book, stages):
    """The customer reports pick a viewer's purchases by the deal's owner, team and
    pipeline kept on the summary's rows (`purchase_scope`): the same deals as
    `deals_in_scope`, for a rep, a manager, an administrator filtered by owner, team or
    pipeline, and a deal shared with a rep; after a deal changes hands, the rows follow."""
    from wasl.accounts.services import user_reassign_records
    from wasl.core.sharing import record_share
    from wasl.deals.services import deal_update
    from wasl.reports import touches
    from wasl.reports.customers import purchase_scope
    from wasl.reports.filters import deals_in_scope

    until = utc(2026, 6, 1)

    def picked(user: Any, filters: Any) -> set[int]:
        touches.ensure_current()
        rows = touches.purchases_before(until, purchase_scope(user, filters))
        return set(rows.values_list("deal_id", flat=True))

    def expected(user: Any, filters: Any) -> set[int]:
        deals = deals_in_scope(user, filters).filter(
            stage__kind=Stage.Kind.WON, closed_at__lt=until
        )
        return set(deals.values_list("pk", flat=True))

    def cases() -> list[tuple[Any, Any]]:
        admin = book.admin
        pipeline = str(pipeline_ensure_default().public_id)
        return [
            (book.rep_a, esfand_farvardin(book.rep_a)),
            (book.rep_b, esfand_farvardin(book.rep_b)),
            (book.manager_a, esfand_farvardin(book.manager_a)),
            (book.manager_b, esfand_farvardin(book.manager_b)),
            (admin, esfand_farvardin(admin, team=str(book.manager_a.team.public_id))),
            (admin, esfand_farvardin(admin, owner=str(book.rep_b.public_id))),
            (admin, esfand_farvardin(admin, pipeline=pipeline)),
        ]

    def check() -> None:
        for user, filters in cases():
            assert picked(user, filters) == expected(user, filters), user.username
        assert purchase_scope(book.admin, esfand_farvardin(book.admin)) is None

    check()
    assert picked(book.rep_a, esfand_farvardin(book.rep_a))  # something to compare
    other = Deal.objects.filter(stage__kind=Stage.Kind.WON, owner=book.rep_b).first()
    assert other is not None
    record_share(actor=None, record=other, user=book.rep_a)
    assert other.pk in picked(book.rep_a, esfand_farvardin(book.rep_a))
    check()
    # Handed to rep A through the service, then every deal of rep B to team B in bulk,
    # without the dispatcher delivering the events: the report folds them first.
    deal_update(actor=book.admin, deal=other, owner=book.rep_a)
    user_reassign_records(actor=None, from_user=book.rep_b, to_user=book.rep_c)
    assert not picked(book.admin, esfand_farvardin(book.admin, owner=str(book.rep_b.public_id)))
    check()


def test_the_customers_a_viewer_sees_on_the_summary_are_those_the_rule_shows(
    book, stages, tmp_path
):
    """The customer reports check a purchase's customer by the owner and team its row
    carries (`touches.seen_customers`): the same customers as the visibility rule on the
    companies and contacts themselves (`visible_keys`), for reps, managers and a
    read-only viewer, a shared record included; and again after customers change hands
    one by one, in bulk, through an import and through a merge and its undo, each folded
    by the next read without the dispatcher."""
    from wasl.accounts.services import user_reassign_records
    from wasl.contacts.models import Company, Contact
    from wasl.contacts.services import company_update, contact_create, contact_update
    from wasl.core.sharing import record_share
    from wasl.imports.merge import contact_merge, merge_undo
    from wasl.imports.services import import_file
    from wasl.reports import touches
    from wasl.reports.customers import purchase_scope, purchases, visible_keys

    def seen(user: Any) -> set[tuple[str, int]]:
        rows = purchases(user, esfand_farvardin(user), utc(2026, 6, 1))
        return set(rows.values_list("customer_kind", "customer_id"))

    def expected(user: Any) -> set[tuple[str, int]]:
        """The customers of the viewer's deals that the rule shows them."""
        rows = touches.purchases_before(
            utc(2026, 6, 1), purchase_scope(user, esfand_farvardin(user))
        )
        return visible_keys(user, rows.values_list("customer_kind", "customer_id"))

    def check() -> None:
        viewers = [book.rep_a, book.rep_b, book.rep_c, book.manager_a, book.manager_b]
        for user in [*viewers, book.readonly]:
            assert seen(user) == expected(user), user.username

    check()
    assert seen(book.rep_a)  # something to compare
    # A sale of rep A's to a company of rep B's counts for rep A once it is shared.
    caspian = Company.objects.get(name="Caspian")
    won(book.rep_a, stages, utc(2026, 4, 2), "20", company=caspian)
    assert ("company", caspian.pk) not in seen(book.rep_a)
    record_share(actor=None, record=caspian, user=book.rep_a)
    assert ("company", caspian.pk) in seen(book.rep_a)
    check()
    # One customer handed over: its deals stay the rep's, the company does not.
    alborz = Company.objects.get(name="Alborz")
    company_update(actor=book.admin, company=alborz, owner=book.rep_c)
    assert ("company", alborz.pk) not in seen(book.rep_a)
    check()
    sara = Contact.objects.get(first_name="Sara")
    contact_update(actor=book.admin, contact=sara, owner=book.rep_b)
    check()
    # Every record of rep B's to rep C in bulk, Sara among them.
    user_reassign_records(actor=None, from_user=book.rep_b, to_user=book.rep_c)
    assert ("contact", sara.pk) not in seen(book.rep_b)
    check()
    # An import that overwrites Sara's owner with rep A.
    contact_update(actor=book.admin, contact=sara, emails=["sara@example.com"])
    sheet = tmp_path / "owners.csv"
    sheet.write_text("First name,Last name,Email,Owner\nSara,Karimi,sara@example.com,rep_a\n")
    job = import_file(
        actor=book.admin, path=sheet, target="contacts", options={"on_duplicate": "overwrite"}
    )
    assert job.updated == 1
    assert ("contact", sara.pk) in seen(book.rep_a)
    check()
    # A merge that takes the other record's owner (rep C's), and its undo, which gives
    # the survivor its own owner back while its deal stays with it.
    twin = contact_create(actor=book.rep_c, first_name="Sara", last_name="Karimi")
    won(book.rep_c, stages, utc(2026, 4, 6), "10", contacts=[twin])
    entry = contact_merge(
        actor=book.admin, survivor=sara, others=[twin], field_choices={"owner": twin.public_id}
    )
    assert ("contact", sara.pk) not in seen(book.rep_a)
    assert ("contact", sara.pk) in seen(book.rep_c)
    check()
    merge_undo(actor=book.admin, audit_entry=entry)
    assert ("contact", sara.pk) in seen(book.rep_a)
    check()
    touches.rebuild()
    check()


def test_overdue_deals_per_customer_read_from_the_summary_match_the_deals(book, stages):
    """The at-risk report counts each customer's overdue deals from the summary's rows
    (`touches.overdue_per_customer`): the same counts as the open deals in scope past
    their expected close (`overdue_deals`, its drill-down), for reps, managers and an
    administrator with filters, and again after deals are moved, won and handed over."""
    from wasl.accounts.services import user_reassign_records
    from wasl.core.sharing import record_share
    from wasl.deals.services import deal_move_to_stage, deal_update
    from wasl.reports import touches
    from wasl.reports.customers import overdue_day, overdue_deals, purchase_scope
    from wasl.reports.filters import deals_in_scope

    def counted(user: Any, filters: Any) -> dict[tuple[str, int], int]:
        touches.ensure_current()
        rows = touches.overdue_per_customer(purchase_scope(user, filters), overdue_day(filters))
        return {(kind, pk): n for kind, pk, n in touches.fetch(rows)}

    def expected(user: Any, filters: Any) -> dict[tuple[str, int], int]:
        deals = overdue_deals(user, filters).order_by().values("pk")
        found = touches.fetch(touches.deals_per_customer(deals))
        return {(kind, pk): n for kind, pk, n in found}

    def check() -> None:
        admin = book.admin
        cases = [
            (book.rep_a, esfand_farvardin(book.rep_a)),
            (book.rep_b, esfand_farvardin(book.rep_b)),
            (book.manager_a, esfand_farvardin(book.manager_a)),
            (book.manager_b, esfand_farvardin(book.manager_b)),
            (admin, esfand_farvardin(admin)),
            (admin, esfand_farvardin(admin, team=str(book.manager_a.team.public_id))),
            (admin, esfand_farvardin(admin, owner=str(book.rep_b.public_id))),
        ]
        for user, filters in cases:
            assert counted(user, filters) == expected(user, filters), user.username

    check()
    # On the period's last day (20 April) Alborz's renewal is past due, Ekbatan's upgrade
    # (1 May) not yet.
    assert sum(counted(book.admin, esfand_farvardin(book.admin)).values()) == 1
    late = Deal.objects.get(title="Ekbatan upgrade")
    renewal = Deal.objects.get(title="Alborz renewal")
    record_share(actor=None, record=late, user=book.rep_a)
    # Through the services, without the dispatcher: the report folds the events first.
    deal_update(actor=book.admin, deal=late, expected_close=dt.date(2026, 4, 10))
    assert sum(counted(book.rep_a, esfand_farvardin(book.rep_a)).values()) == 2
    check()
    deal_move_to_stage(actor=book.rep_a, deal=renewal, stage=stages["won"])
    assert sum(counted(book.admin, esfand_farvardin(book.admin)).values()) == 1
    assert not counted(book.manager_b, esfand_farvardin(book.manager_b))
    user_reassign_records(actor=None, from_user=book.rep_b, to_user=book.rep_c)
    assert sum(counted(book.manager_b, esfand_farvardin(book.manager_b)).values()) == 1
    assert deals_in_scope(book.manager_b, esfand_farvardin(book.manager_b)).filter(pk=late.pk)
    check()


# ---------------------------------------------------------------- lifetime value


def test_lifetime_value_converts_currencies_at_the_rate_of_the_day(book):
    report = build("lifetime-value", book.admin, esfand_farvardin(book.admin))
    figures = values(report)
    # Alborz 1500, Behsaz 100 USD × 1200 + 200 = 120200, Sara 300, Caspian 0 (EUR has
    # no rate), Dena 700, Ekbatan 400.
    assert figures["customers"] == 6
    assert figures["revenue"] == Decimal("123100.00")
    assert figures["average"] == Decimal("20516.67")
    assert figures["median"] == Decimal("550.00")
    assert figures["won_deals"] == 8
    assert any("EUR" in warning for warning in report.warnings)
    top = report.table("top").rows
    assert (top[0]["customer"], top[0]["revenue"], top[0]["won_deals"]) == (
        "Behsaz",
        Decimal("120200.00"),
        2,
    )
    industries = {row["segment"]: row for row in report.table("by-industry").rows}
    assert industries["Retail"]["average"] == Decimal("60850.00")
    assert industries["Energy"]["customers"] == 1


def test_lifetime_value_of_a_rep(book):
    figures = values(build("lifetime-value", book.rep_a, esfand_farvardin(book.rep_a)))
    assert figures["customers"] == 3
    assert figures["revenue"] == Decimal("122000.00")


# ---------------------------------------------------------------- at risk


def test_at_risk_customers_and_their_reasons(book):
    report = build("at-risk", book.admin, esfand_farvardin(book.admin))
    figures = values(report)
    # No activity from 22 March to the end: Behsaz, Sara, Caspian, Dena. Caspian lost a
    # deal; Alborz has an open deal past its expected close.
    assert figures["quiet"] == 4
    assert figures["lost_deals"] == 1
    assert figures["overdue_deals"] == 1
    assert figures["customers"] == 5
    rows = {row["customer"]: row for row in report.table("customers").rows}
    assert rows["Caspian"]["lost_deals"] == 1 and rows["Caspian"]["quiet"] is True
    assert rows["Alborz"]["overdue_deals"] == 1 and rows["Alborz"]["quiet"] is False
    assert "Ekbatan" not in rows


def test_at_risk_of_a_rep(book):
    report = build("at-risk", book.rep_b, esfand_farvardin(book.rep_b))
    assert {row["customer"] for row in report.table("customers").rows} == {"Caspian"}


# ---------------------------------------------------------------- drill-downs


@pytest.mark.parametrize("key", ["retention", "churn", "lifetime-value", "at-risk"])
def test_every_drilled_customer_number_lists_exactly_its_records(book, key):
    for user in (book.admin, book.manager_a, book.rep_a):
        filters = esfand_farvardin(user)
        assert check_drills(key, user, filters, build(key, user, filters)) > 0


def test_a_rep_cannot_drill_into_another_reps_customer(book):
    from wasl.core.errors import NotFound

    dena = registry.get("lifetime-value")
    public_id = book.rep_c.pk  # any id the rep cannot see
    from wasl.contacts.models import Company

    dena_id = Company.objects.get(name="Dena").public_id
    with pytest.raises(NotFound):
        dena.drill(book.rep_a, esfand_farvardin(book.rep_a), f"won_deals:company:{dena_id}")
    with pytest.raises(NotFound):
        dena.drill(book.rep_a, esfand_farvardin(book.rep_a), f"won_deals:company:{public_id}")
    with pytest.raises(NotFound):
        dena.drill(book.rep_a, esfand_farvardin(book.rep_a), "won_deals:desk:1")
    with pytest.raises(NotFound):
        registry.get("churn").drill(book.admin, esfand_farvardin(book.admin), "churned:desk")


# ---------------------------------------------------------------- lead sources


@pytest.fixture
def leads_march(personas, stages):
    organisation_update(actor=None, time_zone="UTC", calendar="gregorian", currency="IRR")
    set_rate(actor=None, currency="USD", rate_date=dt.date(2026, 3, 15), rate="1200")
    p = personas
    from wasl.leads.services import lead_convert

    def convert(lead: Lead, moment: dt.datetime, **options: Any) -> Any:
        with frozen(moment):
            return lead_convert(actor=lead.owner, lead=lead, **options)

    # Web form: L1 converted with a deal after 3 days, the deal won later.
    l1 = make_lead(p.rep_a, utc(2026, 3, 2, 0), source="web_form", company_name="Farhang")
    first = convert(l1, utc(2026, 3, 5, 0), create_deal=True, deal_amount=Decimal("1000"))
    Deal.objects.filter(pk=first.deal.pk).update(stage=stages["won"], closed_at=utc(2026, 3, 10))
    make_lead(p.rep_a, utc(2026, 3, 3), source="web_form")  # never converted
    # L3 became the company Gilan after 5 days; Gilan's deal won before the conversion
    # does not count, the one won after does (100 USD at 1200).
    l3 = make_lead(p.rep_a, utc(2026, 3, 4, 0), source="web_form", company_name="Gilan")
    gilan = convert(l3, utc(2026, 3, 9, 0)).company
    won(p.rep_a, stages, utc(2026, 3, 8), "50", company=gilan)
    won(p.rep_a, stages, utc(2026, 3, 20), "100", company=gilan, currency="USD")
    # Referral: L4 (rep B) became a person after a day; their deal won in March.
    l4 = make_lead(p.rep_b, utc(2026, 3, 6, 0), source="referral", first_name="Nima")
    nima = convert(l4, utc(2026, 3, 7, 0)).contact
    won(p.rep_b, stages, utc(2026, 3, 15), "300", contacts=[nima])
    # A referral of February is outside the period.
    l5 = make_lead(p.rep_b, utc(2026, 2, 27), source="referral", first_name="Omid")
    convert(l5, utc(2026, 3, 2))
    return p


def march(user: Any) -> Any:
    return parse_filters(
        user,
        {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"},
        today=dt.date(2026, 4, 15),
    )


def test_lead_sources_count_conversions_and_their_won_revenue(leads_march):
    report = build("lead-sources", leads_march.admin, march(leads_march.admin))
    rows = {row["source"]: row for row in report.table("by-source").rows}
    web = rows["Web form"]
    assert (web["leads"], web["converted"], web["won_deals"]) == (3, 2, 2)
    assert web["conversion_rate"] == pytest.approx(0.6667)
    assert web["revenue"] == Decimal("121000.00")
    assert web["median_cycle_days"] == 4.0
    referral = rows["Referral"]
    assert (referral["leads"], referral["converted"], referral["won_deals"]) == (1, 1, 1)
    assert referral["revenue"] == Decimal("300.00")
    assert referral["median_cycle_days"] == 1.0
    figures = values(report)
    assert (figures["leads"], figures["converted"], figures["won_deals"]) == (4, 3, 3)
    assert figures["conversion_rate"] == 0.75
    assert figures["revenue"] == Decimal("121300.00")


def test_lead_sources_of_a_rep_and_their_drill_downs(leads_march):
    filters = march(leads_march.rep_a)
    report = build("lead-sources", leads_march.rep_a, filters)
    assert [row["source"] for row in report.table("by-source").rows] == ["Web form"]
    assert check_drills("lead-sources", leads_march.rep_a, filters, report) >= 3
    admin_filters = march(leads_march.admin)
    admin_report = build("lead-sources", leads_march.admin, admin_filters)
    assert check_drills("lead-sources", leads_march.admin, admin_filters, admin_report) >= 9


# ---------------------------------------------------------------- the setting


def test_the_organisation_page_sets_the_churn_days(personas, client):
    client.force_login(personas.admin)
    current = organisation_get()
    form = {
        "name": "Wasl",
        "currency": current.currency,
        "phone_region": current.phone_region,
        "language": "",
        "calendar": current.calendar,
        "time_zone": current.time_zone,
        "digits": current.digits,
        "week_start": str(current.week_start),
        "churn_after_days": "45",
    }
    page = client.get(reverse("accounts:organisation")).content.decode()
    assert 'name="churn_after_days"' in page
    assert client.post(reverse("accounts:organisation"), form).status_code == 302
    assert organisation_get().churn_after_days == 45
    form["churn_after_days"] = "0"
    assert client.post(reverse("accounts:organisation"), form).status_code == 400
    assert organisation_get().churn_after_days == 45
    assert Activity.objects.count() == 0


# ---------------------------------------------------------------- API

PERIOD = {"period": "custom", "start": "2026-02-20", "end": "2026-04-20"}


@pytest.mark.parametrize("key", ["lead-sources", "retention", "churn", "lifetime-value", "at-risk"])
def test_every_customer_report_answers_over_the_api(book, api_as, key):
    response = api_as(book.manager_a).get(f"reports/{key}", **PERIOD)
    assert response.status_code == 200, response.content
    assert response.json()["key"] == key


def test_churn_over_the_api_and_the_customers_behind_it(book, api_as):
    body = api_as(book.admin).get("reports/churn", **PERIOD).json()
    figures = {f["key"]: f["value"] for f in body["figures"]}
    assert (figures["churned"], figures["active_start"]) == (1, 3)
    records = api_as(book.admin).get("reports/churn/records", cell="churned:company", **PERIOD)
    assert records.status_code == 200
    assert [item["title"] for item in records.json()["items"]] == ["Dena"]
    assert [item["kind"] for item in records.json()["items"]] == ["company"]


def test_lifetime_value_over_the_api_shows_money_as_text_and_warns(book, api_as):
    body = api_as(book.admin).get("reports/lifetime-value", **PERIOD).json()
    figures = {f["key"]: f["value"] for f in body["figures"]}
    assert figures["average"] == "20516.67"
    assert any("EUR" in warning for warning in body["warnings"])
    top = body["tables"][0]["rows"][0]
    assert top["customer"] == "Behsaz"
    deals = api_as(book.admin).get(
        "reports/lifetime-value/records", cell=top["_drill"]["won_deals"], **PERIOD
    )
    assert len(deals.json()["items"]) == 2
    # The same cell asked by a rep of team B names a customer they cannot see.
    hidden = api_as(book.rep_c).get(
        "reports/lifetime-value/records", cell=top["_drill"]["won_deals"], **PERIOD
    )
    assert hidden.status_code == 404
