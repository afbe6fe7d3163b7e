"""The 3am story as stored rows, for the timeline's tests (tests/test_timeline.py and the
console's tests/test_console_timeline.py): a drift report, its alert pending then firing
(notified), acknowledged with a note, the production alias rolled back, the alert
annotated with the rollback and resolved by itself when the drift cleared.

The alert rows are written as the alert helpers write them (store/alert_tables.py), with
fixed times, so a test states the exact order it expects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from store.alert_tables import Alert, AlertEvent
from store.handle import Store
from store.report_tables import DriftReport
from store.tables import AliasChange, ModelVersion, RegisteredModel
from store.vocabulary import AlertEventKind, AlertState, CheckStatus

MINUTE = timedelta(minutes=1)
ONCALL = "alice"
ACK_NOTE = "looking at the income drift"
ROLLBACK_NOTE = "rolled back v2"


@dataclass(frozen=True)
class Story:
    report_id: int
    alert_id: int
    rollback_id: int
    drift_at: datetime  # when the drift report was written; the rest follows in minutes


def ids_of(store: Store, model: str) -> tuple[int, dict[int, int]]:
    """The model's id and its version ids by number."""
    with store.db.read() as session:
        m = session.exec(select(RegisteredModel).where(RegisteredModel.name == model)).one()
        versions = session.exec(select(ModelVersion).where(ModelVersion.model_id == m.id)).all()
        return int(m.id), {v.version: int(v.id) for v in versions}  # type: ignore[arg-type]


def alias_change(store: Store, model: str, at: datetime, action: str, from_version: int | None,
                 to_version: int, reason: str, actor: str = ONCALL) -> int:
    model_id, versions = ids_of(store, model)
    with store.db.write() as session:
        row = AliasChange(model_id=model_id, alias="production", action=action,
                          from_version_id=versions[from_version] if from_version else None,
                          to_version_id=versions[to_version], at=at, actor=actor, reason=reason)
        session.add(row)
        session.flush()
        return int(row.id)  # type: ignore[arg-type]


def add_story(store: Store, model: str, drift_at: datetime, *, bad: int = 2, good: int = 1,
              feature: str = "income") -> Story:
    """The story of the module docstring, from `drift_at` on, production going from v`bad`
    back to v`good`."""
    model_id, versions = ids_of(store, model)
    with store.db.write() as session:
        report = DriftReport(model_id=model_id, version_id=versions[bad], window_start=drift_at - 60 * MINUTE,
                             window_end=drift_at - MINUTE, status=CheckStatus.DRIFT, rows=4812, features=3,
                             drifted=2, drift_share=2 / 3, domain_auc=0.81,
                             reason=f"drift: 2 of 3 features drifted: {feature}, purpose",
                             created_at=drift_at, created_by="scheduler")
        session.add(report)
        session.flush()
        alert = Alert(rule_name=f"{model}-drift", kind="drift", fingerprint=f"fp-{model}-{feature}",
                      group_key=f'{{}}:{{model="{model}"}}', model_id=model_id, version=bad, feature=feature,
                      severity="critical", labels={"model": model, "feature": feature},
                      state=AlertState.RESOLVED, value=0.31, reason=f"{feature} drifted: psi 0.31 > 0.2",
                      started_at=drift_at + MINUTE, fired_at=drift_at + 3 * MINUTE,
                      resolved_at=drift_at + 40 * MINUTE, ack_by=ONCALL, ack_note=ACK_NOTE,
                      updated_at=drift_at + 40 * MINUTE)
        session.add(alert)
        session.flush()
        alert_id = int(alert.id)  # type: ignore[arg-type]
        for minutes, event, actor, note, details in (
                (1, AlertEventKind.PENDING, "", "", None),
                (3, AlertEventKind.FIRING, "", "", None),
                (3, AlertEventKind.NOTIFIED, "", "", {"channels": ["oncall-webhook", "oncall-mail"]}),
                (15, AlertEventKind.ACKNOWLEDGED, ONCALL, ACK_NOTE, {"until": "in 2h"}),
                (20, AlertEventKind.ANNOTATED, ONCALL, ROLLBACK_NOTE, {"action": "rollback"}),
                (40, AlertEventKind.RESOLVED, "", "condition cleared", None)):
            session.add(AlertEvent(alert_id=alert_id, at=drift_at + minutes * MINUTE, event=event, actor=actor,
                                   note=note, details=details))
        report_id = int(report.id)  # type: ignore[arg-type]
    rollback = alias_change(store, model, drift_at + 20 * MINUTE, "rollback", bad, good,
                            f"{feature} drifted; back to v{good}")
    return Story(report_id, alert_id, rollback, drift_at)
