"""Schema migrations: the Alembic chain, the SQLModel tables and HEAD_REVISION agree."""

from __future__ import annotations

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
        assert [(r["status"], r["reason"]) for r in result.json()] == [("failed_gate", "too low")]
        opened = open_store(root)
        assert current_revision(opened.db) == HEAD_REVISION
        opened.close()
        again = wk("models", "list", "--store", root, "--json")
        assert again.code == 0 and "upgraded" not in again.err
