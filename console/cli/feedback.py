"""wk feedback: labels for earlier predictions, by prediction id or request id."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.common import read_input, store_from
from console.cli.output import emit_json, info
from console.cli.parser import Commands, model_name
from console.cli.predict import load_json
from store.errors import InvalidInput, UsageError


def register(nouns: Commands) -> None:
    p = nouns.command("feedback", f"{__name__}:cmd_feedback", "labels for earlier predictions")
    p.add_argument("--file", metavar="PATH",
                   help="CSV or JSON lines with prediction_id or request_id, and label (and model, row)")
    p.add_argument("--prediction-id")
    p.add_argument("--label")
    model_name(p.add_argument("--model", help="for request ids: the model they belong to"))


def _label_value(text: str) -> Any:
    """A label from a CSV cell or --label: a number if it reads as one, else the text."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def read_labels(path: str, model: str | None) -> list[dict[str, Any]]:
    import csv

    text = read_input(path, "label file")
    items: list[dict[str, Any]] = []
    if text.lstrip().startswith("{"):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                items.append(load_json(line, f"{path} line {n}"))
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
    import json

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
