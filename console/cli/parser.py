"""The pieces each CLI noun module registers its commands with.

A noun module defines `register(nouns: Commands) -> None` and adds its commands there,
naming each handler as a "module:function" string that `main` imports only when that
command runs. This module imports nothing but argparse, so building the parser (and
`wk --help`) stays fast.
"""

from __future__ import annotations

import argparse
from enum import StrEnum
from typing import TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def common_options() -> argparse.ArgumentParser:
    """--store and --json, accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS,
                        help="store folder (default: $WK_STORE, else the user data directory)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document instead of a table")
    return common


class Commands:
    """One level of the command tree: the nouns under `wk`, or the verbs under a noun."""

    def __init__(self, sub: Subparsers, common: argparse.ArgumentParser) -> None:
        self.sub = sub
        self.common = common

    def command(self, name: str, handler: str, help: str,
                description: str | None = None, *, tables: bool = False) -> argparse.ArgumentParser:
        """A command that runs `handler` ("module:function"); add its arguments to the
        parser it returns. `tables`: it prints tables or fields, so it takes --wide."""
        parser = self.sub.add_parser(name, help=help, description=description or help,
                                     parents=[self.common])
        parser.set_defaults(handler=handler)
        if tables:
            parser.add_argument("--wide", action="store_true",
                                help="every value in full (on a terminal, or with COLUMNS "
                                     "set, tables are cut to its width)")
        return parser

    def noun(self, name: str, help: str) -> Commands:
        """A noun with verbs (`wk models list`): add its verbs with `command`."""
        parser = self.sub.add_parser(name, help=help)
        return Commands(parser.add_subparsers(dest="verb", metavar="VERB", required=True), self.common)


class Version(argparse.Action):
    """`wk --version`: the installed package's version, looked up only when asked (so
    building the parser reads no package metadata)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        import sys

        sys.stdout.write(f"{parser.prog} {package_version()}\n")
        parser.exit()


def package_version(distribution: str = "watchkeeper") -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(not installed: run 'make install')"


def choices(words: type[StrEnum]) -> tuple[str, ...]:
    """An option's choices from a vocabulary (plain strings, so argparse's "invalid
    choice" message quotes the words, not the enum members)."""
    return tuple(word.value for word in words)


def model_name(action: argparse.Action) -> argparse.Action:
    """Mark an argument as a model name, so shell completion offers the store's models."""
    action.completer = _complete_model_names  # type: ignore[attr-defined]
    return action


def _complete_model_names(prefix: str, **kwargs: object) -> list[str]:
    from console.cli.completion import complete_model_names

    return complete_model_names(prefix, **kwargs)  # type: ignore[arg-type]
