"""wk scheduler: the daemon that runs the store's jobs (foreground; systemd keeps it
running), and `--status`, which says whether one runs."""

from __future__ import annotations

import argparse

from console.cli.parser import Commands

LOG_LEVELS = ("debug", "info", "warning", "error")


def register(nouns: Commands) -> None:
    p = nouns.command(
        "scheduler", f"{__name__}:cmd_scheduler",
        "run the job scheduler daemon in the foreground (one per store), or --status",
        "Run the store's jobs on their timetable: one daemon per store (a second one is "
        "refused, naming the holder), JSON-lines logs on stderr. Stop it with SIGTERM or "
        "Ctrl-C: running jobs get --stop-grace seconds to finish.")
    p.add_argument("--workers", type=int, default=4, metavar="N",
                   help="runs at the same time (default 4)")
    p.add_argument("--stop-grace", type=float, default=10.0, metavar="SECONDS",
                   help="on SIGTERM, how long running jobs may finish before they are killed "
                        "(default 10; keep systemd's TimeoutStopSec above it)")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                   help="least important log lines written (default info)")
    p.add_argument("--status", action="store_true",
                   help="say whether a daemon runs on the store (exit 0) or not (exit 3), and "
                        "what it does")


def cmd_scheduler(args: argparse.Namespace) -> int:
    from console.cli.common import store_from
    from store.errors import UsageError

    if args.status:
        return _status(args)
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers} must be 1 or more")
    if args.stop_grace < 0:
        raise UsageError(f"--stop-grace {args.stop_grace} must be 0 or more")
    import logging

    from scheduler import json_log
    from scheduler.daemon import Daemon

    json_log.setup(getattr(logging, args.log_level.upper()))
    store = store_from(args)
    try:
        return Daemon(store, workers=args.workers, stop_grace_s=args.stop_grace).run()
    finally:
        store.close()


def _status(args: argparse.Namespace) -> int:
    from console.cli.common import store_from
    from console.cli.errors import ExitCode
    from console.cli.output import emit_json, fields, table
    from scheduler.status import daemon_status

    store = store_from(args)
    try:
        status = daemon_status(store)
    finally:
        store.close()
    code = ExitCode.OK if status["alive"] else ExitCode.STORE_UNAVAILABLE
    if args.json:
        emit_json(status)
        return int(code)
    holder = status["holder"]
    pairs: list[tuple[str, object]] = [("scheduler", status["state"])]
    if holder:
        pairs += [("host", holder["host"]), ("pid", holder["pid"]), ("since", holder["since"]),
                  ("heartbeat", f"{status['heartbeat_age_s']:.0f} s ago"),
                  ("timetable", f"{status['timetable_jobs']} jobs scheduled")]
    pairs += [("jobs", f"{status['jobs']} ({status['paused']} paused)"),
              ("running", len(status["running"]))]
    if holder and status["wal_bytes"] is not None:
        pairs.append(("wal", f"{status['wal_bytes'] / 2**20:.1f} MB"))
    if holder and status["note"]:
        pairs.append(("warning", status["note"]))
    fields(pairs)
    if status["running"]:
        table(["run", "job", "pid", "started"],
              [(r["run"], r["job"], r["pid"], r["started_at"]) for r in status["running"]])
    return int(code)
