"""Where the store lives: a folder holding the SQLite database and `artifacts/`.

Resolution order: `--store PATH`, then `WK_STORE`, then the user's data directory.
`WK_DATABASE_URL` (any SQLAlchemy URL, e.g. PostgreSQL) replaces the SQLite file;
the artifact folder stays in the store folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DB_FILENAME = "watchkeeper.db"
ARTIFACTS_DIRNAME = "artifacts"


@dataclass(frozen=True)
class StoreLocation:
    root: Path
    database_url: str
    is_sqlite_file: bool

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def artifacts_dir(self) -> Path:
        return self.root / ARTIFACTS_DIRNAME

    def describe(self) -> str:
        return str(self.root) if self.is_sqlite_file else f"{self.root} ({redact_url(self.database_url)})"


def default_store_root() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("watchkeeper", appauthor=False))


def resolve_location(store: str | os.PathLike[str] | None = None) -> StoreLocation:
    """The store named by the argument, the environment, or the default, in that order."""
    if store is not None and str(store) != "":
        root = Path(store).expanduser()
    elif os.environ.get("WK_STORE"):
        root = Path(os.environ["WK_STORE"]).expanduser()
    else:
        root = default_store_root()
    root = root.absolute()
    url = os.environ.get("WK_DATABASE_URL", "").strip()
    if url:
        return StoreLocation(root=root, database_url=url, is_sqlite_file=False)
    return StoreLocation(root=root, database_url=f"sqlite:///{root / DB_FILENAME}", is_sqlite_file=True)


def redact_url(url: str) -> str:
    """A database URL with its password hidden, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
