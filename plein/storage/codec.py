"""Files and rows: reading CSV and Parquet into frames, writing frames back, and converting
typed frames to database rows and back.

File conventions (documented column by column in docs/import-formats.md):

- CSV: UTF-8 (a byte-order mark is fine), a header row, ``,`` as delimiter (``;`` and tab are
  detected from the header, as Dutch spreadsheets write ``;``). Lists are written ``a;b;c``
  (quote the cell when the delimiter is ``;``), work history ``occupation=years;...``, booleans
  ``true``/``false``, dates ``YYYY-MM-DD``, empty cells for unknown.
- Parquet: one column per schema column with its natural Arrow type: lists as
  ``list<string>``, history as ``list<struct<occupation: string, years: double>>``, dates as
  ``date32``.

Reading keeps every CSV cell as text: typing is the validator's job, so that it can say which
cell was wrong. Row numbers are the line numbers a person sees in an editor (the header is
line 1), also when quoted cells span lines.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from plein import schema
from plein.storage.validation import ValidationIssue, typed_series

FORMATS = ("csv", "parquet")
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class FileFormatError(ValueError):
    """The file cannot be read at all (wrong format, not UTF-8, no header)."""


def detect_format(path: str | Path, format: str | None = None) -> str:
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise FileFormatError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise FileFormatError(
            f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
            "name the file .csv or .parquet, or pass --format"
        )
    return _SUFFIXES[suffix]


# ---------------------------------------------------------------------------------------------
# reading


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: str | Path, delimiter: str | None = None) -> tuple[pd.DataFrame, list[ValidationIssue]]:
    """Read a CSV file as text cells. Returns the frame (``attrs["row_numbers"]`` = line numbers)
    and the problems of the file's shape (rows with too many or too few fields), which are left
    out of the frame."""
    path = Path(path)
    source = str(path)
    issues: list[ValidationIssue] = []
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            if not first.strip():
                raise FileFormatError(f"{source}: the file is empty or its first line is blank (a header row is needed)")
            delim = delimiter or _sniff_delimiter(first)
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delim)
            header = next(reader)
            width = len(header)
            records: list[list[str]] = []
            lines: list[int] = []
            previous = reader.line_num
            for record in reader:
                line = previous + 1
                previous = reader.line_num
                if len(record) != width:
                    if not any(cell.strip() for cell in record):
                        continue  # a blank line
                    issues.append(ValidationIssue(
                        source, line, None, None,
                        f"has {len(record)} fields but the header has {width} "
                        f"(delimiter {delim!r}; quote cells that contain it)",
                    ))
                    continue
                records.append(record)
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{source}: not UTF-8 text (byte {exc.start}); save the file as 'CSV UTF-8'"
        ) from None
    except csv.Error as exc:
        raise FileFormatError(f"{source}: not a readable CSV file ({exc})") from None

    seen: dict[str, int] = {}
    keep_positions = []
    for pos, name in enumerate(header):
        key = name.strip().lower()
        if key and key in seen:
            issues.append(ValidationIssue(source, None, name.strip(), None, f"column appears twice (positions {seen[key] + 1} and {pos + 1})"))
            continue
        seen[key] = pos
        keep_positions.append(pos)
    columns = list(zip(*records)) if records else [() for _ in header]
    data = {}
    for pos in keep_positions:
        label = header[pos] if header[pos].strip() else f"unnamed: {pos}"
        data[label] = pd.Series(columns[pos], dtype="str")
    df = pd.DataFrame(data)
    df.attrs["row_numbers"] = np.asarray(lines, dtype=np.int64)
    df.attrs["source"] = source
    return df, issues


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file with its own types; rows are numbered 1, 2, 3..."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    df = table.to_pandas(date_as_object=True)
    df.attrs["row_numbers"] = np.arange(1, len(df) + 1, dtype=np.int64)
    df.attrs["source"] = str(path)
    return df


def read_file(path: str | Path, format: str | None = None) -> tuple[pd.DataFrame, list[ValidationIssue]]:
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    fmt = detect_format(path, format)
    if fmt == "csv":
        return read_csv(path)
    return read_parquet(path), []


# ---------------------------------------------------------------------------------------------
# writing


def _number_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _cell_list(values: list, where: str) -> str:
    for v in values:
        if ";" in v:
            raise ValueError(f"{where}: list element {v!r} contains ';', which CSV lists use as separator; export Parquet instead")
    return ";".join(values)


def _csv_column(col: schema.Column, s: pd.Series, table: str) -> list[str]:
    if col.kind in ("str", "enum"):
        return s.astype(object).where(s.notna(), "").astype(str).tolist()
    if col.kind == "int":
        return ["" if pd.isna(v) else str(int(v)) for v in s.tolist()]
    if col.kind == "float":
        return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v)) for v in s.tolist()]
    if col.kind == "bool":
        return ["true" if v else "false" for v in s.tolist()]
    if col.kind == "date":
        return ["" if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v.isoformat()[:10] for v in s.tolist()]
    if col.kind == "list":
        return [_cell_list(v, f"{table}.{col.name} row {i + 1}") if v else "" for i, v in enumerate(s.tolist())]
    if col.kind == "history":
        out = []
        for i, v in enumerate(s.tolist()):
            parts = []
            for e in v or []:
                occupation = str(e["occupation"])
                if ";" in occupation or "=" in occupation:
                    raise ValueError(f"{table}.{col.name} row {i + 1}: occupation {occupation!r} contains ';' or '='; export Parquet instead")
                parts.append(f"{occupation}={_number_text(e['years'])}")
            out.append(";".join(parts))
        return out
    raise ValueError(f"unknown column kind {col.kind!r}")


_ARROW_TYPES = {
    "str": pa.string(),
    "enum": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "list": pa.list_(pa.string()),
    "history": pa.list_(pa.struct([("occupation", pa.string()), ("years", pa.float64())])),
}


def arrow_schema(table_name: str) -> pa.Schema:
    t = schema.table(table_name)
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind], nullable=True) for c in t.columns])


def _arrow_values(col: schema.Column, s: pd.Series) -> list:
    if col.kind in ("str", "enum"):
        return s.astype(object).where(s.notna(), None).tolist()
    if col.kind in ("int", "float"):
        return [None if pd.isna(v) else v for v in s.astype(object).tolist()]
    if col.kind == "date":
        return [None if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v for v in s.tolist()]
    return s.tolist()


def write_file(table_name: str, df: pd.DataFrame, path: str | Path, format: str | None = None) -> Path:
    """Write a typed frame (as `validate_frame` or `read_table` return) to CSV or Parquet, in
    the form `read_file` and the importer accept back."""
    path = Path(path)
    fmt = detect_format(path, format)
    t = schema.table(table_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        columns = [_csv_column(c, df[c.name], table_name) for c in t.columns]
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(t.names)
            writer.writerows(zip(*columns))
    else:
        arrays = {c.name: pa.array(_arrow_values(c, df[c.name]), type=_ARROW_TYPES[c.kind]) for c in t.columns}
        pq.write_table(pa.table(arrays, schema=arrow_schema(table_name)), path)
    return path


# ---------------------------------------------------------------------------------------------
# database rows


def python_values(col: schema.Column, s: pd.Series) -> list:
    """A column as plain Python values with None for missing (database drivers do not take
    numpy scalars or NaN)."""
    if col.kind in ("str", "enum"):
        return s.astype(object).where(s.notna(), None).tolist()
    if col.kind == "int":
        return [None if pd.isna(v) else int(v) for v in s.tolist()]
    if col.kind == "float":
        return [None if v != v else float(v) for v in s.astype("float64").tolist()]
    if col.kind == "bool":
        return [bool(v) for v in s.tolist()]
    if col.kind == "date":
        return [None if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v for v in s.tolist()]
    return s.tolist()


def to_records(table_name: str, df: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a typed frame as dicts for `Connection.execute(insert, rows)`."""
    t = schema.table(table_name)
    names = columns or t.names
    values = [python_values(t.column(n), df[n]) for n in names]
    return [dict(zip(names, row)) for row in zip(*values)]


def frame_from_rows(table_name: str, rows: list, columns: list[str] | None = None) -> pd.DataFrame:
    """A typed frame from database rows (sequences in `columns` order)."""
    t = schema.table(table_name)
    names = columns or t.names
    cols = list(zip(*rows)) if rows else [() for _ in names]
    index = pd.RangeIndex(len(rows))
    return pd.DataFrame({n: typed_series(t.column(n), list(c), index) for n, c in zip(names, cols)}, index=index)
