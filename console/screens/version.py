"""One version in full: metadata, metrics, parameters, signature and lineage, with the
actions on it and a jump to a side-by-side comparison."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.screens.alias_actions import start_archive, start_promote, start_rollback
from console.screens.base import WkScreen
from console.screens.cells import cell
from console.screens.time_format import local
from registry.views import datasets_with_roles


class VersionDetail(VerticalScroll):
    pass


class VersionScreen(WkScreen):
    VIEW = "version"

    def __init__(self, model: str, version: str) -> None:
        super().__init__()
        self.model, self.version_ref = model, version
        self.data: dict[str, Any] | None = None
        #: opened from an alert (its drift report): B rolls back as the alert's action, so
        #: the alert is annotated with it
        self.alert_id: int | None = None

    def title_text(self) -> str:
        return f"{self.model} v{self.version_ref}"

    def compose_body(self) -> ComposeResult:
        with VersionDetail():
            yield Static("loading ...", id="detail")

    def fetch(self) -> Any:
        from registry.lineage import lineage as lineage_of
        from registry.models import show_model
        from registry.versions import show_version

        version = show_version(self.wk.store, self.model, self.version_ref)
        lineage = lineage_of(self.wk.store, self.model, self.version_ref)
        aliases = show_model(self.wk.store, self.model)["aliases"]
        return {"version": version, "lineage": lineage, "aliases": aliases}

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#detail", Static).update(render_version(data["version"], data["lineage"]))

    def _number(self) -> int | None:
        return self.data["version"]["version"] if self.data else None

    def action_promote(self) -> None:
        if self.data:
            start_promote(self, self.model, self.data["version"]["version"], self.data["aliases"])

    def action_archive(self) -> None:
        if (v := self._number()) is not None:
            start_archive(self, self.model, v)

    def action_rollback(self) -> None:
        if self.alert_id is not None:
            from console.screens.alert_subject import act_from_alert

            act_from_alert(self, self.alert_id, "rollback")
            return
        held = self.data["version"]["aliases"] if self.data else []
        start_rollback(self, self.model, held[0] if held else "production")

    def describe_result(self, what: str, result: Any) -> str:
        if self.alert_id is not None and what == "rollback":
            from console.screens.alert_actions import acted

            return acted(result)
        return super().describe_result(what, result)

    def action_timeline(self) -> None:
        self.wk.run_command(f"timeline {self.model}")

    def action_lineage(self) -> None:
        if (v := self._number()) is not None:
            self.wk.run_command(f"lineage {self.model} {v}")

    def action_compare(self) -> None:
        if (v := self._number()) is not None:
            ask_compare(self, self.model, v)


def render_version(v: dict[str, Any], lineage: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    code = v.get("code_version") or {}
    env = v.get("environment") or {}
    rows: list[tuple[str, Any]] = [
        ("status", v["status"]), ("aliases", ", ".join(v["aliases"]) or "-"),
        ("sha256", v["artifact"]["sha256"]), ("flavor", v["artifact"]["flavor"]),
        ("source", v["source"]), ("run", f"#{v['run_id']}" if v["run_id"] else "-"),
        ("git commit", (code.get("git_commit") or "-") + (" (dirty)" if code.get("dirty") else "")),
        ("python", env.get("python", "-")),
        ("packages", " ".join(f"{k} {val}" for k, val in (env.get("packages") or {}).items()) or "-"),
        ("created", f"{local(v['created_at'])} by {v['created_by']}"),
        ("metrics", "  ".join(f"{k}={cell(val)}" for k, val in v["metrics"].items()) or "-"),
        ("params", "  ".join(f"{k}={val}" for k, val in v["params"].items()) or "-"),
    ]
    for key, value in rows:
        grid.add_row(key, Text(str(value)))
    grid.add_row("", "")
    grid.add_row(Text("lineage", style="bold"), lineage_text(lineage))
    columns = (v.get("signature") or {}).get("columns", [])
    if columns:
        grid.add_row("", "")
        sig = Table(box=None, padding=(0, 1), show_edge=False)
        for header in ("column", "dtype", "kind", "range / categories"):
            sig.add_column(header, no_wrap=header != "range / categories")
        for c in columns:
            allowed = (f"{c.get('min')} .. {c.get('max')}" if "min" in c
                       else ", ".join(c.get("categories") or []))
            sig.add_row(c["name"], c["dtype"], c["kind"], allowed)
        grid.add_row(Text("signature", style="bold"), sig)
    return grid


def lineage_text(lineage: dict[str, Any]) -> Text:
    text = Text()
    for ds, roles in datasets_with_roles(lineage["datasets"]):
        text.append(f"dataset {ds['name']} ({', '.join(roles)}) {ds['fingerprint'][:12]} "
                    f"{ds['rows']} rows\n")
    run = lineage["run"]
    if run:
        text.append(f" -> run #{run['id']} {run['status']}\n")
    else:
        text.append(f" (registered as {lineage['artifact']['source']}, no run)\n")
    text.append(f"   -> {lineage['model']} v{lineage['version']}\n")
    text.append(f"     -> aliases: {', '.join(lineage['aliases']) or '(none)'}")
    return text


def ask_compare(screen: WkScreen, model: str, version: int) -> None:
    from console.widgets.ask_modal import AskModal

    def done(other: str | None) -> None:
        if other:
            screen.wk.run_command(f"compare {model} {version} {other}")

    screen.app.push_screen(AskModal(f"Compare {model} v{version} with version:",
                                    placeholder="a version number or an alias"), done)
