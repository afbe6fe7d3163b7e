"""wk models approvals|approve|reject (versions a retrain left for a person, under the
manual promotion policy) and wk models set (criticality, promotion policy, maximum age)."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, table
from console.cli.parser import Commands, model_name

CRITICALITIES = ("mission-critical", "internal")
POLICIES = ("manual", "staging", "auto", "default")
APPROVERS = ("owner", "operator", "none")


def register_approvals(mv: Commands) -> None:
    """Add the approval and settings verbs to the `models` noun."""
    here = __name__
    p = mv.command("approvals", f"{here}:cmd_approvals",
                   "versions waiting for approval, with their reports", tables=True)
    model_name(p.add_argument("name", nargs="?", help="only this model"))
    p.add_argument("--all", action="store_true",
                   help="decided and superseded requests too, not only pending ones")
    for verb, doing in (("approve", "make a pending version production"),
                        ("reject", "turn down a pending version (no alias moves)")):
        p = mv.command(verb, f"{here}:cmd_{verb}", doing)
        model_name(p.add_argument("name"))
        p.add_argument("version", help="the pending version's number")
        p.add_argument("--reason", default="", help="why (required; kept in the audit log)")
    p = mv.command("set", f"{here}:cmd_set",
                   "a model's criticality, promotion policy and maximum age")
    model_name(p.add_argument("name"))
    p.add_argument("--criticality", choices=CRITICALITIES,
                   help="mission-critical models default to the manual policy")
    p.add_argument("--policy", choices=POLICIES,
                   help="what a retrain that passed its gate does: manual (wait for approval), "
                        "staging, auto (a canary share for a period, then production unless "
                        "an alert fires on it), or default (by criticality)")
    p.add_argument("--max-age-days", type=int, dest="max_age_days", metavar="N",
                   help="an expiry job retrains a production version older than this (0: none)")
    p.add_argument("--canary-share", dest="canary_share", metavar="FRACTION",
                   help="policy auto: the new version's share of traffic, 0.1 or 10%% "
                        "(default 10%%)")
    p.add_argument("--canary-period", dest="canary_period", metavar="DURATION",
                   help="policy auto: how long the canary runs before it becomes production, "
                        "e.g. 2m or 1h (default 1h)")
    p.add_argument("--approval-by", dest="approval_by", choices=APPROVERS,
                   help="who approves production changes: owner (the owner or an admin "
                        "promotes; others request an approval), operator (every change is an "
                        "approval another operator decides), none; rollback is never blocked")
    p.add_argument("--store-explanations", dest="store_explanations", choices=("on", "off"),
                   help="keep every explanation made of this model's predictions (wk explain)")


def _metric_text(summary: dict[str, Any]) -> str:
    metrics = summary.get("metrics") or {}
    parts = []
    for name, m in list(metrics.items())[:2]:
        delta = m.get("delta")
        parts.append(f"{name} {m['candidate']:.4f}" + (f" ({delta:+.4f})" if delta is not None
                                                       else ""))
    return ", ".join(parts) or summary.get("report_error", "-")


def cmd_approvals(args: argparse.Namespace) -> int:
    from registry.approvals import list_approvals

    rows = list_approvals(store_from(args), args.name, status=None if args.all else "pending")
    if args.json:
        emit_json(rows)
        return 0
    table([col.name("model", 12), col.fixed("version"), col.fixed("status"),
           col.fixed("against"), col.payload("metrics", 20), col.payload("drifted", 10),
           col.time("requested", drop=1), col.payload("report", 20)],
          [[r["model"], r["version"], r["status"],
            f"v{r['against_version']}" if r["against_version"] else "-",
            _metric_text(r["summary"]), r["summary"].get("drifted") or "-", r["requested_at"],
            r["report_html"] or "-"] for r in rows],
          empty="no version waits for approval" + ("" if args.all else " (--all: decided ones)"))
    return 0


def _decided(result: dict[str, Any], as_json: bool, verb: str) -> int:
    if as_json:
        emit_json(result)
    else:
        move = result.get("move")
        change = f": production v{move['from_version'] or '(none)'} -> v{move['to_version']}" \
            if move else ""
        info(f"{verb} {result['model']} v{result['version']}{change}")
        if result.get("note"):
            info(f"note: {result['note']}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from registry.approvals import approve

    return _decided(approve(store_from(args), args.name, args.version, reason=args.reason),
                    args.json, "approved")


def cmd_reject(args: argparse.Namespace) -> int:
    from registry.approvals import reject

    return _decided(reject(store_from(args), args.name, args.version, reason=args.reason),
                    args.json, "rejected")


def cmd_set(args: argparse.Namespace) -> int:
    from console.cli.deploy import parse_fraction
    from registry.promotion import parse_period, set_model

    others = (args.criticality, args.policy, args.max_age_days, args.canary_share, args.canary_period,
              args.approval_by)
    if args.store_explanations is not None and all(v is None for v in others):
        return _set_store_explanations(args)
    result = set_model(store_from(args), args.name, criticality=args.criticality,
                       policy=args.policy, max_age_days=args.max_age_days,
                       canary_share=parse_fraction(args.canary_share, "--canary-share"),
                       canary_period_s=parse_period(args.canary_period)
                       if args.canary_period is not None else None,
                       approval_by=args.approval_by)
    if args.store_explanations is not None:
        from registry.explanation_settings import set_store_explanations

        kept = set_store_explanations(store_from(args), args.name, args.store_explanations == "on")
        result = {**result, "store_explanations": kept["store_explanations"],
                  "changed": sorted([*result["changed"], *kept["changed"]])}
    if args.json:
        emit_json(result)
        return 0
    if not result["changed"]:
        info(f"{args.name} already had these settings; nothing changed")
    fields([("model", result["model"]), ("criticality", result["criticality"]),
            ("policy", f"{result['effective_policy']} (from {result['policy_from']})"),
            ("max age", f"{result['max_age_days']} days" if result["max_age_days"] else "none"),
            ("canary", f"{result['canary_share']:.0%} for {result['canary_period_s']} s"
             if result["effective_policy"] == "auto" else None),
            ("approval by", result["approval_by"]),
            ("explanations", ("kept" if result["store_explanations"] else "not kept")
             if "store_explanations" in result else None)])
    return 0


def _set_store_explanations(args: argparse.Namespace) -> int:
    """`wk models set NAME --store-explanations on|off` alone."""
    from registry.explanation_settings import set_store_explanations

    result = set_store_explanations(store_from(args), args.name, args.store_explanations == "on")
    if args.json:
        emit_json(result)
        return 0
    if not result["changed"]:
        info(f"{args.name} already had this setting; nothing changed")
    fields([("model", result["model"]),
            ("explanations", "kept with their predictions" if result["store_explanations"] else "not kept")])
    return 0
