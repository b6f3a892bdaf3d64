"""Pair features of a client and a vacancy: the ONE feature code path.

The rule-based matcher, the learned ranker's training (`models/`) and serving all compute
client x vacancy features here, so a model never sees a feature computed differently from
the one it was trained on.

`FEATURE_COLUMNS` is the stable, ordered list of feature columns (documented in
`FEATURE_DOCS`). Adding a column at the end is a compatible change; renaming or removing one
is not (a trained ranker would break). Every feature is a float and never NaN: where a value
is unknown, the feature holds a documented neutral value and a ``*_known`` column says so.

Protected attributes (`plein.domain.PROTECTED_ATTRIBUTES`) are never read: the index only
reads the client columns in `matching.index.CLIENT_COLUMNS`, which a module-level assertion
keeps free of them. Age band, newcomer and special-group flags, languages and postcode are
also left out on purpose: they are grounds (or close proxies of grounds) on which hiring
may not discriminate under Dutch equal-treatment law.

Usage::

    from matching.features import pair_features, FEATURE_COLUMNS
    X = pair_features(clients_df, vacancies_df, pairs_df, taxonomy, as_of=date(2025, 1, 1))
    X[FEATURE_COLUMNS]  # -> model input; X also has client_id, vacancy_id

`pairs` is a frame with `client_id` and `vacancy_id` (other columns ignored) or a list of
(client_id, vacancy_id) tuples. For many calls on the same data, build a
`matching.index.MatchIndex` once and pass `index=`; then `clients_df`/`vacancies_df` may be
None.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from plein.domain import PROTECTED_ATTRIBUTES, haversine_km
from matching.config import MatchConfig

#: name -> meaning. The order of this dict is the order of FEATURE_COLUMNS.
FEATURE_DOCS: dict[str, str] = {
    "skill_similarity": "Cosine of the client's skills and the vacancy's skill vector (IDF-weighted, essential above optional), 0-1.",
    "essential_coverage": "IDF-weighted share of the vacancy's essential skills the client holds, 0-1 (0 when it lists none).",
    "optional_coverage": "IDF-weighted share of the vacancy's optional skills the client holds, 0-1 (0 when it lists none).",
    "transferable_similarity": "Share of the vacancy's weighted skill vector covered by the client's transferable skills (from work-history occupations and their ISCO-08 unit group), skills held directly excluded, 0-1.",
    "essential_matched": "Number of the vacancy's essential skills the client holds.",
    "essential_missing": "Number of the vacancy's essential skills the client does not hold.",
    "occupation_experience_years": "Years of work history in the vacancy's own occupation.",
    "related_experience_years": "Years of work history in other occupations of the vacancy occupation's ISCO-08 unit group.",
    "distance_km": "Home-to-workplace great-circle distance in km; 0 when unknown (see distance_known).",
    "distance_known": "1 when both client and vacancy have coordinates, else 0.",
    "ladder_rung": "Client's rung on the participatieladder 1-6; 0 when not measured (see rung_known).",
    "rung_known": "1 when the client's rung was measured, else 0.",
    "rung_margin": "Client's rung minus the rung the vacancy needs (regular or supported work); 0 when unknown.",
    "dutch_margin": "Client's Dutch level minus the vacancy's minimum (CEFR steps, none=0 .. C2=6; no minimum counts as none); 0 when unknown.",
    "dutch_known": "1 when the client's Dutch level is known, else 0.",
    "hours_fit": "min(1, client's available hours / vacancy hours); 1 for a flexible vacancy.",
    "licence_fit": "1 when the vacancy needs no driving licence or the client holds one, else 0.",
    "certificate_coverage": "Share of the vacancy's required certificates the client holds; 1 when none are required.",
    "months_since_intake": "Months between the client's intake at the Werkplein and the reference date (time on the caseload / on benefit).",
    "education_rank": "Highest completed education, 0 (basic) to 7 (wo); -1 when unknown.",
    "complexity": "Case complexity 1-3 from the diagnosis.",
    "supported_work": "1 when the vacancy suits supported work (loonkostensubsidie), else 0.",
}
FEATURE_COLUMNS: list[str] = list(FEATURE_DOCS)
assert not set(PROTECTED_ATTRIBUTES) & set(FEATURE_COLUMNS), "protected attributes are never features"


def _one_ordinal(value) -> float:
    if value is None:
        value = dt.date.today()
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if not isinstance(value, dt.date):
        raise TypeError(f"as_of must be a date, got {value!r}")
    return float(value.toordinal())


def _as_of_ordinal(as_of):
    """A date (scalar) or one date per pair (sequence) -> ordinal day number(s)."""
    if isinstance(as_of, (list, tuple, np.ndarray, pd.Series)):
        return np.array([_one_ordinal(x) for x in as_of], dtype=float)
    return _one_ordinal(as_of)


SKILL_FEATURES = ("skill_similarity", "essential_coverage", "optional_coverage", "transferable_similarity",
                  "essential_matched", "essential_missing")


def compute_features(index, ci, vi, as_of=None, skill: dict[str, np.ndarray] | None = None,
                     distance_km: np.ndarray | None = None, with_ids: bool = True) -> pd.DataFrame:
    """`compute_feature_arrays` as a frame: `client_id`, `vacancy_id` (unless `with_ids` is
    False) and FEATURE_COLUMNS, one row per pair in the order given."""
    ci = np.asarray(ci, dtype=np.int64)
    vi = np.asarray(vi, dtype=np.int64)
    out = compute_feature_arrays(index, ci, vi, as_of=as_of, skill=skill, distance_km=distance_km)
    n = len(out[FEATURE_COLUMNS[0]])
    data = {}
    if with_ids:
        data = {"client_id": index.client_ids[np.broadcast_to(ci, (n,))], "vacancy_id": index.vacancy_ids[np.broadcast_to(vi, (n,))]}
    data.update(out)
    return pd.DataFrame(data)


def hours_fit(index, ci, vi) -> np.ndarray:
    """min(1, client hours / vacancy hours); 1 for a flexible vacancy."""
    vh = index.v_hours[vi]
    ch = index.c_hours[ci]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(vh) | (vh <= 0), 1.0, np.minimum(1.0, np.nan_to_num(ch, nan=0.0) / vh))


def rung_arrays(index, ci) -> tuple[np.ndarray, np.ndarray]:
    """(ladder_rung with 0 = not measured, rung_known as 0/1)."""
    rung = index.c_rung[ci].astype(float)
    return rung, (rung > 0).astype(float)


def compute_feature_arrays(index, ci, vi, as_of=None, skill: dict[str, np.ndarray] | None = None,
                           distance_km: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Features for pairs given as row positions in a `MatchIndex` (vectorised).

    `as_of`: the reference date (default today), or one date per pair. Returns
    {feature name: float array}, in FEATURE_COLUMNS order, one entry per pair in the order
    given (ci or vi may be a single row, broadcast).

    `skill` and `distance_km` let the matcher pass the skill quantities and distances it
    already computed for these pairs over all rows at once (`MatchIndex.vacancy_skill_scores`,
    the filters); they are the same numbers the row-wise path computes (tested), so the
    features stay one definition.
    """
    ci = np.asarray(ci, dtype=np.int64)
    vi = np.asarray(vi, dtype=np.int64)
    n = max(ci.size, vi.size)
    ci = np.broadcast_to(ci, (n,)) if ci.size == 1 else ci
    vi = np.broadcast_to(vi, (n,)) if vi.size == 1 else vi
    out: dict[str, np.ndarray] = {}
    if skill is not None:
        out.update({k: np.asarray(skill[k], dtype=float) for k in SKILL_FEATURES})
    elif n:
        out.update(index.pair_skill_arrays(np.ascontiguousarray(ci), np.ascontiguousarray(vi)))
    else:
        out.update({k: np.zeros(0) for k in SKILL_FEATURES})
    own, related = index.experience_years(ci, vi)
    out["occupation_experience_years"] = own
    out["related_experience_years"] = related
    if distance_km is not None:
        dist = np.asarray(distance_km, dtype=float)
    else:
        dist = haversine_km(index.c_lat[ci], index.c_lon[ci], index.v_lat[vi], index.v_lon[vi]) if n else np.zeros(0)
        dist = np.atleast_1d(np.asarray(dist, dtype=float))
    known = ~np.isnan(dist)
    out["distance_km"] = np.where(known, dist, 0.0)
    out["distance_known"] = known.astype(float)
    rung, known_rung = rung_arrays(index, ci)
    out["ladder_rung"] = rung
    out["rung_known"] = known_rung
    out["rung_margin"] = np.where(known_rung > 0, rung - index.required_rung(vi), 0.0)
    cd = index.c_dutch[ci]
    vd = np.maximum(index.v_dutch[vi], 0)
    out["dutch_margin"] = np.where(cd >= 0, cd - vd, 0).astype(float)
    out["dutch_known"] = (cd >= 0).astype(float)
    out["hours_fit"] = hours_fit(index, ci, vi)
    out["licence_fit"] = np.where(index.v_licence[vi] & ~index.c_licence[ci], 0.0, 1.0)
    need = index.v_cert_count[vi]
    out["certificate_coverage"] = np.ones(n)
    some = np.flatnonzero(need > 0)
    if len(some):
        held = np.asarray(index.c_certs[ci[some]].multiply(index.v_certs[vi[some]]).sum(axis=1)).ravel()
        out["certificate_coverage"][some] = held / need[some]
    intake = index.c_intake[ci]
    out["months_since_intake"] = np.where(np.isnan(intake), 0.0, np.maximum(_as_of_ordinal(as_of) - intake, 0.0) / 30.4375)
    out["education_rank"] = index.c_education[ci].astype(float)
    out["complexity"] = index.c_complexity[ci].astype(float)
    out["supported_work"] = index.v_supported[vi].astype(float)
    return {name: np.asarray(out[name], dtype=float) for name in FEATURE_COLUMNS}


def pair_features(clients_df, vacancies_df, pairs, taxonomy=None, config: MatchConfig | None = None,
                  as_of=None, index=None) -> pd.DataFrame:
    """Features of client x vacancy pairs: `client_id`, `vacancy_id` and FEATURE_COLUMNS.

    - `clients_df`, `vacancies_df`: frames with `plein.schema` columns (minimal ones with `id`
      and `skills` are completed with defaults). Ignored when `index` is given.
    - `pairs`: frame with `client_id`, `vacancy_id`, or an iterable of (client_id, vacancy_id).
    - `taxonomy`: a `plein.taxonomy.Taxonomy` (IDF, transferable skills, ISCO groups); optional.
    - `as_of`: reference date for time-dependent features (default today), or one per pair.
    - `index`: a prebuilt `MatchIndex` to reuse (much faster for repeated calls).

    Raises KeyError naming the first unknown client or vacancy id.
    """
    if index is None:
        from matching.index import MatchIndex

        index = MatchIndex(clients_df, vacancies_df, taxonomy=taxonomy, config=config)
    if isinstance(pairs, pd.DataFrame):
        missing = {"client_id", "vacancy_id"} - set(pairs.columns)
        if missing:
            raise ValueError(f"pairs: missing column(s) {sorted(missing)}")
        c_ids, v_ids = pairs["client_id"].astype(str).tolist(), pairs["vacancy_id"].astype(str).tolist()
    else:
        pairs = list(pairs)
        c_ids = [str(p[0]) for p in pairs]
        v_ids = [str(p[1]) for p in pairs]
    ci = np.fromiter((index.client_index(c) for c in c_ids), dtype=np.int64, count=len(c_ids))
    vi = np.fromiter((index.vacancy_index(v) for v in v_ids), dtype=np.int64, count=len(v_ids))
    return compute_features(index, ci, vi, as_of=as_of)
