"""wk data list|show."""

from __future__ import annotations

import argparse

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, section, table
from console.cli.parser import Commands


def register(nouns: Commands) -> None:
    dv = nouns.noun("data", help="datasets and what was trained on them")
    dv.command("list", f"{__name__}:cmd_list", "datasets with their fingerprints", tables=True)
    p = dv.command("show", f"{__name__}:cmd_show", "a dataset and the versions trained on it",
                    tables=True)
    p.add_argument("dataset", help="name, fingerprint prefix or id")


def cmd_list(args: argparse.Namespace) -> int:
    from registry.datasets import list_datasets

    rows = list_datasets(store_from(args))
    if args.json:
        emit_json(rows)
    else:
        table([col.fixed("id"), col.name("name"), col.fixed("fingerprint"), col.fixed("rows"), col.fixed("versions"),
               col.text("uri", 20, keep="tail")],
              [[r["id"], r["name"], r["fingerprint"][:16], r["rows"], r["versions_trained"], r["uri"]]
               for r in rows], empty="no datasets yet; they are recorded by 'wk train'")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from registry.datasets import dataset_usage

    usage = dataset_usage(store_from(args), args.dataset)
    if args.json:
        emit_json(usage)
        return 0
    for ds in usage["datasets"]:
        fields([("dataset", ds["name"]), ("id", ds["id"]), ("fingerprint", ds["fingerprint"]),
                ("rows", ds["rows"]), ("uri", ds["uri"]), ("recorded", ds["created_at"])])
    section("trained on it")
    table([col.name("model"), col.fixed("version"), col.fixed("status"), col.fixed("aliases"), col.name("run"),
           col.fixed("role")],
          [[u["model"], u["version"], u["version_status"], u["aliases"], f"#{u['run_id']} {u['run_status']}",
            u["role"]] for u in usage["used_by"]],
          empty="(nothing was trained on it)")
    return 0
