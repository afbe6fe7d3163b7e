"""wk monitor reports MODEL: the stored drift, quality and performance reports of a
model, newest window first (one table per kind; --json: one list, each report with its
kind)."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, section, table
from console.cli.parser import Commands, model_name

KINDS = ("drift", "quality", "performance")


def register(verbs: Commands) -> None:
    p = verbs.command("reports", f"{__name__}:cmd_reports", "a model's stored reports, newest first",
                      tables=True)
    model_name(p.add_argument("model", help="the model's name"))
    p.add_argument("--kind", choices=KINDS, help="one kind only (default: all three)")
    p.add_argument("--version", help="reports of one version (a number or an alias)")
    p.add_argument("--since", help="windows ending after: ISO time or a span back from now (7d)")
    p.add_argument("--limit", type=int, default=50, help="the most reports of each kind (default 50)")


def cmd_reports(args: argparse.Namespace) -> int:
    from monitoring import reading

    store = store_from(args)
    since = parse_time(args.since, "--since")
    kinds = [args.kind] if args.kind else list(KINDS)
    found = {kind: reading.reports(store, args.model, kind, version=args.version, since=since,
                                   limit=args.limit) for kind in kinds}
    if args.json:
        emit_json([r for kind in kinds for r in found[kind]])
        return 0
    for n, kind in enumerate(kinds):
        if len(kinds) > 1:
            if n:
                section(f"{kind} reports")
            else:
                print(f"{kind} reports")
        TABLES[kind](found[kind], f"no {kind} reports for {args.model}")
    return 0


def _version(r: dict[str, Any]) -> str:
    return f"v{r['version']}" if r["version"] is not None else "-"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def drift_table(rows: list[dict[str, Any]], empty: str) -> None:
    table([col.fixed("id"), col.time("window end"), col.fixed("ver"), col.fixed("status"),
           col.fixed("drifted"), col.fixed("share", drop=1), col.fixed("auc"), col.fixed("rows", drop=2),
           col.text("reason")],
          [[str(r["id"]), r["window_end"], _version(r), r["status"], f"{r['drifted']}/{r['features']}",
            _share(r["drift_share"]), _number(r["domain_auc"]), str(r["rows"]), r["reason"] or "-"]
           for r in rows], empty=empty)


def _first_finding(r: dict[str, Any]) -> str:
    findings = sorted(r["findings"] or [], key=lambda f: f.get("severity") != "error")
    if not findings:
        return "-"
    f = findings[0]
    return f"{f.get('column') or '-'}: {f.get('reason') or f.get('check')}"


def quality_table(rows: list[dict[str, Any]], empty: str) -> None:
    table([col.fixed("id"), col.time("window end"), col.fixed("ver"), col.fixed("status"),
           col.fixed("rows", drop=2), col.fixed("errors"), col.fixed("warnings", drop=1),
           col.fixed("quarantined", drop=3), col.text("first finding")],
          [[str(r["id"]), r["window_end"], _version(r), r["status"], str(r["rows"]), str(r["errors"]),
            str(r["warnings"]), str(r["quarantined"]), _first_finding(r)] for r in rows], empty=empty)


def _metric(r: dict[str, Any], part: str) -> str:
    value = (r[part] or {}).get(r["metric"]) if r["metric"] else None
    return _number(value)


def performance_table(rows: list[dict[str, Any]], empty: str) -> None:
    table([col.fixed("id"), col.time("window end"), col.fixed("ver"), col.fixed("status"),
           col.fixed("metric"), col.fixed("realised"), col.fixed("estimate", drop=1),
           col.fixed("coverage"), col.text("reason", drop=2)],
          [[str(r["id"]), r["window_end"], _version(r), r["status"] + (" thin" if r["thin"] and
            r["status"] != "insufficient" else ""), r["metric"] or "-", _metric(r, "realised"),
            _metric(r, "estimated"), _share(r["coverage"]), r["reason"] or "-"] for r in rows], empty=empty)


TABLES = {"drift": drift_table, "quality": quality_table, "performance": performance_table}
