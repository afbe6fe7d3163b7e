"""The dangerous actions, shared by the screens that offer them: each opens a
confirmation showing the exact change, asks for a reason, then calls the same service
function as the CLI (which writes the same audit event)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.screens.base import WkScreen


def start_promote(screen: WkScreen, model: str, version: int, aliases: dict[str, int],
                  default_alias: str = "production") -> None:
    from registry import service

    if not screen.allowed("promote"):
        return

    def describe(alias: str) -> str:
        current = aliases.get(alias)
        before = f"v{current}" if current else "(none)"
        return f"{model} {alias or '?'}: {before} -> v{version}"

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            screen.run_service_action("promote", service.promote, model, version, result["alias"],
                                      reason=result["reason"])

    screen.app.push_screen(
        ConfirmModal(f"Promote {model} v{version}", describe, alias=default_alias,
                     alias_choices=sorted({"production", "staging", *aliases})),
        done,
    )


def start_archive(screen: WkScreen, model: str, version: int) -> None:
    from registry import service

    if not screen.allowed("archive"):
        return

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            screen.run_service_action("archive", service.archive, model, version,
                                      reason=result["reason"])

    screen.app.push_screen(
        ConfirmModal(f"Archive {model} v{version}",
                     lambda _alias: f"{model} v{version}: active -> archived"),
        done,
    )


def start_rollback(screen: WkScreen, model: str, alias: str) -> None:
    if not screen.allowed("rollback"):
        return
    _preview_rollback(screen, model, alias)


def _preview_rollback(screen: WkScreen, model: str, alias: str) -> None:
    """Ask the store what the rollback would do (in a worker), then confirm it."""
    from registry import service

    def work_() -> None:
        try:
            preview = service.rollback_preview(screen.wk.store, model, alias)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            screen.app.call_from_thread(screen.notify, message, title="rollback unavailable",
                                        severity="warning", timeout=6)
            return
        screen.app.call_from_thread(_confirm_rollback, screen, preview)

    screen.run_worker(work_, thread=True, group="action", exit_on_error=False)


def _confirm_rollback(screen: WkScreen, preview: dict[str, Any]) -> None:
    from registry import service

    model, alias = preview["model"], preview["alias"]

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            screen.run_service_action("rollback", service.rollback, model, alias,
                                      reason=result["reason"])

    screen.app.push_screen(
        ConfirmModal(f"Roll back {model} {alias}",
                     lambda _a: f"{model} {alias}: v{preview['from_version']} -> v{preview['to_version']}"),
        done,
    )
