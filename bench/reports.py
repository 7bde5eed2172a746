"""`python -m bench.reports --size S|M|L [--db-url URL] [--data-dir DIR] [--rounds N]
[--only KEY,...]`

Times each report as its API call (`GET /api/v1/reports/<key>`, default filters: this
quarter in the organisation's calendar) for an administrator (every record), for the
busiest rep and for the sales manager whose teams own the most deals, then the KPI
dashboard page (`/reports/`, the role's default cards: every KPI figure with its spark
line plus the default charts) for each of them and one report page. Server time
around Django's test client (no network), SQL statements counted. Uses the benchmark's
database of that size (`python -m bench` creates it; this script generates it the same way
when missing), or the one in `--data-dir` (a copy, to try a migration on without touching
the shared database). Prints a table and writes `bench/results/reports-<size>-<vendor>.json`.
Targets (issue 6): each report ≤ 500 ms p50 and the dashboard ≤ 1 s on L.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.pages import PageResult
from bench.pages import measure as measure_page
from bench.run import BENCH_DIR, SIZES, Api, Result, configure, ensure_data, measure

REPORT_TARGET_MS = 500
DASHBOARD_TARGET_MS = 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--db-url", default="")
    parser.add_argument(
        "--data-dir",
        default="",
        help="data folder holding wasl.sqlite3 and secret_key (default: bench/.data/<size>)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated report keys")
    parser.add_argument(
        "--no-rep", action="store_true", help="time as the admin only (no rep, no manager)"
    )
    return parser.parse_args(argv)


def _manager() -> Any:
    """The active sales manager whose teams own the most deals (None without one)."""
    from django.db.models import Count

    from wasl.accounts.models import User
    from wasl.deals.models import Deal

    managers = list(User.objects.filter(role="manager", is_active=True))
    if not managers:
        return None
    per_team = dict(
        Deal.objects.order_by()
        .values_list("team_id")
        .annotate(n=Count("id"))
        .values_list("team_id", "n")
    )
    return max(managers, key=lambda m: (sum(per_team.get(t, 0) for t in m.scope_team_ids()), -m.pk))


def _people() -> tuple[Any, Any]:
    """The first active administrator and the rep who owns the most deals."""
    from django.db.models import Count

    from wasl.accounts.models import User
    from wasl.deals.models import Deal

    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    busiest = (
        Deal.objects.filter(owner__role="rep")
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    rep = User.objects.get(pk=busiest["owner_id"]) if busiest else None
    if admin is None:
        raise SystemExit("the benchmark database has no administrator")
    return admin, rep


def scenarios(args: argparse.Namespace) -> tuple[list[Result], list[PageResult]]:
    from django.urls import reverse

    from wasl.reports import registry

    admin, rep = _people()
    keys = [d.key for d in registry.all_reports()]
    if args.only:
        wanted = {k.strip() for k in args.only.split(",")}
        keys = [k for k in keys if k in wanted]
    callers = [("admin", Api(admin))]
    if rep is not None and not args.no_rep:
        callers.append(("rep", Api(rep)))
    manager = None if args.no_rep else _manager()
    if manager is not None:
        callers.append(("manager", Api(manager)))
    api_results = []
    for key in keys:
        for who, api in callers:
            result = measure(f"{key} ({who})", api, "GET", f"reports/{key}", args.rounds)
            print(f"  {result.name:32} p50 {result.p50_ms} ms", flush=True)
            api_results.append(result)
    pages = [("dashboard", admin, lambda: reverse("reports:index"))]
    if rep is not None and not args.no_rep:
        pages.append(("dashboard", rep, lambda: reverse("reports:index")))
    if manager is not None:
        pages.append(("dashboard", manager, lambda: reverse("reports:index")))
    if "funnel" in keys:
        pages.append(("funnel page", admin, lambda: reverse("reports:report", args=["funnel"])))
    page_results = []
    for name, user, url in pages:
        result = measure_page(name, user, url, args.rounds)
        print(f"  {name} ({result.user}) p50 {result.p50_ms} ms", flush=True)
        page_results.append(result)
    return api_results, page_results


def _configure(args: argparse.Namespace) -> Path:
    """`bench.run.configure`, pointed at `--data-dir` when one is given."""
    if not args.data_dir:
        return configure(args)
    data_dir = Path(args.data_dir).resolve()
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
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
    data_dir = _configure(args)
    from django.db import connection

    vendor = connection.vendor
    ensure_data(args, data_dir, vendor)
    api_results, page_results = scenarios(args)
    print(f"\nReports, size {args.size} on {vendor}, {args.rounds} rounds (server time, ms)\n")
    print(f"{'report API call':32} {'p50':>8} {'p95':>8} {'SQL':>4}  target")
    for r in api_results:
        if r.p50_ms is None:
            print(f"{r.name:32} {r.status:>8} {'':>8} {'':>4}  {r.note}")
            continue
        verdict = "ok" if r.p50_ms <= REPORT_TARGET_MS else f"over {REPORT_TARGET_MS}"
        print(f"{r.name:32} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.sql:>4}  {verdict}")
    print(f"\n{'page':32} {'p50':>8} {'p95':>8} {'SQL':>4} {'KB':>6}")
    for p in page_results:
        print(
            f"{p.name + ' (' + p.user + ')':32} {p.p50_ms:>8.1f} {p.p95_ms:>8.1f} {p.sql:>4} "
            f"{p.bytes / 1024:>6.1f}  HTTP {p.status}"
        )
    out = BENCH_DIR / "results" / f"reports-{args.size}-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"api": [asdict(r) for r in api_results], "pages": [asdict(p) for p in page_results]},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nWritten to {out.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
