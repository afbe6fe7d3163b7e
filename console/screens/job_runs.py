"""Job runs: the scheduler's ledger, newest first, filtered by job, model, status and
time (`:jobruns job=nightly status=failed since=1d`, and `/` on the rows), with each
run's trigger, wall time, CPU seconds, peak memory and rows. Enter opens one run: its
resources, exit code or signal, error, note and log tail (scrollable)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.columns import Column
from console.screens.base import TableScreen, WkScreen
from console.screens.scheduler_cells import STATUS_STYLE, count, exit_text, megabytes, seconds
from console.screens.time_format import local_seconds
from console.widgets.live_table import TableRow
from store.vocabulary import JobRunStatus

FILTERS = ("job", "model", "status", "since")
#: the most runs the view reads (newest first); `since=` or `job=` narrow it
RUN_LIMIT = 500


def run_filters(args: list[str]) -> dict[str, str]:
    """`:jobruns` arguments (a bare first word is the job), checked before the view opens
    so a typo is named at once."""
    from console.cli.common import parse_span
    from console.errors import error_text
    from console.navigation import key_value_filters
    from store.errors import UsageError

    filters = key_value_filters(args, FILTERS, first="job")
    if "status" in filters and filters["status"] not in tuple(JobRunStatus):
        raise ValueError(f"status={filters['status']} is not one of {', '.join(JobRunStatus)}")
    if "since" in filters:
        try:
            parse_span(filters["since"], "since=")
        except UsageError as exc:
            raise ValueError(error_text(exc)) from exc
    return filters


class JobRunsScreen(TableScreen):
    VIEW = "jobruns"
    #: At 80 columns: the run, its job, status, when and how long; CPU, memory, rows and
    #: the trigger where they fit (else in the detail line).
    COLUMNS = (Column("run"), Column("job", min_width=10), Column("status"),
               Column("started", 1), Column("wall s", 1), Column("cpu s", 2),
               Column("peak MB", 2), Column("rows", 3), Column("trigger", 3))

    def __init__(self, filters: dict[str, str] | None = None) -> None:
        super().__init__()
        self.filters = filters or {}

    def title_text(self) -> str:
        said = " ".join(f"{k}={v}" for k, v in self.filters.items())
        return f"job runs {said}".strip()

    def fetch(self) -> Any:
        from console.cli.common import parse_span
        from scheduler.jobs_view import list_runs

        since = self.filters.get("since")
        return list_runs(self.wk.store, job=self.filters.get("job"), model=self.filters.get("model"),
                         status=self.filters.get("status"),
                         since=parse_span(since, "since=") if since else None, limit=RUN_LIMIT)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        return [TableRow(str(r["id"]), (
            f"#{r['id']}", r["job"], r["status"], local_seconds(r["started_at"]),
            seconds(r["wall_s"]), seconds(r["cpu_s"]), megabytes(r["peak_memory_mb"]),
            count(r["rows"]), r["trigger"],
        ), r) for r in data]

    def on_data_table_row_selected(self, event: Any) -> None:
        if (row := self.selected()) is not None:
            self.wk.run_command(f"jobrun {row.key}")


class JobRunLog(VerticalScroll):
    """The run's page: scrolls with the arrows, page keys and j/k."""

    BINDINGS = [Binding("j", "scroll_down", "Down", show=False),
                Binding("k", "scroll_up", "Up", show=False)]


class JobRunScreen(WkScreen):
    VIEW = "jobrun"

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id

    def title_text(self) -> str:
        return f"job run #{self.run_id}"

    def compose_body(self) -> ComposeResult:
        with JobRunLog():
            yield Static("loading ...", id="jobrun")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(JobRunLog).focus()

    def fetch(self) -> Any:
        from scheduler.jobs_view import show_run

        return show_run(self.wk.store, self.run_id)

    def show(self, run: dict[str, Any]) -> None:
        self.query_one("#jobrun", Static).update(run_text(run))


def run_text(run: dict[str, Any]) -> Text:
    """One run as the page shows it: what ran, when, with what resources, how it ended."""
    text = Text()

    def field(label: str, value: Any, style: str = "") -> None:
        text.append(f"{label:13}", style="bold")
        text.append(f"{value if value not in (None, '') else '-'}\n", style=style)

    field("job", f"{run['job']} ({run['kind']})" + (f" of {run['model']}" if run["model"] else ""))
    field("status", run["status"], STATUS_STYLE.get(run["status"], ""))
    field("trigger", f"{run['trigger']}, attempt {run['attempt']}"
          + (f" (first #{run['first_run_id']})" if run.get("first_run_id") else "")
          + (f", asked by {run['requested_by']}" if run["requested_by"] else ""))
    field("slot", local_seconds(run["scheduled_for"], date=True))
    field("started", local_seconds(run["started_at"], date=True))
    field("ended", local_seconds(run["ended_at"], date=True))
    field("resources", f"wall {seconds(run['wall_s'])} s · cpu {seconds(run['cpu_s'])} s · "
                       f"peak {megabytes(run['peak_memory_mb'])} MB · rows {count(run['rows'])}")
    field("exit", exit_text(run))
    if run.get("host"):
        field("process", f"{run['host']}, daemon pid {run['daemon_pid']}"
              + (f", child pid {run['pid']}" if run.get("pid") else ""))
    if run["error"]:
        field("error", run["error"], "bold red")
    if run["note"]:
        field("note", run["note"], "yellow")
    if run.get("result"):  # what the kind reported: a version registered, report ids
        field("result", "  ".join(f"{k}={v}" for k, v in run["result"].items()))
    if run.get("log_path"):
        field("log file", run["log_path"])
    text.append("\nlog tail\n", style="bold")
    text.append(run.get("log_tail") or "(empty)")
    return text
