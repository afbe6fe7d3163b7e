"""Lineage of a version as a tree: dataset -> run -> version -> aliases."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Tree

from console.screens.base import WkScreen
from registry.views import datasets_with_roles


class LineageTree(Tree[str]):
    pass


class LineageScreen(WkScreen):
    VIEW = "lineage"

    def __init__(self, model: str, version: str) -> None:
        super().__init__()
        self.model, self.version_ref = model, version
        self.data: dict[str, Any] | None = None

    def title_text(self) -> str:
        return f"lineage of {self.model} v{self.version_ref}"

    def compose_body(self) -> ComposeResult:
        yield LineageTree("lineage", id="tree")

    def fetch(self) -> Any:
        from registry.lineage import lineage as lineage_of
        from registry.models import show_model

        lineage = lineage_of(self.wk.store, self.model, self.version_ref)
        lineage["model_aliases"] = show_model(self.wk.store, self.model)["aliases"]
        return lineage

    def action_promote(self) -> None:
        if self.data is not None:
            from console.screens.alias_actions import start_promote

            start_promote(self, self.model, self.data["version"], self.data["model_aliases"])

    def show(self, lin: dict[str, Any]) -> None:
        self.data = lin
        tree = self.query_one(LineageTree)
        tree.clear()
        tree.root.set_label(f"{lin['model']} v{lin['version']}")
        parents = []
        for ds, roles in datasets_with_roles(lin["datasets"]):
            node = tree.root.add(f"dataset {ds['name']} ({', '.join(roles)})", expand=True)
            node.add_leaf(f"fingerprint {ds['fingerprint']}")
            node.add_leaf(f"{ds['rows']} rows, {len(ds['columns'])} columns")
            node.add_leaf(f"uri {ds['uri']}")
            parents.append(node)
        run = lin["run"]
        parent = parents[0] if parents else tree.root
        if run:
            parent = parent.add(f"run #{run['id']} {run['status']}", expand=True)
            commit = (lin.get("code_version") or {}).get("git_commit") or "-"
            parent.add_leaf(f"commit {commit}")
            parent.add_leaf("params " + " ".join(f"{k}={v}" for k, v in run["params"].items()))
        else:
            parent = parent.add(f"registered as {lin['artifact']['source']} (no run)", expand=True)
        version = parent.add(f"{lin['model']} v{lin['version']}  sha256 {lin['artifact']['sha256'][:16]}",
                             expand=True)
        if lin["aliases"]:
            for alias in lin["aliases"]:
                version.add_leaf(f"alias {alias}")
        else:
            version.add_leaf("no alias points here")
        tree.root.expand_all()
