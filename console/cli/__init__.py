"""The `wk` command line. Building the parser imports nothing heavy; each command's
handler module is imported only when that command runs, so `wk --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from console.cli.errors import ExitCode

PROG = "wk"
DESCRIPTION = (
    "Watchkeeper: a self-hosted MLOps console. Registry and lineage, training with "
    "evaluation gates, aliases with rollback, serving with a prediction log, batch scoring, "
    "and an audit trail, in one SQLite store."
)


def _common() -> argparse.ArgumentParser:
    """--store and --json, accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS,
                        help="store folder (default: $WK_STORE, else the user data directory)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document instead of a table")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, parents=[common])
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    nouns = parser.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(sub: argparse._SubParsersAction, name: str, handler: str, help: str,  # type: ignore[type-arg]
            description: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description or help, parents=[common])
        p.set_defaults(handler=handler)
        return p

    cmd(nouns, "init", "console.cli.store_cmds:cmd_init", "create a store (or upgrade an existing one)")
    ui = cmd(nouns, "ui", "console.cli.ui:cmd_ui", "open the console (Textual) on the store")
    ui.add_argument("--read-only", action="store_true", help="hide every action (for viewers)")
    ui.add_argument("--refresh", type=float, default=2.0, metavar="SECONDS",
                    help="how often screens re-read the store (default 2)")
    ui.add_argument("--view", default="overview", help="the first view, e.g. models or 'versions NAME'")
    demo = cmd(nouns, "demo", "console.cli.demo:cmd_demo",
               "build a demo store from sample_models/ and summarise it")
    demo.add_argument("--no-ui", action="store_true", help="only build and summarise (for scripts)")
    demo.add_argument("--read-only", action="store_true", help="open the console read-only")

    models = nouns.add_parser("models", help="registered models, versions and aliases")
    mv = models.add_subparsers(dest="verb", metavar="VERB", required=True)
    cmd(mv, "list", "console.cli.models:cmd_list", "list models with their aliases and last run")
    p = cmd(mv, "show", "console.cli.models:cmd_show", "a model with its versions, aliases and runs")
    p.add_argument("name")
    p.add_argument("version", nargs="?", help="show one version in full (number or alias)")
    p = cmd(mv, "versions", "console.cli.models:cmd_versions", "the versions of a model")
    p.add_argument("name")
    p = cmd(mv, "runs", "console.cli.models:cmd_runs", "the training runs of a model, with gate results")
    p.add_argument("name")
    p.add_argument("--limit", type=int, default=50)
    p = cmd(mv, "run", "console.cli.models:cmd_run", "one training run with its log")
    p.add_argument("run_id", type=int)
    p = cmd(mv, "register", "console.cli.models:cmd_register",
            "register a model file (skops; pickle/joblib only with --trust)")
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--trust", action="store_true",
                   help="allow a pickle/joblib file: it runs code when loaded (recorded in the audit log)")
    p.add_argument("--data", metavar="FILE", help="training data (CSV/Parquet) to infer the signature from")
    p.add_argument("--target", help="the label column in --data, left out of the signature")
    p.add_argument("--owner", default="")
    p.add_argument("--description", default="")
    p.add_argument("--tag", action="append", default=[], dest="tags")
    p.add_argument("--reason", default="")
    p = cmd(mv, "promote", "console.cli.models:cmd_promote", "point an alias at a version")
    p.add_argument("name")
    p.add_argument("version", help="version number (or an alias holding it)")
    p.add_argument("alias", help="alias to move, e.g. production or staging")
    p.add_argument("--reason", default="", help="why (required for production)")
    p = cmd(mv, "rollback", "console.cli.models:cmd_rollback", "return an alias to its previous version")
    p.add_argument("name")
    p.add_argument("alias")
    p.add_argument("--reason", default="", help="why (required for production)")
    p = cmd(mv, "archive", "console.cli.models:cmd_archive", "archive a version (not held by an alias)")
    p.add_argument("name")
    p.add_argument("version")
    p.add_argument("--reason", default="")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = cmd(mv, "compare", "console.cli.models:cmd_compare", "compare two versions")
    p.add_argument("name")
    p.add_argument("a")
    p.add_argument("b")
    p = cmd(mv, "lineage", "console.cli.models:cmd_lineage", "dataset -> run -> version -> aliases")
    p.add_argument("name")
    p.add_argument("version")

    data = nouns.add_parser("data", help="datasets and what was trained on them")
    dv = data.add_subparsers(dest="verb", metavar="VERB", required=True)
    cmd(dv, "list", "console.cli.data:cmd_list", "datasets with their fingerprints")
    p = cmd(dv, "show", "console.cli.data:cmd_show", "a dataset and the versions trained on it")
    p.add_argument("dataset", help="name, fingerprint prefix or id")

    p = cmd(nouns, "train", "console.cli.train:cmd_train", "run a training spec (TOML)")
    p.add_argument("spec")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a [train.params] value (repeatable)")
    p = cmd(nouns, "reproduce", "console.cli.train:cmd_reproduce",
            "retrain a version from its lineage and compare")
    p.add_argument("model")
    p.add_argument("version")

    _serving_commands(nouns, cmd)

    p = cmd(nouns, "audit", "console.cli.audit:cmd_audit", "the audit log, newest first")
    p.add_argument("--actor")
    p.add_argument("--action", help="action or prefix, e.g. alias.promote or alias.")
    p.add_argument("--model")
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d")
    p.add_argument("--until", help="ISO time or a span back from now")
    p.add_argument("--limit", type=int, default=100)
    return parser


def _serving_commands(nouns: argparse._SubParsersAction, cmd: Any) -> None:  # type: ignore[type-arg]
    """serve, deploy, predict, feedback, predictions, quarantine, score."""
    p = cmd(nouns, "serve", "console.cli.serve:cmd_serve", "answer predictions over HTTP (FastAPI on uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--model", action="append", default=[], dest="models", metavar="NAME",
                   help="serve only this model (repeatable; default: every model with a production version)")
    p.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES",
                   help="largest request body; bigger ones get 413 (default 1 MiB)")
    p.add_argument("--max-rows", type=int, default=10_000, help="most rows in one request (default 10000)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="per request: scoring plus logging (default 10); past it: 504/503")
    p.add_argument("--poll", type=float, default=0.5, metavar="SECONDS",
                   help="how often deployment changes are read (default 0.5)")
    p.add_argument("--access-log", action="store_true", help="log every request (JSON lines)")

    deploy = nouns.add_parser("deploy", help="how models are served: champion, challenger, traffic, logging")
    dv = deploy.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = cmd(dv, "show", "console.cli.deploy:cmd_show", "a deployment (or all) with recent traffic")
    p.add_argument("name", nargs="?")
    p.add_argument("--minutes", type=int, default=5, help="traffic window (default 5)")
    p = cmd(dv, "set", "console.cli.deploy:cmd_set", "change mode, challenger, share or logging")
    p.add_argument("name")
    p.add_argument("--mode", choices=("single", "shadow", "canary", "ab"))
    p.add_argument("--challenger", metavar="VERSION", help="version number or alias")
    p.add_argument("--no-challenger", action="store_true", help="take the challenger out (mode single)")
    p.add_argument("--share", metavar="FRACTION", help="challenger share for canary/ab: 0.1 or 10%%")
    p.add_argument("--log", dest="log_mode", choices=("full", "metadata"),
                   help="keep inputs and outputs (full) or neither (metadata, for sensitive data)")
    p.add_argument("--sample-rate", metavar="FRACTION", help="share of rows whose inputs are kept (full mode)")
    p.add_argument("--reason", default="")
    p = cmd(dv, "promote", "console.cli.deploy:cmd_promote", "the challenger becomes production, all traffic")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (required)")
    p = cmd(dv, "rollback", "console.cli.deploy:cmd_rollback",
            "all traffic back: challenger out, or production to its previous version")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (required)")

    p = cmd(nouns, "predict", "console.cli.predict:cmd_predict", "score rows in this process (logged, source cli)")
    p.add_argument("model")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--row", metavar="JSON", help="one row as a JSON object (or a body {\"row\"|\"rows\": ...})")
    src.add_argument("--file", metavar="PATH", help="rows: a JSON file (object, list or body), JSON lines, or - for stdin")
    src.add_argument("--example", action="store_true", help="print the version's input example as a request body")
    p.add_argument("--version", help="a version or alias (default: production)")
    p.add_argument("--request-id", help="your id for the request, to send labels by later")

    p = cmd(nouns, "feedback", "console.cli.predict:cmd_feedback", "labels for earlier predictions")
    p.add_argument("--file", metavar="PATH",
                   help="CSV or JSON lines with prediction_id or request_id, and label (and model, row)")
    p.add_argument("--prediction-id")
    p.add_argument("--label")
    p.add_argument("--model", help="for request ids: the model they belong to")

    predictions = nouns.add_parser("predictions", help="the prediction log")
    pv = predictions.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = cmd(pv, "list", "console.cli.predictions:cmd_list", "predictions, newest first")
    p.add_argument("--model")
    p.add_argument("--version", help="needs --model")
    p.add_argument("--route", choices=("champion", "challenger", "shadow"))
    p.add_argument("--source", choices=("api", "cli", "batch"))
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d")
    p.add_argument("--until", help="ISO time or a span back from now")
    p.add_argument("--id", dest="id_prefix", metavar="PREFIX", help="prediction ids starting with this")
    p.add_argument("--request-id")
    p.add_argument("--before", metavar="ID", help="page back: rows older than this prediction id")
    p.add_argument("--limit", type=int, default=50)
    p = cmd(pv, "show", "console.cli.predictions:cmd_show", "one prediction: inputs, outputs, label, latency")
    p.add_argument("prediction_id", help="the id, or a unique prefix of it")

    quarantine = nouns.add_parser("quarantine", help="rejected input rows with their reasons")
    qv = quarantine.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = cmd(qv, "list", "console.cli.predictions:cmd_quarantine", "rejected rows, newest first")
    p.add_argument("--model")
    p.add_argument("--run", dest="run_id", help="rows of one batch run")
    p.add_argument("--source", choices=("api", "cli", "batch"))
    p.add_argument("--since", help="ISO time or a span back from now")
    p.add_argument("--limit", type=int, default=50)

    p = cmd(nouns, "score", "console.cli.score:cmd_score", "batch scoring: a file or query in, a file or table out")
    p.add_argument("model")
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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch = nouns.add_parser("batch", help="batch scoring runs")
    bv = batch.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = cmd(bv, "list", "console.cli.score:cmd_runs", "batch scoring runs, newest first")
    p.add_argument("--model")
    p.add_argument("--limit", type=int, default=50)
    p = cmd(bv, "show", "console.cli.score:cmd_run", "one batch run with its counts")
    p.add_argument("run_id")


def _setup_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="wk: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.store = getattr(args, "store", None)
    args.json = getattr(args, "json", False)
    _setup_logging(args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None and args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
        handler = "console.cli.ui:cmd_ui"  # bare `wk` on a terminal opens the console
        args.read_only, args.refresh, args.view = False, 2.0, "overview"
    if handler is None:
        parser.print_help()
        return int(ExitCode.OK if args.command is None else ExitCode.USAGE)
    module_name, func_name = handler.split(":")
    from console.cli import errors
    from console.cli.output import error
    from store.errors import WatchkeeperError

    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(args) or ExitCode.OK)
    except WatchkeeperError as exc:
        error(errors.text(exc))
        return int(errors.exit_code(exc))
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: say so plainly, with the trace on request
        if os.environ.get("WK_DEBUG"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set WK_DEBUG=1 for the traceback)")
        return int(ExitCode.FAILED)
