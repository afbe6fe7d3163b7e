"""The `wk` command line: the parser assembled from the noun modules, and `main`.

Each noun module registers its own commands (`register(nouns)`) and imports nothing
heavy at module level; a command's handler ("module:function") does its heavy imports
only when that command runs, so `wk --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from console.cli import (
    alerts,
    audit,
    batch,
    checks,
    data,
    demo,
    deploy,
    explain,
    feedback,
    jobs,
    label,
    models,
    monitor,
    predict,
    predictions,
    quarantine,
    reproduce,
    scheduler_cmd,
    score,
    serve,
    store_cmds,
    store_upkeep,
    timeline,
    tokens,
    train,
    ui,
    users,
)
from console.cli.errors import ExitCode
from console.cli.parser import Commands, Version, common_options
from console.cli.width import use_full_width

PROG = "wk"
DESCRIPTION = (
    "Watchkeeper: a self-hosted MLOps console. Registry and lineage, training with "
    "evaluation gates, aliases with rollback, serving with a prediction log, batch scoring, "
    "and an audit trail, in one SQLite store."
)


#: The noun modules, in the order `wk --help` lists their commands. Each has
#: `register(nouns: Commands)`, which adds its commands and their arguments.
NOUN_MODULES = (store_cmds, ui, demo, models, data, train, reproduce, serve, deploy, predict, feedback,
                label, predictions, explain, quarantine, score, batch, checks, audit, timeline,
                monitor, alerts, jobs, scheduler_cmd, store_upkeep, users, tokens)


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, parents=[common])
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--version", action=Version, help="print the version of Watchkeeper and exit")
    nouns = Commands(parser.add_subparsers(dest="command", metavar="COMMAND"), common)
    for module in NOUN_MODULES:
        module.register(nouns)
    return parser


def _setup_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="wk: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (Tab): answer and exit
        from console.cli.completion import autocomplete

        autocomplete(parser)
    args = parser.parse_args(argv)
    args.store = getattr(args, "store", None)
    args.json = getattr(args, "json", False)
    use_full_width(getattr(args, "wide", False))
    _setup_logging(args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None and args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
        handler = "console.cli.ui:cmd_ui"  # bare `wk` on a terminal opens the console
        args.read_only, args.refresh, args.view = False, 2.0, "overview"
    if handler is None:
        parser.print_help()
        return int(ExitCode.OK if args.command is None else ExitCode.USAGE)
    module_name, func_name = handler.split(":")
    from console.cli import errors
    from console.cli.output import error
    from store.errors import WatchkeeperError

    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(args) or ExitCode.OK)
    except WatchkeeperError as exc:
        error(errors.text(exc))
        return int(errors.exit_code(exc))
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: say so plainly, with the trace on request
        if os.environ.get("WK_DEBUG"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set WK_DEBUG=1 for the traceback)")
        return int(ExitCode.FAILED)
