"""Output guardrails (pure): what a sane answer of a deployment is, and the check of each
answer against it. No database here; the config is validated by `parse` and stored as
`deployment.guardrails` (serving.traffic.guardrails_config), the server keeps one `Guard`
per model (serving.traffic.state), and the scoring core applies its verdicts
(serving.scoring.core).

The stored config, every key but `action` optional (at least one guardrail):

    {"range": [lo, hi],          # a regressor's value; either bound may be null
     "max_class_share": 0.9,     # no class above this share of the last `window` answers
     "window": 200,              # answers the share is taken over (default 200)
     "min_confidence": 0.6,      # a classifier's top probability at least this
     "action": "withhold"}       # withhold | champion | alert

A guardrail that does not apply to an answer (a range on a class, a confidence on a
classifier without probabilities) is not checked. The class share is judged once the
window is full: over the first few answers any class is "all of them".
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from store.errors import InvalidInput


class Action(StrEnum):
    """What the deployment does with an answer outside its guardrails."""

    WITHHOLD = "withhold"  # the request is answered 422; the rows are logged, flagged
    CHAMPION = "champion"  # a challenger's row is answered by the champion instead
    ALERT = "alert"  # answered as usual, only flagged (an alert rule counts them)


ACTIONS = tuple(Action)
KEYS = ("range", "max_class_share", "window", "min_confidence", "action")
DEFAULT_WINDOW = 200
MIN_WINDOW, MAX_WINDOW = 10, 100_000

#: How a flagged log row's `guardrail` text begins: what was done with the answer.
WITHHELD = "withheld"
REPLACED = "replaced by the champion"
FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class Guardrails:
    action: Action
    low: float | None = None
    high: float | None = None
    max_class_share: float | None = None
    window: int = DEFAULT_WINDOW
    min_confidence: float | None = None

    @property
    def has_range(self) -> bool:
        return self.low is not None or self.high is not None

    def as_json(self) -> dict[str, Any]:
        """The stored form (what `parse` reads back)."""
        out: dict[str, Any] = {}
        if self.has_range:
            out["range"] = [self.low, self.high]
        if self.max_class_share is not None:
            out["max_class_share"] = self.max_class_share
            out["window"] = self.window
        if self.min_confidence is not None:
            out["min_confidence"] = self.min_confidence
        out["action"] = str(self.action)
        return out

    def describe(self) -> str:
        """One line: the guardrails and the action."""
        parts = []
        if self.has_range:
            parts.append(f"range {_bound(self.low)}..{_bound(self.high)}")
        if self.max_class_share is not None:
            parts.append(f"no class above {self.max_class_share:.0%} of the last {self.window} answers")
        if self.min_confidence is not None:
            parts.append(f"top probability at least {self.min_confidence:g}")
        return f"{', '.join(parts)}; action {self.action}"


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _number(value: Any, field: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"guardrail {field}: {what} must be a finite number, not {value!r}",
                           field=field, example=None if field == "range" else "0.9")
    return float(value)


def _share(raw: Mapping[str, Any], field: str) -> float | None:
    if raw.get(field) is None:
        return None
    value = _number(raw[field], field, "the share")
    if not 0.0 < value <= 1.0:
        raise InvalidInput(f"guardrail {field} {value:g} is outside (0, 1]; give a fraction, e.g. 0.9 for 90%",
                           field=field, example="0.9")
    return value


def parse(raw: Mapping[str, Any]) -> Guardrails:
    """A config (as stored, or as given to set) checked: InvalidInput names the key at
    fault and how to fix it."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"guardrails must be an object with keys {', '.join(KEYS)}, not {type(raw).__name__}",
                           field="guardrails")
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        raise InvalidInput(f"unknown guardrail key(s) {', '.join(unknown)}; the keys are {', '.join(KEYS)}",
                           field=unknown[0])
    action = raw.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"guardrail action {action!r} is not one of {', '.join(ACTIONS)} (what to do with "
                           "an answer outside the guardrails)", field="action", example="withhold")
    low = high = None
    if raw.get("range") is not None:
        bounds = raw["range"]
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise InvalidInput(f"guardrail range must be two bounds [low, high] (either may be null), not {bounds!r}",
                               field="range")
        low = None if bounds[0] is None else _number(bounds[0], "range", "the low bound")
        high = None if bounds[1] is None else _number(bounds[1], "range", "the high bound")
        if low is None and high is None:
            raise InvalidInput("guardrail range has neither bound; give at least one", field="range")
        if low is not None and high is not None and low > high:
            raise InvalidInput(f"guardrail range [{low:g}, {high:g}] has its low bound above its high bound; "
                               "swap them", field="range")
    share = _share(raw, "max_class_share")
    confidence = _share(raw, "min_confidence")
    window = DEFAULT_WINDOW
    if raw.get("window") is not None:
        given = raw["window"]
        if share is None:
            raise InvalidInput("guardrail window is the number of answers max_class_share is taken over; "
                               "give max_class_share with it, or leave it out", field="window")
        if isinstance(given, bool) or not isinstance(given, int) or not MIN_WINDOW <= given <= MAX_WINDOW:
            raise InvalidInput(f"guardrail window {given!r} must be a whole number of answers from {MIN_WINDOW} "
                               f"to {MAX_WINDOW}", field="window", example=str(DEFAULT_WINDOW))
        window = given
    rails = Guardrails(Action(action), low, high, share, window, confidence)
    if not (rails.has_range or share is not None or confidence is not None):
        raise InvalidInput("guardrails need at least one of range, max_class_share and min_confidence",
                           field="range")
    return rails


def check_answer(rails: Guardrails, output: Mapping[str, Any]) -> str | None:
    """The stateless guardrails (range, confidence) on one answer: why it is outside, or None."""
    value = output.get("value")
    if value is not None and rails.has_range:
        if rails.low is not None and value < rails.low:
            return f"range: value {value:g} is below the minimum {rails.low:g}"
        if rails.high is not None and value > rails.high:
            return f"range: value {value:g} is above the maximum {rails.high:g}"
    if rails.min_confidence is not None:
        probabilities = output.get("probabilities")
        if probabilities:
            top = max(probabilities.values())
            if top < rails.min_confidence:
                return f"min_confidence: top probability {top:.3g} is below {rails.min_confidence:g}"
    return None


class ClassWindow:
    """The classes of the last `size` answers of a model, with their counts (thread-safe:
    the champion's and the challenger's predictor threads both add to it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._recent: deque[Any] = deque()
        self._counts: dict[Any, int] = {}  # a plain dict: half the time of a Counter here
        self._lock = threading.Lock()

    def add(self, label: Any) -> float | None:
        """Add an answer's class; its share of the window once the window is full, else None."""
        counts, recent = self._counts, self._recent
        with self._lock:
            recent.append(label)
            counts[label] = counts.get(label, 0) + 1
            if len(recent) > self.size:
                old = recent.popleft()
                left = counts[old] - 1
                if left:
                    counts[old] = left
                else:
                    del counts[old]
            if len(recent) < self.size:
                return None
            return counts[label] / self.size


class Guard:
    """A model's guardrails in the serving process: the config and its class window."""

    def __init__(self, rails: Guardrails) -> None:
        self.rails = rails
        self.window = ClassWindow(rails.window) if rails.max_class_share is not None else None

    def check(self, outputs: list[dict[str, Any]], *, counts: bool = True) -> list[str | None] | None:
        """Per answer why it is outside the guardrails (None where fine), or None when all
        are fine. `counts`: the answers enter the class window (False for a shadow's
        answers and the champion's stand-in answers, which would count a request twice)."""
        rails, window = self.rails, self.window
        reasons: list[str | None] | None = None
        for i, output in enumerate(outputs):
            reason = check_answer(rails, output)
            if window is not None and counts and "class" in output:
                share = window.add(output["class"])
                if reason is None and share is not None and share > (rails.max_class_share or 1.0):
                    reason = (f"max_class_share: class {output['class']!r} is {share:.1%} of the last "
                              f"{window.size} answers (above {rails.max_class_share:.0%})")
            if reason is not None:
                if reasons is None:
                    reasons = [None] * len(outputs)
                reasons[i] = reason
        return reasons


def flag_columns(rails: Guardrails, values: Any | None, top: Any | None) -> dict[int, str]:
    """The stateless guardrails on a batch's answers, column-wise: `values` a regressor's
    answers, `top` a classifier's top probabilities (numpy arrays, or None where the
    model gives none); {row position: why} for the rows outside."""
    import numpy as np

    out: dict[int, str] = {}
    if values is not None and rails.has_range:
        v = np.asarray(values, dtype=float)
        if rails.low is not None:
            for i in np.flatnonzero(v < rails.low).tolist():
                out[i] = f"range: value {v[i]:g} is below the minimum {rails.low:g}"
        if rails.high is not None:
            for i in np.flatnonzero(v > rails.high).tolist():
                out[i] = f"range: value {v[i]:g} is above the maximum {rails.high:g}"
    if top is not None and rails.min_confidence is not None:
        t = np.asarray(top, dtype=float)
        for i in np.flatnonzero(t < rails.min_confidence).tolist():
            out.setdefault(i, f"min_confidence: top probability {t[i]:.3g} is below {rails.min_confidence:g}")
    return out


def logged(done: str, reason: str) -> str:
    """The log row's `guardrail` text: what was done with the answer, then why."""
    return f"{done}: {reason}"[:2000]
