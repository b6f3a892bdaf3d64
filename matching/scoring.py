"""The rule-based score: a weighted sum of terms, each derived from the pair features.

``rule_score = sum(weight[t] * term_t(features))`` with weights from
`MatchConfig.rule_weights`. Each term is in [0, 1]; the distance term is a penalty (its
weight is negative). `contributions` returns the per-term products, whose sum IS the score,
so the reasons shown with a result are exactly what produced it.

Terms (all from `matching.features.FEATURE_COLUMNS`, nothing else):

- skill_similarity, essential_coverage, optional_coverage, transferable_similarity: as is.
- essential_evidence: 1 - exp(-essential_matched / 3): the absolute number of essential
  skills held, saturating. Shares alone favour short profiles; this rewards a client who
  holds several of the vacancy's essentials (on noisy ESCO profiles MRR 0.66 -> 0.71).
- occupation_experience: min(1, (years in the vacancy's occupation + half the years in
  related occupations of its ISCO unit group) / 5).
- distance: min(1, distance_km / scale) with scale = max_distance_km (or 50 km when the
  distance filter is off); 0.5 when the distance is unknown (neither rewarded nor ignored).
- hours_fit: as is.
- readiness: (rung - 1) / 5 on the participatieladder; 0.5 when the rung is not measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.config import MatchConfig

SKILL_TERMS = ("skill_similarity", "essential_coverage", "essential_evidence", "optional_coverage", "transferable_similarity")
EXPERIENCE_SATURATION_YEARS = 5.0
#: essential skills held at which the evidence term reaches 1 - 1/e
EVIDENCE_SCALE = 3.0


def _col(features, name: str) -> np.ndarray:
    return np.asarray(features[name], dtype=float)


def skill_terms(features) -> dict[str, np.ndarray]:
    """The skill terms, from the skill features (used over all rows for candidate generation
    and per pair for the full score: one definition)."""
    terms = {name: _col(features, name) for name in SKILL_TERMS if name != "essential_evidence"}
    terms["essential_evidence"] = 1.0 - np.exp(-_col(features, "essential_matched") / EVIDENCE_SCALE)
    return terms


def rule_terms(features, config: MatchConfig) -> dict[str, np.ndarray]:
    """Each rule term per pair, from a frame (or dict of arrays) with the feature columns."""
    scale = config.filters.max_distance_km or 50.0
    terms = skill_terms(features)
    experience = _col(features, "occupation_experience_years") + 0.5 * _col(features, "related_experience_years")
    terms["occupation_experience"] = np.minimum(1.0, experience / EXPERIENCE_SATURATION_YEARS)
    known = _col(features, "distance_known") > 0
    terms["distance"] = np.where(known, np.minimum(1.0, _col(features, "distance_km") / scale), 0.5)
    terms["hours_fit"] = _col(features, "hours_fit")
    rung_known = _col(features, "rung_known") > 0
    terms["readiness"] = np.where(rung_known, (np.clip(_col(features, "ladder_rung"), 1, 6) - 1) / 5.0, 0.5)
    return terms


def contribution_arrays(features, config: MatchConfig) -> dict[str, np.ndarray]:
    """weight * term per pair, {term: array}, in the order of the configured weights."""
    terms = rule_terms(features, config)
    return {name: w * terms[name] for name, w in config.rule_weights.items()}


def contributions(features, config: MatchConfig) -> pd.DataFrame:
    """weight * term per pair and term (columns in the order of the configured weights)."""
    return pd.DataFrame(contribution_arrays(features, config))


def rule_score(features, config: MatchConfig) -> np.ndarray:
    """The rule-based score per pair: the sum of `contribution_arrays`."""
    parts = list(contribution_arrays(features, config).values())
    return np.sum(parts, axis=0) if parts else np.zeros(0)


def skill_prescore(skill: dict[str, np.ndarray], config: MatchConfig) -> np.ndarray:
    """The skill part of the rule score, for candidate generation over all rows."""
    w = config.rule_weights
    terms = skill_terms(skill)
    out = None
    for name in SKILL_TERMS:
        part = w.get(name, 0.0) * terms[name]
        out = part if out is None else out + part
    return out
