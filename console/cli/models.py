"""wk models list|show|versions|runs|run|register|promote|rollback|archive|compare|lineage
(and approvals|approve|reject|set, from console.cli.approvals; canary, from
console.cli.canary; rate-limit, from console.cli.tokens)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from console.cli import tables as col
from console.cli.approvals import register_approvals
from console.cli.canary import register_canary
from console.cli.common import confirm, store_from
from console.cli.errors import ExitCode
from console.cli.output import emit_json, fields, fmt, info, section, table
from console.cli.ownership import register_ownership
from console.cli.parser import Commands, model_name
from console.cli.tokens import register_model_limit
from store.artifacts import load_safe_format

if TYPE_CHECKING:
    from registry.aliases import AliasMove


def register(nouns: Commands) -> None:
    mv = nouns.noun("models", help="registered models, versions and aliases")
    here = __name__
    mv.command("list", f"{here}:cmd_list", "list models with their aliases and last run", tables=True)
    p = mv.command("show", f"{here}:cmd_show", "a model with its versions, aliases and runs",
                   tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("version", nargs="?", help="show one version in full (number or alias)")
    p = mv.command("versions", f"{here}:cmd_versions", "the versions of a model", tables=True)
    model_name(p.add_argument("name"))
    p = mv.command("runs", f"{here}:cmd_runs", "the training runs of a model, with gate results",
                   tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("--limit", type=int, default=50)
    p = mv.command("run", f"{here}:cmd_run", "one training run with its log", tables=True)
    p.add_argument("run_id", type=int)
    p = mv.command("register", f"{here}:cmd_register",
                   "register a model file (skops; pickle/joblib only with --trust)")
    model_name(p.add_argument("name"))
    p.add_argument("file")
    p.add_argument("--trust", action="store_true",
                   help="allow a pickle/joblib file: it runs code when loaded (recorded in the audit log)")
    p.add_argument("--data", metavar="FILE", help="training data (CSV/Parquet) to infer the signature from")
    p.add_argument("--target", help="the label column in --data, left out of the signature")
    p.add_argument("--owner", default="")
    p.add_argument("--description", default="")
    p.add_argument("--tag", action="append", default=[], dest="tags")
    p.add_argument("--reason", default="")
    p = mv.command("promote", f"{here}:cmd_promote", "point an alias at a version")
    model_name(p.add_argument("name"))
    p.add_argument("version", help="version number (or an alias holding it)")
    p.add_argument("alias", help="alias to move, e.g. production or staging")
    p.add_argument("--reason", default="", help="why (required for production)")
    p = mv.command("rollback", f"{here}:cmd_rollback", "return an alias to its previous version")
    model_name(p.add_argument("name"))
    p.add_argument("alias")
    p.add_argument("--reason", default="", help="why (required for production)")
    p = mv.command("archive", f"{here}:cmd_archive", "archive a version (not held by an alias)")
    model_name(p.add_argument("name"))
    p.add_argument("version")
    p.add_argument("--reason", default="")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = mv.command("compare", f"{here}:cmd_compare", "compare two versions", tables=True)
    model_name(p.add_argument("name"))
    p.add_argument("a")
    p.add_argument("b")
    p = mv.command("lineage", f"{here}:cmd_lineage", "dataset -> run -> version -> aliases")
    model_name(p.add_argument("name"))
    p.add_argument("version")
    register_approvals(mv)
    register_canary(mv)
    register_ownership(mv)
    register_model_limit(mv)


def cmd_list(args: argparse.Namespace) -> int:
    from registry.models import list_models

    store = store_from(args)
    rows = list_models(store)
    if args.json:
        emit_json(rows)
        return 0
    table(
        [col.name("model"), col.name("owner", 8, drop=2), col.name("team", 8, drop=3),
         col.fixed("versions"), col.fixed("latest"),
         col.fixed("aliases"), col.name("last run"), col.time("updated", drop=1)],
        [[r["name"], r["owner"], r["team"] or None, r["versions"], r["latest_version"],
          ", ".join(f"{k}=v{v}" for k, v in r["aliases"].items()),
          f"#{r['last_run']['id']} {r['last_run']['status']}" if r["last_run"] else None,
          r["updated_at"]] for r in rows],
        empty="no models yet; register one with 'wk train SPEC.toml' or 'wk models register'",
    )
    return 0


def _print_version(v: dict[str, Any]) -> None:
    code = v.get("code_version") or {}
    env = v.get("environment") or {}
    fields([
        ("model", v["model"]), ("version", v["version"]), ("status", v["status"]),
        ("aliases", v["aliases"]), ("sha256", v["artifact"]["sha256"]),
        ("flavor", v["artifact"]["flavor"]), ("source", v["source"]), ("run", v["run_id"]),
        ("git commit", code.get("git_commit")), ("dirty", code.get("dirty")),
        ("python", env.get("python")), ("packages", env.get("packages")),
        ("metrics", v["metrics"]), ("params", v["params"]),
        ("created", f"{v['created_at']} by {v['created_by']}"),
    ])
    for role, ds in (v.get("datasets") or {}).items():
        fields([(f"{role} data", f"{ds['name']} {ds['fingerprint'][:16]} ({ds['rows']} rows) {ds['uri']}")])
    columns = (v.get("signature") or {}).get("columns", [])
    if columns:
        section("signature")
        table([col.name("column"), col.fixed("dtype"), col.fixed("kind"), col.payload("range / categories")],
              [[c["name"], c["dtype"], c["kind"],
                f"{fmt(c.get('min'))} .. {fmt(c.get('max'))}" if "min" in c
                else ", ".join(c.get("categories") or [])] for c in columns])


def cmd_show(args: argparse.Namespace) -> int:
    from registry.models import show_model
    from registry.versions import show_version

    store = store_from(args)
    if args.version is not None:
        v = show_version(store, args.name, args.version)
        emit_json(v) if args.json else _print_version(v)
        return 0
    m = show_model(store, args.name)
    if args.json:
        emit_json(m)
        return 0
    fields([("model", m["name"]), ("owner", m["owner"]), ("team", m["team"] or None),
            ("approval by", m.get("approval_by") or "none"), ("task", m["task"]),
            ("description", m["description"]), ("tags", m["tags"]),
            ("aliases", ", ".join(f"{k}=v{v}" for k, v in m["aliases"].items()) or None)])
    section("versions")
    table([col.fixed("version"), col.fixed("status"), col.fixed("aliases"), col.payload("metrics", 20),
           col.time("created", drop=1)],
          [[r["version"], r["status"], r["aliases"], r["metrics"], r["created_at"]] for r in m["versions"]])
    section("recent runs")
    _runs_table(m["runs"])
    if m["latest_version"]:
        section(f"latest version (v{m['latest_version']['version']})")
        _print_version(m["latest_version"])
    return 0


def _runs_table(runs: list[dict[str, Any]]) -> None:
    table([col.fixed("run"), col.fixed("kind"), col.fixed("status"), col.fixed("version"), col.text("reason", 30),
           col.time("started", drop=1), col.name("by", 8, drop=2)],
          [[r["id"], r["kind"], r["status"], r["version"], r["reason"], r["started_at"],
            r["created_by"]] for r in runs])


def cmd_versions(args: argparse.Namespace) -> int:
    from registry.versions import list_versions

    rows = list_versions(store_from(args), args.name)
    if args.json:
        emit_json(rows)
    else:
        table([col.fixed("version"), col.fixed("status"), col.fixed("aliases"), col.payload("metrics", 20),
               col.fixed("sha256", drop=3), col.time("created", drop=1), col.name("by", 8, drop=2)],
              [[r["version"], r["status"], r["aliases"], r["metrics"], r["sha256"][:12],
                r["created_at"], r["created_by"]] for r in rows],
              empty=f"model {args.name} has no versions yet")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from registry.runs import list_runs

    rows = list_runs(store_from(args), args.name, limit=args.limit)
    if args.json:
        emit_json(rows)
    else:
        _runs_table(rows)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from registry.runs import show_run

    run = show_run(store_from(args), args.run_id)
    if args.json:
        emit_json(run)
        return 0
    fields([(k, run[k]) for k in ("id", "model", "kind", "status", "reason", "version", "params",
                                  "metrics", "champion_metrics", "started_at", "ended_at", "created_by")])
    section("log")
    print(run["log"] or "(empty)")
    return 0


def _read_training_frame(path: str, target: str | None) -> Any:
    import pandas as pd

    from store.errors import InvalidInput, NotFound

    try:
        frame = pd.read_parquet(path) if path.lower().endswith((".parquet", ".pq")) else pd.read_csv(path)
    except FileNotFoundError as exc:
        raise NotFound(f"data file {path} does not exist; check --data") from exc
    except Exception as exc:
        raise InvalidInput(f"data file {path} could not be read: {exc}") from exc
    if target:
        if target not in frame.columns:
            raise InvalidInput(f"--target {target!r} is not a column of {path} "
                               f"(columns: {', '.join(map(str, frame.columns))})")
        frame = frame.drop(columns=[target])
    return frame


def cmd_register(args: argparse.Namespace) -> int:
    load_safe_format()  # before the rest: see store.artifacts.load_safe_format
    from registry.registration import register_file

    store = store_from(args)
    frame = _read_training_frame(args.data, args.target) if args.data else None
    v = register_file(store, args.name, args.file, trust=args.trust, training_data=frame,
                              owner=args.owner, description=args.description, tags=args.tags,
                              reason=args.reason)
    if args.json:
        emit_json(v)
    else:
        info(f"registered {v['model']} v{v['version']} (sha256 {v['artifact']['sha256'][:12]})")
    return 0


def _alias_change(move: AliasMove, verb: str, as_json: bool) -> int:
    if as_json:
        emit_json(move.as_dict())
    elif not move.changed:
        info(f"{move.model} {move.alias} already points at v{move.to_version}; nothing changed")
    else:
        info(f"{verb} {move.change()}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from registry.aliases import promote

    result = promote(store_from(args), args.name, args.version, args.alias, reason=args.reason)
    return _alias_change(result, "promoted", args.json)


def cmd_rollback(args: argparse.Namespace) -> int:
    from registry.aliases import rollback

    result = rollback(store_from(args), args.name, args.alias, reason=args.reason)
    return _alias_change(result, "rolled back", args.json)


def cmd_archive(args: argparse.Namespace) -> int:
    from registry.versions import archive

    store = store_from(args)
    if not confirm(f"archive {args.name} v{args.version}?", args.yes):
        info("not archived")
        return int(ExitCode.FAILED)
    result = archive(store, args.name, args.version, reason=args.reason)
    if args.json:
        emit_json(result.as_dict())
    else:
        info(result.change() + ("" if result.changed else " (it already was)"))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from registry.versions import compare, delta_order, signed_delta

    c = compare(store_from(args), args.name, args.a, args.b)
    if args.json:
        emit_json(c)
        return 0
    a, b = f"v{c['a']}", f"v{c['b']}"
    # the order as asked, named as the console's compare view names it: every delta is b - a
    section(f"metrics (delta = {delta_order(a, b)}: above 0, {b} is higher)")
    table([col.name("metric"), col.fixed(a), col.fixed(b), col.fixed(f"delta {delta_order(a, b)}")],
          [[k, m["a"], m["b"], signed_delta(m["delta"])] for k, m in c["metrics"].items()])
    section("metadata that differs")
    table([col.name("field"), col.payload(a), col.payload(b)], [[k, m["a"], m["b"]] for k, m in c["metadata"].items()], empty="(identical)")
    section("parameters that differ")
    table([col.name("param"), col.payload(a), col.payload(b)], [[k, m["a"], m["b"]] for k, m in c["params"].items()], empty="(identical)")
    section(f"signature changes {a} -> {b}")
    table([col.name("column"), col.fixed("change"), col.payload("detail")],
          [[s["column"], s["change"], {k: v for k, v in s.items() if k not in ("column", "change")}]
           for s in c["signature"]], empty="(identical)")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from registry.lineage import lineage

    lin = lineage(store_from(args), args.name, args.version)
    if args.json:
        emit_json(lin)
        return 0
    run = lin["run"]
    from registry.views import datasets_with_roles

    for ds, roles in datasets_with_roles(lin["datasets"]):
        print(f"dataset ({', '.join(roles)}) {ds['name']}  {ds['fingerprint'][:16]}  "
              f"{ds['rows']} rows  {ds['uri']}")
    if run:
        print(f"  -> run #{run['id']} {run['status']}  params {fmt(run['params'])}  "
              f"commit {fmt((lin['code_version'] or {}).get('git_commit'))}")
    else:
        print(f"(no training run: registered as {lin['artifact']['source']})")
    print(f"    -> {lin['model']} v{lin['version']}  sha256 {lin['artifact']['sha256'][:16]}")
    print(f"       -> aliases: {', '.join(lin['aliases']) or '(none)'}")
    return 0
