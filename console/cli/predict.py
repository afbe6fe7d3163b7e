"""wk predict MODEL --row/--file/--example; wk feedback."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from console.cli.common import store_from
from console.cli.output import emit_json, info, table
from store.errors import InvalidInput, NotFound, UsageError


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


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed in the input (not JSON, and no model can score it)")


def read_rows(row: str | None, file: str | None) -> tuple[list[Any], str | None]:
    if row is not None:
        return _rows_from_json(_load_json(row, "--row"), "--row")
    assert file is not None
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            raise NotFound(f"file {file} does not exist; check the path")
        text = path.read_text()
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" in stripped:  # JSON lines
        rows = [_load_json(line, f"{file} line {n}") for n, line in enumerate(stripped.splitlines(), 1)
                if line.strip()]
        return rows, None
    return _rows_from_json(_load_json(text, file), file)


def cmd_predict(args: argparse.Namespace) -> int:
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
    table(["prediction id", "version", "route", "output"],
          [[p["prediction_id"], f"v{p['version']}", p["route"],
            p.get("class", p.get("value")) if "probabilities" not in p else
            f"{p['class']}  " + "  ".join(f"{k}={v:.4f}" for k, v in p["probabilities"].items())]
           for p in result["predictions"]])
    return 0


def _label_value(text: str) -> Any:
    """A label from a CSV cell or --label: a number if it reads as one, else the text."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def read_labels(path: str, model: str | None) -> list[dict[str, Any]]:
    file = Path(path)
    if not file.is_file():
        raise NotFound(f"label file {path} does not exist; check the path")
    text = file.read_text()
    items: list[dict[str, Any]] = []
    if text.lstrip().startswith("{"):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                items.append(_load_json(line, f"{path} line {n}"))
    else:
        reader = csv.DictReader(text.splitlines())
        cols = set(reader.fieldnames or [])
        if "label" not in cols or not cols & {"prediction_id", "request_id"}:
            raise InvalidInput(f"{path}: the header needs label and prediction_id or request_id "
                               f"(found {', '.join(sorted(cols)) or 'no header'})")
        for line_no, rec in enumerate(reader, 2):
            item: dict[str, Any] = {"label": _label_value(rec["label"])}
            for key in ("prediction_id", "request_id", "model"):
                if rec.get(key):
                    item[key] = rec[key]
            if rec.get("row"):
                if not rec["row"].isdigit():
                    raise InvalidInput(f"{path} line {line_no}: row {rec['row']!r} is not a row number")
                item["row"] = int(rec["row"])
            items.append(item)
    for item in items:
        if model and isinstance(item, dict) and "request_id" in item:
            item.setdefault("model", model)
    return items


def cmd_feedback(args: argparse.Namespace) -> int:
    from serving.log import feedback

    if args.file:
        if args.prediction_id or args.label is not None:
            raise UsageError("give --file, or --prediction-id with --label, not both")
        items = read_labels(args.file, args.model)
    elif args.prediction_id and args.label is not None:
        items = [{"prediction_id": args.prediction_id, "label": _label_value(args.label)}]
    else:
        raise UsageError("give --file labels.csv, or --prediction-id ID --label VALUE")
    for i, item in enumerate(items):
        problem = feedback.check_item(item)
        if problem:
            raise InvalidInput(f"label {i + 1}: {problem}; nothing was written")
    result = feedback.apply_labels(store_from(args), items)
    if args.json:
        emit_json(result)
    else:
        info(f"{result['matched']} of {result['labels']} label(s) matched a prediction; "
             f"{result['unmatched']} did not")
        for miss in result["not_found"][:10] + result["ambiguous"][:10]:
            info(f"  {json.dumps({k: v for k, v in miss.items() if k != 'why'})}: {miss['why']}")
    return 0 if result["unmatched"] == 0 else 1
