"""`wasl token create|list|revoke`: personal API tokens from the shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wasl.accounts.management.commands._users import user_named
from wasl.accounts.selectors import token_list
from wasl.accounts.services import token_create, token_revoke
from wasl.core.errors import Invalid
from wasl.core.management.support import command_error


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens. Only a hash of each token is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="print a new token for user NAME (shown once, on the last line)"
        )
        create.add_argument("username", metavar="NAME")
        create.add_argument("--name", default="cli", dest="token_name", help="label the token")
        listing = actions.add_parser("list", help="list the tokens of user NAME")
        listing.add_argument("username", metavar="NAME")
        revoke = actions.add_parser(
            "revoke", help="revoke the token starting with PREFIX (as `list` shows it)"
        )
        revoke.add_argument("prefix", metavar="PREFIX")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_create(self, *, username: str, token_name: str, **options: Any) -> None:
        user = user_named(username)
        if not user.is_active:
            raise CommandError(_("User %(name)r is not active.") % {"name": user.username})
        try:
            token, plaintext = token_create(actor=None, user=user, name=token_name)
        except Invalid as error:
            raise command_error(error) from None
        # The note goes to stderr so `TOKEN=$(wasl token create NAME)` captures the token alone.
        note = f"API token {token.name!r} for {user.username} (shown once; only its hash is kept):"
        self.stderr.write(note, style_func=lambda text: text)
        self.stdout.write(plaintext)

    def handle_list(self, *, username: str, **options: Any) -> None:
        user = user_named(username)
        tokens = list(token_list(actor=None, user=user))
        if not tokens:
            self.stdout.write(f"{user.username} has no API tokens.")
            return
        for token in tokens:
            used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "-"
            state = (
                f"revoked {token.revoked_at.isoformat(timespec='minutes')}"
                if token.revoked_at
                else "active"
            )
            created = token.created_at.isoformat(timespec="minutes")
            self.stdout.write(
                f"{token.prefix}…  {token.name}  created {created}  last used {used}  {state}"
            )

    def handle_revoke(self, *, prefix: str, **options: Any) -> None:
        given = prefix.strip().rstrip("…")
        # A whole token is accepted too: it is matched by its hash, like at sign-in.
        matches = list(token_list(actor=None, prefix=given, active=True))
        if not matches:
            raise CommandError(_("No active token starts with %(prefix)r.") % {"prefix": prefix})
        if len(matches) > 1:
            raise CommandError(
                ngettext(
                    "%(count)d active token starts with %(prefix)r; give a longer prefix.",
                    "%(count)d active tokens start with %(prefix)r; give a longer prefix.",
                    len(matches),
                )
                % {"count": len(matches), "prefix": prefix}
            )
        token = matches[0]
        token_revoke(actor=None, token=token)
        self.stdout.write(f"Revoked {token.prefix}… ({token.name}) of {token.user.username}.")
