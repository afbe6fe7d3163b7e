"""Traffic strategies (pure): which version answers a request.

- single: the champion answers everything.
- shadow: the champion answers; the challenger also predicts after the response, and
  its answer is logged (route "shadow"), never returned.
- canary: each request goes to the challenger with probability `share`.
- ab: like canary, but sticky: the same request key always gets the same route.
"""

from __future__ import annotations

import hashlib

MODES = ("single", "shadow", "canary", "ab")
CHAMPION, CHALLENGER, SHADOW = "champion", "challenger", "shadow"


def sticky_fraction(key: str) -> float:
    """A stable number in [0, 1) for a request key (the same key, the same number)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def choose_route(mode: str, share: float, *, key: str | None, draw: float) -> str:
    """champion or challenger for one request. `draw` is a uniform number in [0, 1)
    (random per request); in ab mode a request key replaces it, so routing is sticky."""
    if mode in ("single", "shadow") or share <= 0.0:
        return CHAMPION
    if mode == "ab" and key is not None:
        draw = sticky_fraction(key)
    return CHALLENGER if draw < share else CHAMPION


def check_mode(mode: str, share: float, has_challenger: bool) -> str | None:
    """What is wrong with a deployment setting, or None."""
    if mode not in MODES:
        return f"mode {mode!r} is not one of {', '.join(MODES)}"
    if not 0.0 <= share <= 1.0:
        return f"challenger share {share} is outside 0..1 (give a fraction, e.g. 0.1 for 10%)"
    if mode != "single" and not has_challenger:
        return f"mode {mode} needs a challenger version (--challenger VERSION)"
    if mode in ("canary", "ab") and share == 0.0:
        return f"mode {mode} with a challenger share of 0 sends it nothing; give --share"
    return None
