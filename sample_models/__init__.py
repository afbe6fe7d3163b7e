"""Realistic sample use cases with scripted drift, training specs and shipped data.

``USE_CASES`` lets other code (the demo builder, a traffic simulator) find them::

    from sample_models import USE_CASES
    case = USE_CASES["credit"]
    frame = case.generate(1000, start, seed=1, events=[...])
    spec_path = case.spec
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from sample_models.credit import generator as _credit
from sample_models.demand import generator as _demand
from sample_models.events import Event, FeatureSchema

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent


class Generator(Protocol):
    def __call__(
        self,
        n_rows: int,
        start: datetime,
        seed: int,
        events: Sequence[Event] = (),
        rows_per_hour: float = ...,
    ) -> pd.DataFrame: ...


@dataclass(frozen=True)
class UseCase:
    """One sample use case: where its spec and data are and how to make more rows."""

    name: str
    task: str  # "classification" or "regression"
    spec: Path  # the training spec (TOML)
    data: Path  # the shipped training CSV
    generate: Generator
    label_for: Callable[..., pd.Series]
    schema: FeatureSchema
    features: tuple[str, ...]
    target: str
    rows_per_hour: float


USE_CASES: MappingProxyType[str, UseCase] = MappingProxyType(
    {
        "credit": UseCase(
            name="credit",
            task="classification",
            spec=ROOT / "credit" / "spec.toml",
            data=ROOT / "credit" / "data" / "credit_train.csv",
            generate=_credit.generate,
            label_for=_credit.label_for,
            schema=_credit.SCHEMA,
            features=_credit.FEATURES,
            target=_credit.TARGET,
            rows_per_hour=_credit.DEFAULT_ROWS_PER_HOUR,
        ),
        "demand": UseCase(
            name="demand",
            task="regression",
            spec=ROOT / "demand" / "spec.toml",
            data=ROOT / "demand" / "data" / "demand_train.csv",
            generate=_demand.generate,
            label_for=_demand.label_for,
            schema=_demand.SCHEMA,
            features=_demand.FEATURES,
            target=_demand.TARGET,
            rows_per_hour=_demand.DEFAULT_ROWS_PER_HOUR,
        ),
    }
)

__all__ = ["USE_CASES", "Event", "UseCase"]
