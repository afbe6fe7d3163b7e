"""The registry from Python: register a fitted estimator, load it back, number versions safely."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from registry.registration import register_estimator
from registry.versions import load_model
from store.errors import InvalidInput, Refused


def _data(rows: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    return X, (X["a"] + rng.normal(scale=0.5, size=rows) > 0).astype(int)


def test_register_from_python_and_load_back(store) -> None:
    X, y = _data()
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    v = register_estimator(store, "forest", model, training_data=X, owner="ana",
                                   tags=["t"], metrics={"accuracy": 0.9})
    assert v["version"] == 1 and v["artifact"]["flavor"].endswith("RandomForestClassifier")
    assert [c["name"] for c in v["signature"]["columns"]] == ["a", "b"]
    assert v["params"]["n_estimators"] == 5
    loaded = load_model(store, "forest", "1")
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_versions_number_themselves_under_concurrency(store) -> None:
    X, y = _data()
    model = LogisticRegression().fit(X, y)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: register_estimator(store, "lr", model), range(8)))
    assert sorted(r["version"] for r in results) == list(range(1, 9))


def _double(values: np.ndarray) -> np.ndarray:
    return values * 2


def test_estimator_needing_untrusted_types_is_refused(store, tmp_path: Path) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = _data()
    model = make_pipeline(FunctionTransformer(func=_double), LogisticRegression()).fit(X, y)
    with pytest.raises(Refused, match="not on Watchkeeper's allow-list") as exc:
        register_estimator(store, "fn", model)
    assert "_double" in exc.value.message
    assert list((tmp_path / "store" / "artifacts").iterdir()) == []


def test_not_an_estimator(store) -> None:
    with pytest.raises(InvalidInput, match="not a fitted estimator"):
        register_estimator(store, "x", object())
