"""Models: every registered model, sortable and filterable."""

from __future__ import annotations

from typing import Any

from console.columns import Column
from console.screens.base import ModelRowsScreen
from console.screens.cells import owner_text
from console.screens.time_format import local
from console.widgets.live_table import TableRow


class ModelsScreen(ModelRowsScreen):
    VIEW = "models"
    #: the owner (and team) before all but the aliases: whom to call about the model
    COLUMNS = (Column("model", min_width=14), Column("owner", 1, min_width=8), Column("task", 3),
               Column("versions", 2),
               Column("latest", 1), Column("aliases", min_width=26), Column("last run", 1),
               Column("updated", 3))

    def fetch(self) -> Any:
        from registry.models import list_models

        return list_models(self.wk.store)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        self.wk.set_model_names([m["name"] for m in data])
        return [TableRow(m["name"], (
            m["name"], owner_text(m), m["task"], str(m["versions"]),
            f"v{m['latest_version']}" if m["latest_version"] else "-",
            " ".join(f"{k}=v{v}" for k, v in m["aliases"].items()) or "-",
            f"#{m['last_run']['id']} {m['last_run']['status']}" if m["last_run"] else "-",
            local(m["updated_at"]),
        ), m) for m in data]
