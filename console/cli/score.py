"""wk score MODEL --source --sink."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.common import store_from
from console.cli.output import emit_json, fields
from console.cli.parser import Commands, model_name
from console.cli.progress import progress_line
from store.artifacts import load_safe_format


def register(nouns: Commands) -> None:
    p = nouns.command("score", f"{__name__}:cmd_score", "batch scoring: a file or query in, a file or table out",
                      tables=True)
    model_name(p.add_argument("model"))
    p.add_argument("--source", required=True, metavar="SRC",
                   help="a CSV or Parquet file, or a SQLAlchemy URL (with --query)")
    p.add_argument("--query", help="the SQL query for a database source")
    p.add_argument("--sink", required=True, metavar="DEST",
                   help="a .csv or .parquet file, or a SQLAlchemy URL (with --table)")
    p.add_argument("--table", help="the table for a database sink (created if missing)")
    p.add_argument("--run-id", help="name the run; re-running the same id replaces its rows")
    p.add_argument("--version", help="a version or alias (default: production)")
    p.add_argument("--chunk-size", type=int, default=10_000, help="rows per chunk and transaction")
    p.add_argument("--keep", metavar="COLS", help="input columns copied to the sink, comma separated "
                                                   "(default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress line on a terminal")


def cmd_score(args: argparse.Namespace) -> int:
    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from serving.batch.io import parse_sink, parse_source
    from serving.batch.run import score_batch

    source = parse_source(args.source, args.query)
    sink = parse_sink(args.sink, args.table)
    keep = [c.strip() for c in args.keep.split(",") if c.strip()] if args.keep is not None else None
    store = store_from(args)
    with progress_line(args, f"scoring {args.model}", "rows") as progress:
        result = score_batch(store, args.model, source, sink, run_id=args.run_id, version=args.version,
                             chunk_size=args.chunk_size, keep=keep, progress=progress)
    if args.json:
        emit_json(result)
    else:
        _print(result)
    return 0


def _print(r: dict[str, Any]) -> None:
    fields([("run", r["run_id"]), ("model", f"{r['model']} v{r['version']}"), ("status", r["status"]),
            ("rows read", r["rows_read"]), ("scored", r["rows_scored"]),
            ("quarantined", r["rows_quarantined"]), ("seconds", r["seconds"]),
            ("rows/s", r["rows_per_second"]), ("source", r["source"]), ("sink", r["sink"])])
    if r["rows_quarantined"]:
        sys.stderr.write(f"wk: {r['rows_quarantined']} row(s) quarantined: "
                         f"wk quarantine list --run {r['run_id']}\n")
