"""`python -m bench.imports [--size M] [--rows 100000] [--db-url URL] [--million] [--scan]`

Times the import of a generated contacts CSV (an e-mail and two phones a row, 20%
duplicates: half of existing contacts, half of earlier rows of the file) into a demo
database of the given size, with duplicate matching on (policy "update"), end to end:
parse, validate, match, write, audit, events, per-row error report. Prints rows/s, the CPU
seconds of the importing process and of its cleaning workers, the peak resident memory
and the peak private (anonymous) memory of each step's process, the megabytes the run
read and wrote through system calls (SQLite's pages; steady where times are not), and
writes `bench/results/imports-<size>-<vendor>.json`.

The database is made once with `wasl demo` (SQLite: `bench/.data/imports-<size>/`), and
each run imports into a fresh copy of it (SQLite: `VACUUM INTO`; PostgreSQL: a template
database), so runs compare. `--million` also times a 1,000,000-row file (into an empty
database), `--scan` the full duplicate scan of the database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import private_mb

BENCH_DIR = Path(__file__).resolve().parent
SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}


def peak_rss_mb() -> float:
    """Peak resident memory, including pages of the database file SQLite maps
    (`mmap_size` is 256 MiB in the settings): those are the OS page cache, not heap."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_csv(path: Path, rows: int, existing: list[tuple[str, str, str]], seed: int = 7) -> None:
    """A deterministic contacts file: 10% rows repeat an existing contact's e-mail or
    phone, 10% repeat an earlier row of the file."""
    from wasl.demo import words

    rng = random.Random(seed)
    firsts = [*words.PERSIAN_FIRST, *words.ARABIC_FIRST, *words.ENGLISH_FIRST]
    lasts = [*words.PERSIAN_LAST, *words.ARABIC_LAST, *words.ENGLISH_LAST]
    firsts = [w[0] if isinstance(w, tuple) else w for w in firsts]
    lasts = [w[0] if isinstance(w, tuple) else w for w in lasts]
    earlier: list[list[str]] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First name", "Last name", "Email", "Mobile", "Phone", "City"])
        for i in range(rows):
            draw = rng.random()
            if draw < 0.10 and existing:
                first, last, email = existing[rng.randrange(len(existing))]
                row = [first, last, email, f"0912{rng.randrange(10**7):07d}", "", "Tehran"]
            elif draw < 0.20 and earlier:
                row = list(earlier[rng.randrange(len(earlier))])
                row[5] = "Shiraz"
            else:
                first, last = rng.choice(firsts), rng.choice(lasts)
                row = [
                    first,
                    last,
                    f"user{i}.{rng.randrange(10**6)}@example{i % 50}.com",
                    f"09{rng.choice('13')}{rng.randrange(10**8):08d}",
                    f"021{rng.randrange(10**8):08d}",
                    rng.choice(["Tehran", "Isfahan", "Dubai", "Riyadh", "تهران", "مشهد"]),
                ]
                if len(earlier) < 50_000:
                    earlier.append(row)
                elif rng.random() < 0.01:
                    earlier[rng.randrange(len(earlier))] = row
            writer.writerow(row)


def configure(data_dir: Path, db_url: str) -> None:
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ["WASL_DATA_DIR"] = str(data_dir)
    if db_url:
        os.environ["WASL_DATABASE_URL"] = db_url
    else:
        os.environ.pop("WASL_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wasl.settings")
    import django

    django.setup()


def prepare(size: str, seed: int) -> dict[str, Any]:
    from django.core.management import call_command

    from wasl.contacts.models import Contact

    call_command("migrate", verbosity=0)
    if Contact.objects.exists():
        return {"generated": False}
    started = time.perf_counter()
    call_command("demo", contacts=SIZES[size], seed=seed, verbosity=0)
    return {"generated": True, "seconds": round(time.perf_counter() - started, 1)}


def existing_people(limit: int = 20_000) -> list[tuple[str, str, str]]:
    from wasl.contacts.models import ContactPoint

    rows = (
        ContactPoint.objects.filter(kind="email", contact__isnull=False, contact_id__lte=limit * 5)
        .order_by("contact_id")
        .values_list("contact__first_name", "contact__last_name", "value")[:limit]
    )
    return list(rows)


def _admin() -> Any:
    from wasl.accounts.models import User

    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if admin is None:
        from wasl.core.testing import make_user

        admin = make_user("bench.admin", "admin")
    return admin


def io_mb() -> dict[str, float]:
    """Bytes this process has read and written through system calls so far, in MiB
    (Linux; empty elsewhere). A SQLite import's writes are its log pages, so the figure
    shows how many pages its commits wrote, which the machine's load does not move."""
    try:
        with open("/proc/self/io") as io:
            fields = dict(line.split(": ") for line in io.read().splitlines())
    except OSError:
        return {}
    return {"read_mb": int(fields["rchar"]) / 2**20, "written_mb": int(fields["wchar"]) / 2**20}


def children_cpu() -> float:
    """CPU seconds of this process's ended children (the import's cleaning workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check_file(path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """The dry run (the API's upload step), in its own process."""
    from wasl.imports.services import import_check

    started, cpu = time.perf_counter(), time.process_time()
    job = import_check(
        actor=_admin(), upload=path, filename=path.name, target="contacts", options=options
    )
    seconds = time.perf_counter() - started
    return {
        "job": job.pk,
        "rows": job.total,
        "counts": job.dry_run,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "rows_per_second": round(job.total / seconds) if seconds else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "anon_rss_mb_at_end": round(private_mb(), 1),
    }


def run_job(job_id: int) -> dict[str, Any]:
    """The real run of a checked job (the worker's step), in its own process."""
    from wasl.imports.models import ImportJob
    from wasl.imports.services import import_execute

    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.QUEUED)
    started, cpu, workers = time.perf_counter(), time.process_time(), children_cpu()
    io = io_mb()
    job = import_execute(job_id=job_id)
    seconds = time.perf_counter() - started
    io = {key: round(value - io[key], 1) for key, value in io_mb().items()}
    return {
        "status": job.status,
        "error": job.error,
        "rows": job.processed,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "failed": job.failed,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "workers_cpu_seconds": round(children_cpu() - workers, 2),
        "rows_per_second": round(job.processed / seconds) if seconds else None,
        **io,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "anon_rss_mb_at_end": round(private_mb(), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--size", choices=sorted(SIZES), default="M")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db-url", default="")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--million", action="store_true", help="also a 1,000,000-row file")
    parser.add_argument("--scan", action="store_true", help="also the full duplicate scan")
    parser.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--step", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    base = BENCH_DIR / ".data" / f"imports-{args.size}"
    work = BENCH_DIR / ".data" / f"imports-{args.size}-run"
    if args.step:
        return child(args, base, work)
    # Each step runs in its own process so its peak memory is its own.
    results: dict[str, Any] = {"size": args.size}
    steps = ["prepare", "check", "run"]
    steps += ["million-check", "million-run"] if args.million else []
    steps += ["scan"] if args.scan else []
    for step in steps:
        command = [
            sys.executable,
            "-m",
            "bench.imports",
            "--step",
            step,
            "--size",
            args.size,
            "--rows",
            str(args.rows),
            "--seed",
            str(args.seed),
        ]
        if args.db_url:
            command += ["--db-url", args.db_url]
        if step.endswith("run"):
            command += ["--job", str(results[step.replace("run", "check")]["job"])]
        # Our own interpreter running this module: no untrusted input.
        output, peak = run_sampled(command)
        result = json.loads(output.strip().splitlines()[-1])
        result["peak_anon_mb"] = peak
        results[step] = result
        print(step, json.dumps(result, ensure_ascii=False))
    vendor = "postgresql" if args.db_url.startswith("postgres") else "sqlite"
    out = BENCH_DIR / "results" / f"imports-{args.size}-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written {out}")


def run_sampled(command: list[str]) -> tuple[str, float]:
    """Run a step; its output and the largest private (anonymous) resident memory it
    reached, read from outside every 50 ms (a sampling thread inside would stop the
    import from forking its workers, and the figure at the end understates the peak)."""
    import subprocess
    import tempfile

    # The output goes to a file: a pipe nobody reads meanwhile could fill and block.
    with tempfile.TemporaryFile("w+") as out:
        with subprocess.Popen(command, stdout=out, text=True) as process:  # noqa: S603
            peak = 0
            while process.poll() is None:
                try:
                    with open(f"/proc/{process.pid}/status") as status:
                        for line in status:
                            if line.startswith("RssAnon:"):
                                peak = max(peak, int(line.split()[1]))
                except OSError:
                    pass
                time.sleep(0.05)
        out.seek(0)
        output = out.read()
    if process.returncode:
        raise SystemExit(f"step failed: {' '.join(command[3:])}")
    return output, round(peak / 1024, 1)


def _fresh_copy(args: argparse.Namespace, base: Path, work: Path) -> str:
    """A copy of the prepared database to import into; returns its URL ('' for SQLite)."""
    if not args.db_url:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        import sqlite3

        source = sqlite3.connect(base / "wasl.sqlite3")
        source.execute("VACUUM INTO ?", (str(work / "wasl.sqlite3"),))
        source.close()
        shutil.copy(base / "secret_key", work / "secret_key")
        return ""
    import psycopg

    url = args.db_url
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}_run"')
        conn.execute(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"')
    return url + "_run"


def _work_url(args: argparse.Namespace) -> str:
    return args.db_url + "_run" if args.db_url else ""


def _million_url(args: argparse.Namespace) -> str:
    return args.db_url.rsplit("/", 1)[0] + "/wasl_imports_million" if args.db_url else ""


def child(args: argparse.Namespace, base: Path, work: Path) -> None:
    result: dict[str, Any] = {}
    if args.step == "prepare":
        configure(base, args.db_url)
        result = prepare(args.size, args.seed)
        files = base / f"contacts-{args.rows}.csv"
        if not files.exists():
            make_csv(files, args.rows, existing_people())
        if args.db_url:
            from django.db import connection

            connection.close()
    elif args.step == "check":
        url = _fresh_copy(args, base, work)
        configure(work, url)
        result = check_file(base / f"contacts-{args.rows}.csv", {"on_duplicate": "update"})
    elif args.step == "run":
        configure(work, _work_url(args))
        result = run_job(args.job)
    elif args.step == "million-check":
        target = BENCH_DIR / ".data" / "imports-million"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        url = _million_url(args)
        if url:
            import psycopg

            with psycopg.connect(args.db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
                c.execute("DROP DATABASE IF EXISTS wasl_imports_million")
                c.execute("CREATE DATABASE wasl_imports_million")
        configure(target, url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        path = BENCH_DIR / ".data" / "imports-million-file" / "contacts-1000000.csv"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            make_csv(path, 1_000_000, [])
        result = check_file(path, {"on_duplicate": "update"})
    elif args.step == "million-run":
        configure(BENCH_DIR / ".data" / "imports-million", _million_url(args))
        result = run_job(args.job)
    elif args.step == "scan":
        url = _fresh_copy(args, base, work)
        configure(work, url)
        from wasl.imports.duplicates import duplicate_scan

        started = time.perf_counter()
        found = duplicate_scan(kind="contact")
        result = {
            **found,
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
