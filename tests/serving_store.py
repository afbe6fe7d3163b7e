"""Stores and servers for the serving tests: models registered from Python (fast), and
`wk serve` started as a real process on 127.0.0.1, stopped afterwards."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
TINY_ROW = {"x1": 0.5, "x2": -0.25, "colour": "red"}
NUM_ROW = {"a": 0.1, "b": 1.5, "c": -0.3}


def tiny_frame(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=rows).round(4), "x2": rng.normal(size=rows).round(4),
                          "colour": rng.choice(["red", "green", "blue"], size=rows)})
    logit = 2.0 * frame.x1 - 1.5 * frame.x2 + (frame.colour == "red") * 1.0
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, label


#: (versions, numeric) -> a store built once in this process, never opened again: each
#: build_store call gets a copy (a build trains and registers 2-3 models, ~1.5-6 s; a copy
#: of the closed store's files takes milliseconds).
_BUILT: dict[tuple[int, bool], Path] = {}


def build_store(root: Path, *, versions: int = 2, numeric: bool = True) -> Path:
    """A store with `tiny` (ColumnTransformer + LR; v1 production, more versions with other
    C) and `num` (numeric-only LR, v1 production), at `root` (which must not exist yet).
    Returns the store folder."""
    template = _BUILT.get((versions, numeric))
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="wk-test-store-")) / "store"
        atexit.register(shutil.rmtree, template.parent, True)
        _build_store(template, versions=versions, numeric=numeric)
        _BUILT[(versions, numeric)] = template
    shutil.copytree(template, root)
    return root


def _build_store(root: Path, *, versions: int, numeric: bool) -> None:
    sys.path.insert(0, str(FIXTURES))
    from sklearn.linear_model import LogisticRegression
    from tiny_model import train

    from registry.aliases import promote
    from registry.registration import register_estimator
    from store.handle import init_store

    store, _ = init_store(root)
    try:
        X, y = tiny_frame()
        for i in range(versions):
            register_estimator(store, "tiny", train(X, y, {"C": 1.0 / (i + 1)}), training_data=X)
        promote(store, "tiny", 1, "production", reason="tests")
        if numeric:
            rng = np.random.default_rng(3)
            N = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
            yn = (N.a + N.b > 0).astype(int)
            register_estimator(store, "num", LogisticRegression().fit(N, yn), training_data=N)
            promote(store, "num", 1, "production", reason="tests")
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def auth_args(token: str | None) -> tuple[str, ...]:
    """The serving tests' servers run without API tokens (--no-auth) unless a test gives
    one: they test serving, and tests/test_api_tokens.py tests the tokens."""
    return () if token else ("--no-auth",)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Server:
    """`wk serve` in its own process (with `token`: API tokens on, readiness asked with it)."""

    def __init__(self, store: Path, port: int | None = None, args: tuple[str, ...] = (),
                 log: Path | None = None, token: str | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.args = (*auth_args(token), *args)
        self.token = token
        self.log = log or store.parent / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        env = {**os.environ, "WK_STORE": str(self.store)}
        env.pop("WK_DATABASE_URL", None)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "console.cli", "serve", "--port", str(self.port), *self.args],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wk serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1, headers=bearer(self.token)).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"wk serve not ready within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


#: `wk ARGS` in a child forked from a `killtest.ForkServer`: the store from argv[1], the
#: command's arguments after it; the child's exit code is the command's.
WK_CHILD = r"""
import os, sys
os.environ["WK_STORE"] = sys.argv[1]
os.environ.pop("WK_DATABASE_URL", None)
from console.cli import main
sys.exit(main(sys.argv[2:]))
"""
#: What `wk serve` imports before it opens the store (imported once by the fork server;
#: a fresh interpreter spends ~5 s of a start on these under load).
SERVE_PRELOAD = ("console.cli", "console.cli.serve", "console.cli.ports", "serving.http.app",
                 "serving.http.api", "serving.http.server", "store.artifacts", "store.handle", "uvicorn",
                 "sklearn.linear_model", "sklearn.compose", "sklearn.pipeline", "skops.io")
#: ... and what `wk score`, `wk models promote` and `wk deploy` import.
CLI_PRELOAD = ("console.cli", "console.cli.score", "console.cli.models", "console.cli.deploy",
               "serving.batch.io", "serving.batch.run", "serving.traffic.deployments", "registry.aliases",
               "store.artifacts", "store.handle", "sklearn.linear_model", "sklearn.compose",
               "sklearn.pipeline", "skops.io")


class ForkedServer:
    """`wk serve` restarted many times (a crash loop): each start forks a child of `forks`,
    which imported SERVE_PRELOAD once and never opened a database, so only the store's
    opening, the models' loading and uvicorn's start remain per start. The same surface
    as `Server` (url, port, start, kill)."""

    def __init__(self, store: Path, forks: Any, port: int | None = None, args: tuple[str, ...] = ()) -> None:
        self.store = store
        self.forks = forks
        self.port = port or free_port()
        self.args = (*auth_args(None), *args)
        self.child: Any = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ForkedServer:
        self.child = self.forks.start(WK_CHILD, [self.store, "serve", "--port", self.port, *self.args],
                                      self.store.parent / "serve-children")
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.child._exit() is not None:
                raise RuntimeError(f"wk serve exited with {self.child._exit()}:\n{self.child.output()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"wk serve not ready within {timeout} s:\n{self.child.output()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> int | None:
        if self.child is None:
            return None
        assert sig == signal.SIGKILL, "a forked server is only ever SIGKILLed"
        return int(self.child.kill())


@contextmanager
def running(store: Path, *args: str) -> Iterator[Server]:
    server = Server(store, args=args).start()
    try:
        yield server
    finally:
        server.kill()


def predict(client: Any, model: str, body: dict[str, Any], **kw: Any) -> Any:
    return client.post(f"/v1/models/{model}/predict", json=body, **kw)
