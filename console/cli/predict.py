"""wk predict MODEL --row/--file/--example."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import read_input, store_from
from console.cli.output import emit_json, table
from console.cli.parser import Commands, model_name
from store.artifacts import load_safe_format
from store.errors import InvalidInput


def register(nouns: Commands) -> None:
    p = nouns.command("predict", f"{__name__}:cmd_predict", "score rows in this process (logged, source cli)",
                      tables=True)
    model_name(p.add_argument("model"))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--row", metavar="JSON", help="one row as a JSON object (or a body {\"row\"|\"rows\": ...})")
    src.add_argument("--file", metavar="PATH", help="rows: a JSON file (object, list or body), JSON lines, or - for stdin")
    src.add_argument("--example", action="store_true", help="print the version's input example as a request body")
    p.add_argument("--version", help="a version or alias (default: production)")
    p.add_argument("--request-id", help="your id for the request, to send labels by later")


def _rows_from_json(value: Any, where: str) -> tuple[list[Any], str | None]:
    """Rows from a row object, a list of rows, or a request body {"row"|"rows": ...}."""
    if isinstance(value, dict) and ("row" in value or "rows" in value):
        rows = [value["row"]] if "row" in value else value.get("rows")
        if not isinstance(rows, list):
            raise InvalidInput(f"{where}: rows must be a list of objects")
        return rows, value.get("request_id")
    if isinstance(value, dict):
        return [value], None
    if isinstance(value, list):
        return value, None
    raise InvalidInput(f"{where}: expected a JSON object (one row) or a list of rows")


def load_json(text: str, where: str) -> Any:
    import json

    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed in the input (not JSON, and no model can score it)")


def read_rows(row: str | None, file: str | None) -> tuple[list[Any], str | None]:
    if row is not None:
        return _rows_from_json(load_json(row, "--row"), "--row")
    assert file is not None
    text = read_input(file, "file")
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" in stripped:  # JSON lines
        rows = [load_json(line, f"{file} line {n}") for n, line in enumerate(stripped.splitlines(), 1)
                if line.strip()]
        return rows, None
    return _rows_from_json(load_json(text, file), file)


def cmd_predict(args: argparse.Namespace) -> int:
    if not args.example:
        load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from serving.scoring import local as scoring

    store = store_from(args)
    if args.example:
        emit_json(scoring.example_request(store, args.model, args.version))
        return 0
    rows, request_id = read_rows(args.row, args.file)
    result = scoring.predict_rows(store, args.model, rows, version=args.version,
                                  request_id=args.request_id or request_id)
    if args.json:
        emit_json(result)
        return 0
    table([col.prediction_id(), col.fixed("version"), col.fixed("route"), col.payload("output")],
          [[p["prediction_id"], f"v{p['version']}", p["route"],
            p.get("class", p.get("value")) if "probabilities" not in p else
            f"{p['class']}  " + "  ".join(f"{k}={v:.4f}" for k, v in p["probabilities"].items())]
           for p in result["predictions"]])
    return 0
