"""Loaded versions: the estimator (hash-checked, from skops), its input schema, and how
to feed it rows.

A model fitted on numeric columns takes a float array, which costs a fraction of
building a DataFrame per request; whether that gives the same answers is tried once at
load time on the version's input example, and a model that needs column names (a
ColumnTransformer, categoricals) gets a DataFrame.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from serving.scoring.outputs import format_classes_only, format_classification, format_regression
from serving.scoring.validation import Schema

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

# A model fitted on a DataFrame warns when given the equivalent array; the array path is
# only taken after checking the answers agree, so the warning says nothing here.
warnings.filterwarnings("ignore", message="X does not have valid feature names")


class ScoringError(Exception):
    """The model raised on these rows (reported to the client as a 4xx with the reason)."""


@dataclass(frozen=True)
class VersionInfo:
    """What the registry says about a version to serve (store.deployments.version_details)."""

    model_id: int
    model: str
    version_id: int
    version: int
    sha256: str
    signature: dict[str, Any] | None
    input_example: list[dict[str, Any]] | None


@dataclass
class LoadedVersion:
    info: VersionInfo
    estimator: Any
    schema: Schema
    use_frame: bool
    classes: list[Any] | None
    has_proba: bool
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model(self) -> str:
        return self.info.model

    @property
    def version(self) -> int:
        return self.info.version

    @property
    def version_id(self) -> int:
        return self.info.version_id

    @property
    def model_id(self) -> int:
        return self.info.model_id

    @property
    def task(self) -> str:
        return "classification" if self.classes is not None else "regression"

    def make_input(self, values: list[list[Any]]) -> Any:
        if self.use_frame:
            import pandas as pd

            return pd.DataFrame(values, columns=list(self.schema.names))
        return np.asarray(values, dtype=float)

    def predict(self, values: list[list[Any]]) -> tuple[list[dict[str, Any] | None], list[float | None]]:
        """Outputs (None where not finite) and scores for rows already validated."""
        return self._score(lambda: self.make_input(values))

    def predict_frame(self, clean: Any) -> tuple[list[dict[str, Any] | None], list[float | None]]:
        """The same for a checked DataFrame (batch scoring: serving/frame_validation.py)."""
        names = list(self.schema.names)
        return self._score(lambda: clean[names] if self.use_frame else clean[names].to_numpy(dtype=float))

    def raw_frame(self, clean: Any) -> np.ndarray:
        """The model's raw answers for a checked DataFrame: class probabilities (rows x
        classes), predicted classes, or values; batch scoring formats them column-wise."""
        names = list(self.schema.names)
        try:
            features = clean[names] if self.use_frame else clean[names].to_numpy(dtype=float)
            if self.classes is not None and self.has_proba:
                return np.asarray(self.estimator.predict_proba(features), dtype=float)
            return np.asarray(self.estimator.predict(features))
        except Exception as exc:
            raise ScoringError(f"the model could not score the rows: {type(exc).__name__}: "
                               f"{str(exc)[:300]}") from exc

    def _score(self, features_of: Any) -> tuple[list[dict[str, Any] | None], list[float | None]]:
        try:
            features = features_of()
            if self.classes is not None and self.has_proba:
                return format_classification(self.classes, np.asarray(self.estimator.predict_proba(features)))
            predicted = np.asarray(self.estimator.predict(features))
            if self.classes is not None:
                return format_classes_only(predicted)
            return format_regression(predicted)
        except Exception as exc:  # the model refused these inputs
            raise ScoringError(f"the model could not score the rows: {type(exc).__name__}: "
                               f"{str(exc)[:300]}") from exc


def _classes(estimator: Any) -> list[Any] | None:
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    return [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes).tolist()]


def _array_path_agrees(loaded: LoadedVersion) -> bool:
    """Do the array and the DataFrame give the same answers on the input example?"""
    example = loaded.info.input_example or []
    if not example or not loaded.schema.all_numeric:
        return False
    values = []
    for i, row in enumerate(example):
        checked, errors = loaded.schema.check_row(row, i)
        if errors or checked is None:
            return False
        values.append(checked)
    try:
        loaded.use_frame = True
        with_frame = loaded.predict(values)
        loaded.use_frame = False
        with_array = loaded.predict(values)
    except ScoringError:
        return False
    finally:
        loaded.use_frame = True
    return _same_answers(with_frame, with_array)


def _same_answers(a: tuple[list[Any], list[Any]], b: tuple[list[Any], list[Any]]) -> bool:
    """Equal classes, and scores equal to floating-point noise (int and float columns
    can round differently in the last bit)."""
    (out_a, score_a), (out_b, score_b) = a, b
    if [o and o.get("class") for o in out_a] != [o and o.get("class") for o in out_b]:
        return False
    if any((x is None) != (y is None) for x, y in zip(score_a, score_b, strict=True)):
        return False
    pairs = [(x, y) for x, y in zip(score_a, score_b, strict=True) if x is not None]
    return all(abs(x - y) <= 1e-9 * max(1.0, abs(x)) for x, y in pairs)


def load_version(store: Store, info: VersionInfo) -> LoadedVersion:
    """Read the artifact (sha256 checked against the registry), load it with skops."""
    estimator = store.artifacts.load(info.sha256)
    classes = _classes(estimator)
    loaded = LoadedVersion(
        info=info, estimator=estimator, schema=Schema.from_signature(info.signature),
        use_frame=True, classes=classes, has_proba=hasattr(estimator, "predict_proba"),
    )
    if not loaded.schema.columns:
        names = getattr(estimator, "feature_names_in_", None)
        if names is None:
            from store.errors import InvalidInput

            raise InvalidInput(
                f"{info.model} v{info.version} has no input signature and its estimator does not "
                "record feature names; register it with its training data so serving can check inputs",
                field="data")
        loaded.schema = Schema.from_signature(
            {"columns": [{"name": str(n), "kind": "unknown", "nullable": True} for n in names]})
    loaded.use_frame = not _array_path_agrees(loaded)
    log.info("loaded %s v%s (%s input)", info.model, info.version,
             "DataFrame" if loaded.use_frame else "array")
    return loaded


class ModelCache:
    """Loaded versions by id; a version is loaded once and its file checked on load.
    With `measure_memory` (the server's), each load's memory is measured and recorded in
    the store off the caller's path (serving/scoring/load_memory.py)."""

    def __init__(self, store: Store, *, measure_memory: bool = False) -> None:
        self.store = store
        self.measure_memory = measure_memory
        self._by_id: dict[int, LoadedVersion] = {}
        self._lock = threading.Lock()
        self.recorders: list[threading.Thread] = []  # the memory writes started (for tests)

    def get(self, info: VersionInfo) -> LoadedVersion:
        with self._lock:
            hit = self._by_id.get(info.version_id)
        if hit is not None and hit.info.sha256 == info.sha256:
            return hit
        if self.measure_memory:
            from serving.scoring.load_memory import measured_load, record_in_background

            loaded, nbytes = measured_load(lambda: load_version(self.store, info))
            self.recorders = [t for t in self.recorders if t.is_alive()]
            self.recorders.append(record_in_background(self.store, info.version_id,
                                                       loaded.estimator, nbytes))
        else:
            loaded = load_version(self.store, info)
        with self._lock:
            self._by_id[info.version_id] = loaded
        return loaded

    def keep_only(self, version_ids: set[int]) -> None:
        with self._lock:
            for vid in list(self._by_id):
                if vid not in version_ids:
                    del self._by_id[vid]
