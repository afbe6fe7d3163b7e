"""wk demo: build the demo store from sample_models/ and summarise it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from console.cli.output import emit_json, info, table
from console.cli.parser import Commands
from console.cli.progress import progress_line
from store.artifacts import load_safe_format


def register(nouns: Commands) -> None:
    demo = nouns.command("demo", f"{__name__}:cmd_demo",
                         "build a demo store from sample_models/ and summarise it", tables=True)
    demo.add_argument("--no-ui", action="store_true", help="only build and summarise (for scripts)")
    demo.add_argument("--no-progress", action="store_true", help="no progress line on a terminal")
    demo.add_argument("--read-only", action="store_true", help="open the console read-only")


def cmd_demo(args: argparse.Namespace) -> int:
    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from sample_models.demo import build_demo, default_demo_root

    root = Path(args.store or os.environ.get("WK_STORE") or default_demo_root()).expanduser().absolute()
    info(f"building the demo store at {root} (trains the sample models, then an hour of traffic) ...")
    with progress_line(args, "demo", "steps") as progress:
        summary = build_demo(root, progress=progress)
    if args.json:
        emit_json(summary)
        return 0
    if not args.no_ui and sys.stdin.isatty() and sys.stdout.isatty():
        from console.cli.ui import open_console
        from store.handle import open_store

        return open_console(open_store(root), read_only=args.read_only, refresh=2.0,
                            view="overview")
    table(["model", "versions", "aliases", "runs"],
          [[m["name"], m["versions"], ", ".join(f"{k}=v{v}" for k, v in m["aliases"].items()),
            m["runs"]] for m in summary["models"]])
    print()
    table(["dataset", "rows", "fingerprint"],
          [[d["name"], d["rows"], d["fingerprint"]] for d in summary["datasets"]])
    print()
    table(["deployment", "mode", "champion", "challenger"],
          [[d["model"], d["mode"], f"v{d['champion']}", f"v{d['challenger']}" if d["challenger"] else "-"]
           for d in summary["deployments"]])
    print(f"\n{summary['predictions']} logged predictions (an hour of simulated traffic), "
          f"{summary['audit_events']} audit events. Explore it with:")
    print(f"  export WK_STORE={root}")
    print("  wk models list; wk models show credit-default; wk models lineage credit-default 1")
    print("  wk data show credit-applications; wk audit; wk reproduce credit-default 1")
    print("  wk deploy show; wk predictions list --model credit-default; wk quarantine list")
    print("  wk serve   # then: wk predict credit-default --example --json | curl -d @- "
          "localhost:8765/v1/models/credit-default/predict")
    return 0
