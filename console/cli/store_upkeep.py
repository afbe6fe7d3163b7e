"""wk store backup|check|vacuum|usage: the store's upkeep and what it holds."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    sv = nouns.noun("store", help="back up, check, vacuum the store; its disk use")
    p = sv.command("backup", f"{__name__}:cmd_backup",
                   "a consistent copy of the store (database and artifacts) into a new folder, "
                   "while servers and jobs keep running", tables=True)
    p.add_argument("path", help="a new or empty folder (outside the store)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the quick check of the copy afterwards")
    p = sv.command("check", f"{__name__}:cmd_check",
                   "integrity of the database and every artifact's sha256; exit 1 when "
                   "something is wrong (warnings do not fail)", tables=True)
    p.add_argument("--quick", action="store_true",
                   help="quick_check instead of integrity_check (skips the index cross-checks)")
    sv.command("vacuum", f"{__name__}:cmd_vacuum",
               "rewrite the database to give deleted rows' space back; takes the write lock "
               "for its whole run, so run it when nothing else writes", tables=True)
    sv.command("usage", f"{__name__}:cmd_usage",
               "disk per model (artifacts, prediction log, reports), served memory, totals",
               tables=True)


def cmd_backup(args: argparse.Namespace) -> int:
    from store.backup import backup

    result = backup(store_from(args), args.path, verify=not args.no_verify)
    if args.json:
        emit_json(result)
    else:
        a = result["artifacts"]
        info(f"backup written to {result['dest']} in {result['seconds']:.1f} s")
        fields([("database", _mb(result["database_bytes"])), ("predictions",
                result["counts"].get("prediction", 0)),
                ("artifacts", f"{a['copied']} files, {_mb(a['bytes'])}"),
                ("schema revision", result["schema_revision"]),
                ("manifest", result["manifest"]),
                ("check", "not run" if "check" not in result else
                 "ok" if result["check"]["ok"] else "; ".join(result["check"]["problems"]))])
        for sha in a["missing"] + a["mismatched"]:
            info(f"artifact {sha} was not copied (missing or changed in the store)")
    not_copied = result["artifacts"]["missing"] or result["artifacts"]["mismatched"]
    return 1 if not_copied or not result.get("check", {"ok": True})["ok"] else 0


def cmd_check(args: argparse.Namespace) -> int:
    from store.integrity import check

    result = check(store_from(args), quick=args.quick)
    if args.json:
        emit_json(result)
    else:
        a = result["artifacts"]
        fields([("store", result["store"]),
                ("database", ("ok" if result.get("integrity_errors") == 0 else
                              f"{result.get('integrity_errors')} problem(s)")
                 if "integrity" in result else result.get("database")),
                ("foreign keys", result.get("foreign_key_errors", "-")),
                ("artifacts", f"{a['checked']} of {a['registered']} checked, "
                 f"{len(a['missing'])} missing, {len(a['mismatched'])} changed, "
                 f"{len(a['orphans'])} orphan"),
                ("sqlite", result["sqlite_version"]),
                ("wal", _mb(result["wal_bytes"]) if "wal_bytes" in result else "-"),
                ("seconds", result["seconds"])])
        for problem in result["problems"]:
            info(f"problem: {problem}")
        for warning in result["warnings"]:
            info(f"warning: {warning}")
    return 0 if result["ok"] else 1


def cmd_vacuum(args: argparse.Namespace) -> int:
    from store.vacuum import vacuum

    result = vacuum(store_from(args))
    if args.json:
        emit_json(result)
    else:
        fields([("before", _mb(result["before_bytes"])), ("after", _mb(result["after_bytes"])),
                ("freed", _mb(result["freed_bytes"])), ("auto vacuum", result["auto_vacuum"]),
                ("seconds", result["seconds"])])
    return 0


def cmd_usage(args: argparse.Namespace) -> int:
    from scheduler.cost_report import usage_report

    report = usage_report(store_from(args))
    if args.json:
        emit_json(report)
        return 0
    money = report["prices"]["gb_month"] is not None
    table([col.name("model"), col.fixed("artifacts"), col.fixed("log rows"),
           col.fixed("log size"), col.fixed("quarantine", drop=2), col.fixed("reports", drop=1),
           col.fixed("total"), col.fixed("served memory", drop=1)]
          + ([col.fixed("disk/month")] if money else []),
          [[m["model"], _mb(m["artifacts_bytes"]), m["predictions_rows"],
            _mb(m["predictions_bytes"]), _mb(m["quarantine_bytes"]), _mb(m["reports_bytes"]),
            _mb(m["total_bytes"]), ", ".join(f"v{s['version']} {_mb(s['bytes'])}"
                                            for s in m["served_memory"]) or "-"]
           + ([m["disk_cost_month"]] if money else []) for m in report["models"]],
          empty="no models yet")
    t = report["totals"]
    fields([("database", _mb(t["database_bytes"])), ("wal", _mb(t["wal_bytes"])),
            ("artifacts", f"{t['artifact_files']} files, {_mb(t['artifacts_bytes'])}"),
            ("store", _mb(t["store_bytes"])), ("log bytes from", report["method"]["table_bytes"])]
           + ([("disk/month", f"{t['disk_cost_month']} {report['prices']['currency']}".strip())]
              if money else [("prices", "not set: add [cost] gb_month = ... and cpu_hour = ... "
                              "to watchkeeper.toml in the store folder")]))
    return 0


def _mb(nbytes: int | None) -> str:
    if nbytes is None:
        return "-"
    if nbytes < 1024:
        return f"{nbytes} B"
    return f"{nbytes / 2**20:.1f} MB" if nbytes >= 2**20 // 10 else f"{nbytes / 1024:.1f} KB"
