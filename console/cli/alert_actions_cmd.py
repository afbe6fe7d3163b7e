"""wk alerts open ID (what an alert is about, and the commands to look closer) and
wk alerts act ID --rollback|--pause-job|--retrain --reason "..." (the fitting action,
audited, the alert annotated with it). The work is in scheduler/alert_actions.py; this
module parses and prints. Called from console/cli/alerts.py."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.common import store_from
from console.cli.output import emit_json, fields, info, section
from console.cli.parser import Commands

HERE = __name__
FLAGS = {"rollback": "--rollback", "pause-job": "--pause-job", "retrain": "--retrain"}


def register_under(alerts: Commands) -> None:
    """Add `open` and `act` to the `alerts` noun."""
    p = alerts.command("open", f"{HERE}:cmd_open",
                       "what an alert is about (the drifted feature, the report, the job run, "
                       "the version) and the actions that fit it")
    p.add_argument("alert_id", type=int)
    p = alerts.command("act", f"{HERE}:cmd_act",
                       "act on an alert: roll back, pause its job or retrain, with a reason "
                       "(audited; the alert is annotated with what was done)")
    p.add_argument("alert_id", type=int)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--rollback", dest="action", action="store_const", const="rollback",
                      help="roll the model back: the challenger out, else production back a "
                           "version")
    what.add_argument("--pause-job", dest="action", action="store_const", const="pause-job",
                      help="pause the job whose run failed")
    what.add_argument("--retrain", dest="action", action="store_const", const="retrain",
                      help="run the model's retrain job now")
    p.add_argument("--reason", default="", help="why (required; kept with the alert and in the "
                                                "audit log)")


def look_closer(subject: dict[str, Any]) -> list[str]:
    """The commands that show what the alert is about."""
    model, kind = subject.get("model"), subject["kind"]
    version = subject.get("version")
    out: list[str] = []
    if kind == "drift":
        if subject.get("report") is not None:
            out.append(f"wk monitor reports {model} --kind drift --limit 5")
        out.append(f"wk ui --view 'drift {model}" + (f" {subject['report']}'" if
                                                     subject.get("report") else "'"))
    elif kind in ("quality", "performance"):
        out.append(f"wk monitor reports {model} --kind {kind} --limit 5")
        out.append(f"wk ui --view '{kind} {model}'")
    elif kind == "charts":
        out.append(f"wk deploy show {model}")
        out.append(f"wk predictions list --model {model}")
    elif kind == "job-run":
        if subject.get("run") is not None:
            out.append(f"wk jobs run {subject['run']}")
        if subject.get("job"):
            out.append(f"wk jobs show {subject['job']}")
    if model and version is not None:
        out.append(f"wk models lineage {model} {version}")
    if model:
        out.append(f"wk timeline {model}")
    return out


def _target(alert: dict[str, Any]) -> str:
    parts = [alert["model"] or "", f"v{alert['version']}" if alert["version"] else "",
             alert["feature"] or "", (alert["labels"] or {}).get("job", "")]
    return " ".join(p for p in parts if p) or "the store"


def _about(subject: dict[str, Any]) -> str:
    kind = subject["kind"]
    if kind == "drift":
        where = f"drift report #{subject['report']}" if subject.get("report") else "no drift report"
        version = f" of v{subject['version']}" if subject.get("version") else ""
        feature = f", feature {subject['feature']}" if subject.get("feature") else ""
        return f"{where}{version}{feature}: {subject['reason'] or '-'}"
    if kind in ("quality", "performance"):
        report = f"#{subject['report']}" if subject.get("report") else "(none yet)"
        return f"{kind} report {report} ({subject.get('status') or '-'}): {subject['reason'] or '-'}"
    if kind == "charts":
        return f"the {subject['chart']} charts of {subject['model']}: {subject['reason'] or '-'}"
    if kind == "job-run":
        run = f"run #{subject['run']}" if subject.get("run") else "no run yet"
        return f"job {subject.get('job')} {run} ({subject.get('status') or '-'}): {subject['reason'] or '-'}"
    if kind == "version":
        return f"{subject['model']} v{subject.get('version')}: {subject['reason'] or '-'}"
    return subject["reason"] or "-"


def cmd_open(args: argparse.Namespace) -> int:
    from scheduler.alert_actions import alert_subject

    out = alert_subject(store_from(args), args.alert_id)
    out["commands"] = look_closer(out["subject"])
    if args.json:
        emit_json(out)
        return 0
    alert = out["alert"]
    fields([("alert", f"#{alert['id']} {alert['rule']} ({alert['kind']}, {alert['severity']})"),
            ("state", alert["state"]), ("on", _target(alert)),
            ("reason", alert["reason"] or "-"), ("about", _about(out["subject"]))])
    section("look closer")
    lines = [f"  {command}" for command in out["commands"]]
    lines.append("")
    lines.append("actions that fit")
    if not out["actions"]:
        lines.append(f"  none: acknowledge it ('wk alerts ack {alert['id']} --note ...') or "
                     "resolve it by hand")
    lines += [f"  wk alerts act {alert['id']} {FLAGS[action['name']]} --reason \"...\"   "
              f"# {action['does']}" for action in out["actions"]]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_act(args: argparse.Namespace) -> int:
    from scheduler.alert_actions import act

    out = act(store_from(args), args.alert_id, args.action, reason=args.reason)
    if args.json:
        emit_json(out)
        return 0
    result = out["result"]
    done = (f"{result.get('from_version') and 'v' + str(result['from_version'])} -> "
            f"v{result['to_version']}" if "to_version" in result else
            ", ".join(f"{k} {v}" for k, v in result.items()
                      if k in ("paused", "run", "status", "undid")))
    info(f"alert #{out['alert']}: {out['action']} {out['target']} done ({done}); "
         f"annotated with: {out['reason']}")
    return 0
