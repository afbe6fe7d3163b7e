"""wk jobs: the scheduler's jobs and their runs. These commands write only the job table
(and queue run-now requests in the run ledger); the daemon (`wk scheduler`) picks every
change up within a few seconds while it runs."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import tables as col
from console.cli.common import confirm, parse_span, store_from
from console.cli.output import emit_json, fields, info, section, table
from console.cli.parser import Commands, model_name
from store.vocabulary import CatchUp, JobRunStatus

#: the job settings given as spans (--timeout 30m), by their JobSettings field
SPANS = {"timeout": "timeout_s", "deadline": "deadline_s", "backoff": "backoff_s",
         "misfire_grace": "misfire_grace_s"}


def register(nouns: Commands) -> None:
    jv = nouns.noun("jobs", help="scheduled jobs (retrain, score, checks, upkeep) and their runs")
    here = __name__
    p = jv.command("add", f"{here}:cmd_add", "add a job: a kind, a schedule and the kind's options",
                   description=_add_description())
    p.add_argument("name", help="the job's name (letters, digits, . _ -)")
    p.add_argument("--kind", required=True, help="what it does: " + ", ".join(_kinds()))
    _settings(p, new=True)
    p.add_argument("--paused", action="store_true", help="add it paused (resume it later)")
    p = jv.command("edit", f"{here}:cmd_edit", "change a job's schedule, options or limits")
    p.add_argument("name")
    _settings(p, new=False)
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    for verb, text in (("pause", "stop a job's scheduled runs (run-now still works)"),
                       ("resume", "start a paused job's scheduled runs again"),
                       ("run-now", "run a job at once (the scheduler starts it within seconds)")):
        p = jv.command(verb, f"{here}:cmd_{verb.replace('-', '_')}", text)
        p.add_argument("name")
        p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p = jv.command("remove", f"{here}:cmd_remove", "delete a job (its runs stay in the ledger)")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    jv.command("list", f"{here}:cmd_list", "every job with its schedule, next and last run",
               tables=True)
    p = jv.command("show", f"{here}:cmd_show", "one job with its settings and recent runs",
                   tables=True)
    p.add_argument("name")
    p = jv.command("runs", f"{here}:cmd_runs", "the run ledger, newest first", tables=True)
    p.add_argument("--job", help="runs of one job")
    model_name(p.add_argument("--model", help="runs of one model's jobs"))
    p.add_argument("--status", choices=[str(s) for s in JobRunStatus], help="runs in one state")
    p.add_argument("--since", help="runs queued in the last span (30m, 12h, 7d)")
    p.add_argument("--limit", type=int, default=50, help="the most runs shown (default 50)")
    p = jv.command("run", f"{here}:cmd_run", "one run: status, resources, error and log tail",
                   tables=True)
    p.add_argument("run_id", type=int)
    p.add_argument("--log", action="store_true", help="the whole log, not only its tail")
    from console.cli.job_cost import add_cost_commands

    add_cost_commands(jv)


def _kinds() -> list[str]:
    from scheduler.kinds import KINDS

    return sorted(KINDS)


def _add_description() -> str:
    from scheduler.kinds import KINDS

    kinds = []
    for name in sorted(KINDS):
        spec = KINDS[name]
        needs = [o.flag for o in spec.options if o.required] + (["--model"] if spec.needs_model else [])
        kinds.append(f"{name} ({spec.help}{'; needs ' + ' '.join(needs) if needs else ''})")
    return ("add a job: a kind, a schedule (--cron, --every or --after) and the kind's options. "
            "The kinds: " + "; ".join(kinds) + ".")


def _settings(p: argparse.ArgumentParser, *, new: bool) -> None:
    from scheduler.kinds import KINDS
    from scheduler.kinds.base import KindOption

    when = p.add_mutually_exclusive_group()
    when.add_argument("--cron", help="a crontab line: minute hour day month weekday ('0 3 * * *')")
    when.add_argument("--every", help="a fixed interval: 30s, 15m, 1h, 2d")
    when.add_argument("--after", metavar="JOB", help="run each time JOB succeeds")
    model_name(p.add_argument("--model", help="the model the job is about"))
    p.add_argument("--timezone", help="the time zone of --cron (default UTC)")
    p.add_argument("--catch-up", choices=[str(c) for c in CatchUp],
                   help="slots missed while the scheduler was down: skip them, run the latest "
                        "once (default), or run all (up to --catch-up-limit)")
    p.add_argument("--catch-up-limit", type=int, help="with --catch-up all: at most this many")
    p.add_argument("--timeout", help="kill an attempt after this long (default per kind; 30m, 2h)")
    p.add_argument("--deadline", help="kill the job after this long across all its attempts")
    p.add_argument("--retries", type=int, help="further attempts after a failure (default 0)")
    p.add_argument("--backoff", help="wait before the first retry, doubled each time (default 1m)")
    p.add_argument("--misfire-grace", help="how late a slot may start and still run "
                                           "(default: half the period, at most 1h)")
    p.add_argument("--memory-mb", type=int, help="kill a run whose processes use more memory")
    seen: dict[str, list[str]] = {}
    options: dict[str, KindOption] = {}
    for spec in KINDS.values():
        for opt in spec.options:
            seen.setdefault(opt.name, []).append(spec.kind)
            options.setdefault(opt.name, opt)
    for name, opt in options.items():
        kinds = ", ".join(seen[name])
        p.add_argument(opt.flag, dest=f"kind_{name}", action="append" if opt.repeat else "store",
                       metavar=name.upper(),
                       help=f"{opt.help} ({kinds})")


def _job_settings(args: argparse.Namespace) -> Any:
    from scheduler.jobs_service import JobSettings

    spans = {}
    for option, name in SPANS.items():
        value = getattr(args, option)
        if value is not None:
            spans[name] = int(parse_span(value, "--" + option.replace("_", "-")).total_seconds())
    kind_args = {key[len("kind_"):]: value for key, value in vars(args).items()
                 if key.startswith("kind_") and value is not None}
    return JobSettings(cron=args.cron, every=args.every, after=args.after, model=args.model,
                       args=kind_args, timezone=args.timezone, catch_up=args.catch_up,
                       catch_up_limit=args.catch_up_limit, retries=args.retries,
                       memory_mb=args.memory_mb, **spans)


def _print_job(job: dict[str, Any], verb: str) -> None:
    info(f"{verb} job {job['name']} ({job['kind']}, {job['schedule']})"
         + (", paused" if job.get("paused") else ""))


def cmd_add(args: argparse.Namespace) -> int:
    from scheduler.jobs_service import add_job

    job = add_job(store_from(args), args.name, args.kind, _job_settings(args), paused=args.paused)
    if args.json:
        emit_json(job)
    else:
        _print_job(job, "added")
        _daemon_hint(args)
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from scheduler.jobs_service import edit_job

    job = edit_job(store_from(args), args.name, _job_settings(args), reason=args.reason)
    emit_json(job) if args.json else _print_job(job, "changed")
    return 0


def _pause(args: argparse.Namespace, paused: bool) -> int:
    from scheduler.jobs_service import set_paused

    job = set_paused(store_from(args), args.name, paused, reason=args.reason)
    if args.json:
        emit_json(job)
    elif not job["changed"]:
        info(f"job {job['name']} is already {'paused' if paused else 'running'}: nothing changed")
    else:
        _print_job(job, "paused" if paused else "resumed")
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    return _pause(args, True)


def cmd_resume(args: argparse.Namespace) -> int:
    return _pause(args, False)


def cmd_run_now(args: argparse.Namespace) -> int:
    from scheduler.jobs_service import run_now

    out = run_now(store_from(args), args.name, reason=args.reason)
    if args.json:
        emit_json(out)
    else:
        info(f"queued run {out['run']} of job {out['job']}; follow it with 'wk jobs run {out['run']}'")
        _daemon_hint(args)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from scheduler.jobs_service import remove_job

    if not confirm(f"remove job {args.name}?", args.yes):
        info("nothing removed")
        return 1
    job = remove_job(store_from(args), args.name, reason=args.reason)
    emit_json(job) if args.json else _print_job(job, "removed")
    return 0


def _daemon_hint(args: argparse.Namespace) -> None:
    from scheduler.jobs_view import scheduler_state

    state = scheduler_state(store_from(args))
    if state["state"] != "up":
        info("no scheduler is running on this store, so nothing runs yet: start 'wk scheduler'")


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _scheduler_line(state: dict[str, Any]) -> str:
    if state["state"] == "never":
        return "scheduler: never ran on this store (start 'wk scheduler')"
    where = f"{state['host']} pid {state['pid']}"
    if state["state"] == "up":
        return f"scheduler: up on {where}, heartbeat {state['heartbeat_age_s']:.0f}s ago"
    return (f"scheduler: {state['state'].upper()} (last heartbeat {_when(state['heartbeat_at'])} UTC "
            f"from {where})")


def cmd_list(args: argparse.Namespace) -> int:
    from scheduler.jobs_view import list_jobs

    out = list_jobs(store_from(args))
    if args.json:
        emit_json(out)
        return 0
    print(_scheduler_line(out["scheduler"]))
    table([col.name("name"), col.fixed("kind"), col.name("model", drop=2), col.text("schedule", 10),
           col.time("next run"), col.fixed("last"), col.time("last run", drop=1)],
          [[j["name"], j["kind"], j["model"] or "-", j["schedule"],
            "paused" if j["paused"] else _when(j["next_run"]),
            j["last_run"]["status"] if j["last_run"] else "-",
            _when(j["last_run"]["queued_at"]) if j["last_run"] else "-"] for j in out["jobs"]],
          empty="no jobs yet: add one with 'wk jobs add NAME --kind KIND --every 1h'")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from scheduler.jobs_view import show_job

    job = show_job(store_from(args), args.name)
    if args.json:
        emit_json(job)
        return 0
    keys = ("name", "kind", "model", "schedule", "paused", "next_run", "args", "catch_up",
            "catch_up_limit", "misfire_grace_s", "timeout_s", "deadline_s", "retries", "backoff_s",
            "memory_mb", "followers", "state", "updated_at", "updated_by")
    fields((k.replace("_", " "), job[k]) for k in keys)
    section("recent runs")
    _runs_table(job["runs"])
    return 0


def _runs_table(runs: list[dict[str, Any]]) -> None:
    table([col.fixed("id"), col.name("job"), col.fixed("trigger", drop=2), col.fixed("status"),
           col.time("started"), col.fixed("wall s"), col.fixed("cpu s", drop=1),
           col.fixed("peak MB", drop=1), col.fixed("rows", drop=3), col.text("error / note")],
          [[str(r["id"]), r["job"], r["trigger"], r["status"], _when(r["started_at"] or r["queued_at"]),
            _num(r["wall_s"]), _num(r["cpu_s"]), _num(r["peak_memory_mb"], 0),
            "-" if r["rows"] is None else str(r["rows"]), r["error"] or r["note"] or "-"]
           for r in runs], empty="no runs")


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cmd_runs(args: argparse.Namespace) -> int:
    from scheduler.jobs_view import list_runs

    since = parse_span(args.since, "--since") if args.since else None
    runs = list_runs(store_from(args), job=args.job, model=args.model, status=args.status,
                     since=since, limit=args.limit)
    emit_json(runs) if args.json else _runs_table(runs)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from scheduler.jobs_view import show_run

    run = show_run(store_from(args), args.run_id, full_log=args.log)
    if args.json:
        emit_json(run)
        return 0
    keys = ("id", "job", "kind", "model", "trigger", "scheduled_for", "attempt", "status",
            "started_at", "ended_at", "wall_s", "cpu_s", "peak_memory_mb", "rows", "exit_code",
            "signal", "host", "pid", "error", "note", "result", "log_path")
    fields((k.replace("_", " "), run[k]) for k in keys)
    section("log" if args.log else "log tail")
    print(run.get("log") or run["log_tail"] or "(empty)")
    return 0
