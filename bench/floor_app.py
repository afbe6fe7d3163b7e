"""The floor for the HTTP bench: a raw ASGI app under the same uvicorn as `wk serve`
(uvloop and httptools, one worker), which reads the request body and answers a fixed JSON
body. Whatever latency it shows is the machine's, wrk's and uvicorn's, none of it wk's.

Run by bench/serving.py: ``python -m uvicorn bench.floor_app:app --port PORT``.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"predictions":[{"class":0}]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
