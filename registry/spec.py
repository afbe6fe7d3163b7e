"""Training specs: a TOML file naming the model, data, split, entry point, metrics and
gate. Parsing is pure and every error names the file, the key and the fix.

`[train] test_command` (optional, e.g. "pytest -q") is the training code's own tests: an
on-commit job runs it in the repository (without a shell) before it retrains, and a
non-zero exit stops the job. `wk train` does not run it."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from registry.gate import GatePolicy
from registry.metrics import KNOWN, check_metrics_for_task
from store.errors import InvalidInput
from store.names import name_problem

TASKS = ("classification", "regression")
SPLIT_METHODS = ("time", "random")


@dataclass(frozen=True)
class DataSource:
    """A CSV or Parquet file, or a SQL query against a SQLAlchemy URL."""

    name: str
    path: str | None = None  # absolute path of a CSV/Parquet file
    url: str | None = None
    query: str | None = None

    @property
    def kind(self) -> str:
        if self.path is None:
            return "sql"
        return "parquet" if self.path.lower().endswith((".parquet", ".pq")) else "csv"


@dataclass(frozen=True)
class TrainingSpec:
    path: str
    model_name: str
    task: str
    data: DataSource
    target: str
    features: list[str]
    entry_point: str
    params: dict[str, Any]
    metrics: list[str]
    gate: GatePolicy
    split_method: str = "time"
    time_column: str | None = None
    test_fraction: float = 0.25
    seed: int = 0
    eval_data: DataSource | None = None
    owner: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    #: [serve]: out_of_range / unknown_category -> accept | reject (registry.signature)
    input_policy: dict[str, str] = field(default_factory=dict)
    #: [monitoring]: how the version's drift, quality and performance checks run
    #: (registry.monitoring_config)
    monitoring: dict[str, Any] = field(default_factory=dict)
    #: [expectations], parsed (registry.expectations): checked on the data before training
    expectations: dict[str, Any] = field(default_factory=dict)
    #: [train] test_command: the training code's tests, run by an on-commit job first
    test_command: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainingSpec:
        """The inverse of to_dict (a spec recorded in a run)."""
        values = dict(raw)
        values["data"] = DataSource(**raw["data"])
        values["eval_data"] = DataSource(**raw["eval_data"]) if raw.get("eval_data") else None
        values["gate"] = GatePolicy(**raw["gate"])
        return cls(**values)


class _Reader:
    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path
        self.raw = raw

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"spec {self.path}: {message}")

    def table(self, name: str, required: bool = True) -> dict[str, Any]:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise self.fail(f"the [{name}] table is missing; add it (see sample_models/credit/spec.toml)")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{name} must be a table ([{name}]), not {type(value).__name__}")
        return value

    def get(self, table: dict[str, Any], tname: str, key: str, kind: type | tuple[type, ...],
            default: Any = ..., required: bool = False) -> Any:
        if key not in table:
            if required or default is ...:
                raise self.fail(f"[{tname}] {key} is missing; add {key} = ...")
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"[{tname}] {key} must be a {want}, not {value!r}")
        return value

    def source(self, table: dict[str, Any], tname: str) -> DataSource:
        name = self.get(table, tname, "name", str, default="")
        if name and (problem := name_problem(name)):
            raise self.fail(f"[{tname}] name {name!r} is not allowed: it {problem}; use letters, "
                            "digits, '.', '_' or '-', starting with a letter or digit")
        if "source" in table:
            rel = self.get(table, tname, "source", str)
            path = (self.path.parent / rel).resolve() if not Path(rel).is_absolute() else Path(rel)
            if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
                raise self.fail(
                    f"[{tname}] source {rel!r} must be a .csv or .parquet file, or use url + query "
                    "for a SQL source"
                )
            return DataSource(name=name or path.stem, path=str(path))
        if "query" in table or "url" in table:
            url = self.get(table, tname, "url", str, required=True)
            query = self.get(table, tname, "query", str, required=True)
            if not name:
                raise self.fail(f"[{tname}] name is required for a SQL source; add name = \"...\"")
            return DataSource(name=name, url=url, query=query)
        raise self.fail(f"[{tname}] needs either source = \"file.csv\" or url = ... and query = ...")


def parse_scalar(text: str) -> Any:
    """A `--param KEY=VALUE` value: a TOML scalar (1, 0.5, true, "x"), else a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(params: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    out = dict(params)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"parameter override {item!r} must look like KEY=VALUE",
                               field="param", example="C=0.5")
        out[key.strip()] = parse_scalar(value.strip())
    return out


def load_spec(path: str | Path, overrides: list[str] | None = None) -> TrainingSpec:
    spec_path = Path(path).expanduser().absolute()
    try:
        text = spec_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"spec file {spec_path} does not exist; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"spec file {spec_path} cannot be read: {exc}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"spec {spec_path} is not valid TOML: {exc}") from exc
    return parse_spec(spec_path, raw, overrides or [])


def parse_spec(spec_path: Path, raw: dict[str, Any], overrides: list[str]) -> TrainingSpec:
    r = _Reader(spec_path, raw)
    model = r.table("model")
    data = r.table("data")
    split = r.table("split", required=False)
    train = r.table("train")
    evaluate = r.table("evaluate", required=False)
    gate = r.table("gate", required=False)
    eval_data = r.table("eval_data", required=False)
    serve = r.table("serve", required=False)
    monitoring = r.table("monitoring", required=False)
    expectations = r.raw.get("expectations")

    name = r.get(model, "model", "name", str, required=True)
    if not name or "/" in name or name.strip() != name or len(name) > 100:
        raise r.fail(f"[model] name {name!r} must be 1-100 characters without '/' or outer spaces")
    task = r.get(model, "model", "task", str, required=True)
    if task not in TASKS:
        raise r.fail(f"[model] task {task!r} is not one of {', '.join(TASKS)}")

    target = r.get(data, "data", "target", str, required=True)
    features = r.get(data, "data", "features", list, required=True)
    if not features or not all(isinstance(f, str) and f for f in features):
        raise r.fail("[data] features must be a non-empty list of column names")
    if target in features:
        raise r.fail(f"[data] target {target!r} is also listed in features; remove it from features")
    if len(set(features)) != len(features):
        raise r.fail("[data] features lists a column twice")

    method = r.get(split, "split", "method", str, default="random")
    if method not in SPLIT_METHODS:
        raise r.fail(f"[split] method {method!r} is not one of {', '.join(SPLIT_METHODS)}")
    time_column = r.get(split, "split", "time_column", str, default=None)
    if method == "time" and not time_column and not eval_data:
        raise r.fail("[split] method = \"time\" needs time_column = \"...\"")
    fraction = r.get(split, "split", "test_fraction", float, default=0.25)
    if not 0.0 < fraction < 1.0:
        raise r.fail(f"[split] test_fraction {fraction} must be between 0 and 1")
    seed = r.get(split, "split", "seed", int, default=0)

    entry = r.get(train, "train", "entry_point", str, required=True)
    if ":" not in entry:
        raise r.fail(f"[train] entry_point {entry!r} must look like package.module:function")
    params = r.get(train, "train", "params", dict, default={})
    test_command = r.get(train, "train", "test_command", str, default="").strip()
    if test_command:
        import shlex

        try:
            shlex.split(test_command)
        except ValueError as exc:
            raise r.fail(f"[train] test_command cannot be split into words: {exc}") from None
    params = apply_overrides(params, overrides)

    default_metrics = ["roc_auc", "accuracy", "log_loss"] if task == "classification" else ["rmse", "mae", "r2"]
    metrics = r.get(evaluate, "evaluate", "metrics", list, default=default_metrics)
    unknown = [m for m in metrics if m not in KNOWN]
    if unknown:
        raise r.fail(f"[evaluate] metrics {unknown} are unknown; known: {', '.join(sorted(KNOWN))}")
    check_metrics_for_task(metrics, task, f"spec {spec_path} [evaluate]")

    gate_metric = r.get(gate, "gate", "metric", str, default=metrics[0])
    if gate_metric not in metrics:
        raise r.fail(f"[gate] metric {gate_metric!r} must be one of [evaluate] metrics {metrics}")
    policy = GatePolicy(
        metric=gate_metric,
        min=r.get(gate, "gate", "min", float, default=None),
        max=r.get(gate, "gate", "max", float, default=None),
        max_regression=r.get(gate, "gate", "max_regression", float, default=None),
    )
    tags = r.get(model, "model", "tags", list, default=[])
    from registry.signature import check_policy

    input_policy = {k: v for k, v in (serve or {}).items()}
    problem = check_policy(input_policy)
    if problem:
        raise r.fail(f"[serve] {problem}")
    from registry.monitoring_config import parse_monitoring

    monitoring_config = parse_monitoring(monitoring, list(features), str(spec_path), fail=r.fail)
    from registry.expectations import parse_expectations

    parsed = parse_expectations(expectations, r.fail) if expectations is not None else {}
    return TrainingSpec(
        path=str(spec_path),
        model_name=name,
        task=task,
        data=r.source(data, "data"),
        target=target,
        features=list(features),
        entry_point=entry,
        params=params,
        metrics=list(metrics),
        gate=policy,
        split_method=method,
        time_column=time_column,
        test_fraction=fraction,
        seed=seed,
        eval_data=r.source(eval_data, "eval_data") if eval_data else None,
        owner=r.get(model, "model", "owner", str, default=""),
        description=r.get(model, "model", "description", str, default=""),
        tags=[str(t) for t in tags],
        input_policy={str(k): str(v) for k, v in input_policy.items()},
        monitoring=monitoring_config,
        expectations=parsed,
        test_command=test_command,
    )
