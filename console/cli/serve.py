"""wk serve: the HTTP prediction API on this store."""

from __future__ import annotations

import argparse

from console.cli.common import store_from
from store.errors import UsageError


def cmd_serve(args: argparse.Namespace) -> int:
    from serving.http.api import ServerConfig
    from serving.http.server import serve

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port (1-65535)")
    for option, value in (("--max-body", args.max_body), ("--max-rows", args.max_rows),
                          ("--timeout", args.timeout), ("--poll", args.poll)):
        if value <= 0:
            raise UsageError(f"{option} {value} must be positive")
    store = store_from(args)
    config = ServerConfig(max_body_bytes=args.max_body, max_rows=args.max_rows, timeout_s=args.timeout,
                          poll_interval_s=args.poll, models=frozenset(args.models) or None)
    serve(store, config, host=args.host, port=args.port, access_log=args.access_log)
    return 0
