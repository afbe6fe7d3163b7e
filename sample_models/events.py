"""Scripted events that the sample generators inject into their streams.

An :class:`Event` is pure data: *what* happens to *which* feature from *when* on.
The generators (``sample_models.credit.generator``, ``sample_models.demand.generator``)
apply them to every row whose ``ts`` is at or after ``at``; rows before ``at`` are
identical to a stream generated without the event.

Kinds and the fields they use:

``covariate_drift``
    The input distribution changes, the label relation does not (labels are computed
    from the drifted values). Numeric feature: ``value * scale + shift``. Categorical
    feature: ``weights`` multiply the base probability of the named categories
    (unnamed ones keep weight 1) before renormalising.
``new_category``
    A categorical feature starts emitting ``category`` (never seen in training) on a
    ``share`` of the rows. ``effect`` is the category's contribution to the label
    (logit for credit, log-demand for demand); 0 means "like the reference category".
``concept_drift``
    The label relation changes: the feature's contribution to the logit / log-demand
    is multiplied by ``factor`` (-1 flips it, 2 doubles it). The inputs do not change.
``broken_column``
    An upstream column breaks after the labels were produced: ``mode="nulls"`` makes it
    all nulls, ``mode="scale"`` multiplies it by ``scale`` (default 1000, a units
    change), ``mode="fahrenheit"`` converts Celsius to Fahrenheit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

COVARIATE_DRIFT = "covariate_drift"
NEW_CATEGORY = "new_category"
CONCEPT_DRIFT = "concept_drift"
BROKEN_COLUMN = "broken_column"

EVENT_KINDS: tuple[str, ...] = (COVARIATE_DRIFT, NEW_CATEGORY, CONCEPT_DRIFT, BROKEN_COLUMN)
BROKEN_MODES: tuple[str, ...] = ("nulls", "scale", "fahrenheit")
DEFAULT_BROKEN_SCALE = 1000.0

# The kind-specific fields each kind may set (besides kind, at and feature).
KIND_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        COVARIATE_DRIFT: ("shift", "scale", "weights"),
        NEW_CATEGORY: ("category", "share", "effect"),
        CONCEPT_DRIFT: ("factor",),
        BROKEN_COLUMN: ("mode", "scale"),
    }
)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


@dataclass(frozen=True)
class Event:
    """One scripted change, effective for rows with ``ts >= at``."""

    kind: str
    at: datetime
    feature: str | None = None
    shift: float = 0.0
    scale: float | None = None
    weights: Mapping[str, float] | None = field(default=None, hash=False)
    category: str | None = None
    share: float = 0.1
    effect: float = 0.0
    factor: float = -1.0
    mode: str = "nulls"

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(
                f"unknown event kind {self.kind!r}; allowed kinds: {_allowed(EVENT_KINDS)}"
            )
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError(
                f"{self.kind} event: 'at' must be a timezone-aware datetime (UTC), "
                f"got {self.at!r}; use e.g. datetime(2026, 1, 20, tzinfo=UTC)"
            )
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        if not self.feature:
            raise ValueError(f"{self.kind} event needs a feature")
        self._check_unused_fields()
        if self.weights is not None:
            if not isinstance(self.weights, Mapping):
                raise ValueError(
                    f"{self.kind} event: weights must be a {{category: weight}} mapping, "
                    f"got {type(self.weights).__name__}"
                )
            object.__setattr__(
                self,
                "weights",
                MappingProxyType({str(k): float(v) for k, v in self.weights.items()}),
            )
        getattr(self, f"_check_{self.kind}")()

    # -- per-kind validation -------------------------------------------------

    def _check_unused_fields(self) -> None:
        used = KIND_FIELDS[self.kind]
        for f in dataclasses.fields(self):
            if f.name in ("kind", "at", "feature") or f.name in used:
                continue
            if getattr(self, f.name) != f.default:
                raise ValueError(
                    f"field {f.name!r} does not apply to a {self.kind} event; "
                    f"its fields are: feature, {', '.join(used)}"
                )

    def _check_covariate_drift(self) -> None:
        if self.weights is not None:
            if self.shift != 0.0 or self.scale is not None:
                raise ValueError(
                    "covariate_drift: give either weights (categorical feature) "
                    "or shift/scale (numeric feature), not both"
                )
            if not self.weights or any(
                not math.isfinite(w) or w < 0 for w in self.weights.values()
            ):
                raise ValueError(
                    "covariate_drift: weights must be a non-empty {category: weight} "
                    "mapping with finite weights >= 0"
                )
            return
        if not math.isfinite(self.shift) or (
            self.scale is not None and not math.isfinite(self.scale)
        ):
            raise ValueError("covariate_drift: shift and scale must be finite numbers")
        if self.shift == 0.0 and self.scale in (None, 1.0):
            raise ValueError(
                "covariate_drift: nothing changes; set shift, scale (numeric feature) "
                "or weights (categorical feature)"
            )

    def _check_new_category(self) -> None:
        if not self.category:
            raise ValueError("new_category event needs a category name")
        if not 0.0 < self.share < 1.0:
            raise ValueError(f"new_category: share must be in (0, 1), got {self.share}")
        if not math.isfinite(self.effect):
            raise ValueError("new_category: effect must be a finite number")

    def _check_concept_drift(self) -> None:
        if not math.isfinite(self.factor) or self.factor == 1.0:
            raise ValueError(
                f"concept_drift: factor must be a finite number other than 1, got {self.factor}"
            )

    def _check_broken_column(self) -> None:
        if self.mode not in BROKEN_MODES:
            raise ValueError(
                f"unknown broken_column mode {self.mode!r}; allowed modes: {_allowed(BROKEN_MODES)}"
            )
        if self.scale is not None and self.mode != "scale":
            raise ValueError("broken_column: scale only applies with mode='scale'")
        if self.scale is not None and (not math.isfinite(self.scale) or self.scale == 1.0):
            raise ValueError(
                f"broken_column: scale must be a finite number other than 1, got {self.scale}"
            )

    # -- helpers ---------------------------------------------------------------

    @property
    def numeric_scale(self) -> float:
        """The multiplier this event applies to a numeric column."""
        if self.scale is not None:
            return self.scale
        return DEFAULT_BROKEN_SCALE if self.kind == BROKEN_COLUMN else 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (non-default fields only), ``at`` as ISO-8601 UTC."""
        out: dict[str, Any] = {"kind": self.kind, "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        for f in dataclasses.fields(self):
            if f.name in ("kind", "at"):
                continue
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Build an event from plain data (e.g. a TOML table); ``at`` may be a string."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown event field(s) {', '.join(map(repr, unknown))}; "
                f"allowed fields: {_allowed(names)}"
            )
        missing = [name for name in ("kind", "at") if name not in data]
        if missing:
            raise ValueError(f"event is missing {' and '.join(map(repr, missing))}")
        values = dict(data)
        at = values.get("at")
        if isinstance(at, str):
            try:
                values["at"] = datetime.fromisoformat(at)
            except ValueError as exc:
                raise ValueError(f"event 'at' is not an ISO-8601 time: {at!r}") from exc
        return cls(**values)


# -- convenience constructors ------------------------------------------------------


def covariate_drift(
    at: datetime,
    feature: str,
    *,
    shift: float = 0.0,
    scale: float | None = None,
    weights: Mapping[str, float] | None = None,
) -> Event:
    return Event(COVARIATE_DRIFT, at, feature, shift=shift, scale=scale, weights=weights)


def new_category(
    at: datetime, feature: str, category: str, *, share: float = 0.1, effect: float = 0.0
) -> Event:
    return Event(NEW_CATEGORY, at, feature, category=category, share=share, effect=effect)


def concept_drift(at: datetime, feature: str, *, factor: float = -1.0) -> Event:
    return Event(CONCEPT_DRIFT, at, feature, factor=factor)


def broken_column(
    at: datetime, feature: str, *, mode: str = "nulls", scale: float | None = None
) -> Event:
    return Event(BROKEN_COLUMN, at, feature, mode=mode, scale=scale)


# -- validation against a use case's schema ------------------------------------------


@dataclass(frozen=True)
class FeatureSchema:
    """What a generator emits, so events can be checked against it.

    ``derived`` numeric features follow from ``ts`` (hour, weekday, holiday flag) or are
    flags; covariate drift cannot target them, the other kinds can.
    """

    use_case: str
    numeric: tuple[str, ...]
    categorical: Mapping[str, tuple[str, ...]] = field(hash=False)
    derived: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.derived, *self.categorical)


def validate_events(events: Sequence[Event], schema: FeatureSchema) -> tuple[Event, ...]:
    """Check every event against ``schema``; raise ValueError naming the problem."""
    checked: list[Event] = []
    for event in events:
        if not isinstance(event, Event):
            raise TypeError(f"expected an Event, got {type(event).__name__}: {event!r}")
        _validate_one(event, schema)
        checked.append(event)
    return tuple(checked)


def _validate_one(event: Event, schema: FeatureSchema) -> None:
    feature = event.feature
    name = schema.use_case
    if feature not in schema.features:
        raise ValueError(
            f"unknown feature {feature!r} for {name} {event.kind} event; "
            f"allowed features: {_allowed(schema.features)}"
        )
    categories = schema.categorical.get(feature) if feature is not None else None
    if event.kind == COVARIATE_DRIFT:
        allowed = (*schema.numeric, *schema.categorical)
        if feature not in allowed:
            raise ValueError(
                f"covariate_drift cannot target {feature!r} in {name} (it follows from ts "
                f"or is a flag); allowed features: {_allowed(allowed)}"
            )
        if categories is not None:
            if event.weights is None:
                raise ValueError(
                    f"covariate_drift on categorical feature {feature!r} needs "
                    f"weights={{category: weight}}; categories: {_allowed(categories)}"
                )
            unknown = sorted(set(event.weights) - set(categories))
            if unknown:
                raise ValueError(
                    f"unknown categor{'ies' if len(unknown) > 1 else 'y'} "
                    f"{', '.join(map(repr, unknown))} in covariate_drift weights for "
                    f"{feature!r}; allowed categories: {_allowed(categories)}"
                )
            if sum(event.weights.get(c, 1.0) for c in categories) <= 0:
                raise ValueError(f"covariate_drift weights for {feature!r} leave no category")
        elif event.weights is not None:
            raise ValueError(
                f"covariate_drift weights apply to categorical features; {feature!r} is "
                f"numeric, use shift/scale"
            )
    elif event.kind == NEW_CATEGORY:
        if categories is None:
            raise ValueError(
                f"new_category needs a categorical feature, {feature!r} is numeric; "
                f"allowed features: {_allowed(schema.categorical)}"
            )
        if event.category in categories:
            raise ValueError(
                f"new_category: {event.category!r} is already a category of {feature!r} "
                f"({_allowed(categories)}); pick an unseen name"
            )
    elif event.kind == BROKEN_COLUMN and event.mode != "nulls":
        numeric = (*schema.numeric, *schema.derived)
        if feature not in numeric:
            raise ValueError(
                f"broken_column mode {event.mode!r} needs a numeric feature, {feature!r} "
                f"is categorical; allowed features: {_allowed(numeric)}"
            )
