"""Before `wk serve` loads anything: can it listen on --host/--port? If not, one
`wk: error:` line saying why and what to pass instead, not a uvicorn log line after the
models have loaded.

The check binds the address the way uvicorn does (SO_REUSEADDR, so a port that only has
connections closing in TIME_WAIT is free) and closes it again; a server that takes the
port in the moment between is still reported by uvicorn."""

from __future__ import annotations

import errno
import socket

from store.errors import UsageError

#: how many ports above a busy one are tried for a free one to suggest
SUGGEST_WITHIN = 20


def _bind(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def free_port_near(host: str, port: int) -> int | None:
    """The first port above `port` that `host` can listen on, if one is near."""
    for candidate in range(port + 1, min(port + 1 + SUGGEST_WITHIN, 65536)):
        try:
            _bind(host, candidate)
        except OSError:
            continue
        return candidate
    return None


def check_listen(host: str, port: int) -> None:
    """Raise a UsageError naming the problem and the flag to change when `host:port`
    cannot be listened on."""
    try:
        _bind(host, port)
    except socket.gaierror as exc:
        raise UsageError(f"host {host!r} is not an address or a known name ({exc.strerror}); "
                         "pass --host 127.0.0.1 (this machine) or --host 0.0.0.0 (every address)") from exc
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            near = free_port_near(host, port)
            raise UsageError(f"port {port} on {host} is in use (another wk serve, or another server, "
                             f"listens there); pass --port {near or 'N'} or stop what listens on {port}"
                             ) from exc
        if exc.errno == errno.EACCES:
            raise UsageError(f"port {port} on {host} needs privileges this account lacks; "
                             "pass --port 1024 or higher (the default is 8765)") from exc
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"{host} is not an address of this machine; pass --host 127.0.0.1 "
                             "or --host 0.0.0.0 (every address)") from exc
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror}; "
                         "pass another --host or --port") from exc
