"""wk tokens create|list|revoke: API tokens for `wk serve` (the work is in store/tokens.py;
this module parses and prints). A token's secret is printed once, when it is created."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands, model_name
from store.errors import UsageError

ROLES = ("viewer", "scientist", "operator", "admin")
DURATION = re.compile(r"^(\d+)\s*([dhm])$")
SECONDS_OF = {"d": 86400, "h": 3600, "m": 60}


def register(nouns: Commands) -> None:
    here = __name__
    tk = nouns.noun("tokens", help="API tokens for the HTTP server (wk serve): create, list, revoke")
    p = tk.command("create", f"{here}:cmd_create", "create a token; its secret is printed once",
                   description="Create an API token for 'wk serve'. The secret is printed once "
                               "and only its hash is kept: store it where the client reads it. "
                               "Clients send it as 'Authorization: Bearer <token>'.")
    p.add_argument("name", help="the token's name (letters, digits, . _ -), shown in listings, "
                                "metrics and the audit log")
    p.add_argument("--role", required=True, choices=ROLES,
                   help="what the token may do (viewer and up may score; scientist and up may label)")
    model_name(p.add_argument("--models", metavar="A,B",
                              help="only these models (comma-separated); default: every model"))
    p.add_argument("--expires", metavar="WHEN",
                   help="when it stops working: 30d, 12h, 90m from now, or a date (2027-01-31) or "
                        "time (2027-01-31T12:00) in UTC; default: never")
    p.add_argument("--rate", metavar="RATE",
                   help="its requests per second, e.g. 10/s or 600/min (default: the server's)")
    p.add_argument("--burst", type=int, metavar="N",
                   help="requests it may make at once, with --rate (default: 2 s worth)")
    p.add_argument("--note", default="", help="what it is for (kept in the audit log)")
    tk.command("list", f"{here}:cmd_list", "every token with its status and last use (never "
               "its secret)", tables=True)
    p = tk.command("revoke", f"{here}:cmd_revoke",
                   "revoke a token: a running server refuses it within about a second")
    p.add_argument("name")
    p.add_argument("--reason", required=True, help="why (kept in the audit log)")


def register_model_limit(models: Commands) -> None:
    """`wk models rate-limit NAME --rate 20/s [--burst 40] | --off` (under the models noun)."""
    p = models.command("rate-limit", f"{__name__}:cmd_model_limit",
                       "a model's own rate limit on wk serve, shared by every caller (429 past it)")
    model_name(p.add_argument("name"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--rate", metavar="RATE", help="requests per second for the model, e.g. 20/s "
                                                      "or 1200/min")
    group.add_argument("--off", action="store_true", help="remove the model's limit")
    p.add_argument("--burst", type=int, metavar="N", help="requests at once (default: 2 s worth)")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")


def _parsed_rate(option: str, text: str) -> float:
    from serving.http.ratelimit import parse_rate

    try:
        return parse_rate(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def cmd_model_limit(args: argparse.Namespace) -> int:
    from registry.rate_limits import set_rate_limit

    if args.off and args.burst is not None:
        raise UsageError("--burst goes with --rate, not --off")
    rate = None if args.off else _parsed_rate("--rate", args.rate)
    out = set_rate_limit(store_from(args), args.name, rate, args.burst, reason=args.reason)
    if args.json:
        emit_json(out)
        return 0
    info(f"{out['model']}: " + (f"at most {out['rate_per_s']:g} requests a second, bursts of "
                                 f"{out['burst']}" if out["rate_per_s"] else "no rate limit of its own")
         + ("" if out["changed"] else " (unchanged)") + "; a running server applies it within about a second")
    return 0


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """'30d', '12h', '90m' from now, or an ISO date or time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    m = DURATION.match(text.strip().lower())
    if m is not None:
        amount = int(m.group(1))
        if amount <= 0:
            raise UsageError(f"--expires {text}: the duration must be above 0")
        return now + timedelta(seconds=amount * SECONDS_OF[m.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--expires {text!r} is neither a duration (30d, 12h, 90m) nor a date "
                         "(2027-01-31) or time (2027-01-31T12:00)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _models(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--models needs at least one model name (comma-separated)")
    return names


def cmd_create(args: argparse.Namespace) -> int:
    from store.tokens import create_token

    rate = _parsed_rate("--rate", args.rate) if args.rate is not None else None
    if rate is None and args.burst is not None:
        raise UsageError("--burst needs --rate (the rate the bucket refills at)")
    expires = parse_expiry(args.expires) if args.expires else None
    out = create_token(store_from(args), args.name, args.role, models=_models(args.models),
                       expires_at=expires, rate_per_s=rate, burst=args.burst, note=args.note)
    if args.json:
        emit_json(out)
        return 0
    info(f"created token {out['name']} (role {out['role']}, "
         f"models {', '.join(out['models']) if out['models'] else 'all'}, "
         f"expires {out['expires_at'] or 'never'})")
    sys.stdout.write(out["secret"] + "\n")
    info("this secret will not be shown again: only its hash is kept. Send it as "
         "'Authorization: Bearer <token>'.")
    return 0


def _rate_text(row: dict[str, object]) -> str:
    rate = row["rate_per_s"]
    if rate is None:
        return "server"
    return f"{rate:g}/s" + (f" x{row['burst']}" if row["burst"] else "")


def cmd_list(args: argparse.Namespace) -> int:
    from store.tokens import list_tokens

    rows = list_tokens(store_from(args))
    if args.json:
        emit_json(rows)
        return 0
    table([col.name("token", 12), col.fixed("prefix"), col.fixed("role"), col.fixed("status"),
           col.text("models", 10, drop=2), col.fixed("rate"), col.text("expires", 10, drop=3),
           col.text("last use", 16), col.fixed("uses")],
          [[r["name"], r["prefix"] + "...", r["role"], r["status"],
            ", ".join(r["models"]) if r["models"] else "all", _rate_text(r),
            (r["expires_at"] or "never")[:16], (r["last_used_at"] or "never")[:19],
            r["uses"]] for r in rows],
          empty="no tokens yet: create one with 'wk tokens create NAME --role viewer'")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from store.tokens import revoke_token

    out = revoke_token(store_from(args), args.name, reason=args.reason)
    if args.json:
        emit_json(out)
        return 0
    fields([("revoked", out["name"]), ("prefix", out["prefix"] + "..."),
            ("at", out["revoked_at"]), ("by", out["revoked_by"]),
            ("note", "a running server refuses it within about a second")])
    return 0
