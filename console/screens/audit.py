"""The audit log: who changed what, when and why; filter by actor, action, model, time."""

from __future__ import annotations

from typing import Any

from console.screens.base import TableScreen
from console.screens.time_format import local
from console.widgets.live_table import TableRow

AUDIT_LIMIT = 500


def _change(event: dict[str, Any]) -> str:
    def short(d: dict[str, Any] | None) -> str:
        if not d:
            return "-"
        text = " ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, dict | list))
        return text[:60]

    if event["before"]:
        return f"{short(event['before'])} -> {short(event['after'])}"
    return short(event["after"])


def _short_target(target: str) -> str:
    """model/credit/alias/production -> credit/production (the full target is in `y`)."""
    parts = target.split("/")
    if parts[:1] == ["model"]:
        parts = parts[1:]
    return "/".join(p for p in parts if p != "alias")


class AuditScreen(TableScreen):
    VIEW = "audit"
    COLUMNS = ("time", "actor", "action", "target", "reason", "change")

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
