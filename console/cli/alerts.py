"""wk alerts: evaluate the rules once, list and show alerts (events, notifications and
their attempts, the next notification time), acknowledge, unack, resolve by hand,
silence and unsilence, and the rules themselves (wk alerts rules add|list|edit|remove).
The channels and the sender (wk alerts channels ..., wk alerts send) are
console/cli/alert_channels.py, added under the same noun (see `register`)."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import alert_actions_cmd
from console.cli import tables as col
from console.cli.alert_channels import register_under
from console.cli.common import parse_span, parse_time, store_from
from console.cli.output import emit_json, fields, info, section, table
from console.cli.parser import Commands, model_name
from store.errors import UsageError
from store.vocabulary import AlertKind, AlertState, Severity

HERE = __name__


def _t(value: Any) -> Any:
    """A stored time as the tables show it (UTC, to the second)."""
    from datetime import datetime

    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def _row(cells: list[Any]) -> list[Any]:
    return [_t(c) for c in cells]


def register(nouns: Commands) -> None:
    av = nouns.noun("alerts", help="alert rules, alerts, acknowledgements and silences")
    p = av.command("evaluate", f"{HERE}:cmd_evaluate",
                   "evaluate the alert rules once and queue their notifications")
    p.add_argument("--rule", help="only this rule")
    p = av.command("list", f"{HERE}:cmd_list", "open alerts, firing first", tables=True)
    p.add_argument("--state", choices=[str(s) for s in AlertState], help="alerts in one state")
    model_name(p.add_argument("--model", help="alerts of one model"))
    p.add_argument("--since", help="resolved ones too, changed in the last span (30m, 12h, 7d)")
    p = av.command("show", f"{HERE}:cmd_show",
                   "one alert: its events, notifications and their attempts", tables=True)
    p.add_argument("alert_id", type=int)
    p = av.command("ack", f"{HERE}:cmd_ack",
                   "acknowledge an alert: no repeats until it expires (it notifies again then)")
    p.add_argument("alert_id", type=int)
    p.add_argument("--note", default="", help="what you are doing about it (required)")
    p.add_argument("--for", dest="for_span", metavar="SPAN",
                   help="the acknowledgement expires after this span (30m, 2h)")
    p.add_argument("--until", help="or at this time (ISO); neither: until it resolves")
    p = av.command("unack", f"{HERE}:cmd_unack", "take an acknowledgement back")
    p.add_argument("alert_id", type=int)
    p.add_argument("--note", default="", help="why (kept in the audit log)")
    p = av.command("resolve", f"{HERE}:cmd_resolve", "resolve an alert by hand")
    p.add_argument("alert_id", type=int)
    p.add_argument("--note", default="", help="why (required; kept with the alert)")
    p = av.command("silence", f"{HERE}:cmd_silence",
                   "silence the alerts whose labels match, for a while")
    p.add_argument("--match", action="append", default=[], metavar="LABEL=VALUE",
                   help="a label the alerts must have (repeat: all must match), e.g. model=credit")
    p.add_argument("--for", dest="for_span", metavar="SPAN", help="how long (30m, 2h, 1d)")
    p.add_argument("--until", help="or until this time (ISO)")
    p.add_argument("--starts", help="from this time (ISO; default now)")
    p.add_argument("--comment", default="", help="why (required)")
    p = av.command("unsilence", f"{HERE}:cmd_unsilence", "end a silence now")
    p.add_argument("silence_id", type=int)
    p.add_argument("--note", default="", help="why (kept in the audit log)")
    p = av.command("silences", f"{HERE}:cmd_silences",
                   "silences in force or to come, with what they match", tables=True)
    p.add_argument("--all", action="store_true", help="ended ones too")
    _rules(av.noun("rules", help="what raises alerts: kind, target, bounds, damping, channels"))
    register_under(av)  # channels add|list|test|remove and send
    alert_actions_cmd.register_under(av)  # open, act


def _rules(rv: Commands) -> None:
    p = rv.command("add", f"{HERE}:cmd_rule_add", "add an alert rule",
                   description="add an alert rule. Kinds: " + ", ".join(AlertKind) + ". Bounds "
                   "by kind (--set KEY=VALUE): drift scope=features|input; performance margin; "
                   "latency p95_ms; error-rate rate; traffic factor; heartbeat max_age_s; "
                   "probe uptime; disk min_free_share; server-memory rss_mb; server-cpu share; "
                   "rate-limited min_limited, share, token (one token; default each); "
                   "guardrail count or share (of flagged answers); window_s where it reads a window.")
    p.add_argument("name", help="the rule's name (letters, digits, . _ -)")
    p.add_argument("--kind", required=True, choices=[str(k) for k in AlertKind])
    model_name(p.add_argument("--model", help="the model it watches (model kinds)"))
    p.add_argument("--version", type=int, help="only this version (default: the served one)")
    p.add_argument("--feature", help="drift: one feature (default: each feature)")
    p.add_argument("--job", help="job-failed, probe, server-*: one job (default: each)")
    _rule_settings(p)
    p = rv.command("list", f"{HERE}:cmd_rule_list", "every rule with its targets' state",
                   tables=True)
    p = rv.command("edit", f"{HERE}:cmd_rule_edit", "change a rule's bounds, damping or channels")
    p.add_argument("name")
    p.add_argument("--version", type=int, help="only this version")
    p.add_argument("--feature", help="drift: one feature")
    _rule_settings(p, edit=True)
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p = rv.command("remove", f"{HERE}:cmd_rule_remove", "delete a rule (its alerts stay)")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")


def _rule_settings(p: argparse.ArgumentParser, edit: bool = False) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a bound of the rule's kind, e.g. p95_ms=250 (repeatable)")
    p.add_argument("--severity", choices=[str(s) for s in Severity],
                   default=None if edit else Severity.WARNING)
    p.add_argument("--channel", action="append", default=None if edit else [],
                   help="a channel to notify (repeatable)")
    p.add_argument("--for", dest="for_n", type=int, default=None if edit else 1, metavar="N",
                   help="fire when the condition held in N ...")
    p.add_argument("--of", dest="of_m", type=int, default=None if edit else 1, metavar="M",
                   help="... of the last M evaluations")
    p.add_argument("--clear", dest="clear_n", type=int, default=None if edit else 1,
                   metavar="N", help="resolve after N clear evaluations in a row")
    p.add_argument("--repeat", default=None if edit else "4h",
                   help="notify a still-firing alert again this often (default 4h)")
    if edit:
        p.add_argument("--enable", dest="enabled", action="store_true", default=None)
        p.add_argument("--disable", dest="enabled", action="store_false")
    else:
        p.add_argument("--disabled", action="store_true", help="add it disabled")


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {value!r} is not KEY=VALUE; e.g. {option} model=credit")
        out[key.strip()] = val.strip()
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    from monitoring.alert_pass import evaluate

    summary = evaluate(store_from(args), rule=args.rule)
    if args.json:
        emit_json(summary.as_dict())
    else:
        info(summary.line())
    return 0


def _alert_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [_row([r["id"], r["state"], r["severity"], r["rule"], r["model"] or "-",
                  r["feature"] or r["labels"].get("job") or r["labels"].get("token") or "-",
                  r["reason"],
                  r["fired_at"] or r["started_at"], r["next_notify_at"] or "-"]) for r in rows]


ALERT_COLUMNS = [col.fixed("id"), col.fixed("state"), col.fixed("severity", drop=3),
                 col.name("rule", 12), col.name("model", 10), col.name("target", 10, drop=2),
                 col.text("reason", 16), col.time("since", drop=1),
                 col.time("next notify", drop=4)]


def cmd_list(args: argparse.Namespace) -> int:
    from monitoring.alerts_view import list_alerts

    rows = list_alerts(store_from(args), state=args.state, model=args.model,
                       since=parse_time(args.since, "--since"))
    if args.json:
        emit_json(rows)
        return 0
    table(ALERT_COLUMNS, _alert_rows(rows), empty="no open alert" + (
        "" if args.since else " (--since 7d: resolved ones too)"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from monitoring.alerts_view import show_alert

    alert = show_alert(store_from(args), args.alert_id)
    if args.json:
        emit_json(alert)
        return 0
    fields([(k, _t(v)) for k, v in [("alert", alert["id"]), ("state", alert["state"]), ("rule", alert["rule"]),
            ("severity", alert["severity"]), ("model", alert["model"] or "-"),
            ("target", alert["feature"] or alert["labels"].get("job")
             or alert["labels"].get("token") or "-"),
            ("reason", alert["reason"]), ("since", alert["fired_at"] or alert["started_at"]),
            ("acknowledged", f"{alert['ack_by']} until {_t(alert['ack_until']) or 'resolved'}: "
                             f"{alert['ack_note']}" if alert["state"] == "acknowledged" else "-"),
            ("next notification", alert["next_notify_at"] or "-"),
            ("notified", ", ".join(alert["notified_channels"]) or "-"),
            ("fingerprint", alert["fingerprint"])]])
    section("events")
    table([col.time("at"), col.fixed("event"), col.name("by", 8), col.text("note", 16)],
          [_row([e["at"], e["event"], e["actor"] or "-",
                 e["note"] or e["details"].get("channel", "")]) for e in alert["events"]])
    section("notifications")
    rows = []
    for n in alert["notifications"]:
        rows.append(_row([n["id"], n["channel"], n["kind"], n["status"], n["attempts"],
                          n["created_at"], n["delivered_at"] or n["next_attempt_at"],
                          n["last_error"]]))
        rows.extend([_row(["", "", f"  try {t['attempt']}", t["outcome"],
                           t["status_code"] or "-", t["at"], "", t["error"]])
                     for t in n["tries"]])
    table([col.fixed("id"), col.name("channel", 8), col.fixed("kind"), col.fixed("status"),
           col.fixed("tries"), col.time("queued"), col.time("delivered/next", drop=1),
           col.text("error", 12)], rows, empty="no notification yet")
    return 0


def _done(result: dict[str, Any], as_json: bool, verb: str) -> int:
    if as_json:
        emit_json(result)
    else:
        info(f"alert {result['id']} ({result['rule']}) {verb}: now {result['state']}"
             + (f", next notification {_t(result['next_notify_at'])} UTC"
               if result.get("next_notify_at")
                else ""))
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    from monitoring.alert_service import ack

    for_s = int(parse_span(args.for_span, "--for").total_seconds()) if args.for_span else None
    result = ack(store_from(args), args.alert_id, args.note, until=parse_time(args.until, "--until"),
                 for_s=for_s)
    return _done(result, args.json, "acknowledged")


def cmd_unack(args: argparse.Namespace) -> int:
    from monitoring.alert_service import unack

    return _done(unack(store_from(args), args.alert_id, args.note), args.json, "unacknowledged")


def cmd_resolve(args: argparse.Namespace) -> int:
    from monitoring.alert_service import resolve

    return _done(resolve(store_from(args), args.alert_id, args.note), args.json, "resolved")


def cmd_silence(args: argparse.Namespace) -> int:
    from monitoring.alert_service import add_silence

    duration = int(parse_span(args.for_span, "--for").total_seconds()) if args.for_span else None
    result = add_silence(store_from(args), _pairs(args.match, "--match"), comment=args.comment,
                         starts=parse_time(args.starts, "--starts"),
                         ends=parse_time(args.until, "--until"), duration_s=duration)
    if args.json:
        emit_json(result)
    else:
        what = f"{result['matched']} open alert(s)" if result["matched"] else "nothing open yet"
        info(f"silence {result['id']} until {result['ends_at']:%Y-%m-%d %H:%M} UTC; "
             f"matches {what}")
    return 0


def cmd_unsilence(args: argparse.Namespace) -> int:
    from monitoring.alert_service import end_silence

    result = end_silence(store_from(args), args.silence_id, args.note)
    if args.json:
        emit_json(result)
    else:
        info(f"silence {result['id']} ended")
    return 0


def cmd_silences(args: argparse.Namespace) -> int:
    from monitoring.alerts_view import list_silences

    rows = list_silences(store_from(args), include_ended=args.all)
    if args.json:
        emit_json(rows)
        return 0
    table([col.fixed("id"), col.fixed("state"),
           col.payload("matchers", 16), col.time("ends"), col.text("matches", 12),
           col.name("by", 8, drop=2), col.text("comment", 12, drop=1)],
          [_row([s["id"], s["state"], ", ".join(f"{k}={v}" for k, v in s["matchers"].items()),
                 s["ends_at"], s["matches"], s["created_by"], s["comment"]]) for s in rows],
          empty="no silence" + ("" if args.all else " in force (--all: ended ones too)"))
    return 0


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.set:
        out["params"] = _pairs(args.set, "--set")
    for key in ("severity", "for_n", "of_m", "clear_n"):
        if getattr(args, key) is not None:
            out[key] = getattr(args, key)
    if args.channel is not None:
        out["channels"] = args.channel
    if args.repeat is not None:
        out["repeat_s"] = int(parse_span(args.repeat, "--repeat").total_seconds())
    return out


def cmd_rule_add(args: argparse.Namespace) -> int:
    from monitoring.alert_service import add_rule

    rule = add_rule(store_from(args), name=args.name, kind=args.kind, model=args.model,
                    version=args.version, feature=args.feature, job=args.job,
                    enabled=not args.disabled, **_settings(args))
    if args.json:
        emit_json(rule)
    else:
        info(f"rule {rule['name']} added: {rule['kind']}, fires on {rule['for_n']} of "
             f"{rule['of_m']}, resolves after {rule['clear_n']} clear; channels "
             f"{', '.join(rule['channels']) or 'none'}")
    return 0


def cmd_rule_list(args: argparse.Namespace) -> int:
    from monitoring.alerts_view import list_rules

    rows = list_rules(store_from(args))
    if args.json:
        emit_json(rows)
        return 0
    table([col.name("rule", 12), col.fixed("kind"), col.name("target", 10),
           col.fixed("damping", drop=3), col.fixed("state"), col.fixed("open"),
           col.payload("channels", 10, drop=2), col.text("last reason", 16, drop=1)],
          [[r["name"] + ("" if r["enabled"] else " (off)"), r["kind"],
            "/".join(str(x) for x in (r["model"], r["feature"] or r["job"]) if x) or "store",
            f"{r['for_n']}/{r['of_m']} c{r['clear_n']}", r["state"], r["open_alerts"],
            ", ".join(r["channels"]) or "-", r["last_reason"] or "-"] for r in rows],
          empty="no alert rule yet (wk alerts rules add NAME --kind drift --model MODEL)")
    return 0


def cmd_rule_edit(args: argparse.Namespace) -> int:
    from monitoring.alert_service import edit_rule

    changes = _settings(args)
    for key in ("version", "feature", "enabled"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if not changes:
        raise UsageError("nothing to change: give --set, --channel, --for/--of/--clear, "
                         "--repeat, --severity, --enable or --disable")
    rule = edit_rule(store_from(args), args.name, changes, reason=args.reason)
    if args.json:
        emit_json(rule)
    else:
        info(f"rule {rule['name']} changed (revision {rule['revision']})")
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    from monitoring.alert_service import remove_rule

    rule = remove_rule(store_from(args), args.name, reason=args.reason)
    if args.json:
        emit_json(rule)
    else:
        info(f"rule {rule['name']} removed; its alerts stay in the history")
    return 0
