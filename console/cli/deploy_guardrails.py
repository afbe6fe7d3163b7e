"""wk deploy guardrails: what a sane answer of a deployment is, and what is done with one
that is not (serving.traffic.guardrails_config)."""

from __future__ import annotations

import argparse
import math
from typing import Any

from console.cli.common import store_from
from console.cli.output import emit_json, fields
from store.errors import UsageError

ACTIONS = ("withhold", "champion", "alert")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--range", metavar="LO:HI",
                   help="a regressor's answers must lie in LO..HI (leave one side empty for no bound: 0: or :1000)")
    p.add_argument("--max-class-share", metavar="FRACTION",
                   help="no class above this share of the last --window answers (e.g. 0.9)")
    p.add_argument("--window", type=int, metavar="N", help="answers the class share is taken over (default 200)")
    p.add_argument("--min-confidence", metavar="FRACTION",
                   help="a classifier's top probability must be at least this (e.g. 0.6)")
    p.add_argument("--action", choices=ACTIONS,
                   help="withhold (answer 422), champion (a challenger's answer replaced by the champion's) "
                        "or alert (answer, only flag)")
    p.add_argument("--clear", action="store_true", help="take the guardrails away")
    p.add_argument("--reason", default="")


def parse_range(text: str) -> list[float | None]:
    """'0:1000', '0:' or ':1000' -> [low, high] (None for an open side)."""
    low, sep, high = text.partition(":")
    if not sep:
        raise UsageError(f"--range {text!r} is not LO:HI; give e.g. 0:1000, 0: or :1000")
    try:
        bounds = [None if not s.strip() else float(s) for s in (low, high)]
    except ValueError as exc:
        raise UsageError(f"--range {text!r} has a bound that is not a number; give e.g. 0:1000") from exc
    if any(b is not None and not math.isfinite(b) for b in bounds):
        raise UsageError(f"--range {text!r} has a bound that is not finite; leave that side empty for no bound")
    return bounds


def _fraction(value: str | None, option: str) -> float | None:
    from console.cli.deploy import parse_fraction

    return parse_fraction(value, option)


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    """The guardrails the flags give, in the stored form (checked by the service)."""
    config: dict[str, Any] = {"action": args.action}
    if args.range is not None:
        config["range"] = parse_range(args.range)
    share = _fraction(args.max_class_share, "--max-class-share")
    if share is not None:
        config["max_class_share"] = share
    if args.window is not None:
        config["window"] = args.window
    confidence = _fraction(args.min_confidence, "--min-confidence")
    if confidence is not None:
        config["min_confidence"] = confidence
    return config


def _print(result: dict[str, Any]) -> None:
    shown = result.get("guardrails")
    fields([("model", result["model"]),
            ("guardrails", shown["describe"] if shown else "none: every answer is served as the model gives it"),
            ("changed", ("yes" if result["changed"] else "no (the same as before)") if "changed" in result else None)])


def cmd_guardrails(args: argparse.Namespace) -> int:
    from serving.traffic import guardrails_config

    given = (args.range, args.max_class_share, args.window, args.min_confidence, args.action)
    store = store_from(args)
    if args.clear:
        if any(v is not None for v in given):
            raise UsageError("--clear takes the guardrails away; it cannot go with other guardrail options")
        result = guardrails_config.clear_guardrails(store, args.name, reason=args.reason)
    elif all(v is None for v in given):
        result = {"model": args.name, "guardrails": guardrails_config.show(store, args.name)}
    else:
        if args.action is None:
            raise UsageError("say what is done with an answer outside the guardrails: add --action "
                             "withhold, champion or alert")
        result = guardrails_config.set_guardrails(store, args.name, config_of(args), reason=args.reason)
    if args.json:
        emit_json(result)
    else:
        _print(result)
    return 0
