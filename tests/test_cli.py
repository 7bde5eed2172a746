"""The `wasl` command for operators: users and API tokens from the shell."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from wasl.accounts.models import ApiToken, Team, User
from wasl.accounts.services import user_create
from wasl.core.models import AuditEntry

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def database_holds(text: str) -> list[str]:
    """Tables where `text` appears in any column of any row."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            if any(text in str(value) for row in cursor.fetchall() for value in row):
                found.append(table)
    return found


@pytest.mark.django_db
def test_createuser_adds_a_user_and_creates_the_team():
    out, _err = run_command(
        "createuser", "carol", "--role", "manager", "--team", "North", "--email", "C@X.IO"
    )
    carol = User.objects.get(username="carol")
    assert (carol.role, carol.team.name, carol.email) == ("manager", "North", "c@x.io")
    assert not carol.has_usable_password()
    assert "cannot sign in" in out
    assert AuditEntry.objects.filter(object_public_id=carol.public_id).exists()


@pytest.mark.django_db
def test_createuser_with_a_password_lets_the_user_sign_in():
    run_command("createuser", "dan", "--role", "rep", "--password", "Long-enough-pass-7")
    assert Client().login(username="dan", password="Long-enough-pass-7")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["taken", "--role", "rep"], "username: This user name is taken."),
        (["weak", "--role", "rep", "--password", "123"], "password:"),
        (["", "--role", "rep"], "username:"),
    ],
)
def test_createuser_reports_invalid_input_in_one_line(args, message):
    user_create(actor=None, username="taken", role="rep")
    users, teams = User.objects.count(), Team.objects.count()
    with pytest.raises(CommandError) as raised:
        run_command("createuser", *args, "--team", "Never")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert (User.objects.count(), Team.objects.count()) == (users, teams)


@pytest.mark.django_db
def test_token_create_prints_a_working_token_and_keeps_only_its_hash():
    user_create(actor=None, username="erin", role="rep")
    out, err = run_command("token", "create", "erin", "--name", "laptop")
    token = last_line(out)
    assert token.startswith("wasl_")
    assert "shown once" in err
    stored = ApiToken.objects.get(user__username="erin")
    assert stored.name == "laptop"
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert database_holds(token) == []

    response = Client().get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_token_list_and_revoke():
    user_create(actor=None, username="fay", role="rep")
    token = last_line(run_command("token", "create", "fay")[0])
    listing, _ = run_command("token", "list", "fay")
    assert token[:12] in listing and "active" in listing

    out, _ = run_command("token", "revoke", token[:12])
    assert "Revoked" in out
    assert ApiToken.objects.get().revoked_at is not None
    response = Client().get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    with pytest.raises(CommandError, match="No active token"):
        run_command("token", "revoke", token[:12])


@pytest.mark.django_db
def test_token_create_for_an_unknown_or_inactive_user_fails_cleanly():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run_command("token", "create", "ghost")
    gone = user_create(actor=None, username="gone", role="rep")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    with pytest.raises(CommandError, match="not active"):
        run_command("token", "create", "gone")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_reassign_moves_records_between_users_named_on_the_command_line():
    contacts = pytest.importorskip("wasl.contacts.services")
    from wasl.contacts.models import Contact

    leaving = user_create(actor=None, username="leaving", role="rep", team_name="A")
    staying = user_create(actor=None, username="staying", role="rep", team_name="B")
    contacts.contact_create(actor=leaving, first_name="Nima", last_name="Karimi")
    out, _ = run_command("reassign", "leaving", "staying")
    assert "Moved 1 records" in out
    assert Contact.objects.get().owner_id == staying.pk
    with pytest.raises(CommandError, match="different user"):
        run_command("reassign", "staying", "staying")


@pytest.mark.django_db
def test_dispatch_events_delivers_what_is_pending():
    from wasl.core.models import OutboxEvent

    user_create(actor=None, username="gil", role="rep")
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    out, _ = run_command("dispatch_events")
    assert out.startswith("Delivered")
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


# The same commands as an operator runs them: a separate process, stdin not a terminal.


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("cli-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
    env.update(WASL_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    wasl(env, "migrate", "--verbosity", "0")
    return env


def wasl(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "wasl.cli", *args],
        cwd=PROJECT_DIR,
        env=env,
        input="",  # stdin is a closed pipe, not a terminal: the command must not prompt
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_the_wasl_command_creates_a_user_without_prompting(cli_env):
    result = wasl(cli_env, "createuser", "hana", "--role", "admin", "--team", "HQ")
    assert "Password" not in result.stdout + result.stderr
    assert "Created admin hana in team HQ." in result.stdout
    assert "cannot sign in" in result.stdout


def test_the_wasl_command_reports_errors_without_a_traceback(cli_env):
    wasl(cli_env, "createuser", "ivan", "--role", "rep")
    result = wasl(cli_env, "createuser", "ivan", "--role", "rep", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: username: This user name is taken."


def test_the_printed_token_authenticates_and_only_its_hash_is_stored(cli_env):
    wasl(cli_env, "createuser", "jana", "--role", "rep")
    token = last_line(wasl(cli_env, "token", "create", "jana").stdout)
    assert token.startswith("wasl_")
    check = (
        "from django.test import Client; from wasl.accounts.models import ApiToken; "
        "r = Client(SERVER_NAME='localhost').get("
        f"'/api/v1/users', headers={{'Authorization': 'Bearer {token}'}}); "
        f"print(r.status_code, ApiToken.objects.filter(key_hash='{token}').exists())"
    )
    assert last_line(wasl(cli_env, "shell", "-c", check).stdout) == "200 False"
    database = Path(cli_env["WASL_DATA_DIR"]) / "wasl.sqlite3"
    for path in database.parent.glob("wasl.sqlite3*"):
        assert token.encode() not in path.read_bytes()
