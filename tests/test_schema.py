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
