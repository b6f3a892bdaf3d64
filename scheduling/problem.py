"""From a Region to an assignment core: who may go where, at what cost.

Steps (all vectorised; a 50k-client region builds in seconds):

1. **Coaches** after the what-if changes (absence from a date, leaving, capacity), available
   or not on the plan date, with capacity in caseload points and a hard client maximum.
2. **Clients** in the caseload (status active or placed) with their caseload points and
   required specialisations (`plein.domain.required_specialisations`).
3. **Movable clients** by mode: everyone (full), clients without a coach (intake), or only the
   clients that must move (what-if: their coach is gone or no longer eligible, or their coach is
   over capacity after the change). Everyone else is *fixed* and only uses capacity.
4. **Classes**: movable clients that are identical for the model (same current coach, needs,
   municipality, points, target sectors, language need, postcode area, pins and forbids) are one
   item with a multiplicity; the solver decides how many of a class go where.
5. **Eligible pairs only**: a coach who is available, holds every required specialisation and
   serves the client's municipality (pins narrow to one coach; forbids remove one). Per pair the
   cost parts are kept (handover, sector fit, travel, language) so every move can be explained.

No SQL here: the Region comes from storage or the generator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from plein.domain import ClientStatus, TeamKind, haversine_km
from plein.progress import ProgressCallback
from plein.region import Region
from scheduling.config import ScheduleConfig
from scheduling.core import AssignmentCore, Balance
from scheduling.placement import PairCatalogue, PlacementPlan, count_certificate, filling_cost, placement_plan
from scheduling.solve import LIGHTEN, SolveOptions, SolveResult, lp_start

MODES = ("full", "intake", "what_if")
#: candidate pairs from which the placement plan over every eligible pair is computed in any
#: mode; below it a full rebalance takes the plan where some clients must stay out
#: (`ScheduleConfig.full_plan_min_pairs`), and otherwise the solver's own LP, CP-SAT and
#: the completion place everyone they can
PLACEMENT_MIN_PAIRS = 200_000
POINT_SCALE = 100  # solver works in 0.01 caseload points
#: in what-if mode a voluntary handover costs this many times the handover weight
WHAT_IF_HANDOVER_FACTOR = 100


@dataclass
class ScheduleOptions:
    """What to optimise. All fields JSON-friendly (`to_dict` / `from_dict`)."""

    plan_date: dt.date | None = None  # default: today
    #: client id -> coach id: the client must go to this coach
    pins: dict[str, str] = field(default_factory=dict)
    #: (client id, coach id) pairs that must not be made
    forbids: list[tuple[str, str]] = field(default_factory=list)
    #: what-if: (coach id, first day absent, last day or None); counts unless it has ended by
    #: the plan date (a what-if prepares for an absence that begins later)
    coach_absent: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    #: what-if: coaches who leave (inactive from now)
    coach_leaves: list[str] = field(default_factory=list)
    #: what-if: coach id -> new capacity in caseload points
    capacity: dict[str, float] = field(default_factory=dict)
    max_handovers: int | None = None
    time_limit: float = 30.0
    seed: int = 0
    #: same seed and input give the same proposal (single-threaded, work-limited search)
    deterministic: bool = True
    config: ScheduleConfig = field(default_factory=ScheduleConfig)

    def effective_date(self) -> dt.date:
        return self.plan_date or dt.date.today()

    def to_dict(self) -> dict:
        return {
            "plan_date": self.plan_date.isoformat() if self.plan_date else None,
            "pins": dict(self.pins),
            "forbids": [list(p) for p in self.forbids],
            "coach_absent": [[c, s.isoformat(), e.isoformat() if e else None] for c, s, e in self.coach_absent],
            "coach_leaves": list(self.coach_leaves),
            "capacity": dict(self.capacity),
            "max_handovers": self.max_handovers,
            "time_limit": self.time_limit,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "config": self.config.to_dict(),
        }

    #: the longest time limit a run may ask for (seconds): a job holds the optimiser's worker
    MAX_TIME_LIMIT = 3600.0

    @classmethod
    def from_dict(cls, d: dict) -> ScheduleOptions:
        """Build from a JSON-friendly dict. Everything that can be checked without the region
        is: unknown keys (a typo such as ``time_limt`` would silently run with the default),
        the time limit's range, negative capacities or handover caps, absences that end before
        they begin. Coach and client ids are checked against the region (`check_ids`)."""
        def day(v):
            return dt.date.fromisoformat(v) if isinstance(v, str) else v

        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        out = cls(
            plan_date=day(d.get("plan_date")),
            pins=dict(d.get("pins") or {}),
            forbids=[tuple(p) for p in d.get("forbids") or []],
            coach_absent=[(c, day(s), day(e)) for c, s, e in d.get("coach_absent") or []],
            coach_leaves=list(d.get("coach_leaves") or []),
            capacity={k: float(v) for k, v in (d.get("capacity") or {}).items()},
            max_handovers=d.get("max_handovers"),
            time_limit=float(d.get("time_limit", 30.0)),
            seed=int(d.get("seed", 0)),
            deterministic=bool(d.get("deterministic", True)),
            config=ScheduleConfig.from_dict(d.get("config")),
        )
        if not 0 < out.time_limit <= cls.MAX_TIME_LIMIT:
            raise ValueError(f"time_limit must be above 0 and at most {cls.MAX_TIME_LIMIT:g} seconds (got {out.time_limit:g})")
        if out.max_handovers is not None and out.max_handovers < 0:
            raise ValueError(f"max_handovers must not be negative (got {out.max_handovers})")
        for cid, pts in out.capacity.items():
            if not math.isfinite(pts) or pts < 0:
                raise ValueError(f"capacity for coach {cid!r} must be a number of points, 0 or more (got {pts:g})")
        for cid, start, end in out.coach_absent:
            if start is None:
                raise ValueError(f"coach_absent for coach {cid!r} needs a first day")
            if end is not None and end < start:
                raise ValueError(f"coach_absent for coach {cid!r} ends ({end}) before it begins ({start})")
        return out

    def named_ids(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """The coaches and the clients these options name, by where they name them."""
        coaches = {"coach_leaves": list(self.coach_leaves), "coach_absent": [c for c, _, _ in self.coach_absent],
                   "capacity": list(self.capacity), "pins (coach)": list(self.pins.values()),
                   "forbids (coach)": [co for _, co in self.forbids]}
        clients = {"pins": list(self.pins), "forbids": [cl for cl, _ in self.forbids]}
        return coaches, clients

    def check_ids(self, coach_ids, client_ids) -> None:
        """ValueError naming every coach or client these options name that the region lacks."""
        coaches, clients = set(map(str, coach_ids)), set(map(str, client_ids))
        named_coaches, named_clients = self.named_ids()
        bad = [f"{where}: coach {c!r}" for where, ids in named_coaches.items() for c in ids if str(c) not in coaches]
        bad += [f"{where}: client {c!r}" for where, ids in named_clients.items() for c in ids if str(c) not in clients]
        if bad:
            raise ValueError("the options name coaches not in the region or clients not in the caseload "
                             "(unknown, or exited): " + "; ".join(bad))


@dataclass
class CaseloadProblem:
    """The built problem: lookups from solver indices back to clients and coaches, and the core."""

    mode: str
    options: ScheduleOptions
    coach_ids: list[str]
    coach_team: list[str | None]
    team_ids: list[str]
    available: np.ndarray  # bool per coach
    unavailable_reason: list[str | None]
    cap_points: np.ndarray  # float per coach (after what-if)
    max_clients: np.ndarray  # int per coach
    clients: pd.DataFrame  # clients in the caseload, index 0..N-1, with derived columns
    client_points: np.ndarray  # float
    current: np.ndarray  # int coach index per client, -1 none
    movable: np.ndarray  # bool per client
    client_class: np.ndarray  # class per client, -1 fixed
    class_members: list[np.ndarray]  # client indices per class (sorted by id)
    core: AssignmentCore
    parts: dict[str, np.ndarray]  # pair cost parts: handover, sector, travel, language
    pair_km: np.ndarray  # travel km per pair
    eligible_count: np.ndarray  # eligible coaches per class (before candidate pruning)
    forced_current: np.ndarray  # bool per client: the current coach is gone or ineligible
    fixed_points: np.ndarray  # per coach, fixed clients' points
    fixed_count: np.ndarray
    need: list[frozenset]  # required specialisations per client
    why_ineligible: dict[int, str]  # client -> reason the current coach cannot keep them
    coach_attrs: dict[str, list]  # specs, munis, langs, lat, lon, team_kind, team_secs per coach
    client_lat: np.ndarray
    client_lon: np.ndarray
    client_targets: list[tuple[str, ...]]
    fingerprint: str = ""
    #: every eligible pair by eligibility group (the core may hold only candidate pairs)
    catalogue: PairCatalogue | None = None
    #: the placement plan (regional scale only)
    plan: PlacementPlan | None = None
    #: builds the core again over its pairs (candidates or every eligible pair) plus the pairs
    #: of given fillings ((items, agents, quantities), the first one the start): (core, parts,
    #: pair_km); `build_problem` always sets it
    with_fillings: object | None = field(default=None, repr=False)
    #: handovers at the what-if's price (a what-if, widened or not): the placement plan's LP
    #: then weighs a client left out against the handovers that make room, so the units it
    #: leaves out are no floor on the count (`explain.joint_check` solves the count alone)
    what_if_price: bool = False
    #: the run a what-if widens to (everyone may move, only to make room; `run_optimisation`)
    widened: bool = False
    #: the joint check's LP (`placement.shortfall`) being solved beside the search
    #: (`explain.start_joint_check`): a `concurrent.futures.Future`, or None
    joint_shortfall: object | None = field(default=None, repr=False)

    @property
    def n_coaches(self) -> int:
        return len(self.coach_ids)


def _as_list(v) -> list:
    if v is None:
        return []
    if isinstance(v, float) and math.isnan(v):
        return []
    if isinstance(v, str):
        return [s for s in v.split(";") if s]
    return list(v)


def _as_date(v) -> dt.date | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date()
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    raise ValueError(f"not a date: {v!r}")


def _none(v):
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def text_column(column: pd.Series) -> np.ndarray:
    """A column as Python strings (an object array), '' where it is empty (None, NaN): what
    `str` gives element by element, without iterating a pandas (Arrow) column in Python (at
    50k clients 0.3 s of an intake's 1.5 s went to that)."""
    out = column.astype(str).to_numpy(dtype=object)
    out[column.isna().to_numpy()] = ""
    return out


def caseload_fingerprint(region: Region, options: ScheduleOptions | None = None) -> str:
    """Hash of the caseload state a proposal depends on: every client's coach and status, the
    coaches' availability-relevant fields and the absences. Approval recomputes it from the
    database and refuses a proposal computed from another state (stale)."""
    h = hashlib.sha256()
    cl = region.clients
    rows = sorted(zip(text_column(cl["id"]), text_column(cl["coach_id"]), text_column(cl["status"]))) if len(cl) else []
    h.update(json.dumps(rows).encode())
    co = region.coaches
    crow = sorted(
        (str(r.id), str(_none(r.team_id)), sorted(_as_list(r.specialisations)), float(r.capacity_points),
         int(r.max_clients), sorted(_as_list(r.municipalities)), bool(r.active))
        for r in co.itertuples(index=False)
    )
    h.update(json.dumps(crow, default=str).encode())
    ab = region.coach_absences
    arow = sorted((str(r.coach_id), str(_as_date(r.start_date)), str(_as_date(r.end_date))) for r in ab.itertuples(index=False))
    h.update(json.dumps(arow).encode())
    return h.hexdigest()[:32]


SPEC_ORDER = ("ww", "bijstand", "youth", "newcomers", "special_groups")


def _set_mask(specs) -> int:
    return sum(1 << SPEC_ORDER.index(sp) for sp in specs if sp in SPEC_ORDER)


def _mask_set(mask: int) -> frozenset:
    return frozenset(sp for b, sp in enumerate(SPEC_ORDER) if mask >> b & 1)


def _bool_col(df: pd.DataFrame, col: str) -> np.ndarray:
    return df[col].astype(object).where(df[col].notna(), False).astype(bool).to_numpy()


def need_masks(cl: pd.DataFrame) -> np.ndarray:
    """Required specialisations per client as bit masks (SPEC_ORDER), vectorised; the same rule
    as `plein.domain.required_specialisations` (checked against it in the tests)."""
    benefit = cl["benefit_type"].astype(str).to_numpy()
    mask = np.where(benefit == "ww", 1, 0) | np.where(benefit == "bijstand", 2, 0)
    mask |= np.where(cl["age_band"].astype(str).to_numpy() == "18-26", 4, 0)
    mask |= np.where(_bool_col(cl, "newcomer"), 8, 0)
    mask |= np.where(_bool_col(cl, "special_group"), 16, 0)
    return mask.astype(np.int64)


def client_points(cl: pd.DataFrame, cfg: ScheduleConfig) -> np.ndarray:
    """Caseload points per client, vectorised (`CaseloadPoints.points` is the rule)."""
    cp = cfg.points
    benefit = cl["benefit_type"].astype(str)
    unknown = sorted(set(benefit) - set(cp.benefit))
    if unknown:
        raise ValueError(f"caseload points: no base points for benefit type(s) {unknown}")
    base = benefit.map(cp.benefit).to_numpy(dtype=float)
    rung = pd.to_numeric(cl["ladder_rung"], errors="coerce").to_numpy(dtype=float)
    rung_key = np.where(np.isnan(rung), -1, rung).astype(int)
    rung_factor = np.empty(len(cl))
    for k in np.unique(rung_key):
        key = "unknown" if k < 0 else str(k)
        if key not in cp.rung:
            raise ValueError(f"caseload points: no factor for ladder rung {key}")
        rung_factor[rung_key == k] = cp.rung[key]
    comp = pd.to_numeric(cl["complexity"], errors="coerce").fillna(1).to_numpy(dtype=float).astype(int)
    comp_factor = np.empty(len(cl))
    for k in np.unique(comp):
        if str(k) not in cp.complexity:
            raise ValueError(f"caseload points: no factor for complexity {k}")
        comp_factor[comp == k] = cp.complexity[str(k)]
    p = base * rung_factor * comp_factor + cp.newcomer_extra * _bool_col(cl, "newcomer") + cp.special_group_extra * _bool_col(cl, "special_group")
    return np.round(p, 2)


def coach_availability(region: Region, day: dt.date | None = None) -> dict[str, str | None]:
    """Coach id -> why the coach takes no clients on `day` (default today: 'has left
    (inactive)' or the absence), None for a coach who is available."""
    co, reasons = _coach_frame(region, ScheduleOptions(plan_date=day))
    return dict(zip(co["id"].astype(str), reasons))


def _coach_frame(region: Region, options: ScheduleOptions) -> tuple[pd.DataFrame, list[str | None]]:
    co = region.coaches.copy().reset_index(drop=True)
    if co["id"].duplicated().any():
        raise ValueError(f"coaches: duplicate ids {co['id'][co['id'].duplicated()].tolist()[:5]}")
    for cid, pts in options.capacity.items():
        if pts < 0:
            raise ValueError(f"capacity for coach {cid!r} must not be negative (got {pts})")
        co.loc[co["id"] == cid, "capacity_points"] = float(pts)
    day = options.effective_date()
    absent: dict[str, str] = {}
    ab = region.coach_absences
    spans = [(str(r.coach_id), _as_date(r.start_date), _as_date(r.end_date), _none(r.reason)) for r in ab.itertuples(index=False)]
    # the region's absences count where they have begun by the plan date; a what-if's own
    # absences are its scenario ("coach X is absent from 10 December"), so they count unless
    # they have ended by then: a what-if prepares for an absence before it begins
    spans = [(*span, False) for span in spans] + [(c, s, e, "what-if absence", True) for c, s, e in options.coach_absent]
    for cid, start, end, reason, scenario in spans:
        if start is None:
            continue
        if (scenario or start <= day) and (end is None or day <= end):
            absent[cid] = f"absent from {start.isoformat()}" + (f" to {end.isoformat()}" if end else "") + (f" ({reason})" if reason else "")
    reasons: list[str | None] = []
    for r in co.itertuples(index=False):
        cid = str(r.id)
        active = _none(r.active)
        if cid in options.coach_leaves:
            reasons.append("leaves (what-if)")
        elif active is not None and not bool(active):
            reasons.append("has left (inactive)")
        elif cid in absent:
            reasons.append(absent[cid])
        else:
            reasons.append(None)
    return co, reasons


def _sector_cost(targets: tuple[str, ...], team_kind: str | None, team_sectors: frozenset, cfg: ScheduleConfig) -> int:
    if not targets:
        return 0
    if team_kind is None or team_kind == TeamKind.INTEGRATED.value or not team_sectors:
        return cfg.weights.integrated_mismatch
    return 0 if team_sectors.intersection(targets) else cfg.weights.sector_mismatch


def build_problem(region: Region, mode: str, options: ScheduleOptions,
                  progress: ProgressCallback | None = None, widened: bool = False,
                  time_limit: float | None = None) -> CaseloadProblem:
    """Build the caseload problem; raises ValueError naming any inconsistent input. At
    regional scale building includes the placement plan, whose stages `progress` hears.
    `widened` (with mode ``full``): a what-if widened to everyone, where a voluntary handover
    still costs `WHAT_IF_HANDOVER_FACTOR` times the weight, so that clients move only to make
    room for those who must. `time_limit`: what this build and the solve after it have
    (`options.time_limit` unless given: a what-if shares it with its widened run)."""
    t_build = time.perf_counter()
    time_limit = options.time_limit if time_limit is None else time_limit
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    cfg = options.config
    w = cfg.weights
    co, unavailable_reason = _coach_frame(region, options)
    n_co = len(co)
    coach_ids = co["id"].astype(str).tolist()
    coach_index = {c: i for i, c in enumerate(coach_ids)}
    teams = region.teams
    team_info = {str(t.id): (str(_none(t.kind) or TeamKind.SECTOR.value), frozenset(_as_list(t.sectors))) for t in teams.itertuples(index=False)}
    coach_team = [None if _none(t) is None else str(t) for t in co["team_id"]]
    for cid, t in zip(coach_ids, coach_team):
        if t is not None and t not in team_info:
            raise ValueError(f"coach {cid!r} belongs to team {t!r}, which is not in the region's teams")
    team_ids = sorted({t for t in coach_team if t is not None})
    team_idx = np.array([team_ids.index(t) if t is not None else -1 for t in coach_team], dtype=np.int32)
    available = np.array([r is None for r in unavailable_reason], dtype=bool)
    cap_points = co["capacity_points"].map(lambda v: 100.0 if _none(v) is None else float(v)).to_numpy(dtype=float)
    cap_int = np.rint(cap_points * POINT_SCALE).astype(np.int64)  # the solver's units (0.01 point)
    max_clients = co["max_clients"].map(lambda v: 80 if _none(v) is None else int(v)).to_numpy(dtype=np.int64)
    coach_specs = [frozenset(_as_list(s)) for s in co["specialisations"]]
    coach_munis = [frozenset(_as_list(s)) for s in co["municipalities"]]
    coach_langs = [frozenset(_as_list(s)) or frozenset({"nl"}) for s in co["languages"]]
    muni = region.municipalities
    muni_xy = {str(r.id): (_none(r.lat), _none(r.lon)) for r in muni.itertuples(index=False)}
    coach_lat = np.full(n_co, np.nan)
    coach_lon = np.full(n_co, np.nan)
    for i, r in enumerate(co.itertuples(index=False)):
        lat, lon = _none(r.lat), _none(r.lon)
        if lat is None or lon is None:
            ms = sorted(coach_munis[i]) or sorted(muni_xy)
            for mid in ms:
                if mid in muni_xy and muni_xy[mid][0] is not None:
                    lat, lon = muni_xy[mid]
                    break
        if lat is not None and lon is not None:
            coach_lat[i], coach_lon[i] = float(lat), float(lon)

    # ---- clients in the caseload
    cl = region.clients
    in_caseload = cl["status"].astype(str).isin([ClientStatus.ACTIVE.value, ClientStatus.PLACED.value]) if len(cl) else pd.Series([], dtype=bool)
    cl = cl[in_caseload].sort_values("id").reset_index(drop=True)
    n = len(cl)
    ids = cl["id"].astype(str).tolist()
    if len(set(ids)) != n:
        raise ValueError("clients: duplicate client ids")
    points = client_points(cl, cfg)
    pts_int = np.rint(points * POINT_SCALE).astype(np.int64)
    need_mask = need_masks(cl)
    need_sets = {int(mk): _mask_set(int(mk)) for mk in np.unique(need_mask)}
    need = [need_sets[int(mk)] for mk in need_mask]
    muni_col = cl["municipality"].astype(object).where(cl["municipality"].notna(), None) if n else pd.Series([], dtype=object)
    client_muni = [None if m is None else str(m) for m in muni_col]
    current = (
        cl["coach_id"].astype(object).where(cl["coach_id"].notna(), None).map(lambda v: coach_index.get(str(v), -1) if v is not None else -1)
        .to_numpy(dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    )
    client_index = {c: i for i, c in enumerate(ids)}
    options.check_ids(coach_index, client_index)
    forbid_by_client: dict[int, set[int]] = {}
    for c, k in options.forbids:
        forbid_by_client.setdefault(client_index[c], set()).add(coach_index[k])
    pin_of = {client_index[c]: coach_index[k] for c, k in options.pins.items()}

    # ---- eligibility per (needs, municipality) signature
    sig_cache: dict[tuple, np.ndarray] = {}

    def eligible_mask(specs: frozenset, m: str | None) -> np.ndarray:
        key = (specs, m)
        if key not in sig_cache:
            sig_cache[key] = np.array(
                [available[i] and specs <= coach_specs[i] and (not coach_munis[i] or m is None or m in coach_munis[i]) for i in range(n_co)],
                dtype=bool,
            )
        return sig_cache[key]

    why_ineligible: dict[int, str] = {}
    # vectorised screen of every client against their current coach, then words for the few
    coach_mask = np.array([_set_mask(sp) for sp in coach_specs], dtype=np.int64)
    muni_ids = sorted({m for m in client_muni if m is not None} | {m for ms in coach_munis for m in ms})
    muni_pos = {m: i for i, m in enumerate(muni_ids)}
    serves = np.array([[(not coach_munis[i]) or (m in coach_munis[i]) for m in muni_ids] for i in range(n_co)], dtype=bool).reshape(n_co, len(muni_ids))
    cmuni = np.array([muni_pos[m] if m is not None else -1 for m in client_muni], dtype=np.int64)
    has = current >= 0
    k0 = np.maximum(current, 0)
    bad = np.zeros(n, dtype=bool)
    if n_co:
        bad = has & (~available[k0] | ((need_mask & ~coach_mask[k0]) != 0)
                     | ((cmuni >= 0) & ~serves[k0, np.maximum(cmuni, 0)]))
    candidates = set(np.flatnonzero(bad).tolist()) | set(forbid_by_client) | set(pin_of)
    forced_current = np.zeros(n, dtype=bool)
    for j in sorted(candidates):
        k = current[j]
        if k < 0:
            continue
        if not available[k]:
            forced_current[j] = True
            why_ineligible[j] = f"coach {coach_ids[k]} {unavailable_reason[k]}"
        elif not need[j] <= coach_specs[k]:
            forced_current[j] = True
            why_ineligible[j] = f"coach {coach_ids[k]} lacks specialisation {', '.join(sorted(need[j] - coach_specs[k]))}"
        elif coach_munis[k] and client_muni[j] is not None and client_muni[j] not in coach_munis[k]:
            forced_current[j] = True
            why_ineligible[j] = f"coach {coach_ids[k]} does not serve {client_muni[j]}"
        elif k in forbid_by_client.get(j, ()):
            forced_current[j] = True
            why_ineligible[j] = f"pair client-coach {coach_ids[k]} is forbidden"
        elif j in pin_of and pin_of[j] != k:
            forced_current[j] = True
            why_ineligible[j] = f"client is pinned to coach {coach_ids[pin_of[j]]}"

    # ---- movable clients by mode
    # a what-if answers for its change, a full rebalance for what was there before: clients
    # must move where their coach is gone (left or absent on the plan date) or a pin or a
    # forbid says so, or where a capacity the what-if *lowers* leaves their coach over it.
    # A coach who was over capacity before, or a specialisation or municipality that did
    # not fit before, is not the change (a demo what-if "coach-012 leaves" took 223 clients
    # off coaches already over capacity, most of them for want of room; specialisation
    # mismatches left 4-8 more without a coach in every what-if). Widened (some would be
    # stranded), everyone may move to make room, but what did not fit before still stays:
    # the mismatched clients are fixed, and a coach over capacity before keeps a model
    # capacity of the load they keep (`model_cap` below; the figures report the real one)
    scoped = mode == "what_if" or widened
    stay = over = lowered = None
    if scoped:
        must = np.zeros(n, dtype=bool)
        for j in np.flatnonzero(forced_current):
            k = current[j]
            must[j] = (not available[k]) or k in forbid_by_client.get(j, ()) or pin_of.get(j, k) != k
        stay = (current >= 0) & ~must
        load_p = np.bincount(current[stay], weights=pts_int[stay], minlength=n_co).astype(np.int64)
        load_n = np.bincount(current[stay], minlength=n_co).astype(np.int64)
        over_p = load_p > cap_int
        over_n = load_n > max_clients
        stored = {str(c): _none(v) for c, v in zip(region.coaches["id"], region.coaches["capacity_points"])}
        lowered = np.array([cid in options.capacity and stored.get(cid) is not None and options.capacity[cid] < float(stored[cid])
                            for cid in coach_ids], dtype=bool)
    if mode == "full" and not widened:
        movable = np.ones(n, dtype=bool)
    elif mode == "intake":
        movable = current < 0
    elif widened:
        movable = ~(forced_current & stay)
    else:  # what_if: only what must move
        movable = (current < 0) | must
        movable |= (current >= 0) & ((over_p | over_n) & lowered)[np.maximum(current, 0)]
    for j in pin_of:
        if current[j] != pin_of[j]:
            movable[j] = True

    fixed = ~movable & (current >= 0)
    fixed_points = np.bincount(current[fixed], weights=pts_int[fixed], minlength=n_co).astype(np.int64)
    fixed_count = np.bincount(current[fixed], minlength=n_co).astype(np.int64)

    # ---- classes of identical movable clients
    # copies: pandas may hand back a read-only view, and clients without coordinates get their
    # municipality's below
    lat = pd.to_numeric(cl["lat"], errors="coerce").to_numpy(dtype=float, copy=True) if n else np.zeros(0)
    lon = pd.to_numeric(cl["lon"], errors="coerce").to_numpy(dtype=float, copy=True) if n else np.zeros(0)
    for j in np.flatnonzero(np.isnan(lat) | np.isnan(lon)):
        if client_muni[j] in muni_xy and muni_xy[client_muni[j]][0] is not None:
            lat[j], lon[j] = muni_xy[client_muni[j]]
    pc4 = cl["postcode_area"].astype(object).where(cl["postcode_area"].notna(), None).tolist() if n else []
    targets = [tuple(sorted(t)) if isinstance(t, (list, tuple, np.ndarray)) else tuple(sorted(_as_list(t))) for t in cl["target_sectors"]]
    levels = cl["dutch_level"].astype(object).where(cl["dutch_level"].notna(), None) if n else pd.Series([], dtype=object)
    support_of = {lv: w.needs_language_support(lv) for lv in set(levels)}
    needs_support = [support_of[lv] for lv in levels]
    langs_col = cl["languages"].tolist()
    langs = [()] * n
    for j in np.flatnonzero(movable & np.array(needs_support, dtype=bool)) if n else []:
        langs[j] = tuple(sorted(set(_as_list(langs_col[j])) - {"nl"}))
    keys = {}
    client_class = np.full(n, -1, dtype=np.int64)
    members: list[list[int]] = []
    for j in np.flatnonzero(movable):
        loc = pc4[j] if pc4[j] is not None else (None if np.isnan(lat[j]) else (round(lat[j], 2), round(lon[j], 2)))
        key = (
            int(current[j]), bool(forced_current[j]), need[j], client_muni[j], int(pts_int[j]), targets[j],
            needs_support[j], langs[j], loc, pin_of.get(j, -1),
            tuple(sorted(forbid_by_client.get(j, ()))),
        )
        c = keys.get(key)
        if c is None:
            c = keys[key] = len(members)
            members.append([])
        members[c].append(j)
        client_class[j] = c
    class_members = [np.array(m, dtype=np.int64) for m in members]
    n_cls = len(class_members)

    # ---- eligible pairs and their cost parts
    # ---- coach-dependent cost tables (small): sector by target combination, travel by
    # location, language by language need; a pair's cost is three lookups
    eligible_count = np.zeros(n_cls, dtype=np.int64)
    rep = np.array([int(m[0]) for m in class_members], dtype=np.int64)
    cls_lat, cls_lon = np.full(n_cls, np.nan), np.full(n_cls, np.nan)
    if n_cls:
        cls_of = client_class[movable]
        la, lo = lat[movable], lon[movable]
        okc = ~(np.isnan(la) | np.isnan(lo))
        cnt = np.bincount(cls_of[okc], minlength=n_cls)
        with np.errstate(invalid="ignore", divide="ignore"):
            cls_lat = np.where(cnt > 0, np.bincount(cls_of[okc], weights=la[okc], minlength=n_cls) / np.maximum(cnt, 1), np.nan)
            cls_lon = np.where(cnt > 0, np.bincount(cls_of[okc], weights=lo[okc], minlength=n_cls) / np.maximum(cnt, 1), np.nan)
    team_kind = [team_info[t][0] if t is not None else None for t in coach_team]
    team_secs = [team_info[t][1] if t is not None else frozenset() for t in coach_team]
    target_ids: dict[tuple, int] = {}
    cls_target = np.array([target_ids.setdefault(targets[r], len(target_ids)) for r in rep], dtype=np.int64)
    sector_tab = np.zeros((max(1, len(target_ids)), n_co), dtype=np.int64)
    for tg, t_id in target_ids.items():
        sector_tab[t_id] = [_sector_cost(tg, team_kind[i], team_secs[i], cfg) for i in range(n_co)]
    loc_ids: dict[tuple, int] = {}
    cls_loc = np.array([loc_ids.setdefault((round(float(a), 4), round(float(b), 4)) if a == a and b == b else (None, None), len(loc_ids))
                        for a, b in zip(cls_lat, cls_lon)], dtype=np.int64)
    locs = np.array([(np.nan, np.nan) if k[0] is None else k for k in loc_ids], dtype=float).reshape(-1, 2)
    loc_km = np.zeros((max(1, len(locs)), n_co))
    if len(locs) and n_co:
        # by office: coaches share a few (the generated 50k region: 3 for 400 coaches), and the
        # classes' locations are ~41 000 (0.6 s a build over every coach)
        offices, office_of = np.unique(np.column_stack([coach_lat, coach_lon]).astype(float), axis=0, return_inverse=True)
        km = np.asarray(haversine_km(locs[:, :1], locs[:, 1:], offices[None, :, 0], offices[None, :, 1]), dtype=float)
        loc_km = np.nan_to_num(km.reshape(len(locs), len(offices)), nan=0.0)[:, office_of.ravel()]
    travel_tab = np.rint(np.maximum(loc_km - w.travel_free_km, 0.0) * w.travel_per_km).astype(np.int64)
    lang_ids: dict[tuple, int] = {(): 0}
    cls_lang = np.array([lang_ids.setdefault(langs[r], len(lang_ids)) if needs_support[r] else 0 for r in rep], dtype=np.int64)
    lang_tab = np.zeros((len(lang_ids), n_co), dtype=np.int64)
    if w.language:
        for lg, g in lang_ids.items():
            if lg:
                lang_tab[g] = [0 if set(lg) & coach_langs[i] else w.language for i in range(n_co)]

    # ---- candidate pairs per eligibility signature (needs, municipality). At regional scale a
    # class is eligible for 100-200 coaches; we keep its current coach, its K best coaches by
    # the coach-dependent cost, and the K2 eligible coaches with the most room now (so load can
    # flow out of overloaded caseloads). K = 0 keeps every eligible pair.
    k_cand, k_room = cfg.candidates_per_client, cfg.room_candidates
    cur_load = np.bincount(current[current >= 0], weights=points[current >= 0], minlength=n_co) if n_co else np.zeros(0)
    # room in both capacities: a coach at the client maximum has no room, whatever its points
    cur_count = np.bincount(current[current >= 0], minlength=n_co) if n_co else np.zeros(0)
    rel_count = np.where(max_clients > 0, cur_count / np.maximum(max_clients, 1), np.inf)
    room_rank = np.where(available & (cap_points > 0),
                         np.maximum(cur_load / np.where(cap_points > 0, cap_points, 1), rel_count), np.inf)
    cls_cur = current[rep] if n_cls else np.zeros(0, dtype=np.int64)
    sig_classes: dict[tuple, list[int]] = {}
    for c, j in enumerate(rep.tolist()):
        special = j in pin_of or j in forbid_by_client
        sig_classes.setdefault(("client", j) if special else (int(need_mask[j]), client_muni[j]), []).append(c)
    # eligible coaches per signature
    sig_lists, sig_agents, sig_masks = [], [], []
    for cls_list in sig_classes.values():
        j = rep[cls_list[0]]
        mask = eligible_mask(need[j], client_muni[j]).copy()
        for k in forbid_by_client.get(j, ()):
            mask[k] = False
        if j in pin_of:
            keep = pin_of[j]
            pinned_ok = mask[keep]
            mask[:] = False
            mask[keep] = pinned_ok
        ag = np.flatnonzero(mask)
        cls_arr = np.array(cls_list, dtype=np.int64)
        eligible_count[cls_arr] = len(ag)
        sig_lists.append(cls_arr)
        sig_agents.append(ag)
        sig_masks.append(mask)
    width = k_cand + k_room + 1
    n_eligible = sum(len(c) * len(ag) for c, ag in zip(sig_lists, sig_agents))
    # a full rebalance with the time for it keeps every eligible pair (`all_pairs_per_second`)
    if mode == "full" and n_eligible <= min(SolveOptions.lp_max_pairs, cfg.all_pairs_per_second * time_limit):
        k_cand = 0
    pruned = bool(k_cand) and any(len(ag) > width for ag in sig_agents)
    n_candidates = sum(len(c) * (min(len(ag), width) if k_cand else len(ag)) for c, ag in zip(sig_lists, sig_agents))
    cls_pts = pts_int[rep] if n_cls else np.zeros(0, dtype=np.int64)
    # a what-if, widened or not: a client moves only to make room (a handover at 100x)
    what_if_price = mode == "what_if" or widened
    h_cost = w.handover * (WHAT_IF_HANDOVER_FACTOR if what_if_price else 1)
    cls_forced = forced_current[rep] if n_cls else np.zeros(0, dtype=bool)
    mult_now = np.array([len(m) for m in class_members], dtype=np.int64)
    # every eligible pair, compressed by eligibility group: for the placement plan, a
    # bound valid beyond the candidates and the joint capacity check (`scheduling.placement`)
    cls_sig = np.zeros(n_cls, dtype=np.int64)
    for s_id, cls_arr in enumerate(sig_lists):
        cls_sig[cls_arr] = s_id
    base = int(cls_pts.max(initial=0)) + 1
    g_keys, item_group = np.unique(cls_sig * base + cls_pts, return_inverse=True)
    g_sig, g_pts = g_keys // base, g_keys % base
    g_agents = [sig_agents[s] for s in g_sig]
    group_start = np.concatenate([[0], np.cumsum([len(a) for a in g_agents])]).astype(np.int64)
    stay_agent = np.where((cls_cur >= 0) & ~cls_forced, cls_cur, -1)
    # the current coach counts as a stay only where it is eligible (else the move is forced)
    for c in np.flatnonzero(stay_agent >= 0):
        if not sig_masks[cls_sig[c]][cls_cur[c]]:
            stay_agent[c] = -1
    catalogue = PairCatalogue(
        item_group=item_group.ravel().astype(np.int64), group_start=group_start,
        group_agent=np.concatenate(g_agents).astype(np.int64) if g_agents else np.zeros(0, dtype=np.int64),
        group_usage=np.vstack([g_pts, np.ones(len(g_pts), dtype=np.int64)]).astype(np.int64),
        stay_agent=stay_agent.astype(np.int64), handover=int(h_cost),
        tables=((sector_tab, cls_target), (travel_tab, cls_loc), (lang_tab, cls_lang)),
    )
    # leaving a client out costs `unassigned`; in a widened what-if (the what-if itself keeps
    # them fixed) a client who keeps an eligible coach and is left out loses that coach: a
    # handover at the what-if's price on top, so their place goes to a client who must move or
    # had no coach only where that leaves fewer without a coach, not for a lower cost elsewhere
    # (3 coaches leaving an approved 50k caseload, `--seed 1`: at the plain price 195 clients
    # of other coaches lost theirs and 62 who had none were placed; now 132 and 2)
    u_cost = np.full(n_cls, w.unassigned, dtype=np.int64)
    if what_if_price:
        u_cost += np.where(stay_agent >= 0, h_cost, 0).astype(np.int64)
    plan = None
    # a full rebalance beyond the LP's size: where everyone fits, the start comes from the LP
    # over the candidate pairs (below), and the plan only ranks room and is the fallback
    lean = mode == "full" and n_candidates > SolveOptions.lp_max_pairs
    model_cap = np.vstack([cap_int, max_clients])
    if widened:
        # a coach over capacity before the what-if (and not by a capacity it lowers) keeps
        # what they have: the widened run may not make them shed (the what-if itself fixes
        # their clients). Until 2026-12-07 it did, as a full rebalance does
        keep = available & ~lowered
        model_cap[0] = np.where(keep & over_p, np.maximum(cap_int, load_p), cap_int)
        model_cap[1] = np.where(keep & over_n, np.maximum(max_clients, load_n), max_clients)
    cap_now = np.vstack([np.maximum(model_cap[0] - fixed_points, 0), np.maximum(model_cap[1] - fixed_count, 0)])
    with_plan = pruned and n_candidates > PLACEMENT_MIN_PAIRS
    cert = None  # (the whole number of clients every assignment leaves out, its multipliers)
    if not with_plan and mode == "full" and n_cls and n_eligible >= cfg.full_plan_min_pairs:
        # below the plan's usual scale a full rebalance takes the plan where some clients must
        # stay out: the plan places the most (`full_plan_min_pairs`). Where everyone fits
        # the LP's rounding, the search and the completion did better (5 000 clients, 40
        # coaches, `--seed 3`, 50 s: 106 822 without the plan, 107 992 with it)
        cert = count_certificate(catalogue, mult_now, cap_now)
        with_plan = cert is not None and cert[0] > 0
    if with_plan:
        # 0.75 of the limit; a what-if's (in wall-clock runs) counts from the start of the
        # build: its halves of the limit are short, and the search's floor after the plan
        # binds there (50k generated region, 3 coaches leave, 30 s: the widened run built
        # for 2.1 s before its plan, then planned for its 11.25 s and solved for its floor:
        # 16.5 s of its 15)
        plan_limit = 0.75 * time_limit
        if what_if_price and not options.deterministic:
            plan_limit -= time.perf_counter() - t_build
        plan = placement_plan(catalogue, mult_now, cap_now, u_cost,
                              time_limit=max(1.0, plan_limit), deterministic=options.deterministic,
                              # profiles: the clients' target sectors; not in a what-if, widened
                              # or not, where a client moves only to make room (a handover costs
                              # 10 000, a sector mismatch 40): 3 coaches leaving an approved 50k
                              # caseload, widened, 45.9 -> 29.8 s wall, 183 -> 168 handovers, 349
                              # out either way; the generated region's what-if itself, its plan
                              # 16.9 -> 12.5 s and its objective 92 119 999 -> 91 877 411
                              seed=options.seed, profile_table=None if what_if_price else 0,
                              progress=progress, lean_if_all_fit=lean)
        if plan is not None and len(plan.items):
            # room is judged in the plan's state, where the search starts
            plan_pts = np.bincount(plan.agents, weights=plan.quantity * cls_pts[plan.items], minlength=n_co) / POINT_SCALE
            plan_cnt = np.bincount(plan.agents, weights=plan.quantity, minlength=n_co)
            fixed_pts_f = fixed_points / POINT_SCALE
            room_rank = np.where(available & (cap_points > 0), np.maximum(
                (plan_pts + fixed_pts_f) / np.where(cap_points > 0, cap_points, 1),
                np.where(max_clients > 0, (plan_cnt + fixed_count) / np.maximum(max_clients, 1), np.inf)), np.inf)

    # ---- candidate pairs
    item_l, agent_l = [], []
    for cls_arr, ag, mask in zip(sig_lists, sig_agents, sig_masks):
        if not k_cand or len(ag) <= width:
            item_l.append(np.repeat(cls_arr, len(ag)))
            agent_l.append(np.tile(ag, len(cls_arr)))
            continue
        static = sector_tab[cls_target[cls_arr]][:, ag] + travel_tab[cls_loc[cls_arr]][:, ag] + lang_tab[cls_lang[cls_arr]][:, ag]
        best = ag[np.argpartition(static, k_cand, axis=1)[:, :k_cand]]
        # coaches with room, rotated over the classes so that together they reach all of them
        by_room = ag[np.argsort(room_rank[ag], kind="stable")]
        under = by_room[room_rank[by_room] < 1.0]
        pool = under if len(under) >= k_room else by_room[: max(k_room, len(under))]
        offs = (np.arange(len(cls_arr))[:, None] * k_room + np.arange(k_room)[None, :]) % len(pool)
        room = pool[offs]
        cur = np.where(mask[np.maximum(cls_cur[cls_arr], 0)] & (cls_cur[cls_arr] >= 0), cls_cur[cls_arr], -1)[:, None]
        cand = np.sort(np.hstack([best, room, cur]), axis=1)
        keep = cand >= 0
        keep[:, 1:] &= cand[:, 1:] != cand[:, :-1]
        rows = np.broadcast_to(cls_arr[:, None], cand.shape)
        item_l.append(rows[keep])
        agent_l.append(cand[keep])
    mult = np.array([len(m) for m in class_members], dtype=np.int64)
    capacity = cap_now
    denominator = np.where(available & (cap_int > 0), cap_int, 0)
    max_h = options.max_handovers if options.max_handovers is not None else cfg.max_handovers

    def make_core(fills: list[tuple]) -> tuple[AssignmentCore, dict, np.ndarray]:
        """The core over the candidate pairs (or every eligible pair) and the pairs of
        `fills` ((items, agents, quantities) each; the first is the start; no pair twice), its
        cost parts per pair and distances."""
        il, al = list(item_l), list(agent_l)
        for f in fills:
            il.append(f[0])
            al.append(f[1])
        pair_item = np.concatenate(il) if il else np.zeros(0, dtype=np.int64)
        pair_agent = np.concatenate(al) if al else np.zeros(0, dtype=np.int64)
        if pruned or fills:
            uniq = np.unique(pair_item * max(1, n_co) + pair_agent)
            pair_item, pair_agent = uniq // max(1, n_co), uniq % max(1, n_co)
        order = np.lexsort((pair_agent, pair_item))
        pair_item, pair_agent = pair_item[order], pair_agent[order]
        pr = rep[pair_item] if len(pair_item) else np.zeros(0, dtype=np.int64)
        cur_p = current[pr]
        voluntary = (cur_p >= 0) & ~forced_current[pr] & (pair_agent != cur_p)
        # what-if: only what must move moves, so a voluntary handover there outweighs any balance gain
        handover = np.where(voluntary, h_cost, 0).astype(np.int64)
        sector = sector_tab[cls_target[pair_item], pair_agent] if len(pair_item) else np.zeros(0, dtype=np.int64)
        km = loc_km[cls_loc[pair_item], pair_agent] if len(pair_item) else np.zeros(0)
        travel = travel_tab[cls_loc[pair_item], pair_agent] if len(pair_item) else np.zeros(0, dtype=np.int64)
        language = lang_tab[cls_lang[pair_item], pair_agent] if len(pair_item) else np.zeros(0, dtype=np.int64)
        usage = np.vstack([cls_pts[pair_item], np.ones(len(pair_item), dtype=np.int64)]) if len(pair_item) else np.zeros((2, 0), dtype=np.int64)
        core = AssignmentCore(
            multiplicity=mult,
            pair_item=pair_item,
            pair_agent=pair_agent,
            pair_cost=handover + sector + travel + language,
            usage=usage,
            capacity=capacity,
            resource_names=("points", "clients"),
            unassigned_cost=u_cost,
            balance=Balance(resource=0, denominator=denominator, team=team_idx, w_max=w.balance_max,
                            w_spread=w.balance_spread, w_team_spread=w.team_spread),
            base_load=fixed_points,
            move_mask=voluntary,
            max_moves=max_h,
            incumbent=_incumbent(pair_item, pair_agent, current[rep] if n_cls else np.zeros(0, dtype=np.int64), forced_current[rep] if n_cls else np.zeros(0, dtype=bool), mult),
            name=f"caseload/{mode}",
            catalogue=catalogue if pruned else None,
        )
        if fills:
            start = np.zeros(core.n_pairs, dtype=np.int64)
            start[np.searchsorted(pair_item * max(1, n_co) + pair_agent, fills[0][0] * max(1, n_co) + fills[0][1])] = fills[0][2]
            core.start = start
        return core, {"handover": handover, "sector": sector, "travel": travel, "language": language}, km

    plan_fill = (plan.items, plan.agents, plan.quantity) if plan is not None and len(plan.items) else None
    core, parts, km = make_core([plan_fill] if plan_fill is not None else [])
    if plan_fill is not None:
        notes = {
            "min_unassigned_lp": round(plan.min_unassigned, 2), "fewest_unassigned": plan.fewest_units,
            "plan_unassigned": plan.unassigned,
            "lp_value": round(plan.lp_value, 1), "seconds": round(plan.seconds, 2), "eligible_pairs": catalogue.n_pairs,
            "gathered": plan.gathered, "passes": plan.passes, "exchanged": plan.exchanged, "lp_method": plan.lp_method,
        }
        if plan.min_unassigned < 0.5 and lean:
            # everyone fits: the LP over the candidate pairs (each class priced at its own
            # costs, with the coaches that have room) rounded and made whole, when it costs
            # less than the plan (`solve.lp_start`); its pairs join the candidates and its LP
            # goes to the solve, which solves this LP (without the balance rows) beyond
            # `lp_max_pairs` and would otherwise solve it again. Wall-clock runs give it 0.91
            # of the limit less what building took (0.85 until 2026-12-06, when its exchange
            # ran out of time on a slower machine; the solve after it keeps 14 %)
            limit = None if options.deterministic else max(1.0, 0.91 * time_limit - (time.perf_counter() - t_build))
            if progress is not None:
                progress(1.0, 1.0, "start from the LP over the candidate pairs (everyone fits)")
            got = lp_start(core, time_limit=limit, safety=time_limit)
            if got is not None:
                lp, fill, figures = got
                ucost = core.unassigned_cost
                figures["plan_cost"] = int(filling_cost(catalogue, *plan_fill, mult, ucost))
                figures["cost"] = int(filling_cost(catalogue, *fill, mult, ucost))
                figures["kept"] = figures["cost"] < figures["plan_cost"]
                notes["candidate_lp"] = figures
                if figures["kept"]:
                    old_keys = core.pair_item * max(1, n_co) + core.pair_agent
                    core, parts, km = make_core([fill, plan_fill])
                    new_keys = core.pair_item * max(1, n_co) + core.pair_agent
                    lp = _reindex_lp(lp, old_keys, new_keys)
                core.lp = lp
        core.multipliers, core.cut_multiplier = plan.multipliers, plan.cut_multiplier
        core.count_multipliers = plan.count_multipliers
        if not pruned:  # the core holds every eligible pair: its LP gets the certified count as a row
            core.min_unassigned = plan.fewest_units
        core.notes["placement"] = notes
    elif n_cls and mode != "intake":
        # below the plan's scale: the count multipliers from the LP over eligibility groups,
        # so that the bound knows how many clients every assignment leaves out (its count cut;
        # not for an intake, whose 2 s it would cost 0.2 s at 50k, and where room is the rule).
        # Where the core holds every eligible pair its own LP is the whole one and gets the
        # certified count as a row
        cert = cert if cert is not None else count_certificate(catalogue, mult, core.capacity)
        if cert is not None and cert[0] > 0:
            if pruned:
                core.count_multipliers = cert[1]
            else:
                core.min_unassigned = int(cert[0])
    return CaseloadProblem(
        mode=mode, options=options, coach_ids=coach_ids, coach_team=coach_team, team_ids=team_ids,
        available=available, unavailable_reason=unavailable_reason, cap_points=cap_points, max_clients=max_clients,
        clients=cl, client_points=points, current=current, movable=movable, client_class=client_class,
        class_members=class_members, core=core,
        parts=parts, pair_km=km, eligible_count=eligible_count, forced_current=forced_current,
        fixed_points=fixed_points, fixed_count=fixed_count, need=need, why_ineligible=why_ineligible,
        coach_attrs={"specs": coach_specs, "munis": coach_munis, "langs": coach_langs, "lat": coach_lat, "lon": coach_lon,
                     "team_kind": team_kind, "team_secs": team_secs},
        client_lat=lat, client_lon=lon, client_targets=targets,
        fingerprint=caseload_fingerprint(region), catalogue=catalogue, plan=plan,
        with_fillings=make_core, what_if_price=what_if_price, widened=widened,
    )


def complete_unplaced(problem: CaseloadProblem, result: SolveResult, time_limit: float | None = None) -> tuple[CaseloadProblem, SolveResult]:
    """Below the placement plan's scale (the core holds candidate pairs, or every eligible
    pair): a solution that leaves clients unassigned, made whole over every eligible pair
    (`placement.complete`: room gathered for the units left out, each usage type's slots
    filled again, the exchange), once as it is and, where no client is certain to stay out
    (in an intake: where its joint check finds room for everyone), once with the units
    left out made light and inserted first
    (`solve.LIGHTEN`, as `lp_start` does), the cheaper kept (since 2026-12-07). The
    problem's core then holds its pairs plus the new ones
    (with every pair already there, the same pairs). Kept only when
    the whole objective (balance included) is lower and every capacity and the handover cap
    hold; else `problem` and `result` come back unchanged.

    At regional scale the placement plan gathers room before the search; below it the search
    alone misses room that gathering finds: on the demo region (5 000 clients, 38 coaches,
    seed 42) its solution left 65 clients out where gathering placed one more (2026-12-05).
    `time_limit` caps each completion's exchanges in wall-clock runs (None: deterministic;
    halved, the lightened one fell short on 5 000 clients, 40 coaches, `--seed 3`)."""
    from scheduling.core import evaluate
    from scheduling.solve import admissible

    core = problem.core
    if problem.plan is not None or result.evaluation.unassigned == 0:
        return problem, result
    t0 = time.perf_counter()
    on = result.x > 0
    fill = (core.pair_item[on], core.pair_agent[on], result.x[on])
    cat = problem.catalogue
    whole, cost, stats = _complete_cheaper(problem, fill, time_limit)
    if cost >= filling_cost(cat, *fill, core.multiplicity, core.unassigned_cost):
        return problem, result
    built = problem.with_fillings([whole])
    new_core = built[0]
    ev = evaluate(new_core, new_core.start)
    if ev.objective >= result.evaluation.objective or not admissible(new_core, ev):
        return problem, result
    return _adopt(problem, result, built, new_core.start, ev, t0, "completed", {
        "unassigned_before": int(result.evaluation.unassigned), "unassigned": int(ev.unassigned),
        "objective_before": int(result.evaluation.objective), "placed": stats.get("placed", 0),
        "operations": stats.get("operations", 0), "exchanged": stats.get("exchanged"),
        "inserted": stats.get("inserted", {}).get("placed", 0), "lightened_first": stats["lightened_first"],
        "cost_plain": stats["cost_plain"], "cost_lightened": stats["cost_lightened"],
        "seconds": round(time.perf_counter() - t0, 2)})


def _complete_cheaper(problem: CaseloadProblem, fill: tuple, time_limit: float | None) -> tuple[tuple, int, dict]:
    """`placement.complete` on `fill` over the problem's catalogue, plain and with the units
    left out made light first (`lp_start`'s way), the cheaper kept (the plain one where they
    tie): neither is better everywhere (deterministic, 12 500 clients seed 2, 30 s: 173 656
    plain, 172 636 lightened; 5 000 clients, 40 coaches, `--seed 3`, 50 s: 106 870 and
    106 973). Lightened only where no client is certain to stay out (there it leaves the
    lightest out and gathers for the heavy: an intake of 500 into an approved 50k caseload,
    230 left out, 21 204 132 plain against 21 603 267). An intake has no count certificate
    (its 2 s); it lightens where its joint check, solved beside the search, finds room for
    everyone (an intake into an approved 50k caseload, `--seed 3`: 3 left out plain, 1
    lightened, 0.2 s more). Returns the filling, its cost (`filling_cost`) and `complete`'s figures plus
    "lightened_first", "cost_plain" and "cost_lightened" (None where not tried)."""
    from scheduling.placement import complete

    core, cat = problem.core, problem.catalogue
    if problem.mode == "intake":
        # an intake lightens where its joint check (solved beside the search) finds room for
        # everyone, as the LP over every pair where one unit fits
        got = problem.joint_shortfall.result() if problem.joint_shortfall is not None else None
        lighten_too = got is not None and got[0] < 1e-6
    else:
        lighten_too = core.count_multipliers is None and core.min_unassigned == 0
    tried = [complete(cat, fill, core.multiplicity, core.capacity, core.unassigned_cost, time_limit=time_limit, lighten=lighten)
             for lighten in ((0.0, LIGHTEN) if lighten_too else (0.0,))]
    costs = [int(filling_cost(cat, *w, core.multiplicity, core.unassigned_cost)) for w, _ in tried]
    best = int(np.argmin(costs))
    whole, stats = tried[best]
    return whole, costs[best], {**stats, "lightened_first": best == 1, "cost_plain": costs[0],
                   "cost_lightened": costs[1] if lighten_too else None}


def _adopt(problem: CaseloadProblem, result: SolveResult, built: tuple, x: np.ndarray, ev, t0: float,
           note: str, figures: dict) -> tuple[CaseloadProblem, SolveResult]:
    """`problem` over the core `built` (`with_fillings`: core, parts, distances) and `result`
    with its solution `x` (evaluated `ev`) after a step that started at `t0`: the new core
    keeps the old one's multipliers and notes, plus `figures` as the note `note`; the bound
    stays. The input is not changed."""
    new_core, parts, km = built
    _carry_over(problem.core, new_core)
    new_core.notes[note] = figures
    new_core.start = x.copy()
    done = replace(result, lp=None, improvements=result.improvements + 1, seconds=result.seconds + (time.perf_counter() - t0))
    done.settle(x.copy(), ev, result.bound)
    return replace(problem, core=new_core, parts=parts, pair_km=km), done


def _carry_over(core: AssignmentCore, new_core: AssignmentCore) -> None:
    """What the solve needs of `core` that `with_fillings` does not build: its multipliers,
    count certificate and notes."""
    new_core.multipliers, new_core.cut_multiplier = core.multipliers, core.cut_multiplier
    new_core.count_multipliers, new_core.min_unassigned = core.count_multipliers, core.min_unassigned
    new_core.notes = dict(core.notes)


def start_from_lp(problem: CaseloadProblem, lp_time_limit: float, time_limit: float | None = None) -> CaseloadProblem:
    """Below the placement plan's scale, a full rebalance whose core holds every eligible pair
    (step 2 of the docs: the time for it) where no client is certain to stay out (no count
    certificate): the core's LP (balance rows and all) rounded (`solve.greedy_start`), repaired, and where units are still over, made whole
    over every eligible pair before the search (`placement.complete`, plain and with the
    units left out made light first, the cheaper), as `lp_start` does at scale. The core
    (with any new pairs) gets the filling as its start and the LP (`core.lp`), which the
    solve then does not solve again. `lp_time_limit`: the LP's (in deterministic runs a
    safety net); `time_limit` caps the repair and the completions' exchanges (None:
    deterministic).

    Where everyone fits only just the search started from the rounding with units over and
    ended with them over for the completion after it: 5 000 clients, 40 coaches, `--seed 3`,
    deterministic, 106 870 after the search and the completion; the rounding completed
    directly 106 315 plain and 105 853 lightened (2026-12-07). Not where the core holds
    candidates: there the LP over every pair, rounded after the search
    (`round_lp_all_pairs`), and the completion did better (12 500 clients, seed 2, 30 s:
    173 337 with this start, 172 653 without)."""
    from scheduling.core import evaluate
    from scheduling.lp import solve_lp
    from scheduling.solve import _unassigned, admissible, greedy_start, repair_unplaced

    core = problem.core
    if (problem.mode != "full" or problem.plan is not None or problem.catalogue is None or core.lp is not None
            or core.catalogue is not None or core.count_multipliers is not None or core.min_unassigned > 0
            or not 0 < core.n_pairs <= SolveOptions.lp_max_pairs):
        return problem
    lp = solve_lp(core, time_limit=max(1.0, lp_time_limit))
    if not np.isfinite(lp.bound):
        return problem
    x = greedy_start(core, lp)
    over = int(_unassigned(core, x).sum())
    if over:
        x = repair_unplaced(core, x, time_limit=time_limit, depth=2 if core.n_pairs <= 50_000 else 1, multi=False)
    figures = {"lp": round(lp.bound, 1), "rounding_left_over": over, "repair_left_over": int(_unassigned(core, x).sum()),
               "objective": int(evaluate(core, x).objective)}
    core.lp, core.start = lp, x
    if figures["repair_left_over"]:
        on = x > 0
        whole, _, stats = _complete_cheaper(problem, (core.pair_item[on], core.pair_agent[on], x[on]), time_limit)
        built = problem.with_fillings([whole])
        new_core = built[0]
        ev = evaluate(new_core, new_core.start)
        figures.update(completed_plain=stats["cost_plain"], completed_lightened=stats["cost_lightened"],
                       lightened_first=stats["lightened_first"], completed_objective=int(ev.objective))
        figures["completed_kept"] = bool(admissible(new_core, ev) and ev.objective < figures["objective"])
        if figures["completed_kept"]:
            _carry_over(core, new_core)
            n_co = max(1, core.n_agents)
            new_core.lp = _reindex_lp(lp, core.pair_item * n_co + core.pair_agent, new_core.pair_item * n_co + new_core.pair_agent)
            problem = replace(problem, core=new_core, parts=built[1], pair_km=built[2])
    problem.core.notes["start_from_lp"] = figures  # no seconds: the proposal is the same for a seed and input
    return problem


def round_lp_all_pairs(problem: CaseloadProblem, result: SolveResult, time_limit: float | None = None) -> tuple[CaseloadProblem, SolveResult]:
    """Below the placement plan's scale, where the core holds candidate pairs and the bound
    priced the LP over every eligible pair (`SolveResult.lp_all_pairs`): that LP rounded
    (`solve.greedy_start`, the units it leaves over placed by the ejection repair) over a
    core of the candidates plus the pairs the LP uses. Kept only when the whole objective
    (balance included) is lower and every capacity and the handover cap hold; else `problem`
    and `result` come back unchanged. `time_limit` caps the repair (None: deterministic).

    The candidates (each class's current coach, its best coaches by fit and a few with room)
    miss pairs that the LP over every pair uses (intake of 500 at 50k, `--seed 3`: that LP
    17 862 against 18 691 over the candidates, and the search's solution 19 029)."""
    from scheduling.core import evaluate
    from scheduling.solve import _unassigned, admissible, greedy_start, repair_unplaced

    whole = result.lp_all_pairs
    if problem.plan is not None or whole is None or whole.pairs is None:
        return problem, result
    t0 = time.perf_counter()
    core = problem.core
    items, agents = whole.pairs
    used = whole.x > 1e-9
    n_co = max(1, core.n_agents)
    keys = core.pair_item * n_co + core.pair_agent
    new = used.copy()
    new[used] = ~np.isin(items[used] * n_co + agents[used], keys)
    if not new.any():  # the LP uses only candidates: the solve had its pairs
        return problem, result
    extra = (items[new], agents[new], np.zeros(int(new.sum()), dtype=np.int64))
    built = problem.with_fillings([extra])
    new_core = built[0]
    # the LP carried to the new core's pairs (every one of them eligible; those that do not
    # fit a capacity are not the LP's and are never preferred)
    whole_keys = items * n_co + agents  # sorted: `fitting_pairs` goes item by item, agents in order
    new_keys = new_core.pair_item * n_co + new_core.pair_agent
    pos = np.minimum(np.searchsorted(whole_keys, new_keys), len(whole_keys) - 1)
    found = whole_keys[pos] == new_keys
    x = np.where(found, whole.x[pos], 0.0)
    rc = np.where(found, whole.reduced_cost[pos], float(whole.reduced_cost.max(initial=0.0)) + 1.0)
    x0 = greedy_start(new_core, replace(whole, x=x, reduced_cost=rc, pairs=None, model=None))
    if _unassigned(new_core, x0).any():
        x0 = repair_unplaced(new_core, x0, time_limit=time_limit, depth=1, multi=True)
    ev = evaluate(new_core, x0)
    figures = {"objective_before": int(result.evaluation.objective), "objective": int(ev.objective),
               "pairs_added": int(new.sum())}  # no seconds: the proposal is the same for a seed and input
    if ev.objective >= result.evaluation.objective or not admissible(new_core, ev):
        core.notes["lp_all_pairs_rounded"] = {**figures, "kept": False}
        return problem, result
    return _adopt(problem, result, built, x0, ev, t0, "lp_all_pairs_rounded", {**figures, "kept": True})


def _reindex_lp(lp, old_keys: np.ndarray, new_keys: np.ndarray):
    """An LP result over pairs `old_keys` carried to the pairs `new_keys` (a superset; both
    sorted): the new pairs at 0, their reduced cost the largest there is (never preferred)."""
    pos = np.searchsorted(new_keys, old_keys)
    x = np.zeros(len(new_keys))
    x[pos] = lp.x
    rc = np.full(len(new_keys), float(lp.reduced_cost.max(initial=0.0)))
    rc[pos] = lp.reduced_cost
    return replace(lp, x=x, reduced_cost=rc)


def _incumbent(pair_item, pair_agent, cls_current, cls_forced, mult) -> np.ndarray:
    """Quantity per pair of the current state: a class stays whole with its current coach
    when that coach is still a (candidate) pair for it."""
    stay = (pair_agent == cls_current[pair_item]) & ~cls_forced[pair_item]
    return np.where(stay, mult[pair_item], 0).astype(np.int64)
