"""A throwaway PostgreSQL server on 127.0.0.1 for tests, started and stopped by them.

Uses the machine's PostgreSQL binaries (Debian's postgresql package); initdb refuses to
run as root, so as root the cluster runs as the `postgres` account.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def find_bin_dir() -> Path | None:
    """Debian keeps the real binaries per version; PATH may only hold wrappers."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable_reason() -> str | None:
    if find_bin_dir() is None:
        return "no PostgreSQL server binaries (install Debian's postgresql package)"
    if os.getuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' account to run initdb as"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database; stop and delete the server after."""
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    data = Path(tempfile.mkdtemp(prefix="wk-pg-"))
    port = _free_port()
    prefix: list[str] = []
    if os.getuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(data, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
        user = "postgres"
    else:
        user = pwd.getpwuid(os.getuid()).pw_name

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", user, "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {data} -F", "start")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "watchkeeper")
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/watchkeeper"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast",
                        "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(data, ignore_errors=True)


def use_new_database(pg_url: str, name: str, monkeypatch: Any) -> None:
    """A database of its own on the test server, as WK_DATABASE_URL (`monkeypatch` is
    pytest's, which puts the variable back after the test)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    monkeypatch.setenv("WK_DATABASE_URL", pg_url.rsplit("/", 1)[0] + f"/{name}")
