"""`score`: batch scoring on a schedule, from a source (CSV, Parquet, a SQL query) to a sink
(a file or a database table), through the same scorer as `wk score` (bad rows quarantined
with reasons, one transaction per chunk, results in the prediction log).

The sink may name the slot: `{date}` (2026-12-01), `{time}` (20261201T0300) and `{run}`
(the run's id) are filled in, so a nightly job writes one file a night. Each run is batch
run `job-<job>-<slot>`: a retry of the same slot replaces its rows, never duplicates them.
"""

from __future__ import annotations

import os
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.errors import InvalidInput
from store.vocabulary import JobKind

PLACEHOLDERS = ("date", "time", "run")


def validate(args: dict[str, Any]) -> dict[str, Any]:
    import string

    for _text, name, _spec, _conv in string.Formatter().parse(args["sink"]):
        if name is not None and name not in PLACEHOLDERS:
            raise InvalidInput(f"the sink names {{{name}}}; it may name "
                               f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)} only",
                               field="sink", example="scores-{date}.parquet")
    from serving.batch.run import MAX_CHUNK

    if not 0 < args["chunk_size"] <= MAX_CHUNK:  # refused when the job is added, not at 3am
        raise InvalidInput(f"the chunk size must be above 0 and at most {MAX_CHUNK}, not "
                           f"{args['chunk_size']}", field="chunk_size", example="10000")
    # files are named from where the job was added: the daemon's children run elsewhere
    for key in ("source", "sink"):
        if "://" not in args[key]:
            args[key] = os.path.abspath(os.path.expanduser(args[key]))
    return args


def run(ctx: RunContext) -> Outcome:
    from serving.batch.io import parse_sink, parse_source
    from serving.batch.run import score_batch
    from store.types import utcnow

    slot = ctx.run.scheduled_for or ctx.run.queued_at or utcnow()
    sink_text = ctx.args["sink"].format(date=f"{slot:%Y-%m-%d}", time=f"{slot:%Y%m%dT%H%M}",
                                        run=ctx.run.id)
    source = parse_source(ctx.args["source"], ctx.args.get("query"))
    sink = parse_sink(sink_text, ctx.args.get("table"))
    if ctx.model is None:
        from scheduler.kinds.base import RunFailed

        raise RunFailed(f"the score job {ctx.job.name!r} names no model (its model was removed?)")
    run_id = f"job-{ctx.job.name}-{slot:%Y%m%dT%H%M%S}"
    result = score_batch(ctx.store, ctx.model, source, sink, run_id=run_id,
                         version=ctx.args.get("version"), chunk_size=ctx.args["chunk_size"])
    scored = int(result.get("rows_scored") or 0)
    refused = int(result.get("rows_quarantined") or 0)
    return Outcome(summary=f"scored {scored} rows into {sink.describe()}"
                           + (f", {refused} quarantined" if refused else ""),
                   rows=int(result.get("rows_read") or scored + refused),
                   result={"batch_run": run_id, "rows_scored": scored,
                           "rows_quarantined": refused, "sink": sink.describe()})


KIND = JobKindSpec(
    kind=JobKind.SCORE,
    help="batch scoring from a source to a sink, logged like wk score",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    needs_model=True,
    options=(
        KindOption("source", "the rows to score: a CSV or Parquet file, or a SQLAlchemy URL",
                   required=True, example="data/new.csv"),
        KindOption("sink", "where the scores go: a file ({date}, {time}, {run} filled in) or a "
                           "SQLAlchemy URL", required=True, example="scores-{date}.parquet"),
        KindOption("query", "the query that selects the rows, for a database source",
                   example="'SELECT * FROM applications'"),
        KindOption("table", "the table to write, for a database sink", example="scores"),
        KindOption("version", "score with this version (default: production)", example="3"),
        KindOption("chunk_size", "rows per chunk (one transaction each)", type=int,
                   default=10_000, example="10000"),
    ),
)
