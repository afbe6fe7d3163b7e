"""wk models canary: the canary watches of promotion policy auto (a retrained version on
a share of traffic for a set period; production by itself unless an alert fired on it)."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, table
from console.cli.parser import Commands, model_name


def register_canary(mv: Commands) -> None:
    """Add `canary` to the `models` noun."""
    p = mv.command("canary", f"{__name__}:cmd_canary",
                   "canary watches of promotion policy auto, with their outcomes", tables=True)
    model_name(p.add_argument("name"))


def cmd_canary(args: argparse.Namespace) -> int:
    from scheduler.canary import list_watches

    rows = list_watches(store_from(args), args.name)
    if args.json:
        emit_json(rows)
        return 0
    table([col.fixed("watch"), col.fixed("version"), col.fixed("share"), col.fixed("status"),
           col.time("started", drop=2), col.time("ends/decided", drop=1),
           col.text("note / ends in", 24)],
          [[r["id"], f"v{r['version']}", f"{r['share']:.0%}", r["status"], r["started_at"],
            r["decided_at"] or r["ends_at"],
            f"ends in {r['ends_in_s']} s" if r["ends_in_s"] is not None else r["note"]]
           for r in rows],
          empty=f"{args.name} has had no canary (wk models set {args.name} --policy auto)")
    return 0
