"""Operational tables: what the running system records about its own work.

These are not import entities (they have no CSV format): the optimiser stores `proposals`
that a manager approves or rejects, background work is tracked in `jobs`, the API keeps
hashed `api_keys` and writes every access to `audit_log`. They share the one `metadata` of
`plein.storage.tables`, so the same Alembic migrations create them.

Timestamps are stored as UTC without a zone in the database (SQLite has no zone type) and are
returned as timezone-aware UTC datetimes by `UTCDateTime`, on both backends.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from plein.storage.tables import metadata

PROPOSAL_MODES = ("full", "intake", "what_if")
PROPOSAL_STATUSES = ("pending", "approved", "rejected")
JOB_STATUSES = ("queued", "running", "cancelling", "done", "failed", "cancelled")
API_ROLES = ("case_system", "manager", "employer_services", "data_scientist", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A random id (uuid4 hex): unguessable, so ids in URLs reveal nothing."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and returned as aware UTC on every backend.

    Naive datetimes given to it are taken to be UTC already."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # defensive: a row written by another tool
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base bound to the one application metadata."""

    metadata = metadata
    type_annotation_map = {dict[str, Any]: sa.JSON, datetime: UTCDateTime}


class Proposal(Base):
    """A caseload (re)assignment proposal from the optimiser, awaiting a manager's decision.

    `fingerprint` is a hash of the caseload state the proposal was computed from: approving a
    proposal whose fingerprint no longer matches the current state must be refused (stale).
    `version` is SQLAlchemy's optimistic-locking counter: two managers deciding at once cannot
    both win."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(sa.Text)
    mode: Mapped[str] = mapped_column(sa.Text)  # PROPOSAL_MODES
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, default="pending", index=True)  # PROPOSAL_STATUSES
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    decided_by: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Job(Base):
    """A background job (e.g. an optimisation run) with its progress, for polling clients."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, default="queued", index=True)  # JOB_STATUSES
    progress: Mapped[float] = mapped_column(sa.Double, default=0.0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ApiKey(Base):
    """An API key. Only the sha256 of the secret is stored; `prefix` (its first 8 characters)
    finds the row and is safe to show."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    role: Mapped[str] = mapped_column(sa.Text)  # API_ROLES
    key_hash: Mapped[str] = mapped_column(sa.Text)
    prefix: Mapped[str] = mapped_column(sa.Text, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One line of the audit log: who did what to which resource, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.Text)
    resource: Mapped[str] = mapped_column(sa.Text)
    resource_id: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


#: Core tables, for code that prefers SQL expressions to the ORM
proposals: sa.Table = Proposal.__table__  # type: ignore[assignment]
jobs: sa.Table = Job.__table__  # type: ignore[assignment]
api_keys: sa.Table = ApiKey.__table__  # type: ignore[assignment]
audit_log: sa.Table = AuditEntry.__table__  # type: ignore[assignment]

OPERATIONAL_TABLES = ("proposals", "jobs", "api_keys", "audit_log")
