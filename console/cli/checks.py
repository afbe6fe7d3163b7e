"""wk drift | quality | perf: run a monitoring check on a window of the log, store its
report, print the verdicts. Exit 0 when nothing drifted or failed, 1 when something did,
4 when the check could not judge (insufficient data, inputs not logged), so a script can
branch; the verdicts are on stdout either way."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.errors import ExitCode
from console.cli.output import emit_json, info, table
from console.cli.parser import Commands, model_name


def _window_options(p: argparse.ArgumentParser) -> None:
    model_name(p.add_argument("model", metavar="MODEL"))
    p.add_argument("--window", help="the last span of traffic: 30m, 24h, 7d (default 24h)")
    p.add_argument("--from", dest="since", metavar="TIME", help="window start (ISO 8601, UTC)")
    p.add_argument("--to", dest="until", metavar="TIME", help="window end (ISO 8601, UTC; default now)")
    p.add_argument("--version", help="only this version's rows, against its own reference "
                                     "(default: every version's rows against production's)")
    p.add_argument("--no-store", action="store_true", help="print the verdicts without storing a report")


def register(nouns: Commands) -> None:
    p = nouns.command("drift", f"{__name__}:cmd_drift", "input and prediction drift of a window",
                      tables=True)
    _window_options(p)
    p = nouns.command("quality", f"{__name__}:cmd_quality", "data quality of a window of inputs",
                      tables=True)
    _window_options(p)
    p = nouns.command("perf", f"{__name__}:cmd_perf", "performance from late labels, and its estimate",
                      tables=True)
    _window_options(p)


def _window(args: argparse.Namespace) -> Any:
    from monitoring.windows import resolve_window

    return resolve_window(args.window, args.since, args.until)


def _run(args: argparse.Namespace, check: Any) -> tuple[Any, Any]:
    """The window the options name, and the check run on it (its report stored unless
    --no-store)."""
    window = _window(args)
    return window, check(store_from(args), args.model, window, version=args.version,
                         store_report=not args.no_store)


def _exit(statuses: list[str]) -> int:
    from store.vocabulary import CheckStatus

    if any(s in (CheckStatus.DRIFT, CheckStatus.FAILED) for s in statuses):
        return ExitCode.FAILED
    if not statuses or any(s in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED) for s in statuses):
        return ExitCode.UNDECIDED
    return ExitCode.OK


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cmd_drift(args: argparse.Namespace) -> int:
    from monitoring.drift_check import run_drift

    window, report = _run(args, run_drift)
    if args.json:
        emit_json(_jsonable(report))
        return _exit([report["status"]])
    info(f"{report['model']} v{report['version']} {window.label}: {report['status']} — {report['reason']}")
    from monitoring.reading import feature_order

    rows = sorted(report["feature_rows"], key=feature_order)  # as the console sorts them
    table([col.name("feature", 10), col.fixed("status"), col.fixed("test", drop=2), col.fixed("stat"),
           col.fixed("thresh", drop=1), col.text("reason", 16)],
          [[f["feature"], f["status"], f["test"], _num(f["statistic"]), _num(f["threshold"]), f["reason"]]
           for f in rows],
          empty="no features to check")
    return _exit([report["status"]])


def cmd_quality(args: argparse.Namespace) -> int:
    from monitoring.quality_check import run_quality

    window, report = _run(args, run_quality)
    if args.json:
        emit_json(_jsonable(report))
        return _exit([report["status"]])
    head = report["reason"] or (f"{report['rows']:,} rows, {report['errors']} errors, {report['warnings']} "
                                f"warnings, {report['quarantined']:,} refused")
    info(f"{report['model']} v{report['version']} {window.label}: {report['status']} — {head}")
    findings = sorted(report.get("findings") or [], key=lambda f: (f.get("severity") != "error",
                                                                    f.get("column") or ""))
    table([col.fixed("severity"), col.fixed("check"), col.name("column", 10), col.text("reason", 20)],
          [[f.get("severity", ""), f.get("check", ""), f.get("column") or "-", f.get("reason", "")]
           for f in findings],
          empty="no findings")
    return _exit([report["status"]])


def cmd_perf(args: argparse.Namespace) -> int:
    from monitoring.performance_check import run_performance

    window, reports = _run(args, run_performance)
    if args.json:
        emit_json([_jsonable(r) for r in reports])
        return _exit([r["status"] for r in reports])
    rows = []
    for r in reports:
        realised, estimated, training = r["realised"] or {}, r["estimated"] or {}, r["training"] or {}
        names = [m for m in realised if isinstance(realised.get(m), float | int)] or \
                [m for m in estimated if isinstance(estimated.get(m), float | int)]
        for m in names:
            rows.append([f"v{r['version']}", m, _num(realised.get(m)), _num(estimated.get(m)),
                         _num(training.get(m)), f"{r['labelled']:,}/{r['predictions']:,}",
                         f"{r['coverage']:.0%}"])
        info(f"{r['model']} v{r['version']} {window.label}: {r['status']} — {r['reason']}")
        if estimated.get("assumptions"):
            info(f"estimate: {estimated['assumptions']}")
    table([col.fixed("version"), col.fixed("metric"), col.fixed("realised"), col.fixed("estimate"),
           col.fixed("training"), col.fixed("labelled", drop=1), col.fixed("coverage")],
          rows, empty="no predictions in the window")
    return _exit([r["status"] for r in reports])


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    from registry import views

    out = dict(report)
    for key in ("window_start", "window_end", "created_at"):
        if key in out:
            out[key] = views.iso(out[key])
    return out


def reference_options(p: argparse.ArgumentParser) -> None:
    """`wk monitor reference MODEL VERSION (--data FILE | --from --to)` (registered by the
    monitor command group)."""
    model_name(p.add_argument("model", metavar="MODEL"))
    p.add_argument("version", metavar="VERSION", help="a version number or an alias")
    p.add_argument("--data", metavar="FILE", help="a CSV or Parquet file of reference rows "
                                                  "(the version's model scores them)")
    p.add_argument("--from", dest="since", metavar="TIME", help="pin a window of logged traffic: start")
    p.add_argument("--to", dest="until", metavar="TIME", help="pin a window of logged traffic: end")


def cmd_reference(args: argparse.Namespace) -> int:
    from monitoring.reference import fit_reference
    from monitoring.windows import resolve_window

    window = None
    if args.since is not None or args.until is not None:
        if args.since is None:
            from store.errors import UsageError

            raise UsageError("a pinned window needs --from (and --to, default now)", field="from",
                             example="2026-11-01T00:00")
        window = resolve_window(None, args.since, args.until)
    out = fit_reference(store_from(args), args.model, args.version, data=args.data, window=window)
    if args.json:
        emit_json(out)
        return 0
    where = out.get("file") or f"{out.get('from')} .. {out.get('to')}"
    info(f"{out['model']} v{out['version']}: reference profile {out['profile_id']} fitted on {out['rows']:,} "
         f"rows of {where} ({out['features']} features{', with labels' if out['labelled'] else ''}) in "
         f"{out['seconds']:.2f} s; checks of this version use it from now on")
    return 0
