"""The labelling queue (`wk label`): a seeded sample per window of the predictions that have
no label and whose inputs were logged, never queueing one twice; a label goes through the
feedback path (visible in `wk predictions show`, with an audit event) and must be one of the
model's classes; skip takes a task out; the interactive session re-asks an invalid label and
ends cleanly at end of input."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Result
from logged_store import START, Logged, build_logged_store

from console.cli.errors import ExitCode
from registry.audit_log import audit_log
from serving.log import labelling
from store.errors import InvalidInput

DAYS = 3
SINCE, UNTIL = START, START + timedelta(days=DAYS)


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Any, Logged, Path]]:
    root = tmp_path / "store"
    store, what = build_logged_store(root, rows=300, days=DAYS)
    yield store, what, root
    store.close()


def queued(store: Any) -> list[dict[str, Any]]:
    return labelling.next_tasks(store, "tiny", 5000)


def test_the_queue_samples_each_window_from_unlabelled_rows_with_inputs(logged: tuple[Any, Logged, Path]) -> None:
    store, what, _ = logged
    added = labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=7, seed=1, actor="ana")
    assert added == 7 * DAYS
    tasks = queued(store)
    rows = what.by_id()
    per_day: dict[int, int] = {}
    for t in tasks:
        row = rows[t["prediction_id"]]
        assert row["route"] != "shadow" and row["inputs"] is not None and row["label"] is None
        assert t["inputs"] == row["inputs"] and t["outputs"] == row["outputs"] and t["classes"] == ["0", "1"]
        day = (row["at"] - START).days
        per_day[day] = per_day.get(day, 0) + 1
        assert t["window_start"] == (START + timedelta(days=day)).isoformat().replace("+00:00", "Z")
    assert per_day == {0: 7, 1: 7, 2: 7}
    events = audit_log(store, action="label.queue")
    assert len(events) == 1 and events[0]["after"]["added"] == 21 and events[0]["actor"] == "ana"


def test_the_sample_is_seeded_and_never_queues_a_prediction_twice(tmp_path: Path) -> None:
    picks = []
    for name in ("a", "b"):
        store, _ = build_logged_store(tmp_path / name, rows=300, days=DAYS)
        labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=5, seed=42)
        picks.append({t["prediction_id"] for t in queued(store)})
        if name == "b":
            # a second fill over the same span tops each window up to 5: nothing added
            assert labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=5, seed=7) == 0
            # a larger sample adds only predictions not queued before
            assert labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=8, seed=7) == 3 * DAYS
            ids = [t["prediction_id"] for t in queued(store)]
            assert len(ids) == len(set(ids)) == 8 * DAYS and picks[1] <= set(ids)
        store.close()
    assert picks[0] == picks[1]
    other, _ = build_logged_store(tmp_path / "c", rows=300, days=DAYS)
    labelling.fill_queue(other, "tiny", SINCE, UNTIL, per_window=5, seed=43)
    assert {t["prediction_id"] for t in queued(other)} != picks[0]
    other.close()


def test_a_label_goes_through_feedback_and_shows_in_predictions_show(
        wk: Callable[..., Result], logged: tuple[Any, Logged, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=3, seed=0)
    first = queued(store)[0]
    r = wk("label", "tiny", "--set", first["prediction_id"], "1", "--json")
    assert r.code == 0, r.err
    assert r.json()["label"] == 1 and r.json()["status"] == "labelled"
    shown = wk("predictions", "show", first["prediction_id"], "--json").json()
    assert shown["label"] == 1 and shown["label_at"] is not None  # stored as the class's JSON type
    assert first["prediction_id"] not in {t["prediction_id"] for t in queued(store)}
    events = audit_log(store, action="label.set")
    assert len(events) == 1 and events[0]["target"] == f"model/tiny/prediction/{first['prediction_id']}"
    assert events[0]["after"] == {"status": "labelled", "label": 1}


def test_an_invalid_label_is_refused_with_the_allowed_classes(
        wk: Callable[..., Result], logged: tuple[Any, Logged, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=3, seed=0)
    task = queued(store)[0]
    r = wk("label", "tiny", "--set", task["prediction_id"], "maybe")
    assert r.code == ExitCode.FAILED
    assert r.err == "wk: error: label 'maybe' is not one of the model's classes: 0, 1\n"
    assert wk("predictions", "show", task["prediction_id"], "--json").json()["label"] is None
    assert audit_log(store, action="label.set") == []
    with pytest.raises(InvalidInput, match="not one of the model's classes: 0, 1"):
        labelling.label_task(store, "tiny", task["prediction_id"], "2")
    r = wk("label", "tiny", "--set", "0000dead-0000-7000-8000-000000000000", "1")
    assert r.code == ExitCode.FAILED and "is not in tiny's labelling queue" in r.err


def test_skip_takes_a_task_out_of_the_queue(wk: Callable[..., Result], logged: tuple[Any, Logged, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=2, seed=0)
    task = queued(store)[0]
    r = wk("label", "tiny", "--skip", task["prediction_id"][:13])  # a unique prefix does
    assert r.code == 0, r.err
    left = {t["prediction_id"] for t in queued(store)}
    assert task["prediction_id"] not in left and len(left) == 2 * DAYS - 1
    assert wk("predictions", "show", task["prediction_id"], "--json").json()["label"] is None
    assert audit_log(store, action="label.skip")[0]["after"] == {"status": "skipped"}
    # a later fill does not offer it again
    assert labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=2, seed=5) == 0


def test_list_json_fills_the_queue_and_prints_the_open_tasks(
        wk: Callable[..., Result], logged: tuple[Any, Logged, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, what, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    r = wk("label", "tiny", "--list", "--json", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
           "--per-window", "4", "--window", "12h", "--seed", "3")
    assert r.code == 0, r.err
    tasks = r.json()
    assert len(tasks) == 4 * DAYS * 2  # twelve-hour windows
    assert {t["prediction_id"] for t in tasks} <= set(what.by_id())


def test_interactive_session_labels_skips_reasks_and_ends_at_end_of_input(
        wk: Callable[..., Result], logged: tuple[Any, Logged, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=2, seed=0)
    order = [t["prediction_id"] for t in queued(store)]
    # first: an invalid label, then 0; second: skipped; third: 1; then end of input (Ctrl-D)
    monkeypatch.setattr("sys.stdin", io.StringIO("purple\n0\ns\n1\n"))
    r = wk("label", "tiny", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--per-window", "2",
           "--json")
    assert r.code == 0, r.err
    assert r.json() == {"labelled": 2, "skipped": 1, "left": 3, "open": 2 * DAYS - 3}
    assert "label 'purple' is not one of the model's classes: 0, 1" in r.err
    assert "colour" in r.err and "output: " in r.err  # the inputs and the output were shown
    labels = [wk("predictions", "show", pid, "--json").json()["label"] for pid in order[:3]]
    assert labels == [0, None, 1]
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))
    r = wk("label", "tiny", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--per-window", "2")
    assert r.code == 0 and "labelled 0, skipped 0; 3 still open" in r.err


def test_a_label_that_arrived_by_feedback_closes_the_task(logged: tuple[Any, Logged, Path]) -> None:
    from serving.log.feedback import apply_labels

    store, _, _ = logged
    labelling.fill_queue(store, "tiny", SINCE, UNTIL, per_window=2, seed=0)
    task = queued(store)[0]
    apply_labels(store, [{"prediction_id": task["prediction_id"], "label": 1}])
    assert task["prediction_id"] not in {t["prediction_id"] for t in queued(store)}


@pytest.mark.parametrize(("text", "outputs", "value"), [
    ("1", {"class": 1, "probabilities": {"0": 0.2, "1": 0.8}}, 1),
    ("yes", {"class": "no", "probabilities": {"no": 0.6, "yes": 0.4}}, "yes"),
    ("12.5", {"value": 3.0}, 12.5),
    ("7", {"value": 3.0}, 7),
])
def test_label_values_take_the_type_of_the_models_answer(text: str, outputs: dict[str, Any], value: Any) -> None:
    result = labelling.label_value(labelling.choices_of(outputs), text)
    assert result == value and type(result) is type(value)


def test_a_regressors_label_must_be_a_number() -> None:
    with pytest.raises(InvalidInput, match="not a number"):
        labelling.label_value(labelling.choices_of({"value": 2.0}), "high")
