"""Features of a client snapshot (client_id, as_of) for the ladder-progress model.

Every feature is observable on the snapshot date ``as_of``: ladder measurements dated on or
before it, months since intake, the client's profile, and the vacancies opened in the year
before in the client's target sectors. The client's *current* rung (``clients.ladder_rung``) is never read:
for a past snapshot it is information from the future.

The columns a model may see are an explicit allow-list (`LADDER_FEATURES`). Protected
attributes (`plein.domain.PROTECTED_ATTRIBUTES`) can never reach it: `assert_no_protected`
refuses any column named after one (also one-hot style ``gender_female``), on the way in (the
client frame) and on the way out (the feature frame). The fairness audit joins them from
``region.client_protected`` separately (`models.fairness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plein.domain import DUTCH_ORDER, EDUCATION_ORDER, PROTECTED_ATTRIBUTES, RUNG_LABELS, Rung
from plein.progress import ProgressCallback, no_progress

DAYS_PER_MONTH = 365.25 / 12


class ProtectedAttributeError(ValueError):
    """A protected attribute (or a column derived from one) was about to become a feature."""


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: str  # "numeric" or "categorical"
    #: plain-words description used in worklist reasons and the model card
    words: str


#: The allow-list: the only columns the ladder model is trained and served on, in order.
LADDER_FEATURE_SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec("rung", "numeric", "current rung on the participatieladder"),
    FeatureSpec("months_since_measurement", "numeric", "months since the last ladder measurement"),
    FeatureSpec("rung_change_12m", "numeric", "rung change over the past 12 months"),
    FeatureSpec("n_measurements", "numeric", "number of ladder measurements so far"),
    FeatureSpec("months_on_benefit", "numeric", "months since intake"),
    FeatureSpec("benefit_type", "categorical", "benefit type"),
    FeatureSpec("age_band", "categorical", "age band"),
    FeatureSpec("education_rank", "numeric", "education level"),
    FeatureSpec("dutch_rank", "numeric", "Dutch language level"),
    FeatureSpec("driving_licence", "numeric", "driving licence"),
    FeatureSpec("hours_available", "numeric", "hours available per week"),
    FeatureSpec("complexity", "numeric", "case complexity"),
    FeatureSpec("newcomer", "numeric", "newcomer (inburgering)"),
    FeatureSpec("special_group", "numeric", "doelgroepregister / special group"),
    FeatureSpec("work_history_years", "numeric", "years of work history"),
    FeatureSpec("skills_count", "numeric", "number of recorded skills"),
    FeatureSpec("certificates_count", "numeric", "number of certificates"),
    FeatureSpec("sector_demand", "numeric", "demand for work in the target sectors"),
)
LADDER_FEATURES: tuple[str, ...] = tuple(s.name for s in LADDER_FEATURE_SPECS)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(s.name for s in LADDER_FEATURE_SPECS if s.kind == "categorical")
NUMERIC_FEATURES: tuple[str, ...] = tuple(s.name for s in LADDER_FEATURE_SPECS if s.kind == "numeric")
FEATURE_WORDS: dict[str, str] = {s.name: s.words for s in LADDER_FEATURE_SPECS}

#: Client columns the builder reads. Anything else in `clients` is ignored.
_CLIENT_COLUMNS = (
    "id", "intake_date", "benefit_type", "age_band", "education_level", "dutch_level", "driving_licence",
    "hours_available", "complexity", "newcomer", "special_group", "work_history", "skills",
    "certificates", "target_sectors",
)


def _is_protected(column: str) -> bool:
    c = str(column).lower()
    return any(c == p or c.startswith(p + "_") or c.startswith(p + "=") for p in PROTECTED_ATTRIBUTES)


def assert_no_protected(columns, where: str = "features") -> None:
    """Raise `ProtectedAttributeError` if any column is, or is derived from, a protected attribute."""
    bad = sorted({str(c) for c in columns if _is_protected(c)})
    if bad:
        raise ProtectedAttributeError(
            f"protected attribute(s) {', '.join(bad)} found in {where}; protected attributes "
            f"({', '.join(PROTECTED_ATTRIBUTES)}) are read only by the fairness audit, never as features"
        )


def check_feature_frame(X: pd.DataFrame, allowed: tuple[str, ...] = LADDER_FEATURES) -> pd.DataFrame:
    """Return `X` restricted to the allow-list, in order. Refuses protected columns outright
    (even if they would be dropped) and names any missing feature."""
    assert_no_protected(X.columns, "the feature frame")
    missing = [c for c in allowed if c not in X.columns]
    if missing:
        raise ValueError(f"feature frame lacks column(s) {', '.join(missing)}; expected {', '.join(allowed)}")
    return X.loc[:, list(allowed)]


def to_datetime(values) -> pd.Series:
    """Dates as datetime64 (accepts datetime.date objects, strings, pandas datetimes; None -> NaT)."""
    return pd.to_datetime(pd.Series(values), errors="raise").astype("datetime64[ns]")


def _list_len(values) -> np.ndarray:
    return np.fromiter((len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0 for v in values), dtype=float, count=len(values))


def _history_years(values) -> np.ndarray:
    out = np.zeros(len(values))
    for i, hist in enumerate(values):
        if isinstance(hist, (list, tuple, np.ndarray)):
            total = 0.0
            for item in hist:
                if isinstance(item, dict):
                    total += float(item.get("years") or 0.0)
            out[i] = total
    return out


def _rank(values, order) -> np.ndarray:
    lookup = {e.value: i for i, e in enumerate(order)}
    return np.array([lookup.get(str(v), np.nan) if v is not None else np.nan for v in values], dtype=float)


def rung_history_features(ladder_events: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot: the rung measured last on or before ``as_of``, months since that
    measurement, the change from the rung measured last on or before ``as_of`` minus 12 months,
    and the number of measurements so far. Only events dated <= as_of are used."""
    snaps = pd.DataFrame({"client_id": snapshots["client_id"].astype(str).to_numpy(), "as_of": to_datetime(snapshots["as_of"]).to_numpy()})
    snaps["_row"] = np.arange(len(snaps))
    out = pd.DataFrame(index=np.arange(len(snaps)))
    if len(ladder_events) == 0:
        for c in ("rung", "months_since_measurement", "rung_change_12m", "n_measurements"):
            out[c] = np.nan
        out["n_measurements"] = 0.0
        return out
    ev = pd.DataFrame(
        {
            "client_id": ladder_events["client_id"].astype(str).to_numpy(),
            "date": to_datetime(ladder_events["date"]).to_numpy(),
            "rung": pd.to_numeric(ladder_events["rung"]).astype(float).to_numpy(),
        }
    ).sort_values(["date", "client_id"], kind="stable")
    # ordinal count of measurements per client up to each event (ties on a date: last wins)
    ev["n"] = ev.groupby("client_id").cumcount() + 1.0
    ev["event_date"] = ev["date"]

    def asof(at: pd.Series) -> pd.DataFrame:
        left = pd.DataFrame({"client_id": snaps["client_id"], "t": at, "_row": snaps["_row"]}).sort_values("t", kind="stable")
        merged = pd.merge_asof(left, ev, left_on="t", right_on="date", by="client_id", direction="backward")
        return merged.set_index("_row").sort_index()

    now = asof(snaps["as_of"])
    year_ago = asof(snaps["as_of"] - pd.DateOffset(months=12))
    out["rung"] = now["rung"].to_numpy()
    out["months_since_measurement"] = ((snaps["as_of"] - now["event_date"]).dt.days / DAYS_PER_MONTH).to_numpy()
    out["rung_change_12m"] = (now["rung"] - year_ago["rung"]).to_numpy()
    out["n_measurements"] = now["n"].fillna(0.0).to_numpy()
    return out


#: window over which vacancies are counted for the sector demand index
DEMAND_WINDOW_DAYS = 365


def sector_demand(vacancies: pd.DataFrame, target_sectors: pd.Series, as_of: pd.Series) -> np.ndarray:
    """Local labour demand in the client's target sectors on ``as_of``.

    Per sector: the vacancies opened in the 365 days up to ``as_of`` (observable that day),
    relative to the mean over the sectors that had any, on a log scale clipped to [-1, 1]
    (``log(count / mean)``: 0 is an average sector, +1 one with e times the vacancies). The
    client's value is the mean over their target sectors; 0 (average, i.e. no information)
    without targets or for a sector without vacancies in the window."""
    n = len(as_of)
    out = np.zeros(n)
    if len(vacancies) == 0 or n == 0:
        return out
    vac = pd.DataFrame({"sector": vacancies["sector"].astype(object).to_numpy(), "open": to_datetime(vacancies["open_date"]).to_numpy()})
    vac = vac.dropna(subset=["sector", "open"])
    if vac.empty:
        return out
    sectors = sorted(vac["sector"].astype(str).unique())
    t = to_datetime(as_of).to_numpy()
    days, inverse = np.unique(t, return_inverse=True)
    window = np.timedelta64(DEMAND_WINDOW_DAYS, "D")
    counts = np.zeros((len(days), len(sectors)))
    for j, sector in enumerate(sectors):
        opens = np.sort(vac.loc[vac["sector"] == sector, "open"].to_numpy())
        counts[:, j] = np.searchsorted(opens, days, side="right") - np.searchsorted(opens, days - window, side="right")
    present = counts > 0
    mean = np.where(present.any(axis=1), (counts * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1), 1.0)
    with np.errstate(divide="ignore"):
        index = np.where(present, np.clip(np.log(np.where(present, counts, 1.0) / mean[:, None]), -1.0, 1.0), 0.0)
    col = {sector: j for j, sector in enumerate(sectors)}
    long = pd.DataFrame({"row": np.arange(n), "sector": list(target_sectors)}).explode("sector").dropna(subset=["sector"])
    if long.empty:
        return out
    rows = long["row"].to_numpy(dtype=np.int64)
    j = long["sector"].astype(str).map(col)
    known = j.notna().to_numpy()
    values = np.zeros(len(long))
    values[known] = index[inverse[rows[known]], j[known].to_numpy(dtype=np.int64)]
    total = np.bincount(rows, weights=values, minlength=n)
    count = np.bincount(rows, minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def build_ladder_features(
    clients: pd.DataFrame,
    ladder_events: pd.DataFrame,
    vacancies: pd.DataFrame,
    snapshots: pd.DataFrame,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """The feature frame for `snapshots` (columns client_id, as_of): one row per snapshot, in
    the same order, columns ``client_id``, ``as_of`` and then exactly `LADDER_FEATURES`.

    Raises `ProtectedAttributeError` if `clients` carries a protected attribute (someone merged
    ``client_protected`` into it), and `ValueError` naming snapshot clients that are unknown.
    """
    cb = progress or no_progress
    assert_no_protected(clients.columns, "the clients frame given to the ladder feature builder")
    for col in ("client_id", "as_of"):
        if col not in snapshots.columns:
            raise ValueError(f"snapshots need columns client_id and as_of; missing {col!r}")
    missing_cols = [c for c in _CLIENT_COLUMNS if c not in clients.columns]
    if missing_cols:
        raise ValueError(f"clients frame lacks column(s) {', '.join(missing_cols)}")
    cb(0, 3, "ladder features: ladder history")
    snaps = pd.DataFrame({"client_id": snapshots["client_id"].astype(str).to_numpy(), "as_of": to_datetime(snapshots["as_of"]).to_numpy()})
    cl = clients.loc[:, list(_CLIENT_COLUMNS)].copy()
    cl["id"] = cl["id"].astype(str)
    pos = pd.Index(cl["id"]).get_indexer(snaps["client_id"])
    if (pos < 0).any():
        unknown = snaps.loc[pos < 0, "client_id"].unique()[:5]
        raise ValueError(f"{int((pos < 0).sum())} snapshot(s) refer to unknown clients, e.g. {', '.join(map(str, unknown))}")
    c = cl.iloc[pos].reset_index(drop=True)

    hist = rung_history_features(ladder_events, snaps)
    cb(1, 3, "ladder features: client profile")
    out = pd.DataFrame({"client_id": snaps["client_id"], "as_of": snaps["as_of"].dt.date})
    for col in ("rung", "months_since_measurement", "rung_change_12m", "n_measurements"):
        out[col] = hist[col].to_numpy()
    intake = to_datetime(c["intake_date"])
    out["months_on_benefit"] = np.clip(((snaps["as_of"] - intake).dt.days / DAYS_PER_MONTH).to_numpy(dtype=float), 0, None)
    out["benefit_type"] = c["benefit_type"].fillna("none").astype(str).to_numpy()
    out["age_band"] = c["age_band"].fillna("unknown").astype(str).to_numpy()
    out["education_rank"] = _rank(c["education_level"], EDUCATION_ORDER)
    out["dutch_rank"] = _rank(c["dutch_level"], DUTCH_ORDER)
    for col in ("driving_licence", "newcomer", "special_group"):
        out[col] = c[col].fillna(False).astype(bool).astype(float).to_numpy()
    out["hours_available"] = pd.to_numeric(c["hours_available"]).astype(float).to_numpy()
    out["complexity"] = pd.to_numeric(c["complexity"]).astype(float).to_numpy()
    out["work_history_years"] = _history_years(c["work_history"])
    out["skills_count"] = _list_len(c["skills"])
    out["certificates_count"] = _list_len(c["certificates"])
    cb(2, 3, "ladder features: sector demand")
    out["sector_demand"] = sector_demand(vacancies, c["target_sectors"], snaps["as_of"])
    cb(3, 3, "ladder features: done")
    assert_no_protected(out.columns)
    return out.loc[:, ["client_id", "as_of", *LADDER_FEATURES]]


def region_ladder_features(region, snapshots: pd.DataFrame, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """`build_ladder_features` on a `plein.region.Region` (never reads ``client_protected``)."""
    return build_ladder_features(region.clients, region.ladder_events, region.vacancies, snapshots, progress)


def describe_value(feature: str, value) -> str:
    """A feature value in plain words, e.g. ``rung 4 (unpaid work)``. No colon inside: a reason
    appends ``: +12 points`` (``case complexity: 1: +5 points`` read as two scores)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"{FEATURE_WORDS.get(feature, feature)} unknown"
    if feature == "rung":
        r = int(value)
        return f"rung {r} ({RUNG_LABELS[Rung(r)]})" if 1 <= r <= 6 else f"rung {r}"
    if feature == "education_rank":
        return f"education {EDUCATION_ORDER[int(value)].value}"
    if feature == "dutch_rank":
        return f"Dutch level {DUTCH_ORDER[int(value)].value}"
    if feature in ("driving_licence", "newcomer", "special_group"):
        return ("" if value else "no ") + FEATURE_WORDS[feature]
    if feature == "sector_demand":
        # no "high"/"low"/"average" word: a contribution is against the typical (training
        # median) value, not against 0, so "average demand: -6 points" read as a contradiction
        return f"demand in the target sectors {float(value):+.2f}"
    if feature in ("months_on_benefit", "months_since_measurement"):
        return f"{FEATURE_WORDS[feature]} {float(value):.0f}"
    if feature == "rung_change_12m":
        return f"rung change over the past 12 months {int(value):+d}"
    if feature in ("benefit_type", "age_band"):
        return f"{FEATURE_WORDS[feature]} {value}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, float):
        value = round(value, 1)
    return f"{FEATURE_WORDS.get(feature, feature)} {value}"
