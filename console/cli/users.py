"""wk users list|add|set-role|remove|whoami: the store's users (OS accounts) and their
roles. The work is in store/users.py; who may do what is store/roles.py's table."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands

ROLES = ("viewer", "scientist", "operator", "admin")


def register(nouns: Commands) -> None:
    here = __name__
    users = nouns.noun("users", help="who may use this store: OS accounts and their roles")
    users.command("list", f"{here}:cmd_list", "every user with its role", tables=True)
    p = users.command("add", f"{here}:cmd_add", "let an OS account use the store with a role",
                      description="Add an OS account (it must exist on this host) as a user "
                      "with a role: viewer (read), scientist (train, register, propose, label), "
                      "operator (deploy, promote, roll back, approve, alerts, jobs) or admin "
                      "(everything, and users, tokens, channels, rules, retention).")
    p.add_argument("name", help="the OS account's name")
    p.add_argument("--role", required=True, choices=ROLES)
    p = users.command("set-role", f"{here}:cmd_set_role", "change a user's role")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p = users.command("remove", f"{here}:cmd_remove", "take a user off the store (it may then "
                      "only read, if the files let it)")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    users.command("whoami", f"{here}:cmd_whoami", "the OS account you act as and its role here")


def cmd_list(args: argparse.Namespace) -> int:
    from store.users import list_users

    rows = list_users(store_from(args))
    if args.json:
        emit_json(rows)
        return 0
    table([col.fixed("user"), col.fixed("uid"), col.fixed("role"), col.time("since", drop=2),
           col.text("by", 16, drop=1)],
          [[r["name"], r["uid"], r["role"], r["created_at"], r["created_by"]] for r in rows],
          empty="no users (the store's owner should be admin: run 'wk init' on it)")
    return 0


def _done(args: argparse.Namespace, row: dict[str, object], said: str) -> int:
    if args.json:
        emit_json(row)
    else:
        info(said)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from store.users import add_user

    row = add_user(store_from(args), args.name, args.role)
    return _done(args, row, f"{row['name']} (uid {row['uid']}) is now a {row['role']}")


def cmd_set_role(args: argparse.Namespace) -> int:
    from store.users import set_role

    row = set_role(store_from(args), args.name, args.role, reason=args.reason)
    return _done(args, row, f"{row['name']} is now a {row['role']}")


def cmd_remove(args: argparse.Namespace) -> int:
    from store.users import remove_user

    row = remove_user(store_from(args), args.name, reason=args.reason)
    return _done(args, row, f"{row['name']} is no longer a user of this store")


def cmd_whoami(args: argparse.Namespace) -> int:
    from store.users import me

    row = me(store_from(args))
    if args.json:
        emit_json(row)
    else:
        fields([("user", row["name"]), ("role", row["role"] or "none (not a user: reads only)")])
    return 0
