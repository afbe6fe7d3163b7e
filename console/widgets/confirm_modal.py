"""The confirmation every dangerous action opens: the exact change, and a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static


class ConfirmModal(ModalScreen[dict[str, str] | None]):
    """Returns {"reason": ..., "alias": ...} on confirm, None on cancel."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 72; max-width: 95%; height: auto; border: thick $warning;
                              background: $surface; padding: 1 2; }
    ConfirmModal #change { color: $warning; text-style: bold; margin-bottom: 1; }
    ConfirmModal #error { color: $error; height: auto; }
    ConfirmModal Input { margin-bottom: 1; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, describe: Callable[[str], str], *, alias: str | None = None,
                 alias_choices: list[str] | None = None, reason_required: bool = True,
                 field_label: str = "alias", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        """`alias` (None: no field) is the first value of one field the change depends on,
        named by `field_label` (an alias by default, or e.g. a traffic share); `describe`
        gets the field's text and shows the change as it is typed, and `check` (text ->
        problem or None) refuses a bad value before the modal closes. The result keeps the
        field's text under "alias"."""
        super().__init__()
        self.title_text = title
        self.describe = describe
        self.alias = alias
        self.alias_choices = alias_choices or []
        self.reason_required = reason_required
        self.field_label = field_label
        self.placeholder = placeholder
        self.check = check

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
            yield Static("", id="error")
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Confirm (enter)", id="confirm", variant="warning")

    def on_mount(self) -> None:
        """The cursor starts where typing is needed: an empty field, else the reason."""
        empty_field = self.alias is not None and not self.alias
        self.query_one("#alias" if empty_field else "#reason", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "alias":
            self.query_one("#change", Static).update(self.describe(event.value.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "alias":
            self.query_one("#reason", Input).focus()
        else:
            self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        alias = self.query_one("#alias", Input).value.strip() if self.alias is not None else ""
        if self.reason_required and not reason:
            self.query_one("#error", Static).update("a reason is required: it is kept in the audit log")
            return
        if self.alias is not None:
            problem = (self.check(alias) if self.check is not None
                       else None if alias else "name the alias, e.g. production or staging")
            if problem:
                self.query_one("#error", Static).update(problem)
                return
        result: dict[str, Any] = {"reason": reason, "alias": alias}
        self.dismiss(result)
