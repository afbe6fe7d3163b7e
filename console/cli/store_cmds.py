"""wk init."""

from __future__ import annotations

import argparse

from console.cli.output import emit_json, fields, info
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    p = nouns.command("init", f"{__name__}:cmd_init", "create a store (or upgrade an existing one)")
    p.add_argument("--group", help="an OS group that may read and write the store too "
                   "(recorded in watchkeeper.toml); without it the store is its owner's only")


def cmd_init(args: argparse.Namespace) -> int:
    from console.cli.common import say_first_admin
    from store.handle import init_store
    from store.schema import HEAD_REVISION
    from store.users import list_users

    store, created = init_store(args.store, group=args.group)
    try:
        say_first_admin(store, store.upgraded_from)
        admins = [u["name"] for u in list_users(store) if u["role"] == "admin"]
        result = {
            "store": str(store.location.root),
            "database": store.location.describe() if not store.location.is_sqlite_file
            else str(store.location.db_path),
            "artifacts": str(store.location.artifacts_dir),
            "schema_revision": HEAD_REVISION,
            "created": created,
            "admins": admins,
            "readable_by": store.modes.describe(),
        }
    finally:
        store.close()
    if args.json:
        emit_json(result)
    else:
        info(("created a new store" if created else "the store already exists and is up to date")
             + f" at {result['store']}")
        fields(result.items())
    return 0
