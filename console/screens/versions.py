"""Versions of one model, with the actions that move aliases."""

from __future__ import annotations

from typing import Any

from console.columns import Column
from console.screens.alias_actions import start_archive, start_promote, start_rollback
from console.screens.base import TableScreen
from console.screens.time_format import local
from console.widgets.live_table import TableRow


class VersionsScreen(TableScreen):
    VIEW = "versions"
    #: Every alias a version holds fits at 80 columns ("production staging").
    COLUMNS = (Column("version"), Column("status", 1), Column("aliases", min_width=20),
               Column("gate metric", 1, min_width=14), Column("sha256", 3), Column("run", 2),
               Column("created", 2), Column("by", 3))

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self.aliases: dict[str, int] = {}

    def title_text(self) -> str:
        return f"versions of {self.model}"

    def fetch(self) -> Any:
        from registry.versions import list_versions

        return list_versions(self.wk.store, self.model)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        self.aliases = {a: v["version"] for v in data for a in v["aliases"]}
        rows = []
        for v in data:
            metrics = v["metrics"]
            first = next(iter(metrics.items()), None)
            rows.append(TableRow(str(v["version"]), (
                f"v{v['version']}", v["status"], " ".join(v["aliases"]) or "-",
                f"{first[0]}={first[1]:.4f}" if first else "-", v["sha256"][:12],
                f"#{v['run_id']}" if v["run_id"] else "-", local(v["created_at"]), v["created_by"],
            ), v))
        return rows

    def _version(self) -> int | None:
        row = self.selected()
        return int(row.key) if row is not None else None

    def on_data_table_row_selected(self, event: Any) -> None:
        if (v := self._version()) is not None:
            self.wk.run_command(f"version {self.model} {v}")

    def action_promote(self) -> None:
        if (v := self._version()) is not None:
            start_promote(self, self.model, v, self.aliases)

    def action_archive(self) -> None:
        if (v := self._version()) is not None:
            start_archive(self, self.model, v)

    def action_rollback(self) -> None:
        row = self.selected()
        held = list(row.raw["aliases"]) if row is not None and row.raw["aliases"] else []
        # production first when the row holds it: a version holding production and staging
        # is rolled back where it answers, whatever order the store listed its aliases in
        alias = "production" if "production" in held or not held else held[0]
        start_rollback(self, self.model, alias)

    def action_timeline(self) -> None:
        self.wk.run_command(f"timeline {self.model}")

    def action_lineage(self) -> None:
        if (v := self._version()) is not None:
            self.wk.run_command(f"lineage {self.model} {v}")

    def action_compare(self) -> None:
        if (v := self._version()) is not None:
            from console.screens.version import ask_compare

            ask_compare(self, self.model, v)
