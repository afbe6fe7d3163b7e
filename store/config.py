"""The store's settings file, `watchkeeper.toml` in the store folder (DESIGN.md), read
with the standard library's TOML parser. Missing is fine (every setting has a default);
a file that does not parse, or a setting of the wrong type, is an error naming the file,
the key and a value that would do."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.errors import InvalidInput

CONFIG_FILENAME = "watchkeeper.toml"
COST_EXAMPLE = "[cost]\ncpu_hour = 0.05\ngb_month = 0.10"


def config_path(root: Path) -> Path:
    return root / CONFIG_FILENAME


def read_config(root: Path) -> dict[str, Any]:
    """The settings of the store at `root`; {} when it has no settings file."""
    path = config_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InvalidInput(f"the store's settings file {path} cannot be read: {exc.strerror}",
                           field="config") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"the store's settings file {path} is not valid TOML: {exc}; fix "
                           "the line it names", field="config", example=COST_EXAMPLE) from exc


@dataclass(frozen=True)
class Prices:
    """What a CPU-hour and a GB-month of disk cost, as set in [cost]; None when unset
    (the money figures are then left out, never guessed)."""

    cpu_hour: float | None = None
    gb_month: float | None = None
    currency: str = ""
    source: str = ""  # the file they came from

    @property
    def configured(self) -> bool:
        return self.cpu_hour is not None or self.gb_month is not None


def cost_prices(root: Path) -> Prices:
    """The [cost] table of the store's settings: cpu_hour, gb_month (numbers, 0 or more)
    and an optional currency (text, shown beside the figures)."""
    path = config_path(root)
    cost = read_config(root).get("cost", {})
    if not isinstance(cost, dict):
        raise InvalidInput(f"'cost' in {path} must be a table", field="cost", example=COST_EXAMPLE)
    unknown = sorted(set(cost) - {"cpu_hour", "gb_month", "currency"})
    if unknown:
        raise InvalidInput(f"[cost] in {path} has no setting {unknown[0]!r}; its settings: "
                           "cpu_hour, gb_month, currency", field=unknown[0], example=COST_EXAMPLE)
    values: dict[str, float | None] = {}
    for key in ("cpu_hour", "gb_month"):
        value = cost.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value < 0):
            raise InvalidInput(f"[cost] {key} in {path} must be a number, 0 or more, not "
                               f"{value!r}", field=key, example=COST_EXAMPLE)
        values[key] = None if value is None else float(value)
    currency = cost.get("currency", "")
    if not isinstance(currency, str):
        raise InvalidInput(f"[cost] currency in {path} must be text, not {currency!r}",
                           field="currency", example='currency = "EUR"')
    return Prices(cpu_hour=values["cpu_hour"], gb_month=values["gb_month"], currency=currency,
                  source=str(path) if path.exists() else "")
