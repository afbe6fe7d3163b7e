"""wk train: run a training spec, gate the result, register it."""

from __future__ import annotations

import argparse

from console.cli.common import store_from
from console.cli.errors import ExitCode
from console.cli.output import emit_json, error, fields, info
from console.cli.parser import Commands
from console.cli.progress import progress_line, wanted
from store.artifacts import load_safe_format


def register(nouns: Commands) -> None:
    p = nouns.command("train", f"{__name__}:cmd_train", "run a training spec (TOML)", tables=True)
    p.add_argument("spec")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a [train.params] value (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress line on a terminal")


def cmd_train(args: argparse.Namespace) -> int:
    import sys

    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from registry.runs import last_duration
    from registry.spec import load_spec
    from registry.training import train

    spec = load_spec(args.spec, args.param)  # a bad spec is reported before the store is opened
    store = store_from(args)
    # the time left is guessed from the model's previous run, when it has one
    expected = last_duration(store, spec.model_name) if wanted(args, sys.stderr) else None
    if not wanted(args, sys.stderr):
        info(f"training from {args.spec} ...")
    with progress_line(args, f"training {spec.model_name}", "steps", expected=expected) as progress:
        result = train(store, args.spec, args.param, progress=progress)
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
