"""Schema migrations: the Alembic chain, the SQLModel tables and HEAD_REVISION agree."""

from __future__ import annotations

import pwd
from pathlib import Path

from sqlmodel import SQLModel

import store.tables  # noqa: F401
from store.handle import init_store, open_store
from store.schema import HEAD_REVISION, current_revision, known_revisions


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.script import ScriptDirectory

    from store.schema import MIGRATIONS_DIR

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == HEAD_REVISION
    assert HEAD_REVISION in known_revisions()


def test_migrated_schema_matches_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store, created = init_store(tmp_path / "s")
    assert created
    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    assert diff == [], f"tables and migrations differ; add a migration: {diff}"
    store.close()


def test_open_reports_the_revision(tmp_path: Path) -> None:
    store, _ = init_store(tmp_path / "s")
    store.close()
    opened = open_store(tmp_path / "s")
    assert current_revision(opened.db) == HEAD_REVISION
    opened.close()


def test_store_files_are_private(tmp_path: Path) -> None:
    store, _ = init_store(tmp_path / "s")
    store.close()
    assert (tmp_path / "s").stat().st_mode & 0o077 == 0
    assert (tmp_path / "s" / "artifacts").stat().st_mode & 0o077 == 0
    assert (tmp_path / "s" / "watchkeeper.db").stat().st_mode & 0o077 == 0


def _store_at(revision: str, root: Path) -> None:
    """A store as an older Watchkeeper left it: the schema at `revision`, with data."""
    from alembic import command
    from alembic.config import Config

    from store.engine import Database
    from store.schema import MIGRATIONS_DIR

    root.mkdir(parents=True)
    (root / "artifacts").mkdir()
    db = Database(f"sqlite:///{root / 'watchkeeper.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db._write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO registered_model (id, name, owner, team, description, tags, criticality,"
            " task, created_at, created_by) VALUES (1, 'old', 'ana', '', '', '[]', 'normal',"
            " 'classification', '2026-01-01 00:00:00', 'ana')")
        conn.exec_driver_sql(
            "INSERT INTO training_run (id, model_id, kind, status, spec_path, reason, log,"
            " started_at, created_by) VALUES (1, 1, 'train', 'failed_gate', 's.toml', 'too low',"
            " '', '2026-01-01 00:00:00', 'ana')")
    db.dispose()


def test_every_older_revision_upgrades_in_place_keeping_its_data(wk, tmp_path: Path) -> None:
    older = [rev for rev in known_revisions() if rev != HEAD_REVISION]
    assert older, "there is no older revision to upgrade from"
    for rev in older:
        root = tmp_path / f"store-{rev}"
        _store_at(rev, root)
        result = wk("models", "runs", "old", "--store", root, "--json")
        assert result.code == 0, result.err
        assert f"upgraded the store at {root} from schema {rev} to {HEAD_REVISION}" in result.err
        if rev < "0009":  # users and roles arrive: the upgrade names the store's owner admin
            owner = pwd.getpwuid((root / "watchkeeper.db").stat().st_uid).pw_name
            assert f"{owner} (the store's owner) is its admin" in result.err, result.err
        assert [(r["status"], r["reason"]) for r in result.json()] == [("failed_gate", "too low")]
        opened = open_store(root)
        assert current_revision(opened.db) == HEAD_REVISION
        opened.close()
        again = wk("models", "list", "--store", root, "--json")
        assert again.code == 0 and "upgraded" not in again.err


def test_0005_counts_the_requests_of_an_old_rollup_as_its_rows(tmp_path: Path) -> None:
    """A rollup written before 0005 counted rows only: after the upgrade each row is one
    request (exact for the one-row requests the API mostly gets), refused rows included."""
    import sqlite3

    root = tmp_path / "store"
    _store_at("0004", root)
    buckets = ", ".join(f"lat_b{i:02d}" for i in range(19))
    with sqlite3.connect(root / "watchkeeper.db") as conn:  # foreign keys off: no version row needed
        for minute, count, errors in (("08:00", 12, 0), ("08:01", 40, 3), ("08:02", 0, 2)):
            conn.execute(
                "INSERT INTO metric_rollup (model_id, version_id, route, minute, count, errors, latency_sum_ms,"
                f" latency_max_ms, out_count, out_sum, out_sumsq, {buckets}) VALUES (1, 1, 'champion',"
                f" '2026-01-01 {minute}:00.000000', ?, ?, 0, 0, 0, 0, 0, {', '.join(['0'] * 19)})",
                (count, errors))
    opened = open_store(root)
    assert opened.upgraded_from == "0004" and current_revision(opened.db) == HEAD_REVISION
    with opened.db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count, errors, requests FROM metric_rollup ORDER BY minute").all()
    opened.close()
    assert [tuple(r) for r in rows] == [(12, 0, 12), (40, 3, 43), (0, 2, 2)]
