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


async def _load(url: str, flood: str, served: str) -> tuple[list[int], list[int]]:
    limits = httpx.Limits(max_connections=CALLERS + 1)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
        stop = time.monotonic() + SECONDS
        flooded: list[int] = []
        answered: list[int] = []

        async def caller(secret: str, codes: list[int]) -> None:
            while time.monotonic() < stop:
                r = await client.post(PATH, json={"row": TINY_ROW}, headers=bearer(secret))
                codes.append(r.status_code)

        await asyncio.gather(*(caller(flood, flooded) for _ in range(CALLERS)),
                             caller(served, answered))
    return flooded, answered


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
        flooded, answered = asyncio.run(_load(server.url, flood, served))
    finally:
        server.kill()
    delay = ServerConfig().refusal_delay_s
    assert delay > 0
    # burst 1 then 1/s: at most 1 + SECONDS answered (plus one in flight at the end)
    assert 429 in flooded and flooded.count(200) <= 1 + SECONDS + 1, flooded.count(200)
    # each refusal took its caller >= delay: without it the flood made thousands
    bound = CALLERS * (SECONDS / delay + 1) + CALLERS
    assert len(flooded) <= bound, (len(flooded), bound)
    assert answered and set(answered) == {200}, set(answered)
