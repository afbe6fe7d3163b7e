"""How the notification sender retries, from the [outbox] table of the store's settings
file (watchkeeper.toml; store/config.py). Every setting has a default:

    [outbox]
    backoff_s = 5          # wait before the second attempt, doubled after each failure
    max_backoff_s = 600    # the longest wait between attempts
    max_attempts = 12      # then the notification is given up (failed)
    lease_s = 60           # a sender holds a claimed notification this long
    interval_s = 2         # the sender looks for due notifications this often
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from store.config import config_path, read_config
from store.errors import InvalidInput

EXAMPLE = "[outbox]\nbackoff_s = 5\nmax_backoff_s = 600\nmax_attempts = 12"


@dataclass(frozen=True)
class DeliveryPolicy:
    backoff_s: float = 5.0
    max_backoff_s: float = 600.0
    max_attempts: int = 12
    lease_s: float = 60.0
    interval_s: float = 2.0

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1, 2, ...): doubling, capped."""
        return float(min(self.backoff_s * 2 ** max(attempt - 1, 0), self.max_backoff_s))


def delivery_policy(root: Path) -> DeliveryPolicy:
    """The [outbox] settings of the store at `root` (defaults where unset)."""
    path = config_path(root)
    table = read_config(root).get("outbox", {})
    if not isinstance(table, dict):
        raise InvalidInput(f"'outbox' in {path} must be a table", field="outbox", example=EXAMPLE)
    names = {f.name: f for f in fields(DeliveryPolicy)}
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise InvalidInput(f"[outbox] in {path} has no setting {unknown[0]!r}; its settings: "
                           + ", ".join(names), field=unknown[0], example=EXAMPLE)
    values: dict[str, float | int] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise InvalidInput(f"[outbox] {key} in {path} must be a number above 0, not "
                               f"{value!r}", field=key, example=EXAMPLE)
        values[key] = int(value) if key == "max_attempts" else float(value)
    return DeliveryPolicy(**values)  # type: ignore[arg-type]
