"""The scheduler at a glance, for the console's Overview and header: the daemon's state
from its heartbeat, and the runs that ended badly lately. One short read transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.jobs_view import daemon_state, run_row
from store import jobs as job_rows
from store.models import models_by_ids
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store

#: the Overview's window for failed runs
FAILED_WINDOW = timedelta(hours=24)
#: at most this many failed runs are read (the Overview names the newest few, counts the rest)
FAILED_LIMIT = 50


def scheduler_health(store: Store, now: datetime | None = None,
                     window: timedelta = FAILED_WINDOW) -> dict[str, Any]:
    """{"scheduler": daemon_state(...), "failed_runs": [run rows, newest first],
    "window_s": seconds}: failed, timed out and abandoned runs queued within `window`."""
    now = now or utcnow()
    with store.db.read() as session:
        daemon = daemon_state(job_rows.daemon_row(session), now)
        failed = list(job_rows.failed_runs_since(session, now - window)[:FAILED_LIMIT])
        names = models_by_ids(session, [r.model_id for r in failed if r.model_id is not None])
    runs = [run_row(r, names[r.model_id].name if r.model_id in names else None) for r in failed]
    return {"scheduler": daemon, "failed_runs": runs, "window_s": int(window.total_seconds())}
