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
    "prediction": "prediction ID (or a unique prefix of 6 or more characters)",
    "predictions": "predictions [model=M] [version=V] [route=R] [source=S] [since=1h] [until=...] "
                   "[id=PREFIX] [request=ID]",
}
ALIASES = {"ov": "overview", "home": "overview", "m": "models", "model": "versions",
           "ds": "datasets", "data": "datasets", "r": "runs", "a": "audit", "dep": "deployments",
           "deploy": "deployments", "pred": "predictions"}


def _need(name: str, args: list[str], count: int) -> None:
    if len(args) != count:
        raise ValueError(f"usage: :{USAGE[name]}")


def make_view(name: str, args: list[str]) -> Screen[Any]:
    from console.screens.audit import AuditScreen
    from console.screens.compare import CompareScreen
    from console.screens.datasets import DatasetScreen, DatasetsScreen
    from console.screens.deployments import DeploymentsScreen
    from console.screens.lineage import LineageScreen
    from console.screens.models import ModelsScreen
    from console.screens.overview import OverviewScreen
    from console.screens.predictions import PredictionScreen, PredictionsScreen
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
    if name == "deployments":
        return DeploymentsScreen()
    if name == "predictions":
        return PredictionsScreen(prediction_filters(args))
    if name == "prediction":
        _need(name, args, 1)
        return PredictionScreen(args[0])
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
                     "lineage, compare, datasets, dataset, runs, run, audit, deployments, predictions, "
                     "prediction, help (? lists keys)")


def prediction_filters(args: list[str]) -> dict[str, str]:
    """`:predictions` arguments (a bare first word is the model), checked before the view
    opens so a typo is named at once."""
    from console.cli.common import parse_time
    from console.screens.predictions import FILTERS, ROUTES
    from store.errors import UsageError

    filters: dict[str, str] = {}
    for i, arg in enumerate(args):
        key, sep, value = arg.partition("=")
        if not sep and i == 0:
            key, value = "model", arg
        elif not sep or key not in FILTERS or not value:
            raise ValueError(f"usage: :{USAGE['predictions']}")
        filters[key] = value
    if "version" in filters and "model" not in filters:
        raise ValueError("version= needs model= (version numbers belong to a model)")
    if filters.get("route", ROUTES[0]) not in ROUTES:
        raise ValueError(f"route={filters['route']} is not one of {', '.join(ROUTES)}")
    for key in ("since", "until"):
        try:
            parse_time(filters.get(key), key)
        except UsageError as exc:
            raise ValueError(exc.message) from exc
    return filters
