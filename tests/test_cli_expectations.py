"""What users of a CLI expect (issue 9, item 6): `wk --version`, and `wk serve` on a busy
port saying so in one `wk: error:` line with the fix."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from importlib.metadata import version

import pytest
from conftest import Result

from console.cli import main
from console.cli.errors import ExitCode


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out == f"wk {version('watchkeeper')}\n"


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 that something else listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_on_a_busy_port_says_so_in_one_line(wk: Callable[..., Result], listening: int) -> None:
    r = wk("serve", "--host", "127.0.0.1", "--port", listening)
    assert r.code == ExitCode.USAGE
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith("wk: error: ")
    assert f"port {listening} on 127.0.0.1 is in use" in r.err and "pass --port " in r.err
    suggested = int(r.err.split("pass --port ")[1].split()[0])
    assert suggested != listening
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # the port it suggests is free
        sock.bind(("127.0.0.1", suggested))


def test_serve_on_an_address_not_of_this_machine(wk: Callable[..., Result]) -> None:
    r = wk("serve", "--host", "192.0.2.1", "--port", "8765")  # TEST-NET-1: never local
    assert r.code == ExitCode.USAGE and r.err.count("\n") == 1
    assert "192.0.2.1 is not an address of this machine; pass --host 127.0.0.1" in r.err
