"""Who may call the HTTP server: API tokens (`Authorization: Bearer <token>`) and the rate
limits of tokens and models.

Every request but /healthz passes `Gate.admit` first, in the outermost ASGI layer, scoring
fast path included. It costs a header scan, one sha256 and two dict look-ups: the tokens
are held in memory, keyed by their hash, and re-read from the store every `refresh_s`
(1 s) by a background thread, so a revoked token is refused within about a second and
no request reads the database. Expiry is checked against the clock on each request.

The same thread adds each token's use (requests and rate-limit refusals per minute, last
use) to the store every `flush_s` seconds (store/token_usage.py); a failed flush is
retried with the next one, the counts kept.

Answers never echo the token: 401 names what is wrong (missing, unknown, revoked,
expired) with `WWW-Authenticate: Bearer`; 403 for a model outside the token's scope;
429 with `Retry-After` (whole seconds, rounded up) past a token's or a model's rate.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from serving.http.errors import HttpProblem
from serving.http.ratelimit import TokenBucket, retry_after
from store import token_usage
from store.token_usage import Limits, TokenRow, UsageDelta

if TYPE_CHECKING:
    from serving.http.prometheus import ServerMetrics
    from store.handle import Store

log = logging.getLogger(__name__)

#: the server's default rate for a token that sets none (and no [serving] or --rate-limit)
DEFAULT_LIMITS = Limits(50.0, 100)
OPEN_PATHS = frozenset({"/healthz"})
MODELS_PREFIX = "/v1/models/"
SCORING_ACTIONS = frozenset({"predict", "invocations"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="watchkeeper"'}
NO_AUTH_WARNING = ("authentication is off: anyone who can reach this "
                   "port can score, label and read; for local experiments only")
#: the key under which a request's scope carries its caller once admitted
SCOPE_KEY = "wk.caller"


@dataclass(frozen=True)
class Caller:
    """The token a request came with (None: authentication is off)."""

    token: TokenRow

    @property
    def name(self) -> str:
        return self.token.name

    @property
    def actor(self) -> str:
        return f"token:{self.token.name}"

    def may_use(self, model: str) -> bool:
        return self.token.models is None or model in self.token.models


class _Use:
    """One token's use not yet in the store; written on the loop's thread, read by the
    flush thread (counts only grow, so the flush takes the difference)."""

    __slots__ = ("flushed", "last_used", "minutes")

    def __init__(self) -> None:
        self.last_used = 0.0
        self.minutes: dict[int, list[int]] = {}  # epoch minute -> [requests, limited]
        self.flushed: dict[int, tuple[int, int]] = {}


class Gate:
    def __init__(self, store: Store, metrics: ServerMetrics, *, enabled: bool,
                 default: Limits | None = None, only_model: str | None = None,
                 known_model: Callable[[str], bool] = lambda _name: False,
                 refresh_s: float = 1.0, flush_s: float = 5.0) -> None:
        self.store = store
        self.metrics = metrics
        self.enabled = enabled
        self.default = default or DEFAULT_LIMITS
        self.only = only_model
        self.known_model = known_model
        self.refresh_s = refresh_s
        self.flush_s = flush_s
        self._tokens: dict[str, TokenRow] = {}
        self._model_limits: dict[str, Limits] = {}
        self._token_buckets: dict[int, TokenBucket] = {}
        self._model_buckets: dict[str, TokenBucket] = {}
        self._use: dict[int, _Use] = {}
        self._limited_children: dict[tuple[str, str, str], Any] = {}
        self.loaded = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------
    def start(self) -> None:
        if not self.enabled:
            log.warning(NO_AUTH_WARNING)
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="wk-token-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_s
        while not self._stop.wait(self.refresh_s):
            self.refresh()
            if time.monotonic() >= next_flush:
                self.flush()
                next_flush = time.monotonic() + self.flush_s

    def refresh(self) -> None:
        """Re-read the tokens and the models' limits; a failure keeps the last ones."""
        try:
            tokens = {t.secret_sha256: t for t in token_usage.token_rows(self.store)} if self.enabled else {}
            limits = token_usage.model_limits(self.store)
        except Exception as exc:  # noqa: BLE001  (the store is away: keep serving what we know)
            if self.last_error is None:
                log.warning("could not re-read the API tokens; using the ones read before: %s", exc)
            self.last_error = str(exc)
            return
        self._tokens, self._model_limits = tokens, limits  # each swapped in one assignment
        self.loaded, self.last_error = True, None

    def flush(self) -> None:
        """Add each token's use since the last flush to the store."""
        deltas: list[tuple[_Use, UsageDelta, dict[int, tuple[int, int]]]] = []
        current = int(time.time() // 60)
        for token_id, use in self._use.copy().items():
            now_counts = {m: (c[0], c[1]) for m, c in use.minutes.copy().items()}
            minutes = {}
            for m, (req, lim) in now_counts.items():
                done = use.flushed.get(m, (0, 0))
                if (req, lim) != done:
                    minutes[m] = (req - done[0], lim - done[1])
            if minutes:
                deltas.append((use, UsageDelta(token_id, use.last_used, minutes), now_counts))
        try:
            token_usage.record_usage(self.store, [d for _u, d, _c in deltas])
        except Exception as exc:  # noqa: BLE001  (kept for the next flush)
            log.warning("could not record the API tokens' use (kept for the next try): %s", exc)
            return
        for use, _delta, counts in deltas:
            use.flushed.update(counts)
            for m in [m for m in use.flushed if m < current - 1]:  # the loop writes no old minute
                use.minutes.pop(m, None)
                use.flushed.pop(m, None)

    # --- the check ----------------------------------------------------------------------
    def target(self, path: str) -> tuple[str | None, bool]:
        """(the model a path is about, whether it scores)."""
        if path.startswith(MODELS_PREFIX):
            name, sep, action = path[len(MODELS_PREFIX):].partition("/")
            return (name, action in SCORING_ACTIONS) if sep and name else (None, False)
        if self.only is not None:
            if path == "/invocations":
                return self.only, True
            if path in ("/ping", "/health"):
                return self.only, False
        return None, False

    def admit(self, scope: dict[str, Any]) -> HttpProblem | None:
        """None when the request may go on (its caller put in the scope); else the answer."""
        path = scope["path"]
        if path in OPEN_PATHS:
            return None
        model, scoring = self.target(path)
        caller: Caller | None = None
        if self.enabled:
            found = self._authenticate(scope)
            if isinstance(found, HttpProblem):
                self.metrics.auth_refused.labels(str(found.status)).inc()
                return found
            caller = found
            if model is not None and not caller.may_use(model):
                self.metrics.auth_refused.labels("403").inc()
                scope_text = ", ".join(sorted(caller.token.models or ())) or "no model"
                return HttpProblem(403, "forbidden", f"token {caller.name!r} is scoped to "
                                   f"{scope_text}, not to model {model[:100]!r}")
        scope[SCOPE_KEY] = caller
        now = time.monotonic()
        problem = self._limit(caller, model if scoring else None, now)
        if caller is not None:
            self._count(caller.token.id, problem is not None)
        return problem

    def _authenticate(self, scope: dict[str, Any]) -> Caller | HttpProblem:
        value = None
        for key, v in scope["headers"]:
            if key == b"authorization":
                value = v
                break
        if value is None:
            return HttpProblem(401, "unauthorized", "this endpoint needs an API token: send the "
                               "header 'Authorization: Bearer <token>' (an admin creates tokens)",
                               headers=CHALLENGE)
        scheme, _, secret = value.partition(b" ")
        if scheme.lower() != b"bearer" or not secret.strip():
            return HttpProblem(401, "unauthorized", "the Authorization header must be 'Bearer "
                               "<token>'", headers=CHALLENGE)
        if not self.loaded:
            return HttpProblem(503, "tokens_unavailable", "the API tokens could not be read from "
                               "the store yet; retry", headers={"Retry-After": "1"})
        token = self._tokens.get(hashlib.sha256(secret.strip()).hexdigest())
        if token is None:
            return HttpProblem(401, "unauthorized", "the API token is not known to this server "
                               "(mistyped or deleted)", headers=_challenge("invalid_token"))
        if token.revoked:
            return HttpProblem(401, "unauthorized", f"the API token {token.name!r} was revoked",
                               headers=_challenge("invalid_token"))
        if token.expires_at is not None and token.expires_at <= time.time():
            return HttpProblem(401, "unauthorized", f"the API token {token.name!r} has expired",
                               headers=_challenge("invalid_token"))
        return Caller(token)

    def _limit(self, caller: Caller | None, model: str | None, now: float) -> HttpProblem | None:
        if caller is not None:
            t = caller.token
            rate = t.rate_per_s or self.default.rate_per_s
            burst = t.burst or (self.default.burst if t.rate_per_s is None else max(1, round(2 * rate)))
            bucket = self._token_buckets.get(t.id)
            if bucket is None or bucket.rate != rate or bucket.burst != burst:
                bucket = self._token_buckets[t.id] = TokenBucket(rate, burst, now)
            wait = bucket.take(now)
            if wait:
                return self._limited(caller.name, model, "token", wait,
                                     f"token {caller.name!r} may make {rate:g} requests a second "
                                     f"(bursts of {burst})")
        if model is not None:
            limits = self._model_limits.get(model)
            if limits is not None:
                mb = self._model_buckets.get(model)
                if mb is None or mb.rate != limits.rate_per_s or mb.burst != limits.burst:
                    mb = self._model_buckets[model] = TokenBucket(limits.rate_per_s, limits.burst, now)
                wait = mb.take(now)
                if wait:
                    return self._limited(caller.name if caller else "-", model, "model", wait,
                                         f"model {model!r} takes at most {limits.rate_per_s:g} "
                                         f"requests a second (bursts of {limits.burst})")
        return None

    def _limited(self, token: str, model: str | None, limit: str, wait: float, what: str) -> HttpProblem:
        label = model if model is not None and (model in self._model_limits or self.known_model(model)) else ""
        key = (token, label, limit)
        child = self._limited_children.get(key)
        if child is None:
            child = self._limited_children[key] = self.metrics.rate_limited.labels(*key)
        child.inc()
        seconds = retry_after(wait)
        return HttpProblem(429, "rate_limited", f"rate limit: {what}; retry in {seconds} s",
                           headers={"Retry-After": str(seconds)})

    def _count(self, token_id: int, limited: bool) -> None:
        use = self._use.get(token_id)
        if use is None:
            use = self._use[token_id] = _Use()
        wall = time.time()
        use.last_used = wall
        counts = use.minutes.get(minute := int(wall // 60))
        if counts is None:
            counts = use.minutes[minute] = [0, 0]
        counts[0] += 1
        if limited:
            counts[1] += 1

    # --- what the routes ask --------------------------------------------------------------
    def readiness(self) -> dict[str, Any]:
        if not self.enabled:
            return {"auth": "off", "warning": NO_AUTH_WARNING}
        out: dict[str, Any] = {"auth": "on", "tokens_refresh_s": self.refresh_s}
        if self.last_error is not None:
            out["tokens_error"] = self.last_error
        return out


def _challenge(error: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer realm="watchkeeper", error="{error}"'}


def caller_of(scope: MutableMapping[str, Any]) -> Caller | None:
    """The caller `Gate.admit` put in a request's scope (None when auth is off)."""
    caller = scope.get(SCOPE_KEY)
    return caller if isinstance(caller, Caller) else None
