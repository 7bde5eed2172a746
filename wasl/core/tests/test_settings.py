"""Settings fail closed: each case imports wasl.settings in a fresh interpreter."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
PROBE = (
    "import json, wasl.settings as s; "
    "print(json.dumps({'key': s.SECRET_KEY, 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, "
    "'csrf': s.CSRF_TRUSTED_ORIGINS}))"
)


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
    base["WASL_DATA_DIR"] = str(tmp_path / "data")
    base.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and a constant program
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr


def unwritable_data_dir(tmp_path: Path) -> str:
    # A path under a regular file cannot be created, even by root (CI runs as root,
    # where a read-only mode bit would not stop the write).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    return str(blocker / "data")


def test_without_a_secret_key_and_a_writable_data_dir_settings_refuse_to_load(tmp_path):
    stderr = refused(
        load_settings(tmp_path, WASL_DEBUG="0", WASL_DATA_DIR=unwritable_data_dir(tmp_path))
    )
    assert "WASL_SECRET_KEY" in stderr


def test_an_embedded_database_in_an_unusable_data_dir_is_a_configuration_error(tmp_path):
    stderr = refused(
        load_settings(
            tmp_path, WASL_SECRET_KEY="k" * 50, WASL_DATA_DIR=unwritable_data_dir(tmp_path)
        )
    )
    assert "WASL_DATA_DIR" in stderr


def test_debug_does_not_invent_a_placeholder_key_either(tmp_path):
    refused(load_settings(tmp_path, WASL_DEBUG="1", WASL_DATA_DIR=unwritable_data_dir(tmp_path)))


def test_a_configured_secret_key_needs_no_data_dir_beside_a_database_server(tmp_path):
    key = "k" * 50
    settings = loaded(
        load_settings(
            tmp_path,
            WASL_SECRET_KEY=key,
            WASL_DATA_DIR=unwritable_data_dir(tmp_path),
            WASL_DATABASE_URL="postgres://wasl:wasl@127.0.0.1:5432/wasl",
        )
    )
    assert settings["key"] == key
    assert settings["debug"] is False


def test_a_placeholder_secret_key_is_refused_without_debug(tmp_path):
    stderr = refused(load_settings(tmp_path, WASL_SECRET_KEY="changeme"))
    assert "too short" in stderr
    assert loaded(load_settings(tmp_path, WASL_SECRET_KEY="changeme", WASL_DEBUG="1"))["debug"]


def test_the_generated_key_is_private_and_survives_restarts(tmp_path):
    first = loaded(load_settings(tmp_path))["key"]
    second = loaded(load_settings(tmp_path))["key"]
    assert first == second
    assert len(first) >= 32
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_an_emptied_key_file_is_refused_rather_than_signing_with_nothing(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("\n")
    stderr = refused(load_settings(tmp_path))
    assert "secret_key" in stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    assert loaded(load_settings(tmp_path))["debug"] is False
    assert loaded(load_settings(tmp_path, WASL_DEBUG="yes"))["debug"] is True
    assert loaded(load_settings(tmp_path, WASL_DEBUG="0"))["debug"] is False


def test_allowed_hosts_and_trusted_origins_come_from_the_environment(tmp_path):
    settings = loaded(
        load_settings(
            tmp_path,
            WASL_ALLOWED_HOSTS="crm.example.com, .example.org",
            WASL_CSRF_TRUSTED_ORIGINS="https://crm.example.com",
        )
    )
    assert settings["hosts"] == ["crm.example.com", ".example.org"]
    assert settings["csrf"] == ["https://crm.example.com"]
    assert loaded(load_settings(tmp_path))["hosts"] == ["127.0.0.1", "localhost", "[::1]"]


def test_an_allowed_hosts_list_naming_no_host_is_refused(tmp_path):
    refused(load_settings(tmp_path, WASL_ALLOWED_HOSTS=" , "))


@pytest.mark.django_db
def test_sqlite_runs_with_foreign_keys_and_wal(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas only apply to the embedded database")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL


@pytest.mark.django_db
def test_postgresql_runs_without_jit():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_env_example_lists_every_variable_settings_read():
    read = set(re.findall(r"\"(WASL_[A-Z_]+)\"", (PROJECT_DIR / "wasl/settings.py").read_text()))
    listed = set(
        re.findall(r"^(WASL_[A-Z_]+)=", (PROJECT_DIR / ".env.example").read_text(), re.MULTILINE)
    )
    assert read, "no variables found in settings"
    assert read - listed == set(), "add these to .env.example"
    assert listed - read == set(), "settings no longer read these"
