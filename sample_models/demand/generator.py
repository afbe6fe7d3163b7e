"""Hourly store demand: units sold per store-region and hour.

A regular time grid (``rows_per_hour`` rows per hour, each for a randomly drawn store
region) with weather, calendar and promotion inputs and the ground-truth ``demand``
from a log-linear relation (daily and weekly seasonality, temperature, humidity,
holiday and promotion effects) times log-normal noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType

import numpy as np
import pandas as pd

from sample_models import _common
from sample_models.events import Event, FeatureSchema, validate_events

TARGET = "demand"
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
NUMERIC: tuple[str, ...] = ("temperature", "humidity")
DERIVED: tuple[str, ...] = ("hour", "weekday", "is_holiday", "promo")
CATEGORICAL: tuple[str, ...] = ("store_region",)
FEATURES: tuple[str, ...] = (
    "hour",
    "weekday",
    "temperature",
    "humidity",
    "is_holiday",
    "promo",
    "store_region",
)
COLUMNS: tuple[str, ...] = ("ts", *FEATURES, TARGET)
SCHEMA = FeatureSchema(
    use_case="demand",
    numeric=NUMERIC,
    categorical=MappingProxyType({"store_region": REGIONS}),
    derived=DERIVED,
)
DEFAULT_ROWS_PER_HOUR = 4.0

_REGION_P = np.array([0.30, 0.25, 0.25, 0.20])
_REGION_TEMP_OFFSET = np.array([-3.0, 4.0, 0.0, 1.5])
_PROMO_RATE = 0.15
# Ground truth, in log-demand.
_LOG_BASE = np.log(100.0)
_REGION_EFFECT = MappingProxyType(
    {
        name: float(np.log(v / 100.0))
        for name, v in zip(REGIONS, (120.0, 100.0, 150.0, 80.0), strict=True)
    }
)
_HOUR_EFFECT = np.array(
    [
        -1.6, -1.9, -2.0, -2.0, -1.8, -1.3,  # 00-05
        -0.6, -0.1, 0.1, 0.15, 0.2, 0.3,  # 06-11
        0.45, 0.4, 0.2, 0.15, 0.3, 0.5,  # 12-17
        0.55, 0.4, 0.1, -0.2, -0.6, -1.1,  # 18-23
    ]
)  # fmt: skip
_WEEKDAY_EFFECT = np.array([-0.08, -0.10, -0.05, 0.0, 0.12, 0.25, 0.10])  # Mon..Sun
_TEMP_COEF = 0.03  # per degree Celsius above 10
_HUMIDITY_COEF = -0.004  # per percentage point above 70
_HOLIDAY_EFFECT = 0.35
_PROMO_EFFECT = 0.25
_NOISE_SD = 0.10
_DECIMALS = MappingProxyType({"temperature": 1, "humidity": 0, "hour": 1, "weekday": 1})


def is_holiday(day: date) -> bool:
    """A fixed, US-style public holiday calendar (works for any year)."""
    if (day.month, day.day) in {(1, 1), (7, 4), (12, 25), (12, 26)}:
        return True
    nth_weekday = (day.day - 1) // 7 + 1  # 1 = first such weekday of the month
    last_of_month = (day + timedelta(days=7)).month != day.month
    monday, thursday = 0, 3
    return (
        (day.month in (1, 2) and day.weekday() == monday and nth_weekday == 3)
        or (day.month == 5 and day.weekday() == monday and last_of_month)
        or (day.month == 9 and day.weekday() == monday and nth_weekday == 1)
        or (day.month == 11 and day.weekday() == thursday and nth_weekday == 4)
    )


def generate(
    n_rows: int,
    start: datetime,
    seed: int,
    events: Sequence[Event] = (),
    rows_per_hour: float = DEFAULT_ROWS_PER_HOUR,
) -> pd.DataFrame:
    """``n_rows`` region-hour observations, evenly spaced from ``start`` on.

    Columns: ts (UTC, strictly increasing), hour, weekday (0 = Monday), temperature
    (Celsius), humidity (%), is_holiday, promo, store_region, demand (>= 0).
    ``hour``/``weekday`` treat ``ts`` as store-local time. The same arguments always
    give the same frame; events change only rows with ``ts >= event.at``.
    """
    _common.check_size(n_rows, rows_per_hour)
    t0 = _common.utc_start(start)
    events = validate_events(events, SCHEMA)
    rng = np.random.default_rng(seed)
    n = n_rows

    offsets = np.round(np.arange(n) * (3600.0 / rows_per_hour))
    ts = _common.timestamps(t0, offsets)
    day_index = np.asarray((ts.normalize() - t0.normalize()).days, dtype=np.int64)
    n_days = int(day_index[-1]) + 1 if n else 0

    # All random draws up front, in a fixed order, independent of the events.
    u_region, u_region_new = rng.random((2, n))
    z_temp, z_humidity, z_noise = rng.standard_normal((3, n))
    day_anomaly = 2.5 * rng.standard_normal(n_days)
    promo_table = rng.random((n_days, len(REGIONS))) < _PROMO_RATE
    u_promo_new = rng.random(n)

    hour = np.asarray(ts.hour, dtype=np.int64)
    weekday = np.asarray(ts.day_of_week, dtype=np.int64)
    holiday = np.array([is_holiday(d) for d in ts.date], dtype=np.int64)
    region = _common.draw_categorical(
        "store_region", REGIONS, _REGION_P, u_region, u_region_new, ts, events
    )
    known = np.isin(region, REGIONS)
    region_idx = np.array([REGIONS.index(r) if r in REGIONS else 0 for r in region], dtype=np.int64)
    promo = np.where(
        known,
        promo_table[day_index, region_idx] if n else np.zeros(0, bool),
        u_promo_new < _PROMO_RATE,
    ).astype(np.int64)

    day_of_year = np.asarray(ts.day_of_year, dtype=float)
    seasonal = 12.0 - 10.0 * np.cos(2.0 * np.pi * (day_of_year - 15.0) / 365.25)
    daily = np.sin(2.0 * np.pi * (hour - 9.0) / 24.0)  # peaks mid-afternoon
    temperature = (
        seasonal
        + 4.0 * daily
        + np.where(known, _REGION_TEMP_OFFSET[region_idx], 0.0)
        + (day_anomaly[day_index] if n else 0.0)
        + 1.2 * z_temp
    )
    humidity = np.clip(72.0 - 10.0 * daily + 8.0 * z_humidity, 15.0, 100.0)
    temperature = _common.apply_numeric_drift("temperature", temperature, ts, events)
    humidity = _common.apply_numeric_drift("humidity", humidity, ts, events)

    frame = pd.DataFrame(
        {
            "ts": ts,
            "hour": hour,
            "weekday": weekday,
            "temperature": np.round(temperature, 1),
            "humidity": np.round(np.clip(humidity, 0.0, 100.0), 0),
            "is_holiday": holiday,
            "promo": promo,
            "store_region": region,
        }
    )
    log_demand = _log_demand(frame, events) + _NOISE_SD * z_noise
    frame[TARGET] = np.round(np.exp(log_demand), 1)
    frame = _common.apply_broken_columns(frame, events, _DECIMALS)
    return frame.loc[:, list(COLUMNS)]


def expected_demand(features: pd.DataFrame, events: Sequence[Event] = ()) -> np.ndarray:
    """Median demand given the (true, unbroken) features and ``ts``, without noise.

    Concept drift events apply to rows at or after their time.
    """
    events = validate_events(events, SCHEMA)
    return np.exp(_log_demand(features, events))


def label_for(features: pd.DataFrame, seed: int, events: Sequence[Event] = ()) -> pd.Series:
    """Draw ground-truth ``demand`` for given feature rows (with ``ts``), seeded by ``seed``."""
    events = validate_events(events, SCHEMA)
    z_noise = np.random.default_rng(seed).standard_normal(len(features))
    values = np.round(np.exp(_log_demand(features, events) + _NOISE_SD * z_noise), 1)
    return pd.Series(values, index=features.index, name=TARGET)


def _log_demand(features: pd.DataFrame, events: Sequence[Event]) -> np.ndarray:
    ts = pd.DatetimeIndex(features["ts"])
    hour = features["hour"].to_numpy(dtype=np.int64) % 24
    weekday = features["weekday"].to_numpy(dtype=np.int64) % 7
    contributions = {
        "hour": _HOUR_EFFECT[hour],
        "weekday": _WEEKDAY_EFFECT[weekday],
        "temperature": _TEMP_COEF * (features["temperature"].to_numpy(dtype=float) - 10.0),
        "humidity": _HUMIDITY_COEF * (features["humidity"].to_numpy(dtype=float) - 70.0),
        "is_holiday": _HOLIDAY_EFFECT * features["is_holiday"].to_numpy(dtype=float),
        "promo": _PROMO_EFFECT * features["promo"].to_numpy(dtype=float),
        "store_region": _common.category_effects(
            "store_region", _REGION_EFFECT, features["store_region"].to_numpy(), events
        ),
    }
    return _common.linear_predictor(_LOG_BASE, contributions, ts, events)
