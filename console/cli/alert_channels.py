"""wk alerts channels add|list|test|disable|enable|remove, and wk alerts send (the outbox sender for a
store without a scheduler daemon). The work is in monitoring/channel_service.py and
monitoring/outbox_sender.py; this module parses and prints."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import confirm, store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands

KINDS = ("webhook", "smtp", "shell", "apprise")


def register_under(alerts: Commands) -> None:
    """Add `channels add|list|test|disable|enable|remove` and `send` to the `alerts` noun."""
    here = __name__
    ch = alerts.noun("channels", help="where alerts are sent: webhook, smtp, shell, apprise")
    p = ch.command("add", f"{here}:cmd_add", "add a channel (secrets stay in a file or the "
                   "environment: only their path or variable name is stored)",
                   description=_add_description())
    p.add_argument("name", help="the channel's name (letters, digits, . _ -)")
    p.add_argument("--kind", required=True, choices=KINDS, help="how it sends")
    p.add_argument("--url", help="webhook: the URL the Alertmanager v4 JSON is POSTed to")
    p.add_argument("--timeout", type=float, dest="timeout_s", metavar="SECONDS",
                   help="webhook, smtp, shell: give up an attempt after this long (default 10)")
    p.add_argument("--host", help="smtp: the mail server")
    p.add_argument("--port", type=int, help="smtp: its port (default 587 with --starttls, else 25)")
    p.add_argument("--starttls", action="store_true", help="smtp: upgrade to TLS (STARTTLS)")
    p.add_argument("--ca-file", metavar="PATH",
                   help="smtp: the CA certificate(s) a private relay's certificate is checked "
                        "against, instead of the system's (PEM; with --starttls)")
    p.add_argument("--from", dest="from_", metavar="ADDRESS", help="smtp: the sender address")
    p.add_argument("--to", action="append", metavar="ADDRESS",
                   help="smtp: a recipient (repeat for more)")
    p.add_argument("--credentials-file", metavar="PATH",
                   help="smtp: a chmod 600 file with the user on line 1, the password on line 2")
    p.add_argument("--user-env", metavar="VAR", help="smtp: the variable holding the user")
    p.add_argument("--password-env", metavar="VAR",
                   help="smtp: the variable holding the password")
    p.add_argument("--command", help="shell: the program and its arguments (no shell; the "
                   "alert is in ALERT_* variables, the whole JSON in ALERT_PAYLOAD)")
    p.add_argument("--url-file", metavar="PATH",
                   help="apprise: a chmod 600 file holding the apprise URL "
                        "(slack://..., ntfy://...)")
    p.add_argument("--url-env", metavar="VAR", help="apprise: the variable holding the URL")
    ch.command("list", f"{here}:cmd_list", "every channel with its settings (no secrets) and "
               "its notifications", tables=True)
    p = ch.command("test", f"{here}:cmd_test",
                   "send a test message to a channel now and print what came of it")
    p.add_argument("name")
    for verb, what in (("disable", "turn a channel off: nothing new is queued to it and "
                                   "what is queued waits (its settings are kept)"),
                       ("enable", "turn a disabled channel on again: what waited goes out")):
        p = ch.command(verb, f"{here}:cmd_{verb}", what)
        p.add_argument("name")
        p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p = ch.command("remove", f"{here}:cmd_remove", "delete a channel (rules stop sending to it)")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = alerts.command("send", f"{here}:cmd_send",
                       "deliver queued notifications (for a store without 'wk scheduler', "
                       "which sends them itself); JSON-lines log on stderr",
                       "Deliver the outbox: each due notification over its channel, retried "
                       "with backoff ([outbox] in watchkeeper.toml). Runs until SIGTERM or "
                       "Ctrl-C, or one pass with --once.")
    p.add_argument("--once", action="store_true",
                   help="one pass over what is due now, then exit (0 when nothing failed)")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="how often to look for due notifications (default: [outbox] interval_s)")


def _add_description() -> str:
    return ("Add a channel. webhook: --url. smtp: --host, --from, --to (and --port, "
            "--starttls with --ca-file for a private relay, the login from --credentials-file or --user-env with --password-env). "
            "shell: --command. apprise: --url-file or --url-env (the URL holds tokens, so it "
            "is never stored). Then check it with 'wk alerts channels test NAME'.")


def _config(args: argparse.Namespace) -> dict[str, Any]:
    values = {"url": args.url, "timeout_s": args.timeout_s, "host": args.host, "port": args.port,
              "starttls": args.starttls or None, "ca_file": args.ca_file, "from": args.from_,
              "to": args.to,
              "credentials_file": args.credentials_file, "user_env": args.user_env,
              "password_env": args.password_env, "command": args.command,
              "url_file": args.url_file, "url_env": args.url_env}
    return {key: value for key, value in values.items() if value is not None}


def _settings(config: dict[str, Any]) -> str:
    return ", ".join(f"{key}={' '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in config.items())


def cmd_add(args: argparse.Namespace) -> int:
    from monitoring.channel_service import add_channel

    out = add_channel(store_from(args), args.name, args.kind, _config(args))
    if args.json:
        emit_json(out)
        return 0
    info(f"added channel {out['name']} ({out['kind']}: {_settings(out['config'])})")
    for note in out["notes"]:
        info(f"note: {note}")
    info(f"check it with 'wk alerts channels test {out['name']}'")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from monitoring.channel_service import list_channels

    rows = list_channels(store_from(args))
    if args.json:
        emit_json(rows)
        return 0
    table([col.name("channel", 12), col.fixed("kind"), col.payload("settings", 24),
           col.fixed("pending"), col.fixed("delivered"), col.fixed("failed"),
           col.text("last error", 16, drop=1)],
          [[r["name"] + ("" if r["enabled"] else " (off)"), r["kind"], _settings(r["config"]), r["notifications"]["pending"],
            r["notifications"]["delivered"], r["notifications"]["failed"],
            (r["last"] or {}).get("error") or "-"] for r in rows],
          empty="no channels yet: add one with 'wk alerts channels add NAME --kind webhook "
                "--url URL'")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from monitoring.channel_service import test_channel

    out = test_channel(store_from(args), args.name)
    if args.json:
        emit_json(out)
    else:
        fields([("channel", out["channel"]), ("outcome", out["outcome"]),
                ("status code", out["status_code"]), ("took", f"{out['duration_ms']} ms"),
                ("error", out["error"] or "-"), ("dedup key", out["dedup_key"]),
                ("notification", f"{out['notification_id']} ({out['status']}"
                 + (f", next attempt {out['next_attempt_at']:%H:%M:%S} UTC)"
                    if out["next_attempt_at"] else ")"))])
    return 0 if out["outcome"] == "delivered" else 1


def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    from monitoring.channel_service import set_channel_enabled

    out = set_channel_enabled(store_from(args), args.name, enabled, reason=args.reason)
    if args.json:
        emit_json(out)
        return 0
    line = f"channel {out['name']} {'enabled' if enabled else 'disabled'}"
    line += "" if out["changed"] else " already"
    if waiting := out["notifications"]["pending"]:
        line += f"; {waiting} notification(s) queued for it " + (
            "go out when due" if enabled else "wait until it is enabled")
    info(line)
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    return _set_enabled(args, False)


def cmd_enable(args: argparse.Namespace) -> int:
    return _set_enabled(args, True)


def cmd_remove(args: argparse.Namespace) -> int:
    from monitoring.channel_service import remove_channel

    if not confirm(f"remove channel {args.name}?", args.yes):
        info("nothing removed")
        return 1
    out = remove_channel(store_from(args), args.name, reason=args.reason)
    emit_json(out) if args.json else info(f"removed channel {out['name']} ({out['kind']})")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    import logging

    from monitoring.outbox_sender import run_once
    from scheduler import json_log

    store = store_from(args)
    if args.once:
        if not args.json:
            json_log.setup(logging.INFO)
        sent = run_once(store)
        if args.json:
            emit_json([s.as_dict() for s in sent])
        else:
            info(f"{len(sent)} attempts: "
                 + ", ".join(f"{sum(1 for s in sent if s.outcome == o)} {o}"
                             for o in ("delivered", "retry", "failed")))
        return 1 if any(s.outcome == "failed" for s in sent) else 0
    return _send_forever(store, args.interval)


def _send_forever(store: Any, interval: float | None) -> int:
    import logging
    import signal
    import threading

    from monitoring.outbox_sender import run_forever
    from scheduler import json_log

    json_log.setup(logging.INFO)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _n, _f: stop.set())
    run_forever(store, stop, interval)
    return 0
