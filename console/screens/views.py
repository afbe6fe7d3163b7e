"""`:` view names and their arguments -> screens."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from console.screens.help import HelpScreen

__all__ = ["HelpScreen", "make_view"]

USAGE = {
    "versions": "versions MODEL",
    "version": "version MODEL VERSION",
    "lineage": "lineage MODEL VERSION",
    "compare": "compare MODEL A B",
    "dataset": "dataset NAME-OR-ID",
    "run": "run ID",
}
ALIASES = {"ov": "overview", "home": "overview", "m": "models", "model": "versions",
           "ds": "datasets", "data": "datasets", "r": "runs", "a": "audit"}


def _need(name: str, args: list[str], count: int) -> None:
    if len(args) != count:
        raise ValueError(f"usage: :{USAGE[name]}")


def make_view(name: str, args: list[str]) -> Screen[Any]:
    from console.screens.audit import AuditScreen
    from console.screens.compare import CompareScreen
    from console.screens.datasets import DatasetScreen, DatasetsScreen
    from console.screens.lineage import LineageScreen
    from console.screens.models import ModelsScreen
    from console.screens.overview import OverviewScreen
    from console.screens.runs import RunScreen, RunsScreen
    from console.screens.version import VersionScreen
    from console.screens.versions import VersionsScreen

    name = ALIASES.get(name, name)
    if name == "overview":
        return OverviewScreen()
    if name == "models":
        return ModelsScreen()
    if name == "datasets":
        return DatasetsScreen()
    if name == "runs":
        return RunsScreen(args[0] if args else None)
    if name == "audit":
        filters = {}
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep or key not in {"actor", "action", "model", "since", "until"}:
                raise ValueError("usage: :audit [actor=U] [action=A] [model=M] [since=7d] [until=...]")
            filters[key] = value
        return AuditScreen(filters)
    if name == "versions":
        _need(name, args, 1)
        return VersionsScreen(args[0])
    if name == "version":
        _need(name, args, 2)
        return VersionScreen(args[0], args[1])
    if name == "lineage":
        _need(name, args, 2)
        return LineageScreen(args[0], args[1])
    if name == "compare":
        _need(name, args, 3)
        return CompareScreen(args[0], args[1], args[2])
    if name == "dataset":
        _need(name, args, 1)
        return DatasetScreen(args[0])
    if name == "run":
        _need(name, args, 1)
        if not args[0].lstrip("#").isdigit():
            raise ValueError("usage: :run ID (a number)")
        return RunScreen(int(args[0].lstrip("#")))
    raise ValueError(f"unknown view {name!r}; views: overview, models, versions, version, "
                     "lineage, compare, datasets, dataset, runs, run, audit, help (? lists keys)")
