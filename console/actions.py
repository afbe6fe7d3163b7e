"""Every console action, declared once: its key, what it does, where it applies and
whether it changes anything. Bindings, the footer, the help screen and the command
palette are generated from this list, and read-only mode is one check on `dangerous`."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from console.navigation import VIEW_NAMES

ALL_VIEWS = VIEW_NAMES
#: The views whose body is one table (filter, sort, copy, raw JSON).
#: The monitoring views: one model's stored reports (console/screens/report_screens.py).
MONITOR_VIEWS = ("drift", "quality", "performance")
#: The scheduler's views (console/screens/jobs.py, job_runs.py, approvals.py, usage.py).
SCHEDULER_TABLES = ("jobs", "jobruns", "approvals", "usage")
TABLE_VIEWS = ("overview", "models", "versions", "datasets", "dataset", "runs", "audit", "deployments",
               "predictions", "labelling", *MONITOR_VIEWS, *SCHEDULER_TABLES, "timeline", "alerts")


@dataclass(frozen=True)
class ActionSpec:
    id: str  # the action_<id> method name
    key: str
    description: str
    views: tuple[str, ...] = ALL_VIEWS
    dangerous: bool = False
    show: bool = True  # shown in the footer
    short: str = ""  # the footer's label (80 columns hold about eight)

    @property
    def label(self) -> str:
        return self.short or self.description


GLOBAL_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("command_bar", "colon", "Go to a view (:models, :audit, :lineage M V)", short="view"),
    ActionSpec("help", "question_mark", "Show every key", short="help"),
    ActionSpec("back", "escape", "Back (a filter kept with / is cleared first)", show=False),
    ActionSpec("refresh_now", "ctrl+r", "Refresh now", show=False),
    ActionSpec("toggle_pause", "p", "Pause or resume refresh", show=False),
    ActionSpec("quit", "q", "Quit", show=False),
)

SCREEN_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("filter", "slash", "Filter rows", TABLE_VIEWS, short="filter"),
    ActionSpec("sort", "s", "Sort by the next column",
               ("models", "versions", "datasets", "runs", "audit", "deployments", "predictions",
                *SCHEDULER_TABLES), show=False),
    ActionSpec("copy_id", "c", "Copy the row's id (model, version, run, prediction...) to the clipboard",
               (*TABLE_VIEWS, "prediction"), show=False),
    ActionSpec("show_raw", "y", "Raw JSON of the row", (*TABLE_VIEWS, "prediction"), show=False),
    ActionSpec("toggle_wide", "w", "Wide: every column at full width, scrolling sideways (again: fit "
               "the screen, cut values in full in the detail line)", TABLE_VIEWS, show=False),
    ActionSpec("lineage", "l", "Lineage of the version", ("versions", "version"), short="lineage"),
    ActionSpec("compare", "d", "Compare with another version", ("versions", "version"), show=False),
    ActionSpec("promote", "P", "Promote the version to an alias", ("versions", "version", "lineage"),
               dangerous=True, short="promote"),
    ActionSpec("rollback", "B", "Roll an alias back to its previous version",
               ("overview", "models", "versions", "version"), dangerous=True, short="rollback"),
    ActionSpec("archive", "A", "Archive the version", ("versions", "version"), dangerous=True,
               short="archive"),
    # the deployments view: the same P and B as elsewhere, acting on how the model is served
    ActionSpec("promote_challenger", "P", "Promote the challenger to production", ("deployments",),
               dangerous=True, short="promote"),
    ActionSpec("rollback_deployment", "B", "Roll back: the challenger out, else production back a version",
               ("deployments",), dangerous=True, short="rollback"),
    ActionSpec("set_share", "S", "Set the challenger's share of requests (canary, ab)", ("deployments",),
               dangerous=True, short="share"),
    ActionSpec("label_task", "L", "Label the selected prediction (enter does too)", ("labelling",),
               dangerous=True, short="label"),
    ActionSpec("skip_task", "x", "Skip the selected prediction", ("labelling",), dangerous=True, short="skip"),
    ActionSpec("fill_queue", "F", "Queue a sample of the last 7 days' unlabelled predictions", ("labelling",),
               dangerous=True, short="fill"),
    # a model's monitoring views, from its row or from one another
    ActionSpec("drift", "i", "Input drift of the model, per feature", ("overview", "models", *MONITOR_VIEWS),
               short="drift"),
    ActionSpec("quality", "u", "Data quality of the model: findings and quarantine",
               ("overview", "models", *MONITOR_VIEWS), show=False),
    ActionSpec("performance", "m", "Performance of the model: metrics per version, estimate, coverage",
               ("overview", "models", *MONITOR_VIEWS), short="perf"),
    # one model's timeline, from the model's views; on it, `f` keeps only some kinds
    ActionSpec("timeline", "t", "Timeline of the model: changes, runs, reports, alerts, spikes",
               ("overview", "models", "versions", "version", *MONITOR_VIEWS, "alerts"), show=False),
    ActionSpec("timeline_kinds", "f", "Show only some kinds of entry (alert, drift, alias ...)",
               ("timeline",), short="kinds"),
    # the scheduler's views: `p` stays the console's refresh pause everywhere, so a job
    # pauses with P and resumes with U (capitals, as the other changes here are)
    ActionSpec("run_job", "r", "Run the job now (the scheduler starts it within seconds)", ("jobs",),
               dangerous=True, short="run now"),
    ActionSpec("pause_job", "P", "Pause the job: no new runs until it is resumed", ("jobs",),
               dangerous=True, short="pause"),
    ActionSpec("resume_job", "U", "Resume the paused job", ("jobs",), dangerous=True, short="resume"),
    ActionSpec("approve", "a", "Approve the pending version: it becomes production",
               ("approvals", "approval"), dangerous=True, short="approve"),
    ActionSpec("reject", "x", "Reject the pending version (production stays)", ("approvals", "approval"),
               dangerous=True, short="reject"),
    # the alerts view (enter opens what the alert is about); on the drift view, v opens the
    # report's version, and from an alert b there rolls back as the alert's action
    ActionSpec("ack_alert", "a", "Acknowledge the alert: a note, and an expiry after which it "
               "notifies again", ("alerts",), dangerous=True, short="ack"),
    ActionSpec("silence_alert", "s", "Silence alerts like this one (its rule and target) for a while",
               ("alerts",), dangerous=True, short="silence"),
    ActionSpec("resolve_alert", "x", "Resolve the alert by hand, with a note", ("alerts",),
               dangerous=True, short="resolve"),
    ActionSpec("alert_rollback", "b", "Roll back the alert's model (challenger out, else production "
               "back a version); the alert is annotated", ("alerts",), dangerous=True,
               short="rollback"),
    ActionSpec("alert_pause_job", "P", "Pause the job of a job-failed alert", ("alerts",),
               dangerous=True, show=False),
    ActionSpec("alert_retrain", "R", "Retrain: run the model's retrain job now", ("alerts",),
               dangerous=True, show=False),
    ActionSpec("open_version", "v", "The report's version, with its lineage", ("drift",),
               short="version"),
    ActionSpec("older_report", "left_square_bracket", "The drift report before this one", ("drift",),
               show=False),
    ActionSpec("newer_report", "right_square_bracket", "The drift report after this one", ("drift",),
               show=False),
    ActionSpec("explain", "e", "Explain the prediction: replay it through its version (hash-checked) "
               "and show each input feature's contribution", ("prediction",), short="explain"),
)


def actions_for(view: str) -> list[ActionSpec]:
    return [a for a in SCREEN_ACTIONS if view in a.views]


def bindings_for(view: str, read_only: bool = False) -> list[Binding]:
    """A screen's bindings; in read-only mode dangerous ones leave the footer (their key
    still answers, to say why the action is unavailable)."""
    return [
        Binding(a.key, a.id, a.label, show=a.show and not (read_only and a.dangerous))
        for a in actions_for(view)
    ]


def global_bindings() -> list[BindingType]:
    return [Binding(a.key, a.id, a.label, show=a.show) for a in GLOBAL_ACTIONS]


def key_label(key: str) -> str:
    return {"colon": ":", "slash": "/", "question_mark": "?", "escape": "esc", "left_square_bracket": "[",
            "right_square_bracket": "]"}.get(key, key)


def is_dangerous(action_id: str) -> bool:
    return any(a.id == action_id and a.dangerous for a in SCREEN_ACTIONS)
