"""The audit log: every read of client data (and every decision) becomes an `audit_log` row:
who (the key's name and role), when (UTC), what (action, resource, id, detail).

Why a writer object: the candidate-list endpoint reads client data hundreds of times a
second. Writing each entry in its own transaction would make the audit log the bottleneck
on SQLite, so by default entries are queued and written in batches by one background thread
every `flush_seconds` (0.2 s), and always on shutdown. With ``sync=True`` (setting
``PLEIN_AUDIT_SYNC=1``) each entry is committed before the response is sent: stricter, at a
throughput cost. Either way no request's data leaves the service without its entry queued.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.auth import Principal
from plein.storage.operational import audit_log, utcnow

log = logging.getLogger("plein.api.audit")

#: at most this many client ids are listed in one entry's detail; the count is always exact
MAX_IDS_IN_DETAIL = 500


class AuditLog:
    def __init__(self, engine: Engine, *, sync: bool = False, flush_seconds: float = 0.2) -> None:
        self.engine = engine
        self.sync = sync
        self.flush_seconds = flush_seconds
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        self._stopped = threading.Event()

    # -- writing ------------------------------------------------------------------------
    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        resource_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Log one access. `detail` should say what was seen (e.g. which client ids)."""
        row = {
            "at": utcnow(),
            "actor": principal.name,
            "role": principal.role.value,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "detail": detail,
        }
        if self.sync:
            self._write([row])
        else:
            self._ensure_thread()
            self._queue.put(row)

    def record_clients(
        self, principal: Principal, action: str, client_ids: list[str], context: str, extra: dict[str, Any] | None = None
    ) -> None:
        """Log a read that exposed several clients (a list, a candidate list, a worklist)."""
        ids = [str(c) for c in client_ids]  # a copy: callers may pass cached tuples
        detail = {"context": context, "count": len(ids), "client_ids": ids[:MAX_IDS_IN_DETAIL], **(extra or {})}
        if len(ids) > MAX_IDS_IN_DETAIL:
            detail["truncated"] = True
        self.record(principal, action, "client", ids[0] if len(ids) == 1 else None, detail)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        from api.service import retry_on_lock

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(audit_log.insert(), rows)

        retry_on_lock(write)

    # -- background flushing ---------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._flush_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stopped.clear()
                    self._thread = threading.Thread(target=self._run, name="plein-audit-writer", daemon=True)
                    self._thread.start()

    def _drain(self) -> list[dict[str, Any]]:
        rows = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return rows
            if item is not None:
                rows.append(item)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._stopped.wait(self.flush_seconds)
            try:
                self.flush()
            except Exception:  # keep the writer alive; the entries are retried next round
                log.exception("audit log flush failed; retrying")

    def flush(self) -> int:
        """Write every queued entry now; returns how many were written."""
        with self._flush_lock:
            rows = self._drain()
            if rows:
                try:
                    self._write(rows)
                except Exception:
                    for row in rows:  # put them back so nothing is lost
                        self._queue.put(row)
                    raise
            return len(rows)

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    # -- reading ---------------------------------------------------------------------------
    def query(
        self,
        *,
        actor: str | None = None,
        resource: str | None = None,
        resource_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        client_id: str | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, entries newest first) matching the filters. `client_id`: every entry that
        exposed that client, its own reads and changes and the lists it appeared in (their
        `detail.client_ids`): who saw client X, for an access request under the AVG (GDPR).
        A list of more than `MAX_IDS_IN_DETAIL` clients names only its first ones."""
        self.flush()
        conds = []
        if client_id:
            quoted = '"' + client_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
            conds.append(sa.and_(audit_log.c.resource == "client", sa.or_(
                audit_log.c.resource_id == client_id,
                sa.cast(audit_log.c.detail, sa.Text).like(f"%{quoted}%", escape="\\"))))
        if actor:
            conds.append(audit_log.c.actor == actor)
        if resource:
            conds.append(audit_log.c.resource == resource)
        if resource_id:
            conds.append(audit_log.c.resource_id == resource_id)
        if since:
            conds.append(audit_log.c.at >= since)
        where = sa.and_(sa.true(), *conds)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(where)).scalar_one()
            rows = conn.execute(
                sa.select(audit_log).where(where).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
            ).mappings().all()
        return total, [dict(r) for r in rows]
