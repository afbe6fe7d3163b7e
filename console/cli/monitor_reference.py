"""wk monitor reference MODEL VERSION (--data FILE | --from --to): fit and store a version's
reference profile (its options and handler live with the checks, console/cli/checks.py)."""

from __future__ import annotations

from console.cli.checks import reference_options
from console.cli.parser import Commands


def register(verbs: Commands) -> None:
    p = verbs.command("reference", "console.cli.checks:cmd_reference",
                      "fit a version's reference profile: its training data, a file, or a pinned window")
    reference_options(p)
