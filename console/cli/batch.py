"""wk batch list|show: the batch scoring runs `wk score` started."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, table
from console.cli.parser import Commands, model_name


def register(nouns: Commands) -> None:
    bv = nouns.noun("batch", help="batch scoring runs")
    p = bv.command("list", f"{__name__}:cmd_list", "batch scoring runs, newest first", tables=True)
    model_name(p.add_argument("--model"))
    p.add_argument("--limit", type=int, default=50)
    p = bv.command("show", f"{__name__}:cmd_show", "one batch run with its counts", tables=True)
    p.add_argument("run_id")


def cmd_list(args: argparse.Namespace) -> int:
    from serving.log.reading import list_batch_runs

    rows = list_batch_runs(store_from(args), args.model, args.limit)
    if args.json:
        emit_json(rows)
        return 0
    table([col.name("run", 10), col.name("model"), col.fixed("version"), col.fixed("status"), col.fixed("read"),
           col.fixed("scored"), col.fixed("quarantined"), col.time("started", drop=1), col.fixed("rows/s", drop=2)],
          [[r["run_id"], r["model"], f"v{r['version']}", r["status"], r["rows_read"], r["rows_scored"],
            r["rows_quarantined"], r["started_at"], r["rows_per_second"]] for r in rows],
          empty="no batch runs yet; score with 'wk score MODEL --source FILE --sink FILE'")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from serving.log.reading import show_batch_run

    r = show_batch_run(store_from(args), args.run_id)
    if args.json:
        emit_json(r)
        return 0
    fields(list(r.items()))
    return 0
