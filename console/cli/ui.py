"""wk ui: the console on the store."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from console.cli.parser import Commands
from store.errors import UsageError

if TYPE_CHECKING:
    from store.handle import Store


def register(nouns: Commands) -> None:
    ui = nouns.command("ui", f"{__name__}:cmd_ui", "open the console (Textual) on the store")
    ui.add_argument("--read-only", action="store_true", help="hide every action (for viewers)")
    ui.add_argument("--refresh", type=float, default=2.0, metavar="SECONDS",
                    help="how often screens re-read the store (default 2)")
    ui.add_argument("--view", default="overview", help="the first view, e.g. models or 'versions NAME'")


def open_console(store: Store | str | Path | None, *, read_only: bool, refresh: float, view: str) -> int:
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the console needs a terminal (stdin and stdout are not one); "
                         "use the wk subcommands with --json in scripts")
    if refresh < 0.2:
        raise UsageError(f"--refresh {refresh} is too fast; use 0.2 seconds or more")
    from console.app import make_app

    make_app(store, read_only=read_only, refresh_interval=refresh, start=view).run()
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from console.cli.common import store_from

    return open_console(store_from(args), read_only=args.read_only, refresh=args.refresh,
                        view=args.view)
