"""The evaluation gate (pure): does a candidate's metric clear the thresholds and not
fall behind the current production version on the same rows?"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from registry.metrics import higher_is_better


@dataclass(frozen=True)
class GatePolicy:
    metric: str
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None


@dataclass
class GateResult:
    passed: bool
    metric: str
    candidate: float | None
    champion: float | None
    reasons: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_gate(
    policy: GatePolicy,
    candidate_metrics: dict[str, float],
    champion_metrics: dict[str, float] | None,
    champion_label: str = "production",
) -> GateResult:
    metric = policy.metric
    better_up = higher_is_better(metric)
    value = candidate_metrics.get(metric)
    champion = (champion_metrics or {}).get(metric)
    result = GateResult(passed=True, metric=metric, candidate=value, champion=champion)
    if value is None:
        result.passed = False
        result.reasons.append(f"gate metric {metric} was not computed")
        return result

    def check(name: str, ok: bool, threshold: float, reason: str) -> None:
        result.checks.append({"check": name, "threshold": threshold, "value": value, "passed": ok})
        if not ok:
            result.passed = False
            result.reasons.append(reason)

    if policy.min is not None:
        check("min", value >= policy.min, policy.min, f"{metric} {value:.4f} is below the minimum {policy.min}")
    if policy.max is not None:
        check("max", value <= policy.max, policy.max, f"{metric} {value:.4f} is above the maximum {policy.max}")
    if policy.max_regression is not None and champion is not None:
        worsening = (champion - value) if better_up else (value - champion)
        ok = worsening <= policy.max_regression
        result.checks.append(
            {
                "check": "max_regression",
                "threshold": policy.max_regression,
                "value": worsening,
                "champion": champion,
                "passed": ok,
            }
        )
        if not ok:
            result.passed = False
            result.reasons.append(
                f"{metric} {value:.4f} is worse than {champion_label} ({champion:.4f}) by "
                f"{worsening:.4f}, more than the allowed {policy.max_regression}"
            )
    return result
