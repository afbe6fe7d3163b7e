"""wk predictions list|show|export."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, fields, fmt, table
from console.cli.parser import Commands, choices, model_name
from store.vocabulary import Route, Source


def register(nouns: Commands) -> None:
    pv = nouns.noun("predictions", help="the prediction log")
    p = pv.command("list", f"{__name__}:cmd_list", "predictions, newest first", tables=True)
    model_name(p.add_argument("--model"))
    p.add_argument("--version", help="needs --model")
    p.add_argument("--route", choices=choices(Route))
    p.add_argument("--source", choices=choices(Source))
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d")
    p.add_argument("--until", help="ISO time or a span back from now")
    p.add_argument("--id", dest="id_prefix", metavar="PREFIX", help="prediction ids starting with this")
    p.add_argument("--request-id")
    p.add_argument("--before", metavar="ID", help="page back: rows older than this prediction id")
    p.add_argument("--limit", type=int, default=50)
    p = pv.command("show", f"{__name__}:cmd_show", "one prediction: inputs, outputs, label, latency",
                   tables=True)
    p.add_argument("prediction_id", help="the id, or a unique prefix of it")
    p = pv.command("export", f"{__name__}:cmd_export",
                   "a window of the log to Parquet, CSV or JSON lines, for pandas")
    model_name(p.add_argument("model"))
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d (default: the start)")
    p.add_argument("--until", help="ISO time or a span back from now (default: now)")
    p.add_argument("--version", help="one version's rows (number or alias)")
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"),
                   help="default: from the --output extension, else parquet (jsonl for -)")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="the file to write, or - for stdout (csv, jsonl); default MODEL-predictions.FORMAT")


def cmd_list(args: argparse.Namespace) -> int:
    from serving.log import reading as predictions

    rows = predictions.list_predictions(
        store_from(args), model=args.model, version=args.version, route=args.route, source=args.source,
        since=parse_time(args.since, "--since"), until=parse_time(args.until, "--until"),
        id_prefix=args.id_prefix, request_id=args.request_id, before_id=args.before, limit=args.limit)
    if args.json:
        emit_json(rows)
        return 0
    table([col.prediction_id(), col.time("at"), col.name("model"), col.fixed("version"), col.fixed("route"),
           col.fixed("source", drop=2), col.fixed("ms"), col.name("label", 8, drop=1)],
          [[r["prediction_id"], r["at"], r["model"], f"v{r['version']}", r["route"], r["source"],
            f"{r['latency_ms']:.2f}", r["label"]] for r in rows],
          empty="no predictions match")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from serving.log import reading as predictions

    p = predictions.show_prediction(store_from(args), args.prediction_id)
    if args.json:
        emit_json(p)
        return 0
    fields([("prediction id", p["prediction_id"]), ("at", p["at"]), ("model", p["model"]),
            ("version", p["version"]), ("route", p["route"]), ("source", p["source"]),
            ("request id", p["request_id"]), ("row", p["row_index"]), ("batch run", p["batch_run_id"]),
            ("latency ms", f"{p['latency_ms']:.3f}"),
            ("inputs", p["inputs"] if p["inputs"] is not None else "(not kept)"),
            ("outputs", p["outputs"] if p["outputs"] is not None else "(not kept)"),
            ("label", fmt(p["label"]) + (f" (at {p['label_at']})" if p["label_at"] else ""))])
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import sys

    from console.cli.output import info
    from serving.log import export

    fmt = export.format_of(args.output, args.format)
    output = args.output or f"{args.model}-predictions.{fmt}"
    if output == "-" and args.json:
        from store.errors import UsageError

        raise UsageError("--json prints a summary on stdout, where - would write the rows; "
                         "give a file name", field="output", example=f"log.{fmt}")
    result = export.export_log(
        store_from(args), args.model, since=parse_time(args.since, "--since"),
        until=parse_time(args.until, "--until"), version=args.version, fmt=fmt,
        output=sys.stdout.buffer if output == "-" else output)
    if args.json:
        emit_json(result.view())
    else:
        info(f"{result.rows} prediction(s) of {result.model} written to {result.file} ({result.format}, "
             f"{len(result.columns)} columns) in {result.seconds:.2f} s")
    return 0
