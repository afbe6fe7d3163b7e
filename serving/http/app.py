"""The HTTP prediction API (FastAPI on uvicorn): `wk serve`.

Hot routes take the raw body and answer with bytes: the body is read with a size limit,
parsed by orjson (which refuses NaN and Infinity), checked against the version's
signature, scored off the event loop by the version's batch predictor, and logged by
the group commit before the answer leaves. Bad input always gets a 4xx naming the
problem and is quarantined; the process keeps serving.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.http.prometheus import ServerMetrics
from serving.log.logger import Duplicate, LogBacklogged, LogUnavailable, PredictionLogger
from serving.scoring import core as pipeline
from serving.scoring.core import RequestError
from serving.scoring.model_cache import ScoringError
from serving.scoring.outputs import mlflow_value
from serving.traffic.router import CHALLENGER, CHAMPION, SHADOW, choose_route
from serving.traffic.state import ServedModel, ServingState
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)
JSON = "application/json"


@dataclass
class ServerConfig:
    max_body_bytes: int = 1 << 20
    max_rows: int = 10_000
    timeout_s: float = 10.0  # per request: scoring plus the log commit
    poll_interval_s: float = 0.5
    models: frozenset[str] | None = None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None,
          background: BackgroundTask | None = None) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status,
                    media_type=JSON, headers=headers, background=background)


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": {"code": code, "message": message}}, status, headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes, whether or not a
    Content-Length was sent (a chunked body is counted as it arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "the Content-Length header is not a number", code="bad_header")
        if int(declared) > limit:
            raise RequestError(413, f"the body is {declared} bytes; at most {limit} are accepted "
                                    "(split the request, or use 'wk score' for batches)", code="too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body passed {limit} bytes; at most {limit} are accepted "
                                    "(split the request, or use 'wk score' for batches)", code="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


PREDICT_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object",
        "properties": {
            "row": {"type": "object", "description": "one input row: field -> value"},
            "rows": {"type": "array", "items": {"type": "object"}, "maxItems": 10000},
            "request_id": {"type": "string", "maxLength": 200,
                           "description": "your id; a retry with it gets the first answer back"},
            "key": {"type": "string", "maxLength": 200, "description": "A/B routing is sticky per key"},
        },
    }}}},
}
INVOCATIONS_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object", "description": "MLflow scoring format: exactly one of the properties",
        "properties": {
            "dataframe_split": {"type": "object", "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": {"type": "array", "items": {"type": "array"}}}},
            "dataframe_records": {"type": "array", "items": {"type": "object"}},
            "instances": {"type": "array", "items": {"type": "object"}},
            "inputs": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
        },
    }}}},
}
FEEDBACK_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object",
        "description": "one label, or {\"labels\": [...]}: by prediction_id, or by request_id "
                       "(with model, and row for a request of several rows)",
        "properties": {
            "prediction_id": {"type": "string"}, "request_id": {"type": "string"},
            "model": {"type": "string"}, "row": {"type": "integer", "minimum": 0},
            "label": {"description": "the true class or value"},
            "labels": {"type": "array", "items": {"type": "object"}},
        },
    }}}},
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON"},
    404: {"description": "no such model is served"},
    413: {"description": "the body is too large"},
    422: {"description": "the rows do not match the model's signature; the body names each problem"},
    503: {"description": "the model cannot answer now (not loaded, the log is behind); retry"},
    504: {"description": "the model did not answer in time"},
}


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

    # --- life -------------------------------------------------------------------------
    def start(self) -> None:
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

    # --- scoring ------------------------------------------------------------------------
    async def score(self, name: str, request: Request, mlflow: bool) -> Response:
        started = time.perf_counter()
        served = self.state.models.get(name)
        if served is None:
            self.metrics.unrouted.labels("404").inc()
            return self._fail(404, f"model {name[:100]!r} is not served here; see GET /v1/models "
                                   "for the models this server answers for", "unknown_model", mlflow)
        if served.champion is None:
            self.metrics.unrouted.labels("503").inc()
            return self._fail(503, served.problem or "the model is not loaded", "not_loaded", mlflow,
                              {"Retry-After": "5"})
        champion = served.champion
        raw: bytes | None = None
        try:
            raw = await read_body(request, self.config.max_body_bytes)
            payload = pipeline.parse_json(raw)
            if mlflow:
                rows = pipeline.rows_from_mlflow(payload, self.config.max_rows)
                request_id, key = None, None
            else:
                rows, request_id, key = pipeline.rows_from_predict(payload, self.config.max_rows)
            header_id = request.headers.get("idempotency-key") or request.headers.get("x-request-id")
            request_id = request_id or pipeline.identifier(header_id, "the request id header")
            key = key or pipeline.identifier(request.headers.get("x-request-key"), "X-Request-Key")
        except RequestError as exc:
            await self._quarantine(served, champion.version_id, CHAMPION, None, exc, None,
                                   raw if exc.status != 413 else None)
            return self._refused(served, champion.version, CHAMPION, exc, mlflow, started)
        s = served.settings
        route = choose_route(s.mode, s.share, key=key or request_id, draw=self.rng.random())
        loaded = champion if route == CHAMPION else served.challenger
        predictor = served.champion_predictor if route == CHAMPION else served.challenger_predictor
        assert loaded is not None and predictor is not None
        values, problems = [], []
        for i, row in enumerate(rows):
            checked, errs = loaded.schema.check_row(row, i)
            problems.extend(errs)
            values.append(checked)
        if problems:
            exc = RequestError(422, f"{len({p.row for p in problems})} of {len(rows)} row(s) do not match "
                                    f"{name} v{loaded.version}'s inputs; nothing was scored",
                               problems, code="invalid_rows")
            await self._quarantine(served, loaded.version_id, route, request_id, exc, rows, None)
            return self._refused(served, loaded.version, route, exc, mlflow, started)
        # asyncio.timeout, not wait_for: wait_for wraps a coroutine in a task of its own, a
        # loop iteration more per await on the path every request takes
        try:
            async with asyncio.timeout(self.config.timeout_s):
                outputs, scores = await predictor.submit(values)
        except TimeoutError:
            return self._timed_out(served, loaded.version, route, mlflow, started, "answer")
        except ScoringError as err:
            exc = RequestError(422, str(err), code="model_refused")
            await self._quarantine(served, loaded.version_id, route, request_id, exc, rows, None)
            return self._refused(served, loaded.version, route, exc, mlflow, started)
        bad = pipeline.non_finite_errors(outputs, loaded, values)
        if bad:
            exc = RequestError(422, f"{len(bad)} row(s) got no finite answer from {name} v{loaded.version}; "
                                    "nothing was logged as answered", bad, code="non_finite_output")
            await self._quarantine(served, loaded.version_id, route, request_id, exc, rows, None)
            return self._refused(served, loaded.version, route, exc, mlflow, started)
        latency_ms = (time.perf_counter() - started) * 1000
        entry, ids = pipeline.answered_entry(
            loaded=loaded, route=route, source="api", request_id=request_id, rows=rows,
            outputs=outputs, scores=scores, latency_ms=latency_ms, at=utcnow(),  # type: ignore[arg-type]
            dialect=self.dialect, log_mode=s.log_mode, sample_rate=s.sample_rate,
            check_duplicate=request_id is not None, rng=self.rng)
        try:
            remaining = max(0.05, self.config.timeout_s - (time.perf_counter() - started))
            async with asyncio.timeout(remaining):
                outcome = await self.logger.write(entry)
        except TimeoutError:
            return self._timed_out(served, loaded.version, route, mlflow, started, "log")
        except LogBacklogged as err:
            return self._unavailable(served, loaded.version, route, mlflow, str(err))
        except LogUnavailable as err:
            return self._unavailable(served, loaded.version, route, mlflow, str(err))
        requests, latency, counted_rows = self.metrics.route(name, loaded.version, route)
        requests.inc()
        counted_rows.inc(len(rows))
        latency.observe(time.perf_counter() - started)
        if isinstance(outcome, Duplicate):
            return await self._replay(name, request_id, outcome, mlflow)
        background = None
        if s.mode == "shadow" and served.challenger is not None:
            background = BackgroundTask(self._shadow, served, rows, request_id)
        if mlflow:
            body: dict[str, Any] = {"predictions": [mlflow_value(o) for o in outputs],  # type: ignore[arg-type]
                                    "prediction_ids": ids, "model": name, "version": loaded.version,
                                    "route": route}
        else:
            body = {"model": name, "request_id": request_id,
                    "predictions": pipeline.prediction_items(ids, loaded, route, outputs)}  # type: ignore[arg-type]
        return _json(body, background=background)

    async def _shadow(self, served: ServedModel, rows: list[Any], request_id: str | None) -> None:
        """The challenger's answer to the same rows, logged as route shadow, never returned."""
        loaded, predictor = served.challenger, served.challenger_predictor
        if loaded is None or predictor is None:
            return
        started = time.perf_counter()
        values, problems = [], []
        for i, row in enumerate(rows):
            checked, errs = loaded.schema.check_row(row, i)
            problems.extend(errs)
            values.append(checked)
        try:
            if problems:
                raise RequestError(422, "the rows do not match the challenger's inputs", problems)
            async with asyncio.timeout(self.config.timeout_s):
                outputs, scores = await predictor.submit(values)
            bad = pipeline.non_finite_errors(outputs, loaded, values)
            if bad:
                raise RequestError(422, "the challenger gave no finite answer", bad)
            entry, _ids = pipeline.answered_entry(
                loaded=loaded, route=SHADOW, source="api", request_id=request_id, rows=rows,
                outputs=outputs, scores=scores,  # type: ignore[arg-type]
                latency_ms=(time.perf_counter() - started) * 1000, at=utcnow(), dialect=self.dialect,
                log_mode=served.settings.log_mode, sample_rate=served.settings.sample_rate,
                check_duplicate=False, rng=self.rng)
            await self.logger.write(entry)
            requests, latency, counted_rows = self.metrics.route(served.name, loaded.version, SHADOW)
            requests.inc()
            counted_rows.inc(len(rows))
            latency.observe(time.perf_counter() - started)
        except RequestError as exc:
            await self._quarantine(served, loaded.version_id, SHADOW, request_id, exc, rows, None)
            self.metrics.shadow_failures.labels(served.name, str(loaded.version)).inc()
        except Exception as exc:  # noqa: BLE001  (a shadow never affects the caller)
            self.metrics.shadow_failures.labels(served.name, str(loaded.version)).inc()
            log.warning("shadow prediction of %s v%s failed: %s", served.name, loaded.version, exc)

    async def _quarantine(self, served: ServedModel, version_id: int, route: str, request_id: str | None,
                          exc: RequestError, rows: list[Any] | None, raw: bytes | None) -> None:
        """Record the refused rows. A failure to record them is logged, and the client still
        gets its 4xx (the refusal is about the input, not the store)."""
        entry = pipeline.rejection_entry(
            model_id=served.settings.model_id, version_id=version_id, route=route, source="api",
            request_id=request_id, errors=exc.problems or [pipeline.RowError(0, None, exc.message)],
            rows=rows, raw=raw, at=utcnow(), keep_payload=served.settings.log_mode == "full")
        try:
            async with asyncio.timeout(self.config.timeout_s):
                await self.logger.write(entry)
        except (LogUnavailable, TimeoutError) as err:
            log.warning("could not quarantine a refused request for %s: %s", served.name, err)

    def _refused(self, served: ServedModel, version: int, route: str, exc: RequestError, mlflow: bool,
                 started: float) -> Response:
        requests, latency, _rows = self.metrics.route(served.name, version, route)
        requests.inc()
        latency.observe(time.perf_counter() - started)
        self.metrics.errors.labels(served.name, str(version), route, str(exc.status)).inc()
        if mlflow:
            body = {"error_code": "BAD_REQUEST" if exc.status < 500 else "INTERNAL_ERROR",
                    "message": exc.message, **exc.body()}
            return _json(body, exc.status)
        return _json(exc.body(), exc.status)

    def _fail(self, status: int, message: str, code: str, mlflow: bool,
              headers: dict[str, str] | None = None) -> Response:
        if mlflow:
            return _json({"error_code": code.upper(), "message": message,
                          "error": {"code": code, "message": message}}, status, headers)
        return _error(status, message, code, headers)

    def _timed_out(self, served: ServedModel, version: int, route: str, mlflow: bool, started: float,
                   what: str) -> Response:
        self.metrics.errors.labels(served.name, str(version), route, "504" if what == "answer" else "503").inc()
        if what == "answer":
            return self._fail(504, f"{served.name} v{version} did not answer within "
                                   f"{self.config.timeout_s:g} s; retry, or check the model", "timeout", mlflow)
        return self._fail(503, f"the prediction log did not commit within {self.config.timeout_s:g} s "
                               "(the store may be locked); nothing was answered, retry", "log_timeout",
                          mlflow, {"Retry-After": "1"})

    def _unavailable(self, served: ServedModel, version: int, route: str, mlflow: bool, message: str) -> Response:
        self.metrics.errors.labels(served.name, str(version), route, "503").inc()
        self.metrics.log_failures.inc()
        return self._fail(503, message + "; nothing was answered, retry", "log_unavailable", mlflow,
                          {"Retry-After": "1"})

    def _version_numbers(self, version_ids: set[int]) -> dict[int, int]:
        from store import registry_queries as q

        with self.store.db.read() as session:
            return {vid: q.version_by_id(session, vid).version for vid in version_ids}

    async def _replay(self, name: str, request_id: str | None, dup: Duplicate, mlflow: bool) -> Response:
        """A retried request id: the first answer again, from the log (read off the loop)."""
        items = []
        versions = await asyncio.get_running_loop().run_in_executor(
            None, self._version_numbers, {r[1] for r in dup.rows})
        for pid, vid, route, _idx, out in dup.rows:
            if out is None:
                return _error(409, f"request_id {request_id!r} was answered before (prediction ids "
                                   f"{', '.join(r[0] for r in dup.rows[:10])}); its outputs were not "
                                   "logged (metadata-only logging), so they cannot be sent again",
                              "already_answered")
            items.append({"prediction_id": pid, "version": versions[vid], "route": route, **orjson.loads(out)})
        if mlflow:
            return _json({"predictions": [mlflow_value(i) for i in items],
                          "prediction_ids": [i["prediction_id"] for i in items], "model": name,
                          "version": items[0]["version"], "route": items[0]["route"], "replayed": True})
        return _json({"model": name, "request_id": request_id, "predictions": items, "replayed": True})

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


class ScoringFastPath:
    """Pure ASGI middleware that sends POST /v1/models/NAME/predict and /invocations
    straight to the handler, skipping FastAPI's routing and dependency resolution (about
    0.1 ms a request). The same paths stay declared on the app for the OpenAPI docs."""

    PREFIX = "/v1/models/"

    def __init__(self, app: Any, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(self.PREFIX):
            name, sep, action = scope["path"][len(self.PREFIX):].partition("/")
            if sep and name and action in ("predict", "invocations"):
                response = await self.api.score(name, Request(scope, receive), mlflow=action == "invocations")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def make_app(store: Store, config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    api = Api(store, config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        api.start()
        try:
            yield
        finally:
            api.stop()  # after uvicorn has let in-flight requests finish: the log drains

    app = FastAPI(title="Watchkeeper serving", version="1",
                  description="Predictions with an id per row, logged before the answer leaves.",
                  lifespan=lifespan)
    app.state.api = api
    app.add_middleware(ScoringFastPath, api=api)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        api.metrics.unrouted.labels(str(exc.status_code)).inc()
        text = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(exc.status_code, f"{text}; see /docs for the endpoints", "http_error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        # never echo the input back (reliability.md SRV-05)
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                    for e in exc.errors()[:20]]
        return _json({"error": {"code": "invalid_request", "message": "the request does not match "
                                "the endpoint's parameters", "problems": problems}}, 422)

    @app.post("/v1/models/{name}/predict", openapi_extra=PREDICT_BODY, responses=ERROR_RESPONSES,
              summary="Score one row or many; each row gets a prediction_id")
    async def predict(name: str, request: Request) -> Response:
        return await api.score(name, request, mlflow=False)

    @app.post("/v1/models/{name}/invocations", openapi_extra=INVOCATIONS_BODY, responses=ERROR_RESPONSES,
              summary="Score in MLflow's scoring format (dataframe_split, dataframe_records, instances, inputs)")
    async def invocations(name: str, request: Request) -> Response:
        return await api.score(name, request, mlflow=True)

    @app.post("/v1/feedback", openapi_extra=FEEDBACK_BODY, responses={400: {}, 413: {}, 422: {}},
              summary="Labels for earlier predictions, by prediction_id or request_id")
    async def feedback(request: Request) -> Response:
        from serving.log import feedback as fb

        try:
            payload = pipeline.parse_json(await read_body(request, config.max_body_bytes))
            items = fb.items_from_payload(payload)
        except RequestError as exc:
            return _json(exc.body(), exc.status)
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, fb.apply_labels, store, items)
        except Exception as exc:  # noqa: BLE001  (the store: 503, the input: 422)
            from store.errors import Kind

            status = 503 if getattr(exc, "kind", Kind.UNAVAILABLE) is Kind.UNAVAILABLE else 422
            return _error(status, getattr(exc, "message", None) or str(exc), "feedback_failed")
        return _json(result)

    @app.get("/v1/models", summary="The models this server answers for")
    async def models() -> Response:
        return _json(api.served_models())

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> Response:
        return _json({"status": "alive"})

    @app.get("/readyz", summary="The store is reachable and every served model is loaded",
             responses={503: {"description": "not ready; the body says why"}})
    async def readyz() -> Response:
        ok, body = api.state.readiness()
        body["log"] = {"pending_rows": api.logger.pending_rows, "last_error": api.logger.last_error}
        return _json(body, 200 if ok else 503)

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        api.metrics.log_pending.set(api.logger.pending_rows)
        api.metrics.model_load_errors.set(len(api.state.load_errors))
        return Response(api.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


__all__ = ["CHALLENGER", "ServerConfig", "make_app"]
