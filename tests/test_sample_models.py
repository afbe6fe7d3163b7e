"""The sample use cases: generators, scripted events, shipped data, specs, entry points."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from threadpoolctl import threadpool_limits

from sample_models import USE_CASES, UseCase
from sample_models import generate as shipped
from sample_models.credit import generator as credit
from sample_models.demand import generator as demand
from sample_models.events import (
    EVENT_KINDS,
    Event,
    broken_column,
    concept_drift,
    covariate_drift,
    new_category,
)

REPO = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime(2026, 1, 11, tzinfo=UTC)  # about the middle of the small test streams
N_CREDIT = 4000  # ~17 days at 10 rows/hour
N_DEMAND = 2688  # 4 weeks at 4 rows/hour

TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
# The documented "worse" overrides (also in each spec's header and the README).
WORSE: dict[str, dict[str, Any]] = {"credit": {"C": 0.004}, "demand": {"max_depth": 1}}


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    """Boosting predictions on one thread: two stall when another process holds a core."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _credit(events: list[Event] | tuple[Event, ...] = (), seed: int = 1) -> pd.DataFrame:
    return credit.generate(N_CREDIT, START, seed, events)


def _demand(events: list[Event] | tuple[Event, ...] = (), seed: int = 1) -> pd.DataFrame:
    return demand.generate(N_DEMAND, START, seed, events)


@pytest.fixture(scope="module")
def credit_base() -> pd.DataFrame:
    return _credit()


@pytest.fixture(scope="module")
def demand_base() -> pd.DataFrame:
    return _demand()


def _after(frame: pd.DataFrame) -> np.ndarray:
    return (frame["ts"] >= pd.Timestamp(AT)).to_numpy()


def _assert_before_unchanged(frame: pd.DataFrame, base: pd.DataFrame) -> None:
    before = ~_after(base)
    assert before.sum() > 500 and (~before).sum() > 500
    pd.testing.assert_frame_equal(
        frame[before].reset_index(drop=True),
        base[before].reset_index(drop=True),
        check_dtype=False,
    )


# -- generators ----------------------------------------------------------------------


GENERATORS: dict[str, Callable[..., pd.DataFrame]] = {"credit": _credit, "demand": _demand}


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_same_seed_same_frame_other_seed_differs(name: str) -> None:
    make = GENERATORS[name]
    first, again, other = make(seed=5), make(seed=5), make(seed=6)
    pd.testing.assert_frame_equal(first, again)
    target = USE_CASES[name].target
    assert not first[target].equals(other[target])
    numeric = "income" if name == "credit" else "temperature"
    assert not first[numeric].equals(other[numeric])


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_columns_and_time_order(name: str) -> None:
    case = USE_CASES[name]
    frame = GENERATORS[name]()
    assert list(frame.columns) == ["ts", *case.features, case.target]
    ts = pd.DatetimeIndex(frame["ts"])
    assert str(ts.tz) == "UTC"
    assert ts[0] == pd.Timestamp(START)
    assert ts.is_monotonic_increasing and ts.is_unique
    assert not frame.isna().any().any()


def test_credit_values_are_realistic(credit_base: pd.DataFrame) -> None:
    f = credit_base
    assert 0.10 <= f["default"].mean() <= 0.20
    assert set(f["default"].unique()) == {0, 1}
    assert set(f["employment_type"]) == set(credit.EMPLOYMENT_TYPES)
    assert set(f["region"]) == set(credit.REGIONS)
    assert f["income"].gt(0).all() and f["income"].skew() > 1  # lognormal: long right tail
    assert f["age"].between(18, 100).all() and f["age"].dtype == np.int64
    assert f["debt_ratio"].between(0, 2.5).all()
    assert (f["credit_history_months"] <= (f["age"] - 18) * 12).all()
    # the relation the model should learn is there
    high, low = f[f["debt_ratio"] > 0.6], f[f["debt_ratio"] < 0.2]
    assert high["default"].mean() > 2 * low["default"].mean()
    rates = f.groupby("employment_type")["default"].mean()
    assert rates["unemployed"] > rates["salaried"] + 0.2


def test_demand_values_are_realistic(demand_base: pd.DataFrame) -> None:
    f = demand_base
    ts = pd.DatetimeIndex(f["ts"])
    assert (f["hour"] == ts.hour).all() and (f["weekday"] == ts.day_of_week).all()
    assert f["demand"].ge(0).all()
    assert set(f["store_region"]) == set(demand.REGIONS)
    assert set(f["is_holiday"]) == {0, 1} and set(f["promo"]) == {0, 1}
    # 2026-01-01 and the third Monday of January are holidays
    holidays = set(ts[f["is_holiday"] == 1].date)
    assert holidays == {datetime(2026, 1, 1).date(), datetime(2026, 1, 19).date()}
    by_hour = f.groupby("hour")["demand"].mean()
    assert by_hour[18] > 3 * by_hour[3]  # daily cycle
    by_day = f.groupby("weekday")["demand"].mean()
    assert by_day[5] > by_day[1] * 1.2  # Saturday busier than Tuesday
    temp_by_hour = f.groupby("hour")["temperature"].mean()
    assert temp_by_hour[15] > temp_by_hour[4] + 4  # warmer in the afternoon
    assert f["temperature"].between(-25, 25).all() and f["humidity"].between(0, 100).all()
    promo = f.groupby("promo")["demand"].mean()
    assert promo[1] > promo[0]


def test_rows_per_hour_sets_the_pace() -> None:
    fast = credit.generate(2000, START, 3, rows_per_hour=100.0)
    span_h = (fast["ts"].iloc[-1] - fast["ts"].iloc[0]).total_seconds() / 3600
    assert 17 < span_h < 23
    hourly = demand.generate(48, START, 3, rows_per_hour=1.0)
    assert list(hourly["hour"]) == list(range(24)) * 2


def test_start_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        credit.generate(10, datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="rows_per_hour"):
        demand.generate(10, START, 1, rows_per_hour=0)


def test_label_for_and_ground_truth(credit_base: pd.DataFrame, demand_base: pd.DataFrame) -> None:
    labels = credit.label_for(credit_base, seed=9)
    assert labels.equals(credit.label_for(credit_base, seed=9))
    assert set(labels.unique()) == {0, 1}
    p = credit.default_probability(credit_base)
    assert abs(labels.mean() - p.mean()) < 0.03
    auc = metrics.roc_auc_score(credit_base["default"], p)
    assert auc > 0.75  # the true relation explains the generated labels
    values = demand.label_for(demand_base, seed=9)
    assert values.ge(0).all()
    ratio = values / demand.expected_demand(demand_base)
    assert 0.95 < float(np.median(ratio)) < 1.05


# -- events ----------------------------------------------------------------------------


def test_covariate_drift_numeric(credit_base: pd.DataFrame, demand_base: pd.DataFrame) -> None:
    after = _after(credit_base)
    drifted = _credit([covariate_drift(AT, "income", scale=1.5)])
    _assert_before_unchanged(drifted, credit_base)
    ratio = drifted["income"][after] / credit_base["income"][after]
    assert np.allclose(ratio, 1.5, atol=1e-3)
    # covariate drift keeps the relation: richer applicants default less
    assert drifted["default"][after].mean() < credit_base["default"][after].mean()

    after = _after(demand_base)
    warm = _demand([covariate_drift(AT, "temperature", shift=8.0)])
    _assert_before_unchanged(warm, demand_base)
    delta = warm["temperature"][after] - demand_base["temperature"][after]
    assert np.allclose(delta, 8.0, atol=0.051)
    assert warm["demand"][after].mean() > demand_base["demand"][after].mean() * 1.15


def test_covariate_drift_categorical(credit_base: pd.DataFrame) -> None:
    after = _after(credit_base)
    drifted = _credit([covariate_drift(AT, "region", weights={"west": 5.0})])
    _assert_before_unchanged(drifted, credit_base)
    share_before = (credit_base["region"][after] == "west").mean()
    share_after = (drifted["region"][after] == "west").mean()
    assert share_before < 0.25 and share_after > 0.5


@pytest.mark.parametrize(
    ("name", "feature", "category"),
    [("credit", "employment_type", "gig_worker"), ("demand", "store_region", "central")],
)
def test_new_category_appears_only_after_at(name: str, feature: str, category: str) -> None:
    base = GENERATORS[name]()
    frame = GENERATORS[name]([new_category(AT, feature, category, share=0.2)])
    _assert_before_unchanged(frame, base)
    after = _after(frame)
    is_new = (frame[feature] == category).to_numpy()
    assert not is_new[~after].any()
    assert 0.15 < is_new[after].mean() < 0.25
    assert category not in set(base[feature])


def test_new_category_effect_on_label(credit_base: pd.DataFrame) -> None:
    frame = _credit([new_category(AT, "employment_type", "gig_worker", share=0.3, effect=1.5)])
    rate = frame[frame["employment_type"] == "gig_worker"]["default"].mean()
    salaried = frame[_after(frame) & (frame["employment_type"] == "salaried")]["default"].mean()
    assert rate > salaried + 0.1


def test_concept_drift_changes_labels_not_inputs(credit_base: pd.DataFrame) -> None:
    event = concept_drift(AT, "debt_ratio", factor=-1.0)
    frame = _credit([event])
    _assert_before_unchanged(frame, credit_base)
    features = list(credit.FEATURES)
    pd.testing.assert_frame_equal(frame[features], credit_base[features])  # inputs unchanged
    after = _after(frame)

    def gap(f: pd.DataFrame) -> float:
        return (
            f[f["debt_ratio"] > 0.6]["default"].mean() - f[f["debt_ratio"] < 0.2]["default"].mean()
        )

    assert gap(frame[~after]) > 0.15  # high debt -> more defaults
    assert gap(frame[after]) < -0.02  # flipped
    # the ground-truth function on fixed features, just before and just after `at`
    row = credit_base.iloc[[0]].copy()
    row["debt_ratio"] = 1.2
    row["ts"] = pd.Timestamp(AT) - pd.Timedelta(seconds=1)
    before_p = credit.default_probability(row, [event])[0]
    row["ts"] = pd.Timestamp(AT)
    after_p = credit.default_probability(row, [event])[0]
    assert before_p > after_p + 0.2


def test_concept_drift_demand(demand_base: pd.DataFrame) -> None:
    frame = _demand([concept_drift(AT, "promo", factor=3.0)])
    _assert_before_unchanged(frame, demand_base)
    after = _after(frame)

    def lift(f: pd.DataFrame) -> float:
        return f[f["promo"] == 1]["demand"].mean() / f[f["promo"] == 0]["demand"].mean()

    assert lift(frame[after]) > lift(demand_base[after]) + 0.3
    assert lift(frame[~after]) == pytest.approx(lift(demand_base[~after]))


@pytest.mark.parametrize(
    ("name", "feature"),
    [("credit", "income"), ("credit", "age"), ("credit", "region"), ("demand", "humidity")],
)
def test_broken_column_nulls(name: str, feature: str) -> None:
    base = GENERATORS[name]()
    frame = GENERATORS[name]([broken_column(AT, feature)])
    after = _after(frame)
    assert frame[feature][after].isna().all()
    assert frame[feature][~after].notna().all()
    assert (frame[feature][~after].to_numpy() == base[feature][~after].to_numpy()).all()
    # the truth was made before the column broke
    target = USE_CASES[name].target
    assert frame[target].equals(base[target])


def test_broken_column_units(credit_base: pd.DataFrame, demand_base: pd.DataFrame) -> None:
    after = _after(credit_base)
    frame = _credit([broken_column(AT, "income", mode="scale")])  # e.g. cents instead of units
    assert np.array_equal(frame["income"][after], credit_base["income"][after] * 1000)
    assert frame["default"].equals(credit_base["default"])
    _assert_before_unchanged(frame, credit_base)

    after = _after(demand_base)
    frame = _demand([broken_column(AT, "temperature", mode="fahrenheit")])
    expected = demand_base["temperature"][after] * 9 / 5 + 32
    assert np.allclose(frame["temperature"][after], expected, atol=0.051)
    assert frame["demand"].equals(demand_base["demand"])
    _assert_before_unchanged(frame, demand_base)


def test_event_dict_round_trip() -> None:
    event = covariate_drift(AT, "region", weights={"west": 3.0})
    data = event.to_dict()
    assert data == {
        "kind": "covariate_drift",
        "at": "2026-01-11T00:00:00Z",
        "feature": "region",
        "weights": {"west": 3.0},
    }
    assert Event.from_dict(data) == event
    assert hash(event) == hash(Event.from_dict(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Event("drift", AT, "income"), "unknown event kind 'drift'; allowed kinds: "),
        (lambda: Event("concept_drift", datetime(2026, 1, 5), "age"), "timezone-aware"),
        (lambda: broken_column(AT, "income", mode="zeros"), "allowed modes: fahrenheit, nulls"),
        (lambda: new_category(AT, "region", "x", share=1.5), "share must be in"),
        (lambda: concept_drift(AT, "age", factor=1.0), "factor"),
        (lambda: Event("concept_drift", AT, "age", share=0.5), "'share' does not apply"),
        (lambda: Event.from_dict({"kind": "broken_column", "when": "x"}), "unknown event field"),
        (lambda: covariate_drift(AT, "income"), "nothing changes"),
        (lambda: Event.from_dict({"kind": "new_category"}), "missing 'at'"),
        (lambda: Event.from_dict({"kind": "new_category", "at": "soon"}), "not an ISO-8601"),
    ],
)
def test_invalid_event_raises(make: Callable[[], Event], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_unknown_kind_message_lists_all_kinds() -> None:
    with pytest.raises(ValueError) as info:
        Event("drift", AT, "income")
    assert all(kind in str(info.value) for kind in EVENT_KINDS)


@pytest.mark.parametrize(
    ("name", "event", "message"),
    [
        ("credit", covariate_drift(AT, "incme", shift=1.0), "unknown feature 'incme'"),
        ("demand", concept_drift(AT, "income"), "unknown feature 'income'"),
        ("credit", new_category(AT, "age", "old"), "needs a categorical feature"),
        ("credit", new_category(AT, "region", "north"), "already a category"),
        ("credit", covariate_drift(AT, "region", shift=1.0), "needs weights"),
        ("credit", covariate_drift(AT, "region", weights={"mars": 2.0}), "unknown category 'mars'"),
        ("demand", covariate_drift(AT, "hour", shift=1.0), "cannot target 'hour'"),
        ("credit", broken_column(AT, "region", mode="scale"), "needs a numeric feature"),
    ],
)
def test_event_checked_against_use_case(name: str, event: Event, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        GENERATORS[name]([event])
    if "unknown feature" in message:  # names the allowed values
        for feature in USE_CASES[name].features:
            assert feature in str(info.value)


# -- shipped data --------------------------------------------------------------------


def test_shipped_csvs_match_the_generator(tmp_path: Path) -> None:
    assert shipped.stale_files() == []
    assert shipped.main(["--check"]) == 0
    for name, case in USE_CASES.items():
        assert case.data.stat().st_size < 600_000
        tampered = tmp_path / f"{name}.csv"
        data = case.data.read_bytes()
        last = b"7" if data[-2:-1] != b"7" else b"8"
        tampered.write_bytes(data[:-2] + last + b"\n")  # one changed digit
        assert shipped.is_current(name, case.data)
        assert not shipped.is_current(name, tampered)
        assert not shipped.is_current(name, tmp_path / "missing.csv")


def test_check_cli_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sample_models.generate", "--check"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_shipped_csv_reads_back_as_the_frame(name: str) -> None:
    case = USE_CASES[name]
    frame = pd.read_csv(case.data)
    assert frame["ts"].iloc[0] == "2026-01-01T00:00:00Z"
    again = case.generate(shipped.N_ROWS[name], shipped.START, shipped.SEED)
    assert list(frame.columns) == list(again.columns)
    assert (pd.to_datetime(frame["ts"], utc=True) == again["ts"]).all()
    for column in case.features + (case.target,):
        assert frame[column].dtype.kind == again[column].dtype.kind, column
        assert (frame[column] == again[column]).all(), column


# -- specs and training --------------------------------------------------------------


def _spec(name: str) -> dict[str, Any]:
    return tomllib.loads(USE_CASES[name].spec.read_text())


def _entry(spec: dict[str, Any]) -> Callable[..., Any]:
    module, _, function = spec["train"]["entry_point"].partition(":")
    return getattr(importlib.import_module(module), function)


def _time_split(case: UseCase, spec: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(case.spec.parent / spec["data"]["source"])
    order = pd.to_datetime(frame[spec["split"]["time_column"]], utc=True).sort_values(kind="stable")
    cut = round(len(frame) * (1 - spec["split"]["test_fraction"]))
    return frame.loc[order.index[:cut]], frame.loc[order.index[cut:]]


def _gate_value(name: str, params: dict[str, Any]) -> tuple[float, Any, pd.DataFrame]:
    case, spec = USE_CASES[name], _spec(name)
    train, test = _time_split(case, spec)
    features, target = spec["data"]["features"], spec["data"]["target"]
    model = _entry(spec)(train[features].copy(), train[target].copy(), params)
    X, y = test[features], test[target]
    if spec["gate"]["metric"] == "roc_auc":
        return metrics.roc_auc_score(y, model.predict_proba(X)[:, 1]), model, X
    assert spec["gate"]["metric"] == "rmse"
    return metrics.root_mean_squared_error(y, model.predict(X)), model, X


@pytest.fixture(scope="module")
def gate_results() -> dict[str, dict[str, tuple[float, Any, pd.DataFrame]]]:
    out: dict[str, dict[str, tuple[float, Any, pd.DataFrame]]] = {}
    for name in USE_CASES:
        params = dict(_spec(name)["train"]["params"])
        out[name] = {
            "default": _gate_value(name, params),
            "again": _gate_value(name, params),
            "worse": _gate_value(name, {**params, **WORSE[name]}),
        }
    return out


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_spec_format(name: str) -> None:
    case, spec = USE_CASES[name], _spec(name)
    assert set(spec) - {"serve"} == {"model", "data", "split", "train", "evaluate", "gate"}
    assert spec["model"]["task"] == case.task
    assert {"name", "owner", "description", "tags"} <= set(spec["model"])
    assert (case.spec.parent / spec["data"]["source"]).resolve() == case.data
    assert spec["data"]["target"] == case.target
    assert tuple(spec["data"]["features"]) == case.features
    assert spec["split"] == {
        "method": "time",
        "time_column": "ts",
        "test_fraction": 0.25,
        "seed": 7,
    }
    assert spec["gate"]["metric"] in spec["evaluate"]["metrics"]
    worse = " ".join(f"--param {k}={v}" for k, v in WORSE[name].items())
    assert worse in case.spec.read_text()  # the documented override is the tested one
    assert worse in (REPO / "sample_models" / "README.md").read_text()


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_default_params_pass_the_gate_and_worse_fails(
    name: str, gate_results: dict[str, dict[str, tuple[float, Any, pd.DataFrame]]]
) -> None:
    gate = _spec(name)["gate"]
    default, worse = gate_results[name]["default"][0], gate_results[name]["worse"][0]
    if name == "credit":
        assert default >= gate["min"] + 0.05  # comfortable margin
        assert default - worse > 0.03
        assert default - worse > 3 * gate["max_regression"]
    else:
        assert default <= gate["max"] * 0.8
        assert worse > default * 1.10
        assert worse - default > 3 * gate["max_regression"]


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_training_is_deterministic_and_predictions_finite(
    name: str, gate_results: dict[str, dict[str, tuple[float, Any, pd.DataFrame]]]
) -> None:
    _, model, X = gate_results[name]["default"]
    _, model_again, _ = gate_results[name]["again"]
    predict = "predict_proba" if name == "credit" else "predict"
    first, second = getattr(model, predict)(X), getattr(model_again, predict)(X)
    assert np.isfinite(first).all()
    assert np.array_equal(first, second)
    if name == "credit":
        assert first.shape == (len(X), 2) and ((first >= 0) & (first <= 1)).all()
    # broken inputs still give finite predictions (nulls, an unseen category)
    broken = X.copy()
    categorical = "region" if name == "credit" else "store_region"
    numeric = "income" if name == "credit" else "temperature"
    broken[categorical] = "mars"
    broken[numeric] = np.nan
    assert np.isfinite(getattr(model, predict)(broken)).all()


@pytest.mark.parametrize("name", ["credit", "demand"])
def test_models_round_trip_through_skops(
    name: str, gate_results: dict[str, dict[str, tuple[float, Any, pd.DataFrame]]]
) -> None:
    sio = pytest.importorskip("skops.io")
    _, model, X = gate_results[name]["default"]
    data = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=data))
    # Watchkeeper's allow-list (store/artifacts.py) trusts only the tree types
    expected = {"credit": set(), "demand": {TREE_PREDICTOR}}
    assert untrusted == expected[name]
    loaded = sio.loads(data, trusted=sorted(untrusted))
    assert np.array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("credit", {"c": 1.0}, "unknown parameter 'c'.*allowed: C, class_weight"),
        ("credit", {"C": "high"}, "'C' .* must be float"),
        ("credit", {"C": 0}, "C must be > 0"),
        ("demand", {"max_depth": 2.5}, "'max_depth' .* must be int"),
        ("demand", {"loss": "huber"}, "loss must be one of"),
    ],
)
def test_bad_params_raise(name: str, params: dict[str, Any], message: str) -> None:
    case = USE_CASES[name]
    frame = pd.read_csv(case.data).head(200)
    with pytest.raises(ValueError, match=message):
        _entry(_spec(name))(frame[list(case.features)], frame[case.target], params)


def test_all_null_training_column_is_refused() -> None:
    case = USE_CASES["demand"]
    frame = pd.read_csv(case.data).head(300)
    frame["temperature"] = np.nan
    with pytest.raises(ValueError, match="'temperature' is entirely null"):
        _entry(_spec("demand"))(frame[list(case.features)], frame[case.target], {})


def test_training_with_drifted_and_broken_data() -> None:
    """A retrain on data where a column broke part-way still fits and predicts."""
    events = [
        broken_column(AT, "income"),
        new_category(AT, "employment_type", "gig_worker", share=0.2),
    ]
    frame = credit.generate(3000, START, 2, events)
    model = _entry(_spec("credit"))(frame[list(credit.FEATURES)], frame["default"], {})
    assert np.isfinite(model.predict_proba(frame[list(credit.FEATURES)])).all()


def test_use_cases_registry() -> None:
    assert set(USE_CASES) == {"credit", "demand"}
    for name, case in USE_CASES.items():
        assert case.name == name
        assert case.spec.is_file() and case.data.is_file()
        frame = case.generate(50, START + timedelta(days=3), 1)
        assert len(frame) == 50 and case.target in frame
        assert set(case.schema.features) == set(case.features)
