"""Schema versions: create a store, upgrade an older one in place, refuse a newer one.

The revision check on open is one small query, so commands that only read do not pay
for importing Alembic; Alembic loads only to create or upgrade.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import Listing, StoreUnavailable, see

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

    from store.engine import Database

log = logging.getLogger(__name__)

#: The newest migration in store/migrations/versions (a test checks they agree).
HEAD_REVISION = "0009"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def current_revision(db: Database) -> str | None:
    """The store's schema revision, or None when it has no Watchkeeper schema."""
    from sqlalchemy import inspect, text

    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        conn.rollback()
    return row[0] if row else None


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return [rev.revision for rev in script.walk_revisions()]


def upgrade_to_head(db: Database) -> None:
    """Run every pending migration in one write transaction."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db._write_engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite
        _run_upgrade(cfg, conn)
    log.info("store schema is at revision %s", HEAD_REVISION)


def _run_upgrade(cfg: Config, conn: Connection) -> None:
    from alembic import command

    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def ensure_current(db: Database, where: str) -> str:
    """Upgrade an older store in place; refuse one this code does not know.

    Returns the revision the store had before (equal to HEAD_REVISION if none ran).
    """
    rev = current_revision(db)
    if rev == HEAD_REVISION:
        return rev
    if rev is None:
        raise StoreUnavailable(
            f"{where} is not a Watchkeeper store (it has no schema version); "
            "create one in an empty folder",
            see=see(Listing.INIT, "DIR"),
        )
    if rev not in known_revisions():
        raise StoreUnavailable(
            f"the store at {where} has schema revision {rev}, newer than this Watchkeeper "
            f"understands (newest known: {HEAD_REVISION}); upgrade Watchkeeper "
            "('pip install -U watchkeeper') before opening it"
        )
    log.info("upgrading the store at %s from schema %s to %s", where, rev, HEAD_REVISION)
    upgrade_to_head(db)
    return rev
