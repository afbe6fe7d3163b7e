"""wk train, wk reproduce."""

from __future__ import annotations

import argparse

from console.cli.common import store_from
from console.cli.errors import ExitCode
from console.cli.output import emit_json, error, fields, info
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    """wk train and wk reproduce (which trains again from a version's lineage)."""
    p = nouns.command("train", f"{__name__}:cmd_train", "run a training spec (TOML)")
    p.add_argument("spec")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a [train.params] value (repeatable)")
    p = nouns.command("reproduce", f"{__name__}:cmd_reproduce",
                      "retrain a version from its lineage and compare")
    p.add_argument("model")
    p.add_argument("version")


def cmd_train(args: argparse.Namespace) -> int:
    from registry.spec import load_spec
    from registry.training import train

    load_spec(args.spec, args.param)  # a bad spec is reported before the store is opened
    store = store_from(args)
    info(f"training from {args.spec} ...")
    result = train(store, args.spec, args.param)
    run = result["run"]
    if args.json:
        emit_json(result)
    else:
        fields([("run", run["id"]), ("status", run["status"]), ("metrics", run["metrics"]),
                ("production", run["champion_metrics"]), ("gate", run["reason"])])
    if result["registered"]:
        if not args.json:
            info(f"registered {run['model']} v{result['version']['version']}")
        return 0
    error(f"run #{run['id']} of {run['model']} failed the gate and registered nothing: {run['reason']}; "
          f"see 'wk models runs {run['model']}'")
    return int(ExitCode.FAILED)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from registry.reproduce import reproduce

    store = store_from(args)
    info(f"retraining {args.model} v{args.version} from its recorded lineage ...")
    result = reproduce(store, args.model, args.version)
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
