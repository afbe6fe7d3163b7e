"""A spec's [monitoring] table (pure): how the version's checks run. It travels with the
version's reference profile (profile["config"]), so each version is checked as its
spec asked.

    [monitoring]
    min_rows = 100              # fewer rows in a window: "insufficient data"
    domain_threshold = 0.75     # the domain classifier's ROC AUC above which inputs drifted
    performance_margin = 0.05   # realised worse than training by more than 5%: failed
    [monitoring.features.income]
    test = "psi"                # override the default test of one feature
    threshold = 0.2
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from store.errors import InvalidInput

KEYS = {"min_rows": int, "domain_threshold": float, "performance_margin": float, "features": dict}
FEATURE_KEYS = {"test": str, "threshold": float}


def parse_monitoring(table: dict[str, Any], features: list[str], where: str,
                     fail: Callable[[str], InvalidInput] | None = None) -> dict[str, Any]:
    """The table checked and normalised; every error names the key and the fix."""
    def error(message: str) -> InvalidInput:
        return fail(message) if fail else InvalidInput(f"{where}: {message}")

    out: dict[str, Any] = {}
    for key, value in table.items():
        kind = KEYS.get(key)
        if kind is None:
            raise error(f"[monitoring] {key} is not a setting; known: {', '.join(KEYS)}")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise error(f"[monitoring] {key} must be a {kind.__name__}, not {value!r}")
        out[key] = value
    if "min_rows" in out and out["min_rows"] < 1:
        raise error(f"[monitoring] min_rows {out['min_rows']} must be at least 1")
    if "domain_threshold" in out and not 0.5 < out["domain_threshold"] <= 1.0:
        raise error(f"[monitoring] domain_threshold {out['domain_threshold']} must be in (0.5, 1]: "
                    "an ROC AUC of 0.5 is a classifier that cannot tell the two apart")
    if "performance_margin" in out and not 0.0 <= out["performance_margin"] < 1.0:
        raise error(f"[monitoring] performance_margin {out['performance_margin']} must be in [0, 1)")
    per_feature: dict[str, dict[str, Any]] = {}
    for name, settings in out.get("features", {}).items():
        if name not in features and name not in ("prediction", "score"):
            raise error(f"[monitoring.features.{name}] names no feature of [data] features "
                        f"({', '.join(features)}) nor prediction/score")
        if not isinstance(settings, dict):
            raise error(f"[monitoring.features.{name}] must be a table with test and/or threshold")
        clean: dict[str, Any] = {}
        for key, value in settings.items():
            kind = FEATURE_KEYS.get(key)
            if kind is None:
                raise error(f"[monitoring.features.{name}] {key} is not a setting; use test and threshold")
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise error(f"[monitoring.features.{name}] {key} must be a {kind.__name__}, not {value!r}")
            clean[key] = value
        per_feature[name] = clean
    if per_feature:
        out["features"] = per_feature
    return out
