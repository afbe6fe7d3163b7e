"""wk deploy show|set|promote|rollback."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from console.cli import tables as col
from console.cli import width as out_width
from console.cli.common import store_from
from console.cli.output import emit_json, fields, section, table
from console.cli.parser import Commands, choices, model_name
from store.errors import UsageError
from store.vocabulary import LogMode, Mode

if TYPE_CHECKING:
    from serving.traffic.deployments import DeploymentChange


def register(nouns: Commands) -> None:
    dv = nouns.noun("deploy", help="how models are served: champion, challenger, traffic, logging")
    p = dv.command("show", f"{__name__}:cmd_show", "a deployment (or all) with recent traffic",
                   tables=True)
    model_name(p.add_argument("name", nargs="?"))
    p.add_argument("--minutes", type=int, default=5, help="traffic window (default 5)")
    p.add_argument("--no-chart", action="store_true",
                   help="leave out the chart of the last 3 hours (drawn only on a terminal, never with --json)")
    p = dv.command("set", f"{__name__}:cmd_set", "change mode, challenger, share or logging",
                   tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("--mode", choices=choices(Mode))
    p.add_argument("--challenger", metavar="VERSION", help="version number or alias")
    p.add_argument("--no-challenger", action="store_true", help="take the challenger out (mode single)")
    p.add_argument("--share", metavar="FRACTION", help="challenger share for canary/ab: 0.1 or 10%%")
    p.add_argument("--log", dest="log_mode", choices=choices(LogMode),
                   help="keep inputs and outputs (full) or outputs only (metadata, for sensitive inputs)")
    p.add_argument("--sample-rate", metavar="FRACTION", help="share of rows whose inputs are kept (full mode)")
    p.add_argument("--reason", default="")
    p = dv.command("guardrails", "console.cli.deploy_guardrails:cmd_guardrails",
                   "what a sane answer is (range, class share, confidence) and what to do if not")
    model_name(p.add_argument("name"))
    from console.cli.deploy_guardrails import add_arguments

    add_arguments(p)
    p = dv.command("promote", f"{__name__}:cmd_promote", "the challenger becomes production, all traffic",
                   tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("--reason", default="", help="why (required)")
    p = dv.command("rollback", f"{__name__}:cmd_rollback",
                   "all traffic back: challenger out, or production to its previous version", tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("--reason", default="", help="why (required)")


def parse_fraction(value: str | None, option: str) -> float | None:
    """0.1, .1 or 10% -> 0.1."""
    if value is None:
        return None
    text = value.strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a fraction; give e.g. 0.1 or 10%") from exc
    if not 0.0 <= number <= 1.0:
        raise UsageError(f"{option} {value!r} is outside 0..1 (0%..100%)")
    return number


def canary_text(watch: dict[str, Any] | None) -> str | None:
    """An open canary watch (promotion policy auto) as one line."""
    if watch is None:
        return None
    return (f"v{watch['version']} at {watch['share']:.0%}, watched until {watch['ends_at']} "
            f"(ends in {watch['ends_in_s']} s): production then, unless an alert fires on it")


def _print(d: dict[str, Any], traffic: list[dict[str, Any]] | None = None,
           watch: dict[str, Any] | None = None) -> None:
    fields([
        ("model", d["model"]), ("mode", d["mode"]),
        ("champion", f"v{d['champion']} (production)" if d["champion"] else "none: promote a version to production"),
        ("challenger", f"v{d['challenger']}" if d["challenger"] else None),
        ("share", f"{d['challenger_share']:.1%}" if d["mode"] in (Mode.CANARY, Mode.AB) else None),
        ("logging", f"{d['log_mode']}" + (f", inputs of {d['input_sample_rate']:.0%} of rows"
                                          if d["log_mode"] == LogMode.FULL and d["input_sample_rate"] < 1 else "")),
        ("updated", f"{d['updated_at']} by {d['updated_by']}" if d["updated_at"] else None),
        ("reason", d["reason"] or None),
        ("canary watch", canary_text(watch)),
        ("guardrails", d["guardrails"]["describe"] if d.get("guardrails") else None),
    ])
    if traffic is not None:
        _traffic(traffic)


def _traffic(rows: list[dict[str, Any]]) -> None:
    section("traffic")
    table([col.name("model"), col.fixed("version"), col.fixed("route"), col.fixed("req/min"), col.fixed("errors"),
           col.fixed("p50 ms"), col.fixed("p95 ms")],
          [[r["model"], f"v{r['version']}", r["route"], f"{r['per_minute']:.1f}", f"{r['error_rate']:.1%}",
            _ms(r["p50_ms"]), _ms(r["p95_ms"])] for r in rows], empty="(no requests in the window)")


#: The chart's size: at most CHART_WIDTH columns, less on a narrower terminal (its window:
#: the console's, serving.traffic.dashboard.TREND_MINUTES).
CHART_WIDTH = 100
CHART_HEIGHT = 12


def _chart(store: Any, d: dict[str, Any]) -> None:
    """Requests per minute and p95 of each route over the last hours, champion first."""
    import os

    from console.charts import plot_routes, span_text
    from serving.traffic import dashboard

    minutes = dashboard.TREND_MINUTES
    step, series = dashboard.trends(store, minutes=minutes, by_route=True, model=d["model"])
    order = {"champion": 0, "challenger": 1, "shadow": 2}
    current = {("champion", d["champion"]), ("challenger", d["challenger"]), ("shadow", d["challenger"])}
    series.sort(key=lambda s: ((s.route, s.version) not in current, order.get(s.route or "", 3), s.version or 0))
    section(f"last {span_text(minutes)} ({step} min a point)")
    if not series:
        sys.stdout.write(f"(no requests in the last {span_text(minutes)} up to this minute)\n")
        return
    width = max(40, min(CHART_WIDTH, out_width.terminal_columns() - 1))
    chart = plot_routes([(f"{s.route} v{s.version}", s.points) for s in series], width, CHART_HEIGHT,
                        colour="NO_COLOR" not in os.environ)
    sys.stdout.write(chart + "\n")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cmd_show(args: argparse.Namespace) -> int:
    from serving.traffic import deployments

    store = store_from(args)
    traffic = deployments.traffic(store, minutes=args.minutes)
    if args.name:
        from scheduler.canary import open_watch

        d = deployments.show(store, args.name)
        mine = [t for t in traffic if t["model"] == args.name]
        watch = open_watch(store, args.name)
        if args.json:
            emit_json({**d, "canary_watch": watch, "traffic": mine})
        else:
            _print(d, mine, watch)
            if not args.no_chart and out_width.is_terminal():
                _chart(store, d)
        return 0
    rows = deployments.list_deployments(store)
    if args.json:
        emit_json([{**d, "traffic": [t for t in traffic if t["model"] == d["model"]]} for d in rows])
        return 0
    table([col.name("model"), col.fixed("mode"), col.fixed("champion"), col.fixed("challenger"), col.fixed("share"),
           col.fixed("logging")],
          [[d["model"], d["mode"], f"v{d['champion']}" if d["champion"] else "-",
            f"v{d['challenger']}" if d["challenger"] else "-",
            f"{d['challenger_share']:.0%}" if d["mode"] in (Mode.CANARY, Mode.AB) else "-", d["log_mode"]]
           for d in rows], empty="nothing is deployed: promote a version to production first")
    if traffic:
        _traffic(traffic)
    return 0


def _done(args: argparse.Namespace, result: DeploymentChange) -> int:
    if args.json:
        emit_json(result.as_dict())
    else:
        _print(result.deployment)
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from serving.traffic import deployments

    changes = (args.mode, args.challenger, args.share, args.log_mode, args.sample_rate)
    if all(v is None for v in changes) and not args.no_challenger:
        raise UsageError("nothing to change: give --mode, --challenger, --share, --log or --sample-rate")
    if args.no_challenger and (args.challenger or args.mode not in (None, Mode.SINGLE)):
        raise UsageError("--no-challenger takes the challenger out; it cannot go with --challenger or --mode")
    store = store_from(args)
    result = deployments.set_deployment(
        store, args.name, mode=args.mode, challenger=args.challenger,
        share=parse_fraction(args.share, "--share"), log_mode=args.log_mode,
        sample_rate=parse_fraction(args.sample_rate, "--sample-rate"), clear_challenger=args.no_challenger,
        reason=args.reason)
    return _done(args, result)


def cmd_promote(args: argparse.Namespace) -> int:
    from serving.traffic import deployments

    return _done(args, deployments.promote(store_from(args), args.name, reason=args.reason))


def cmd_rollback(args: argparse.Namespace) -> int:
    from serving.traffic import deployments

    return _done(args, deployments.rollback(store_from(args), args.name, reason=args.reason))
