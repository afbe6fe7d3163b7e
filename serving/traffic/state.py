"""What the server serves, kept in step with the store (hot reload).

A poller thread reads the deployments and production aliases every `poll_interval`
seconds. When they change, the versions now needed are loaded (artifact hash checked)
first, and only then is the routing table swapped in one assignment, so traffic moves
to a version that is ready. A version that fails to load (a changed file, say) leaves
the model on what it served before, and the failure is reported by /readyz and logged.
The load is tried again after 2 s, then 4, 8, ... up to every minute, so a file put
back (restored from a backup, or readable again) is picked up without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from serving.scoring.micro_batcher import BatchPredictor
from serving.scoring.model_cache import LoadedVersion, ModelCache, VersionInfo
from serving.traffic.guardrails import Guard, Guardrails, parse
from store import deployments as deployments_q
from store.vocabulary import Mode

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

RETRY_FIRST_S = 2.0
RETRY_MAX_S = 60.0


def retry_delay(failures: int) -> float:
    """Seconds to wait before loading again after `failures` failed attempts in a row."""
    return min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class Settings:
    model_id: int
    name: str
    champion_id: int | None
    mode: str
    challenger_id: int | None
    share: float
    log_mode: str
    sample_rate: float
    guardrails: Guardrails | None = None


@dataclass
class ServedModel:
    settings: Settings
    champion: LoadedVersion | None
    challenger: LoadedVersion | None
    champion_predictor: BatchPredictor | None = None
    challenger_predictor: BatchPredictor | None = None
    problem: str | None = None  # why it cannot answer (no production version, load failure)
    guard: Guard | None = None  # the deployment's output guardrails, with their class window

    @property
    def name(self) -> str:
        return self.settings.name


@dataclass
class ServingState:
    store: Store
    only: frozenset[str] | None = None  # serve just these models (None: every served model)
    poll_interval: float = 0.5
    models: dict[str, ServedModel] = field(default_factory=dict)
    load_errors: dict[str, str] = field(default_factory=dict)
    last_poll_ok: float = 0.0  # time.monotonic() of the last successful read of the store
    last_poll_error: str | None = None
    generation: int = 0

    def __post_init__(self) -> None:
        self.cache = ModelCache(self.store, measure_memory=True)
        self._predictors: dict[int, BatchPredictor] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._settings: dict[str, Settings] = {}
        self._failed_loads = 0  # failed refreshes in a row (for the retry's back-off)
        self._retry_at = 0.0  # time.monotonic() when a failed load is tried again
        self._guards: dict[str, Guard] = {}  # kept across reloads while the config is the same

    # --- polling ----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serving-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for predictor in self._predictors.values():
            predictor.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001  (keep serving what is loaded)
                self.last_poll_error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                log.error("could not read the serving state: %s", self.last_poll_error)

    def read_settings(self) -> dict[str, Settings]:
        with self.store.db.read() as session:
            rows = deployments_q.serving_state(session)
        settings = {}
        for row in rows:
            if self.only is not None and row.name not in self.only:
                continue
            # a parked challenger takes no traffic
            challenger_id = None if row.mode == Mode.SINGLE else row.challenger_id
            settings[row.name] = Settings(row.model_id, row.name, row.champion_id, row.mode, challenger_id,
                                          float(row.share), row.log_mode, float(row.sample_rate),
                                          _guardrails(row.name, row.guardrails))
        return settings

    def refresh(self) -> bool:
        """Re-read the store; load what changed; swap the routing table. True if changed."""
        settings = self.read_settings()
        self.last_poll_ok, self.last_poll_error = time.monotonic(), None
        if settings == self._settings and not (self.load_errors and time.monotonic() >= self._retry_at):
            return False
        wanted = {vid for s in settings.values() for vid in (s.champion_id, s.challenger_id) if vid}
        with self.store.db.read() as session:
            details = {row[2]: VersionInfo(*row) for row in deployments_q.version_details(session, sorted(wanted))}
        models: dict[str, ServedModel] = {}
        self.load_errors = {n: e for n, e in self.load_errors.items() if n in settings}  # gone: no retry
        for name, s in settings.items():
            previous = self.models.get(name)
            try:
                served = self._build(s, details)
                self.load_errors.pop(name, None)
            except Exception as exc:  # noqa: BLE001  (ART-04: keep serving the previous model)
                text = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                self.load_errors[name] = text
                log.error("could not load %s for serving (keeping what it served before): %s", name, text)
                if previous is None:
                    served = ServedModel(s, None, None, problem=f"the model failed to load: {text}")
                else:
                    served = previous
            models[name] = served
        self._guards = {n: m.guard for n, m in models.items() if m.guard is not None}
        self.models = models  # one assignment: requests see the old table or the new one
        self._settings = settings
        self._failed_loads = self._failed_loads + 1 if self.load_errors else 0
        if self.load_errors:
            delay = retry_delay(self._failed_loads)
            self._retry_at = time.monotonic() + delay
            log.info("loading %s again in %.0f s", ", ".join(sorted(self.load_errors)), delay)
        self.generation += 1
        in_use = {m.champion.version_id for m in models.values() if m.champion} | {
            m.challenger.version_id for m in models.values() if m.challenger}
        for vid in list(self._predictors):
            if vid not in in_use:
                self._predictors.pop(vid).stop()
        self.cache.keep_only(in_use)
        log.info("serving %s", ", ".join(f"{n} ({_describe(m)})" for n, m in models.items()) or "nothing")
        return True

    def _build(self, s: Settings, details: dict[int, VersionInfo]) -> ServedModel:
        if s.champion_id is None:
            return ServedModel(s, None, None, problem=(
                f"model {s.name!r} has no production version; promote one to production"))
        champion = self.cache.get(details[s.champion_id])
        challenger = self.cache.get(details[s.challenger_id]) if s.challenger_id else None
        return ServedModel(s, champion, challenger, self._predictor(champion),
                           self._predictor(challenger) if challenger else None, guard=self._guard(s))

    def _guard(self, s: Settings) -> Guard | None:
        """The model's guard: the one it had while its guardrails are unchanged (its class
        window goes on), a new one when they changed."""
        if s.guardrails is None:
            return None
        guard = self._guards.get(s.name)
        return guard if guard is not None and guard.rails == s.guardrails else Guard(s.guardrails)

    def _predictor(self, loaded: LoadedVersion) -> BatchPredictor:
        predictor = self._predictors.get(loaded.version_id)
        if predictor is None or predictor.loaded is not loaded:
            if predictor is not None:  # the version was loaded afresh: retire its old worker
                predictor.stop()
            predictor = self._predictors[loaded.version_id] = BatchPredictor(loaded)
        return predictor

    # --- readiness ----------------------------------------------------------------------
    def readiness(self, stale_after: float = 5.0) -> tuple[bool, dict[str, Any]]:
        age = time.monotonic() - self.last_poll_ok if self.last_poll_ok else None
        store_ok = age is not None and age <= max(stale_after, 4 * self.poll_interval)
        models = {n: ("ready" if m.champion is not None and not m.problem else m.problem or "not loaded")
                  for n, m in self.models.items()}
        loaded = all(v == "ready" for v in models.values()) and not self.load_errors
        body: dict[str, Any] = {
            "status": "ready" if store_ok and loaded else "not ready",
            "store": "reachable" if store_ok else f"not reachable: {self.last_poll_error or 'not read yet'}",
            "models": models,
        }
        if self.load_errors:
            body["load_errors"] = dict(self.load_errors)
        return store_ok and loaded, body


def _guardrails(name: str, stored: dict[str, Any] | None) -> Guardrails | None:
    """A deployment's stored guardrails, parsed; a stored config that no longer parses
    (written by hand) is logged and not applied."""
    if not stored:
        return None
    try:
        return parse(stored)
    except Exception as exc:  # noqa: BLE001  (serve without them rather than not at all)
        log.error("the guardrails of %s are not applied: %s", name, getattr(exc, "message", exc))
        return None


def _describe(m: ServedModel) -> str:
    if m.champion is None:
        return m.problem or "not loaded"
    text = f"v{m.champion.version}"
    if m.challenger is not None:
        text += f", {m.settings.mode} v{m.challenger.version} {m.settings.share:.0%}"
    return text
