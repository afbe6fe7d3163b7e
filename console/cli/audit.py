"""wk audit."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, fmt, table
from console.cli.parser import Commands, model_name


def register(nouns: Commands) -> None:
    p = nouns.command("audit", f"{__name__}:cmd_audit", "the audit log, newest first",
                      tables=True)
    p.add_argument("--actor")
    p.add_argument("--action", help="action or prefix, e.g. alias.promote or alias.")
    model_name(p.add_argument("--model"))
    p.add_argument("--since", help="ISO time or a span back from now: 30m, 12h, 7d")
    p.add_argument("--until", help="ISO time or a span back from now")
    p.add_argument("--limit", type=int, default=100)


def cmd_audit(args: argparse.Namespace) -> int:
    from registry.audit_log import audit_log

    events = audit_log(
        store_from(args), actor=args.actor, action=args.action, model=args.model,
        since=parse_time(args.since, "--since"), until=parse_time(args.until, "--until"),
        limit=args.limit,
    )
    if args.json:
        emit_json(events)
    else:
        table([col.fixed("id", drop=2), col.time("at"), col.name("actor", 8), col.fixed("action"),
               col.name("target", 18), col.payload("change", 12, drop=1), col.text("reason")],
              [[e["id"], e["at"], e["actor"], e["action"], e["target"],
                f"{fmt(e['before'])} -> {fmt(e['after'])}" if e["before"] else fmt(e["after"]),
                e["reason"]] for e in events], empty="no audit events match")
    return 0
