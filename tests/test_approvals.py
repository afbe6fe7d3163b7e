"""The manual promotion policy: a retrain that passed its gate leaves a pending approval
with a Markdown and a self-contained HTML report; approve makes it production, reject
leaves production alone, both audited and each only once."""

from __future__ import annotations

import re
import stat

import numpy as np
import pandas as pd
import pytest
from retrain_store import START, credit_spec, run_context, trained_in_production

from registry.approvals import approve, list_approvals, reject, show_approval
from registry.promotion import set_model
from sample_models.events import covariate_drift
from scheduler.approval_report import residual_breakdown, write_report
from scheduler.kinds import KINDS
from store import audit as audit_store
from store.errors import Conflict, UsageError
from store.vocabulary import AuditAction


@pytest.fixture
def pending(store, tmp_path):
    """credit-default v1 in production, mission-critical; a retrain on drifted data left v2."""
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    set_model(store, "credit-default", criticality="mission-critical", actor="tests")
    credit_spec(tmp_path / "p", seed=2, events=[covariate_drift(START, "income", scale=1.6)])
    outcome = KINDS["retrain"].run_function()(run_context(store, "retrain", {"spec": str(spec)}))
    assert outcome.result["policy"]["policy"] == "manual"
    return store


def _actions(store) -> list[str]:
    with store.db.read() as session:
        return [e.action for e in audit_store.list_events(session)]


def test_manual_policy_leaves_a_pending_version_with_both_reports(pending) -> None:
    [request] = list_approvals(pending, "credit-default")
    assert (request["version"], request["status"], request["against_version"]) == (2, "pending", 1)
    shown = show_approval(pending, "credit-default", 2)
    md, html = shown["report_md"], shown["report_html"]
    assert md.endswith("reports/approvals/credit-default/v2.md") and html.endswith("v2.html")
    for path in (md, html):
        assert stat.S_IMODE(__import__("os").stat(path).st_mode) == 0o600
    page = open(html, encoding="utf-8").read()
    assert not re.search(r"https?://|<script|<link|@import|url\(|src=", page)
    assert re.search(r"<td class=\"l\">roc_auc</td><td class=\"\">0\.\d{4}</td>"
                     r"<td class=\"\">0\.\d{4}</td>", page)
    assert "Confusion matrix" in page and "<svg" in page
    summary = shown["summary"]
    assert summary["production"] == 1 and summary["gate_passed"] is True
    assert set(summary["metrics"]) == {"roc_auc", "accuracy", "log_loss"}
    assert summary["metrics"]["roc_auc"]["production"] is not None
    assert "income" in summary["drifted"]  # its training data moved; the report says so
    text = open(md, encoding="utf-8").read()
    assert "| roc_auc |" in text and "income" in text and "support" in text
    assert AuditAction.APPROVAL_REQUEST in _actions(pending)


def test_approve_makes_production_once_and_is_audited(pending, wk) -> None:
    with pytest.raises(UsageError, match="approving credit-default v2 needs a reason"):
        approve(pending, "credit-default", 2, reason=" ")
    done = approve(pending, "credit-default", 2, reason="better on the same rows", actor="ana")
    assert done["status"] == "approved" and done["decided_by"] == "ana"
    assert done["move"]["from_version"] == 1 and done["move"]["to_version"] == 2
    assert wk("models", "show", "credit-default", "production", "--json").json()["version"] == 2
    assert {AuditAction.VERSION_APPROVE, AuditAction.ALIAS_PROMOTE} <= set(_actions(pending))
    with pytest.raises(Conflict, match="its request is approved, not pending .by ana"):
        approve(pending, "credit-default", 2, reason="again")
    with pytest.raises(Conflict, match="cannot reject"):
        reject(pending, "credit-default", 2, reason="too late")
    assert list_approvals(pending, "credit-default") == []
    assert [r["status"] for r in list_approvals(pending, status=None)] == ["approved"]


def test_reject_keeps_production_and_the_cli_shows_it(pending, wk) -> None:
    listed = wk("models", "approvals", "--json").json()
    assert [(r["model"], r["version"]) for r in listed] == [("credit-default", 2)]
    result = wk("models", "reject", "credit-default", "2", "--reason", "income moved", "--json")
    assert result.code == 0, result.err
    assert result.json()["status"] == "rejected"
    assert wk("models", "show", "credit-default", "production", "--json").json()["version"] == 1
    assert AuditAction.VERSION_REJECT in _actions(pending)
    assert "no version waits" in wk("models", "approvals").err + wk("models", "approvals").out
    assert wk("models", "approve", "credit-default", "2", "--reason", "x").code != 0


def test_a_newer_request_supersedes_the_pending_one(pending, tmp_path) -> None:
    KINDS["retrain"].run_function()(run_context(pending, "retrain", {"spec": str(
        tmp_path / "p" / "spec.toml")}, name="retrain-job"))
    statuses = {r["version"]: r["status"] for r in list_approvals(pending, status=None)}
    assert statuses == {2: "superseded", 3: "pending"}


def test_models_set_is_audited_and_checked(store, tmp_path, wk) -> None:
    trained_in_production(store, credit_spec(tmp_path / "p"))
    out = wk("models", "set", "credit-default", "--policy", "manual", "--max-age-days", "30",
             "--json").json()
    assert (out["effective_policy"], out["max_age_days"]) == ("manual", 30)
    assert out["changed"] == ["effective_policy", "max_age_days", "policy_from",
                              "promotion_policy"]
    assert wk("models", "set", "credit-default").code == 2  # nothing to set
    assert wk("models", "set", "credit-default", "--policy", "default", "--json").json()[
        "effective_policy"] == "staging"
    assert AuditAction.MODEL_SET in _actions(store)


def test_without_production_the_report_shows_the_candidate_alone(store, tmp_path) -> None:
    from registry.training import train

    train(store, str(credit_spec(tmp_path / "p")), actor="tests")
    md, html, summary = write_report(store, "credit-default", 1)
    assert summary["production"] is None and summary["drift_status"] == "no production version"
    assert "no production version yet" in md.read_text()
    assert "no production version yet" in html.read_text()


def test_residual_breakdown_of_a_regressor() -> None:
    y = pd.Series(np.arange(100, dtype=float))
    predicted = y.to_numpy() - np.where(y >= 90, 10.0, 1.0)
    out = residual_breakdown(y, predicted)
    assert out["quantiles"]["q50"] == 1.0 and out["quantiles"]["q95"] == 10.0
    assert [d["mae"] for d in out["by_target_decile"]] == [1.0] * 9 + [10.0]
    assert sum(d["rows"] for d in out["by_target_decile"]) == 100


def test_a_regressor_report_renders_its_residuals_on_one_scale() -> None:
    from scheduler.approval_render import render_html, render_markdown

    y = pd.Series(np.arange(100, dtype=float))
    report = {
        "model": "demand", "task": "regression", "candidate": 2, "production": 1,
        "holdout": {"rows": 100, "split": "time"}, "run_id": 5, "written_at": "now",
        "metrics": {"mae": {"candidate": 1.9, "production": 4.0, "delta": -2.1, "better": True}},
        "breakdown": {"kind": "residuals", "candidate": residual_breakdown(y, y - 1.0),
                      "production": residual_breakdown(y, y - 4.0)},
        "drift": {"status": "compared", "features": [], "moved": []},
        "gate": {"passed": True, "metric": "mae", "checks": []}, "notes": [], "code_version": {},
    }
    page, text = render_html(report), render_markdown(report)
    assert "target decile" in page and "| target decile | rows | MAE |" in text
    widths = [float(w) for w in re.findall(r'<rect x="0" y="1" width="([\d.]+)" height="7" '
                                           r'fill="#(?:0969da|8c959f)"/></svg></td></tr>', page)]
    assert widths[:10] == [20.0] * 10 and widths[10:] == [80.0] * 10  # MAE 1 vs 4, one scale


def test_the_report_says_when_the_training_data_changed_since_the_run(pending, tmp_path) -> None:
    credit_spec(tmp_path / "p", seed=3)  # the file the run read now holds other rows
    md, _html, _summary = write_report(pending, "credit-default", 2)
    assert "the training data changed since the run" in md.read_text()
