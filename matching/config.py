"""Matching configuration: the hard filters, the skill-vector weights and the rule-based score.

Every knob has a default that suits a Werkplein and a one-line reason. A `MatchConfig` is a
frozen dataclass so a matcher built with one cannot drift; use `dataclasses.replace` (or
`MatchConfig.with_overrides`) to derive a variant.

Unknown client values (an unmeasured rung, an unknown Dutch level, no home location) never
exclude silently: by default the client passes that filter and the result carries a reason
saying the value is unknown. Set the matching ``unknown_*_passes`` flag to False to exclude
such clients instead (the reason then says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class FilterConfig:
    """Hard filters: a client who fails one is not on the vacancy's list, whatever the score."""

    #: Hours: exclude a client whose `hours_available` is below this share of the vacancy's
    #: hours (0.75: a client for 24 h can be proposed for a 32 h job, not for a 38 h one).
    #: A vacancy without hours (flexible) passes everyone. None disables the filter.
    min_hours_ratio: float | None = 0.75
    #: Driving licence: a vacancy with `requires_licence` excludes clients without one.
    driving_licence: bool = True
    #: Certificates: the client must hold every certificate the vacancy requires (compared
    #: case-insensitively, e.g. VCA, BHV, heftruck).
    certificates: bool = True
    #: Dutch level: a client whose known level is below the vacancy's `min_dutch_level` is
    #: excluded.
    dutch_level: bool = True
    #: A client whose Dutch level is unknown passes the Dutch filter (with a reason).
    unknown_dutch_passes: bool = True
    #: Travel distance: home-to-workplace great-circle km above this excludes. None disables.
    max_distance_km: float | None = 30.0
    #: A client or vacancy without coordinates passes the distance filter (with a reason).
    unknown_distance_passes: bool = True
    #: Readiness on the participatieladder: regular jobs need this rung or higher ...
    min_rung_regular: int | None = 4
    #: ... supported-work vacancies (loonkostensubsidie) this rung or higher.
    min_rung_supported: int | None = 3
    #: A client whose rung was never measured passes the readiness filter (with a reason).
    unknown_rung_passes: bool = True
    #: Client statuses that are never proposed (already placed in work, left the caseload).
    excluded_statuses: tuple[str, ...] = ("placed", "exited")
    #: A vacancy whose `close_date` is on or before the reference date gets no candidates.
    exclude_closed_vacancies: bool = True


@dataclass(frozen=True)
class VectorConfig:
    """How skills become sparse vectors for candidate generation and similarity."""

    #: Weight of a vacancy's essential skills in its vector.
    essential_weight: float = 1.0
    #: Weight of its optional skills: well below essential, so holding an optional skill
    #: helps less than holding an essential one (0.2 measured best of 0-1 on ESCO profiles).
    optional_weight: float = 0.2
    #: Transferable skills: the skills of occupations in the client's work history that the
    #: client did not list, at this weight (essential ones; optional ones at half of it).
    history_weight: float = 0.6
    #: Skills of the other occupations in the same ISCO-08 unit group (4 digits) as a
    #: history occupation, averaged over the group, at this weight.
    isco_neighbour_weight: float = 0.3
    #: Experience beyond this many years adds nothing more to the history weight factor.
    history_years_saturation: float = 3.0
    #: Exponent of the IDF weight (1 = plain IDF, 0 = none). IDF comes from the taxonomy's
    #: occupation profiles when available (stable, shared by both directions), else from the
    #: data. 0.5 dampens rarity: with full IDF a single stray rare skill in a profile
    #: outweighs several common skills that fit; measured in docs/matching.md.
    idf_power: float = 0.5


#: Weights of the rule-based score: score = sum(weight * term), each term in [0, 1] (or
#: a negative weight for a penalty), see the `matching.scoring` docstring for how each term is derived
#: from the pair features. The reasons of a result list exactly these contributions.
DEFAULT_RULE_WEIGHTS: dict[str, float] = {
    "skill_similarity": 0.30,
    "essential_coverage": 0.30,
    "essential_evidence": 0.15,
    "optional_coverage": 0.05,
    "transferable_similarity": 0.12,
    "occupation_experience": 0.08,
    "distance": -0.06,
    "hours_fit": 0.02,
    "readiness": 0.02,
}


@dataclass(frozen=True)
class MatchConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    vectors: VectorConfig = field(default_factory=VectorConfig)
    rule_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RULE_WEIGHTS))
    #: With a learned ranker: this many of the best eligible pairs by rule score are
    #: re-scored by the ranker, and the list is the top N of those by hire probability. (The
    #: rule-based list itself is exact: see `Matcher._select`.)
    shortlist_size: int = 400

    def with_overrides(self, **overrides: Any) -> "MatchConfig":
        """A copy with fields changed; keys may be dotted (``filters.max_distance_km``)."""
        cfg = self
        for key, value in overrides.items():
            if "." in key:
                section, name = key.split(".", 1)
                sub = getattr(cfg, section)
                if name not in {f.name for f in fields(sub)}:
                    raise ValueError(f"unknown matching setting {key!r}")
                cfg = replace(cfg, **{section: replace(sub, **{name: value})})
            else:
                if key not in {f.name for f in fields(cfg)}:
                    raise ValueError(f"unknown matching setting {key!r}")
                cfg = replace(cfg, **{key: value})
        unknown = set(cfg.rule_weights) - set(DEFAULT_RULE_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown rule weight(s) {sorted(unknown)}; known: {sorted(DEFAULT_RULE_WEIGHTS)}")
        return cfg
