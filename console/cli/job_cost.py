"""wk jobs cost: what the job runs cost, per model and per job, over 7 or 30 days, and
money per model per month with the store's prices (watchkeeper.toml [cost]).

`add_cost_commands(jobs_noun)` adds the verb to the `jobs` noun (console/cli/jobs.py
calls it)."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands, model_name

DAYS = (7, 30)


def add_cost_commands(jobs_noun: Commands) -> None:
    p = jobs_noun.command("cost", f"{__name__}:cmd_cost",
                          "CPU, memory and wall time of the job runs per model and per job, "
                          "and money per month with the store's prices", tables=True)
    model_name(p.add_argument("--model", help="only this model's runs"))
    p.add_argument("--days", type=int, choices=DAYS, default=30,
                   help="the window summed (default 30)")


def cmd_cost(args: argparse.Namespace) -> int:
    from scheduler.cost_report import cost_report

    report = cost_report(store_from(args), args.days, model=args.model)
    if args.json:
        emit_json(report)
        return 0
    money = report["prices"]["configured"]
    table([col.name("model"), col.fixed("runs"), col.fixed("cpu h"), col.fixed("wall s", drop=2),
           col.fixed("peak MB", drop=1), col.fixed("disk MB")]
          + ([col.fixed("cpu cost"), col.fixed("per month")] if money else []),
          [[m["model"] or "(store jobs)", m["runs"], f"{m['cpu_hours']:.3f}", f"{m['wall_s']:.0f}",
            _peak(m["peak_memory_mb"]), f"{m['disk_bytes'] / 2**20:.1f}"]
           + ([m["cpu_cost"], m["monthly"]["total"]] if money else []) for m in report["models"]],
          empty="no models yet")
    info(f"per job, last {report['days']} days:")
    table([col.name("job"), col.fixed("kind"), col.name("model", drop=1), col.fixed("runs"),
           col.fixed("cpu h"), col.fixed("wall s", drop=2), col.fixed("peak MB", drop=1)]
          + ([col.fixed("cpu cost"), col.fixed("cpu/month")] if money else []),
          [[j["job"], j["kind"], j["model"] or "-", j["runs"], f"{j['cpu_hours']:.3f}",
            f"{j['wall_s']:.0f}", _peak(j["peak_memory_mb"])]
           + ([j["cpu_cost"], j["monthly_cpu"]] if money else []) for j in report["jobs"]],
          empty=f"no job runs in the last {report['days']} days")
    t = report["totals"]
    prices = report["prices"]
    fields([("runs", f"{t['runs']} ({t['measured']} measured)"),
            ("cpu hours", f"{t['cpu_hours']:.3f}")]
           + ([("cpu cost", t["cpu_cost"]), ("per month", f"{t['monthly_total']} "
                                                          f"{prices['currency']}".strip())]
              if money else [("prices", "not set: add [cost] cpu_hour = ... and gb_month = ... "
                              "to watchkeeper.toml in the store folder")]))
    return 0


def _peak(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
