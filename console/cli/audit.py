"""wk audit."""

from __future__ import annotations

import argparse

from console.cli.common import parse_time, store_from
from console.cli.output import emit_json, fmt, table


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
        table(["id", "at", "actor", "action", "target", "change", "reason"],
              [[e["id"], e["at"], e["actor"], e["action"], e["target"],
                f"{fmt(e['before'])} -> {fmt(e['after'])}" if e["before"] else fmt(e["after"]),
                e["reason"]] for e in events], empty="no audit events match")
    return 0
