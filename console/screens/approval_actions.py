"""Approve or reject a pending version from the approvals views: the exact change shown
(`credit-default production: v1 -> v2 (approved)`), a reason required, then the same
registry.approvals function as `wk models approve|reject`, which writes the audit event
(and, approving, moves production in the same transaction)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.screens.alias_actions import confirm_then_run
from console.widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.screens.base import WkScreen


def _v(version: int | None) -> str:
    return f"v{version}" if version else "(none)"


def start_decision(screen: WkScreen, approval: dict[str, Any], *, approve: bool) -> None:
    from registry.approvals import approve as approve_version
    from registry.approvals import reject

    what = "approve" if approve else "reject"
    if not screen.allowed(what, what):
        return
    model, version = approval["model"], approval["version"]
    if approval["status"] != "pending":
        screen.notify(f"{model} v{version} is {approval['status']}, not pending: nothing to "
                      f"{what}", title=what, severity="warning", timeout=5)
        return
    production = _v(approval["against_version"])
    if approve:
        change = f"{model} production: {production} -> v{version} (approved)"
    else:
        change = f"{model} v{version}: pending -> rejected (production stays {production})"
    modal = ConfirmModal(f"{what.capitalize()} {model} v{version}", lambda _field: change,
                         action=what)
    confirm_then_run(screen, modal, what, approve_version if approve else reject, model, version)
