"""Every `:` view, declared once: its name, aliases, arguments, what it shows and the
screen it opens. The `:` command line, its tab completion, the command palette and the
help screen are generated from `VIEWS`, as the screens' keys are from console/actions.py.

Screens are imported only when a view opens, so this module imports no screen (and
console/actions.py can read the view names from it).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from textual.screen import Screen

#: `:q` and `:quit` leave the console (a command, not a view)
QUIT = ("q", "quit")


class WrongArguments(ValueError):
    """A view's arguments do not fit its usage (the caller says the usage)."""


def key_value_filters(args: Sequence[str], keys: Collection[str], *, first: str) -> dict[str, str]:
    """`:view a key=value ...` arguments: the first may be a bare value for `first`; every
    other is key=value with a known key (else WrongArguments, which shows the usage)."""
    filters: dict[str, str] = {}
    for i, arg in enumerate(args):
        key, sep, value = arg.partition("=")
        if not sep and i == 0:
            key, value = first, arg
        elif not sep or key not in keys or not value:
            raise WrongArguments()
        filters[key] = value
    return filters


@dataclass(frozen=True)
class ViewSpec:
    name: str
    shows: str  # the help screen's and the palette's description
    open: Callable[[list[str]], Screen[Any]]  # arguments -> the screen
    args: str = ""  # the arguments as the help screen shows them, e.g. "MODEL VERSION"
    usage_args: str | None = None  # the arguments in full, for a usage error (default `args`)
    arity: int | None = None  # exactly this many arguments (None: the view checks them)
    aliases: tuple[str, ...] = ()
    #: command-bar completions for each known model, e.g. "versions {model}"
    completions: tuple[str, ...] = ()
    listed: bool = True  # in the help screen's views and the palette (help itself is not)

    @property
    def command(self) -> str:
        """The view as the help screen lists it: `lineage MODEL VERSION`."""
        return f"{self.name} {self.args}".strip()

    @property
    def usage(self) -> str:
        return f"{self.name} {self.usage_args if self.usage_args is not None else self.args}".strip()

    @property
    def opens_bare(self) -> bool:
        """Whether the view opens without arguments (they are optional or there are none)."""
        return not self.args or self.args.startswith("[")

    @property
    def completion(self) -> str:
        """What the command bar completes the name to (a space where arguments follow)."""
        return self.name if self.opens_bare else self.name + " "


# --- the screens each view opens (imported when it opens) ------------------------------
def _bare(module: str, screen: str) -> Callable[[list[str]], Screen[Any]]:
    """A view without arguments: console.screens.<module>.<screen>()."""
    def open_screen(args: list[str]) -> Screen[Any]:
        import importlib

        return cast("Screen[Any]", getattr(importlib.import_module(f"console.screens.{module}"), screen)())
    return open_screen


def _overview(args: list[str]) -> Screen[Any]:
    from console.screens.overview import OverviewScreen

    return OverviewScreen()


def _versions(args: list[str]) -> Screen[Any]:
    from console.screens.versions import VersionsScreen

    return VersionsScreen(args[0])


def _version(args: list[str]) -> Screen[Any]:
    from console.screens.version import VersionScreen

    return VersionScreen(args[0], args[1])


def _lineage(args: list[str]) -> Screen[Any]:
    from console.screens.lineage import LineageScreen

    return LineageScreen(args[0], args[1])


def _compare(args: list[str]) -> Screen[Any]:
    from console.screens.compare import CompareScreen

    return CompareScreen(args[0], args[1], args[2])


def _dataset(args: list[str]) -> Screen[Any]:
    from console.screens.datasets import DatasetScreen

    return DatasetScreen(args[0])


def _runs(args: list[str]) -> Screen[Any]:
    from console.screens.runs import RunsScreen

    return RunsScreen(args[0] if args else None)


def _run(args: list[str]) -> Screen[Any]:
    from console.screens.runs import RunScreen

    if not args[0].lstrip("#").isdigit():
        raise ValueError("usage: :run ID (a number)")
    return RunScreen(int(args[0].lstrip("#")))


AUDIT_FILTERS = ("actor", "action", "model", "since", "until")


def _audit(args: list[str]) -> Screen[Any]:
    from console.screens.audit import AuditScreen

    filters = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in AUDIT_FILTERS:
            raise WrongArguments()
        filters[key] = value
    return AuditScreen(filters)


def _deployments(args: list[str]) -> Screen[Any]:
    from console.screens.deployments import DeploymentsScreen

    return DeploymentsScreen()


def _predictions(args: list[str]) -> Screen[Any]:
    from console.screens.predictions import PredictionsScreen

    return PredictionsScreen(prediction_filters(args))


def _prediction(args: list[str]) -> Screen[Any]:
    from console.screens.predictions import PredictionScreen

    return PredictionScreen(args[0])


def _labelling(args: list[str]) -> Screen[Any]:
    from console.screens.labelling import LabellingScreen

    return LabellingScreen(args[0])


def _drift(args: list[str]) -> Screen[Any]:
    from console.screens.drift import DriftScreen

    if not 1 <= len(args) <= 2:
        raise WrongArguments()
    if len(args) == 2 and not args[1].lstrip("#").isdigit():
        raise ValueError("usage: :drift MODEL [ID] (a report's number)")
    return DriftScreen(args[0], int(args[1].lstrip("#")) if len(args) == 2 else None)


def _quality(args: list[str]) -> Screen[Any]:
    from console.screens.quality import QualityScreen

    return QualityScreen(args[0])


def _performance(args: list[str]) -> Screen[Any]:
    from console.screens.performance import PerformanceScreen

    return PerformanceScreen(args[0])


def _jobs(args: list[str]) -> Screen[Any]:
    from console.screens.jobs import JobsScreen

    return JobsScreen()


def _jobruns(args: list[str]) -> Screen[Any]:
    from console.screens.job_runs import JobRunsScreen, run_filters

    return JobRunsScreen(run_filters(args))


def _jobrun(args: list[str]) -> Screen[Any]:
    from console.screens.job_runs import JobRunScreen

    if not args[0].lstrip("#").isdigit():
        raise ValueError("usage: :jobrun ID (a number)")
    return JobRunScreen(int(args[0].lstrip("#")))


def _approvals(args: list[str]) -> Screen[Any]:
    from console.screens.approvals import ApprovalsScreen

    if len(args) > 1:
        raise WrongArguments()
    return ApprovalsScreen(args[0] if args else None)


def _approval(args: list[str]) -> Screen[Any]:
    from console.screens.approvals import ApprovalScreen

    if not args[1].lstrip("v").isdigit():
        raise ValueError("usage: :approval MODEL VERSION (a number)")
    return ApprovalScreen(args[0], int(args[1].lstrip("v")))


def _timeline(args: list[str]) -> Screen[Any]:
    from console.screens.timeline import TimelineScreen, timeline_filters

    model, filters = timeline_filters(args)
    return TimelineScreen(model, filters)


def _alerts(args: list[str]) -> Screen[Any]:
    from console.screens.alerts import AlertsScreen

    if len(args) > 1 or (args and not args[0].lstrip("#").isdigit()):
        raise WrongArguments()
    return AlertsScreen(int(args[0].lstrip("#")) if args else None)


def _help(args: list[str]) -> Screen[Any]:
    from console.screens.help import HelpScreen

    return HelpScreen()


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("overview", "every model: production, traffic and latency, staging, last run, gate failures",
             _overview, aliases=("ov", "home")),
    ViewSpec("models", "registered models", _bare("models", "ModelsScreen"), aliases=("m",)),
    ViewSpec("versions", "versions of a model", _versions, "MODEL", arity=1, aliases=("model",),
             completions=("versions {model}",)),
    ViewSpec("version", "one version in full", _version, "MODEL VERSION", arity=2,
             completions=("version {model} ",)),
    ViewSpec("lineage", "dataset -> run -> version -> aliases", _lineage, "MODEL VERSION", arity=2,
             completions=("lineage {model} ",)),
    ViewSpec("compare", "two versions side by side", _compare, "MODEL A B", arity=3),
    ViewSpec("datasets", "datasets and what was trained on them", _bare("datasets", "DatasetsScreen"),
             aliases=("ds", "data")),
    ViewSpec("dataset", "what was trained on one dataset", _dataset, "NAME", "NAME-OR-ID", arity=1),
    ViewSpec("runs", "training runs with their results", _runs, "[MODEL]", aliases=("r",)),
    ViewSpec("run", "one run with its log", _run, "ID", arity=1),
    ViewSpec("audit", "the audit log", _audit, "[actor=U] [action=A] [model=M] [since=7d]",
             "[actor=U] [action=A] [model=M] [since=7d] [until=...]", aliases=("a",),
             completions=("audit model={model}",)),
    ViewSpec("deployments", "how each model is served: mode, versions, shares; requests per minute, "
                            "p50/p95 latency and error rate per route",
             _deployments, aliases=("dep", "deploy")),
    ViewSpec("predictions", "the prediction log, newest first", _predictions,
             "[model=M] [version=V] [route=R] [since=1h] [id=PREFIX]",
             "[model=M] [version=V] [route=R] [source=S] [since=1h] [until=...] [id=PREFIX] "
             "[request=ID]", aliases=("pred",), completions=("predictions model={model}",)),
    ViewSpec("prediction", "one prediction: inputs, outputs, label, latency, route", _prediction, "ID",
             "ID (or a unique prefix of 6 or more characters)", arity=1),
    ViewSpec("labelling", "a model's labelling queue: label or skip sampled predictions", _labelling,
             "MODEL", arity=1, aliases=("label",), completions=("labelling {model}",)),

    # monitoring: the stored reports of one model
    ViewSpec("drift", "a model's drift per feature, newest report (or report ID), with histograms "
                      "and the drift share over time", _drift, "MODEL [ID]",
             completions=("drift {model}",)),
    ViewSpec("quality", "a model's data-quality findings, errors first, and quarantine reasons",
             _quality, "MODEL", arity=1, completions=("quality {model}",)),
    ViewSpec("performance", "a model's metrics per version and window, estimate beside realised, "
                            "with label coverage", _performance, "MODEL", arity=1, aliases=("perf",),
             completions=("performance {model}",)),

    ViewSpec("timeline", "one model's timeline: alias and deployment changes, runs, reports, alerts "
                         "with their acknowledgements, quarantine bursts, latency and error spikes",
             _timeline, "MODEL [since=7d] [kind=alert,drift]", aliases=("tl",),
             completions=("timeline {model}",)),

    ViewSpec("alerts", "alerts, firing first: ack, silence, resolve; enter opens what one is "
                       "about, b rolls back", _alerts, "[ID]", aliases=("al",)),

    # the scheduler: jobs, their runs, approvals of retrained versions, what it all costs
    ViewSpec("jobs", "scheduled jobs: schedule, next and last run; run now, pause, resume", _jobs,
             arity=0, aliases=("sched",)),
    ViewSpec("jobruns", "the runs of scheduled jobs, newest first, with their resources", _jobruns,
             "[job=J] [model=M] [status=S] [since=1d]", aliases=("jr",),
             completions=("jobruns model={model}",)),
    ViewSpec("jobrun", "one job run: resources, exit, error, note and log tail", _jobrun, "ID",
             arity=1),
    ViewSpec("approvals", "retrained versions waiting for approval, with their reports", _approvals,
             "[MODEL]", aliases=("ap",), completions=("approvals {model}",)),
    ViewSpec("approval", "one pending version's report; approve or reject it", _approval,
             "MODEL VERSION", arity=2),
    ViewSpec("usage", "per model: CPU, wall time and memory of runs over 7 and 30 days, disk, "
                      "served memory, cost", _bare("usage", "UsageScreen"), arity=0, aliases=("cost",)),
    ViewSpec("help", "every key and every view", _help, listed=False),
)

VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS if v.listed)


def view_named(name: str) -> ViewSpec | None:
    """The view a `:` word names, by its name or an alias."""
    return next((v for v in VIEWS if name == v.name or name in v.aliases), None)


def split_command(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"cannot read {command!r}: {exc}") from exc


def open_view(name: str, args: list[str]) -> Screen[Any]:
    """The screen `:name args` opens; ValueError with the usage or the views otherwise."""
    view = view_named(name)
    if view is None:
        import difflib

        names = [n for v in VIEWS for n in (v.name, *v.aliases)]
        near = next(iter(difflib.get_close_matches(name, names, n=1, cutoff=0.75)), None)
        spec = view_named(near) if near else None
        nearer = f"did you mean :{spec.name}? " if spec else ""
        raise ValueError(f"unknown view {name!r}; {nearer}views: {', '.join(v.name for v in VIEWS)} "
                         "(? lists keys)")
    try:
        if view.arity is not None and len(args) != view.arity:
            raise WrongArguments()
        return view.open(args)
    except WrongArguments as exc:
        raise ValueError(f"usage: :{view.usage}") from exc


def nearest_command(command: str, models: Sequence[str]) -> str | None:
    """`command` with a mistyped model name replaced by the nearest known one
    (`versions credit-defualt` -> `versions credit-default`), or None if no word is near a
    model name. Cheap: the names the console already holds, no read."""
    import difflib

    words = split_command(command)
    known = set(models)
    changed = False
    for i, word in enumerate(words[1:], start=1):
        key, sep, value = word.rpartition("=") if "=" in word else ("", "", word)
        if value in known:
            continue
        near = difflib.get_close_matches(value, list(models), n=1, cutoff=0.75)
        if near:
            words[i] = f"{key}{sep}{near[0]}"
            changed = True
    return " ".join(shlex.quote(w) for w in words) if changed else None


def completion_words(models: Sequence[str]) -> list[str]:
    """The command bar's completions: every view and command, then each model's views."""
    words = [v.completion for v in VIEWS] + [QUIT[-1]]
    for model in models:
        words += [template.format(model=model) for v in VIEWS for template in v.completions]
    return words


def prediction_filters(args: list[str]) -> dict[str, str]:
    """`:predictions` arguments (a bare first word is the model), checked before the view
    opens so a typo is named at once."""
    from console.cli.common import parse_time
    from console.errors import error_text
    from console.screens.predictions import FILTERS, ROUTES
    from store.errors import UsageError

    filters = key_value_filters(args, FILTERS, first="model")
    if "version" in filters and "model" not in filters:
        raise ValueError("version= needs model= (version numbers belong to a model)")
    if filters.get("route", ROUTES[0]) not in ROUTES:
        raise ValueError(f"route={filters['route']} is not one of {', '.join(ROUTES)}")
    for key in ("since", "until"):
        try:
            parse_time(filters.get(key), key)
        except UsageError as exc:
            raise ValueError(error_text(exc)) from exc
    return filters
