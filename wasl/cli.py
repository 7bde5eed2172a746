"""The `wasl` command: Django's management commands under the product's name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wasl.settings")
    from django.core.management import execute_from_command_line

    arguments = list(sys.argv if argv is None else ["wasl", *argv])
    arguments[0] = "wasl"
    execute_from_command_line(arguments)


if __name__ == "__main__":
    main()
