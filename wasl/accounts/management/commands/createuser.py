"""`wasl createuser NAME --role ROLE`: add a user, creating the team when needed."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from wasl.accounts.services import user_create
from wasl.core.errors import Invalid
from wasl.core.management.support import command_error
from wasl.core.visibility import Role


class Command(BaseCommand):
    help = (
        "Add a user with a role and an optional team (created if needed). Without "
        "--password, asks for one at a terminal; otherwise the user cannot sign in "
        "until a password is set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="NAME")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--team", default=None, help="team name (created if missing)")
        parser.add_argument(
            "--password",
            default=None,
            help="visible to other local users in the process list; prefer the prompt",
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="never prompt, even at a terminal",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if password is None and options.get("interactive", True) and _stdin_is_terminal():
            password = self._ask_password()
        try:
            user = user_create(
                actor=None,
                username=options["username"],
                role=options["role"],
                team_name=options["team"],
                password=password or None,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except Invalid as error:
            raise command_error(error) from None
        team = f" in team {user.team.name}" if user.team else ""
        self.stdout.write(f"Created {user.role} {user.username}{team}.")
        if not password:
            self.stdout.write(
                "No password was set, so this user cannot sign in yet; "
                "set one with `wasl changepassword NAME`."
            )

    def _ask_password(self) -> str:
        first = getpass.getpass("Password (empty for none): ")
        if not first:
            return ""
        if getpass.getpass("Password again: ") != first:
            raise CommandError(_("The two passwords differ; nothing was created."))
        return first


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
