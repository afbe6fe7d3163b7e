"""The dangerous actions, shared by the screens that offer them: each opens a
confirmation showing the exact change, asks for a reason, then calls the same service
function as the CLI (which writes the same audit event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.errors import error_text
from console.widgets.confirm_modal import ConfirmModal
from store.vocabulary import VersionStatus

if TYPE_CHECKING:
    from console.screens.base import WkScreen


def confirm_then_run(screen: WkScreen, modal: ConfirmModal, what: str, func: Callable[..., Any],
                     *args: Any, with_alias: bool = False) -> None:
    """Open `modal`; on confirm run `func(store, *args[, alias], reason=...)` in a worker
    (a cancel is reported by the modal itself)."""

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            extra = (result["alias"],) if with_alias else ()
            screen.run_service_action(what, func, *args, *extra, reason=result["reason"])

    screen.app.push_screen(modal, done)


def start_promote(screen: WkScreen, model: str, version: int, aliases: dict[str, int],
                  default_alias: str = "production") -> None:
    from registry.aliases import promote

    if not screen.allowed("promote", "promote"):
        return

    def describe(alias: str) -> str:
        current = aliases.get(alias)
        before = f"v{current}" if current else "(none)"
        return f"{model} {alias or '?'}: {before} -> v{version}"

    modal = ConfirmModal(f"Promote {model} v{version}", describe, action="promote", alias=default_alias,
                         alias_choices=sorted({"production", "staging", *aliases}))
    confirm_then_run(screen, modal, "promote", promote, model, version, with_alias=True)


def start_archive(screen: WkScreen, model: str, version: int) -> None:
    from registry.versions import archive

    if not screen.allowed("archive", "archive"):
        return
    change = f"{model} v{version}: {VersionStatus.ACTIVE} -> {VersionStatus.ARCHIVED}"
    modal = ConfirmModal(f"Archive {model} v{version}", lambda _alias: change, action="archive")
    confirm_then_run(screen, modal, "archive", archive, model, version)


def start_rollback(screen: WkScreen, model: str, alias: str) -> None:
    """Ask the store what the rollback would do (in a worker), then confirm it."""
    from registry.aliases import rollback, rollback_preview

    if not screen.allowed("rollback", "rollback"):
        return

    def preview() -> str:
        return rollback_preview(screen.wk.store, model, alias).change()

    confirm_after_preview(screen, f"Roll back {model} {alias}", preview, "rollback", rollback,
                          model, alias)


def confirm_after_preview(screen: WkScreen, title: str, preview: Callable[[], str], what: str,
                          func: Callable[..., Any], *args: Any) -> None:
    """Run `preview` (a read: the exact change) in a worker, then confirm and run `func`.
    A preview that fails (nothing to roll back to, say) is reported instead."""

    def preview_then_confirm() -> None:
        try:
            change = preview()
        except Exception as exc:
            screen.app.call_from_thread(screen.notify, error_text(exc),
                                        title=f"{what} unavailable", severity="warning", timeout=6)
            return
        modal = ConfirmModal(title, lambda _alias: change, action=what)
        screen.app.call_from_thread(confirm_then_run, screen, modal, what, func, *args)

    screen.run_worker(preview_then_confirm, thread=True, group="action", exit_on_error=False)
