"""Fast bulk writes of validated rows, per database.

SQLAlchemy's executemany runs every value of every row through its type processors, which for
a few hundred thousand rows costs more than the database itself. The rows written here are
already validated and typed, so we serialise them once, column by column, and hand them to the
driver directly, inside the caller's transaction:

- SQLite: ``INSERT ... ON CONFLICT (key) DO UPDATE`` through the driver's executemany, in
  batches (dates as ISO text and booleans as 0/1: the forms SQLAlchemy itself stores, so
  reads through SQLAlchemy are unaffected).
- PostgreSQL: ``COPY`` into a temporary staging table (dropped at commit), then one
  ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE``. COPY is PostgreSQL's bulk path and is
  an order of magnitude faster than row-wise inserts.

Both keep the import's semantics: new rows get every column, existing rows are updated only in
`update_columns` (none: existing rows are left alone).
"""

from __future__ import annotations

import json
import uuid
from json.encoder import encode_basestring
from collections.abc import Callable

import pandas as pd
from sqlalchemy.engine import Connection

from plein import schema
from plein.storage import codec

#: rows per executemany call (SQLite) or per progress report (PostgreSQL COPY)
BATCH_ROWS = 5_000

Progress = Callable[[float, float, str], None]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _json_strings(v: list[str]) -> str:
    """A list of strings as JSON, with the C string encoder and no per-call encoder set-up
    (json.dumps with options builds a new encoder for every value)."""
    return "[" + ",".join(map(encode_basestring, v)) + "]"


def _column_values(col: schema.Column, s: pd.Series, dialect: str) -> list:
    values = codec.python_values(col, s)
    if col.kind == "list":
        return [_json_strings(v) for v in values]
    if col.kind == "history":
        return [_ENCODER.encode(v) for v in values]
    if dialect == "sqlite":
        if col.kind == "date":
            return [None if v is None else v.isoformat() for v in values]
        if col.kind == "bool":
            return [int(v) for v in values]
    return values


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conflict_clause(t: schema.Table, update_columns: list[str]) -> str:
    key = ", ".join(_q(k) for k in t.key)
    updates = [c for c in update_columns if c not in t.key]
    if not updates:
        return f"ON CONFLICT ({key}) DO NOTHING"
    sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in updates)
    return f"ON CONFLICT ({key}) DO UPDATE SET {sets}"


def write_rows(
    conn: Connection,
    entity: str,
    df: pd.DataFrame,
    update_columns: list[str],
    progress: Progress,
    message: str,
    done0: float = 0,
    total: float | None = None,
    fresh: bool = False,
) -> None:
    """Upsert the typed rows of `df` (all schema columns) into `entity` on `conn`.

    `fresh`: the table was emptied in this transaction, so plain inserts (and on PostgreSQL a
    COPY straight into the table) suffice."""
    if not len(df):
        return
    t = schema.table(entity)
    dialect = conn.dialect.name
    names = t.names
    columns = [_column_values(t.column(n), df[n], dialect) for n in names]
    rows = list(zip(*columns))
    total = total if total is not None else len(rows)
    col_list = ", ".join(_q(n) for n in names)
    conflict = "" if fresh else _conflict_clause(t, update_columns)
    if dialect == "postgresql" and fresh:
        _copy(conn, entity, names, rows, progress, message, done0, total)
    elif dialect == "sqlite":
        sql = f"INSERT INTO {_q(entity)} ({col_list}) VALUES ({', '.join('?' for _ in names)}) {conflict}"
        for start in range(0, len(rows), BATCH_ROWS):
            conn.exec_driver_sql(sql, rows[start : start + BATCH_ROWS])
            progress(done0 + min(start + BATCH_ROWS, len(rows)), total, message)
    elif dialect == "postgresql":
        _copy_upsert(conn, entity, names, rows, conflict, progress, message, done0, total)
    else:  # pragma: no cover - get_engine refuses other databases
        raise ValueError(f"bulk writes are not implemented for {dialect}")


def _copy_upsert(conn, entity, names, rows, conflict, progress, message, done0, total) -> None:
    stage = f"_plein_stage_{uuid.uuid4().hex[:12]}"
    col_list = ", ".join(_q(n) for n in names)
    raw = conn.connection.driver_connection  # the psycopg connection, in our transaction
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {_q(stage)} (LIKE {_q(entity)} INCLUDING DEFAULTS) ON COMMIT DROP")
        with cur.copy(f"COPY {_q(stage)} ({col_list}) FROM STDIN") as copy:
            for start in range(0, len(rows), BATCH_ROWS):
                for row in rows[start : start + BATCH_ROWS]:
                    copy.write_row(row)
                progress(done0 + min(start + BATCH_ROWS, len(rows)), total, message)
        cur.execute(f"INSERT INTO {_q(entity)} ({col_list}) SELECT {col_list} FROM {_q(stage)} {conflict}")
        cur.execute(f"DROP TABLE {_q(stage)}")


def _copy(conn, entity, names, rows, progress, message, done0, total) -> None:
    col_list = ", ".join(_q(n) for n in names)
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy(f"COPY {_q(entity)} ({col_list}) FROM STDIN") as copy:
            for start in range(0, len(rows), BATCH_ROWS):
                for row in rows[start : start + BATCH_ROWS]:
                    copy.write_row(row)
                progress(done0 + min(start + BATCH_ROWS, len(rows)), total, message)
