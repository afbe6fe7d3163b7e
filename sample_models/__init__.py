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
from types import MappingProxyType, ModuleType
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


def _use_case(name: str, task: str, generator: ModuleType, data_file: str) -> UseCase:
    """A use case from its folder under sample_models/ and its generator module."""
    return UseCase(
        name=name,
        task=task,
        spec=ROOT / name / "spec.toml",
        data=ROOT / name / "data" / data_file,
        generate=generator.generate,
        label_for=generator.label_for,
        schema=generator.SCHEMA,
        features=generator.FEATURES,
        target=generator.TARGET,
        rows_per_hour=generator.DEFAULT_ROWS_PER_HOUR,
    )


USE_CASES: MappingProxyType[str, UseCase] = MappingProxyType({
    "credit": _use_case("credit", "classification", _credit, "credit_train.csv"),
    "demand": _use_case("demand", "regression", _demand, "demand_train.csv"),
})

__all__ = ["USE_CASES", "Event", "UseCase"]
