"""Progress on one stderr line, for commands that take seconds or more (train, reproduce,
demo, score): what is done out of the total, the step under way, the time taken and the
time left.

Shown only on a terminal: with --json, --no-progress or stderr piped or redirected,
`progress_line` gives None and the command prints no progress at all. The line is redrawn
in place (`\\r`) at most ten times a second, cut to the terminal's width, and ends with a
newline when the command finishes, so later messages start on a line of their own.

The time left is the expected duration less the time taken when the caller knows one
(a model's previous training run), else the average time per unit done so far times the
units still to do. Standard library only: `wk --help` imports this module's importers."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

BAR = 12
REDRAW_EVERY = 0.1


class Progress:
    """A progress line on `stream`; call it with (done, total, note) as work advances."""

    def __init__(self, what: str, unit: str, stream: TextIO, *, expected: float | None = None,
                 clock: Callable[[], float] = time.monotonic, width: int | None = None) -> None:
        self.what, self.unit, self.stream = what, unit, stream
        self.expected = expected if expected and expected > 0 else None
        self.clock = clock
        self.width = width
        self.started = clock()
        self.drawn = 0.0
        self.shown = False
        self.last = ""
        self.state: tuple[int, int | None, str] = (0, None, "")

    def __call__(self, done: int, total: int | None, note: str = "") -> None:
        now = self.clock()
        changed = note != self.state[2] or (total is not None and done >= total)
        self.state = (done, total, note)
        if self.shown and not changed and now - self.drawn < REDRAW_EVERY:
            return
        self.drawn = now
        self._write(self.line(now))

    def line(self, now: float | None = None) -> str:
        """The text of the line for the state reported last."""
        done, total, note = self.state
        elapsed = (self.clock() if now is None else now) - self.started
        if total:
            filled = min(BAR, int(BAR * done / total))
            head = f"wk: {self.what} [{'#' * filled}{'.' * (BAR - filled)}] {done:,}/{total:,} {self.unit}"
        else:
            head = f"wk: {self.what} {done:,} {self.unit}"
        timing = duration(elapsed)
        left = self.time_left(done, total, elapsed)
        if total is not None and done >= total:
            timing = f"done in {timing}"
        elif left is not None:
            timing += f", ~{duration(left)} left"
        elif total is None and elapsed > 0 and done:
            timing += f", {done / elapsed:,.0f} {self.unit}/s"
        return fit_parts(head, note, timing, self._width())

    def time_left(self, done: int, total: int | None, elapsed: float) -> float | None:
        if total is None or done >= total:
            return None
        if self.expected is not None:
            return max(self.expected - elapsed, 1.0)
        if done <= 0:
            return None
        return elapsed / done * (total - done)

    def close(self) -> None:
        """End the line (drawing the last state in full first)."""
        if self.shown:
            text = self.line()
            if text != self.last:
                self._write(text)
            self.stream.write("\n")
            self.stream.flush()

    def _write(self, text: str) -> None:
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self.shown, self.last = True, text

    def _width(self) -> int:
        if self.width is not None:
            return self.width
        import shutil

        return shutil.get_terminal_size().columns


def duration(seconds: float) -> str:
    """4s, 1m05s, 2h03m."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def fit_parts(head: str, note: str, timing: str, width: int) -> str:
    """`head · note · timing` in one column less than the terminal (so it never wraps):
    the note is cut first, then the whole line."""
    limit = max(width - 1, 10)
    room = limit - len(head) - len(timing) - 6
    if note and room < len(note):
        note = note[: room - 1] + "…" if room >= 4 else ""
    text = " · ".join(part for part in (head, note, timing) if part)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wanted(args: argparse.Namespace, stream: TextIO) -> bool:
    """Progress only for a person watching: not with --json or --no-progress, and only
    when the stream is a terminal."""
    if getattr(args, "json", False) or getattr(args, "no_progress", False):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress_line(args: argparse.Namespace, what: str, unit: str, *, expected: float | None = None,
                  stream: TextIO | None = None) -> Iterator[Progress | None]:
    """A `Progress` for the command's work, or None when none is wanted; the line is
    ended however the work ends."""
    out = stream if stream is not None else sys.stderr
    if not wanted(args, out):
        yield None
        return
    line = Progress(what, unit, out, expected=expected)
    try:
        yield line
    finally:
        line.close()
