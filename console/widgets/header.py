"""The top line: where we are, who we are (and our role), and when the data was last read;
first of all, when the scheduler is down (the whole line in the theme's error colour) or
stopped, then the open alerts (firing / open). On a screen about one model, its owner
(and team) follow the view's title: whom to call at 3am."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $primary; color: $text; padding: 0 1; }
    StatusHeader.-scheduler-down { background: $error; text-style: bold; }
    StatusHeader.-scheduler-stopped { background: $warning; color: $text; }
    """

    view_title: reactive[str] = reactive("")
    refreshed: reactive[str] = reactive("never")
    paused: reactive[bool] = reactive(False)
    #: "SCHEDULER DOWN since 08:12", "scheduler stopped 08:12", or "" (up, or never ran)
    scheduler: reactive[str] = reactive("")
    #: "2 FIRING/3 open", "1 alert open", or "" (none open)
    alerts: reactive[str] = reactive("")
    #: the user's role as the console read it ("admin", "viewer, read-only"); "" not yet
    role: reactive[str] = reactive("")
    #: the model's owner and team on a screen about one model ("owner ana/risk"), else ""
    owner: reactive[str] = reactive("")

    def __init__(self, store: str, user: str, role: str, title: str = "") -> None:
        super().__init__()
        self.store_label, self.user = store, user
        self.role = role
        self.view_title = title

    def set_owner(self, owner: str | None, team: str | None = None) -> None:
        """The model's owner and team ("" or None: not known, or no owner recorded)."""
        if owner is None:
            self.owner = ""
            return
        who = owner or "no owner"
        self.owner = f"owner {who}/{team}" if team else f"owner {who}"

    def set_scheduler(self, text: str, level: str) -> None:
        """The scheduler's marker (console/screens/scheduler_cells.daemon_mark) and its
        level: "down", "stopped" or "" (nothing to say)."""
        self.scheduler = text
        self.set_class(level == "down", "-scheduler-down")
        self.set_class(level == "stopped", "-scheduler-stopped")

    def set_alerts(self, firing: int, total: int) -> None:
        """The open alerts: firing ones first, as they need someone now."""
        if firing:
            self.alerts = f"{firing} FIRING/{total} open"
        else:
            self.alerts = f"{total} alert{'s' if total != 1 else ''} open" if total else ""

    def render(self) -> str:
        """What matters at 3am first: the view and how fresh it is; the store path only
        where it fits."""
        room = self.size.width - 2
        who = f"{self.user} ({self.role})" if self.role else self.user
        title = f"{self.view_title}, {self.owner}" if self.owner else self.view_title
        text = ""
        # the word "refreshed" goes before the owner or the role would be cut off
        for fresh in ("refreshed ", ""):
            state = "PAUSED" if self.paused else f"{fresh}{self.refreshed}"
            text = f"{title} | {state} | {who}"
            if self.alerts:
                text = f"{self.alerts} | {text}"
            if self.scheduler:  # first, so 80 columns never cut it off
                text = f"{self.scheduler} | {text}"
            for extra in (f"Watchkeeper | {text} | {self.store_label}", f"Watchkeeper | {text}",
                          text):
                if len(extra) <= room:
                    return extra
        return text
