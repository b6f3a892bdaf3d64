"""Settings of the HTTP service, on top of `plein.settings` (data folder, database, MLflow).

Read from the environment once, when the application is created:

- ``PLEIN_MAX_BODY_BYTES``: largest request body accepted (default 10 MiB; larger -> 413)
- ``PLEIN_AUDIT_SYNC``: 1 to commit each audit entry before answering (default: batched, see
  `api.audit`)
- ``PLEIN_JOB_WORKERS``: optimisations run at the same time in this process (default 1)
- ``PLEIN_COOKIE_SECURE``: 1 to mark the dashboard cookie Secure (behind HTTPS)
- ``PLEIN_API_PRELOAD``: 0 to build the matcher on first use instead of at start
- ``PLEIN_RESULT_CACHE_SIZE``: candidate lists kept in memory (default 8192)
- ``PLEIN_OTEL``: 1 for FastAPI's OpenTelemetry request spans and metrics
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from plein.settings import Settings, get_settings

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


@dataclass(frozen=True)
class ServiceConfig:
    settings: Settings
    max_body_bytes: int = 10 * 1024 * 1024
    audit_sync: bool = False
    job_workers: int = 1
    cookie_secure: bool = False
    #: build the in-memory matcher in the background at start-up
    preload: bool = True
    #: run database migrations when the app is created (`plein serve` does it once, before
    #: starting several workers, and switches it off in the workers)
    migrate: bool = True
    #: mark jobs left queued/running by a stopped process as failed (only one process may)
    recover_jobs: bool = True
    #: seconds a built matcher is reused before it is rebuilt from the database (changes made
    #: through this process's API invalidate it at once)
    matcher_max_age: float = 600.0
    #: candidate lists (and their JSON) kept in memory per process, least recently used out
    result_cache_size: int = 8192
    #: FastAPI's OpenTelemetry spans, metrics and logs per request (needs a configured provider)
    telemetry: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @classmethod
    def from_env(cls, settings: Settings | None = None, **overrides) -> ServiceConfig:
        settings = settings or get_settings()
        cfg = cls(
            settings=settings,
            max_body_bytes=_int("PLEIN_MAX_BODY_BYTES", 10 * 1024 * 1024),
            audit_sync=_flag("PLEIN_AUDIT_SYNC", False),
            job_workers=max(1, _int("PLEIN_JOB_WORKERS", 1)),
            cookie_secure=_flag("PLEIN_COOKIE_SECURE", False),
            preload=_flag("PLEIN_API_PRELOAD", True),
            migrate=_flag("PLEIN_API_MIGRATE", True),
            recover_jobs=_flag("PLEIN_API_RECOVER_JOBS", True),
            result_cache_size=max(0, _int("PLEIN_RESULT_CACHE_SIZE", 8192)),
            telemetry=_flag("PLEIN_OTEL", False),
        )
        return replace(cfg, **overrides) if overrides else cfg
