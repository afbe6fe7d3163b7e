"""Serving's pure parts, without a server or a database: input checks, routing, ids,
outputs, rollups, request parsing."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.http import formats as pipeline
from serving.http.errors import RequestError
from serving.scoring.frame_validation import check_frame
from serving.scoring.ids import timestamp_ms, uuid7, uuid7_many
from serving.scoring.outputs import format_classification, format_regression
from serving.scoring.validation import Schema
from serving.traffic.rollup import BUCKETS, aggregate, bucket_of
from serving.traffic.router import check_mode, choose_route, sticky_fraction
from store.rollups import quantile_from_buckets
from store.vocabulary import Route

CHAMPION, CHALLENGER = Route.CHAMPION, Route.CHALLENGER  # the routes the assertions below name

SIGNATURE = {"columns": [
    {"name": "income", "kind": "numeric", "dtype": "float64", "nullable": False, "min": 1000.0, "max": 500000.0},
    {"name": "age", "kind": "numeric", "dtype": "int64", "nullable": True, "min": 18, "max": 90},
    {"name": "region", "kind": "categorical", "dtype": "object", "nullable": False,
     "categories": ["east", "north", "south", "west"], "categories_truncated": False},
    {"name": "vip", "kind": "boolean", "dtype": "bool", "nullable": False},
]}
GOOD = {"income": 52000.0, "age": 40, "region": "east", "vip": False}


def schema(**policy: str) -> Schema:
    return Schema.from_signature({**SIGNATURE, "policy": policy} if policy else SIGNATURE)


# --- validation -----------------------------------------------------------------------------

def test_a_good_row_gives_its_values_in_signature_order() -> None:
    values, errors = schema().check_row(GOOD, 0)
    assert errors == [] and values == [52000.0, 40, "east", False]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"income": "52000"}, "income", "expected a number, got a string"),
    ({"income": True}, "income", "expected a number, got true/false"),
    ({"income": None}, "income", "is null"),
    ({"income": float("nan")}, "income", "not a finite number"),
    ({"income": float("inf")}, "income", "not a finite number"),
    ({"income": 1e308}, "income", "too large to score"),
    ({"region": 3}, "region", "expected a string"),
    ({"region": "mars"}, "region", "not a category seen in training"),
    ({"region": "x" * 5000}, "region", "5000 characters"),
    ({"vip": "yes"}, "vip", "expected true or false"),
    ({"vip": [1]}, "vip", "expected true or false"),
])
def test_each_bad_value_is_named_with_its_field(change: dict, field: str, words: str) -> None:
    values, errors = schema().check_row({**GOOD, **change}, 3)
    assert values is None
    assert [(e.row, e.field) for e in errors] == [(3, field)]
    assert words in errors[0].problem


def test_missing_and_unknown_fields_are_both_listed() -> None:
    row = {k: v for k, v in GOOD.items() if k != "age"} | {"colour": "red"}
    _values, errors = schema().check_row(row, 0)
    assert {(e.field, e.problem.split(";")[0]) for e in errors} == {
        ("colour", "unknown field"), ("age", "missing field (numeric)")}


def test_messages_never_repeat_a_string_the_client_sent() -> None:
    secret = "<script>alert(1)</script>"
    _values, errors = schema().check_row({**GOOD, "region": secret, secret: 1}, 0)
    assert errors and all(secret not in e.text() for e in errors)


def test_nullable_column_takes_null_as_missing_value() -> None:
    values, errors = schema().check_row({**GOOD, "age": None}, 0)
    assert errors == [] and math.isnan(values[1])


def test_out_of_range_is_refused_only_where_the_version_says_so() -> None:
    row = {**GOOD, "income": 900.0}
    assert schema().check_row(row, 0)[1] == []
    errors = schema(out_of_range="reject").check_row(row, 0)[1]
    assert errors[0].field == "income" and "outside the training range [1000, 500000]" in errors[0].problem


def test_unknown_categories_can_be_accepted_by_policy() -> None:
    assert schema(unknown_category="accept").check_row({**GOOD, "region": "mars"}, 0)[1] == []


def test_a_row_that_is_not_an_object() -> None:
    _values, errors = schema().check_row([1, 2, 3], 2)
    assert errors[0].row == 2 and "is a list" in errors[0].problem


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.none() | st.booleans() | st.integers() | st.floats()
                       | st.text(max_size=20) | st.lists(st.integers(), max_size=2), max_size=6))
def test_any_object_is_checked_without_raising(row: dict) -> None:
    values, errors = schema().check_row(row, 0)
    assert (values is None) == bool(errors)


def test_frame_checks_agree_with_row_checks() -> None:
    rows = [GOOD, {**GOOD, "income": "abc"}, {**GOOD, "region": "mars"}, {**GOOD, "income": None},
            {**GOOD, "age": None}, {**GOOD, "income": 1e6}]
    frame = pd.DataFrame(rows).astype(object)
    clean, problems = check_frame(frame, schema(out_of_range="reject"))
    by_row = {i: schema(out_of_range="reject").check_row(r, i)[1] for i, r in enumerate(rows)}
    assert set(problems) == {i for i, errs in by_row.items() if errs} == {1, 2, 3, 5}
    assert [f for f, _p in problems[2]] == ["region"]
    assert clean["income"].iloc[0] == 52000.0


# --- routing ----------------------------------------------------------------------------------

def test_single_and_shadow_always_answer_with_the_champion() -> None:
    for mode in ("single", "shadow"):
        assert {choose_route(mode, 0.5, key=None, draw=d / 10) for d in range(10)} == {CHAMPION}


def test_canary_share_follows_the_draw() -> None:
    routes = [choose_route("canary", 0.1, key="k", draw=i / 1000) for i in range(1000)]
    assert routes.count(CHALLENGER) == 100


def test_ab_is_sticky_per_key_and_near_its_share() -> None:
    keys = [f"user-{i}" for i in range(20000)]
    first = [choose_route("ab", 0.3, key=k, draw=0.99) for k in keys]
    again = [choose_route("ab", 0.3, key=k, draw=0.0) for k in keys]
    assert first == again
    assert abs(first.count(CHALLENGER) / len(keys) - 0.3) < 0.015
    assert 0.0 <= sticky_fraction("x") < 1.0


@pytest.mark.parametrize(("mode", "share", "has", "words"), [
    ("blue", 0.1, True, "not one of"), ("canary", 1.5, True, "outside 0..1"),
    ("canary", 0.1, False, "needs a challenger"), ("ab", 0.0, True, "sends it nothing"),
])
def test_bad_deployment_settings_are_named(mode: str, share: float, has: bool, words: str) -> None:
    assert words in (check_mode(mode, share, has) or "")


# --- ids, outputs, rollups ----------------------------------------------------------------------

def test_ids_are_uuid7_time_ordered_and_unique() -> None:
    ids = [uuid7() for _ in range(2000)] + uuid7_many(10000)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert abs(timestamp_ms(ids[-1]) - datetime.now(UTC).timestamp() * 1000) < 5000


def test_classification_outputs_and_scores() -> None:
    outputs, scores = format_classification([0, 1], np.array([[0.8, 0.2], [np.nan, np.nan]]))
    assert outputs[0] == {"class": 0, "probabilities": {"0": 0.8, "1": 0.2}} and scores[0] == 0.2
    assert outputs[1] is None and scores[1] is None
    outputs, scores = format_classification(["a", "b", "c"], np.array([[0.1, 0.6, 0.3]]))
    assert outputs[0]["class"] == "b" and scores == [0.6]


def test_regression_outputs_refuse_non_finite_values() -> None:
    outputs, scores = format_regression(np.array([1.5, np.inf]))
    assert outputs == [{"value": 1.5}, None] and scores == [1.5, None]


def test_rollup_counts_histogram_and_moments() -> None:
    at = datetime(2026, 11, 24, 8, 30, 12, tzinfo=UTC)
    later = datetime(2026, 11, 24, 8, 31, 1, tzinfo=UTC)
    # three requests: two rows answered, one refused, one answered a minute later
    deltas = aggregate([[(1, 7, "champion", at, 0.4, 0.2, False), (1, 7, "champion", at, 3.0, 0.6, False)],
                        [(1, 7, "champion", at, 0.0, None, True)], [(1, 7, "champion", later, 1.0, None, False)]])
    first = next(d for d in deltas if d.minute.minute == 30)
    assert (first.count, first.errors, first.requests, first.out_count) == (2, 1, 2, 2)
    assert next(d for d in deltas if d.minute.minute == 31).requests == 1
    assert first.out_sum == pytest.approx(0.8) and (first.out_min, first.out_max) == (0.2, 0.6)
    assert sum(first.buckets) == 2 and len(first.buckets) == BUCKETS
    assert bucket_of(0.4) == 1 and bucket_of(1e9) == BUCKETS - 1


def test_rollup_counts_a_request_once_per_route_and_minute_however_many_rows() -> None:
    at = datetime(2026, 11, 24, 8, 30, 12, tzinfo=UTC)
    later = datetime(2026, 11, 24, 8, 31, 1, tzinfo=UTC)
    batch = [(1, 7, "champion", at, 2.0, 0.5, False)] * 40
    # a request whose rows fall in two keys (not made by serving today) counts in each, once
    split = [(1, 7, "champion", at, 1.0, None, False), (1, 8, "challenger", at, 1.0, None, False),
             (1, 7, "champion", at, 1.0, None, False), (1, 7, "champion", later, 1.0, None, False)]
    deltas = {(d.version_id, d.minute.minute): d for d in aggregate([batch, split, batch])}
    champion = deltas[(7, 30)]
    assert (champion.requests, champion.count) == (3, 82)
    assert deltas[(8, 30)].requests == 1 and deltas[(7, 31)].requests == 1
    assert aggregate([]) == [] and aggregate([[]]) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=900.0), min_size=50, max_size=400))
def test_histogram_quantiles_land_in_the_right_bucket(latencies: list[float]) -> None:
    buckets = [0] * BUCKETS
    for v in latencies:
        buckets[bucket_of(v)] += 1
    exact = float(np.quantile(latencies, 0.95, method="inverted_cdf"))
    estimate = quantile_from_buckets(buckets, 0.95)
    from store.tables import LATENCY_BUCKETS_MS

    b = bucket_of(exact)
    low = LATENCY_BUCKETS_MS[b - 1] if b else 0.0
    assert estimate is not None and low <= estimate <= LATENCY_BUCKETS_MS[b]


# --- request parsing ------------------------------------------------------------------------

def test_non_finite_json_is_refused_at_parse_time() -> None:
    for body in (b'{"row": {"income": NaN}}', b'{"row": {"income": Infinity}}', b"", b"{"):
        with pytest.raises(RequestError) as err:
            pipeline.parse_json(body)
        assert err.value.status == 400


@pytest.mark.parametrize(("payload", "words"), [
    ([], "must be a JSON object"), ({}, "exactly one of row"), ({"row": {}, "rows": []}, "exactly one of row"),
    ({"rows": {}}, "must be a list"), ({"rows": []}, "no rows"), ({"row": {}, "extra": 1}, "unknown top-level"),
    ({"rows": [{}] * 11}, "at most 10 are allowed"), ({"row": {}, "request_id": 5}, "request_id must be"),
])
def test_predict_bodies_that_are_refused(payload: object, words: str) -> None:
    with pytest.raises(RequestError) as err:
        pipeline.rows_from_predict(payload, max_rows=10)
    assert err.value.status == 422 and words in err.value.message


def test_every_mlflow_format_gives_the_same_rows() -> None:
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    bodies = [{"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}},
              {"dataframe_records": rows}, {"instances": rows}, {"inputs": rows},
              {"inputs": {"a": [1, 2], "b": ["x", "y"]}}]
    for body in bodies:
        assert pipeline.rows_from_mlflow(body, 10) == rows
    with pytest.raises(RequestError):
        pipeline.rows_from_mlflow({"instances": rows, "inputs": rows}, 10)


def test_the_spec_serve_table_becomes_the_versions_input_policy(tmp_path: Path) -> None:
    from registry.signature import infer_signature
    from registry.spec import parse_spec

    raw = {"model": {"name": "m", "task": "classification"},
           "data": {"source": "d.csv", "target": "y", "features": ["a"]},
           "train": {"entry_point": "x:y"}, "serve": {"out_of_range": "reject"}}
    spec = parse_spec(tmp_path / "s.toml", raw, [])
    assert spec.input_policy == {"out_of_range": "reject"}
    signature = infer_signature(pd.DataFrame({"a": [1.0, 2.0]}), spec.input_policy)
    assert Schema.from_signature(signature).out_of_range == "reject"
    from store.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"\[serve\] input policy out_of_range = 'maybe'"):
        parse_spec(tmp_path / "s.toml", {**raw, "serve": {"out_of_range": "maybe"}}, [])


# --- batch predictor -----------------------------------------------------------------------
class _Doubler:
    """Stands in for a loaded version: the predictor only calls predict()."""

    model, version = "doubler", 1

    def predict(self, values: list[list[float]]) -> tuple[list[dict | None], list[float | None]]:
        return [{"value": 2 * row[0]} for row in values], [None] * len(values)


def test_a_request_routed_to_a_retired_predictor_is_still_answered() -> None:
    """A reload can stop a version's worker between routing a request and queueing it
    (a rollback under load); the request must get its answer, not wait for its timeout."""
    import asyncio

    from serving.scoring.micro_batcher import BatchPredictor

    predictor = BatchPredictor(_Doubler())  # type: ignore[arg-type]

    async def ask(value: float) -> object:
        return await asyncio.wait_for(predictor.submit([[value]]), 2.0)

    assert asyncio.run(ask(1.0)) == ([{"value": 2.0}], [None])
    predictor.stop()
    predictor._thread.join(2.0)
    assert not predictor._thread.is_alive()
    assert asyncio.run(ask(3.0)) == ([{"value": 6.0}], [None])


class _Timed(_Doubler):
    """A version whose predict takes `delay` seconds and says on which thread it ran."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.threads: list[str] = []

    def predict(self, values: list[list[float]]) -> tuple[list[dict | None], list[float | None]]:
        import threading

        self.threads.append(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        return super().predict(values)


def test_a_lone_small_request_to_a_fast_version_is_predicted_inline() -> None:
    """try_inline predicts and finishes on the caller's thread only for a fast version
    (measured on the worker first), a small request and an idle predictor."""
    import threading

    from serving.scoring.micro_batcher import INLINE_MAX_ROWS, BatchPredictor

    def run(predictor: BatchPredictor, values: list[list[float]]) -> list[object]:
        done = threading.Event()
        got: list[object] = []

        def finish(value: object, error: BaseException | None) -> None:
            got.append((value, error, threading.current_thread().name))
            done.set()

        if not predictor.try_inline(values, finish):
            predictor.submit_then(values, finish)
        assert done.wait(5)
        return got

    fast = _Timed()
    predictor = BatchPredictor(fast)  # type: ignore[arg-type]
    try:
        here = threading.current_thread().name
        first = run(predictor, [[1.0]])  # not measured yet: on the worker
        assert first[0][2] != here and fast.threads == [first[0][2]]  # type: ignore[index]
        second = run(predictor, [[2.0]])
        assert second == [(([{"value": 4.0}], [None]), None, here)]
        big = run(predictor, [[1.0]] * (INLINE_MAX_ROWS + 1))
        assert big[0][2] != here  # type: ignore[index]
        gate = threading.Event()
        slow_finish_started = threading.Event()

        def hold(value: object, error: BaseException | None) -> None:
            slow_finish_started.set()
            gate.wait(5)  # the worker is busy with this request

        predictor.submit_then([[1.0]], hold)
        assert slow_finish_started.wait(5)
        assert not predictor.try_inline([[3.0]], lambda value, error: None)
        gate.set()
    finally:
        predictor.stop()

    slow = _Timed(delay=0.003)  # above INLINE_PREDICT_MAX_S
    predictor = BatchPredictor(slow)  # type: ignore[arg-type]
    try:
        run(predictor, [[1.0]])
        assert run(predictor, [[1.0]])[0][2] != threading.current_thread().name  # type: ignore[index]
    finally:
        predictor.stop()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["", " 1.5", "1e", "+2", ".5", "1.", "nan", "Infinity", "1_0", "0x10", "abc", "1e500"]),
), min_size=1, max_size=30))
def test_fast_text_to_float_reads_csv_text_as_pandas_does(texts: list[str]) -> None:
    """Batch scoring reads CSV columns as text; the arrow cast it tries first must give
    what pandas's to_numeric gives, value for value (NaN where not a number)."""
    from serving.scoring.frame_validation import _text_to_float

    column = pd.Series(texts, dtype=str).replace("", None)
    fast = _text_to_float(column).to_numpy(dtype=float)
    slow = pd.to_numeric(column, errors="coerce").astype(float).to_numpy(dtype=float)
    np.testing.assert_array_equal(fast, slow)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=False, width=64),
                          st.one_of(st.none(), st.text(max_size=8)),
                          st.integers(-2**53, 2**53)), min_size=0, max_size=20))
def test_column_wise_json_reads_back_as_the_rows(rows: list[tuple[float, str | None, int]]) -> None:
    """Batch scoring logs inputs and outputs as JSON built column by column; read back,
    each row is the row itself: floats exactly (not to 10 digits), NaN and None as null."""
    import json

    from serving.scoring.json_columns import json_records, json_values

    floats = np.array([r[0] for r in rows], dtype=float)
    texts = np.array([r[1] for r in rows], dtype=object)
    ints = np.array([r[2] for r in rows], dtype=np.int64)
    lines = json_records({"x": floats, "name, \"quoted\"": texts, "n": ints})
    assert len(lines) == len(rows)
    for line, (f, t, i) in zip(lines, rows, strict=True):
        back = json.loads(line)
        assert list(back) == ["x", "name, \"quoted\"", "n"]
        assert back["x"] == (None if math.isnan(f) else f)
        assert back["name, \"quoted\""] == t
        assert back["n"] == i
    assert [json.loads(v) for v in json_values(np.array([0.1, -0.0, 1e300, 5e-324]))] == [0.1, -0.0, 1e300, 5e-324]


def test_a_failed_load_is_retried_after_2_s_doubling_up_to_a_minute() -> None:
    from serving.traffic.state import retry_delay

    assert [retry_delay(n) for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]
