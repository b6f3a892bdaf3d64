"""The causal process behind the generated history: the oracle.

Two logistic models give, from features OBSERVABLE in the generated tables, the true
probabilities that the generator then draws outcomes from and stores in `truth_ladder` and
`truth_match`. docs/generator.md writes the same formulas out; keep the two in step.

Protected attributes (gender, migration background) shift the logits modestly, the way
real histories are biased; they are never features a model may use, but a fairness audit
must find the gap.

Everything here is vectorised over numpy arrays and free of randomness.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- ladder

#: logit contribution of the rung at as_of (rungs 1-4; clients at 5-6 get no snapshot)
RISE_RUNG = np.array([0.0, -1.20, -0.55, 0.0, 0.35])  # index = rung
RISE_INTERCEPT = -1.05
RISE_BENEFIT = {"ww": 0.45, "bijstand": -0.25, "none": 0.0}
RISE_AGE = {"18-26": 0.25, "27-44": 0.15, "45-54": -0.15, "55+": -0.60, "unknown": 0.0}
RISE_WW_55_PLUS = -0.30  # older WW clients: extra penalty (age discrimination in hiring)
RISE_MONTHS = -0.55  # times log(1 + months/12) ...
RISE_MONTHS_LOW_RUNG = 0.90  # ... times (1 + this) at rungs 1-2: long benefit spells hurt more there
RISE_EDUCATION = 0.12  # per education rank above mbo2_3 (rank 3)
RISE_EDUCATION_UNKNOWN = -0.10
RISE_DUTCH = 0.08  # per CEFR rank above B1 (rank 3) ...
RISE_DUTCH_NEWCOMER = 0.32  # ... plus this for newcomers: language is their main barrier
RISE_DUTCH_UNKNOWN = -0.10
RISE_LICENCE = 0.30
RISE_YEARS = 0.30  # times log(1 + years of work history)
RISE_SKILLS = 0.50  # times (1 - exp(-n_skills / 5)): saturating
RISE_COMPLEXITY = -0.35  # per complexity step above 1
RISE_NEWCOMER = 0.20
RISE_SPECIAL_GROUP = -0.25
RISE_DEMAND = 0.35  # times the local demand index of the client's target sectors
RISE_NON_WESTERN = -0.30  # protected shift (bias in the history)
RISE_FEMALE = -0.10  # protected shift

#: paid work given a rise, for clients at rungs 1-3 (from rung 4 a rise *is* paid work)
PAID_INTERCEPT = -2.2
PAID_RUNG = 0.65  # per rung above 1
PAID_WW = 0.50
PAID_LICENCE = 0.30
PAID_EDUCATION = 0.10
PAID_YEARS = 0.30
PAID_COMPLEXITY = -0.45
PAID_DEMAND = 0.40
PAID_NON_WESTERN = -0.20  # protected shift


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lookup(table: dict[str, float], values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values))
    for key, coef in table.items():
        out[values == key] = coef
    return out


def ladder_logits(
    rung: np.ndarray,
    months_on_benefit: np.ndarray,
    benefit: np.ndarray,
    age_band: np.ndarray,
    education_rank: np.ndarray,
    dutch_rank: np.ndarray,
    licence: np.ndarray,
    years_worked: np.ndarray,
    n_skills: np.ndarray,
    complexity: np.ndarray,
    newcomer: np.ndarray,
    special_group: np.ndarray,
    demand: np.ndarray,
    non_western: np.ndarray,
    female: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(logit of rising within 12 months, logit of paid work given a rise) per snapshot.

    `education_rank` 0 (basic) .. 7 (wo), -1 unknown; `dutch_rank` 0 (none) .. 6 (C2), -1
    unknown. `rung` must be 1-4."""
    rung = np.asarray(rung, dtype=np.int64)
    if rung.size and (rung.min() < 1 or rung.max() > 4):
        raise ValueError("ladder snapshots need a rung of 1-4 at as_of")
    low = (rung <= 2).astype(float)
    edu_known = education_rank >= 0
    dutch_known = dutch_rank >= 0
    newcomer = newcomer.astype(float)
    eta = (
        RISE_INTERCEPT
        + RISE_RUNG[rung]
        + _lookup(RISE_BENEFIT, benefit)
        + _lookup(RISE_AGE, age_band)
        + RISE_WW_55_PLUS * ((benefit == "ww") & (age_band == "55+"))
        + RISE_MONTHS * np.log1p(months_on_benefit / 12.0) * (1.0 + RISE_MONTHS_LOW_RUNG * low)
        + np.where(edu_known, RISE_EDUCATION * (education_rank - 3), RISE_EDUCATION_UNKNOWN)
        + np.where(dutch_known, (RISE_DUTCH + RISE_DUTCH_NEWCOMER * newcomer) * (dutch_rank - 3), RISE_DUTCH_UNKNOWN)
        + RISE_LICENCE * licence
        + RISE_YEARS * np.log1p(years_worked)
        + RISE_SKILLS * (1.0 - np.exp(-n_skills / 5.0))
        + RISE_COMPLEXITY * (complexity - 1)
        + RISE_NEWCOMER * newcomer
        + RISE_SPECIAL_GROUP * special_group
        + RISE_DEMAND * demand
        + RISE_NON_WESTERN * non_western
        + RISE_FEMALE * female
    )
    paid_given_rise = (
        PAID_INTERCEPT
        + PAID_RUNG * (rung - 1)
        + PAID_WW * (benefit == "ww")
        + PAID_LICENCE * licence
        + np.where(edu_known, PAID_EDUCATION * (education_rank - 3), 0.0)
        + PAID_YEARS * np.log1p(years_worked)
        + PAID_COMPLEXITY * (complexity - 1)
        + PAID_DEMAND * demand
        + PAID_NON_WESTERN * non_western
    )
    return eta, paid_given_rise


def ladder_probabilities(rung: np.ndarray, eta_rise: np.ndarray, eta_paid_given_rise: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_rise_12m, p_paid_12m, q = P(paid | rise)). From rung 4 the next rung is 5, paid
    work with support, so q = 1 there; p_paid = p_rise * q <= p_rise always."""
    p_rise = sigmoid(eta_rise)
    q = np.where(np.asarray(rung) >= 4, 1.0, sigmoid(eta_paid_given_rise))
    return p_rise, p_rise * q, q


# --------------------------------------------------------------------------- matching

HIRE_INTERCEPT = -2.90
HIRE_ESSENTIAL = 2.60  # times the share of the vacancy's essential skills the client has
HIRE_OPTIONAL = 0.80  # times the share of its optional skills
HIRE_EXPERIENCE = 0.55  # times log(1 + years in the vacancy's occupation)
HIRE_DISTANCE = -0.045  # per km (home to workplace, capped at 60 km)
HIRE_FAR_NO_LICENCE = -0.08  # per km beyond 20 km for clients without a driving licence
HIRE_RUNG = 0.35  # per rung above 3 at the vacancy's open date (unknown counts as 3)
HIRE_DUTCH_GAP = -0.50  # per CEFR step below the vacancy's minimum (unknown counts as B1)
HIRE_NO_LICENCE = -1.20  # licence required and not held
HIRE_HOURS_SHORT = -0.35  # per 8 hours/week the client can work less than asked
HIRE_SUPPORTED = 0.60  # supported-work vacancy for a special-group client
HIRE_NON_WESTERN = -0.35  # protected shift
HIRE_FEMALE_MALE_DOMINATED = -0.25  # protected shift in technical, construction, logistics
MALE_DOMINATED_SECTORS = ("technical", "construction", "logistics")


def hire_logits(
    essential_share: np.ndarray,
    optional_share: np.ndarray,
    experience_years: np.ndarray,
    distance_km: np.ndarray,
    licence: np.ndarray,
    rung: np.ndarray,
    dutch_gap: np.ndarray,
    requires_licence: np.ndarray,
    hours_short: np.ndarray,
    supported_work: np.ndarray,
    special_group: np.ndarray,
    male_dominated: np.ndarray,
    non_western: np.ndarray,
    female: np.ndarray,
) -> np.ndarray:
    """Logit of being hired when shortlisted, per client-vacancy pair."""
    licence = licence.astype(float)
    dist = np.minimum(distance_km, 60.0)
    return (
        HIRE_INTERCEPT
        + HIRE_ESSENTIAL * essential_share
        + HIRE_OPTIONAL * optional_share
        + HIRE_EXPERIENCE * np.log1p(experience_years)
        + HIRE_DISTANCE * dist
        + HIRE_FAR_NO_LICENCE * np.maximum(dist - 20.0, 0.0) * (1.0 - licence)
        + HIRE_RUNG * (rung - 3)
        + HIRE_DUTCH_GAP * dutch_gap
        + HIRE_NO_LICENCE * (requires_licence & (licence < 0.5))
        + HIRE_HOURS_SHORT * hours_short / 8.0
        + HIRE_SUPPORTED * (supported_work & special_group)
        + HIRE_NON_WESTERN * non_western
        + HIRE_FEMALE_MALE_DOMINATED * (female & male_dominated)
    )
