"""The confirmation every dangerous action opens: the exact change, and a reason.

One behaviour for every confirmation (promote, rollback, archive, the deployment
actions), so no dialog can be a trap:

- the cursor starts in the reason box, the one box every confirmation has and the one
  always to be typed; a box that sets the change (the alias, the share) sits above it,
  filled with the value the action would use, and shift+tab reaches it;
- Tab goes down the dialog: [field ->] reason -> Confirm -> Cancel, so Tab then Enter
  confirms, never cancels;
- Enter confirms from anywhere but the Cancel button; Esc (or Enter on Cancel) cancels,
  and a cancel always says so ("promote cancelled: nothing changed");
- a missing reason or a bad field is said in the dialog, and the cursor goes to the box
  to fix;
- the reason is shown exactly as the audit log will record it, updated as it is typed,
  and what is written is what was shown (if the box changed after the last preview, the
  first Enter only updates the preview).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

#: said in the dialog when Enter is pressed with an empty reason
REASON_NEEDED = "a reason is needed: it is kept in the audit log"
KEYS_HINT = "enter confirms · esc cancels · tab / shift+tab move"


def recorded_reason(typed: str) -> str:
    """The reason as the audit log will keep it (the box's text, trimmed)."""
    return typed.strip()


class ConfirmModal(ModalScreen[dict[str, str] | None]):
    """Returns {"reason": ..., "alias": ...} on confirm, None on cancel (after saying so)."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 72; max-width: 95%; height: auto; border: thick $warning;
                              background: $surface; padding: 1 2; }
    ConfirmModal #change { color: $warning; text-style: bold; margin-bottom: 1; }
    ConfirmModal #recorded { color: $text-muted; height: auto; }
    ConfirmModal #error { color: $error; height: auto; }
    ConfirmModal #keys { color: $text-muted; }
    ConfirmModal Input { margin-bottom: 1; }
    ConfirmModal #reason { margin-bottom: 0; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, describe: Callable[[str], str], *, action: str = "change",
                 alias: str | None = None, alias_choices: list[str] | None = None,
                 reason_required: bool = True, field_label: str = "alias", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        """`action` names the change in the cancel notice ("promote", "set share").
        `alias` (None: no field) is the first value of one field the change depends on,
        named by `field_label` (an alias by default, or e.g. a traffic share); `describe`
        gets the field's text and shows the change as it is typed, and `check` (text ->
        problem or None) refuses a bad value before the modal closes. The result keeps the
        field's text under "alias"."""
        super().__init__()
        self.title_text = title
        self.describe = describe
        self.action = action
        self.alias = alias
        self.alias_choices = alias_choices or []
        self.reason_required = reason_required
        self.field_label = field_label
        self.placeholder = placeholder
        self.check = check
        #: the reason the preview line shows now: the one a confirm writes
        self.previewed = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title")
            yield Static(self.describe(self.alias or ""), id="change")
            if self.alias is not None:
                yield Label(self.field_label)
                yield Input(self.alias, id="alias", compact=True, placeholder=self.placeholder,
                            suggester=SuggestFromList(self.alias_choices, case_sensitive=False))
            yield Label("reason" + (" (required)" if self.reason_required else ""))
            yield Input(placeholder="why: this goes to the audit log", id="reason", compact=True)
            yield Static(self._preview_text(""), id="recorded")
            yield Static("", id="error")
            with Horizontal():  # in Tab order: Confirm before Cancel
                yield Button("Confirm (enter)", id="confirm", variant="warning")
                yield Button("Cancel (esc)", id="cancel")
            yield Static(KEYS_HINT, id="keys")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    # --- what is shown as it is typed ---------------------------------------------------
    def _preview_text(self, reason: str) -> Text:
        if not reason:
            return Text("recorded as: (no reason yet)")
        return Text.assemble("recorded as: ", (f'"{reason}"', "bold"))

    def _show_preview(self) -> None:
        self.previewed = recorded_reason(self.query_one("#reason", Input).value)
        self.query_one("#recorded", Static).update(self._preview_text(self.previewed))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "alias":
            self.query_one("#change", Static).update(self.describe(event.value.strip()))
        else:
            self._show_preview()
        self.query_one("#error", Static).update("")

    # --- keys ---------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.app.notify(f"{self.action} cancelled: nothing changed", title=self.action, timeout=4)
        self.dismiss(None)

    def _refuse(self, problem: str, box: str) -> None:
        """Say the problem in the dialog and put the cursor in the box to fix, its text
        selected so typing replaces a bad value."""
        self.query_one("#error", Static).update(problem)
        field = self.query_one(f"#{box}", Input)
        field.focus()
        field.select_all()

    def _confirm(self) -> None:
        typed = recorded_reason(self.query_one("#reason", Input).value)
        if typed != self.previewed:
            # keys still arriving when Enter came: show what would be written, and let the
            # next Enter write it, so the audit log never holds a reason not seen here
            self._show_preview()
            self.query_one("#error", Static).update("the reason changed: check it above, then enter")
            return
        alias = self.query_one("#alias", Input).value.strip() if self.alias is not None else ""
        if self.reason_required and not typed:
            self._refuse(REASON_NEEDED, "reason")
            return
        if self.alias is not None:
            problem = (self.check(alias) if self.check is not None
                       else None if alias else "name the alias, e.g. production or staging")
            if problem:
                self._refuse(problem, "alias")
                return
        result: dict[str, Any] = {"reason": typed, "alias": alias}
        self.dismiss(result)
