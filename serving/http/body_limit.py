"""One body limit for every route (reliability.md SRV-02), not only the scoring and
feedback routes that count their bodies themselves (serving.http.formats.read_body): a
route whose body FastAPI parses, or one added later (tokens, users), is held to the same
`max_body_bytes`. A declared Content-Length over the limit is answered 413 before the
route runs; a body without one (chunked) is counted as it arrives and the request is
answered 413 once it passes the limit, whatever the route was about to answer."""

from __future__ import annotations

from typing import Any

import orjson

#: The scoring paths count their own bodies (one place, measured on the hot path).
SELF_COUNTED = ("/predict", "/invocations")
NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class _TooLarge(Exception):
    pass


def _problem(limit: int, seen: int | None) -> bytes:
    size = f"is {seen} bytes" if seen is not None else f"passed {limit} bytes"
    return orjson.dumps({"error": {"code": "too_large",
                                   "message": f"the body {size}; at most {limit} are accepted"}})


async def _answer_413(send: Any, limit: int, seen: int | None) -> None:
    body = _problem(limit, seen)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Pure ASGI middleware holding every request body to `limit` bytes."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] in NO_BODY or path == "/invocations"
                or (path.startswith("/v1/models/") and path.endswith(SELF_COUNTED))):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _answer_413(send, self.limit, int(declared))
            return
        seen, over, started = 0, False, False

        async def counted() -> Any:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: Any) -> None:
            nonlocal started
            if over:  # the route turned the refusal into its own answer (400): ours goes instead
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _answer_413(send, self.limit, None)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            if not started:
                await _answer_413(send, self.limit, None)
