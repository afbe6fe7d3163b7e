"""Pure domain logic, tested without a database: gate, signature, spec parsing, alias history."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from registry.aliases import alias_stack
from registry.gate import GatePolicy, evaluate_gate
from registry.signature import compare_signatures, infer_signature, input_example
from registry.spec import apply_overrides, load_spec, parse_scalar
from store.errors import InvalidInput
from store.tables import AliasChange


def test_gate_passes_and_fails_on_thresholds() -> None:
    policy = GatePolicy(metric="roc_auc", min=0.7, max_regression=0.01)
    ok = evaluate_gate(policy, {"roc_auc": 0.80}, {"roc_auc": 0.805})
    assert ok.passed and ok.reasons == []
    low = evaluate_gate(policy, {"roc_auc": 0.65}, None)
    assert not low.passed and "below the minimum 0.7" in low.reasons[0]
    worse = evaluate_gate(policy, {"roc_auc": 0.78}, {"roc_auc": 0.80}, "production v3")
    assert not worse.passed and "worse than production v3 (0.8000) by 0.0200" in worse.reasons[0]


def test_gate_direction_for_lower_is_better_metrics() -> None:
    policy = GatePolicy(metric="rmse", max=10.0, max_regression=0.5)
    assert evaluate_gate(policy, {"rmse": 8.0}, {"rmse": 7.6}).passed
    assert not evaluate_gate(policy, {"rmse": 8.2}, {"rmse": 7.6}).passed
    assert not evaluate_gate(policy, {"rmse": 11.0}, None).passed
    assert evaluate_gate(policy, {"rmse": 5.0}, {"rmse": 7.6}).passed  # better is fine


def test_signature_inference_and_example() -> None:
    frame = pd.DataFrame({"age": [20, 35, None], "kind": ["a", "b", "a"], "ok": [True, False, True]})
    sig = infer_signature(frame)
    cols = {c["name"]: c for c in sig["columns"]}
    assert cols["age"]["kind"] == "numeric" and cols["age"]["min"] == 20 and cols["age"]["max"] == 35
    assert cols["age"]["nullable"] is True
    assert cols["kind"]["categories"] == ["a", "b"] and cols["kind"]["nullable"] is False
    assert cols["ok"]["kind"] == "boolean"
    example = input_example(frame, rows=3)
    assert example[2]["age"] is None and example[0] == {"age": 20.0, "kind": "a", "ok": True}


def test_signature_comparison() -> None:
    a = infer_signature(pd.DataFrame({"x": [1.0, 2.0], "c": ["u", "v"], "gone": [1, 2]}))
    b = infer_signature(pd.DataFrame({"x": [1.0, 5.0], "c": ["u", "w"], "new": ["z", "z"]}))
    changes = {(c["column"], c["change"]) for c in compare_signatures(a, b)}
    assert changes == {("x", "range"), ("c", "categories"), ("gone", "removed"), ("new", "added")}
    assert compare_signatures(a, a) == []


def test_alias_stack_replays_promotes_and_rollbacks() -> None:
    def change(action: str, to: int) -> AliasChange:
        return AliasChange(model_id=1, alias="production", action=action, to_version_id=to)

    history = [change("promote", 1), change("promote", 2), change("promote", 3)]
    assert alias_stack(history) == [1, 2, 3]
    assert alias_stack([*history, change("rollback", 2)]) == [1, 2]
    assert alias_stack([*history, change("rollback", 2), change("rollback", 1)]) == [1]


def test_param_overrides_parse_toml_scalars() -> None:
    assert parse_scalar("0.5") == 0.5 and parse_scalar("true") is True
    assert parse_scalar('["a", "b"]') == ["a", "b"] and parse_scalar("lbfgs") == "lbfgs"
    assert apply_overrides({"C": 1.0}, ["C=0.01", "solver=saga"]) == {"C": 0.01, "solver": "saga"}
    with pytest.raises(InvalidInput, match="KEY=VALUE"):
        apply_overrides({}, ["C"])


SPEC = """
[model]
name = "m"
task = "regression"
[data]
source = "d.csv"
target = "y"
features = ["a"]
[train]
entry_point = "mod:fn"
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace('[train]\nentry_point = "mod:fn"', ""), "the [train] table is missing"),
        (lambda s: s.replace('target = "y"', ""), "[data] target is missing"),
        (lambda s: s.replace('features = ["a"]', 'features = ["a", "y"]'), "also listed in features"),
        (lambda s: s.replace('"mod:fn"', '"modfn"'), "must look like package.module:function"),
        (lambda s: s.replace('"d.csv"', '"d.xlsx"'), "must be a .csv or .parquet"),
        (lambda s: s + "[split]\ntest_fraction = 1.5\n", "test_fraction 1.5 must be between 0 and 1"),
        (lambda s: s + "[split]\nmethod = \"time\"\n", "needs time_column"),
        (lambda s: s + "[gate]\nmetric = \"roc_auc\"\n", "must be one of [evaluate] metrics"),
        (lambda s: s.replace('name = "m"', 'name = "../m"'), "without '/'"),
        (lambda s: s + "[[oops", "is not valid TOML"),
    ],
)
def test_spec_errors_name_the_key(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(edit(SPEC))
    with pytest.raises(InvalidInput) as exc:
        load_spec(path)
    assert message in exc.value.message and str(path) in exc.value.message


def test_spec_defaults_and_relative_source(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    spec = load_spec(path, ["alpha=2"])
    assert spec.data.path == str(tmp_path / "d.csv") and spec.data.name == "d"
    assert spec.metrics == ["rmse", "mae", "r2"] and spec.gate.metric == "rmse"
    assert spec.params == {"alpha": 2}
    assert type(spec).from_dict(spec.to_dict()) == spec


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
