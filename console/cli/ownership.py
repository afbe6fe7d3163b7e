"""wk models transfer (hand a model to a new owner and team) and wk models request-approval
(ask for a version to become production, for a model whose approval policy requires it)."""

from __future__ import annotations

import argparse

from console.cli.common import store_from
from console.cli.output import emit_json, info
from console.cli.parser import Commands, model_name


def register_ownership(mv: Commands) -> None:
    """Add `transfer` and `request-approval` to the `models` noun."""
    here = __name__
    p = mv.command("transfer", f"{here}:cmd_transfer",
                   "hand a model to a new owner (a user of the store) and team")
    model_name(p.add_argument("name"))
    p.add_argument("--owner", required=True, help="the new owner: a user of the store")
    p.add_argument("--team", default=None, help="the team that runs it now (default: unchanged)")
    p.add_argument("--reason", default="", help="why (required; kept in the audit log)")
    p = mv.command("request-approval", f"{here}:cmd_request",
                   "ask for a version to become production (an owner or operator approves)")
    model_name(p.add_argument("name"))
    p.add_argument("version", type=int, help="the version's number")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")


def cmd_transfer(args: argparse.Namespace) -> int:
    from registry.ownership import transfer_model

    result = transfer_model(store_from(args), args.name, args.owner, team=args.team,
                            reason=args.reason)
    if args.json:
        emit_json(result)
    elif not result["changed"]:
        info(f"{args.name} already belongs to {result['owner']} (team {result['team'] or '-'}); "
             "nothing changed")
    else:
        before = result["before"]
        info(f"{args.name}: owner {before['owner'] or '-'} -> {result['owner']}, team "
             f"{before['team'] or '-'} -> {result['team'] or '-'}")
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    from registry.approvals import request_approval

    result = request_approval(store_from(args), args.name, args.version, reason=args.reason)
    if args.json:
        emit_json(result)
    else:
        info(f"{args.name} v{args.version} waits for approval (wk models approve {args.name} "
             f"{args.version} --reason ...)")
    return 0
