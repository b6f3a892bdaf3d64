"""Domain vocabulary of a Werkplein: enumerations and small pure rules shared by every package.

Dutch terms are kept where they are the real name (see docs/glossary.md).
"""

from __future__ import annotations

import re
from enum import Enum, IntEnum


class BenefitType(str, Enum):
    """Which benefit the client receives."""

    WW = "ww"  # unemployment benefit, paid by UWV (Werkloosheidswet)
    BIJSTAND = "bijstand"  # social assistance, paid by the municipality (Participatiewet)
    NONE = "none"  # no benefit ("niet-uitkeringsgerechtigde", NUG)


class Specialisation(str, Enum):
    """What a coach is qualified and assigned to serve."""

    WW = "ww"
    BIJSTAND = "bijstand"
    YOUTH = "youth"  # jongeren, under 27
    NEWCOMERS = "newcomers"  # statushouders / inburgering
    SPECIAL_GROUPS = "special_groups"  # doelgroepregister, banenafspraak, arbeidsbeperking


class AgeBand(str, Enum):
    AGE_18_26 = "18-26"
    AGE_27_44 = "27-44"
    AGE_45_54 = "45-54"
    AGE_55_PLUS = "55+"
    UNKNOWN = "unknown"


class EducationLevel(str, Enum):
    """Highest completed education, in Dutch levels, ordered low to high."""

    BASIC = "basic"  # none or primary school
    VMBO = "vmbo"
    MBO1 = "mbo1"  # entreeopleiding
    MBO2_3 = "mbo2_3"  # startkwalificatie from mbo 2
    MBO4 = "mbo4"
    HAVO_VWO = "havo_vwo"
    HBO = "hbo"
    WO = "wo"
    UNKNOWN = "unknown"


EDUCATION_ORDER = [e for e in EducationLevel if e is not EducationLevel.UNKNOWN]


class DutchLevel(str, Enum):
    """Dutch language level on the CEFR scale (taaleis). 'none' is below A1."""

    NONE = "none"
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"
    UNKNOWN = "unknown"


DUTCH_ORDER = [d for d in DutchLevel if d is not DutchLevel.UNKNOWN]


def dutch_rank(level: str | DutchLevel | None) -> int | None:
    """0 for 'none' up to 6 for C2; None when unknown."""
    if level is None:
        return None
    level = DutchLevel(level)
    if level is DutchLevel.UNKNOWN:
        return None
    return DUTCH_ORDER.index(level)


class Rung(IntEnum):
    """The participatieladder: six rungs from isolation to paid work."""

    ISOLATED = 1  # geïsoleerd
    SOCIAL_CONTACTS = 2  # sociale contacten buiten de deur
    ORGANISED_ACTIVITIES = 3  # deelname georganiseerde activiteiten
    UNPAID_WORK = 4  # onbetaald werk (vrijwilligerswerk)
    PAID_WORK_WITH_SUPPORT = 5  # betaald werk met ondersteuning (loonkostensubsidie)
    PAID_WORK = 6  # betaald werk

    @property
    def label(self) -> str:
        return RUNG_LABELS[self]


RUNG_LABELS = {
    Rung.ISOLATED: "isolated",
    Rung.SOCIAL_CONTACTS: "social contacts",
    Rung.ORGANISED_ACTIVITIES: "organised activities",
    Rung.UNPAID_WORK: "unpaid work",
    Rung.PAID_WORK_WITH_SUPPORT: "paid work with support",
    Rung.PAID_WORK: "paid work",
}


class ClientStatus(str, Enum):
    ACTIVE = "active"
    PLACED = "placed"  # found work, still followed
    EXITED = "exited"  # left the caseload


class OutcomeStage(str, Enum):
    """Stages of a candidate on a vacancy's list (placement outcomes)."""

    PROPOSED = "proposed"
    SHORTLISTED = "shortlisted"
    INVITED = "invited"
    HIRED = "hired"
    REJECTED = "rejected"


def outcome_date_problem(vacancy_id: str, stage: str, when, opened=None, closed=None, today=None) -> str | None:
    """Why an outcome on `when` is not possible, or None. An outcome happens on a day that has
    come, while the vacancy exists; a candidate moves forward on it (proposed, shortlisted,
    invited, hired) only until it closes, a rejection may come after. Outcomes teach the
    ranker: a wrong date teaches it wrong. One rule for the API, the dashboard and imports."""
    import datetime as dt

    def day(v):
        return None if v is None or v != v else v.date() if isinstance(v, dt.datetime) else v

    when, opened, closed = day(when), day(opened), day(closed)
    if when > (today or dt.date.today()):
        return f"the date {when} has not come yet"
    if opened is not None and when < opened:
        return f"vacancy {vacancy_id} opened on {opened}, after {when}"
    if closed is not None and when > closed and stage != OutcomeStage.REJECTED.value:
        return f"vacancy {vacancy_id} closed on {closed}: a candidate cannot be {stage} on it on {when}"
    return None


class TeamKind(str, Enum):
    SECTOR = "sector"  # team naar branche
    INTEGRATED = "integrated"  # integraal team, all sectors


class Gender(str, Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class MigrationBackground(str, Enum):
    NONE = "none"
    WESTERN = "western"
    NON_WESTERN = "non_western"
    UNKNOWN = "unknown"


#: Protected attributes. Stored only in the `client_protected` table, for fairness audits.
#: They are never model features and never leave the audit code path.
PROTECTED_ATTRIBUTES = ("gender", "migration_background")


def required_specialisations(
    benefit_type: str, age_band: str, newcomer: bool, special_group: bool
) -> frozenset[str]:
    """The specialisations a coach must all hold to serve this client.

    WW clients need a WW coach, bijstand clients a bijstand coach; clients under 27 a youth
    coach; statushouders in inburgering a newcomers coach; clients in the doelgroepregister a
    special-groups coach. A client with no benefit (NUG) needs only what the other flags say.
    """
    need: set[str] = set()
    if benefit_type == BenefitType.WW.value:
        need.add(Specialisation.WW.value)
    elif benefit_type == BenefitType.BIJSTAND.value:
        need.add(Specialisation.BIJSTAND.value)
    if age_band == AgeBand.AGE_18_26.value:
        need.add(Specialisation.YOUTH.value)
    if newcomer:
        need.add(Specialisation.NEWCOMERS.value)
    if special_group:
        need.add(Specialisation.SPECIAL_GROUPS.value)
    return frozenset(need)


EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km. Works on floats and on numpy arrays (broadcasting)."""
    import numpy as np

    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


#: separators a BSN is written with ("123.456.782", "1234 56 782"); not hyphens, which
#: pseudonyms use ("c-2024-0004" is no BSN)
BSN_SEPARATORS = re.compile(r"[ .]")
_DIGIT_RUNS = re.compile(r"\d+")


def _eleven_test(run: str) -> bool:
    s = run.zfill(9)
    return int(s) != 0 and (sum(int(d) * w for d, w in zip(s[:8], range(9, 1, -1))) - int(s[8])) % 11 == 0


def is_bsn(value: str) -> bool:
    """True when `value` is or holds a Dutch citizen service number (BSN), written with or
    without dots and spaces: the whole value 8-9 digits passing the eleven-test
    ("123456782", "123.456.782"), or a run of exactly 9 such digits inside other text
    ("bsn123456782", "K123456782"). Shorter runs inside text are counters, not BSNs
    ("K00000012"). Plein refuses these as client ids: clients are pseudonymous."""
    s = BSN_SEPARATORS.sub("", str(value).strip())
    if s.isdigit():
        return len(s) in (8, 9) and _eleven_test(s)
    return any(len(run) == 9 and _eleven_test(run) for run in _DIGIT_RUNS.findall(s))
