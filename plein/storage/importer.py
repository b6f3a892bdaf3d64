"""Validated, all-or-nothing, idempotent imports; exports; loading and saving a whole Region.

An import runs in one database transaction: validate every row (`validate_frame`), check
references against the database (a client's coach must exist), and only when nothing at all is
wrong, upsert by key. Any error, from validation or from the database, rolls everything back, so
a broken file leaves the database exactly as it was. Re-importing the same file changes nothing
(rows equal to what is stored are not even written).

Upsert semantics: a new row gets every column, with the documented default where the file has
none. An existing row is updated only in the columns the file has: importing ``id,ladder_rung``
sets the rung of known clients and leaves their coach, skills and intake date alone.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from plein import schema
from plein.progress import ProgressCallback, no_progress
from plein.region import Region
from plein.settings import get_settings
from plein.storage import bulk, codec
from plein.storage._gc import gc_paused
from plein.storage.engine import write_transaction
from plein.storage.tables import sql_table
from plein.storage.validation import ValidationIssue, errors_only, validate_frame, validate_rows, warnings_only



def _bulk(fn):
    """Run `fn` with the garbage collector paused (see `plein.storage._gc`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper
AUTO = "auto"


class ImportValidationError(ValueError):
    """The input has errors; nothing was written. `errors` lists every one of them
    (`ValidationIssue`: file, row, column, value, reason); the message prints them all."""

    def __init__(self, errors: list[ValidationIssue], entity: str, source: str, warnings: list[ValidationIssue] | None = None):
        self.errors = errors
        self.warnings = warnings or []
        self.entity = entity
        self.source = source
        n = len(errors)
        head = f"{source}: {n} error{'s' if n != 1 else ''} in {entity}; nothing was imported"
        super().__init__("\n".join([head, *(f"  {e}" for e in errors)]))


@dataclass
class ImportReport:
    """What an import did. `unchanged` rows matched what was stored and were not written."""

    entity: str
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    warnings: list[ValidationIssue] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the API)."""
        return {
            "entity": self.entity, "source": self.source, "rows": self.rows, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "seconds": round(self.seconds, 3),
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def __str__(self) -> str:
        text = (
            f"{self.source} -> {self.entity}: {self.rows} rows, {self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged ({self.seconds:.1f} s)"
        )
        if self.warnings:
            text += f"; {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return text


# ---------------------------------------------------------------------------------------------
# taxonomy


@functools.lru_cache(maxsize=4)
def _load_taxonomy(data_dir: str, stamp: float) -> Any:
    try:
        from plein.taxonomy import Taxonomy
    except ImportError:
        return None
    return Taxonomy.load()


def resolve_taxonomy(taxonomy: Any = AUTO) -> Any:
    """``"auto"``: the installed taxonomy (`Taxonomy.load()`, cached per data folder) when the
    taxonomy package is present, else None; otherwise `taxonomy` itself (None: no resolution)."""
    if isinstance(taxonomy, str) and taxonomy == AUTO:
        data_dir = get_settings().data_dir
        folder = data_dir / "taxonomy"
        # the folder's modification time: a taxonomy imported meanwhile is picked up
        stamp = folder.stat().st_mtime if folder.is_dir() else 0.0
        return _load_taxonomy(str(data_dir), stamp)
    return taxonomy


# ---------------------------------------------------------------------------------------------
# references


#: up to this many distinct values, look them up with IN (...) rather than reading every id
SMALL_LOOKUP = 1_000


def _ids(conn: Connection, table_name: str, wanted: set | None = None) -> set:
    """The ids of `table_name` (all, or those among `wanted` when that set is small: a single
    API create must not read 100k client ids)."""
    t = schema.table(table_name)
    column = sql_table(table_name).c[t.key[0]]
    query = sa.select(column)
    if wanted is not None and len(wanted) <= SMALL_LOOKUP:
        if not wanted:
            return set()
        query = query.where(column.in_(sorted(wanted)))
    return set(conn.execute(query).scalars())


def _stored_values(conn: Connection, table_name: str, ids: list[str], *columns: str) -> dict[str, Any]:
    """{id: value of `columns` (a tuple when several)} for the stored rows among `ids`, read in
    chunks of `SMALL_LOOKUP` (an IN list that stays a reasonable statement)."""
    tbl = sql_table(table_name)
    stored: dict[str, Any] = {}
    for i in range(0, len(ids), SMALL_LOOKUP):
        chunk = ids[i: i + SMALL_LOOKUP]
        for row in conn.execute(sa.select(tbl.c.id, *(tbl.c[c] for c in columns)).where(tbl.c.id.in_(chunk))):
            stored[str(row[0])] = row[1] if len(columns) == 1 else tuple(row[1:])
    return stored


def case_variants(conn: Connection, table_name: str, ids: set) -> dict[str, str]:
    """{id: the stored id it equals but for case} for the ids among `ids` that are not stored
    as given. Ids are case-sensitive, so such an id would be a second row, or a reference to
    nothing; case systems and spreadsheets do change case. A large set reads every id once."""
    if not ids:
        return {}
    column = sql_table(table_name).c[schema.table(table_name).key[0]]
    lowered = {str(v).lower() for v in ids}
    if len(lowered) > SMALL_LOOKUP:
        stored = {v for v in conn.execute(sa.select(column)).scalars() if str(v).lower() in lowered}
    else:
        stored = set(conn.execute(sa.select(column).where(sa.func.lower(column).in_(sorted(lowered)))).scalars())
    by_lower = {str(v).lower(): str(v) for v in stored}
    return {v: by_lower[str(v).lower()] for v in ids if v not in stored and str(v).lower() in by_lower}


def _case_only_ids(conn: Connection, entity: str, clean: pd.DataFrame, row_numbers: np.ndarray, source: str) -> list[ValidationIssue]:
    """Errors for new ids that differ from a stored id, or from another row's id in the same
    input, only in case: with case-sensitive ids each would become a second client (vacancy,
    coach...) beside the first."""
    t = schema.table(entity)
    if len(t.key) != 1 or t.key[0] not in clean or not len(clean):
        return []
    key = t.key[0]
    ids = clean[key].astype(object).tolist()
    variants = case_variants(conn, entity, set(ids))
    issues: list[ValidationIssue] = []
    first: dict[str, str] = {}
    for i, v in enumerate(ids):
        v = str(v)
        other = variants.get(v)
        where = "the stored"
        if other is None:
            seen = first.setdefault(v.lower(), v)
            if seen != v:
                other, where = seen, "another row's"
        if other is not None:
            issues.append(ValidationIssue(
                source, int(row_numbers[i]), key, v,
                f"{key} {v!r} differs from {where} {other!r} only in upper/lower case: ids are case-sensitive, so this "
                f"would be a second row of {entity} beside it; write it as {other!r}",
            ))
    return issues


def check_references(
    conn: Connection, entity: str, values: dict[str, pd.Series], row_numbers: np.ndarray, source: str,
    pending: set | None = None,
) -> list[ValidationIssue]:
    """Errors for references to rows the database does not hold.

    `values`: column -> one value per input row (a list for list columns; None where empty).
    `pending`: keys of `entity` being imported in the same go (a reference to itself is fine)."""
    t = schema.table(entity)
    issues: list[ValidationIssue] = []
    for col in t.columns:
        if not col.ref or col.name not in values:
            continue
        column = values[col.name]
        if col.kind == "list":
            wanted = {v for cell in column.tolist() for v in (cell or [])}
        else:
            wanted = set(column.dropna().astype(object).tolist())
        known = _ids(conn, col.ref, wanted) | (pending or set() if col.ref == entity else set())
        if col.kind == "list":
            for i, cell in enumerate(column.tolist()):
                missing = [v for v in cell or [] if v not in known]
                if missing:
                    issues.append(ValidationIssue(
                        source, int(row_numbers[i]), col.name, ";".join(missing),
                        f"no {col.ref} with id {', '.join(map(repr, missing))} (import {col.ref} first)",
                    ))
        else:
            present = column.notna().to_numpy()
            # isin on an object column hashes; on the Arrow string dtype it converts the whole
            # (large) id set value by value.
            missing = present & ~column.astype(object).isin(known).to_numpy()
            variants = case_variants(conn, col.ref, {column.iat[i] for i in np.flatnonzero(missing)}) if missing.any() else {}
            for i in np.flatnonzero(missing):
                v = column.iat[i]
                hint = (f"ids are case-sensitive: the stored one is {variants[v]!r}" if v in variants
                        else f"import {col.ref} first")
                issues.append(ValidationIssue(
                    source, int(row_numbers[i]), col.name, str(v), f"no {col.ref} with id {v!r} ({hint})"
                ))
    return issues


def _derive_from_database(conn: Connection, entity: str, clean: pd.DataFrame, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Defaults that need other tables: a coach's office coordinates default to those of the
    first municipality the coach serves. `rows`: only these (a boolean mask)."""
    if entity != "coaches" or not len(clean):
        return clean
    need = clean["lat"].isna() & clean["lon"].isna() & clean["municipalities"].map(bool)
    if rows is not None:
        need &= rows
    if not need.any():
        return clean
    m = sql_table("municipalities")
    coords = {r.id: (r.lat, r.lon) for r in conn.execute(sa.select(m.c.id, m.c.lat, m.c.lon))}
    clean = clean.copy()
    for i in np.flatnonzero(need.to_numpy()):
        lat, lon = coords.get(clean["municipalities"].iat[i][0], (None, None))
        if lat is not None and lon is not None:
            clean.iloc[i, clean.columns.get_loc("lat")] = lat
            clean.iloc[i, clean.columns.get_loc("lon")] = lon
    return clean


# ---------------------------------------------------------------------------------------------
# reading and writing tables


@_bulk
def read_table(
    conn_or_engine: Connection | Engine, entity: str, columns: list[str] | None = None, where=None
) -> pd.DataFrame:
    """An entity table (`where`: an optional SQLAlchemy condition) as a typed frame, ordered by
    key (code-point order, the same on every backend)."""
    t = schema.table(entity)
    tbl = sql_table(entity)
    names = columns or t.names
    # JSON columns come back as text and are decoded a column at a time (one json.loads call
    # per column instead of one per cell: several times faster for large tables).
    json_cols = [n for n in names if t.column(n).kind in ("list", "history")]
    selected = [sa.cast(tbl.c[n], sa.Text).label(n) if n in json_cols else tbl.c[n] for n in names]
    query = sa.select(*selected)
    if where is not None:
        query = query.where(where)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = conn_or_engine.execute(query).all()
    if json_cols and rows:
        columns_data = [list(c) for c in zip(*rows)]
        for n in json_cols:
            i = names.index(n)
            columns_data[i] = _decode_json_column(columns_data[i])
        rows = list(zip(*columns_data))
    frame = codec.frame_from_rows(entity, rows, names)
    keys = [k for k in t.key if k in names]
    if keys and len(frame):
        # Sorted here rather than in SQL: PostgreSQL orders text by its locale, SQLite by code
        # point; pandas gives the same order on both.
        frame = frame.sort_values(keys, kind="stable", ignore_index=True)
    return frame


def _decode_json_column(texts: list) -> list:
    return json.loads("[" + ",".join("null" if v is None else v for v in texts) + "]")


def _equal(a: pd.Series, b: pd.Series, kind: str) -> np.ndarray:
    if kind in ("list", "history"):
        return np.fromiter((x == y for x, y in zip(a.tolist(), b.tolist())), dtype=bool, count=len(a))
    if kind == "date":
        return np.fromiter(
            ((x is None and y is None) or (x is not None and y is not None and x == y) for x, y in zip(a.tolist(), b.tolist())),
            dtype=bool, count=len(a),
        )
    both_missing = (a.isna() & b.isna()).to_numpy()
    same = (a.astype(object) == b.astype(object)).fillna(False).to_numpy(dtype=bool)
    return same | both_missing


def _changes(conn: Connection, entity: str, clean: pd.DataFrame, given: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(is_new, is_changed) per row of `clean`, compared with the stored rows over the given
    columns."""
    t = schema.table(entity)
    n = len(clean)
    key_cols = list(t.key)
    compare = [c for c in given if c not in t.key]
    where = None
    if 0 < n <= SMALL_LOOKUP:
        tbl = sql_table(entity)
        keys = list(clean[key_cols].itertuples(index=False, name=None))
        if len(key_cols) == 1:
            where = tbl.c[key_cols[0]].in_([k[0] for k in keys])
        else:
            where = sa.tuple_(*(tbl.c[k] for k in key_cols)).in_(keys)
    stored = read_table(conn, entity, key_cols + compare, where=where)
    if not len(stored):
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    stored_pos = {k: i for i, k in enumerate(stored[key_cols].itertuples(index=False, name=None))}
    positions = np.fromiter(
        (stored_pos.get(k, -1) for k in clean[key_cols].itertuples(index=False, name=None)), dtype=np.int64, count=n
    )
    is_new = positions < 0
    old = np.flatnonzero(~is_new)
    changed = np.zeros(n, dtype=bool)
    if len(old) and compare:
        same = np.ones(len(old), dtype=bool)
        for c in compare:
            a = clean[c].iloc[old].reset_index(drop=True)
            b = stored[c].iloc[positions[old]].reset_index(drop=True)
            same &= _equal(a, b, t.column(c).kind)
        changed[old] = ~same
    return is_new, changed


def _coach_changes(conn: Connection, clean: pd.DataFrame, row_numbers: np.ndarray, source: str) -> list[ValidationIssue]:
    """Errors for rows that would give a stored client another coach (or none, or one where it
    had none): only an approved caseload proposal does that."""
    ids = clean["id"].astype(str).tolist()
    stored = _stored_values(conn, "clients", ids, "coach_id")
    issues = []
    for i, (cid, new) in enumerate(zip(ids, clean["coach_id"].tolist())):
        if cid not in stored:
            continue
        old, new = stored[cid] or None, (None if new is None or new != new else str(new))
        if old != new:
            issues.append(ValidationIssue(
                source, int(row_numbers[i]), "coach_id", new,
                f"client {cid!r} is with {old or 'no coach'}: a client's coach changes only by a caseload proposal "
                "a manager approves (POST /v1/caseload/optimisations; mode 'intake' places clients without a coach, "
                "and a pin names the coach)",
            ))
    return issues


def _outcome_dates(conn: Connection, clean: pd.DataFrame, row_numbers: np.ndarray, source: str) -> list[ValidationIssue]:
    """Errors for outcome rows whose date the vacancy rules out (`plein.domain.outcome_date_problem`:
    a day to come, before the vacancy opened, a step forward after it closed), the same rule as
    the API's and the dashboard's."""
    from plein.domain import outcome_date_problem

    window = _stored_values(conn, "vacancies", sorted(set(clean["vacancy_id"].astype(str))), "open_date", "close_date")
    issues = []
    for i, (vid, stage, when) in enumerate(zip(clean["vacancy_id"].astype(str), clean["stage"], clean["date"])):
        if when is None or when != when or vid not in window:
            continue  # a missing date or vacancy is reported by the validator and the references
        problem = outcome_date_problem(vid, str(stage), when, *window[vid])
        if problem:
            issues.append(ValidationIssue(source, int(row_numbers[i]), "date", str(when), problem))
    return issues


def _stored_periods(conn: Connection, table: schema.Table, clean: pd.DataFrame, given: list[str], row_numbers: np.ndarray,
                    source: str) -> list[ValidationIssue]:
    """A period given half (a vacancy's close_date without its open_date, or the reverse) is
    checked against the stored other half: the validator sees only the input."""
    issues = []
    for first, last in table.periods:
        if (first in given) == (last in given) or not len(clean):
            continue
        have, other = (last, first) if last in given else (first, last)
        ids = clean["id"].astype(str).tolist()
        stored = _stored_values(conn, table.name, ids, other)
        for i, (rid, value) in enumerate(zip(ids, clean[have].tolist())):
            known = stored.get(rid)
            if value is None or value != value or known is None:
                continue
            start, end = (known, value) if have == last else (value, known)
            if pd.Timestamp(end) < pd.Timestamp(start):
                issues.append(ValidationIssue(
                    source, int(row_numbers[i]), have, str(value),
                    f"{last} {end} comes before the stored {first} {start}" if have == last
                    else f"{first} {start} comes after the stored {last} {end}"))
    return issues


# ---------------------------------------------------------------------------------------------
# imports


@_bulk
def import_frame(
    engine: Engine,
    entity: str,
    df: pd.DataFrame,
    source: str = "<data>",
    taxonomy: Any = AUTO,
    row_numbers=None,
    progress: ProgressCallback | None = None,
    pre_issues: list[ValidationIssue] | None = None,
) -> ImportReport:
    """Validate `df` as entity rows and upsert them by key, all or nothing.

    Raises `ImportValidationError` (every error, nothing written) when any row is wrong or
    refers to something the database does not hold. `taxonomy`: ``"auto"`` uses the installed
    taxonomy to resolve skills; pass a `Taxonomy`, or None to keep skills as given."""
    started = time.perf_counter()
    cb = progress or no_progress
    t = schema.table(entity)
    cb(0, 1, f"validating {entity}")
    validated = validate_rows(entity, df, taxonomy=resolve_taxonomy(taxonomy), source=source, row_numbers=row_numbers)
    clean = validated.clean
    issues = list(pre_issues or []) + validated.issues
    errors = errors_only(issues)
    warnings = warnings_only(issues)
    given = clean.attrs.get("given_columns", t.names)
    clean_rows = clean.attrs.get("row_numbers", validated.row_numbers)  # the input row of each clean row
    with write_transaction(engine) as conn:
        errors += check_references(conn, entity, validated.references, validated.row_numbers, source)
        errors += _case_only_ids(conn, entity, clean, clean_rows, source)
        if entity == "clients" and "coach_id" in given and len(clean):
            # a caseload change is a manager's decision: an existing client's coach changes only
            # by an approved proposal, which also writes the assignment history (checked on the
            # rows that are otherwise valid, and reported with every other error)
            errors += _coach_changes(conn, clean, clean_rows, source)
        if t.periods:
            errors += _stored_periods(conn, t, clean, given, clean_rows, source)
        if entity == "outcomes" and len(clean):
            errors += _outcome_dates(conn, clean, clean_rows, source)
        if errors:
            order = {c: i for i, c in enumerate(t.names)}
            errors.sort(key=lambda e: (e.row is not None, e.row or 0, order.get(e.column or "", len(order))))
            raise ImportValidationError(errors, entity, source, warnings)
        # Defaults from other tables: where the input has the column (blank cells mean
        # "default"), for every row; otherwise only for new rows, leaving stored values alone.
        if {"lat", "lon"} & set(given):
            clean = _derive_from_database(conn, entity, clean)
        is_new, changed = _changes(conn, entity, clean, given)
        if not {"lat", "lon"} & set(given):
            clean = _derive_from_database(conn, entity, clean, rows=is_new)
        write = is_new | changed
        update_cols = [c for c in given if c not in t.key]
        total = int(write.sum())
        cb(0, max(total, 1), f"writing {entity}")
        # New rows are inserted whole; changed rows update only the given columns.
        rows = clean if write.all() else clean[write].reset_index(drop=True)
        bulk.write_rows(conn, entity, rows, update_cols, cb, f"writing {entity}", 0, total)
    return ImportReport(
        entity=entity,
        source=source,
        rows=len(clean),
        inserted=int(is_new.sum()),
        updated=int(changed.sum()),
        unchanged=int(len(clean) - is_new.sum() - changed.sum()),
        warnings=warnings,
        seconds=time.perf_counter() - started,
    )


@_bulk
def import_file(
    engine: Engine,
    entity: str,
    path: str | Path,
    format: str | None = None,
    taxonomy: Any = AUTO,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a CSV or Parquet file (format from the extension unless given). See
    `import_frame`. A file that cannot be read at all raises `ImportValidationError` too."""
    schema.table(entity)
    path = Path(path)
    try:
        df, shape_issues = codec.read_file(path, format)
    except codec.FileFormatError as exc:
        raise ImportValidationError([ValidationIssue(str(path), None, None, None, str(exc))], entity, str(path)) from None
    return import_frame(engine, entity, df, source=str(path), taxonomy=taxonomy, progress=progress,
                        pre_issues=shape_issues)


@_bulk
def export_file(engine: Engine, entity: str, path: str | Path, format: str | None = None) -> int:
    """Write a whole entity to CSV or Parquet (ordered by key), in the form `import_file`
    reads back. Returns the number of rows."""
    df = read_table(engine, entity)
    codec.write_file(entity, df, path, format)
    return len(df)


# ---------------------------------------------------------------------------------------------
# whole regions


@_bulk
def load_region(engine: Engine, include_protected: bool = False) -> Region:
    """Every entity of the database as a `Region` (typed frames, ordered by key).

    Protected attributes are left out unless `include_protected` is True: only fairness
    audits ask for them, explicitly, so no feature code can read them by accident
    (`region.client_protected` is then an empty frame with the schema's columns)."""
    frames = {}
    with engine.connect() as conn:
        for name in schema.TABLES:
            if name == "client_protected" and not include_protected:
                frames[name] = codec.frame_from_rows(name, [])
                continue
            frames[name] = read_table(conn, name)
    return Region(**frames)


@_bulk
def save_region(engine: Engine, region: Region, progress: ProgressCallback | None = None) -> dict[str, int]:
    """Replace the region tables of the database with `region`, in one transaction.

    Every frame is validated first (the same validator as imports: a malformed region raises
    `ImportValidationError` listing all errors before anything is touched); then all region
    tables are emptied and bulk-inserted in dependency order, with references checked.
    Operational tables (proposals, jobs, keys, audit log) are kept. Returns rows per table."""
    cb = progress or no_progress
    frames = region.tables()
    cleaned: dict[str, pd.DataFrame] = {}
    errors: list[ValidationIssue] = []
    total_rows = sum(len(df) for df in frames.values())
    done = 0
    for name, df in frames.items():
        cb(done, 2 * total_rows, f"validating {name}")
        clean, issues = validate_frame(name, df, taxonomy=None, source=f"region.{name}")
        errors += errors_only(issues)
        cleaned[name] = clean
        done += len(df)
    if errors:
        raise ImportValidationError(errors, "region", "region")
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # one TRUNCATE of all region tables: no per-row delete and foreign-key work
            names = ", ".join(f'"{name}"' for name in schema.TABLES)
            conn.execute(sa.text(f"TRUNCATE {names}"))
        else:
            for name in reversed(list(schema.TABLES)):
                conn.execute(sa.delete(sql_table(name)))
        for name, clean in cleaned.items():
            refs = {c.name: clean[c.name] for c in schema.table(name).columns if c.ref}
            ref_errors = check_references(conn, name, refs, np.arange(1, len(clean) + 1), f"region.{name}")
            if ref_errors:
                raise ImportValidationError(ref_errors, name, f"region.{name}")
            if not len(clean):
                continue
            clean = _derive_from_database(conn, name, clean)
            bulk.write_rows(conn, name, clean, [], cb, f"saving {name}", done, 2 * total_rows, fresh=True)
            done += len(clean)
    cb(2 * total_rows, 2 * total_rows, "saved")
    return {name: len(df) for name, df in cleaned.items()}
