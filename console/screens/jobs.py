"""Jobs: every scheduled job with its schedule, its next run (local time, and how far
off) and its last run (status, how long ago); paused jobs marked. `r` runs one now, `P`
pauses, `U` resumes (each confirmed with a reason, audited as `wk jobs` does); Enter
opens the job's runs. Refreshes with the console (every 2 s by default)."""

from __future__ import annotations

from typing import Any

from console.action_results import JOB_ACTIONS
from console.columns import Column
from console.screens.base import TableScreen
from console.screens.scheduler_cells import last_run_text, next_run_text
from console.widgets.live_table import TableRow
from store.vocabulary import JobRunStatus


def job_state(job: dict[str, Any]) -> str:
    """"paused", "running" (its last run is under way) or "active"."""
    if job["paused"]:
        return "paused"
    last = job["last_run"]
    return "running" if last and last["status"] == JobRunStatus.RUNNING else "active"


class JobsScreen(TableScreen):
    VIEW = "jobs"
    ACTION_RESULTS = JOB_ACTIONS
    #: At 80 columns: the job, whether it runs, when next and how the last went; the
    #: schedule, kind and model where they fit (else in the detail line).
    COLUMNS = (Column("job", min_width=12), Column("state"), Column("next"),
               Column("last run", min_width=12), Column("model", 1, min_width=10),
               Column("schedule", 2, min_width=10), Column("kind", 3))

    def __init__(self) -> None:
        super().__init__()
        self.scheduler: dict[str, Any] | None = None

    def title_text(self) -> str:
        return "jobs"

    def fetch(self) -> Any:
        from scheduler.jobs_view import list_jobs

        return list_jobs(self.wk.store, now=self.wk.clock())

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        now = self.wk.clock()
        self.scheduler = data["scheduler"]
        self.wk.show_scheduler(self.scheduler)
        return [TableRow(job["name"], (
            job["name"], job_state(job),
            next_run_text(job, now),
            last_run_text(job["last_run"], now), job["model"] or "-", job["schedule"], job["kind"],
        ), job) for job in data["jobs"]]

    def on_data_table_row_selected(self, event: Any) -> None:
        if (row := self.selected()) is not None:
            self.wk.run_command(f"jobruns job={row.key}")

    def _job(self) -> dict[str, Any] | None:
        row = self.selected()
        if row is None:
            self.notify("no job selected; add one with 'wk jobs add'", title="jobs", timeout=4)
            return None
        job: dict[str, Any] = row.raw
        return job

    def action_run_job(self) -> None:
        from console.screens.job_actions import start_run_now

        if (job := self._job()) is not None:
            start_run_now(self, job, self.scheduler)

    def action_pause_job(self) -> None:
        from console.screens.job_actions import start_set_paused

        if (job := self._job()) is not None:
            start_set_paused(self, job, True, self.scheduler)

    def action_resume_job(self) -> None:
        from console.screens.job_actions import start_set_paused

        if (job := self._job()) is not None:
            start_set_paused(self, job, False, self.scheduler)
