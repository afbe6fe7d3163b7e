"""wk timeline MODEL: everything that happened to one model, oldest first, in one table
(monitoring/timeline.py says what it reads and the order of entries at the same time)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.cli import tables as col
from console.cli.common import parse_span, parse_time
from console.cli.output import emit_json, table
from console.cli.parser import Commands, model_name
from store.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime, timedelta

#: `--since` when none is given
DEFAULT_SINCE = "7d"


def register(nouns: Commands) -> None:
    p = nouns.command("timeline", f"{__name__}:cmd_timeline",
                      "one model's timeline: alias and deployment changes, runs, reports, alerts "
                      "with their acknowledgements, quarantine bursts and latency or error spikes",
                      tables=True)
    model_name(p.add_argument("name", metavar="MODEL"))
    p.add_argument("--since", default=DEFAULT_SINCE,
                   help="from this long ago (30m, 12h, 7d, 2w) or this time (ISO, UTC unless it "
                        f"says its zone); default {DEFAULT_SINCE}")
    p.add_argument("--until", help="up to this time (ISO or a span back from now); default now")
    p.add_argument("--kind", metavar="KINDS",
                   help="only these kinds, comma-separated: training, approval, alias, deployment, "
                        "canary, job, drift, quality, performance, quarantine, spike, alert, silence")


def since_value(value: str, option: str = "--since") -> timedelta | datetime:
    """A span back from the end (7d) or a time (ISO); a wrong value says what and gives an
    example."""
    text = value.strip()
    if text[:-1].isdigit() and text[-1:] in {"s", "m", "h", "d", "w"}:
        return parse_span(text, option)
    parsed = parse_time(value, option)
    if parsed is None:
        raise UsageError(f"{option} is empty; give a span such as 7d or a time such as 2026-11-23T08:00")
    return parsed


def local_time(moment: datetime) -> str:
    """"11-21 03:02" in the machine's time zone (the year, seconds and UTC are in --json)."""
    return moment.astimezone().strftime("%m-%d %H:%M")


def cmd_timeline(args: argparse.Namespace) -> int:
    from console.cli.common import store_from
    from monitoring.timeline import model_timeline, parse_kinds, timeline_view, window

    since = since_value(args.since)
    until = parse_time(args.until, "--until")
    kinds = parse_kinds(args.kind.split(",") if args.kind else None)
    start, end = window(since, until)
    entries = model_timeline(store_from(args), args.name, start, end, kinds)
    if args.json:
        emit_json(timeline_view(args.name, start, end, kinds, entries))
        return 0
    table([col.Column("time"), col.Column("kind"), col.Column("ver"), col.text("what", 20),
           col.Column("by", min_width=8, shrink=3, drop=1)],
          [[local_time(e.at), e.kind, f"v{e.version}" if e.version is not None else "-", e.title,
            e.actor or "-"] for e in entries],
          empty=f"nothing happened to {args.name} from {local_time(start)} to {local_time(end)}"
                + ("" if kinds == parse_kinds(None) else f" (kinds: {', '.join(kinds)})"))
    return 0
