"""The labelling queue: where labels never arrive by themselves, a seeded random sample of
each window's unlabelled predictions (inputs logged) is offered to a person. A label given
here is written by the same code as `wk feedback` and /v1/feedback (feedback.write_labels),
so it feeds the same metrics; the task's state and an audit event go in that transaction.
`wk label`, and the console's Labelling view, call these functions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from registry import views
from serving.log.feedback import check_item, write_labels
from store import audit
from store import label_tasks as tasks_q
from store import models as model_store
from store.access import authorize
from store.errors import Conflict, InvalidInput, NotFound, UsageError
from store.report_tables import LabelTask
from store.roles import Permission
from store.types import utcnow
from store.vocabulary import AuditAction, LabelTaskStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store
    from store.tables import Prediction

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_PER_WINDOW = 20
#: How far back `wk label` and the console's fill key queue from, by default.
DEFAULT_SPAN = timedelta(days=7)
MAX_PER_WINDOW = 10_000
MAX_WINDOWS = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def windows(since: datetime, until: datetime, width: timedelta) -> list[tuple[datetime, datetime]]:
    """[since, until) cut at multiples of `width` from the epoch (UTC), so two fills of
    overlapping spans see the same windows; the first and last may be partial."""
    if width <= timedelta(0):
        raise UsageError("a window must be longer than 0", field="window", example="24h")
    if since >= until:
        raise UsageError(f"the span starts at {since.isoformat()}, not before its end "
                         f"{until.isoformat()}: since must be before until")
    first = EPOCH + width * ((since - EPOCH) // width)
    count = math.ceil((until - first) / width)
    if count > MAX_WINDOWS:
        raise UsageError(f"{count} windows of {width} in that span; at most {MAX_WINDOWS}: "
                         "give a shorter span or a longer window", field="window", example="24h")
    return [(first + width * i, first + width * (i + 1)) for i in range(count)]


def fill_queue(store: Store, model: str, since: datetime, until: datetime,
               per_window: int = DEFAULT_PER_WINDOW, seed: int = 0, *, window: timedelta = DEFAULT_WINDOW,
               actor: str | None = None) -> int:
    """Queue up to `per_window` predictions of each window (topping up a window queued
    before, never queueing a prediction twice); the number of tasks added."""
    actor = authorize(store, actor, Permission.LABEL, model=model)
    if not 1 <= per_window <= MAX_PER_WINDOW:
        raise UsageError(f"{per_window} per window is outside 1..{MAX_PER_WINDOW}", field="per_window",
                         example="20")
    spans = windows(since, until, window)
    added = 0
    now = utcnow()
    with store.db.write() as session:
        m = model_store.get_model(session, model)
        assert m.id is not None
        for start, end in spans:
            want = per_window - tasks_q.queued_in_window(session, m.id, start)
            if want <= 0:
                continue
            ids = tasks_q.candidates(session, m.id, max(start, since), min(end, until))
            if not ids:
                continue
            # one stream per window and seed: the sample of a window does not depend on
            # which other windows this fill covers
            rng = np.random.default_rng([seed, int(start.timestamp())])
            picked = sorted(rng.choice(len(ids), size=min(want, len(ids)), replace=False).tolist())
            tasks_q.add_tasks(session, [LabelTask(model_id=m.id, prediction_id=ids[i], window_start=start,
                                                  window_end=end, created_at=now) for i in picked])
            added += len(picked)
        if added:
            audit.record(session, actor=actor, action=AuditAction.LABEL_QUEUE_FILL,
                         target=audit.target(model),
                         after={"added": added, "since": views.iso(since), "until": views.iso(until),
                                "window_s": int(window.total_seconds()), "per_window": per_window,
                                "seed": seed})
    return added


@dataclass(frozen=True)
class LabelChoices:
    """What a prediction may be labelled with: one of its classes, or a number (regressor).
    `classes` maps each class as typed to the value stored (its JSON type, as the model
    answered it); empty for a classifier that logged no probabilities (any class goes)."""

    kind: str  # "class" or "value"
    classes: dict[str, Any]

    def allowed(self) -> str:
        if self.kind == "value":
            return "a number"
        return ", ".join(self.classes) if self.classes else "any class"


def choices_of(outputs: Any) -> LabelChoices:
    """From the prediction's logged outputs: a classifier logs every class's probability."""
    if isinstance(outputs, dict) and "value" in outputs and "class" not in outputs:
        return LabelChoices("value", {})
    if not isinstance(outputs, dict):
        return LabelChoices("class", {})
    answered = outputs.get("class")
    names = [str(c) for c in (outputs.get("probabilities") or {})]
    if not names:
        return LabelChoices("class", {})
    return LabelChoices("class", {name: _typed_like(name, answered) for name in names})


def _typed_like(name: str, answered: Any) -> Any:
    """A class name (the probabilities' key, always text) in the type of the model's answer."""
    if isinstance(answered, bool):
        return name.lower() == "true"
    if isinstance(answered, int):
        try:
            return int(name)
        except ValueError:
            return name
    if isinstance(answered, float):
        try:
            return float(name)
        except ValueError:
            return name
    return name


def label_value(choices: LabelChoices, text: str) -> Any:
    """The stored value of a label as a person typed it; InvalidInput naming what is allowed."""
    typed = text.strip()
    if not typed:
        raise InvalidInput(f"no label given; allowed: {choices.allowed()}")
    if choices.kind == "value":
        try:
            number = float(typed)
        except ValueError:
            raise InvalidInput(f"label {typed!r} is not a number (the model predicts a value)") from None
        if not math.isfinite(number):
            raise InvalidInput(f"label {typed!r} is not a finite number")
        return int(number) if number.is_integer() and "." not in typed and "e" not in typed.lower() else number
    if not choices.classes:
        return typed
    if typed not in choices.classes:
        raise InvalidInput(f"label {typed!r} is not one of the model's classes: {choices.allowed()}")
    return choices.classes[typed]


@dataclass(frozen=True)
class TaskDone:
    """A queued prediction labelled or skipped."""

    model: str
    prediction_id: str
    status: str
    label: Any
    at: datetime
    by: str

    def change(self) -> str:
        what = f"labelled {self.label!r}" if self.status == LabelTaskStatus.LABELLED else "skipped"
        return f"{self.model} prediction ...{self.prediction_id[-12:]} {what}"

    def view(self) -> dict[str, Any]:
        return {"model": self.model, "prediction_id": self.prediction_id, "status": self.status,
                "label": self.label, "at": views.iso(self.at), "by": self.by}


def _task_view(task: LabelTask, prediction: Prediction, version: int) -> dict[str, Any]:
    outputs = orjson.loads(prediction.outputs) if prediction.outputs else None
    choices = choices_of(outputs)
    return {
        "prediction_id": task.prediction_id, "at": views.iso(prediction.at), "version": version,
        "route": prediction.route, "source": prediction.source,
        "inputs": orjson.loads(prediction.inputs) if prediction.inputs else None,
        "outputs": outputs, "label_kind": choices.kind, "classes": list(choices.classes),
        "window_start": views.iso(task.window_start), "window_end": views.iso(task.window_end),
        "status": task.status,
    }


def next_tasks(store: Store, model: str, limit: int = 50) -> list[dict[str, Any]]:
    """Open tasks, oldest window first, each with the prediction's inputs and outputs and
    the labels it may take."""
    if not 1 <= limit <= 5000:
        raise UsageError(f"a limit of {limit} tasks is outside 1..5000", field="limit", example="50")
    with store.db.read() as session:
        m = model_store.get_model(session, model)
        assert m.id is not None
        return [_task_view(t, p, v) for t, p, v in tasks_q.open_tasks(session, m.id, limit)]


def open_count(store: Store, model: str) -> int:
    with store.db.read() as session:
        m = model_store.get_model(session, model)
        assert m.id is not None
        return tasks_q.count_open(session, m.id)


def _task(session: Session, model: str, ref: str) -> tuple[LabelTask, Prediction]:
    text = ref.strip().lower()
    if not text or len(text) > 36 or any(c not in "0123456789abcdef-" for c in text):
        raise InvalidInput(f"{ref[:40]!r} is not a prediction id (a UUID such as 0193a1b2-...)")
    m = model_store.get_model(session, model)
    found = [t for t in tasks_q.tasks_by_ref(session, text) if t.model_id == m.id]
    if len(found) > 1:
        raise InvalidInput(f"prediction id prefix {text!r} matches several queued predictions; give more of it")
    if not found:
        raise NotFound(f"prediction {text!r} is not in {model}'s labelling queue (queued predictions "
                       "are listed with their ids)")
    task = found[0]
    prediction = tasks_q.prediction_of(session, task.prediction_id)
    if prediction is None:  # the log was pruned under the task
        raise NotFound(f"prediction {task.prediction_id} is no longer in the log")
    return task, prediction


def label_task(store: Store, model: str, prediction_id: str, label: str, *,
               actor: str | None = None) -> TaskDone:
    """Label a queued prediction, checked against its classes (or as a number for a
    regressor), through the feedback path; the task is done, with its audit event."""
    actor = authorize(store, actor, Permission.LABEL, model=model)
    at = utcnow()
    with store.db.write() as session:
        task, prediction = _task(session, model, prediction_id)
        outputs = orjson.loads(prediction.outputs) if prediction.outputs else None
        value = label_value(choices_of(outputs), label)
        item = {"prediction_id": task.prediction_id, "label": value}
        problem = check_item(item)
        if problem:
            raise InvalidInput(f"label {label!r}: {problem}")
        written = write_labels(session, [item], at)
        if written["matched"] != 1:
            raise Conflict(f"prediction {task.prediction_id} could not be labelled: "
                           f"{written['not_found'][0]['why'] if written['not_found'] else 'no match'}")
        before = {"status": task.status, "label": orjson.loads(prediction.label) if prediction.label else None}
        task.status, task.done_by, task.done_at = LabelTaskStatus.LABELLED, actor, at
        session.add(task)
        audit.record(session, actor=actor, action=AuditAction.LABEL_SET,
                     target=f"{audit.target(model)}/prediction/{task.prediction_id}",
                     before=before, after={"status": task.status, "label": value})
    return TaskDone(model, task.prediction_id, str(task.status), value, at, actor)


def skip_task(store: Store, model: str, prediction_id: str, *, actor: str | None = None) -> TaskDone:
    """Take a queued prediction out of the queue unlabelled (it is never offered again)."""
    actor = authorize(store, actor, Permission.LABEL, model=model)
    at = utcnow()
    with store.db.write() as session:
        task, _ = _task(session, model, prediction_id)
        if task.status == LabelTaskStatus.LABELLED:
            raise Conflict(f"prediction {task.prediction_id} is labelled already; nothing to skip")
        before = {"status": task.status}
        task.status, task.done_by, task.done_at = LabelTaskStatus.SKIPPED, actor, at
        session.add(task)
        audit.record(session, actor=actor, action=AuditAction.LABEL_SKIP,
                     target=f"{audit.target(model)}/prediction/{task.prediction_id}",
                     before=before, after={"status": task.status})
    return TaskDone(model, task.prediction_id, str(task.status), None, at, actor)
