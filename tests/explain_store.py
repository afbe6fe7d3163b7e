"""A store with both sample models registered from their shipped training data (a few
hundred rows, fewer boosting rounds for demand: fast), each promoted to production, so
`wk predict` logs predictions that `wk explain` replays. Built once per process and
copied, as tests/serving_store.py does."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pandas as pd

#: sample model -> the name it is registered under, and the training params used
MODELS = {"credit": ("credit", {"C": 1.0, "l1_ratio": 1.0, "max_iter": 1000, "class_weight": "none"}),
          "demand": ("demand", {"loss": "poisson", "learning_rate": 0.1, "max_iter": 60,
                                "max_leaf_nodes": 31, "max_depth": 3, "min_samples_leaf": 20,
                                "l2_regularization": 0.0})}
TRAIN_ROWS = 800

_BUILT: list[Path] = []


def training_frame(case_name: str) -> tuple[pd.DataFrame, pd.Series]:
    from sample_models import USE_CASES

    case = USE_CASES[case_name]
    frame = pd.read_csv(case.data).head(TRAIN_ROWS)
    return frame[list(case.features)], frame[case.target]


def build_explain_store(root: Path) -> Path:
    """Both sample models at `root` (which must not exist yet); returns `root`."""
    if not _BUILT:
        template = Path(tempfile.mkdtemp(prefix="wk-explain-store-")) / "store"
        atexit.register(shutil.rmtree, template.parent, True)
        _build(template)
        _BUILT.append(template)
    shutil.copytree(_BUILT[0], root)
    return root


def _build(root: Path) -> None:
    import importlib

    from registry.aliases import promote
    from registry.registration import register_estimator
    from store.handle import init_store

    store, _ = init_store(root)
    try:
        for case_name, (name, params) in MODELS.items():
            X, y = training_frame(case_name)
            train = importlib.import_module(f"sample_models.{case_name}.train").train
            register_estimator(store, name, train(X, y, params), training_data=X)
            promote(store, name, 1, "production", reason="tests")
    finally:
        store.close()


def rows_of(case_name: str, start: int = TRAIN_ROWS, count: int = 5) -> list[dict[str, object]]:
    """Rows the model was not trained on, as JSON objects (NaN as null)."""
    from sample_models import USE_CASES

    case = USE_CASES[case_name]
    frame = pd.read_csv(case.data).iloc[start:start + count][list(case.features)]
    return [{k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
            for r in frame.to_dict("records")]
