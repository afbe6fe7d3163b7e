"""Model names read straight from the SQLite file, for shell completion.

Completion runs on every Tab press, so this reads with the standard library's sqlite3
in read-only mode: no SQLAlchemy, no migrations, no writes, a short busy timeout, and an
empty answer (never an error) when the store is missing, locked or not SQLite."""

from __future__ import annotations

import sqlite3

from store.location import StoreLocation


def model_names(location: StoreLocation, prefix: str = "") -> list[str]:
    """The registered model names starting with `prefix`, sorted; [] if unreadable."""
    if not location.is_sqlite_file or not location.db_path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{location.db_path.as_uri()}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return []
    try:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = conn.execute("SELECT name FROM registered_model WHERE name LIKE ? ESCAPE '\\' "
                            "ORDER BY name", (escaped + "%",)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [name for (name,) in rows if name.startswith(prefix)]
