#!/usr/bin/env python
"""Developer shortcut; the installed `wasl` command does the same."""

from wasl.cli import main

if __name__ == "__main__":
    main()
