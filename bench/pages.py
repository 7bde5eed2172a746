"""`python -m bench.pages --size S|M|L [--db-url URL] [--data-dir DIR] [--rounds N] [--only TEXT]`

Times the list, record, home and board pages as users get them: server time around Django's test
client (no network) signed in as a rep and as an admin, with the HTML weight and the SQL
statements of each request. Uses the benchmark's database of that size (`python -m bench`
creates it; this script generates it the same way when missing). Prints a table and writes
`bench/results/pages-<size>-<vendor>.json`.

`--data-dir` points at another copy of a data folder (its `wasl.sqlite3` and `secret_key`),
e.g. a copy of the L database to try a migration on without touching the shared one;
`--only` keeps the pages whose name contains the text (repeatable); `--no-migrate` measures
the database as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.run import BENCH_DIR, SIZES, configure, ensure_data, percentile


@dataclass
class PageResult:
    name: str
    user: str
    url: str
    status: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    bytes: int = 0
    sql: int = 0
    rounds: int = 0
    samples_ms: list[float] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--db-url", default="")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir", default="", help="data folder to use instead of bench/.data/<size>"
    )
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="measure the database as it is (no migrate, no generation)",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="measure pages whose name contains this"
    )
    return parser.parse_args(argv)


def measure(name: str, user: Any, url: Callable[[], str], rounds: int) -> PageResult:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    target = url()
    result = PageResult(name=name, user=user.username, url=target)
    client.get(target)  # warm-up: caches, prepared templates
    # One call after it counts the statements; the timed ones run uncounted, as in
    # production (see bench.run.Api.call).
    with CaptureQueriesContext(connection) as captured:
        client.get(target)
    result.sql = len(captured)
    samples = []
    for _round in range(rounds):
        started = time.perf_counter()
        response = client.get(target)
        samples.append((time.perf_counter() - started) * 1000)
        result.status = response.status_code
        result.bytes = len(response.content)
    result.samples_ms = [round(s, 2) for s in samples]
    result.p50_ms = round(statistics.median(samples), 1)
    result.p95_ms = round(percentile(samples, 0.95), 1)
    result.rounds = rounds
    return result


def scenarios(rounds: int, only: list[str] | None = None) -> list[PageResult]:
    from django.db.models import Count
    from django.urls import reverse

    from wasl.accounts.models import User
    from wasl.activities.models import Activity
    from wasl.contacts.models import Contact, Tag

    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    rep = User.objects.filter(role="rep", is_active=True).order_by("id").first()
    assert admin is not None and rep is not None, "the demo data has an admin and reps"
    tag = (
        Tag.objects.annotate(n=Count("contacts")).order_by("-n").values_list("name", flat=True)
    ).first()
    busiest = (
        Activity.objects.filter(contact__isnull=False)
        .values("contact_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    contact = Contact.objects.get(pk=busiest["contact_id"]) if busiest else Contact.objects.first()
    assert contact is not None
    company = contact.primary_company
    contacts = reverse("contacts:contact-list")
    companies = reverse("contacts:company-list")
    detail = reverse("contacts:contact-detail", args=[contact.public_id])
    timeline = reverse("records:timeline", args=["contact", contact.public_id])
    deals = reverse("records:deals", args=["contact", contact.public_id])

    def deep(user: Any) -> Callable[[], str]:
        def url() -> str:
            # The 20th page, reached by following "next" as a user would.
            from django.test import Client

            client = Client()
            client.force_login(user)
            page = contacts
            for _step in range(19):
                html = client.get(page).content.decode()
                found = re.search(r'rel="next" href="([^"]+)"', html)
                if not found:
                    break
                page = found.group(1).replace("&amp;", "&")
            return page

        return url

    plan: list[tuple[str, Any, Callable[[], str]]] = [
        ("contacts list", rep, lambda: contacts),
        ("contacts list", admin, lambda: contacts),
        ("contacts by tag, by name", rep, lambda: f"{contacts}?tag={tag}&sort=last_name"),
        ("contacts page 20", admin, deep(admin)),
        ("contact 360 page", admin, lambda: detail),
        ("  its timeline panel", admin, lambda: timeline),
        ("  its deals panel", admin, lambda: deals),
        ("companies list", rep, lambda: companies),
        ("companies list", admin, lambda: companies),
    ]
    if company is not None:
        plan.append(
            (
                "company 360 page",
                admin,
                lambda: reverse("contacts:company-detail", args=[company.public_id]),
            )
        )
    plan += _sales_pages(admin, rep)
    plan += _activity_pages(admin, rep)
    if only:
        plan = [step for step in plan if any(text in step[0] for text in only)]
    return [measure(name, user, url, rounds) for name, user, url in plan]


def _sales_pages(admin: Any, rep: Any) -> list[tuple[str, Any, Callable[[], str]]]:
    """The pipeline board (the default pipeline, the largest), a column's next page, the
    deal with the longest stage history and its timeline, the deals and leads lists and a
    lead's page."""
    from django.db.models import Count
    from django.urls import reverse

    from wasl.deals.models import Deal
    from wasl.leads.models import Lead

    board = reverse("deals:board")
    busiest = Deal.objects.values("pk").annotate(n=Count("stage_changes")).order_by("-n").first()
    deal = Deal.objects.get(pk=busiest["pk"]) if busiest else Deal.objects.first()
    lead = Lead.objects.exclude(status="converted").order_by("id").first()

    def next_column_page() -> str:
        from django.test import Client

        client = Client()
        client.force_login(admin)
        html = client.get(board).content.decode()
        found = re.search(r'hx-get="([^"]*board/column/[^"]+)"', html)
        return found.group(1).replace("&amp;", "&") if found else board

    plan: list[tuple[str, Any, Callable[[], str]]] = [
        ("pipeline board", rep, lambda: board),
        ("pipeline board", admin, lambda: board),
        ("  a column's next cards", admin, next_column_page),
        ("deals list", rep, lambda: reverse("deals:deal-list")),
        ("deals list, open", admin, lambda: reverse("deals:deal-list") + "?status=open"),
        ("leads list", rep, lambda: reverse("leads:lead-list")),
        ("leads list", admin, lambda: reverse("leads:lead-list")),
    ]
    if deal is not None:
        plan += [
            ("deal page", admin, lambda: reverse("deals:deal-detail", args=[deal.public_id])),
            (
                "  its timeline panel",
                admin,
                lambda: reverse("records:timeline", args=["deal", deal.public_id]),
            ),
        ]
    if lead is not None:
        plan.append(
            ("lead page", admin, lambda: reverse("leads:lead-detail", args=[lead.public_id]))
        )
    return plan


def _activity_pages(admin: Any, rep: Any) -> list[tuple[str, Any, Callable[[], str]]]:
    """The rep's home page ("My day"), the activity list as a rep and as an admin with the
    filters people use most (open by due date, overdue, one kind), and the task list."""
    from django.urls import reverse

    home = reverse("web:home")
    activities = reverse("activities:activity-list")
    return [
        ("home (my day)", rep, lambda: home),
        ("home (my day)", admin, lambda: home),
        ("activity list", rep, lambda: activities),
        ("activity list", admin, lambda: activities),
        ("activities open, by due", admin, lambda: f"{activities}?status=open&sort=due_at"),
        ("activities overdue", admin, lambda: f"{activities}?status=overdue"),
        ("activities: calls", rep, lambda: f"{activities}?kind=call"),
        ("my tasks", rep, lambda: reverse("activities:task-list")),
    ]


def configure_in(data_dir: Path, args: argparse.Namespace) -> Path:
    """`bench.run.configure` with another data folder."""
    if not data_dir.is_dir():
        raise SystemExit(f"{data_dir} is not a folder")
    (data_dir / "static").mkdir(exist_ok=True)
    os.environ["WASL_DATA_DIR"] = str(data_dir)
    if args.db_url:
        os.environ["WASL_DATABASE_URL"] = args.db_url
    else:
        os.environ.pop("WASL_DATABASE_URL", None)
    os.environ["WASL_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wasl.settings")
    import django

    django.setup()
    return data_dir


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.data_dir:
        data_dir = configure_in(Path(args.data_dir).resolve(), args)
    else:
        data_dir = configure(args)
    from django.db import connection

    vendor = connection.vendor
    if not args.no_migrate:
        ensure_data(args, data_dir, vendor)
    results = scenarios(args.rounds, args.only)
    print(f"\nPages, size {args.size} on {vendor}, {args.rounds} rounds (server time, ms)\n")
    print(f"{'page':28} {'as':10} {'status':>6} {'p50':>7} {'p95':>7} {'KB':>6} {'SQL':>4}")
    for r in results:
        print(
            f"{r.name:28} {r.user:10} {r.status:>6} {r.p50_ms:>7.1f} {r.p95_ms:>7.1f} "
            f"{r.bytes / 1024:>6.1f} {r.sql:>4}"
        )
    out = BENCH_DIR / "results" / f"pages-{args.size}-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
    print(f"\nWritten to {out.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
