"""wk predictions list|show; wk quarantine list."""

from __future__ import annotations

import argparse

from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, fields, fmt, table


def cmd_list(args: argparse.Namespace) -> int:
    from serving.log import reading as predictions

    rows = predictions.list_predictions(
        store_from(args), model=args.model, version=args.version, route=args.route, source=args.source,
        since=parse_time(args.since, "--since"), until=parse_time(args.until, "--until"),
        id_prefix=args.id_prefix, request_id=args.request_id, before_id=args.before, limit=args.limit)
    if args.json:
        emit_json(rows)
        return 0
    table(["prediction id", "at", "model", "version", "route", "source", "ms", "label"],
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


def cmd_quarantine(args: argparse.Namespace) -> int:
    from serving.log import reading as predictions

    rows = predictions.list_quarantine(store_from(args), model=args.model, run_id=args.run_id,
                                       source=args.source, since=parse_time(args.since, "--since"),
                                       limit=args.limit)
    if args.json:
        emit_json(rows)
        return 0
    table(["id", "at", "model", "version", "source", "run", "row", "reason"],
          [[r["id"], r["at"], r["model"], f"v{r['version']}" if r["version"] else None, r["source"],
            r["batch_run_id"], r["row_index"], r["reason"][:120]] for r in rows],
          empty="nothing is quarantined")
    return 0
