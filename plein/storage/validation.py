"""The one row validator: every import, every API create or update goes through `validate_frame`.

It takes a frame as it came from a file or a request (text cells from CSV, typed cells from
Parquet or JSON) and returns the rows typed, defaulted and checked against `plein.schema`,
together with every problem found, all at once: a person fixing a file wants the whole list,
not one error per attempt. Each problem names the file, the row as a person sees it (the line
number in a CSV file, counting the header as line 1; the 1-based row in Parquet), the column,
the offending value and the reason.

Work is done column by column with pandas/numpy operations; Python loops run only over list
cells (which are lists) and over the rows that have an error, so 100k clients validate in a few
seconds.

What is checked: required and unknown columns (with a did-you-mean), protected attributes in the
wrong entity, types, enum choices, ranges, patterns (a PC4 postcode area), empty required
values, duplicate keys, ids the API could not serve (`plein.schema.ID_PATTERN`), BSNs in any
text, list or id column (clients are pseudonymous), lat without lon, a period ending before it
starts, and, with a taxonomy, ESCO skills and occupations: URIs must resolve, unknown labels
are kept and reported as warnings. A client's home lat/lon are rounded to postcode-area
precision (`Column.decimals`). References to other entities need the database and are checked
by the importer (`plein.storage.importer`).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from plein import domain, schema
from plein.storage._gc import gc_paused

TRUE_WORDS = frozenset({"true", "1", "yes", "ja"})
FALSE_WORDS = frozenset({"false", "0", "no", "nee"})
#: dates outside this range are typing errors, not history
MIN_YEAR, MAX_YEAR = 1900, 2100
#: (table, column) pairs holding ESCO skills, resolved through the taxonomy
SKILL_COLUMNS = {("clients", "skills"), ("vacancies", "skills"), ("vacancies", "optional_skills")}
#: (table, column) pairs holding an ESCO occupation
OCCUPATION_COLUMNS = {("vacancies", "occupation")}
#: columns whose empty value is another column's value ("Name; defaults to the id.")
DERIVED_DEFAULTS = {"name": "id"}
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_DECIMAL_COMMA = r"^([+-]?\d+),(\d+)$"
_URI = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in an input: where (file, row, column), what (value) and why (reason).

    `row` is None for a problem with the file as a whole (a missing or unknown column).
    `severity` is "error" (the import is refused) or "warning" (kept, but worth a look)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        value = f" (value {self.value!r})" if self.value is not None else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{where}: {label}{self.reason}{value}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _show(value: Any, limit: int = 80) -> str | None:
    """A short printable form of a cell for error messages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        text = ";".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Issues:
    """Collects issues for one frame and remembers which rows have errors."""

    def __init__(self, source: str, row_numbers: np.ndarray) -> None:
        self.source = source
        self.row_numbers = row_numbers
        self.issues: list[ValidationIssue] = []
        self.bad = np.zeros(len(row_numbers), dtype=bool)

    def file_level(self, column: str | None, reason: str, severity: str = "error") -> None:
        self.issues.append(ValidationIssue(self.source, None, column, None, reason, severity))

    def rows(self, mask, column: str, values, reason, severity: str = "error") -> None:
        """An issue for every row in `mask`; `reason` is a string or a per-row sequence."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx) == 0:
            return
        vals = values.iloc[idx].tolist() if isinstance(values, pd.Series) else [values[i] for i in idx]
        per_row = not isinstance(reason, str)
        for j, i in enumerate(idx):
            why = reason[i] if per_row else reason
            self.issues.append(
                ValidationIssue(self.source, int(self.row_numbers[i]), column, _show(vals[j]), why, severity)
            )
        if severity == "error":
            self.bad[idx] = True

    def one(self, i: int, column: str, value: Any, reason: str, severity: str = "error") -> None:
        self.issues.append(ValidationIssue(self.source, int(self.row_numbers[i]), column, _show(value), reason, severity))
        if severity == "error":
            self.bad[i] = True


# ---------------------------------------------------------------------------------------------
# cells to text and numbers


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return None
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    if isinstance(v, (datetime, pd.Timestamp)):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return ";".join(str(x) for x in v)
    return str(v)


def _as_text(raw: pd.Series) -> pd.Series:
    """The cells as stripped text (pandas string dtype), missing and blank cells as NA."""
    dtype = raw.dtype
    if pd.api.types.is_bool_dtype(dtype):
        text = raw.map({True: "true", False: "false"})
    elif pd.api.types.is_string_dtype(dtype) and dtype != object:
        text = raw
    elif dtype == object and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        text = raw  # only strings and missing values: convert in one go
    elif dtype == object or isinstance(dtype, pd.CategoricalDtype):
        text = pd.Series([_cell_text(v) for v in raw.tolist()], index=raw.index, dtype=object)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        text = pd.Series([None if pd.isna(v) else v.isoformat() for v in raw.tolist()], index=raw.index, dtype=object)
    else:  # numeric
        text = pd.Series([_cell_text(v) for v in raw.tolist()], index=raw.index, dtype=object)
    text = text.astype("str").str.strip()
    return text.mask(text == "")


def _as_numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values as float64 with NaN, blank mask, invalid mask)."""
    dtype = raw.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        blank = np.isnan(values)
        invalid = np.isinf(values)
        return values, blank, invalid
    text = _as_text(raw)
    blank = text.isna().to_numpy()
    # A Dutch spreadsheet writes 52,18 for 52.18: accept a single decimal comma.
    text = text.str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    invalid = ~blank & ~np.isfinite(values)
    return values, blank, invalid


def _range_reason(col: schema.Column) -> str:
    if col.min is not None and col.max is not None:
        return f"must be between {col.min:g} and {col.max:g}"
    if col.min is not None:
        return f"must be at least {col.min:g}"
    return f"must be at most {col.max:g}"


# ---------------------------------------------------------------------------------------------
# column parsers: each returns (values, blank mask) and reports invalid cells


def _parse_str(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[pd.Series, np.ndarray]:
    text = _as_text(raw)
    blank = text.isna().to_numpy()
    if col.pattern:
        fits = text.str.fullmatch(col.pattern).fillna(False).to_numpy(dtype=bool)
        wrong = ~blank & ~fits
        # the row is refused; its text stays for the BSN check, which says more when it is one
        issues.rows(wrong, col.name, raw, col.pattern_reason or f"does not match {col.pattern}")
    return text, blank


def _parse_enum(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[pd.Series, np.ndarray]:
    text = _as_text(raw)
    blank = text.isna().to_numpy()
    canonical = {c.lower(): c for c in col.choices}
    mapped = text.str.lower().map(canonical)
    invalid = ~blank & mapped.isna().to_numpy()
    if invalid.any():
        reasons = np.empty(len(text), dtype=object)
        for value in pd.unique(text[invalid]):
            hint = difflib.get_close_matches(str(value).lower(), list(canonical), n=1, cutoff=0.6)
            why = f"not one of {', '.join(col.choices)}"
            if hint:
                why += f"; did you mean {canonical[hint[0]]!r}?"
            reasons[(text == value).to_numpy() & invalid] = why
        issues.rows(invalid, col.name, raw, reasons)
    return mapped.astype(object).where(~invalid & ~blank, None), blank


INT32_MAX = 2**31 - 1


def _parse_number(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[np.ndarray, np.ndarray]:
    values, blank, invalid = _as_numbers(raw)
    kind = "a whole number" if col.kind == "int" else "a number"
    issues.rows(invalid, col.name, raw, f"not {kind}")
    ok = ~blank & ~invalid
    if col.kind == "int":
        fractional = ok & (values != np.floor(np.where(ok, values, 0)))
        issues.rows(fractional, col.name, raw, "not a whole number")
        ok &= ~fractional
    # the column's own range first: "must be between 0 and 60" says what to type, the
    # database's limit below only matters for a column without one
    if col.min is not None or col.max is not None:
        lo = -np.inf if col.min is None else col.min
        hi = np.inf if col.max is None else col.max
        out = ok & ((values < lo) | (values > hi))
        issues.rows(out, col.name, raw, _range_reason(col))
        ok &= ~out
    if col.kind == "int":
        # whole numbers are stored as 32-bit integers in every database
        too_big = ok & (np.abs(np.where(ok, values, 0)) > INT32_MAX)
        issues.rows(too_big, col.name, raw, f"too large: whole numbers are at most {INT32_MAX:,}")
        ok &= ~too_big
    values = np.where(ok, values, np.nan)
    if col.decimals is not None:
        values = np.round(values, col.decimals)
    return values, blank


def _parse_bool(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_bool_dtype(raw.dtype) and raw.dtype != object:
        values = raw.to_numpy(dtype=object, na_value=None)
        blank = np.array([v is None for v in values], dtype=bool)
        return np.where(blank, False, values).astype(bool), blank
    text = _as_text(raw)
    blank = text.isna().to_numpy()
    lower = text.str.lower()
    true = lower.isin(TRUE_WORDS).to_numpy()
    false = lower.isin(FALSE_WORDS).to_numpy()
    invalid = ~blank & ~true & ~false
    issues.rows(invalid, col.name, raw, "not a yes/no value (true/false, 1/0, yes/no or ja/nee)")
    return true, blank


def _parse_date(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[pd.Series, np.ndarray]:
    text = _as_text(raw)
    blank = text.isna().to_numpy()
    shaped = text.str.match(_ISO_DATE).fillna(False).to_numpy(dtype=bool)
    stamps = pd.to_datetime(text.where(shaped), format="ISO8601", errors="coerce", utc=True)
    parsed = stamps.notna().to_numpy()
    invalid = ~blank & ~parsed
    issues.rows(invalid, col.name, raw, "not a date in ISO form YYYY-MM-DD (e.g. 2026-03-31)")
    years = stamps.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    implausible = parsed & ((years < MIN_YEAR) | (years > MAX_YEAR))
    issues.rows(implausible, col.name, raw, f"year outside {MIN_YEAR}-{MAX_YEAR}")
    ok = parsed & ~implausible
    dates = pd.Series(np.where(ok, stamps.dt.date.to_numpy(dtype=object, na_value=None), None), index=raw.index, dtype=object)
    return dates, blank


def _split_cell(v: Any) -> list[str] | None:
    """A list cell as a list of stripped non-empty strings (duplicates dropped, order kept);
    None when the cell is blank. Text is split on ';'; real lists (Parquet, JSON) are taken as is."""
    if v is None:
        return None
    if isinstance(v, str):
        if not v.strip():
            return None
        return list(dict.fromkeys(p.strip() for p in v.split(";") if p.strip()))
    if isinstance(v, float):
        return None if math.isnan(v) else [_cell_text(v)]
    if isinstance(v, (list, tuple, np.ndarray)):
        return list(dict.fromkeys(s for s in (("" if x is None else str(x).strip()) for x in v) if s))
    if v is pd.NA:
        return None
    text = _cell_text(v)
    return [text] if text else None


def _parse_list(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[pd.Series, np.ndarray]:
    cells = [_split_cell(v) for v in raw.tolist()]
    blank = np.fromiter((c is None for c in cells), dtype=bool, count=len(cells))
    if col.choices:
        canonical = {c.lower(): c for c in col.choices}
        for i, cell in enumerate(cells):
            if not cell:
                continue
            mapped = [canonical.get(x.lower()) for x in cell]
            if None in mapped:
                wrong = [x for x, m in zip(cell, mapped) if m is None]
                issues.one(i, col.name, cell, f"{', '.join(map(repr, wrong))} not among {', '.join(col.choices)}")
                cells[i] = None
            else:
                cells[i] = mapped
    return pd.Series(cells, index=raw.index, dtype=object), blank


def _history_entry(part: Any) -> tuple[dict | None, str | None]:
    if isinstance(part, dict):
        occupation, years = part.get("occupation"), part.get("years")
    else:
        text = str(part).strip()
        if "=" not in text:
            return None, f"{text!r} is not occupation=years (e.g. cook=3)"
        occupation, years = text.rsplit("=", 1)
        years = years.strip()
        if re.fullmatch(_DECIMAL_COMMA, years):
            years = years.replace(",", ".")
    occupation = "" if occupation is None else str(occupation).strip()
    if not occupation:
        return None, f"{_show(part)!r} has no occupation"
    try:
        y = float(years)
    except (TypeError, ValueError):
        return None, f"years for {occupation!r} is not a number"
    if not (0 <= y <= 60):
        return None, f"years for {occupation!r} must be between 0 and 60"
    return {"occupation": occupation, "years": y}, None


def _parse_history(raw: pd.Series, col: schema.Column, issues: _Issues) -> tuple[pd.Series, np.ndarray]:
    out: list[list[dict] | None] = []
    wrong = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw.tolist()):
        if isinstance(v, str):
            parts = [p for p in v.split(";") if p.strip()] if v.strip() else None
        elif isinstance(v, (list, tuple, np.ndarray)):
            parts = list(v)
        elif v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            parts = None
        else:
            parts = [v]
        if parts is None:
            out.append(None)
            continue
        entries, problems = [], []
        for p in parts:
            entry, problem = _history_entry(p)
            if problem:
                problems.append(problem)
            else:
                entries.append(entry)
        if problems:
            issues.one(i, col.name, v, "; ".join(problems))
            wrong[i] = True
            out.append(None)
        else:
            out.append(entries)
    blank = np.fromiter((o is None for o in out), dtype=bool, count=len(out)) & ~wrong
    return pd.Series(out, index=raw.index, dtype=object), blank


_PARSERS = {
    "str": _parse_str,
    "enum": _parse_enum,
    "int": _parse_number,
    "float": _parse_number,
    "bool": _parse_bool,
    "date": _parse_date,
    "list": _parse_list,
    "history": _parse_history,
}


# ---------------------------------------------------------------------------------------------
# defaults, dtypes


def default_value(col: schema.Column, today: date | None = None) -> Any:
    """The value an absent or blank cell takes (a fresh list each call)."""
    if col.default is schema.IMPORT_DATE:
        return today or date.today()
    if col.default is schema.REQUIRED:
        return [] if col.kind in ("list", "history") else None
    if isinstance(col.default, list):
        return list(col.default)
    return col.default


def _nullable(col: schema.Column) -> bool:
    return default_value(col) is None


def typed_series(col: schema.Column, values, index=None) -> pd.Series:
    """A column in its canonical pandas dtype: text as pandas strings, whole numbers as int64
    (Int64 when the column may be empty), floats as float64, bools as bool, dates as
    `datetime.date` objects, lists as Python lists (object)."""
    if col.kind in ("str", "enum"):
        return pd.Series(values, index=index, dtype=object).astype("str")
    if col.kind == "int":
        floats = pd.to_numeric(pd.Series(values, index=index, dtype=object), errors="raise").astype("float64")
        ints = floats.astype("Int64")
        return ints if _nullable(col) else ints.astype("int64")
    if col.kind == "float":
        return pd.Series(values, index=index, dtype="float64")
    if col.kind == "bool":
        return pd.Series(values, index=index, dtype=bool)
    return pd.Series(values, index=index, dtype=object)


# ---------------------------------------------------------------------------------------------
# headers


def normalise_header(name: Any) -> str:
    """'Coach ID ' -> 'coach_id': headers are matched case-insensitively, spaces and hyphens
    read as underscores."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lstrip("\ufeff").strip().lower())


def _match_headers(table: schema.Table, df: pd.DataFrame, issues: _Issues) -> dict[str, Any]:
    """Schema column name -> the frame's column label; reports unknown, duplicated, protected
    and conflicting columns."""
    known = table.names
    given: dict[str, Any] = {}
    for label in df.columns:
        name = normalise_header(label)
        if name == "" or name.startswith("unnamed:"):
            if _as_text(df[label]).isna().all():
                continue  # a trailing delimiter: an empty column without a name
            issues.file_level(None, f"a column without a name (position {list(df.columns).index(label) + 1}) has values")
            continue
        target = table.aliases.get(name, name)
        if target in given:
            other = normalise_header(given[target])
            issues.file_level(target, f"given twice (as {other!r} and {name!r})")
            continue
        if target in known:
            given[target] = label
            continue
        if name in domain.PROTECTED_ATTRIBUTES and table.name != "client_protected":
            issues.file_level(
                name,
                f"{name} is a protected attribute and is never stored with {table.name}: import it "
                "in the client_protected entity (columns client_id, gender, migration_background), "
                "which only fairness audits read",
            )
            continue
        hint = difflib.get_close_matches(name, known + list(table.aliases), n=1, cutoff=0.6)
        reason = f"unknown column for {table.name}"
        if hint:
            reason += f"; did you mean {hint[0]!r}?"
        reason += f" Known columns: {', '.join(known)}"
        issues.file_level(name, reason)
    return given


# ---------------------------------------------------------------------------------------------
# taxonomy


def _vocabulary(frame: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(exact label or URI -> label, lower-case label -> label) from a taxonomy frame."""
    exact: dict[str, str] = {}
    lower: dict[str, str] = {}
    if isinstance(frame, pd.DataFrame) and "label" in frame.columns:
        labels = frame["label"].astype(str).tolist()
        exact.update(zip(labels, labels))
        lower.update((label.lower(), label) for label in labels)
        if "uri" in frame.columns:
            for uri, label in zip(frame["uri"].tolist(), labels):
                if isinstance(uri, str) and uri:
                    exact[uri] = label
    return exact, lower


def _resolve_tokens(tokens: set[str], frame: Any, resolver: Any) -> dict[str, str | None]:
    """Each token -> its canonical label, or None when the taxonomy does not know it."""
    exact, lower = _vocabulary(frame)
    result: dict[str, str | None] = {}
    rest: list[str] = []
    for tok in tokens:
        hit = exact.get(tok) or lower.get(tok.lower())
        if hit is not None:
            result[tok] = hit
        else:
            rest.append(tok)
    if rest and resolver is not None:
        # Let the taxonomy try what the frames do not hold (alternative labels, old URIs).
        canonical, unknown = resolver(rest)
        unknown_set = set(unknown)
        known = [t for t in rest if t not in unknown_set]
        if len(canonical) == len(known):
            result.update(zip(known, canonical))
            result.update((t, None) for t in unknown_set)
            rest = []
        else:  # the answer does not line up with the question: ask token by token
            for tok in rest:
                canonical, unknown = resolver([tok])
                result[tok] = canonical[0] if canonical and not unknown else None
            rest = []
    result.update((t, None) for t in rest)
    return result


def _check_vocabulary(
    values: pd.Series, col: schema.Column, kind: str, frame: Any, resolver: Any, issues: _Issues
) -> pd.Series:
    """Resolve the skills (or occupations) in `values` to canonical labels: unresolved URIs are
    errors, unknown labels warnings (one per label, with its row count)."""
    is_list = col.kind == "list"
    cells = values.tolist()
    tokens: set[str] = set()
    for cell in cells:
        if cell is None:
            continue
        if is_list:
            tokens.update(cell)
        elif isinstance(cell, str):
            tokens.add(cell)
    if not tokens:
        return values
    mapping = _resolve_tokens(tokens, frame, resolver)
    unknown = {t for t, m in mapping.items() if m is None}
    changed = any(m is not None and m != t for t, m in mapping.items())
    if unknown:
        first_row: dict[str, int] = {}
        counts: dict[str, int] = {}
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            for tok in cell if is_list else [cell]:
                if tok in unknown:
                    counts[tok] = counts.get(tok, 0) + 1
                    first_row.setdefault(tok, i)
                    if _URI.match(tok):
                        issues.one(i, col.name, tok, f"{kind} URI does not resolve in the taxonomy")
        for tok in sorted(t for t in unknown if not _URI.match(t)):
            n = counts[tok]
            where = f"{n} row{'s' if n != 1 else ''}" + (", first here" if n > 1 else "")
            issues.one(
                first_row[tok], col.name, tok,
                f"{kind} label not in the taxonomy; kept as given ({where})", severity="warning",
            )
    if changed:
        if is_list:
            cells = [None if c is None else list(dict.fromkeys(mapping.get(t) or t for t in c)) for c in cells]
        else:
            cells = [None if c is None else (mapping.get(c) or c) for c in cells]
        return pd.Series(cells, index=values.index, dtype=object)
    return values


# ---------------------------------------------------------------------------------------------
# the validator


@dataclass
class Validated:
    """Everything `validate_rows` found: the clean rows, the issues, and for the importer the
    referencing columns of every row (also rows with errors, so that a missing coach is
    reported together with the row's other errors)."""

    clean: pd.DataFrame
    issues: list[ValidationIssue]
    #: column -> values for all input rows (None where blank or invalid), for columns with a `ref`
    references: dict[str, pd.Series]
    #: row number of each input row
    row_numbers: np.ndarray


def validate_frame(table_name: str, df: pd.DataFrame, taxonomy: Any = None, source: str = "<data>",
                   row_numbers=None, today: date | None = None) -> tuple[pd.DataFrame, list[ValidationIssue]]:
    result = validate_rows(table_name, df, taxonomy, source, row_numbers, today)
    return result.clean, result.issues


def validate_rows(table_name: str, df: pd.DataFrame, taxonomy: Any = None, source: str = "<data>",
                  row_numbers=None, today: date | None = None) -> Validated:
    """`validate_frame` with the extra detail the importer needs (see `Validated`)."""
    with gc_paused():
        return _validate_frame(table_name, df, taxonomy, source, row_numbers, today)


def _validate_frame(
    table_name: str,
    df: pd.DataFrame,
    taxonomy: Any = None,
    source: str = "<data>",
    row_numbers=None,
    today: date | None = None,
) -> Validated:
    """Validate and type the rows of `df` for entity `table_name`.

    Returns ``(clean_df, issues)``: `clean_df` has exactly the schema's columns in canonical
    dtypes (see `typed_series`), defaults filled, and only the rows without errors; `issues`
    lists every error and warning (`ValidationIssue.severity`). Row numbers in issues come
    from `row_numbers`, else ``df.attrs["row_numbers"]`` (set by the CSV reader to line numbers),
    else 1, 2, 3...

    `taxonomy` (a `plein.taxonomy.Taxonomy`, optional): resolves skills and occupations to
    their ESCO preferred labels. Without it they are kept as given.

    ``clean_df.attrs["given_columns"]`` lists the schema columns the input had (after
    aliases): the importer updates only those on existing rows. ``clean_df.attrs["row_numbers"]``
    keeps each clean row's number, for errors found later (references to other entities).
    """
    table = schema.table(table_name)
    df = df.reset_index(drop=True)
    n = len(df)
    if row_numbers is None:
        row_numbers = df.attrs.get("row_numbers")
    rows = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers, dtype=np.int64)
    if len(rows) != n:
        raise ValueError(f"row_numbers has {len(rows)} entries for {n} rows")
    issues = _Issues(source, rows)
    today = today or date.today()

    given = _match_headers(table, df, issues)
    index = pd.RangeIndex(n)
    columns: dict[str, Any] = {}
    blanks: dict[str, np.ndarray] = {}
    for col in table.columns:
        if col.name not in given:
            if col.required:
                issues.file_level(col.name, f"required column is missing ({col.doc})")
            columns[col.name] = None
            blanks[col.name] = np.ones(n, dtype=bool)
            continue
        raw = df[given[col.name]]
        values, blank = _PARSERS[col.kind](raw, col, issues)
        if (table.name, col.name) in SKILL_COLUMNS and taxonomy is not None:
            values = _check_vocabulary(values, col, "skill", getattr(taxonomy, "skills", None),
                                       getattr(taxonomy, "resolve_skills", None), issues)
        elif (table.name, col.name) in OCCUPATION_COLUMNS and taxonomy is not None:
            values = _check_vocabulary(values, col, "occupation", getattr(taxonomy, "occupations", None),
                                       getattr(taxonomy, "resolve_occupations", None), issues)
        columns[col.name] = values
        blanks[col.name] = blank

    # Empty required scalars; defaults for the rest.
    for col in table.columns:
        blank = blanks[col.name]
        values = columns[col.name]
        if col.required and col.kind not in ("list", "history") and col.name in given:
            issues.rows(blank, col.name, [None] * n, "required value is empty")
        fill = default_value(col, today)
        derived_from = DERIVED_DEFAULTS.get(col.name)
        if derived_from and fill is None and derived_from in given and derived_from in table.names:
            source_values = pd.Series(columns[derived_from], index=index)
            values = source_values.copy() if values is None else pd.Series(values, index=index).where(~blank, source_values)
        elif values is None:
            if isinstance(fill, list):
                values = pd.Series([list(fill) for _ in range(n)], index=index, dtype=object)
            else:
                values = pd.Series([fill] * n, index=index, dtype=object)
        elif blank.any() and fill is not None:
            if isinstance(values, np.ndarray):
                values = np.where(blank, fill, values)
            elif isinstance(fill, list):
                cells = values.tolist()
                for i in np.flatnonzero(blank):
                    cells[i] = list(fill)
                values = pd.Series(cells, index=index, dtype=object)
            else:
                values = values.astype(object).where(~blank, fill)
        columns[col.name] = values

    _check_ids(table, given, columns, issues)
    _check_bsn(table, given, columns, issues)
    _check_points(table, given, blanks, issues)
    _check_periods(table, given, columns, blanks, issues)
    _check_duplicates(table, given, columns, issues, rows)

    # Only rows without errors go on, typed; with a file-level error (a missing required or an
    # unknown column) no row is trustworthy.
    has_file_errors = any(i.row is None and i.severity == "error" for i in issues.issues)
    keep = np.zeros(n, dtype=bool) if has_file_errors else ~issues.bad
    all_kept = bool(keep.all())
    typed = {}
    for col in table.columns:
        values = columns[col.name]
        if not all_kept:
            values = values[keep] if isinstance(values, np.ndarray) else values[keep].reset_index(drop=True)
        typed[col.name] = typed_series(col, values, pd.RangeIndex(int(keep.sum())))
    clean = pd.DataFrame(typed)
    clean.attrs["given_columns"] = [c for c in table.names if c in given]
    clean.attrs["row_numbers"] = rows[keep]
    order = {c: i for i, c in enumerate(table.names)}
    ordered = sorted(
        issues.issues,
        key=lambda x: (x.row is not None, x.row or 0, order.get(x.column or "", len(order)), x.severity),
    )
    references = {
        c.name: pd.Series(columns[c.name], index=index)
        for c in table.columns
        if c.ref and c.name in given
    }
    return Validated(clean, ordered, references, rows)


_ID = re.compile(schema.ID_PATTERN)
_BSN_REASON_ID = (
    "looks like a BSN (citizen service number); Plein stores clients under a pseudonym "
    "only: use the case system's pseudonymous client id instead"
)


def _id_columns(table: schema.Table) -> list[schema.Column]:
    """The key column and the columns holding other rows' ids: the values that end up in URLs."""
    return [c for c in table.columns if c.kind in ("str", "list") and (c.ref or (c.name in table.key and c.kind == "str"))]


def _check_ids(table: schema.Table, given: dict, columns: dict, issues: _Issues) -> None:
    """One id rule for every write path (`plein.schema.ID_PATTERN`, the API's rule): an id the
    import stores must be one the API can read and change, and it travels in URL paths."""
    for col in _id_columns(table):
        if col.name not in given:
            continue
        if col.kind == "list":
            for i, cell in enumerate(columns[col.name].tolist()):
                wrong = [x for x in cell or () if len(x) > schema.MAX_ID_LENGTH or not _ID.match(x)]
                if wrong:
                    issues.one(i, col.name, cell, f"{', '.join(map(repr, wrong))}: not an id ({schema.ID_RULE})")
            continue
        ids = pd.Series(columns[col.name]).reset_index(drop=True).astype("str")
        long = (ids.str.len() > schema.MAX_ID_LENGTH).fillna(False).to_numpy(dtype=bool)
        # ids of plain ASCII letters, digits and - _ . : pass at once (a vectorised look);
        # the others are held to the pattern itself, with Python's (Unicode) idea of a space
        unusual = ids.str.contains(r"[^A-Za-z0-9_.:-]").fillna(False).to_numpy(dtype=bool)
        bad = long.copy()
        for i in np.flatnonzero(unusual & ~long):
            bad[i] = not _ID.match(ids.iat[i])
        issues.rows(bad, col.name, ids, f"not an id: {schema.ID_RULE}")


def _text_elements(col: schema.Column, values, table: schema.Table) -> pd.Series:
    """The text of a column, one entry per list element (or work-history occupation), indexed
    by row position: a BSN is looked for in each. Skill and occupation URIs are left out: they
    are resolved against the taxonomy, not typed."""
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    s = s.reset_index(drop=True)
    if col.kind in ("list", "history"):
        s = s.astype(object).explode()
        if col.kind == "history":
            s = s.map(lambda e: e.get("occupation") if isinstance(e, dict) else None)
    text = s.astype("str")
    if (table.name, col.name) in SKILL_COLUMNS or (table.name, col.name) in OCCUPATION_COLUMNS:
        text = text.mask(text.str.match(_URI.pattern, case=False).fillna(False).astype(bool))
    return text


def _check_bsn(table: schema.Table, given: dict, columns: dict, issues: _Issues) -> None:
    """Privacy: no BSN is stored, wherever it is typed. A client id (or a reference to one) that
    is or holds a BSN (`plein.domain.is_bsn`, 8 or 9 digits) is refused with a pointer to the
    pseudonym; any other text, list or id column that holds a 9-digit BSN
    (`plein.domain.holds_bsn`: an outcome's reason, a title, a certificate, a coach id...) is
    refused naming its column. Shorter numbers there are counters, KvK or house numbers."""
    for col in table.columns:
        if col.kind not in ("str", "list", "history") or col.name not in given:
            continue
        client_id = (table.name == "clients" and col.name == "id") or col.ref == "clients"
        text = _text_elements(col, columns[col.name], table)
        # a vectorised first look finds the candidates; the domain rule decides
        hint = domain.IS_BSN_HINT if client_id else domain.HOLDS_BSN_HINT
        candidates = text[text.str.contains(hint).fillna(False).to_numpy(dtype=bool)]
        if candidates.empty:
            continue
        rule = domain.is_bsn if client_id else domain.holds_bsn
        hits = [i for i, t in candidates.items() if rule(t)]
        if not hits:
            continue
        values = columns[col.name]
        values = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        bsn = np.zeros(len(values), dtype=bool)
        bsn[np.unique(np.asarray(hits, dtype=np.int64))] = True
        reason = _BSN_REASON_ID if client_id else (
            f"holds what looks like a BSN (citizen service number): Plein stores no BSN, not in {col.name} "
            "either; leave it out (clients are known by the case system's pseudonym only)"
        )
        issues.rows(bsn, col.name, values, reason)


def _check_points(table: schema.Table, given: dict, blanks: dict, issues: _Issues) -> None:
    """lat and lon come together: half a point makes every distance to it unknown (a vacancy's
    candidates all get "distance unknown"). A file or request with only one of the two columns
    would set or clear half a stored point, so then every row is refused."""
    if not {"lat", "lon"} <= set(table.names) or not ({"lat", "lon"} & set(given)):
        return
    n = len(blanks["lat"])
    for have, other in (("lat", "lon"), ("lon", "lat")):
        if have not in given:
            continue
        if other not in given:
            issues.rows(np.ones(n, dtype=bool), other, [None] * n,
                        f"column missing while {have} is given: a location is set or cleared as a pair, give lat and lon together")
        else:
            half = ~blanks[have] & blanks[other]
            issues.rows(half, other, [None] * n, f"empty while {have} is given: a location needs both lat and lon")


def _check_periods(table: schema.Table, given: dict, columns: dict, blanks: dict, issues: _Issues) -> None:
    """A period's last day does not come before its first (a vacancy closing before it opened).
    Checked when the input has both columns; an empty first day is its default (the day of
    the import), which is what is stored then."""
    for first, last in table.periods:
        if first not in given or last not in given:
            continue
        starts = pd.Series(columns[first], dtype=object).reset_index(drop=True)
        ends = pd.Series(columns[last], dtype=object).reset_index(drop=True)
        a = pd.to_datetime(starts, errors="coerce")
        b = pd.to_datetime(ends, errors="coerce")
        wrong = (b < a).fillna(False).to_numpy(dtype=bool)
        reasons = np.empty(len(ends), dtype=object)
        for i in np.flatnonzero(wrong):
            shown = f"{first} {starts.iat[i]}" + (" (empty: the day of the import)" if blanks[first][i] else "")
            reasons[i] = f"before {shown}: {last} is on or after {first}"
        issues.rows(wrong, last, ends, reasons)


def _check_duplicates(table: schema.Table, given: dict, columns: dict, issues: _Issues, rows: np.ndarray) -> None:
    """Two rows with the same key in one input: the second would silently overwrite the first."""
    if not all(k in given for k in table.key) or not len(rows):
        return
    key = pd.DataFrame({k: pd.Series(columns[k]).astype(object) for k in table.key})
    dup = key.duplicated(keep="first").to_numpy() & ~key.isna().any(axis=1).to_numpy()
    if not dup.any():
        return
    tuples = list(key.itertuples(index=False, name=None))
    first: dict[tuple, int] = {}
    for i, t in enumerate(tuples):
        first.setdefault(t, i)
    reasons = np.empty(len(tuples), dtype=object)
    for i in np.flatnonzero(dup):
        reasons[i] = f"duplicate {'/'.join(table.key)}: already on row {int(rows[first[tuples[i]]])}"
    shown = ["/".join(_cell_text(v) or "" for v in t) for t in tuples]
    issues.rows(dup, "/".join(table.key), shown, reasons)


def errors_only(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    return [i for i in issues if i.severity == "error"]


def warnings_only(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    return [i for i in issues if i.severity == "warning"]
