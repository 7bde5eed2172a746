"""`python -m bench --size S|M|L [--db-url URL] [--rounds N]`

Creates (once) a database of the given size with `wasl demo`, then times what users feel
through the JSON API, as a rep and as an admin with bearer tokens: server time measured
around Django's test client (no network), SQL statements counted per request. Prints a
table and writes `bench/results/<size>-<vendor>.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SIZES = ("S", "M", "L")


@dataclass
class Result:
    name: str
    request: str
    status: str = "ok"
    http: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    sql: int | None = None
    rounds: int = 0
    note: str = ""
    samples_ms: list[float] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument(
        "--db-url", default="", help="database URL (default: SQLite in bench/.data)"
    )
    parser.add_argument("--rounds", type=int, default=20, help="timed calls per operation")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> Path:
    """Point the settings at the benchmark's own data folder (or --db-url) and start Django."""
    data_dir = BENCH_DIR / ".data" / args.size
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


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak. It counts the pages of
    the database file SQLite maps (`mmap_size` is 256 MiB in the settings), which are the
    OS page cache shared with every process reading the file, not this process's heap."""
    found = _status_mb("VmRSS")
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def private_mb() -> float:
    """Private (anonymous) resident memory now: the process's own heap (0 when unknown)."""
    return _status_mb("RssAnon") or 0.0


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ensure_data(args: argparse.Namespace, data_dir: Path, vendor: str) -> dict[str, Any]:
    """Migrate, and generate the data set when the database holds no contacts yet."""
    from django.core.management import call_command

    from wasl.contacts.models import Contact

    call_command("migrate", verbosity=0)
    marker = data_dir / f"generation-{vendor}.json"
    if Contact.objects.exists():
        if marker.exists():
            return json.loads(marker.read_text())
        return {"seconds": None, "note": "database was filled before; generation not timed"}
    print(f"Generating size {args.size} (wasl demo --size {args.size} --seed {args.seed}) ...")
    started = time.perf_counter()
    call_command("demo", size=args.size, seed=args.seed, verbosity=1)
    info = {
        "seconds": round(time.perf_counter() - started, 1),
        "size": args.size,
        "seed": args.seed,
        "vendor": vendor,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    marker.write_text(json.dumps(info, indent=2))
    return info


class Api:
    """Calls /api/v1/ through Django's test client with a bearer token, timing each call."""

    def __init__(self, user: Any) -> None:
        from django.test import Client

        from wasl.accounts.services import token_create

        self.client = Client()
        self.token = token_create(actor=None, user=user, name="bench")[1]

    def call(
        self, method: str, path: str, body: Any = None, *, counted: bool = True
    ) -> tuple[Any, float, int]:
        """The response, the milliseconds and the SQL statements (0 when not `counted`:
        counting keeps every statement's text with its parameters, which cost up to 0.1 s
        on a report that reads 40,000 ids, so timed calls are not counted)."""
        from contextlib import nullcontext

        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"/api/v1/{path}"
        queries = CaptureQueriesContext(connection) if counted else None
        with queries if queries is not None else nullcontext():
            started = time.perf_counter()
            if method == "GET":
                response = self.client.get(url, headers=headers)
            else:
                response = self.client.generic(
                    method, url, json.dumps(body), content_type="application/json", headers=headers
                )
            elapsed = (time.perf_counter() - started) * 1000
        return response, elapsed, len(queries.captured_queries) if queries is not None else 0


def is_missing(response: Any) -> bool:
    """A route that does not exist yet: Django's 404 page or 405, not the API's own 404."""
    if response.status_code == 405:
        return True
    if response.status_code != 404:
        return False
    try:
        return "error" not in json.loads(response.content)
    except ValueError:
        return True


def measure(
    name: str,
    api: Api,
    method: str,
    path: str | Callable[[int], str],
    rounds: int,
    body: Callable[[int], Any] | None = None,
) -> Result:
    def target(i: int) -> str:
        return path(i) if callable(path) else path

    shown = target(0)
    result = Result(name=name, request=f"{method} /api/v1/{shown}")
    response, _ms, _sql = api.call(method, target(0), body(0) if body else None, counted=False)
    result.http = response.status_code
    if is_missing(response):
        result.status = "missing"
        result.note = f"HTTP {response.status_code}: endpoint not implemented yet"
        return result
    if response.status_code >= 400:
        result.status = "error"
        result.note = (
            f"HTTP {response.status_code}: {response.content[:200].decode(errors='replace')}"
        )
        return result
    # One call after the warm-up counts the statements; the timed ones run uncounted, as
    # in production.
    _response, _ms, counted_sql = api.call(method, target(0), body(0) if body else None)
    for i in range(1, rounds + 1):
        response, ms, _sql = api.call(method, target(i), body(i) if body else None, counted=False)
        if response.status_code >= 400:
            result.status = "error"
            result.note = f"HTTP {response.status_code} in round {i}"
            break
        result.samples_ms.append(round(ms, 3))
    if result.samples_ms:
        result.rounds = len(result.samples_ms)
        result.p50_ms = round(statistics.median(result.samples_ms), 2)
        result.p95_ms = round(percentile(result.samples_ms, 0.95), 2)
        result.max_ms = round(max(result.samples_ms), 2)
        result.sql = counted_sql
    return result


def scenarios(rounds: int) -> tuple[list[Result], dict[str, Any]]:
    from django.db.models import Count

    from wasl.accounts.models import User
    from wasl.activities.models import Activity
    from wasl.contacts.models import Contact, ContactPoint, Tag
    from wasl.deals.models import Stage

    rep = User.objects.get(username="rep.tehran1")
    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    as_rep, as_admin = Api(rep), Api(admin)
    tag = Tag.objects.annotate(n=Count("contacts")).order_by("-n").values_list("name", flat=True)[0]
    phone = (
        ContactPoint.objects.filter(kind="phone", value__startswith="+989", contact__owner=rep)
        .order_by("id")
        .values_list("digits", flat=True)
        .first()
    )
    stage = (
        Stage.objects.filter(pipeline__name="Sales", name="Proposal").first()
        or Stage.objects.first()
    )
    # The demo skews activities towards its first contacts: the first one has a long timeline.
    contact = Contact.objects.order_by("id").first()
    timeline_items = Activity.objects.filter(contact=contact).count()
    context = {
        "rep": rep.username,
        "tag": tag,
        "phone_query": f"0{phone}",
        "stage": f"{stage.pipeline.name}/{stage.name}",
        "detail_contact_activities": timeline_items,
    }
    results = []
    results.append(
        measure(
            "contacts list (owner + tag, -updated_at, 25)",
            as_rep,
            "GET",
            f"contacts?owner={rep.public_id}&tag={tag}&sort=-updated_at&limit=25",
            rounds,
        )
    )
    results.append(deep_page(as_admin, rounds))
    results.append(
        measure(
            "search: Persian name typed with Arabic ي (علي)",
            as_admin,
            "GET",
            "search?q=علي",
            rounds,
        )
    )
    results.append(
        measure("search: phone typed nationally", as_rep, "GET", f"search?q=0{phone}", rounds)
    )
    results.append(
        measure(
            "deals list by stage",
            as_admin,
            "GET",
            f"deals?stage={stage.public_id}&limit=25",
            rounds,
        )
    )
    results.append(
        measure("contact detail", as_admin, "GET", f"contacts/{contact.public_id}", rounds)
    )
    results.append(
        measure(
            "contact timeline (50 items)",
            as_admin,
            "GET",
            f"contacts/{contact.public_id}/timeline?limit=50",
            rounds,
        )
    )

    def new_contact(i: int) -> dict[str, Any]:
        return {
            "first_name": "بنچ",
            "last_name": f"آزمایشی {i}",
            "phones": [
                {"value": f"0912{1000000 + i % 9000000:07d}", "label": "mobile"},
                {"value": f"021{20000000 + i % 80000000:08d}", "label": "work"},
            ],
            "emails": [{"value": f"bench{i}@example.com", "label": "work"}],
        }

    stamp = int(time.time()) % 100_000

    def body(i: int) -> dict[str, Any]:
        return new_contact(stamp * 100 + i)

    results.append(
        measure("create contact with 2 phones", as_rep, "POST", "contacts", rounds, body=body)
    )
    return results, context


def deep_page(api: Api, rounds: int) -> Result:
    """Follow `next` 19 times from the first page of all contacts, then time page 20."""
    name = "contacts list, page 20 via cursor"
    path = "contacts?sort=-updated_at&limit=25"
    response, _ms, _sql = api.call("GET", path)
    if is_missing(response) or response.status_code >= 400:
        return measure(name, api, "GET", path, rounds)
    cursor = None
    for _ in range(19):
        cursor = json.loads(response.content).get("next")
        if not cursor:
            return Result(
                name=name, request=f"GET /api/v1/{path}", status="error", note="fewer than 20 pages"
            )
        response, _ms, _sql = api.call("GET", f"{path}&cursor={cursor}")
    cursor = json.loads(response.content).get("next")
    return measure(name, api, "GET", f"{path}&cursor={cursor}", rounds)


def print_table(results: list[Result]) -> None:
    header = f"{'operation':<50} {'status':<8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>4}"
    print(header)
    print("-" * len(header))

    def fmt(value: float | None) -> str:
        return f"{value:8.2f}" if value is not None else f"{'-':>8}"

    for r in results:
        sql = f"{r.sql:>4}" if r.sql is not None else f"{'-':>4}"
        print(
            f"{r.name[:50]:<50} {r.status:<8} {fmt(r.p50_ms)} {fmt(r.p95_ms)} {fmt(r.max_ms)} {sql}"
        )
        if r.note:
            print(f"    {r.note}")


def machine_reference_ms() -> float:
    """Best of five timings of a fixed pure-Python loop, to compare runs made on different
    days: the same code measured on a machine that is twice as slow here is not a
    regression."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data_dir = configure(args)
    from django.conf import settings
    from django.db import connection

    vendor = connection.vendor
    generation = ensure_data(args, data_dir, vendor)
    from wasl.contacts.models import Contact

    results, context = scenarios(max(1, args.rounds))
    memory, private = rss_mb(), private_mb()
    print_table(results)
    print(f"\nRSS after warm-up and runs: {memory:.0f} MB, of which private: {private:.0f} MB")
    reference = machine_reference_ms()
    print(f"Machine speed reference (pure-Python loop, lower is faster): {reference:.1f} ms")
    if generation.get("seconds") is not None:
        print(f"wasl demo --size {args.size}: {generation['seconds']} s ({vendor})")
    report = {
        "size": args.size,
        "vendor": vendor,
        "database": settings.DATABASES["default"]["NAME"] if vendor == "sqlite" else "postgresql",
        "contacts": Contact.objects.count(),
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rounds": args.rounds,
        "rss_mb": round(memory, 1),
        "private_mb": round(private, 1),
        "machine_reference_ms": round(reference, 1),
        "generation": generation,
        "context": context,
        "results": [asdict(r) for r in results],
    }
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"{args.size}-{vendor}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print(f"Wrote {out.relative_to(BENCH_DIR.parent)}")
