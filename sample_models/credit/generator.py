"""Credit applications: will the applicant default within a year?

A time-ordered stream of loan applications (Poisson arrivals) with the binary ground
truth ``default`` drawn from a logistic relation plus unobserved-risk noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

import numpy as np
import pandas as pd

from sample_models import _common
from sample_models.events import Event, FeatureSchema, validate_events

TARGET = "default"
EMPLOYMENT_TYPES: tuple[str, ...] = (
    "salaried",
    "self_employed",
    "contractor",
    "unemployed",
    "retired",
)
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
NUMERIC: tuple[str, ...] = (
    "income",
    "age",
    "debt_ratio",
    "credit_history_months",
    "n_open_loans",
)
CATEGORICAL: tuple[str, ...] = ("employment_type", "region")
FEATURES: tuple[str, ...] = (*NUMERIC, *CATEGORICAL)
COLUMNS: tuple[str, ...] = ("ts", *FEATURES, TARGET)
SCHEMA = FeatureSchema(
    use_case="credit",
    numeric=NUMERIC,
    categorical=MappingProxyType({"employment_type": EMPLOYMENT_TYPES, "region": REGIONS}),
)
DEFAULT_ROWS_PER_HOUR = 10.0

_EMPLOYMENT_P = np.array([0.58, 0.12, 0.10, 0.06, 0.14])
_REGION_P = np.array([0.30, 0.25, 0.25, 0.20])
# log-income median and spread per employment type
_INCOME_MU = np.log(np.array([52_000.0, 48_000.0, 58_000.0, 11_000.0, 30_000.0]))
_INCOME_SIGMA = np.array([0.45, 0.70, 0.55, 0.50, 0.40])

# Ground truth: contributions to the default logit.
_INTERCEPT = -2.15
_LATENT_NOISE_SD = 0.5
_EMPLOYMENT_EFFECT = MappingProxyType(
    {
        "salaried": 0.0,
        "self_employed": 0.35,
        "contractor": 0.25,
        "unemployed": 1.1,
        "retired": -0.15,
    }
)
_REGION_EFFECT = MappingProxyType({"north": 0.0, "south": 0.2, "east": -0.1, "west": 0.05})
_DECIMALS = MappingProxyType({"income": 0, "debt_ratio": 3, "age": 1, "credit_history_months": 1})


def generate(
    n_rows: int,
    start: datetime,
    seed: int,
    events: Sequence[Event] = (),
    rows_per_hour: float = DEFAULT_ROWS_PER_HOUR,
) -> pd.DataFrame:
    """``n_rows`` applications from ``start`` on, ``rows_per_hour`` on average.

    Columns: ts (UTC, strictly increasing), income, age, debt_ratio,
    credit_history_months, n_open_loans, employment_type, region, default (0/1).
    The same arguments always give the same frame; events change only rows with
    ``ts >= event.at``.
    """
    _common.check_size(n_rows, rows_per_hour)
    t0 = _common.utc_start(start)
    events = validate_events(events, SCHEMA)
    rng = np.random.default_rng(seed)
    n = n_rows

    # All random draws up front, in a fixed order, independent of the events.
    gaps = np.maximum(1.0, np.ceil(rng.exponential(3600.0 / rows_per_hour, n)))
    u_emp, u_emp_new, u_region, u_region_new = rng.random((4, n))
    z_age, z_income = rng.standard_normal((2, n))
    u_history, u_loans = rng.random((2, n))
    g_debt = rng.gamma(2.0, 0.17, n)
    z_latent = rng.standard_normal(n)
    u_label = rng.random(n)

    offsets = np.concatenate([[0.0], np.cumsum(gaps)[:-1]]) if n else np.zeros(0)
    ts = _common.timestamps(t0, offsets)

    employment = _common.draw_categorical(
        "employment_type", EMPLOYMENT_TYPES, _EMPLOYMENT_P, u_emp, u_emp_new, ts, events
    )
    region = _common.draw_categorical(
        "region", REGIONS, _REGION_P, u_region, u_region_new, ts, events
    )
    emp_idx = _employment_index(employment)
    retired = employment == "retired"

    age = np.where(retired, 68.0 + 6.0 * z_age, 40.0 + 11.0 * z_age)
    age = np.clip(np.round(age), np.where(retired, 58, 21), np.where(retired, 92, 70))
    income = np.exp(
        _INCOME_MU[emp_idx]
        + _INCOME_SIGMA[emp_idx] * z_income
        + np.where(retired, 0.0, 0.012 * (age - 40.0))
    )
    history = np.floor((age - 18.0) * 12.0 * (0.2 + 0.8 * u_history))
    debt = np.clip(g_debt * (50_000.0 / income) ** 0.25, 0.0, 2.5)
    loans = _common.poisson_quantile(u_loans, 0.6 + 2.2 * debt)

    columns: dict[str, np.ndarray] = {
        "income": income,
        "age": age,
        "debt_ratio": debt,
        "credit_history_months": history,
        "n_open_loans": loans,
    }
    for name, values in columns.items():
        columns[name] = _common.apply_numeric_drift(name, values, ts, events)
    frame = pd.DataFrame(
        {
            "ts": ts,
            "income": np.round(np.maximum(columns["income"], 0.0), 0),
            "age": np.clip(np.round(columns["age"]), 18, 110).astype(np.int64),
            "debt_ratio": np.round(np.maximum(columns["debt_ratio"], 0.0), 3),
            "credit_history_months": np.maximum(
                np.round(columns["credit_history_months"]), 0
            ).astype(np.int64),
            "n_open_loans": np.maximum(np.round(columns["n_open_loans"]), 0).astype(np.int64),
            "employment_type": employment,
            "region": region,
        }
    )
    logit = _logit(frame, events) + _LATENT_NOISE_SD * z_latent
    frame[TARGET] = (u_label < _sigmoid(logit)).astype(np.int64)
    frame = _common.apply_broken_columns(frame, events, _DECIMALS)
    return frame.loc[:, list(COLUMNS)]


def default_probability(features: pd.DataFrame, events: Sequence[Event] = ()) -> np.ndarray:
    """Probability of default given the (true, unbroken) features and ``ts``.

    This is the ground-truth relation without the unobserved-risk noise; concept drift
    events apply to rows at or after their time.
    """
    events = validate_events(events, SCHEMA)
    return _sigmoid(_logit(features, events))


def label_for(features: pd.DataFrame, seed: int, events: Sequence[Event] = ()) -> pd.Series:
    """Draw ground-truth ``default`` labels for given feature rows (with ``ts``).

    For simulators that build their own rows: the same process ``generate`` uses
    (logit, unobserved-risk noise, Bernoulli draw), seeded by ``seed``.
    """
    events = validate_events(events, SCHEMA)
    rng = np.random.default_rng(seed)
    z_latent = rng.standard_normal(len(features))
    u_label = rng.random(len(features))
    p = _sigmoid(_logit(features, events) + _LATENT_NOISE_SD * z_latent)
    return pd.Series((u_label < p).astype(np.int64), index=features.index, name=TARGET)


def _logit(features: pd.DataFrame, events: Sequence[Event]) -> np.ndarray:
    ts = pd.DatetimeIndex(features["ts"])
    f = {name: features[name].to_numpy(dtype=float) for name in NUMERIC}
    age = f["age"] - 40.0
    contributions = {
        "income": -0.85 * (np.log(np.maximum(f["income"], 1.0)) - np.log(45_000.0)),
        "age": -0.025 * age + 0.0008 * age**2,
        "debt_ratio": 2.4 * (f["debt_ratio"] - 0.35),
        "credit_history_months": -0.45
        * (np.log1p(np.maximum(f["credit_history_months"], 0.0)) - np.log1p(120.0)),
        "n_open_loans": 0.22 * (f["n_open_loans"] - 2.0),
        "employment_type": _common.category_effects(
            "employment_type", _EMPLOYMENT_EFFECT, features["employment_type"].to_numpy(), events
        ),
        "region": _common.category_effects(
            "region", _REGION_EFFECT, features["region"].to_numpy(), events
        ),
    }
    return _common.linear_predictor(_INTERCEPT, contributions, ts, events)


def _employment_index(employment: np.ndarray) -> np.ndarray:
    """Index into the per-type tables; unseen (new) types behave like contractors."""
    lookup = {name: i for i, name in enumerate(EMPLOYMENT_TYPES)}
    return np.array([lookup.get(v, 2) for v in employment], dtype=np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
