"""Hard filters, vectorised over pairs, each able to say why a client is excluded.

A hard filter removes a client from a vacancy's list whatever the score: the client cannot
take the job (hours, licence, certificates, Dutch level, travel distance), is not ready for
it (participatieladder rung), is no longer looking (placed or exited), or the vacancy is
closed. Each filter is switched and tuned in `matching.config.FilterConfig`.

`evaluate_filters(index, ci, vi, as_of)` works on aligned arrays of client and vacancy rows
(one may be a scalar, broadcast) and returns a `FilterResult`: per filter a boolean array
"excluded", and per unknown-value rule a boolean array "passed although unknown". The
messages (`exclusion_messages`, `unknown_messages`) turn one pair's flags into sentences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from plein.domain import DUTCH_ORDER, haversine_km

#: Filter names, in the order reasons are given.
FILTERS = ("vacancy_closed", "status", "hours", "driving_licence", "certificates", "dutch_level", "distance", "readiness")

FILTER_DOCS = {
    "vacancy_closed": "The vacancy's close_date is on or before the reference date.",
    "status": "The client is placed or has exited (FilterConfig.excluded_statuses).",
    "hours": "The client's available hours are below min_hours_ratio of the vacancy's hours.",
    "driving_licence": "The vacancy requires a driving licence the client does not hold.",
    "certificates": "The client lacks a certificate the vacancy requires.",
    "dutch_level": "The client's Dutch level is below the vacancy's minimum.",
    "distance": "Home-to-workplace distance exceeds max_distance_km.",
    "readiness": "The client's rung is below the rung the vacancy needs (regular or supported work).",
}


def as_ordinal(as_of) -> int:
    if as_of is None:
        as_of = dt.date.today()
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if hasattr(as_of, "to_pydatetime"):
        as_of = as_of.to_pydatetime().date()
    return as_of.toordinal()


@dataclass
class FilterResult:
    excluded: dict[str, np.ndarray]  # filter -> bool per pair
    unknown: dict[str, np.ndarray]  # filter -> passed only because a value is unknown
    distance_km: np.ndarray  # NaN when unknown

    @property
    def passed(self) -> np.ndarray:
        out = np.ones(len(self.distance_km), dtype=bool)
        for arr in self.excluded.values():
            out &= ~arr
        return out

    def failed_filters(self, k: int) -> list[str]:
        return [f for f in FILTERS if f in self.excluded and bool(self.excluded[f][k])]

    def unknown_filters(self, k: int) -> list[str]:
        return [f for f in self.unknown if bool(self.unknown[f][k])]


def evaluate_filters(index, ci, vi, as_of=None, only=None) -> FilterResult:
    """Evaluate the hard filters for pairs (ci[k], vi[k]); ci or vi may be a scalar.

    `only`: the filters to evaluate (default all); the matcher runs the cheap ones over every
    candidate and distance and certificates over the examined ones.
    """
    cfg = index.config.filters
    want = set(FILTERS if only is None else only)
    ci = np.asarray(ci, dtype=np.int64)
    vi = np.asarray(vi, dtype=np.int64)
    n = max(ci.size, vi.size)
    ci_b = np.broadcast_to(ci, (n,)) if ci.ndim == 0 or ci.size == 1 else ci
    vi_b = np.broadcast_to(vi, (n,)) if vi.ndim == 0 or vi.size == 1 else vi
    scalar_v = vi.size == 1
    zeros = np.zeros(n, dtype=bool)
    excluded: dict[str, np.ndarray] = {}
    unknown: dict[str, np.ndarray] = {}

    # vacancy closed
    if cfg.exclude_closed_vacancies and "vacancy_closed" in want:
        close = index.v_close[vi_b]
        excluded["vacancy_closed"] = ~np.isnan(close) & (close <= as_ordinal(as_of))
    # status: placed / exited
    if "status" in want:
        excluded["status"] = index.c_excluded_status[ci_b].copy() if cfg.excluded_statuses else zeros
    # hours
    if cfg.min_hours_ratio is not None and "hours" in want:
        vh = index.v_hours[vi_b]
        ch = index.c_hours[ci_b]
        with np.errstate(invalid="ignore"):
            excluded["hours"] = ~np.isnan(vh) & (vh > 0) & (np.nan_to_num(ch, nan=0.0) < cfg.min_hours_ratio * vh)
    # driving licence
    if cfg.driving_licence and "driving_licence" in want:
        excluded["driving_licence"] = index.v_licence[vi_b] & ~index.c_licence[ci_b]
    # certificates
    if cfg.certificates and "certificates" in want:
        need = index.v_cert_count[vi_b]
        if index.v_certs.nnz == 0:
            excluded["certificates"] = zeros
        elif scalar_v:
            row = index.v_certs.getrow(int(vi.ravel()[0]))
            if row.nnz == 0:
                excluded["certificates"] = zeros
            else:
                held = np.asarray(index.c_certs[ci_b][:, row.indices].sum(axis=1)).ravel()
                excluded["certificates"] = held < row.nnz
        else:
            held = np.asarray(index.c_certs[ci_b].multiply(index.v_certs[vi_b]).sum(axis=1)).ravel()
            excluded["certificates"] = held < need
    # Dutch level
    if cfg.dutch_level and "dutch_level" in want:
        need = index.v_dutch[vi_b]
        have = index.c_dutch[ci_b]
        requires = need > 0
        unknown_level = have < 0
        excluded["dutch_level"] = requires & ((~unknown_level & (have < need)) | (unknown_level & (not cfg.unknown_dutch_passes)))
        unknown["dutch_level"] = requires & unknown_level & cfg.unknown_dutch_passes
    # distance
    if "distance" in want:
        dist = haversine_km(index.c_lat[ci_b], index.c_lon[ci_b], index.v_lat[vi_b], index.v_lon[vi_b]) if n else np.zeros(0)
        dist = np.atleast_1d(np.asarray(dist, dtype=float))
    else:
        dist = np.full(n, np.nan)
    if cfg.max_distance_km is not None and "distance" in want:
        unknown_d = np.isnan(dist)
        with np.errstate(invalid="ignore"):
            too_far = ~unknown_d & (dist > cfg.max_distance_km)
        excluded["distance"] = too_far | (unknown_d & (not cfg.unknown_distance_passes))
        unknown["distance"] = unknown_d & cfg.unknown_distance_passes
    # readiness on the participatieladder
    if (cfg.min_rung_regular is not None or cfg.min_rung_supported is not None) and "readiness" in want:
        rung = index.c_rung[ci_b]
        required = index.required_rung(vi_b)
        unmeasured = rung <= 0
        excluded["readiness"] = (~unmeasured & (rung < required)) | (unmeasured & (required > 0) & (not cfg.unknown_rung_passes))
        unknown["readiness"] = unmeasured & (required > 0) & cfg.unknown_rung_passes
    return FilterResult(excluded, unknown, dist)


def _dutch_name(rank: int) -> str:
    return DUTCH_ORDER[rank].value if 0 <= rank < len(DUTCH_ORDER) else "unknown"


def exclusion_messages(index, c: int, v: int, failed: list[str], distance_km: float) -> list[dict]:
    """One sentence per failed filter for client row `c` and vacancy row `v`."""
    cfg = index.config.filters
    out = []
    for f in failed:
        if f == "vacancy_closed":
            msg = f"the vacancy closed on {dt.date.fromordinal(int(index.v_close[v])).isoformat()}"
        elif f == "status":
            msg = f"the client's status is {index.c_status[c]} (not looking for work through the Werkplein)"
        elif f == "hours":
            ch = index.c_hours[c]
            msg = (f"the client is available {0 if np.isnan(ch) else int(ch)} h/week, below {cfg.min_hours_ratio:.0%} "
                   f"of the vacancy's {int(index.v_hours[v])} h")
        elif f == "driving_licence":
            msg = "the vacancy requires a driving licence and the client has none"
        elif f == "certificates":
            need = set(index.v_certs.getrow(v).indices)
            have = set(index.c_certs.getrow(c).indices)
            names = {j: k for k, j in index.cert_vocab.items()}
            msg = "the client lacks required certificate(s): " + ", ".join(sorted(names[j] for j in need - have))
        elif f == "dutch_level":
            have = index.c_dutch[c]
            need = _dutch_name(index.v_dutch[v])
            msg = (f"the client's Dutch level is unknown and unknown levels are excluded (vacancy needs {need})" if have < 0
                   else f"the client's Dutch level {_dutch_name(have)} is below the required {need}")
        elif f == "distance":
            msg = (f"the client lives {distance_km:.1f} km from the workplace, more than {cfg.max_distance_km:g} km"
                   if not np.isnan(distance_km) else "the distance is unknown and unknown distances are excluded")
        elif f == "readiness":
            rung = index.c_rung[c]
            req = int(index.required_rung(np.array([v]))[0])
            kind = "supported-work" if index.v_supported[v] else "regular"
            msg = (f"the client's ladder rung is not measured and unmeasured clients are excluded ({kind} jobs need rung {req})"
                   if rung <= 0 else f"the client is on rung {rung} of the participatieladder; {kind} jobs need rung {req} or higher")
        else:  # pragma: no cover - FILTERS is closed
            msg = f + " filter"
        out.append({"filter": f, "message": msg})
    return out


def unknown_messages(index, c: int, v: int, unknown: list[str]) -> list[str]:
    """Notes for filters passed only because the client's value is unknown."""
    notes = []
    for f in unknown:
        if f == "dutch_level":
            notes.append(f"Dutch level unknown: passed the Dutch filter (vacancy needs {_dutch_name(index.v_dutch[v])}); check it")
        elif f == "distance":
            notes.append("home or workplace location unknown: passed the distance filter; check travel")
        elif f == "readiness":
            req = int(index.required_rung(np.array([v]))[0])
            notes.append(f"ladder rung not measured: passed the readiness filter (the vacancy needs rung {req}); measure it")
    return notes
