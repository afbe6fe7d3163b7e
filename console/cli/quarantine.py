"""wk quarantine list: the input rows that were refused, with their reasons."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, table
from console.cli.parser import Commands, choices, model_name
from store.vocabulary import Source


def register(nouns: Commands) -> None:
    qv = nouns.noun("quarantine", help="rejected input rows with their reasons")
    p = qv.command("list", f"{__name__}:cmd_list", "rejected rows, newest first",
                   tables=True)
    model_name(p.add_argument("--model"))
    p.add_argument("--run", dest="run_id", help="rows of one batch run")
    p.add_argument("--source", choices=choices(Source))
    p.add_argument("--since", help="ISO time or a span back from now")
    p.add_argument("--limit", type=int, default=50)


def cmd_list(args: argparse.Namespace) -> int:
    from serving.log import reading as predictions

    rows = predictions.list_quarantine(store_from(args), model=args.model, run_id=args.run_id,
                                       source=args.source, since=parse_time(args.since, "--since"),
                                       limit=args.limit)
    if args.json:
        emit_json(rows)
        return 0
    table([col.fixed("id", drop=3), col.time("at", drop=1), col.name("model"), col.fixed("version"),
           col.fixed("source", drop=4), col.name("run", 10), col.fixed("row", drop=2), col.text("reason", 30)],
          [[r["id"], r["at"], r["model"], f"v{r['version']}" if r["version"] else None, r["source"],
            r["batch_run_id"], r["row_index"], r["reason"]] for r in rows],
          empty="nothing is quarantined")
    return 0
