"""Background jobs (optimisation runs) on a thread pool, with status and progress in the
`jobs` table so any process of the service can answer "how far is it?".

Why threads and not a task queue: an optimisation is one CPU-bound OR-Tools solve that
releases the GIL while it searches; one or two at a time per Werkplein is the real load, and
a database row per job keeps the deployment to one service plus its database.

A job moves queued -> running -> done (with `result`) or failed (with `error`, a sentence
for the person who started it). Progress reported by the work (`plein.progress` callbacks) is
written at most every `PROGRESS_INTERVAL` seconds.

A job can be cancelled (`JobRunner.cancel`): a queued one at once (it never starts), a running
one at its next progress report (status ``cancelling`` until then; an optimisation reports
between its stages, so within seconds), which raises `JobCancelled` through the work; nothing
is stored. The request is a conditional update of the job's row, so it works whichever
process of the service runs the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from plein.progress import ProgressCallback
from plein.storage.operational import jobs, new_id, utcnow

log = logging.getLogger("plein.api.jobs")

PROGRESS_INTERVAL = 0.5
INTERRUPTED = "The service stopped while this job was running; nothing was stored. Start it again."

JobWork = Callable[[ProgressCallback], dict[str, Any]]


class JobFailure(Exception):
    """Raised by job work for an expected failure; its message is shown to the user as is."""


class JobCancelled(BaseException):
    """Raised from a cancelled job's progress callback. A BaseException, so that no
    `except Exception` in the work (fallbacks, retries) swallows it; `finally` blocks run."""


#: states a job can still be cancelled in, and those that are final
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled")


class JobRunner:
    def __init__(self, engine: Engine, workers: int = 1) -> None:
        self.engine = engine
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._idle = threading.Condition()
        self._active = 0
        #: cancel requests this process has seen, per running job (others arrive by the row)
        self._cancel_events: dict[str, threading.Event] = {}
        self._cancel_requests: dict[str, str] = {}  # job -> who asked
        self._cancel_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    def recover(self) -> int:
        """Fail the jobs a stopped process left queued or running; returns how many."""
        with self.engine.begin() as conn:
            res = conn.execute(
                jobs.update()
                .where(jobs.c.status.in_(("queued", "running", "cancelling")))
                .values(status="failed", error=INTERRUPTED, updated_at=utcnow())
            )
            return res.rowcount or 0

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="plein-job")
            return self._pool

    def shutdown(self, wait: bool = False) -> None:
        """Stop taking jobs (queued ones are cancelled and recorded as failed by `recover` on
        the next start). A later `submit` starts a new pool: an app may be started again."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no job of this runner is queued or running (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, kind: str, params: dict[str, Any], created_by: str, work: JobWork) -> str:
        job_id = new_id()
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id, kind=kind, status="queued", progress=0.0, message="waiting for a free worker",
                    params=params, result=None, error=None, created_by=created_by, created_at=now, updated_at=now,
                )
            )
        with self._idle:
            self._active += 1
        future = self._executor().submit(self._run, job_id, work)
        future.add_done_callback(lambda f: self._on_cancel(job_id) if f.cancelled() else None)
        return job_id

    def _on_cancel(self, job_id: str) -> None:
        """A queued job cancelled by `shutdown`: record it and release waiters."""
        try:  # a job someone cancelled before keeps that status
            self._set_if(job_id, ("queued",), status="failed", error=INTERRUPTED, message="cancelled")
        except Exception:
            log.exception("could not record the cancellation of job %s", job_id)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def cancel(self, job_id: str, by: str) -> dict[str, Any] | None:
        """Cancel a queued or running job; returns its row (None if there is no such job). A
        job already finished is returned as it is (the caller says so)."""
        self._set_if(job_id, ("queued",), status="cancelled", message=f"cancelled by {by} before it started", error=None)
        self._set_if(job_id, ("running",), status="cancelling", message=f"cancelling (asked by {by}): stops at its next step")
        with self._cancel_lock:
            event = self._cancel_events.get(job_id)
            self._cancel_requests[job_id] = by
        if event is not None:
            event.set()
        return self.get(job_id)

    def _update(self, job_id: str, **values: Any) -> None:
        from api.service import retry_on_lock

        values["updated_at"] = utcnow()

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

        retry_on_lock(write)

    def _set_if(self, job_id: str, states: tuple[str, ...], **values: Any) -> bool:
        """Update the job's row only while its status is one of `states`; whether it was."""
        from api.service import retry_on_lock

        values["updated_at"] = utcnow()

        def write() -> int:
            with self.engine.begin() as conn:
                return conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(states)).values(**values)).rowcount

        return bool(retry_on_lock(write))

    def _run(self, job_id: str, work: JobWork) -> None:
        event = threading.Event()
        with self._cancel_lock:
            self._cancel_events[job_id] = event
        try:
            if not self._set_if(job_id, ("queued",), status="running", message="starting"):
                return  # cancelled while it waited
            last = [0.0]

            def progress(done: float, total: float, message: str = "") -> None:
                if event.is_set():
                    raise JobCancelled(job_id)
                now = time.monotonic()
                if now - last[0] < PROGRESS_INTERVAL and done < total:
                    return
                last[0] = now
                fraction = 0.0 if not total else max(0.0, min(1.0, float(done) / float(total)))
                # never 1.0 before the result is stored; a row no longer running was cancelled
                # (perhaps by another process of the service)
                if not self._set_if(job_id, ("running",), progress=min(fraction, 0.99), message=str(message)[:500]):
                    raise JobCancelled(job_id)

            try:
                result = work(progress)
            except JobCancelled:
                log.info("job %s cancelled", job_id)
                by = self._cancel_requests.pop(job_id, None)
                self._update(job_id, status="cancelled", message=f"cancelled by {by}" if by else "cancelled", error=None)
                return
            except JobFailure as exc:
                # the user's message; the cause's traceback for whoever runs the service (a
                # numpy "read-only" ValueError once reached users as a bad input, and no log)
                log.warning("job %s failed: %s", job_id, exc, exc_info=exc.__cause__ is not None)
                self._update(job_id, status="failed", error=str(exc), message="failed")
                return
            except Exception as exc:  # a fault: log it fully, tell the user briefly
                log.exception("job %s failed", job_id)
                self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}", message="failed")
                return
            # a cancel that came after the last step finds the result stored: it is done
            self._update(job_id, status="done", progress=1.0, message="done", result=result)
        except Exception:  # the database itself failed; nothing more we can record
            log.exception("job %s could not be recorded", job_id)
        finally:
            with self._cancel_lock:
                self._cancel_events.pop(job_id, None)
                self._cancel_requests.pop(job_id, None)
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return dict(row) if row else None

    def list(self, *, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        where = jobs.c.status == status if status else sa.true()
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(where)).scalar_one()
            rows = conn.execute(
                sa.select(jobs).where(where).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset)
            ).mappings().all()
        return total, [dict(r) for r in rows]
