"""A shell channel: run a command (an argv list, never through a shell) with the message
in environment variables. Exit 0 is delivered; any other exit, or a timeout (the command's
process group is killed), is retried; a program that cannot be started fails at once.

The variables: ALERT_STATUS, ALERT_KIND, ALERT_GROUP_KEY, ALERT_DEDUP_KEY, ALERT_COUNT,
ALERT_SUBJECT, ALERT_TEXT, ALERT_PAYLOAD (the whole Alertmanager v4 JSON), and for each
alert i (1, 2, ...) ALERT_<i>_STATUS, _NAME, _MODEL, _VERSION, _FEATURE, _SEVERITY,
_SUMMARY, _FINGERPRINT; the first alert's also without the number (ALERT_NAME ...).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from monitoring.alert_message import subject
from monitoring.notifiers.base import Clock, Delivery, Message, alert_rows, message_text
from store.channel_config import DEFAULT_TIMEOUT_S
from store.outbox_delivery import AttemptOutcome

OUTPUT_CHARS = 500
PER_ALERT = {"STATUS": "status", "NAME": "alertname", "MODEL": "model", "VERSION": "version",
             "FEATURE": "feature", "SEVERITY": "severity", "SUMMARY": "summary",
             "FINGERPRINT": "fingerprint"}


def alert_environment(message: Message) -> dict[str, str]:
    """The ALERT_* variables of a message."""
    payload = message.payload
    rows = alert_rows(payload)
    env = {"ALERT_STATUS": str(payload.get("status", "")), "ALERT_KIND": message.kind,
           "ALERT_GROUP_KEY": message.group_key, "ALERT_DEDUP_KEY": message.dedup_key,
           "ALERT_COUNT": str(len(rows)), "ALERT_SUBJECT": subject(payload),
           "ALERT_TEXT": message_text(payload), "ALERT_PAYLOAD": json.dumps(dict(payload))}
    for number, row in enumerate(rows, start=1):
        for suffix, key in PER_ALERT.items():
            env[f"ALERT_{number}_{suffix}"] = row[key]
            if number == 1:
                env[f"ALERT_{suffix}"] = row[key]
    return env


def send(config: Mapping[str, Any], message: Message) -> Delivery:
    argv = [str(part) for part in config["command"]]
    timeout = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S)
    clock = Clock()
    try:
        child = subprocess.Popen(argv, env={**os.environ, **alert_environment(message)},
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return Delivery(AttemptOutcome.FAILED, None,
                        f"cannot run {argv[0]}: {exc.strerror or exc}", clock.ms)
    try:
        output, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.communicate()
        return Delivery(AttemptOutcome.RETRY, None,
                        f"{argv[0]} did not end within {timeout:g} s: killed", clock.ms)
    text = output.decode(errors="replace").strip()[-OUTPUT_CHARS:]
    if child.returncode == 0:
        return Delivery(AttemptOutcome.DELIVERED, 0, "", clock.ms)
    return Delivery(AttemptOutcome.RETRY, child.returncode,
                    f"{argv[0]} exited with {child.returncode}" + (f": {text}" if text else ""),
                    clock.ms)
