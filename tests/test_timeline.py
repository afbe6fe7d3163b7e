"""One model's timeline (monitoring/timeline.py, `wk timeline`): the 3am story in order
and complete, repeats folded, spikes found and merged in a seeded rollup, the window's
bounds, the JSON shape, and the errors for an unknown model, kind or time."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from logged_store import build_logged_store
from timeline_story import ACK_NOTE, ONCALL, ROLLBACK_NOTE, Story, add_story, alias_change, ids_of

from monitoring.spikes import Minute, SpikeKind, SpikeRule, find_spikes, merge_bursts
from monitoring.timeline import TimelineKind, model_timeline
from store.errors import InvalidInput, NotFound
from store.handle import Store
from store.report_tables import DriftReport
from store.tables import LATENCY_BUCKETS_MS, MetricRollup, Quarantine, TrainingRun
from store.vocabulary import CheckStatus

T0 = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
DRIFT_AT = T0 + 10 * HOUR


@pytest.fixture(scope="module")
def story_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Story]]:
    """`tiny` (tests/logged_store.py): run #1 trains v1, production -> v1, then -> v2, then
    the story (tests/timeline_story.py) rolls it back to v1; plus rows that must not show:
    another model's rollback, a change before the window."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store, _ = build_logged_store(tmp_path_factory.mktemp("timeline") / "store", rows=60, days=1)
    model_id, versions = ids_of(store, "tiny")
    with store.db.write() as session:
        run = TrainingRun(model_id=model_id, status="succeeded", started_at=T0, ended_at=T0 + 4 * MINUTE,
                          created_by=ONCALL, reason="")
        session.add(run)
        session.flush()
        from store.tables import ModelVersion

        v1 = session.get(ModelVersion, versions[1])
        assert v1 is not None
        v1.run_id = run.id
        session.add(v1)
    alias_change(store, "tiny", T0 - 48 * HOUR, "promote", None, 2, "long before the window")
    alias_change(store, "tiny", T0 + HOUR, "promote", None, 1, "first release")
    alias_change(store, "tiny", T0 + 5 * HOUR, "promote", 1, 2, "v2 beat v1 on the holdout")
    story = add_story(store, "tiny", DRIFT_AT)
    from registry.models import ensure_model
    from registry.registration import insert_version

    with store.db.write() as session:  # another model, with a rollback in the same minutes
        other = ensure_model(session, "other", actor="tests")
        for number in (1, 2):
            insert_version(session, other, store.artifacts.put_bytes(f"other v{number}\n".encode()),
                           actor="tests", flavor="x", signature=None, example=None, metrics=None, params=None,
                           run_id=None, source="register", code_version=None, environment=None)
    alias_change(store, "other", DRIFT_AT + 20 * MINUTE, "rollback", 2, 1, "not tiny's")
    yield store, story
    store.close()


def test_the_3am_story_is_in_order_and_complete(story_store: tuple[Store, Story]) -> None:
    """train v1 -> promote -> drift report -> alert pending/firing -> ack with note ->
    rollback -> resolve: every step once, in order; the rollback and the alert's note of
    it share a time and keep the change first; the change before the window and the other
    model's rollback are not there."""
    store, story = story_store
    entries = model_timeline(store, "tiny", T0 - HOUR, T0 + 24 * HOUR)
    said = [(e.kind, e.title) for e in entries]
    assert said == [
        ("training", "train run #1 succeeded: registered v1"),
        ("alias", "promote production -> v1: first release"),
        ("alias", "promote production v1 -> v2: v2 beat v1 on the holdout"),
        ("drift", "drift: 2 of 3 features drifted: income, purpose"),
        ("alert", "tiny-drift pending (critical) income: income drifted: psi 0.31 > 0.2"),
        ("alert", "tiny-drift firing (critical) income: income drifted: psi 0.31 > 0.2"),
        ("alert", "tiny-drift notified"),
        ("alert", f"tiny-drift acknowledged by {ONCALL}: {ACK_NOTE}"),
        ("alias", "rollback production v2 -> v1: income drifted; back to v1"),
        ("alert", f"tiny-drift note: {ROLLBACK_NOTE}"),
        ("alert", "tiny-drift resolved by itself: condition cleared"),
    ]
    times = [e.at for e in entries]
    assert times == sorted(times)
    ack = entries[7]
    assert (ack.actor, ack.version, ack.ids["alert"]) == (ONCALL, 2, story.alert_id)
    assert entries[3].ids["report"] == story.report_id and entries[3].version == 2
    assert entries[8].ids["alias_change"] == story.rollback_id and entries[8].version == 1
    # the same read again gives the same order (equal times included)
    assert [(e.kind, e.title) for e in model_timeline(store, "tiny", T0 - HOUR, T0 + 24 * HOUR)] == said


def test_kinds_and_window_bound_the_timeline(story_store: tuple[Store, Story]) -> None:
    store, _ = story_store
    alerts = model_timeline(store, "tiny", T0, T0 + 24 * HOUR, kinds=["alert"])
    assert {e.kind for e in alerts} == {"alert"} and len(alerts) == 6
    # [since, until): from the drift report up to (not at) the acknowledgement
    window = model_timeline(store, "tiny", DRIFT_AT, DRIFT_AT + 15 * MINUTE)
    assert [e.kind for e in window] == ["drift", "alert", "alert", "alert"]
    # a length of time is counted back from `until`
    assert model_timeline(store, "tiny", timedelta(minutes=15), DRIFT_AT + 15 * MINUTE) == window


def test_unknown_model_kind_and_window_say_what_is_wrong(story_store: tuple[Store, Story]) -> None:
    store, _ = story_store
    with pytest.raises(NotFound, match=r"model 'tinny' does not exist \(models: other, tiny\)"):
        model_timeline(store, "tinny", timedelta(days=7))
    with pytest.raises(InvalidInput, match="unknown timeline kind 'alerts'; the kinds are training, ") as wrong:
        model_timeline(store, "tiny", timedelta(days=7), kinds=["alerts"])
    assert (wrong.value.field, wrong.value.example) == ("kind", "alert,drift")
    with pytest.raises(InvalidInput, match="not before its end"):
        model_timeline(store, "tiny", T0, T0 - HOUR)


def test_repeated_reports_fold_into_one_entry(tmp_path: Path) -> None:
    """A check every 30 s: ok x20, then drift x3, then ok x5 -> three entries, each with its
    count and the last report's id; the report that changed stands out."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store, logged = build_logged_store(tmp_path / "store", rows=10, days=1)
    statuses = [CheckStatus.OK] * 20 + [CheckStatus.DRIFT] * 3 + [CheckStatus.OK] * 5
    with store.db.write() as session:
        for i, status in enumerate(statuses):
            at = T0 + i * 30 * timedelta(seconds=1)
            session.add(DriftReport(model_id=logged.model_id, version_id=logged.version_ids[1],
                                    window_start=at - HOUR, window_end=at, status=status, features=3,
                                    drifted=1 if status == CheckStatus.DRIFT else 0, created_at=at))
    entries = model_timeline(store, "tiny", T0, T0 + HOUR, kinds=["drift"])
    assert [(e.title.split(":")[0], e.count) for e in entries] == [("ok", 20), ("drift", 3), ("ok", 5)]
    assert entries[0].until == T0 + 19 * timedelta(seconds=30)
    assert entries[1].ids["last"] - entries[1].ids["report"] == 2
    assert entries[1].title.endswith("(x3)")
    store.close()


# --- spikes and bursts ---------------------------------------------------------------------

def _histogram(rng: random.Random, rows: int, median_ms: float) -> tuple[int, ...]:
    """The latency buckets of `rows` requests around `median_ms` (lognormal, seeded)."""
    counts = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    for _ in range(rows):
        latency = median_ms * rng.lognormvariate(0, 0.3)
        index = next((i for i, bound in enumerate(LATENCY_BUCKETS_MS) if latency <= bound),
                     len(LATENCY_BUCKETS_MS))
        counts[index] += 1
    return tuple(counts)


def seeded_minutes(version: int = 1) -> list[Minute]:
    """Two hours of 60 rows a minute at about 3 ms; minutes 40-44 slow (about 30 ms),
    minute 70 twice as slow as usual (not a spike), minutes 90-91 with a fifth refused."""
    rng = random.Random(12)
    out = []
    for m in range(120):
        median = 30.0 if 40 <= m < 45 else 6.0 if m == 70 else 3.0
        errors = 15 if m in (90, 91) else rng.choice([0, 0, 0, 1])
        out.append(Minute(version, T0 + m * MINUTE, 60, errors, _histogram(rng, 60, median)))
    return out


def test_spikes_are_found_and_consecutive_minutes_merged() -> None:
    spikes = find_spikes(seeded_minutes())
    assert [(s.kind, s.start, s.end, s.minutes) for s in spikes] == [
        (SpikeKind.LATENCY, T0 + 40 * MINUTE, T0 + 45 * MINUTE, 5),
        (SpikeKind.ERRORS, T0 + 90 * MINUTE, T0 + 92 * MINUTE, 2),
    ]
    latency, errors = spikes
    assert latency.peak > 25 and 3 < latency.baseline < 6
    assert errors.errors == 30 and errors.peak == pytest.approx(15 / 75)


def test_spike_rule_needs_enough_traffic() -> None:
    """Too few minutes, or too few rows a minute, to know what is usual: nothing is judged."""
    minutes = seeded_minutes()
    assert find_spikes(minutes[35:44]) == []  # 9 minutes < min_minutes
    thin = [m._replace(answered=10, errors=min(m.errors, 2)) for m in minutes]
    assert find_spikes(thin) == []
    assert len(find_spikes(thin, SpikeRule(min_rows=5, min_errors=1))) >= 1


def test_bursts_merge_consecutive_minutes() -> None:
    groups = [(T0, "age", 8), (T0, None, 4), (T0 + MINUTE, "age", 11), (T0 + 5 * MINUTE, "income", 30)]
    bursts = merge_bursts(groups)
    assert [(b.start, b.end, b.rows, b.by_field) for b in bursts] == [
        (T0, T0 + 2 * MINUTE, 23, {"age": 19, "": 4}),
        (T0 + 5 * MINUTE, T0 + 6 * MINUTE, 30, {"income": 30})]


def test_rollup_spikes_and_quarantine_bursts_in_the_store(tmp_path: Path) -> None:
    """The seeded minutes written as rollups (two routes, summed) and a burst of refused
    rows: the timeline has the latency and error spikes and the burst, and no more."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store, logged = build_logged_store(tmp_path / "store", rows=10, days=1)
    from store.prediction_log import BUCKET_COLUMNS

    with store.db.write() as session:
        for m in seeded_minutes():
            for route in ("champion", "challenger"):
                def part(n: int, route: str = route) -> int:  # a third to the challenger
                    return n // 3 if route == "challenger" else n - n // 3

                hist = {col: part(n) for col, n in zip(BUCKET_COLUMNS, m.buckets, strict=True)}
                answered = sum(hist.values())
                errors = part(m.errors)
                session.add(MetricRollup(model_id=logged.model_id, version_id=logged.version_ids[1],
                                         route=route, minute=m.minute, count=answered, errors=errors,
                                         requests=answered + errors, **hist))
        for second in range(0, 120, 5):  # 24 refused rows over 2 minutes: one burst
            session.add(Quarantine(model_id=logged.model_id, source="api", at=T0 + 10 * MINUTE
                                   + timedelta(seconds=second), field="x1", reason="x1 is not a number"))
        session.add(Quarantine(model_id=logged.model_id, source="api", at=T0 + 30 * MINUTE, reason="one row"))
    entries = model_timeline(store, "tiny", T0, T0 + 3 * HOUR, kinds=["spike", "quarantine"])
    assert [(e.kind, e.at, e.until) for e in entries] == [
        ("quarantine", T0 + 10 * MINUTE, T0 + 12 * MINUTE),
        ("spike", T0 + 40 * MINUTE, T0 + 45 * MINUTE),
        ("spike", T0 + 90 * MINUTE, T0 + 92 * MINUTE),
    ]
    assert entries[0].title == "24 rows refused in 2 min (x1 24)"
    assert entries[1].title.startswith("latency for 5 min: p95 up to ")
    assert entries[2].title.startswith("errors for 2 min: up to 20.0% refused")
    store.close()


# --- the command ---------------------------------------------------------------------------

@pytest.fixture
def story_cli(story_store: tuple[Store, Story], monkeypatch: pytest.MonkeyPatch,
              wk: Callable[..., Any]) -> Callable[..., Any]:
    monkeypatch.setenv("WK_STORE", str(story_store[0].location.root))
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    yield wk
    monkeypatch.delenv("TZ")
    time.tzset()


def test_cli_table_fits_80_columns(story_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = story_cli("timeline", "tiny", "--since", "2026-11-05T09:00", "--until", "2026-11-06")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["TIME", "KIND", "VER", "WHAT", "BY"]
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("11-05 10:00  drift ")
    assert len(lines) == 1 + 8


def test_cli_json_shape_and_since(story_cli: Callable[..., Any]) -> None:
    result = story_cli("timeline", "tiny", "--since", "30m", "--until", "2026-11-05T10:30",
                       "--kind", "alert,alias", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert (doc["model"], doc["since"], doc["until"], doc["kinds"]) == (
        "tiny", "2026-11-05T10:00:00+00:00", "2026-11-05T10:30:00+00:00", ["alert", "alias"])
    first = doc["entries"][0]
    assert set(first) == {"at", "kind", "version", "title", "detail", "actor", "ids", "until", "count"}
    assert [e["kind"] for e in doc["entries"]] == ["alert"] * 4 + ["alias", "alert"]
    assert doc["entries"][3]["actor"] == ONCALL and "alert" in doc["entries"][3]["ids"]
    assert all(e["at"] >= doc["since"] for e in doc["entries"])


@pytest.mark.parametrize(("args", "code", "said"), [
    (("tinny",), 1, "model 'tinny' does not exist (models: other, tiny); see 'wk models list'"),
    (("tiny", "--since", "7x"), 2, "--since '7x' is not a time; use ISO (2026-11-23 or 2026-11-23T08:00) "
                                    "or a span such as 30m, 12h, 7d"),
    (("tiny", "--since", "0d"), 2, "--since '0d' is not a length of time; use a span such as 30m, 12h, 7d"),
    (("tiny", "--kind", "alerts"), 1, "give --kind alert,drift"),
])
def test_cli_errors(story_cli: Callable[..., Any], args: tuple[str, ...], code: int, said: str) -> None:
    result = story_cli("timeline", *args)
    assert result.code == code
    assert said in result.err


def test_kind_words_are_the_cli_help() -> None:
    """The --kind help lists every kind (a kind added later must be said there too)."""
    from console.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["timeline"]  # type: ignore[union-attr]
    help_text = " ".join(a.help or "" for a in sub._actions if a.dest == "kind")
    assert all(kind in help_text for kind in TimelineKind)


def test_jobs_approvals_canaries_silences_and_deployments(tmp_path: Path) -> None:
    """The other sources, one row or a few each: repeated job runs fold, a failure stands
    alone; an approval asked and decided; a canary started and rolled back by an alert; a
    silence on the model (and one on another model, not shown); a deployment change."""
    from store import audit
    from store.alert_tables import CanaryWatch, Silence
    from store.job_tables import ApprovalRequest, JobRun

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store, logged = build_logged_store(tmp_path / "store", rows=10, days=1)
    v2 = logged.version_ids[2]
    with store.db.write() as session:
        for i, status in enumerate(["succeeded"] * 3 + ["failed"]):
            at = T0 + i * 10 * MINUTE
            session.add(JobRun(job_name="tiny-drift", kind="drift", model_id=logged.model_id, status=status,
                               queued_at=at, started_at=at, ended_at=at + MINUTE,
                               error="the store was locked" if status == "failed" else ""))
        session.add(ApprovalRequest(model_id=logged.model_id, version_id=v2, status="approved",
                                    requested_at=T0 + HOUR, decided_at=T0 + 2 * HOUR, decided_by=ONCALL,
                                    reason="report reviewed"))
        session.add(CanaryWatch(model_id=logged.model_id, version_id=v2, version=2, share=0.1,
                                started_at=T0 + 3 * HOUR, ends_at=T0 + 5 * HOUR, status="rolled_back",
                                alert_id=7, decided_at=T0 + 4 * HOUR))
        for model in ("tiny", "other"):
            session.add(Silence(matchers={"model": model}, starts_at=T0 + 6 * HOUR, ends_at=T0 + 8 * HOUR,
                                created_at=T0 + 6 * HOUR, created_by=ONCALL, comment="maintenance"))
        audit.record(session, actor=ONCALL, action="deployment.rollback", target="model/tiny/deployment",
                     before={"mode": "canary", "champion": 1, "challenger": 2, "challenger_share": 0.1},
                     after={"mode": "single", "champion": 1, "challenger": None, "challenger_share": 0.0},
                     reason="canary errors")
    with store.db.write() as session:  # the audit event's time is the wall clock's: set it
        from sqlalchemy import update

        from store.tables import AuditEvent

        session.execute(update(AuditEvent).where(AuditEvent.action == "deployment.rollback")
                        .values(at=T0 + 4 * HOUR))
    entries = model_timeline(store, "tiny", T0, T0 + 10 * HOUR,
                             kinds=["job", "approval", "canary", "silence", "deployment"])
    assert [(e.kind, e.title) for e in entries] == [
        ("job", "tiny-drift (drift) succeeded (x3)"),
        ("job", "tiny-drift (drift) failed: the store was locked"),
        ("approval", "v2 waits for approval"),
        ("approval", "v2 approved: report reviewed"),
        ("canary", "canary v2 at 10% for 2h"),
        ("deployment", "rolled back: canary v1+v2 10% -> single v1"),
        ("canary", "canary v2 rolled back by alert #7"),
        ("silence", "silence #1 model=tiny for 2h: maintenance"),
        ("silence", "silence #1 expired"),
    ]
    assert entries[0].count == 3 and entries[0].until == T0 + 21 * MINUTE
    assert entries[6].ids["alert"] == 7
    store.close()
