"""Everything a team manager can tune: the caseload-point formula and the objective weights.

Defaults are sensible for a Werkplein, documented in docs/scheduling.md, and all overridable
(`ScheduleConfig.from_dict`, the `--config` JSON of `plein optimise`). The objective is a sum
of *cost units*; the defaults are calibrated against one voluntary handover = 100 units, so a
manager can read each weight as "worth how many handovers":

- ``handover`` 100: every voluntary handover (a client passed to another coach while their
  coach is still there and still eligible). Forced moves (coach absent, left, no longer
  eligible) carry no handover cost: they are not a choice.
- ``sector_mismatch`` 40: a client with target sectors placed in a sector team that covers none
  of them; ``integrated_mismatch`` 15 when placed in an integrated team (all sectors, no focus).
- ``travel_per_km`` 2: per km between the client's home (postcode area) and the coach's office,
  beyond ``travel_free_km`` 5 km.
- ``language`` 30: a client below ``language_support_below`` (B1) in Dutch whose coach speaks
  none of the client's other languages.
- ``balance_max`` 4 and ``balance_spread`` 2 per per-mille: the highest relative load (load /
  capacity, in points) and the spread between the highest and lowest; ``team_spread`` 2 per
  per-mille: the spread between team loads. 10 per-mille (one percentage point) of max load is
  worth 0.4 handovers, so balance decides between equals but does not churn caseloads.
- ``unassigned`` 100000: a client without a coach; so high that a client is left unassigned
  only when no eligible coach has room, and then the proposal says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from plein.domain import dutch_rank


def _default_benefit_points() -> dict[str, float]:
    return {"ww": 1.0, "bijstand": 1.5, "none": 1.0}


def _default_rung_factor() -> dict[str, float]:
    # lower rungs need more contact time; "unknown" (not yet measured) counts as rung 2-3
    return {"1": 1.6, "2": 1.4, "3": 1.2, "4": 1.0, "5": 0.9, "6": 0.7, "unknown": 1.3}


def _default_complexity_factor() -> dict[str, float]:
    return {"1": 1.0, "2": 1.3, "3": 1.7}


@dataclass(frozen=True)
class CaseloadPoints:
    """Caseload points of one client: base points by benefit type, times the rung factor and
    the complexity factor, plus extras for newcomers and special groups.

    A WW client on rung 4 with complexity 1 is 1.0 point; a bijstand client on rung 1 with
    complexity 3 is 1.5 * 1.6 * 1.7 = 4.08 points. Points are rounded to 0.01 for the solver.
    """

    benefit: dict[str, float] = field(default_factory=_default_benefit_points)
    rung: dict[str, float] = field(default_factory=_default_rung_factor)
    complexity: dict[str, float] = field(default_factory=_default_complexity_factor)
    newcomer_extra: float = 0.3
    special_group_extra: float = 0.3

    def points(self, benefit_type: str, ladder_rung, complexity, newcomer: bool, special_group: bool) -> float:
        try:
            base = self.benefit[str(benefit_type)]
        except KeyError:
            raise ValueError(f"caseload points: no base points for benefit type {benefit_type!r}") from None
        rung_key = "unknown" if ladder_rung is None or ladder_rung != ladder_rung else str(int(ladder_rung))
        comp_key = "1" if complexity is None or complexity != complexity else str(int(complexity))
        if rung_key not in self.rung:
            raise ValueError(f"caseload points: no factor for ladder rung {rung_key}")
        if comp_key not in self.complexity:
            raise ValueError(f"caseload points: no factor for complexity {comp_key}")
        p = base * self.rung[rung_key] * self.complexity[comp_key]
        if newcomer:
            p += self.newcomer_extra
        if special_group:
            p += self.special_group_extra
        return round(p, 2)


@dataclass(frozen=True)
class Weights:
    """Objective weights in cost units (one voluntary handover = 100). See the module doc."""

    handover: int = 100
    sector_mismatch: int = 40
    integrated_mismatch: int = 15
    travel_per_km: float = 2.0
    travel_free_km: float = 5.0
    language: int = 30
    language_support_below: str = "B1"
    balance_max: int = 4
    balance_spread: int = 2
    team_spread: int = 2
    unassigned: int = 100_000

    def needs_language_support(self, dutch_level) -> bool:
        rank = dutch_rank(dutch_level) if dutch_level not in (None, "") else None
        if rank is None:
            return False  # unknown: no claim either way
        return rank < dutch_rank(self.language_support_below)


@dataclass(frozen=True)
class ScheduleConfig:
    points: CaseloadPoints = field(default_factory=CaseloadPoints)
    weights: Weights = field(default_factory=Weights)
    #: hard cap on voluntary handovers (None = no cap; continuity is then only a cost)
    max_handovers: int | None = None
    #: candidate coaches per client class besides the current one (0 = every eligible coach);
    #: the best by sector fit, travel and language. Keeps 50k-client regions tractable.
    candidates_per_client: int = 8
    #: plus this many eligible coaches with the most room in the current state
    room_candidates: int = 6
    #: a full rebalance keeps every eligible pair (no candidates) when there are at most this
    #: many per second of its time limit, and at most the LP's size with balance rows
    #: (`SolveOptions.lp_max_pairs`); an intake or what-if keeps its candidates. On
    #: generated regions of 5 000-6 500 clients (80k-140k pairs) the candidates cost 1-4 % at
    #: 20-50 s; with less time the LP over every pair may not finish, and the bound then falls
    #: back without the catalogue's help (5 000 clients at 5 s: gap 99 %). Measured
    #: 2026-12-06, docs/scheduling.md, engine step 2
    all_pairs_per_second: int = 5_000
    #: a full rebalance of at least this many eligible pairs starts from the placement plan
    #: over every eligible pair (`scheduling.placement`), whether or not it keeps candidates;
    #: below it (and in an intake or what-if below 200k candidate pairs) the solver's LP
    #: rounding, CP-SAT and the completion place everyone they can. On generated regions of
    #: 5 000-12 500 clients they had left 1-12 clients more out than the plan (gap 1.6-30 %
    #: against 0.1-4.4 %). Measured 2026-12-06, docs/scheduling.md, engine steps 3 and 6b
    full_plan_min_pairs: int = 20_000

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ScheduleConfig:
        """Build from a (partial) dict; unknown keys are an error naming the key."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown schedule config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        points = data.pop("points", None)
        weights = data.pop("weights", None)
        kwargs = dict(data)
        if points is not None:
            bad = set(points) - {f.name for f in fields(CaseloadPoints)}
            if bad:
                raise ValueError(f"unknown caseload point key(s): {', '.join(sorted(bad))}")
            base = CaseloadPoints()
            merged = {k: ({**getattr(base, k), **v} if isinstance(v, dict) else v) for k, v in points.items()}
            kwargs["points"] = CaseloadPoints(**{**asdict(base), **merged})
        if weights is not None:
            bad = set(weights) - {f.name for f in fields(Weights)}
            if bad:
                raise ValueError(f"unknown weight key(s): {', '.join(sorted(bad))}")
            kwargs["weights"] = Weights(**{**asdict(Weights()), **weights})
        cfg = cls(**kwargs)
        for f in fields(Weights):
            v = getattr(cfg.weights, f.name)
            if isinstance(v, (int, float)) and v < 0:
                raise ValueError(f"weight {f.name} must not be negative (got {v})")
        return cfg
