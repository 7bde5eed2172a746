"""`wasl run` as a newcomer starts it: migrate, first admin, serve, deliver events."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    os.environ.get("WASL_DATABASE_URL", "").startswith(("postgres", "pgsql")),
    reason="`wasl run` is tested in its embedded set-up (SQLite in the data folder); "
    "the PostgreSQL run checks the suite against the server",
)

ADMIN_LINE = re.compile(r"Sign in as admin with password: (\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_json(url: str, data: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - local server
        url, json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextmanager
def running_wasl(data_dir: Path, log: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
    env.update(WASL_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "wasl.cli", "run", "--no-demo", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                status, body = get(f"{base}/health")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no answer on /health:\n" + log.read_text()
            time.sleep(0.2)
        assert json.loads(body) == {"status": "ok", "database": "sqlite"}
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_wasl_run_serves_creates_the_admin_once_and_delivers_events(tmp_path):
    data_dir = tmp_path / "data"
    with running_wasl(data_dir, tmp_path / "first.log") as base:
        passwords = ADMIN_LINE.findall((tmp_path / "first.log").read_text())
        assert len(passwords) == 1, (tmp_path / "first.log").read_text()
        status, body = post_json(
            f"{base}/api/v1/auth/token", {"username": "admin", "password": passwords[0]}
        )
        assert status == 201, body
        assert body["token"].startswith("wasl_")
        status, _ = get(f"{base}/api/v1/openapi.json")
        assert status == 200

        # The embedded dispatcher delivers the outbox (user.created) within a few seconds.
        database = data_dir / "wasl.sqlite3"
        deadline = time.monotonic() + 15
        while True:
            with sqlite3.connect(database) as db:
                (pending,) = db.execute(
                    "SELECT count(*) FROM core_outboxevent WHERE dispatched_at IS NULL"
                ).fetchone()
            if pending == 0:
                break
            assert time.monotonic() < deadline, f"{pending} events never delivered"
            time.sleep(0.3)

    with running_wasl(data_dir, tmp_path / "second.log"):
        second = (tmp_path / "second.log").read_text()
        assert not ADMIN_LINE.search(second), second
        assert "Wasl is running at" in second
        # Without an SMTP server, e-mails go to files in the data folder, not the console.
        assert f"e-mails are written to {data_dir / 'mail'}" in second
    assert (data_dir / "secret_key").exists()
