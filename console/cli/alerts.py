"""wk alerts: the `alerts` noun. In this branch only the channel and sender commands
(console/cli/alert_channels.py); the alert, rule and silence verbs join at merge."""

from __future__ import annotations

from console.cli.alert_channels import register_under
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    alerts = nouns.noun("alerts", help="alerts, their rules, channels and notifications")
    register_under(alerts)
