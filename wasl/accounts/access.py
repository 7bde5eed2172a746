"""Loading users and teams named by user input."""

from __future__ import annotations

import uuid
from typing import Any

from wasl.accounts.models import Team, User
from wasl.accounts.selectors import team_list, user_list
from wasl.core.errors import NotFound


def _uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as error:
        raise NotFound() from error


def access_user(actor: Any, public_id: Any) -> User:
    user = user_list(actor=actor).filter(public_id=_uuid(public_id)).first()
    if user is None:
        raise NotFound()
    return user


def access_team(actor: Any, public_id: Any) -> Team:
    team = team_list(actor=actor).filter(public_id=_uuid(public_id)).first()
    if team is None:
        raise NotFound()
    return team
