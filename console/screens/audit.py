"""The audit log: who changed what, when and why; filter by actor, action, model, time."""

from __future__ import annotations

from typing import Any

from console.columns import Column
from console.screens.base import TableScreen
from console.screens.time_format import local
from console.widgets.live_table import TableRow

AUDIT_LIMIT = 500


def _change(event: dict[str, Any]) -> str:
    """What an event changed: "version 2 -> 1" for each value that differs, or what it
    recorded ("version=1 sha256=...") when there was no before (nested values are in `y`)."""
    def scalar(value: Any) -> bool:
        return not isinstance(value, dict | list)

    before, after = event["before"] or {}, event["after"] or {}
    if before:
        changed = [f"{k} {before.get(k)} -> {after.get(k)}" for k in dict.fromkeys([*before, *after])
                   if before.get(k) != after.get(k) and scalar(before.get(k)) and scalar(after.get(k))]
        return ", ".join(changed) or "-"
    return " ".join(f"{k}={v}" for k, v in after.items() if scalar(v)) or "-"


def _short_target(target: str) -> str:
    """model/credit/alias/production -> credit/production (the full target is in `y`)."""
    parts = target.split("/")
    if parts[:1] == ["model"]:
        parts = parts[1:]
    return "/".join(p for p in parts if p != "alias")


class AuditScreen(TableScreen):
    VIEW = "audit"
    #: At 80 columns: when, what, on what and why; the change (and the rest of a cut
    #: reason) in the detail line.
    COLUMNS = (Column("time"), Column("actor", 2), Column("action"), Column("target", 1, min_width=14),
               Column("reason", min_width=20), Column("change", 2, min_width=20))

    def __init__(self, filters: dict[str, str] | None = None) -> None:
        super().__init__()
        self.filters = filters or {}

    def title_text(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.filters.items())
        return f"audit {extra}".strip()

    def fetch(self) -> Any:
        from console.cli.common import parse_time
        from registry.audit_log import audit_log

        f = self.filters
        return audit_log(
            self.wk.store, actor=f.get("actor"), action=f.get("action"), model=f.get("model"),
            since=parse_time(f.get("since"), "since", self.wk.clock()),
            until=parse_time(f.get("until"), "until", self.wk.clock()),
            limit=AUDIT_LIMIT,
        )

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        return [TableRow(str(e["id"]), (
            local(e["at"]), e["actor"], e["action"], _short_target(e["target"]), e["reason"] or "-",
            _change(e),
        ), e) for e in data]
