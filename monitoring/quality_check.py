"""The data-quality check of a window of logged and batch inputs: missing values, type
and range violations against the signature, columns that turned constant or all-null,
unit changes, and the rows serving refused (quarantine) with their reasons -> one stored
QualityReport. The checks are pure (monitoring.quality); this module reads and writes."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from monitoring.drift_check import DEFAULT_MIN_ROWS
from monitoring.subject import resolve_subject
from monitoring.windows import Window
from store import reports as report_store
from store.access import authorize
from store.identity import current_actor
from store.logged_window import quarantine_reasons, read_window
from store.markers import self_recording
from store.roles import Permission
from store.vocabulary import CheckStatus

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)


@self_recording("a quality report is its own record, with who ran it (created_by) and when")
def run_quality(store: Store, model: str, window: Window, *, version: str | int | None = None,
                actor: str | None = None, store_report: bool = True) -> dict[str, Any]:
    if store_report:
        actor = authorize(store, actor, Permission.CHECK, model=model)
    from monitoring.quality import check_quality

    started = time.perf_counter()
    subject = resolve_subject(store, model, version)
    profile = subject.profile
    config = dict((profile or {}).get("config") or {})
    min_rows = int(config.get("min_rows", DEFAULT_MIN_ROWS))
    with store.db.read_core() as conn:
        logged = read_window(conn, subject.model_id, window.start, window.end,
                             version_id=subject.filter_version_id, input_types=subject.input_types,
                             with_outputs=False, with_meta=False)
        counts = quarantine_reasons(conn, subject.model_id, window.start, window.end)
    refused: dict[str, int] = {}
    fields: dict[str, str | None] = {}
    for field, reason, n in counts:
        refused[reason] = refused.get(reason, 0) + n
        fields.setdefault(reason, field)
    report: dict[str, Any] = {
        "model_id": subject.model_id, "version_id": subject.version_id,
        "window_start": window.start, "window_end": window.end, "rows": logged.rows,
        "quarantined": sum(refused.values()), "created_by": actor or current_actor(),
    }
    if logged.rows and not len(logged.input_rows) or (not logged.rows and not subject.logs_inputs):
        report.update(status=CheckStatus.NOT_LOGGED, findings=[], detail={"quarantine": refused},
                      reason=f"inputs not logged: {logged.rows:,} predictions in the window, none "
                             "with inputs (the deployment logs metadata only)")
    else:
        names = [c["name"] for c in subject.columns]
        result = check_quality(logged.inputs[names], subject.signature, profile, quarantined=refused,
                               quarantine_fields=fields, min_rows=min_rows).to_dict()
        findings = list(result.get("findings", []))
        report.update(
            status=result["status"], findings=findings,
            errors=sum(1 for f in findings if f.get("severity") == "error"),
            warnings=sum(1 for f in findings if f.get("severity") == "warning"),
            detail={k: v for k, v in result.items() if k not in ("status", "findings", "rows")}
            | {"quarantine": refused},
        )
    report["seconds"] = round(time.perf_counter() - started, 3)
    reason = report.pop("reason", None)
    if reason:
        report["detail"] = {**(report.get("detail") or {}), "reason": reason}
    if store_report:
        with store.db.write() as session:
            report["id"] = report_store.add_quality_report(session, report)
    log.info("quality check of %s: %s in %.2f s", model, report["status"], report["seconds"])
    return {**report, "model": subject.model, "version": subject.version, "reason": reason or ""}
