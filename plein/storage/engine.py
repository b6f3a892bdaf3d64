"""Database engines and sessions.

SQLite (one file under the data folder, WAL journal) is the embedded default so a laptop needs
no server; production points ``DATABASE_URL`` at PostgreSQL, which is driven by psycopg 3.

SQLite notes. Python's sqlite3 module starts transactions lazily and never around DDL, which
breaks all-or-nothing imports and atomic migrations. We switch its own transaction handling
off and emit ``BEGIN`` ourselves when SQLAlchemy begins a transaction (the recipe from the
SQLAlchemy SQLite dialect documentation), so a transaction covers every statement, reads
included. Each connection also gets ``foreign_keys=ON`` (off by default in SQLite),
``busy_timeout`` (wait for a concurrent writer instead of failing at once) and
``synchronous=NORMAL`` (safe with WAL, much faster than FULL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from plein.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str | URL) -> URL:
    """Accept the URL spellings people paste (``postgres://``, ``postgresql://``) and pick the
    psycopg 3 driver for PostgreSQL, the only PostgreSQL driver Plein installs."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    u = make_url(url)
    if u.get_backend_name() == "postgresql" and u.drivername != "postgresql+psycopg":
        u = u.set(drivername="postgresql+psycopg")
    return u


def get_engine(url: str | URL | None = None, **kwargs) -> Engine:
    """An engine for `url` (default: ``get_settings().database_url``).

    For a SQLite file the parent folder is created. Create one engine per process and reuse
    it: it holds the connection pool. Extra keyword arguments go to `sqlalchemy.create_engine`
    (e.g. ``connect_args={"options": "-csearch_path=myschema"}`` for PostgreSQL)."""
    u = normalise_url(url if url is not None else get_settings().database_url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        database = u.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs.pop("connect_args", {})}
        engine = sa.create_engine(u, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, in_memory=database in ("", ":memory:"))
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(u, **kwargs)
    raise ValueError(
        f"unsupported database {u.render_as_string(hide_password=True)!r}: Plein supports SQLite "
        "(sqlite:///path/plein.db) and PostgreSQL (postgresql+psycopg://user@host/db)"
    )


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # "BEGIN IMMEDIATE" (see write_transaction) takes the write lock at once
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


@contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A transaction that reads and then writes (imports, region saves, migrations).

    On SQLite it takes the write lock when it begins (``BEGIN IMMEDIATE``): a concurrent writer
    then waits (busy_timeout) for the whole transaction instead of failing halfway with
    "database is locked" when its read snapshot turns stale. On PostgreSQL it is a plain
    transaction (row locks and ON CONFLICT handle concurrency)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """An ORM session that commits when the block ends and rolls back if it raises.

    Objects stay readable after the commit (``expire_on_commit=False``), so a function can
    return what it created."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
