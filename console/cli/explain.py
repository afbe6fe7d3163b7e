"""wk explain PREDICTION_ID: replay a logged prediction through the exact version that
answered (its artifact's hash checked), confirm the same output, and show what each input
feature contributed."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, error, fields, fmt, info, table
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    p = nouns.command("explain", f"{__name__}:cmd_explain",
                      "replay a logged prediction (hash-checked) and show per-feature contributions",
                      tables=True)
    p.add_argument("prediction_id", help="the id, or a unique prefix of it")
    p.add_argument("--store-result", action="store_true",
                   help="keep the explanation with the prediction (audited; needs the check permission)")


def _number(value: Any) -> str:
    return f"{value:+.6f}" if isinstance(value, float) else fmt(value)


def cmd_explain(args: argparse.Namespace) -> int:
    from store.artifacts import load_safe_format

    load_safe_format()
    from serving.explain.replay import explain_prediction

    e = explain_prediction(store_from(args), args.prediction_id, store_result=args.store_result)
    if args.json:
        emit_json(e)
        return 0 if e["reproduced"] else 1
    fields([("prediction id", e["prediction_id"]), ("model", f"{e['model']} v{e['version']}"),
            ("artifact", f"sha256 {e['artifact_sha256']} (checked)"),
            ("replay", f"same {e['compared']} as logged (replayed {e['replayed_as']})" if e["reproduced"]
             else f"DIFFERENT {e['compared']}: logged {e['logged_output']}, replayed {e['replayed_output']}"),
            ("method", e["method"]), ("explains", e["space"]),
            ("output", f"{e['output']:.6f}"), ("probability", e["probability"]),
            ("baseline", f"{e['baseline']:.6f} (mean over {e['reference']['rows']} rows of "
                         f"{e['reference']['what']})"),
            ("sum", f"{e['sum']:.6f} = output - baseline (gap {e['gap']:.1e})")])
    table([col.name("feature", 16), col.text("input", 12), col.fixed("contribution")],
          [[c["feature"], fmt(c["input"]), _number(c["contribution"])] for c in e["contributions"]])
    if e["stored"]:
        info(f"explanation kept with prediction {e['prediction_id']}")
    elif e["not_stored"]:
        info(f"not kept: {e['not_stored']}")
    if not e["reproduced"]:
        error(f"the replay of {e['prediction_id']} did not give the logged output")
        return 1
    return 0
