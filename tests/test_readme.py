"""The README runs as written: every ```sh block of the sections in SECTIONS, in order.

The blocks are read from README.md with a Markdown parser (never copied here) and run in one
bash shell with ``set -e -o pipefail`` on a fresh store, from a folder that holds only a link
to ``sample_models/``, so the files the walkthrough writes (the store, row.json, new.csv ...)
land in ``tmp_path``. The server the README starts listens on a free port on 127.0.0.1 (the
README's ``PORT``); the shell's EXIT trap and the test's own cleanup stop it even on failure.

The script keeps README.md's line numbers (every line outside the blocks is blank), so a
failing command is reported as ``README.md line N``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SECTIONS = ("A first session", "Serving", "The scheduler", "Alerts and the on-call path",
            "Users, roles and permissions")
TIMEOUT_S = 420
# Line 1 of README.md is its title, never a block line, so the script's set-up goes there.
PRELUDE = (
    "set -e -o pipefail; "
    "trap 'rc=$?; echo \"README.md line $LINENO failed (exit $rc): $BASH_COMMAND\" >&2' ERR; "
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"
)


@dataclass(frozen=True)
class Block:
    first_line: int  # README.md line number (1-based) of the block's first command line
    text: str

    def lines(self) -> list[tuple[int, str]]:
        return [(self.first_line + i, line) for i, line in enumerate(self.text.splitlines())]


def sh_blocks(markdown: str, sections: tuple[str, ...] = SECTIONS) -> list[Block]:
    """The ```sh blocks under the given level-2 headings, in document order."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    section: str | None = None
    blocks = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            section = tokens[i + 1].content.strip()
        elif token.type == "fence" and token.info.strip() == "sh" and section in sections:
            assert token.map is not None
            blocks.append(Block(first_line=token.map[0] + 2, text=token.content))
    return blocks


def script(blocks: list[Block], n_lines: int) -> str:
    """One bash script holding the blocks at their README.md line numbers."""
    lines = [""] * n_lines
    lines[0] = PRELUDE
    for block in blocks:
        for number, text in block.lines():
            lines[number - 1] = text
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_walkthrough(blocks: list[Block], workdir: Path) -> tuple[int, str]:
    """Run the blocks in one bash shell in ``workdir``; the exit code and the combined output."""
    if shutil.which("curl") is None:
        pytest.skip("the README's serving block uses curl, which is not installed")
    (workdir / "sample_models").symlink_to(REPO / "sample_models")
    path = workdir / "readme.sh"
    path.write_text(script(blocks, len(README.read_text().splitlines())))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WK_") and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               PORT=str(free_port()), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    log = workdir / "readme.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", str(path)], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = -1
            out.write(f"test_readme: timed out after {TIMEOUT_S} s\n".encode())
        finally:
            _stop_group(proc)
    return code, log.read_text(errors="replace")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop whatever the script left running: its session holds the server it started."""
    proc.poll()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def test_blocks_are_found() -> None:
    blocks = sh_blocks(README.read_text())
    commands = [line for block in blocks for _, line in block.lines()]
    assert len(blocks) >= 2
    assert any(line.startswith("wk init") for line in commands)
    assert any(line.startswith("wk serve") and line.rstrip().split("#")[0].rstrip().endswith("&")
               for line in commands)


def test_readme_runs_as_written(tmp_path: Path) -> None:
    code, output = run_walkthrough(sh_blocks(README.read_text()), tmp_path)
    failed = [line for line in output.splitlines() if line.startswith("README.md line ")]
    assert code == 0, f"the README walkthrough failed (exit {code}): {failed}\n{output[-6000:]}"
    assert "1 of 1 label(s) matched" in output
    # the README's shell channel got the firing once, then the resolve once
    sent = [line.split()[0] for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert sent == ["firing", "resolved"], sent


def test_a_failing_readme_command_fails_the_run(tmp_path: Path) -> None:
    """A README command changed to one that fails (a misspelt spec file in the first `wk
    train`) stops the run and is named. The first train rather than a later command: the
    run stops after `wk init`, with no model trained first (a training was ~10 s of it)."""
    blocks = sh_blocks(README.read_text())
    target = next((number, line) for block in blocks for number, line in block.lines()
                  if line.startswith("wk train ") and "spec.toml" in line)
    number, line = target
    broken = line.replace("spec.toml", "spce.toml", 1)
    mutated = [Block(b.first_line, "".join(
        (broken if n == number else text) + "\n" for n, text in b.lines())) for b in blocks]
    code, output = run_walkthrough(mutated, tmp_path)
    assert code != 0, f"the run passed with a broken command on line {number}:\n{output[-3000:]}"
    command = " ".join(broken.split("#")[0].split())  # as bash's $BASH_COMMAND spells it
    assert f"README.md line {number} failed (exit 1): {command}" in output, output
    assert not (tmp_path / "row.json").exists(), "commands after the failing one ran"


def test_a_failing_pipeline_stops_the_script(tmp_path: Path) -> None:
    """The harness itself: a command failing inside a pipeline (curl | tee) stops the run there."""
    blocks = [Block(3, "echo first\n"), Block(6, "false | tee out.txt\necho never > never.txt\n")]
    path = tmp_path / "s.sh"
    path.write_text(script(blocks, 8))
    done = subprocess.run(["bash", str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 1
    assert "README.md line 6 failed (exit 1)" in done.stderr
    assert not (tmp_path / "never.txt").exists()
