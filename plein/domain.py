"""Domain vocabulary of a Werkplein: enumerations and small pure rules shared by every package.

Dutch terms are kept where they are the real name (see docs/glossary.md).
"""

from __future__ import annotations

import re
import unicodedata
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


#: characters people put between the digit groups of a BSN: spaces (also the non-breaking and
#: thin spaces a word processor inserts), tabs, dots, hyphens and dashes, underscores. Written
#: as the characters themselves, and digits as [0-9], so that the same pattern means the same
#: in Python and in the regular-expression engine of pandas' Arrow strings (RE2)
_SEPARATOR = "[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000._\u2010-\u2015\u2212-]"
BSN_SEPARATORS = re.compile(_SEPARATOR)
#: the groupings a 9-digit BSN is written in ("123.456.782", "1234 56 782", "123-45-6782").
#: Only digit groups of these lengths are read as one number: hyphenated pseudonyms join
#: counters with separators too ("c-2024-0004", "K-2024-00012"), and joining any digits there
#: refused about 1 in 11 of them (whatever digits come out pass the eleven-test that often)
BSN_GROUPINGS = frozenset({(3, 3, 3), (4, 2, 3), (3, 2, 4)})
#: the same groupings for an 8-digit BSN (a 9-digit one written without its leading zero),
#: read only as a whole value ("12.345.672"): inside text, short groups are too common
_BSN_GROUPINGS_8 = frozenset({(2, 3, 3), (3, 2, 3), (2, 2, 4)})


def _digit_blocks() -> tuple[str, dict[int, int]]:
    """The decimal digits of other scripts (full-width "１２３", Arabic-Indic, Devanagari...):
    a regular-expression class body of their blocks, written as the characters themselves,
    and the table that reads them as ASCII digits (every such digit lies below U+20000)."""
    table = {cp: ord("0") + unicodedata.decimal(chr(cp)) for cp in range(0x80, 0x20000)
             if unicodedata.category(chr(cp)) == "Nd"}
    body, cps = [], sorted(table)
    start = prev = cps[0]
    for cp in cps[1:] + [-1]:
        if cp != prev + 1:
            body.append(chr(start) if start == prev else f"{chr(start)}-{chr(prev)}")
            start = cp
        prev = cp
    return "".join(body), table


_OTHER_DIGITS, _ASCII_DIGITS = _digit_blocks()
#: a digit in any script: the cheap first looks below must also see a BSN typed in full-width
#: or other digits (an input method may give them), which `is_bsn` and `holds_bsn` read as ASCII
_ANY_DIGIT = "[0-9" + _OTHER_DIGITS + "]"
_DIGIT_RUNS = re.compile(r"[0-9]+")
#: digit runs joined by (at most three) separator characters
_DIGIT_GROUPS = re.compile(r"[0-9]+(?:" + _SEPARATOR + r"{1,3}[0-9]+)*")
#: cheap first looks for bulk checks (a vectorised `str.contains`): every value `holds_bsn`
#: (and `is_bsn`) finds matches them, most counters and free text do not
HOLDS_BSN_HINT = _ANY_DIGIT + "{9}|" + _ANY_DIGIT + _SEPARATOR + "{1,3}" + _ANY_DIGIT
IS_BSN_HINT = _ANY_DIGIT + "{8}|" + _ANY_DIGIT + _SEPARATOR + "{1,3}" + _ANY_DIGIT
_HEX = re.compile(r"[0-9a-fA-F]")
#: a 9-digit run inside a run of at least this many hexadecimal characters is part of a hash
#: or UUID written by software (outcome ids "out-3f2a123456782c9d"), not a typed BSN
_HASH_LENGTH = 12


def _eleven_test(run: str) -> bool:
    s = run.zfill(9)
    return int(s) != 0 and (sum(int(d) * w for d, w in zip(s[:8], range(9, 1, -1))) - int(s[8])) % 11 == 0


def _bsn_number(digits: str) -> bool:
    """A BSN has 8 or 9 significant digits (8-digit ones are written with a leading zero) and
    passes the eleven-test. A zero-padded counter ("000123456") has fewer: it is no BSN."""
    return len(digits.lstrip("0")) in (8, 9) and len(digits) <= 9 and _eleven_test(digits)


def _in_hash(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies inside a long run of hexadecimal characters that has letters."""
    left, right = start, end
    while left > 0 and _HEX.match(text[left - 1]):
        left -= 1
    while right < len(text) and _HEX.match(text[right]):
        right += 1
    return right - left >= _HASH_LENGTH and (left < start or right > end)


def is_bsn(value: str) -> bool:
    """True when `value` is or holds a Dutch citizen service number (BSN): 8 or 9 significant
    digits passing the eleven-test, written as the whole value ("123456782", "12345672"), or in
    its usual groups with any separator ("123.456.782", "1234 56 782", "123-456-782",
    "123_456_782", "123\u00a0456\u00a0782"), or inside other text as `holds_bsn` finds it.

    Not a BSN: a counter in a pseudonym, however it is joined ("K00000012", "c-2024-0004",
    "K-2024-00012", "client-000123456": a zero-padded counter has too few significant digits),
    digits in other groupings ("12-345-6782"), longer numbers such as phone numbers
    ("0612345678", "06-12345678"). Plein refuses these as client ids: clients are pseudonymous.
    Digits of other scripts count as their ASCII digits ("１２３４５６７８２")."""
    text = str(value).translate(_ASCII_DIGITS).strip()
    if _DIGIT_GROUPS.fullmatch(text):
        runs = _DIGIT_RUNS.findall(text)
        lengths = tuple(len(r) for r in runs)
        if (len(runs) == 1 and len(runs[0]) in (8, 9)) or lengths in BSN_GROUPINGS or lengths in _BSN_GROUPINGS_8:
            if _bsn_number("".join(runs)):
                return True
    return holds_bsn(text)


def holds_bsn(text: str) -> bool:
    """True when `text` holds a 9-digit BSN passing the eleven-test: a run of exactly 9 digits
    ("bsn123456782", "K123456782", "klant met BSN 123456782") or 9 digits in a BSN's groups
    ("bsn-123-45-6782", "tel. 1234.56.782", "123 456 782"). The check for free text, lists and
    ids other than a client's: shorter numbers there are counters, house numbers, KvK numbers
    (8 digits) or phone numbers (10 digits), and 9 digits inside a hash or UUID written by
    software ("out-3f2a123456782c9d") are not typed by a person. Digits of other scripts count
    as their ASCII digits."""
    text = str(text).translate(_ASCII_DIGITS)
    for seq in _DIGIT_GROUPS.finditer(text):
        runs = list(_DIGIT_RUNS.finditer(seq.group()))
        offset = seq.start()
        for run in runs:
            digits = run.group()
            if len(digits) == 9 and _bsn_number(digits) and not _in_hash(text, offset + run.start(), offset + run.end()):
                return True
        lengths = [len(r.group()) for r in runs]
        for i in range(len(runs) - 2):
            if tuple(lengths[i:i + 3]) in BSN_GROUPINGS and _bsn_number("".join(r.group() for r in runs[i:i + 3])):
                return True
    return False
