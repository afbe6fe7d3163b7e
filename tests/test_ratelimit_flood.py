"""A token flooding past its rate on a real `wk serve` (16 clients at once, each sending
the next request as soon as its answer comes, as load tools and scrapers do): every
refusal holds its caller for the server's refusal delay, so the flood's rate is bounded
by its callers, not by the server's speed, while another token is served throughout."""

from __future__ import annotations

import asyncio
import time

import httpx
from serving_store import TINY_ROW, Server, bearer, build_store

from serving.http.api import ServerConfig
from store.handle import open_store
from store.tokens import create_token

CALLERS = 16
SECONDS = 2.0
PATH = "/v1/models/tiny/predict"


async def _load(url: str, flood: str, served: str) -> tuple[list[int], list[int], float]:
    """The flood's and the served token's status codes, and how long it all took."""
    limits = httpx.Limits(max_connections=CALLERS + 1)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
        started = time.monotonic()
        stop = started + SECONDS
        flooded: list[int] = []
        answered: list[int] = []

        async def caller(secret: str, codes: list[int]) -> None:
            while time.monotonic() < stop:
                r = await client.post(PATH, json={"row": TINY_ROW}, headers=bearer(secret))
                codes.append(r.status_code)

        await asyncio.gather(*(caller(flood, flooded) for _ in range(CALLERS)),
                             caller(served, answered))
        elapsed = time.monotonic() - started  # past SECONDS by the last answers' time
    return flooded, answered, elapsed


def test_a_flooding_token_waits_for_its_429s_and_another_is_served(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = build_store(tmp_path / "store")
    store = open_store(root)
    try:
        flood = create_token(store, "flood", "viewer", rate_per_s=1.0, burst=1)["secret"]
        served = create_token(store, "served", "viewer", rate_per_s=100_000.0, burst=100_000)["secret"]
    finally:
        store.close()
    server = Server(root, token=served).start(timeout=180)
    try:
        flooded, answered, elapsed = asyncio.run(_load(server.url, flood, served))
    finally:
        server.kill()
    delay = ServerConfig().refusal_delay_s
    assert delay > 0
    # burst 1 then 1/s: at most 1 + elapsed answered (a loaded machine stretches both)
    assert 429 in flooded and flooded.count(200) <= 1 + elapsed + 1, (flooded.count(200), elapsed)
    # each refusal took its caller >= delay, so a caller made at most elapsed / delay of
    # them (and its few answers): without the wait the flood made hundreds more
    bound = CALLERS * (elapsed / delay + 1) + flooded.count(200)
    assert len(flooded) <= bound, (len(flooded), bound)
    assert answered and set(answered) == {200}, set(answered)
