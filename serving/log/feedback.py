"""Labels that arrive after the prediction: by prediction id, or by the caller's request
id (with the model, and the row for a request of several rows). Used by the API's
/v1/feedback and `wk feedback --file`; reports how many matched and which did not."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import orjson

from store import audit
from store import models as model_store
from store import predictions as predictions_q
from store.access import authorize
from store.errors import InvalidInput
from store.roles import Permission
from store.types import utcnow
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from store.handle import Store

MAX_LABELS = 100_000
_KEYS = {"prediction_id", "request_id", "model", "row", "label"}


def items_from_payload(payload: Any) -> list[dict[str, Any]]:
    """The label items of a /v1/feedback body (one object, or {"labels": [...]})."""
    if isinstance(payload, dict) and "labels" in payload:
        if set(payload) != {"labels"} or not isinstance(payload["labels"], list):
            raise InvalidInput("send {\"labels\": [ {...}, ... ]} or one label object", field="labels")
        items = payload["labels"]
    else:
        items = [payload]
    if not items:
        raise InvalidInput("no labels: send at least one", field="labels")
    if len(items) > MAX_LABELS:
        raise InvalidInput(f"{len(items)} labels in one request; at most {MAX_LABELS}", field="labels")
    for i, item in enumerate(items):
        problem = check_item(item)
        if problem:
            raise InvalidInput(f"label {i}: {problem}", field="labels")
    return items


def check_item(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "must be an object with prediction_id (or request_id) and label"
    extra = set(item) - _KEYS
    if extra:
        return f"unknown field(s) {', '.join(sorted(repr(e[:40]) for e in extra))}; known: {', '.join(sorted(_KEYS))}"
    if "label" not in item:
        return "has no label"
    label = item["label"]
    if label is None or isinstance(label, dict | list) or (isinstance(label, float) and not math.isfinite(label)):
        return "label must be a class or a finite number"
    if isinstance(label, str) and len(label) > 200:
        return "label is longer than 200 characters"
    has_pid, has_rid = item.get("prediction_id") is not None, item.get("request_id") is not None
    if has_pid == has_rid:
        return "give exactly one of prediction_id or request_id"
    for key in ("prediction_id", "request_id", "model"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            return f"{key} must be a string of at most 200 characters"
    row = item.get("row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
        return "row must be a non-negative integer"
    return None


def apply_labels(store: Store, items: list[dict[str, Any]], *,
                 actor: str | None = None) -> dict[str, Any]:
    """Write the labels in one transaction with their audit row (label.feedback, the
    counts). Unmatched ones are reported, not errors."""
    if len(items) > MAX_LABELS:  # the one bound, whether they came over HTTP or from a file
        raise InvalidInput(f"{len(items)} labels at once; at most {MAX_LABELS}: send them in "
                           "parts", field="labels")
    for i, item in enumerate(items):
        problem = check_item(item)
        if problem:
            raise InvalidInput(f"label {i}: {problem}")
    actor = authorize(store, actor, Permission.LABEL)
    with store.db.write() as session:
        result = write_labels(session, items, utcnow())
        audit.record(session, actor=actor, action=AuditAction.LABEL_FEEDBACK, target="predictions",
                     after={k: v for k, v in result.items() if isinstance(v, int)})
        return result


def write_labels(session: Session, items: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    """Write checked label items in the caller's transaction (the labelling queue writes its
    task's state and audit event in the same one); the counts as apply_labels returns them."""
    matched = 0
    unmatched: list[dict[str, Any]] = []
    ambiguous: list[dict[str, Any]] = []
    model_ids: dict[str, int | None] = {}
    for item in items:
        label = orjson.dumps(item["label"]).decode()
        if item.get("prediction_id") is not None:
            n = predictions_q.label_by_prediction_id(session, item["prediction_id"], label, at)
            ref = {"prediction_id": item["prediction_id"]}
        else:
            model = item.get("model")
            if model is not None and model not in model_ids:
                found = model_store.find_model(session, model)
                model_ids[model] = found.id if found else None
            if model is not None and model_ids.get(model) is None:
                unmatched.append({"request_id": item["request_id"], "model": model, "why": "no such model"})
                continue
            n, total = predictions_q.label_by_request_id(session, model_ids.get(model) if model else None,
                                              item["request_id"], item.get("row"), label, at)
            ref = {"request_id": item["request_id"]}
            if n == 0 and total > 1:
                ambiguous.append({**ref, "rows": total,
                                  "why": "the request had several rows: give row"})
                continue
        if n:
            matched += n
        else:
            unmatched.append({**ref, "why": "no such prediction"})
    return {"labels": len(items), "matched": matched, "unmatched": len(unmatched) + len(ambiguous),
            "not_found": unmatched[:100], "ambiguous": ambiguous[:100]}
