"""wk audit."""

from __future__ import annotations

import argparse
import sys

from console.cli import tables as col
from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, fields, fmt, info, table
from console.cli.parser import Commands, model_name

#: Events a table or --json shows when no --limit is given (an export has no default limit).
SHOWN = 100


def register(nouns: Commands) -> None:
    p = nouns.command("audit", f"{__name__}:cmd_audit",
                      "the audit log, newest first; --jsonl or --out exports every match",
                      tables=True)
    p.add_argument("--actor", help="who acted, exactly: an account, token:NAME or job:NAME")
    p.add_argument("--action", help="action or prefix, e.g. alias.promote or alias.")
    model_name(p.add_argument("--model", help="events about this model (its versions, aliases, runs)"))
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d")
    p.add_argument("--until", help="ISO time or a span back from now")
    p.add_argument("--limit", type=int, default=None,
                   help=f"at most this many events (default {SHOWN} in a table or --json, "
                        "all of them in an export)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--jsonl", action="store_true",
                     help="every matching event as JSON lines on stdout, oldest first")
    out.add_argument("--out", metavar="FILE",
                     help="write every matching event as JSON lines to FILE (created 0600), "
                          "oldest first")


def cmd_audit(args: argparse.Namespace) -> int:
    from console.cli.errors import ExitCode
    from console.cli.output import error
    from registry.audit_log import AuditFilter, audit_log, export_audit

    if args.limit is not None and args.limit < 1:
        error(f"--limit must be 1 or more, not {args.limit}")
        return int(ExitCode.USAGE)
    where = AuditFilter(actor=args.actor, action=args.action, model=args.model,
                        since=parse_time(args.since, "--since"),
                        until=parse_time(args.until, "--until"))
    store = store_from(args)
    if args.jsonl or args.out:
        result = export_audit(store, where, args.out or sys.stdout.buffer, limit=args.limit)
        if args.out:
            if args.json:
                emit_json(result)
            else:
                info(f"wrote {result['events']} audit events to {result['file']}")
                fields(result.items())
        return 0
    events = audit_log(store, actor=where.actor, action=where.action, model=where.model,
                       since=where.since, until=where.until, limit=args.limit or SHOWN)
    if args.json:
        emit_json(events)
    else:
        table([col.fixed("id", drop=2), col.time("at"), col.name("actor", 8), col.fixed("action"),
               col.name("target", 18), col.payload("change", 12, drop=1), col.text("reason")],
              [[e["id"], e["at"], e["actor"], e["action"], e["target"],
                f"{fmt(e['before'])} -> {fmt(e['after'])}" if e["before"] else fmt(e["after"]),
                e["reason"]] for e in events], empty="no audit events match")
    return 0
