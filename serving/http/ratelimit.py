"""Token buckets: the rate limits of the HTTP server, per API token and per model.

Pure: a bucket holds `burst` requests, refills at `rate` per second, and is given the
time by its caller (tests pass an explicit clock). A bucket is only touched by the
event loop's thread, so it needs no lock: each token has its own, and one token at its
limit costs the others nothing.
"""

from __future__ import annotations

import math
import re

RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*$")
EPSILON = 1e-9
SECONDS_OF_UNIT = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
                   "h": 3600.0, "hour": 3600.0}


class TokenBucket:
    __slots__ = ("burst", "level", "rate", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a bucket needs a rate above 0 and a burst of 1 or more, not {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self.level = float(burst)  # starts full
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(float(self.burst), self.level + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float) -> float:
        """0.0 when a request may pass (and it is counted); else the seconds until one may."""
        self._refill(now)
        if self.level >= 1.0 - EPSILON:  # a refill of exactly one comes out as 0.999...
            self.level = max(0.0, self.level - 1.0)
            return 0.0
        return (1.0 - self.level) / self.rate


def retry_after(wait_s: float) -> int:
    """The Retry-After header's whole seconds: rounded up, at least 1."""
    return max(1, math.ceil(wait_s))


def parse_rate(text: str) -> float:
    """'10/s', '600/min', '5' (per second) -> requests per second. ValueError otherwise."""
    m = RATE.match(text)
    if m is None:
        raise ValueError(f"rate {text!r} is not a number of requests per s, min or h, e.g. 10/s or 600/min")
    rate = float(m.group(1)) / SECONDS_OF_UNIT[m.group(2) or "s"]
    if rate <= 0:
        raise ValueError(f"rate {text!r} must be above 0")
    return rate


def default_burst(rate_per_s: float) -> int:
    """A burst when none is given: two seconds' worth, at least 1."""
    return max(1, round(2 * rate_per_s))
