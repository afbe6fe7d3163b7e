"""The scoring handler of the HTTP API: a request in, through the one scoring path
(serving.scoring.core), a response out.

The handler reads the body with a size limit, lets the route's format parse it into rows
(serving.http.formats), routes the request, and runs the core: `prepare` on the event
loop; the prediction, `complete` and the log's group commit on the version's micro-batcher
thread (serving.scoring.job), so the loop wakes once; the answer leaves after the commit.
Bad input always gets a 4xx naming the problem and is quarantined; the process keeps
serving.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from fastapi.responses import Response
from starlette.background import BackgroundTask

from serving.http.auth import Gate
from serving.http.errors import HttpProblem, RequestError, rejection_problem, request_problem
from serving.http.formats import Format, identifier, read_body
from serving.http.prometheus import ServerMetrics
from serving.http.ratelimit import default_burst
from serving.log.logger import Duplicate, LogEntry, LogUnavailable, PredictionLogger
from serving.scoring import core
from serving.scoring.core import Context, Rejection
from serving.scoring.guarded import GUARDRAIL_CODE
from serving.scoring.job import ScoringJob
from serving.scoring.model_cache import ScoringError
from serving.traffic.guardrails import REPLACED, WITHHELD
from serving.traffic.router import choose_route
from serving.traffic.state import ServedModel, ServingState
from store.token_usage import Limits
from store.vocabulary import Mode, Route, Source

if TYPE_CHECKING:
    from starlette.requests import Request

    from store.handle import Store

log = logging.getLogger(__name__)
JSON = "application/json"
#: names the input columns /invocations dropped (the model does not take them)
IGNORED_HEADER = "X-Ignored-Columns"


def ignored_header(names: tuple[str, ...]) -> str:
    """The names, comma-separated, as header-safe text (at most 1,000 characters)."""
    text = ", ".join(n.encode("ascii", "backslashreplace").decode() for n in names)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 1000 else text[:997] + "..."


@dataclass
class ServerConfig:
    max_body_bytes: int = 1 << 20
    max_rows: int = 10_000
    timeout_s: float = 10.0  # per request: scoring plus the log commit
    poll_interval_s: float = 0.5
    models: frozenset[str] | None = None
    #: API tokens required (serving.http.auth); `wk serve` turns this on unless --no-auth.
    #: Off by default for apps built in process (tests, benches), which /readyz then says.
    auth: bool = False
    #: a token's rate when it sets none (None: [serving] in watchkeeper.toml, else 50/s)
    rate_per_s: float | None = None
    burst: int | None = None
    #: how long a caller past a rate waits for its 429. A flood's clients wait for their
    #: answers, so 16 connections then send 64 requests a second, not the 14,000 refusals
    #: a second that took the event loop from every other caller (bench/RESULTS.md); the
    #: wait is a sleep on the loop, costing nothing, and Retry-After says 1 s or more anyway
    refusal_delay_s: float = 0.25


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  background: BackgroundTask | None = None) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status,
                    media_type=JSON, headers=headers, background=background)


def problem_response(problem: HttpProblem, fmt: Format) -> Response:
    return json_response(fmt.error(problem), problem.status, problem.headers)


def _default_limits(store: Store, config: ServerConfig) -> Limits | None:
    if config.rate_per_s is not None:
        return Limits(config.rate_per_s, config.burst or default_burst(config.rate_per_s))
    from store.token_usage import default_limits

    return default_limits(getattr(store.location, "root", None))


class Api:
    """The handlers' shared state: what is served, the log writer, metrics, limits."""

    def __init__(self, store: Store, config: ServerConfig) -> None:
        self.store = store
        self.config = config
        self.state = ServingState(store, only=config.models, poll_interval=config.poll_interval_s)
        self.metrics = ServerMetrics()
        self.logger = PredictionLogger(store.db, on_commit=self.metrics.on_commit)
        self.dialect = "sqlite" if store.db.is_sqlite else store.db.engine.dialect.name
        self.rng = random.Random()
        self._scoring = 0  # requests between their hand-over to a predictor and their answer
        # inline only where the loop can commit too: otherwise it would predict on the loop
        # and still wake the writer thread, saving nothing
        self._inline = self.logger.commits_on_event_loop
        self._ignored_seen: set[tuple[str, int, tuple[str, ...]]] = set()
        self.gate = Gate(store, self.metrics, enabled=config.auth, default=_default_limits(store, config),
                         only_model=self.only_model, known_model=lambda name: name in self.state.models)

    @property
    def only_model(self) -> str | None:
        """The one model this server answers for (`wk serve --model NAME`), if one."""
        only = self.config.models
        return next(iter(only)) if only is not None and len(only) == 1 else None

    # --- life -------------------------------------------------------------------------
    def start(self) -> None:
        self.gate.start()
        self.state.refresh()
        self.logger.start()
        self.state.start()
        # The process holds a million long-lived objects (scikit-learn, pandas); a full
        # collection of them paused every request for 60-80 ms (measured: p99 at 16
        # concurrent clients 64 ms -> 7 ms once they are frozen out of the collector).
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 50, 1000)

    def stop(self) -> None:
        self.state.stop()
        self.logger.stop()
        self.gate.stop()  # last: the use of the requests just drained is written

    def _context(self, served: ServedModel, request_id: str | None, *, answers: bool,
                 ignore_unknown: bool = False) -> Context:
        s = served.settings
        return Context(Source.API, request_id, s.log_mode, s.sample_rate, self.dialect,
                       check_duplicate=answers and request_id is not None, rng=self.rng,
                       ignore_unknown=ignore_unknown, guard=served.guard, fallback=served.champion)

    # --- scoring ------------------------------------------------------------------------
    async def score(self, name: str, request: Request, fmt: Format) -> Response:
        started = time.perf_counter()
        served = self.state.models.get(name)
        if served is None:
            self.metrics.unrouted.labels("404").inc()
            return problem_response(HttpProblem(
                404, "unknown_model", f"model {name[:100]!r} is not served here; see GET /v1/models "
                                      "for the models this server answers for"), fmt)
        if served.champion is None:
            self.metrics.unrouted.labels("503").inc()
            return problem_response(HttpProblem(503, "not_loaded", served.problem or "the model is not loaded",
                                                headers={"Retry-After": "5"}), fmt)
        champion = served.champion
        raw: bytes | None = None
        try:
            raw = await read_body(request, self.config.max_body_bytes)
            asked = fmt.read(raw, request.headers.get("content-type"), self.config.max_rows)
            header_id = request.headers.get("idempotency-key") or request.headers.get("x-request-id")
            request_id = asked.request_id or identifier(header_id, "the request id header")
            key = asked.key or identifier(request.headers.get("x-request-key"), "X-Request-Key")
        except RequestError as exc:
            refused = core.refuse_input(champion, Route.CHAMPION, self._context(served, None, answers=False),
                                        exc.code, exc.message, exc.problems, raw if exc.status != 413 else None)
            return await self._refused(served, champion.version, Route.CHAMPION, request_problem(exc),
                                       refused.entry, fmt, started)
        s = served.settings
        route = choose_route(s.mode, s.share, key=key or request_id, draw=self.rng.random())
        loaded = champion if route is Route.CHAMPION else served.challenger
        predictor = served.champion_predictor if route is Route.CHAMPION else served.challenger_predictor
        assert loaded is not None and predictor is not None
        prepared = core.prepare(loaded, route, asked.rows, self._context(
            served, request_id, answers=True, ignore_unknown=fmt.ignores_unknown))
        if isinstance(prepared, Rejection):
            return await self._rejected(served, prepared, fmt, started, loaded.version, route)
        # predicted, completed and committed on the predictor thread: the loop wakes once
        job = ScoringJob(prepared, started, self.logger)
        # A lone request on a fast version is predicted and committed right here, with no
        # thread to wake (micro_batcher.try_inline); otherwise on the predictor thread.
        if not (self._inline and self._scoring == 0 and predictor.try_inline(prepared.values, job.finish)):
            predictor.submit_then(prepared.values, job.finish)
        self._scoring += 1
        # asyncio.timeout, not wait_for: wait_for wraps a coroutine in a task of its own, a
        # loop iteration more per await on the path every request takes
        try:
            async with asyncio.timeout(self.config.timeout_s):
                outcome = await job.future
        except TimeoutError:
            return self._timed_out(served, loaded.version, route, fmt, "answer" if job.abandon() else "log")
        except ScoringError as err:
            return await self._rejected(served, core.model_refused(prepared, err), fmt, started,
                                        loaded.version, route)
        except LogUnavailable as err:  # LogBacklogged too
            return self._unavailable(served, loaded.version, route, fmt, str(err))
        finally:
            self._scoring -= 1
        result = job.result
        if isinstance(result, Rejection):
            return await self._rejected(served, result, fmt, started, loaded.version, route)
        assert result is not None, "a settled job has its result"
        requests, latency, counted_rows = self.metrics.route(name, loaded.version, route)
        requests.inc()
        counted_rows.inc(len(asked.rows))
        latency.observe(time.perf_counter() - started)
        if isinstance(outcome, Duplicate):
            return await self._replay(name, request_id, outcome, fmt)
        background = None
        if s.mode == Mode.SHADOW and served.challenger is not None:
            background = BackgroundTask(self._shadow, served, prepared.rows, request_id)
        headers = None
        if result.ignored:
            headers = {IGNORED_HEADER: ignored_header(result.ignored)}
            self._note_ignored(name, loaded.version, result.ignored)
        return json_response(fmt.answer(name, result), headers=headers, background=background)

    def _note_ignored(self, name: str, version: int, ignored: tuple[str, ...]) -> None:
        """The server's log names ignored input columns once per model, version and set."""
        key = (name, version, ignored)
        if key not in self._ignored_seen and len(self._ignored_seen) < 1000:
            self._ignored_seen.add(key)
            log.info("%s v%d: ignored input column(s) the model does not take: %s (as MLflow does on "
                     "/invocations; /predict refuses them)", name, version, ignored_header(ignored))

    async def _shadow(self, served: ServedModel, rows: list[Any], request_id: str | None) -> None:
        """The challenger's answer to the same rows, logged as route shadow, never returned."""
        loaded, predictor = served.challenger, served.challenger_predictor
        if loaded is None or predictor is None:
            return
        started = time.perf_counter()
        try:
            prepared = core.prepare(loaded, Route.SHADOW, rows, self._context(served, request_id, answers=False))
            if isinstance(prepared, Rejection):
                result: core.Answer | Rejection = prepared
            else:
                async with asyncio.timeout(self.config.timeout_s):
                    outputs, scores = await predictor.submit(prepared.values)
                result = core.complete(prepared, outputs, scores, started)
            if isinstance(result, Rejection):
                await self._quarantine(served, result.entry)
                self.metrics.shadow_failures.labels(served.name, str(loaded.version)).inc()
                return
            await self.logger.write(result.entry)
            requests, latency, counted_rows = self.metrics.route(served.name, loaded.version, Route.SHADOW)
            requests.inc()
            counted_rows.inc(len(rows))
            latency.observe(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001  (a shadow never affects the caller)
            self.metrics.shadow_failures.labels(served.name, str(loaded.version)).inc()
            log.warning("shadow prediction of %s v%s failed: %s", served.name, loaded.version, exc,
                        extra={"model": served.name, "request_id": request_id})

    async def _quarantine(self, served: ServedModel, entry: LogEntry) -> None:
        """Record the refused rows. A failure to record them is logged, and the client still
        gets its 4xx (the refusal is about the input, not the store)."""
        try:
            async with asyncio.timeout(self.config.timeout_s):
                await self.logger.write(entry)
        except (LogUnavailable, TimeoutError) as err:
            log.warning("could not quarantine a refused request for %s: %s", served.name, err,
                        extra={"model": served.name, "request_id": entry.request_id})

    async def _rejected(self, served: ServedModel, rejection: Rejection, fmt: Format, started: float,
                        version: int, route: Route) -> Response:
        return await self._refused(served, version, route, rejection_problem(rejection), rejection.entry,
                                   fmt, started)

    async def _refused(self, served: ServedModel, version: int, route: Route, problem: HttpProblem,
                       entry: LogEntry, fmt: Format, started: float) -> Response:
        await self._quarantine(served, entry)
        requests, latency, _rows = self.metrics.route(served.name, version, route)
        requests.inc()
        latency.observe(time.perf_counter() - started)
        self.metrics.errors.labels(served.name, str(version), route, str(problem.status)).inc()
        return problem_response(problem, fmt)

    def _timed_out(self, served: ServedModel, version: int, route: Route, fmt: Format, what: str) -> Response:
        self.metrics.errors.labels(served.name, str(version), route, "504" if what == "answer" else "503").inc()
        if what == "answer":
            return problem_response(HttpProblem(
                504, "timeout", f"{served.name} v{version} did not answer within "
                                f"{self.config.timeout_s:g} s; retry, or check the model"), fmt)
        return problem_response(HttpProblem(
            503, "log_timeout", f"the prediction log did not commit within {self.config.timeout_s:g} s "
                                "(the store may be locked); nothing was answered, retry",
            headers={"Retry-After": "1"}), fmt)

    def _unavailable(self, served: ServedModel, version: int, route: Route, fmt: Format, message: str) -> Response:
        self.metrics.errors.labels(served.name, str(version), route, "503").inc()
        self.metrics.log_failures.inc()
        return problem_response(HttpProblem(503, "log_unavailable", message + "; nothing was answered, retry",
                                            headers={"Retry-After": "1"}), fmt)

    def _version_numbers(self, version_ids: set[int]) -> dict[int, int]:
        from store import versions as version_store

        with self.store.db.read() as session:
            return {vid: version_store.version_by_id(session, vid).version for vid in version_ids}

    async def _replay(self, name: str, request_id: str | None, dup: Duplicate, fmt: Format) -> Response:
        """A retried request id: the first answer again, from the log (read off the loop)."""
        items = []
        versions = await asyncio.get_running_loop().run_in_executor(
            None, self._version_numbers, {r[1] for r in dup.rows})
        for pid, vid, route, _idx, out, guardrail in dup.rows:
            if guardrail is not None and guardrail.startswith(REPLACED):
                continue  # the champion's row of the same index answered it
            if guardrail is not None and guardrail.startswith(WITHHELD):
                return json_response({"error": HttpProblem(
                    422, GUARDRAIL_CODE, f"request_id {request_id!r} was refused before: its answer was outside "
                                         f"the deployment's guardrails ({guardrail}; prediction {pid})",
                    field="request_id").error()}, 422)
            if out is None:
                return json_response({"error": HttpProblem(
                    409, "already_answered", f"request_id {request_id!r} was answered before (prediction ids "
                                             f"{', '.join(r[0] for r in dup.rows[:10])}); its outputs were not "
                                             "logged (metadata-only logging), so they cannot be sent again",
                    field="request_id").error()}, 409)
            items.append({"prediction_id": pid, "version": versions[vid], "route": route, **orjson.loads(out)})
        return json_response(fmt.replay(name, request_id, items))

    # --- others -------------------------------------------------------------------------
    def served_models(self) -> list[dict[str, Any]]:
        out = []
        for name, m in sorted(self.state.models.items()):
            s = m.settings
            out.append({
                "model": name, "mode": s.mode,
                "champion": m.champion.version if m.champion else None,
                "challenger": m.challenger.version if m.challenger else None,
                "challenger_share": s.share, "task": m.champion.task if m.champion else None,
                "inputs": list(m.champion.schema.names) if m.champion else [],
                "status": "ready" if m.champion else (m.problem or "not loaded"),
            })
        return out
