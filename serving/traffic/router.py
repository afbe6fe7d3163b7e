"""Traffic strategies (pure): which version answers a request.

- single: the champion answers everything.
- shadow: the champion answers; the challenger also predicts after the response, and
  its answer is logged (route "shadow"), never returned.
- canary: each request goes to the challenger with probability `share`.
- ab: like canary, but sticky: the same request key always gets the same route.
"""

from __future__ import annotations

import hashlib
from typing import Any

from store.vocabulary import Mode, Route

MODES = tuple(Mode)
_CHAMPION_ONLY = (Mode.SINGLE, Mode.SHADOW)
#: a route taking a share of requests; None for a shadow copy of every request
Share = float | None


def sticky_fraction(key: str) -> float:
    """A stable number in [0, 1) for a request key (the same key, the same number)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def choose_route(mode: str, share: float, *, key: str | None, draw: float) -> Route:
    """champion or challenger for one request. `draw` is a uniform number in [0, 1)
    (random per request); in ab mode a request key replaces it, so routing is sticky."""
    if mode in _CHAMPION_ONLY or share <= 0.0:
        return Route.CHAMPION
    if mode == Mode.AB and key is not None:
        draw = sticky_fraction(key)
    return Route.CHALLENGER if draw < share else Route.CHAMPION


def check_mode(mode: str, share: float, has_challenger: bool) -> str | None:
    """What is wrong with a deployment setting, or None."""
    problem = mode_problem(mode, share, has_challenger)
    return problem[0] if problem else None


def mode_problem(mode: str, share: float, has_challenger: bool) -> tuple[str, str] | None:
    """What is wrong with a deployment setting and the input that would fix it (mode,
    challenger or share), or None."""
    if mode not in MODES:
        return f"mode {mode!r} is not one of {', '.join(MODES)}", "mode"
    if not 0.0 <= share <= 1.0:
        return f"challenger share {share} is outside 0..1 (give a fraction, e.g. 0.1 for 10%)", "share"
    if mode != Mode.SINGLE and not has_challenger:
        return f"mode {mode} needs a challenger version", "challenger"
    if mode in (Mode.CANARY, Mode.AB) and share == 0.0:
        return f"mode {mode} with a challenger share of 0 sends it nothing", "share"
    return None


def routes_of(deployment: dict[str, Any]) -> list[tuple[Route, int | None, Share]]:
    """(route, version, share of requests) a deployment (as `deployments.show` gives it)
    sends traffic to now; the share is None for a shadow, which copies every request."""
    mode, champion = deployment["mode"], deployment["champion"]
    challenger, share = deployment["challenger"], deployment["challenger_share"]
    if mode in (Mode.CANARY, Mode.AB) and challenger:
        return [(Route.CHAMPION, champion, 1 - share), (Route.CHALLENGER, challenger, share)]
    rows: list[tuple[Route, int | None, Share]] = [(Route.CHAMPION, champion, 1.0)]
    if mode == Mode.SHADOW and challenger:
        rows.append((Route.SHADOW, challenger, None))  # every request, answered by the champion
    elif challenger:
        rows.append((Route.CHALLENGER, challenger, 0.0))  # set, but single mode sends it nothing
    return rows
