"""Datasets, and what was trained on each."""

from __future__ import annotations

from typing import Any

from console.columns import Column
from console.screens.base import TableScreen
from console.screens.time_format import local
from console.widgets.header import StatusHeader
from console.widgets.live_table import TableRow


class DatasetsScreen(TableScreen):
    VIEW = "datasets"
    COLUMNS = (Column("id"), Column("name", min_width=14), Column("fingerprint", 2), Column("rows", 1),
               Column("versions", 1), Column("recorded", 2), Column("uri", 3, min_width=20))

    def fetch(self) -> Any:
        from registry.datasets import list_datasets

        return list_datasets(self.wk.store)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        return [TableRow(str(d["id"]), (
            str(d["id"]), d["name"], d["fingerprint"][:12], str(d["rows"]),
            str(d["versions_trained"]), local(d["created_at"]), d["uri"],
        ), d) for d in data]

    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is not None:
            self.wk.run_command(f"dataset {row.key}")


class DatasetScreen(TableScreen):
    """What was trained on one dataset: runs, versions, and the aliases on them."""

    VIEW = "dataset"
    COLUMNS = (Column("model", min_width=14), Column("version"), Column("status", 1),
               Column("aliases", min_width=20), Column("run", 1), Column("role", 1))

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def title_text(self) -> str:
        return f"trained on dataset {self.ref}"

    def fetch(self) -> Any:
        from registry.datasets import dataset_usage

        return dataset_usage(self.wk.store, self.ref)

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        names = {d["name"] for d in data["datasets"]}
        self.query_one(StatusHeader).view_title = f"trained on {', '.join(sorted(names))}"
        return [TableRow(f"{u['run_id']}-{u['role']}", (
            u["model"], f"v{u['version']}" if u["version"] else "-", u["version_status"] or "-",
            " ".join(u["aliases"]) or "-", f"#{u['run_id']} {u['run_status']}", u["role"],
        ), u) for u in data["used_by"]]

    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is not None and row.raw["version"]:
            self.wk.run_command(f"version {row.raw['model']} {row.raw['version']}")
