"""Helpers for tests: personas built through the services and a JSON API client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from wasl.accounts.models import User
from wasl.accounts.services import team_update, token_create, user_create


class ApiClient:
    """Calls /api/v1/ as one user, with a bearer token."""

    def __init__(self, user: User | None) -> None:
        self.user = user
        self.client = Client()
        self.token = token_create(actor=None, user=user, name="test")[1] if user else None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, data: Any = None, **params: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        call = getattr(self.client, method.lower())
        if method.upper() in {"GET", "DELETE"} and data is None:
            return call(url, params or None, headers=self._headers())
        return call(
            url,
            json.dumps(data if data is not None else {}),
            content_type="application/json",
            headers=self._headers(),
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def post(self, path: str, data: Any = None) -> Any:
        return self.request("POST", path, data)

    def patch(self, path: str, data: Any = None) -> Any:
        return self.request("PATCH", path, data)

    def put(self, path: str, data: Any = None) -> Any:
        return self.request("PUT", path, data)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


def client_for(user: Any) -> Client:
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def make_user(username: str, role: str = "rep", team: str | None = None, **extra: Any) -> User:
    return user_create(actor=None, username=username, role=role, team_name=team, **extra)


@dataclass
class Personas:
    """Rep A and rep B share team A; manager A manages it; manager B manages team B;
    readonly belongs to team A; admin sees everything."""

    rep_a: User
    rep_b: User
    manager_a: User
    manager_b: User
    readonly: User
    admin: User
    rep_c: User  # a rep of team B, so manager B has someone to manage


def build_personas() -> Personas:
    rep_a = make_user("rep_a", "rep", "Team A")
    rep_b = make_user("rep_b", "rep", "Team A")
    manager_a = make_user("manager_a", "manager", "Team A")
    manager_b = make_user("manager_b", "manager", "Team B")
    rep_c = make_user("rep_c", "rep", "Team B")
    readonly = make_user("readonly", "readonly", "Team A")
    admin = make_user("admin", "admin")
    assert rep_a.team is not None and manager_b.team is not None
    team_update(actor=None, team=rep_a.team, manager=manager_a)
    team_update(actor=None, team=manager_b.team, manager=manager_b)
    return Personas(
        rep_a=rep_a,
        rep_b=rep_b,
        manager_a=manager_a,
        manager_b=manager_b,
        readonly=readonly,
        admin=admin,
        rep_c=rep_c,
    )


# sqlite_stat1 of the L benchmark database's activities (2,000,000 rows, 79,735 open) after
# a full ANALYZE, for the plan tests of the pages that read them.
L_ACTIVITY_STATISTICS = {
    "activity_company": "2000000 21 1",
    "activity_contact": "2000000 3 1",
    "activity_deal": "2000000 9 1",
    "activity_done": "2000000 2 1 1 1 1",
    "activity_due": "2000000 3 1",
    "activity_lead": "2000000 24 1",
    "activity_open_due": "79735 2 1 1 1 1",
    "activity_open_owner_upd": "79735 5696 1 1",
    "activity_open_upd": "79735 1 1",
    "activity_owner_done_kind": "2000000 142858 1 1 1 1 1",
    "activity_owner_upd_kind": "2000000 142858 1 1 1",
    "activity_team_upd": "2000000 666667 1 1",
    "activity_upd": "2000000 1 1",
}


def load_sqlite_statistics(statistics: dict[str, dict[str, str]]) -> None:
    """Give SQLite's planner the statistics of another database (`sqlite_stat1` rows by
    table and index, as `ANALYZE` wrote them there), so a test can check the plan a query
    gets at a size the test database does not have. The caller skips other databases."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        for table, rows in statistics.items():
            cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s", [table])
            for index, stat in rows.items():
                cursor.execute(
                    "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)",
                    [table, index, stat],
                )
        cursor.execute("ANALYZE sqlite_schema")  # reloads the statistics
