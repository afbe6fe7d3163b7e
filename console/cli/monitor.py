"""wk monitor: the monitoring commands that are not a check of their own. The group is
set up here; each verb lives in its own module, listed in VERB_MODULES, with
`register(verbs: Commands)` like a noun module's."""

from __future__ import annotations

from console.cli import monitor_reference, monitor_reports
from console.cli.parser import Commands

#: The verbs under `wk monitor`, in the order `wk monitor --help` lists them.
VERB_MODULES = (
    monitor_reports,
    monitor_reference,
)


def register(nouns: Commands) -> None:
    verbs = nouns.noun("monitor", help="stored monitoring reports and reference profiles")
    for module in VERB_MODULES:
        module.register(verbs)
