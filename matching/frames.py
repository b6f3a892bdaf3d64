"""Bring client and vacancy frames into the shape of `plein.schema`, whatever their source.

The matcher accepts a `Region`'s frames (already complete), frames read from CSV/Parquet by
`plein.storage.validate_frame` (complete, validated) and hand-made minimal frames (only `id`
and `skills`). `complete_frame` fills every missing column with its schema default and turns
CSV spellings (``a;b`` lists, ``cook=3`` histories, ``true``/``false``) into Python values, so
the index reads one shape. It never reads protected attributes: only the listed columns of
`plein.schema` are kept.

Strict validation of imported files is `plein.storage.validate_frame`'s job; this is the
tolerant in-memory counterpart, and it raises `ValueError` naming table, row and column on a
value it cannot read.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from plein import schema
from plein.domain import PROTECTED_ATTRIBUTES

_TRUE = {"true", "1", "yes", "y", "ja", "j", "t"}
_FALSE = {"false", "0", "no", "n", "nee", "f", ""}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, set)) else False
    except (TypeError, ValueError):
        return False


def _default(col: schema.Column, today: dt.date) -> Any:
    if col.default is schema.REQUIRED:
        return None
    if col.default is schema.IMPORT_DATE:
        return today
    if isinstance(col.default, list):
        return list(col.default)
    return col.default


def parse_list(value: Any) -> list[str]:
    """``"a; b;"`` -> ``["a", "b"]``; lists pass through (stripped); missing -> ``[]``."""
    if _missing(value):
        return []
    if isinstance(value, str):
        items = value.split(";")
    elif hasattr(value, "tolist") and not isinstance(value, str):
        items = value.tolist()
    else:
        items = list(value)
    return [str(v).strip() for v in items if not _missing(v) and str(v).strip()]


def parse_history(value: Any, where: str = "") -> list[dict]:
    """``"cook=3;kitchen porter=1.5"`` or a list of ``{"occupation", "years"}`` -> list of dicts."""
    if _missing(value):
        return []
    out: list[dict] = []
    items = value.split(";") if isinstance(value, str) else list(value)
    for item in items:
        if isinstance(item, dict):
            occ = str(item.get("occupation", "")).strip()
            years = item.get("years", 0.0)
        else:
            text = str(item).strip()
            if not text:
                continue
            occ, _, years = text.rpartition("=") if "=" in text else (text, "", "0")
            occ = occ.strip()
        try:
            years_f = float(years) if not _missing(years) else 0.0
        except (TypeError, ValueError):
            raise ValueError(f"{where}: work_history years {years!r} of {occ!r} is not a number") from None
        if occ:
            out.append({"occupation": occ, "years": max(years_f, 0.0)})
    return out


def _parse(col: schema.Column, value: Any, today: dt.date, where: str) -> Any:
    if _missing(value) or (isinstance(value, str) and value.strip() == "" and col.kind not in ("list", "history")):
        return _default(col, today)
    kind = col.kind
    try:
        if kind == "list":
            return parse_list(value)
        if kind == "history":
            return parse_history(value, where)
        if kind == "bool":
            if isinstance(value, str):
                v = value.strip().lower()
                if v in _TRUE:
                    return True
                if v in _FALSE:
                    return False
                raise ValueError
            return bool(value)
        if kind == "int":
            f = float(value)
            if f != int(f):
                raise ValueError
            return int(f)
        if kind == "float":
            return float(value)
        if kind == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, pd.Timestamp):
                return value.date()
            return dt.date.fromisoformat(str(value).strip()[:10])
        if kind == "enum":
            v = str(value).strip()
            if v not in col.choices:
                raise ValueError
            return v
        return str(value).strip()
    except (TypeError, ValueError):
        expected = f"one of {', '.join(col.choices)}" if kind == "enum" else f"a {kind}"
        raise ValueError(f"{where}: column {col.name!r} value {value!r} is not {expected}") from None


def complete_frame(table_name: str, df: pd.DataFrame, today: dt.date | None = None) -> pd.DataFrame:
    """Return a new frame with exactly the schema columns of `table_name`, parsed and defaulted.

    Rows without an `id` (or other REQUIRED column for the matcher: `id`) raise ValueError.
    Protected attributes are dropped even if present (they never reach the matcher).
    """
    table = schema.table(table_name)
    today = today or dt.date.today()
    df = df.rename(columns={a: c for a, c in table.aliases.items() if a in df.columns and c not in df.columns})
    if "id" in table.names and "id" not in df.columns:
        raise ValueError(f"{table_name}: the column 'id' is required (columns present: {list(df.columns)})")
    n = len(df)
    out: dict[str, list] = {}
    records = df.to_dict("list")
    for col in table.columns:
        if col.name in PROTECTED_ATTRIBUTES:
            continue
        if col.name in records:
            values = records[col.name]
            out[col.name] = [_parse(col, v, today, f"{table_name} row {i + 1}") for i, v in enumerate(values)]
        else:
            out[col.name] = [_default(col, today) for _ in range(n)]
    ids = out.get("id")
    if ids is not None:
        for i, v in enumerate(ids):
            if v is None or str(v) == "":
                raise ValueError(f"{table_name} row {i + 1}: column 'id' is empty")
        out["id"] = [str(v) for v in ids]
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    if "id" in frame.columns and frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"{table_name}: id {dup!r} occurs more than once")
    return frame


def read_table_file(table_name: str, path, taxonomy=None) -> pd.DataFrame:
    """Read a CSV or Parquet file of `table_name` in the documented import format.

    Reading and validation are the importer's own (`plein.storage.read_file` and
    `plein.storage.validate_frame`), so a file `plein import` accepts is accepted here with the
    same defaults from `plein.schema`, and a bad file is refused listing every error with
    file, row, column and reason. No database is touched.
    """
    from pathlib import Path

    from plein.storage import read_file, validate_frame

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{table_name} file not found: {path}")
    raw, issues = read_file(path)
    clean, more = validate_frame(table_name, raw, taxonomy=taxonomy, source=str(path))
    errors = [i for i in list(issues) + list(more) if getattr(i, "severity", "error") == "error"]
    if errors:
        shown = "\n  ".join(str(e) for e in errors[:20])
        extra = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ValueError(f"{path}: {len(errors)} error(s) in the {table_name} file:\n  {shown}{extra}")
    return complete_frame(table_name, clean)
