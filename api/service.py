"""The long-lived state of one service process: database engine, key store, audit log, job
runner, and the in-memory matcher and models.

Why keep the matcher in memory: a candidate list over 100k clients must come back in a few
milliseconds, so the skill index is built once per process (at start-up, in the background)
and reused; any change made through this process's API invalidates it, and it is rebuilt
after `ServiceConfig.matcher_max_age` seconds at the latest to pick up changes from imports
and other processes. Requests never load the whole region themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from api.audit import AuditLog
from api.auth import KeyStore
from api.config import ServiceConfig
from api.jobs import JobRunner
from plein.storage import get_engine, upgrade
from plein.storage.operational import utcnow

log = logging.getLogger("plein.api")


def is_lock_error(exc: BaseException) -> bool:
    """True when the database refused a write because a concurrent transaction wrote first:
    SQLite under WAL answers "database is locked" at once (SQLITE_BUSY_SNAPSHOT) to a
    transaction that read before another one committed; PostgreSQL reports a serialisation
    failure."""
    import sqlalchemy.exc

    if not isinstance(exc, sqlalchemy.exc.OperationalError):
        return False
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text


def retry_on_lock(call, attempts: int = 6):
    """Run a database write again when a concurrent writer made it fail. Each attempt is a
    whole new transaction, so a retried decision or import sees the state the other writer
    left (e.g. the proposal already decided) and answers accordingly."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not is_lock_error(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * 2**attempt)


GC_YOUNG_THRESHOLD = 20_000


def _freeze_long_lived_objects() -> None:
    """Keep the cyclic garbage collector away from the region and the matcher.

    A 100k-client region is millions of Python objects (lists of skills, dates); every full
    collection would walk them all, adding hundreds of milliseconds to whichever request
    triggered it. `gc.freeze` moves everything alive now into a generation the collector
    skips; objects are still freed by reference counting when dropped. Unfreezing first lets a
    rebuild's collection reclaim cycles of the previous state."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()
    # fewer, larger young collections: requests allocate many short-lived objects
    threshold = gc.get_threshold()
    if threshold[0] < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])


class NotReady(RuntimeError):
    """A component the request needs is not available (yet); the message says which and why."""


class DataState:
    """The region as of one load from the database, the matcher built on it, and a result
    cache. Candidate lists are cached per (vacancy, options) until the data changes: a
    vacancy's list is asked for again and again while employer services work through it."""

    def __init__(self, region: Any, matcher: Any, built_at: float, cache_size: int = 4096) -> None:
        self.region = region
        self.matcher = matcher
        self.built_at = built_at
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def peek(self, key: tuple) -> Any:
        """The cached value or None, without computing (safe on the event loop)."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def cached(self, key: tuple, compute) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            self._cache[key] = value
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return value


class Service:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.engine = get_engine(config.database_url)
        self.keys = KeyStore(self.engine)
        self.audit = AuditLog(self.engine, sync=config.audit_sync)
        self.jobs = JobRunner(self.engine, workers=config.job_workers)
        self.started_at: datetime = utcnow()
        self._data: DataState | None = None
        self._data_lock = threading.Lock()
        self._data_error: str | None = None
        self._data_generation = 0
        self._refreshing = False
        self._models: Any = None
        self._models_error: str | None = None
        self._models_lock = threading.Lock()
        self._preload_thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> None:
        """Prepare the database (migrations) and recover interrupted jobs. Cheap and safe to
        repeat; `create_app` calls it so the app works with or without a lifespan."""
        if self.config.migrate:
            upgrade(self.engine)
        if self.config.recover_jobs:
            n = self.jobs.recover()
            if n:
                log.warning("marked %d interrupted job(s) as failed", n)

    def start_background(self) -> None:
        """Build the matcher and load the models without delaying start-up."""
        if not self.config.preload or self._preload_thread is not None:
            return

        def preload() -> None:
            try:
                self.data()
            except Exception as exc:  # reported by /v1/ready and by the endpoints
                log.warning("matcher not built at start-up: %s", exc)
            try:
                self.models()
            except Exception as exc:
                log.warning("models not loaded at start-up: %s", exc)
            # the model libraries (MLflow, scikit-learn) are hundreds of thousands of objects
            _freeze_long_lived_objects()

        self._preload_thread = threading.Thread(target=preload, name="plein-preload", daemon=True)
        self._preload_thread.start()

    def close(self) -> None:
        self.jobs.shutdown(wait=False)
        self.audit.close()
        self.engine.dispose()

    # -- data changes ----------------------------------------------------------------------
    def data_changed(self, entity: str) -> None:
        """Forget everything derived from the region (after a create, update or import)."""
        if entity in ("clients", "vacancies", "employers", "ladder_events", "coaches", "teams"):
            with self._data_lock:
                self._data = None
                self._data_error = None
                self._data_generation += 1

    # -- matching --------------------------------------------------------------------------
    def data(self) -> DataState:
        """The region and matcher, built on first use and after a change made through this
        process. When only `matcher_max_age` has passed, the old state keeps serving while a
        fresh one is built in the background (a 100k-client region takes seconds to load)."""
        state = self._data
        if state is not None:
            if time.monotonic() - state.built_at >= self.config.matcher_max_age:
                self._refresh_in_background()
            return state
        with self._data_lock:
            if self._data is not None:
                return self._data
            generation = self._data_generation
            try:
                state = self._build_data()
            except Exception as exc:
                self._data_error = f"{type(exc).__name__}: {exc}"
                raise NotReady(f"the region could not be loaded for matching: {self._data_error}") from exc
            if generation == self._data_generation:
                self._data = state
                self._data_error = None
            return state

    def current_data(self) -> DataState | None:
        """The state if built (never blocks; may start a background refresh when old)."""
        state = self._data
        if state is not None and time.monotonic() - state.built_at >= self.config.matcher_max_age:
            self._refresh_in_background()
        return state

    def current_ranker(self) -> Any:
        """The served ranker without blocking: False when the model server is not loaded yet."""
        if self._models is None:
            return False
        return getattr(self._models, "ranker", None)

    def build_in_background(self) -> None:
        """Start building the region state if nobody has (readiness probes call this)."""
        if self._data is None:
            self._refresh_in_background()

    def _refresh_in_background(self) -> None:
        # Never build twice: while the lock is held a build is under way (the start-up preload
        # or a rebuild after a change) and will deliver fresh data. A second build finishing
        # later would replace the state, and its warm result cache, for nothing.
        if not self._data_lock.acquire(blocking=False):
            return
        try:
            state = self._data
            fresh = state is not None and time.monotonic() - state.built_at < self.config.matcher_max_age
            if self._refreshing or fresh:
                return
            self._refreshing = True
            generation = self._data_generation
        finally:
            self._data_lock.release()

        def refresh() -> None:
            try:
                state = self._build_data()
                with self._data_lock:
                    if generation == self._data_generation:
                        self._data = state
                        self._data_error = None
            except Exception as exc:
                self._data_error = f"{type(exc).__name__}: {exc}"
                log.exception("building the region state failed; keeping the previous one")
            finally:
                self._refreshing = False

        threading.Thread(target=refresh, name="plein-refresh", daemon=True).start()

    def _build_data(self) -> DataState:
        from api import matching_adapter

        started = time.monotonic()
        region, matcher = matching_adapter.build(self.engine)
        log.info("region loaded and matcher built in %.1f s", time.monotonic() - started)
        _freeze_long_lived_objects()
        return DataState(region, matcher, time.monotonic(), cache_size=self.config.result_cache_size)

    def data_status(self) -> tuple[bool, str]:
        if self._data is not None:
            return True, f"built {time.monotonic() - self._data.built_at:.0f} s ago"
        if self._data_error:
            return False, self._data_error
        return False, "not built yet (it is built in the background at start-up or on first use)"

    # -- models ----------------------------------------------------------------------------
    def models(self) -> Any:
        """The model server (`models.serving.ModelServer`), loaded on first use."""
        if self._models is not None:
            return self._models
        with self._models_lock:
            if self._models is None:
                try:
                    from models.serving import ModelServer
                except ImportError as exc:
                    self._models_error = f"model serving is not installed ({exc})"
                    raise NotReady(self._models_error) from None
                try:
                    self._models = ModelServer(self.config.settings)
                except Exception as exc:
                    self._models_error = f"models could not be loaded: {exc}"
                    raise NotReady(self._models_error) from None
                self._models_error = None
            return self._models

    def ranker(self) -> Any:
        """The served re-ranker, or None (rule-based scores) when no model is available."""
        try:
            return getattr(self.models(), "ranker", None)
        except NotReady:
            return None

    def ladder_model(self) -> Any:
        try:
            return getattr(self.models(), "ladder", None)
        except NotReady:
            return None

    def reload_models(self) -> Any:
        server = self.models()
        server.reload()
        # the candidate lists depend on the ranker: rebuild with the new one
        self.data_changed("clients")
        return server
