"""Background entry points: run an import, write an export, scan for duplicates."""

from __future__ import annotations

from typing import Any

from django.tasks import task


@task()
def run_import(job_id: int) -> dict[str, Any]:
    """Run a queued import job."""
    from wasl.imports.services import import_execute

    job = import_execute(job_id=job_id)
    return {"status": job.status, "processed": job.processed}


@task()
def run_export(job_id: int) -> dict[str, Any]:
    """Write a queued export's file."""
    from wasl.imports.exports import export_execute

    job = export_execute(job_id=job_id)
    return {"status": job.status, "rows": job.rows}


@task()
def scan_duplicates(kind: str) -> dict[str, Any]:
    """Scan every record of a kind for likely duplicates and store the pairs."""
    from wasl.imports.duplicates import duplicate_scan

    return duplicate_scan(kind=kind)
