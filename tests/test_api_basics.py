"""The API's ground rules: schema, authentication, CSRF, rate limit, users and teams."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from wasl.accounts.models import ApiToken, Team, User
from wasl.accounts.services import token_create, token_revoke, user_create, user_update
from wasl.core.models import AuditEntry, SearchEntry

PASSWORD = "Plenty-of-entropy-42"


def post_json(client: Client, url: str, data: dict, **headers: str):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.fixture
def alice(db) -> User:
    return user_create(
        actor=None, username="alice", role="rep", team_name="Sales", password=PASSWORD
    )


def test_the_openapi_schema_is_served_as_json_listing_the_paths(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/users" in schema["paths"]
    assert "/api/v1/auth/token" in schema["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wasl_not-a-real-token"}])
def test_a_request_without_valid_credentials_gets_401_in_the_error_envelope(client, headers):
    response = client.get("/api/v1/users", headers=headers)
    assert_error(response, 401, "unauthenticated")


def test_good_credentials_get_a_token_that_works(client, alice):
    response = post_json(
        client, "/api/v1/auth/token", {"username": "alice", "password": PASSWORD, "name": "laptop"}
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    assert response.json()["name"] == "laptop"
    listed = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert "alice" in [u["username"] for u in listed.json()["items"]]
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert ApiToken.objects.get(user=alice).name == "laptop"


def test_a_wrong_password_gets_401_and_no_token(client, alice):
    response = post_json(client, "/api/v1/auth/token", {"username": "alice", "password": "nope"})
    assert_error(response, 401, "unauthenticated")
    unknown = post_json(client, "/api/v1/auth/token", {"username": "nobody", "password": "x"})
    assert_error(unknown, 401, "unauthenticated")
    assert not ApiToken.objects.exists()


def test_token_requests_are_refused_with_429_after_the_limit(client, alice, settings):
    # A smaller limit than the real one keeps the test fast (each attempt hashes a password).
    settings.WASL_LOGIN_RATE = (3, 60)
    limit, _window = settings.WASL_LOGIN_RATE
    for _ in range(limit):
        wrong = post_json(client, "/api/v1/auth/token", {"username": "alice", "password": "no"})
        assert wrong.status_code == 401
    blocked = post_json(client, "/api/v1/auth/token", {"username": "alice", "password": PASSWORD})
    assert_error(blocked, 429, "rate_limited")
    assert not ApiToken.objects.exists()


def test_session_auth_works_but_an_unsafe_request_needs_the_csrf_token(alice):
    admin = user_create(actor=None, username="root", role="admin", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    assert browser.get("/api/v1/users").status_code == 200

    refused = post_json(browser, "/api/v1/teams", {"name": "Forged"})
    assert refused.status_code == 403
    assert not Team.objects.filter(name="Forged").exists()

    secret = "a" * 32
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    accepted = post_json(browser, "/api/v1/teams", {"name": "Real"}, **{"X-CSRFToken": secret})
    assert accepted.status_code == 201, accepted.content
    assert Team.objects.filter(name="Real").exists()


def test_a_bearer_token_needs_no_csrf_token(alice):
    admin = user_create(actor=None, username="root", role="admin")
    _token, plaintext = token_create(actor=None, user=admin, name="script")
    client = Client(enforce_csrf_checks=True)
    response = post_json(
        client, "/api/v1/teams", {"name": "Scripted"}, Authorization=f"Bearer {plaintext}"
    )
    assert response.status_code == 201, response.content


def test_a_revoked_token_is_refused(client, alice):
    token, plaintext = token_create(actor=None, user=alice, name="old")
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/users", headers=headers).status_code == 200
    token_revoke(actor=None, token=token)
    assert_error(client.get("/api/v1/users", headers=headers), 401, "unauthenticated")


def test_an_inactive_users_token_and_session_are_refused(alice):
    _token, plaintext = token_create(actor=None, user=alice, name="before leaving")
    browser = Client()
    browser.force_login(alice)
    user_update(actor=None, user=alice, is_active=False)
    refused = browser.get("/api/v1/users", headers={"Authorization": f"Bearer {plaintext}"})
    assert_error(refused, 401, "unauthenticated")
    assert browser.get("/api/v1/users").status_code == 401
    login = post_json(browser, "/api/v1/auth/token", {"username": "alice", "password": PASSWORD})
    assert login.status_code == 401


def test_an_admin_creates_a_user_in_a_new_team(personas, api_as):
    response = api_as(personas.admin).post(
        "users",
        {"username": "newbie", "role": "rep", "team": "Night shift", "email": "N@Example.com"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    created = User.objects.get(username="newbie")
    assert body["id"] == str(created.public_id)
    assert body["email"] == "n@example.com"
    assert created.team is not None and created.team.name == "Night shift"
    assert body["team_id"] == str(created.team.public_id)
    assert not created.has_usable_password()
    assert AuditEntry.objects.filter(object_public_id=created.public_id, action="create").exists()


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "readonly"])
def test_only_an_admin_may_create_users(personas, api_as, who):
    before = User.objects.count()
    response = api_as(getattr(personas, who)).post(
        "users", {"username": "sneaky", "role": "admin", "team": "Shadow"}
    )
    assert_error(response, 403, "forbidden")
    assert User.objects.count() == before
    assert not Team.objects.filter(name="Shadow").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "", "role": "rep", "team": "Ghosts"}, "username"),
        ({"username": "rep_a", "role": "rep", "team": "Ghosts"}, "username"),
        ({"username": "ghost", "role": "overlord", "team": "Ghosts"}, "role"),
        ({"username": "ghost", "role": "rep", "team": "Ghosts", "password": "123"}, "password"),
        ({"role": "rep", "team": "Ghosts"}, "username"),
    ],
)
def test_an_invalid_user_is_refused_with_422_and_nothing_written(personas, api_as, payload, field):
    admin = api_as(personas.admin)
    users, teams, audits = User.objects.count(), Team.objects.count(), AuditEntry.objects.count()
    response = admin.post("users", payload)
    error = assert_error(response, 422, "invalid")
    assert field in error["fields"]
    assert (User.objects.count(), Team.objects.count(), AuditEntry.objects.count()) == (
        users,
        teams,
        audits,
    )


def test_reassign_moves_every_record_with_its_team(personas, api_as):
    contacts = pytest.importorskip("wasl.contacts.services")
    from wasl.contacts.models import Company, Contact

    rep_a, rep_c = personas.rep_a, personas.rep_c
    for first in ["Sara", "Reza"]:
        contacts.contact_create(actor=rep_a, first_name=first, last_name="Ahmadi")
    contacts.company_create(actor=rep_a, name="Pars Trading")
    kept = contacts.contact_create(actor=personas.rep_b, first_name="Kept", last_name="Here")

    response = api_as(personas.admin).post(
        f"users/{rep_a.public_id}/reassign", {"to_user_id": str(rep_c.public_id)}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"contacts.contact": 2, "contacts.company": 1}
    assert not Contact.objects.filter(owner=rep_a).exists()
    assert not Company.objects.filter(owner=rep_a).exists()
    moved = Contact.objects.filter(owner=rep_c)
    assert moved.count() == 2
    assert set(moved.values_list("team_id", flat=True)) == {rep_c.team_id}
    assert Contact.objects.get(pk=kept.pk).owner_id == personas.rep_b.pk
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGN).count() == 3
    assert not SearchEntry.objects.filter(owner_id=rep_a.pk).exists()


def test_only_an_admin_may_reassign_records(personas, api_as):
    response = api_as(personas.manager_a).post(
        f"users/{personas.rep_a.public_id}/reassign",
        {"to_user_id": str(personas.rep_b.public_id)},
    )
    assert_error(response, 403, "forbidden")
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGN).exists()


def test_reassigning_to_the_same_user_is_invalid(personas, api_as):
    rep = personas.rep_a
    response = api_as(personas.admin).post(
        f"users/{rep.public_id}/reassign", {"to_user_id": str(rep.public_id)}
    )
    assert_error(response, 422, "invalid")


def test_teams_list_and_create(personas, api_as):
    admin = api_as(personas.admin)
    created = admin.post(
        "teams", {"name": "Export", "manager_id": str(personas.manager_b.public_id)}
    )
    assert created.status_code == 201, created.content
    assert created.json()["manager_id"] == str(personas.manager_b.public_id)
    names = [t["name"] for t in api_as(personas.rep_a).get("teams").json()["items"]]
    assert names == sorted(names) and "Export" in names
    assert_error(api_as(personas.rep_a).post("teams", {"name": "Mine"}), 403, "forbidden")
    assert_error(admin.get("teams/not-a-uuid"), 404, "not_found")
