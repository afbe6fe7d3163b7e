"""wk serve: the HTTP prediction API on this store."""

from __future__ import annotations

import argparse
import sys

from console.cli.common import store_from
from console.cli.parser import Commands, model_name
from store.artifacts import load_safe_format
from store.errors import UsageError


def register(nouns: Commands) -> None:
    p = nouns.command("serve", f"{__name__}:cmd_serve", "answer predictions over HTTP (FastAPI on uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    model_name(p.add_argument("--model", action="append", default=[], dest="models", metavar="NAME",
                              help="serve only this model (repeatable; default: every model with a "
                                   "production version)"))
    p.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES",
                   help="largest request body; bigger ones get 413 (default 1 MiB)")
    p.add_argument("--max-rows", type=int, default=10_000, help="most rows in one request (default 10000)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="per request: scoring plus logging (default 10); past it: 504/503")
    p.add_argument("--poll", type=float, default=0.5, metavar="SECONDS",
                   help="how often deployment changes are read (default 0.5)")
    p.add_argument("--access-log", action="store_true", help="log every request (JSON lines)")
    p.add_argument("--no-auth", action="store_true",
                   help="answer without API tokens (local experiments only: anyone who can reach "
                        "the port may score and label; said at start and in /readyz)")
    p.add_argument("--rate-limit", metavar="RATE",
                   help="a token's requests per second when it sets none, e.g. 50/s or 3000/min "
                        "(default: [serving] rate_per_s in watchkeeper.toml, else 50/s)")
    p.add_argument("--burst", type=int, metavar="N",
                   help="requests a token may make at once with --rate-limit (default: 2 s worth)")


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port (1-65535)")
    for option, value in (("--max-body", args.max_body), ("--max-rows", args.max_rows),
                          ("--timeout", args.timeout), ("--poll", args.poll)):
        if value <= 0:
            raise UsageError(f"{option} {value} must be positive")
    rate = _rate(args.rate_limit, args.burst)
    from console.cli.ports import check_listen

    check_listen(args.host, args.port)  # before the models load: a busy port is said in one line
    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from serving.http.api import ServerConfig
    from serving.http.server import serve

    store = store_from(args)
    config = ServerConfig(max_body_bytes=args.max_body, max_rows=args.max_rows, timeout_s=args.timeout,
                          poll_interval_s=args.poll, models=frozenset(args.models) or None,
                          auth=not args.no_auth, rate_per_s=rate, burst=args.burst)
    if args.no_auth:
        sys.stderr.write("wk: WARNING: serving without API tokens (--no-auth): anyone who can reach "
                         f"{args.host}:{args.port} may score, label and read; for local experiments only\n")
    serve(store, config, host=args.host, port=args.port, access_log=args.access_log)
    return 0


def _rate(text: str | None, burst: int | None) -> float | None:
    if text is None:
        if burst is not None:
            raise UsageError("--burst needs --rate-limit (the rate the bucket refills at)")
        return None
    from serving.http.ratelimit import parse_rate

    try:
        rate = parse_rate(text)
    except ValueError as exc:
        raise UsageError(f"--rate-limit: {exc}") from None
    if burst is not None and burst < 1:
        raise UsageError(f"--burst {burst} must be 1 or more")
    return rate
