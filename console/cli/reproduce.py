"""wk reproduce: retrain a version from its recorded lineage and compare."""

from __future__ import annotations

import argparse

from console.cli.common import store_from
from console.cli.errors import ExitCode
from console.cli.output import emit_json, error, fields, info
from console.cli.parser import Commands, model_name
from console.cli.progress import progress_line, wanted
from store.artifacts import load_safe_format


def register(nouns: Commands) -> None:
    p = nouns.command("reproduce", f"{__name__}:cmd_reproduce",
                      "retrain a version from its lineage and compare", tables=True)
    model_name(p.add_argument("model"))
    p.add_argument("version")
    p.add_argument("--no-progress", action="store_true", help="no progress line on a terminal")


def cmd_reproduce(args: argparse.Namespace) -> int:
    import sys

    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from registry.reproduce import reproduce
    from registry.runs import last_duration

    store = store_from(args)
    if not wanted(args, sys.stderr):
        info(f"retraining {args.model} v{args.version} from its recorded lineage ...")
    # a retrain takes about as long as the model's last training run
    expected = last_duration(store, args.model) if wanted(args, sys.stderr) else None
    with progress_line(args, f"reproducing {args.model} v{args.version}", "steps",
                       expected=expected) as progress:
        result = reproduce(store, args.model, args.version, progress=progress)
    if args.json:
        emit_json(result)
    else:
        fields([("model", result["model"]), ("version", result["version"]),
                ("metrics match", result["metrics_match"]),
                ("predictions match", result["predictions_match"]),
                ("max abs diff", result["max_abs_prediction_diff"]),
                ("artifact identical", result["artifact_identical"]),
                ("recorded", result["recorded_metrics"]), ("reproduced", result["reproduced_metrics"])])
    if not result["matched"]:
        error(f"{args.model} v{result['version']} did not reproduce: {result['reason']}")
        return int(ExitCode.FAILED)
    return 0
