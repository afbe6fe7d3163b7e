"""The dangerous actions of the deployments view: promote the challenger, roll the
deployment back, set the challenger's share. Each shows the exact change, asks for a
reason and calls the same serving.traffic.deployments function as `wk deploy`, which writes the
same audit event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.screens.alias_actions import confirm_after_preview, confirm_then_run
from console.screens.cells import percent
from console.widgets.confirm_modal import ConfirmModal
from store.vocabulary import Mode

if TYPE_CHECKING:
    from console.screens.base import WkScreen

SHARE_MODES = (Mode.CANARY, Mode.AB)


def _v(version: int | None) -> str:
    return f"v{version}" if version else "(none)"


def start_challenger_promote(screen: WkScreen, dep: dict[str, Any]) -> None:
    from serving.traffic import deployments

    if not screen.allowed("promote", "promote_challenger"):
        return
    model = dep["model"]
    if not dep["challenger"]:
        screen.notify(f"{model} has no challenger to promote; set one with 'wk deploy set {model} "
                      "--challenger VERSION --mode canary --share 0.1'", title="promote",
                      severity="warning", timeout=6)
        return
    change = f"{model} production: {_v(dep['champion'])} -> v{dep['challenger']} (challenger promoted)"
    modal = ConfirmModal(f"Promote {model}'s challenger", lambda _field: change, action="promote")
    confirm_then_run(screen, modal, "promote", deployments.promote, model)


def start_deployment_rollback(screen: WkScreen, model: str) -> None:
    """The store says what the rollback would do (challenger out, or production back a
    version), in a worker; then the confirmation."""
    from serving.traffic import deployments

    if not screen.allowed("rollback", "rollback_deployment"):
        return
    confirm_after_preview(screen, f"Roll back {model}",
                          lambda: deployments.rollback_preview(screen.wk.store, model),
                          "rollback", deployments.rollback, model)


def parse_share(text: str) -> float:
    """0.25, .25 or 25% -> 0.25 (ValueError with the fix otherwise)."""
    from console.cli.deploy import parse_fraction
    from console.errors import error_text
    from store.errors import UsageError

    if not text.strip():
        raise ValueError("give the share, e.g. 25% or 0.25")
    try:
        share = parse_fraction(text, "share")
    except UsageError as exc:
        raise ValueError(error_text(exc)) from exc
    assert share is not None
    if share == 0.0:
        raise ValueError("a share of 0 sends the challenger nothing; roll back (B) to take it out")
    return share


def start_set_share(screen: WkScreen, dep: dict[str, Any]) -> None:
    from serving.traffic import deployments

    if not screen.allowed("set share", "set_share"):
        return
    model, mode = dep["model"], dep["mode"]
    if mode not in SHARE_MODES or not dep["challenger"]:
        screen.notify(f"{model} is in {mode} mode: a share applies to a challenger in canary or ab "
                      f"mode ('wk deploy set {model} --challenger VERSION --mode canary --share 0.1')",
                      title="set share", severity="warning", timeout=6)
        return
    now = dep["challenger_share"]

    def describe(text: str) -> str:
        try:
            new = percent(parse_share(text))
            keeps = percent(1 - parse_share(text))
        except ValueError:
            new, keeps = "?", "?"
        return (f"{model} challenger v{dep['challenger']}: {percent(now)} -> {new} "
                f"(champion {_v(dep['champion'])}: {keeps})")

    def check(text: str) -> str | None:
        try:
            share = parse_share(text)
        except ValueError as exc:
            return str(exc)
        if abs(share - now) < 1e-9:
            return f"the share is {percent(now)} already: type the new share in the box above"
        return None

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            screen.run_service_action("set share", deployments.set_deployment, model,
                                      share=parse_share(result["alias"]), reason=result["reason"])

    # the box starts at the share as it is, as promote's starts at its alias, so every
    # confirmation opens the same way (the cursor in the reason box; shift+tab to the share)
    modal = ConfirmModal(f"Set the share of {model}'s challenger", describe, action="set share",
                         alias=percent(now),
                         field_label=f"share of requests for the challenger (now {percent(now)})",
                         placeholder="e.g. 25% or 0.25", check=check)
    screen.app.push_screen(modal, done)
