"""The jobs view's changes: run now, pause, resume. Each shows the exact change, asks for
a reason and calls the same scheduler.jobs_service function as `wk jobs`, which writes
the same audit event; the daemon picks the change up from the job table within seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.screens.alias_actions import confirm_then_run
from console.widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.screens.base import WkScreen


def _waits(scheduler: dict[str, Any] | None) -> str:
    """What a change means while no scheduler runs (the job table keeps it until one does)."""
    state = (scheduler or {}).get("state")
    if state in (None, "up"):
        return ""
    return f" (the scheduler is {'not running' if state == 'never' else state}: it acts on this when it starts)"


def start_run_now(screen: WkScreen, job: dict[str, Any], scheduler: dict[str, Any] | None) -> None:
    from scheduler.jobs_service import run_now

    if not screen.allowed("run now", "run_job"):
        return
    name = job["name"]
    what = f"{job['kind']}" + (f" of {job['model']}" if job["model"] else "")
    paused = "; paused, so this one run only" if job["paused"] else ""
    change = f"{name}: queue a run now ({what}{paused}){_waits(scheduler)}"
    modal = ConfirmModal(f"Run {name} now", lambda _field: change, action="run now")
    confirm_then_run(screen, modal, "run now", run_now, name)


def start_set_paused(screen: WkScreen, job: dict[str, Any], paused: bool,
                     scheduler: dict[str, Any] | None) -> None:
    from scheduler.jobs_service import set_paused

    what = "pause" if paused else "resume"
    if not screen.allowed(what, "pause_job" if paused else "resume_job"):
        return
    name = job["name"]
    if job["paused"] == paused:
        screen.notify(f"{name} is {'paused' if paused else 'not paused'} already; "
                      f"{'U resumes it' if paused else 'P pauses it'}", title=what, timeout=4)
        return
    if paused:
        change = f"{name}: active -> paused (no new runs; a run under way finishes)"
    else:
        change = f"{name}: paused -> active (runs again from its next slot)"
    modal = ConfirmModal(f"{what.capitalize()} {name}", lambda _field: change + _waits(scheduler),
                         action=what)
    confirm_then_run(screen, modal, what, set_paused, name, paused)
