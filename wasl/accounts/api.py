"""Users, teams and API tokens over the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from wasl.accounts import services
from wasl.accounts.access import access_team, access_user
from wasl.accounts.models import Team, User
from wasl.accounts.selectors import team_list, user_list
from wasl.core.api import ERROR_RESPONSES, Page, actor_of
from wasl.core.pagination import keyset_page
from wasl.core.ratelimit import client_address, too_many

router = Router(tags=["users and teams"])


class TeamOut(Schema):
    id: str
    name: str
    manager_id: str | None

    @staticmethod
    def build(team: Team) -> TeamOut:
        return TeamOut(
            id=str(team.public_id),
            name=team.name,
            manager_id=str(team.manager.public_id) if team.manager else None,
        )


class UserOut(Schema):
    id: str
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    team_id: str | None
    is_active: bool

    @staticmethod
    def build(user: User) -> UserOut:
        return UserOut(
            id=str(user.public_id),
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            role=user.role,
            team_id=str(user.team.public_id) if user.team else None,
            is_active=user.is_active,
        )


class UserIn(Schema):
    username: str
    role: str = "rep"
    team: str | None = None
    password: str | None = None
    email: str = ""
    first_name: str = ""
    last_name: str = ""


class UserPatch(Schema):
    role: str | None = None
    team_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    is_active: bool | None = None


class TeamIn(Schema):
    name: str
    manager_id: str | None = None


class ReassignIn(Schema):
    to_user_id: str


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"


class TokenOut(Schema):
    token: str
    name: str


@router.get("/users", response={200: Page[UserOut], **ERROR_RESPONSES})
def list_users(request: HttpRequest, cursor: str | None = None, limit: int = 50):
    rows, next_cursor = keyset_page(
        user_list(actor=actor_of(request)),
        field="username",
        descending=False,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [UserOut.build(u) for u in rows], "next": next_cursor}


@router.get("/users/{user_id}", response={200: UserOut, **ERROR_RESPONSES})
def get_user(request: HttpRequest, user_id: str):
    return UserOut.build(access_user(actor_of(request), user_id))


@router.post("/users", response={201: UserOut, **ERROR_RESPONSES})
def create_user(request: HttpRequest, payload: UserIn):
    user = services.user_create(
        actor=actor_of(request),
        username=payload.username,
        role=payload.role,
        team_name=payload.team,
        password=payload.password,
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
    )
    return Status(201, UserOut.build(user))


@router.patch("/users/{user_id}", response={200: UserOut, **ERROR_RESPONSES})
def update_user(request: HttpRequest, user_id: str, payload: UserPatch):
    actor = actor_of(request)
    user = access_user(actor, user_id)
    fields = payload.dict(exclude_unset=True)
    if "team_id" in fields:
        team_id = fields.pop("team_id")
        fields["team"] = access_team(actor, team_id) if team_id else None
    return UserOut.build(services.user_update(actor=actor, user=user, **fields))


@router.post("/users/{user_id}/reassign", response={200: dict[str, int], **ERROR_RESPONSES})
def reassign_user_records(request: HttpRequest, user_id: str, payload: ReassignIn):
    actor = actor_of(request)
    return services.user_reassign_records(
        actor=actor,
        from_user=access_user(actor, user_id),
        to_user=access_user(actor, payload.to_user_id),
    )


@router.get("/teams", response={200: Page[TeamOut], **ERROR_RESPONSES})
def list_teams(request: HttpRequest, cursor: str | None = None, limit: int = 50):
    rows, next_cursor = keyset_page(
        team_list(actor=actor_of(request)),
        field="name",
        descending=False,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [TeamOut.build(t) for t in rows], "next": next_cursor}


@router.get("/teams/{team_id}", response={200: TeamOut, **ERROR_RESPONSES})
def get_team(request: HttpRequest, team_id: str):
    return TeamOut.build(access_team(actor_of(request), team_id))


@router.post("/teams", response={201: TeamOut, **ERROR_RESPONSES})
def create_team(request: HttpRequest, payload: TeamIn):
    actor = actor_of(request)
    team = services.team_get_or_create(actor=actor, name=payload.name)
    if payload.manager_id:
        team = services.team_update(
            actor=actor, team=team, manager=access_user(actor, payload.manager_id)
        )
    return Status(201, TeamOut.build(team))


@router.patch("/teams/{team_id}", response={200: TeamOut, **ERROR_RESPONSES})
def update_team(request: HttpRequest, team_id: str, payload: TeamIn):
    actor = actor_of(request)
    team = access_team(actor, team_id)
    manager = access_user(actor, payload.manager_id) if payload.manager_id else None
    return TeamOut.build(
        services.team_update(actor=actor, team=team, name=payload.name, manager=manager)
    )


@router.post("/auth/token", auth=None, response={201: TokenOut, **ERROR_RESPONSES, 429: dict})
def create_token(request: HttpRequest, payload: TokenIn):
    """Exchange a user name and password for a personal API token (rate limited)."""
    limit, window = settings.WASL_LOGIN_RATE
    key = f"{client_address(request.META)}:{payload.username.lower()}"
    if too_many("token", key, limit=limit, window=window):
        raise HttpError(429, _("Too many attempts; wait a minute and try again."))
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise HttpError(401, _("Wrong user name or password."))
    _token, plaintext = services.token_create(actor=user, user=user, name=payload.name)
    return Status(201, TokenOut(token=plaintext, name=payload.name))
