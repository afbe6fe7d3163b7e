"""The words and numbers of a data-quality finding (pure): severity, one finding, and how
its figures are written in a reason line."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

ERROR, WARNING = "error", "warning"

#: type, range and quarantine findings are errors from this share of the window's rows on
ERROR_SHARE = 0.01


@dataclass(frozen=True)
class Finding:
    check: str
    column: str | None
    severity: str
    count: int
    share: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)



def fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def pct(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 or share == 0 else f"{share:.2%}"


def severity(share: float) -> str:
    return ERROR if share >= ERROR_SHARE else WARNING

