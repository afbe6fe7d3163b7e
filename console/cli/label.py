"""wk label: the labelling queue. Fills it with a seeded sample of each window's unlabelled
predictions, then offers them one at a time (inputs and output; a label, s to skip, q to
quit), or, for scripts, lists the open tasks (--list) or labels one (--set ID LABEL)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.cli.common import parse_span, parse_time, store_from
from console.cli.output import emit_json, info, table
from console.cli.parser import Commands, model_name
from store.errors import UsageError

if TYPE_CHECKING:
    from store.handle import Store


def register(nouns: Commands) -> None:
    p = nouns.command("label", f"{__name__}:cmd_label",
                      "label a random sample of each window's predictions (the labelling queue)",
                      tables=True)
    model_name(p.add_argument("model"))
    p.add_argument("--window", default="24h", help="the windows the sample is drawn per (default 24h)")
    p.add_argument("--per-window", type=int, default=20, help="predictions queued per window (default 20)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    p.add_argument("--since", default="7d", help="queue from this time or span back (default 7d)")
    p.add_argument("--until", help="queue up to this time (default now)")
    p.add_argument("--list", action="store_true", help="print the open tasks and exit")
    p.add_argument("--set", nargs=2, metavar=("PREDICTION_ID", "LABEL"), help="label one queued prediction")
    p.add_argument("--skip", metavar="PREDICTION_ID", help="skip one queued prediction")
    p.add_argument("--limit", type=int, default=50, help="tasks listed or offered (default 50)")


def cmd_label(args: argparse.Namespace) -> int:
    from serving.log import labelling
    from store.identity import current_actor

    store = store_from(args)
    actor = current_actor()
    if sum(bool(x) for x in (args.list, args.set, args.skip)) > 1:
        raise UsageError("give one of --list, --set or --skip")
    if args.set:
        done = labelling.label_task(store, args.model, args.set[0], args.set[1], actor=actor)
        emit_json(done.view()) if args.json else info(done.change())
        return 0
    if args.skip:
        done = labelling.skip_task(store, args.model, args.skip, actor=actor)
        emit_json(done.view()) if args.json else info(done.change())
        return 0
    since = parse_time(args.since, "--since")
    until = parse_time(args.until, "--until") or labelling.utcnow()
    assert since is not None
    added = labelling.fill_queue(store, args.model, since, until, args.per_window, args.seed,
                                 window=parse_span(args.window, "--window"), actor=actor)
    tasks = labelling.next_tasks(store, args.model, args.limit)
    if args.list:
        if args.json:
            emit_json(tasks)
        else:
            _table(tasks)
            info(f"{added} added to the queue now; {len(tasks)} open shown")
        return 0
    if not tasks:
        info(f"nothing to label for {args.model}: no open tasks (queued {added} now)")
        return 0
    counts = label_interactively(store, args.model, tasks, actor, read=_ask, say=_say)
    if args.json:
        emit_json({**counts, "open": labelling.open_count(store, args.model)})
    else:
        info(f"labelled {counts['labelled']}, skipped {counts['skipped']}; "
             f"{labelling.open_count(store, args.model)} still open")
    return 0


def _ask(prompt: str) -> str:
    """A line from stdin, the prompt on stderr (stdout stays for --json); EOFError at the end."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def _table(tasks: list[dict[str, Any]]) -> None:
    from console.cli import tables as col
    from console.screens.cells import output_text

    table([col.prediction_id(), col.time("at"), col.fixed("version"), col.name("output", 12),
           col.name("labels", 20, drop=1)],
          [[t["prediction_id"], t["at"], f"v{t['version']}", output_text(t["outputs"]),
            ", ".join(t["classes"]) if t["label_kind"] == "class" else "a number"] for t in tasks],
          empty="no open tasks")


def describe_task(task: dict[str, Any], position: int, total: int) -> str:
    """One prediction as the interactive prompt shows it: ids, inputs, output."""
    from console.screens.cells import output_text

    lines = [f"[{position}/{total}] prediction {task['prediction_id']}  {task['at']}  v{task['version']}"]
    width = max((len(str(k)) for k in task["inputs"] or {}), default=0)
    for key, value in (task["inputs"] or {}).items():
        lines.append(f"  {str(key).ljust(width)}  {value}")
    lines.append(f"  output: {output_text(task['outputs'])}")
    allowed = ", ".join(task["classes"]) if task["label_kind"] == "class" and task["classes"] else (
        "a number" if task["label_kind"] == "value" else "any class")
    lines.append(f"  label ({allowed}; s skip, q quit): ")
    return "\n".join(lines)


def label_interactively(store: Store, model: str, tasks: list[dict[str, Any]], actor: str, *,
                        read: Callable[[str], str], say: Callable[[str], None]) -> dict[str, int]:
    """Offer each task in turn. `read` is input() on a terminal; end of input (Ctrl-D) or
    `q` ends the session cleanly, and a label that is not allowed is asked again."""
    from console.cli.errors import text
    from serving.log import labelling
    from store.errors import InvalidInput

    counts = {"labelled": 0, "skipped": 0, "left": len(tasks)}
    for position, task in enumerate(tasks, 1):
        prompt = describe_task(task, position, len(tasks))
        while True:
            try:
                answer = read(prompt).strip()
            except EOFError:
                say("")
                return counts
            if answer in {"q", "quit"}:
                return counts
            if answer in {"s", "skip"}:
                labelling.skip_task(store, model, task["prediction_id"], actor=actor)
                counts["skipped"] += 1
                break
            try:
                labelling.label_task(store, model, task["prediction_id"], answer, actor=actor)
            except InvalidInput as exc:
                sys.stderr.write(f"wk: {text(exc)}\n")
                prompt = "  label again: "
                continue
            counts["labelled"] += 1
            break
        counts["left"] -= 1
    return counts
