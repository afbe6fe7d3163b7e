"""The HTTP prediction API (FastAPI on uvicorn): `wk serve`'s app and its routes.

Hot routes take the raw body and answer with bytes (serving.http.api); each scoring
route picks its format, a request parser and response formatters, once
(serving.http.formats). Errors are answered from their kind (serving.http.errors).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.http.api import Api, ServerConfig, json_response, problem_response
from serving.http.auth import SCOPE_KEY, caller_of
from serving.http.body_limit import BodyLimit
from serving.http.errors import HttpProblem, domain_problem
from serving.http.formats import FORMAT_OF_ACTION, MLFLOW, NATIVE, parse_json, read_body
from serving.http.openapi import (
    ERROR_RESPONSES,
    FEEDBACK_BODY,
    INVOCATIONS_BODY,
    PREDICT_BODY,
    with_bearer_scheme,
)
from store.errors import InvalidInput, PermissionDenied, WatchkeeperError

if TYPE_CHECKING:
    from serving.http.auth import Caller
    from store.handle import Store


class ScoringFastPath:
    """Pure ASGI middleware that sends POST /v1/models/NAME/predict and /invocations
    straight to the handler, skipping FastAPI's routing and dependency resolution (about
    0.1 ms a request). The same paths stay declared on the app for the OpenAPI docs."""

    PREFIX = "/v1/models/"

    def __init__(self, app: Any, api: Api) -> None:
        self.app = app
        self.api = api
        self.only = api.only_model  # `wk serve --model NAME`: MLflow's /invocations at the root

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # the token check and rate limits (serving.http.auth), once per request: the outer
        # instance (wk serve) admits it, the app's own (in process) finds it admitted
        if scope["type"] == "http" and SCOPE_KEY not in scope:
            problem = self.api.gate.admit(scope)
            if problem is not None:
                if problem.status == 429 and self.api.config.refusal_delay_s > 0:
                    await asyncio.sleep(self.api.config.refusal_delay_s)
                answer = MLFLOW if scope["path"].endswith("/invocations") else NATIVE
                await problem_response(problem, answer)(scope, receive, send)
                return
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path.startswith(self.PREFIX):
                name, sep, action = path[len(self.PREFIX):].partition("/")
                fmt = FORMAT_OF_ACTION.get(action) if sep and name else None
                if fmt is not None:
                    response = await self.api.score(name, Request(scope, receive), fmt)
                    await response(scope, receive, send)
                    return
            elif path == "/invocations" and self.only is not None:
                response = await self.api.score(self.only, Request(scope, receive), MLFLOW)
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

    # FastAPIOffline: FastAPI with /docs and /redoc assets served from the package, not a CDN
    app = FastAPIOffline(title="Watchkeeper serving", version="1",
                         description="Predictions with an id per row, logged before the answer leaves.",
                         lifespan=lifespan)
    app.state.api = api
    app.add_middleware(ScoringFastPath, api=api)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)  # every other route's body

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        api.metrics.unrouted.labels(str(exc.status_code)).inc()
        text = exc.detail if isinstance(exc.detail, str) else "request refused"
        return problem_response(HttpProblem(exc.status_code, "http_error", f"{text}; see /docs for the endpoints"),
                                NATIVE)

    @app.exception_handler(WatchkeeperError)
    async def domain_error(_request: Request, exc: WatchkeeperError) -> Response:
        """A domain error from any route, answered by its kind (404, 422, 403, 409, 503)."""
        return problem_response(domain_problem(exc, str(exc.kind)), NATIVE)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        # never echo the input back (reliability.md SRV-05)
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                    for e in exc.errors()[:20]]
        return json_response({"error": {"code": "invalid_request", "message": "the request does not match "
                                        "the endpoint's parameters", "problems": problems}}, 422)

    @app.post("/v1/models/{name}/predict", openapi_extra=PREDICT_BODY, responses=ERROR_RESPONSES,
              summary="Score one row or many; each row gets a prediction_id")
    async def predict(name: str, request: Request) -> Response:
        return await api.score(name, request, NATIVE)

    @app.post("/v1/models/{name}/invocations", openapi_extra=INVOCATIONS_BODY, responses=ERROR_RESPONSES,
              summary="Score in MLflow's scoring format (dataframe_split, dataframe_records, instances, inputs)")
    async def invocations(name: str, request: Request) -> Response:
        return await api.score(name, request, MLFLOW)

    @app.post("/v1/feedback", openapi_extra=FEEDBACK_BODY, responses={400: {}, 413: {}, 422: {}},
              summary="Labels for earlier predictions, by prediction_id or request_id")
    async def feedback(request: Request) -> Response:
        from serving.http.errors import RequestError, request_problem
        from serving.log import feedback as fb

        try:
            payload = parse_json(await read_body(request, config.max_body_bytes))
            items = fb.items_from_payload(payload)
        except RequestError as exc:
            return problem_response(request_problem(exc), NATIVE)
        except InvalidInput as exc:
            return problem_response(domain_problem(exc, "invalid_request"), NATIVE)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                None, _label, store, caller_of(request.scope), items)
        except PermissionDenied as exc:
            return problem_response(domain_problem(exc, "forbidden"), NATIVE)
        except WatchkeeperError as exc:
            return problem_response(domain_problem(exc, "feedback_failed"), NATIVE)
        except Exception as exc:  # noqa: BLE001  (the store could not be reached: 503)
            return json_response({"error": {"code": "feedback_failed", "message": str(exc)}}, 503)
        return json_response(result)

    @app.get("/v1/models/{name}/ping", summary="MLflow's ping for one model: 200 once it is loaded",
             responses={404: {}, 503: {}})
    async def model_ping(name: str) -> Response:
        return mlflow_ping(api, name)

    if api.only_model is not None:
        only = api.only_model

        @app.post("/invocations", openapi_extra=INVOCATIONS_BODY, responses=ERROR_RESPONSES,
                  summary=f"MLflow's scoring route at the root, for {only} (served alone)")
        async def root_invocations(request: Request) -> Response:
            return await api.score(only, request, MLFLOW)

        @app.get("/ping", summary="MLflow's ping: 200 once the model is loaded", responses={503: {}})
        async def ping() -> Response:
            return mlflow_ping(api, only)

        @app.get("/health", summary="MLflow's health check (as /ping)", responses={503: {}})
        async def health() -> Response:
            return mlflow_ping(api, only)

        @app.get("/version", summary="The server's version, as text (MLflow's /version)")
        async def version() -> Response:
            return Response(wk_version(), media_type="text/plain")

    @app.get("/v1/models", summary="The models this server answers for")
    async def models(request: Request) -> Response:
        caller = caller_of(request.scope)
        served = api.served_models()
        return json_response(served if caller is None else [m for m in served if caller.may_use(m["model"])])

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> Response:
        return json_response({"status": "alive"})

    @app.get("/readyz", summary="The store is reachable and every served model is loaded",
             responses={503: {"description": "not ready; the body says why"}})
    async def readyz() -> Response:
        ok, body = api.state.readiness()
        body["log"] = {"pending_rows": api.logger.pending_rows, "last_error": api.logger.last_error}
        body.update(api.gate.readiness())
        return json_response(body, 200 if ok else 503)

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        api.metrics.log_pending.set(api.logger.pending_rows)
        api.metrics.model_load_errors.set(len(api.state.load_errors))
        return Response(api.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    with_bearer_scheme(app, open_paths=("/healthz",))
    return app


def _label(store: Store, caller: Caller | None, items: list[Any]) -> dict[str, Any]:
    """Feedback labels, acted by the request's token (the labelling service checks that it
    may label: a refusal is audited and answered 403); without tokens (--no-auth), by the
    server's own account."""
    from serving.log import feedback as fb

    return fb.apply_labels(store, items, actor=caller.actor if caller is not None else None)


def mlflow_ping(api: Api, name: str) -> Response:
    """As MLflow's /ping: 200 with a newline once the model is loaded; 503 (with the
    reason) while it is not, 404 for a model this server does not answer for."""
    served = api.state.models.get(name)
    if served is None:
        return problem_response(HttpProblem(404, "unknown_model", f"model {name[:100]!r} is not served here; "
                                                                  "see GET /v1/models"), NATIVE)
    if served.champion is None:
        return problem_response(HttpProblem(503, "not_loaded", served.problem or "the model is not loaded",
                                            headers={"Retry-After": "5"}), NATIVE)
    return Response("\n", media_type="application/json")


def wk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("watchkeeper")
    except PackageNotFoundError:  # run from a source tree without an install
        return "unknown"


__all__ = ["make_app"]
