"""The tables of a Werkplein region, column by column: the single source of truth.

Every column is declared once here, with its type, default and meaning. The importer
validates against it, storage builds its tables from it, the generator produces it, and
`docs/import-formats.md` is written from it (`plein schema --markdown`).

Column kinds:
- ``str``, ``int``, ``float``, ``bool``, ``date`` (ISO ``YYYY-MM-DD``)
- ``enum``: one of ``choices``
- ``list``: a list of strings; in CSV written as values separated by ``;``
- ``history``: a client's work history, a list of ``{"occupation": str, "years": float}``;
  in CSV ``occupation=years`` pairs separated by ``;`` (``cook=3;kitchen porter=1.5``)

A default of ``REQUIRED`` means the column must be present. ``IMPORT_DATE`` means the date of
the import. ``None`` means unknown / not applicable, which is always allowed for that column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plein import domain as d


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED = _Marker("REQUIRED")
IMPORT_DATE = _Marker("IMPORT_DATE")

#: The one id rule, for every write path (API bodies, bulk imports, the CLI): ids travel in URL
#: paths (``/v1/clients/{id}``), so an id with a space, a slash, '?', '#' or '%' could be
#: stored but never read or changed again. The API's request models (`api.schemas`) and the
#: row validator (`plein.storage.validation`) both use these.
ID_PATTERN = r"^[^\s/\\?#%\x00-\x1f\x7f]+$"
MAX_ID_LENGTH = 100
ID_RULE = (
    f"an id is 1 to {MAX_ID_LENGTH} characters: letters, digits and punctuation such as - _ . : are "
    "allowed; spaces, slashes, '?', '#', '%', backslashes and control characters are not"
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    #: references another table's `id` (by table name)
    ref: str | None = None
    #: text columns: a regular expression every value must match in full, and why it failed
    pattern: str | None = None
    pattern_reason: str | None = None
    #: number columns: stored rounded to this many decimals (a client's home: postcode-area
    #: precision, see docs/privacy-and-fairness.md)
    decimals: int | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    #: columns forming the identity for upserts
    key: tuple[str, ...] = ("id",)
    #: columns accepted on import as another name for a column (alias -> column)
    aliases: dict[str, str] = field(default_factory=dict)
    #: (first day, last day) column pairs: the last day may not come before the first
    periods: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _enum(e) -> tuple[str, ...]:
    return tuple(m.value for m in e)


C = Column

#: a four-digit Dutch postcode area (PC4): 1000-9999
PC4_PATTERN = r"[1-9][0-9]{3}"
#: decimals a client's home is kept to: 0.01 degree is about 1.1 km north-south and 0.7 km
#: east-west here, the size of a postcode area, so a stored point says no more than the PC4
HOME_DECIMALS = 2

MUNICIPALITIES = Table(
    "municipalities",
    "Municipalities (gemeenten) the Werkplein serves.",
    (
        C("id", "str", REQUIRED, "CBS municipality code, e.g. GM0301 (Zutphen)."),
        C("name", "str", None, "Name; defaults to the id."),
        C("lat", "float", None, "Latitude of the town hall / Werkplein office (WGS84).", min=-90, max=90),
        C("lon", "float", None, "Longitude (WGS84).", min=-180, max=180),
    ),
)

TEAMS = Table(
    "teams",
    "Teams of coaches: a sector team (team naar branche) or an integrated team.",
    (
        C("id", "str", REQUIRED, "Team id, e.g. team-care."),
        C("name", "str", None, "Display name; defaults to the id."),
        C("kind", "enum", d.TeamKind.SECTOR.value, "sector or integrated.", _enum(d.TeamKind)),
        C("sectors", "list", [], "Sectors the team covers (codes from the taxonomy); empty for an integrated team means all."),
    ),
)

COACHES = Table(
    "coaches",
    "Work coaches (werkcoaches / klantmanagers).",
    (
        C("id", "str", REQUIRED, "Coach id (staff pseudonym)."),
        C("name", "str", None, "Display name; defaults to the id."),
        C("team_id", "str", None, "Team the coach belongs to.", ref="teams"),
        C("specialisations", "list", [], "Any of ww, bijstand, youth, newcomers, special_groups.", _enum(d.Specialisation)),
        C("capacity_points", "float", 100.0, "Caseload capacity in caseload points.", min=0),
        C("max_clients", "int", 80, "Hard maximum number of clients.", min=0),
        C("municipalities", "list", [], "Municipality ids the coach serves; empty means all.", ref="municipalities"),
        C("languages", "list", ["nl"], "Languages spoken (ISO 639-1), e.g. nl;en;ar."),
        C("lat", "float", None, "Latitude of the coach's office; defaults to the first municipality served.", min=-90, max=90),
        C("lon", "float", None, "Longitude of the coach's office.", min=-180, max=180),
        C("active", "bool", True, "False when the coach has left."),
    ),
)

COACH_ABSENCES = Table(
    "coach_absences",
    "Periods a coach is absent (leave, illness, departure).",
    (
        C("id", "str", REQUIRED, "Absence id."),
        C("coach_id", "str", REQUIRED, "Coach.", ref="coaches"),
        C("start_date", "date", REQUIRED, "First day absent."),
        C("end_date", "date", None, "Last day absent; empty means open-ended (the coach leaves)."),
        C("reason", "str", None, "Free text, e.g. leave, illness, departure."),
    ),
)

CLIENTS = Table(
    "clients",
    "Clients (klanten). Pseudonymous: the id is never a BSN. Protected attributes are not here.",
    (
        C("id", "str", REQUIRED, "Pseudonymous client id. Values that look like a BSN are refused."),
        C("skills", "list", REQUIRED, "ESCO skills: preferred labels or URIs, separated by ';'. May be empty."),
        C("municipality", "str", None, "Municipality id of residence.", ref="municipalities"),
        C("lat", "float", None, "Home latitude, stored rounded to 2 decimals (about 1 km: postcode-area precision); give it with lon.",
          min=-90, max=90, decimals=HOME_DECIMALS),
        C("lon", "float", None, "Home longitude, stored rounded to 2 decimals; give it with lat.", min=-180, max=180,
          decimals=HOME_DECIMALS),
        C("postcode_area", "str", None, "Four-digit postcode area (PC4), 1000-9999, e.g. 7201; no letters or house number.",
          pattern=PC4_PATTERN, pattern_reason="not a four-digit postcode area (PC4) between 1000 and 9999, e.g. 7201: "
          "Plein keeps a home at postcode-area precision, so no letters, street or house number"),
        C("benefit_type", "enum", d.BenefitType.NONE.value, "ww, bijstand or none.", _enum(d.BenefitType)),
        C("intake_date", "date", IMPORT_DATE, "Date of intake at the Werkplein."),
        C("age_band", "enum", d.AgeBand.UNKNOWN.value, "18-26, 27-44, 45-54, 55+ or unknown.", _enum(d.AgeBand)),
        C("education_level", "enum", d.EducationLevel.UNKNOWN.value, "Highest completed education.", _enum(d.EducationLevel)),
        C("dutch_level", "enum", d.DutchLevel.UNKNOWN.value, "Dutch language level (CEFR).", _enum(d.DutchLevel)),
        C("driving_licence", "bool", False, "Holds a car driving licence (rijbewijs B)."),
        C("hours_available", "int", 32, "Hours per week the client can work.", min=0, max=60),
        C("ladder_rung", "int", None, "Current rung on the participatieladder, 1-6; empty means not yet measured.", min=1, max=6),
        C("complexity", "int", 1, "Case complexity 1 (simple) to 3 (complex), from the diagnosis.", min=1, max=3),
        C("newcomer", "bool", False, "Statushouder in inburgering."),
        C("special_group", "bool", False, "In the doelgroepregister / needs supported work."),
        C("work_history", "history", [], "Past occupations with years: 'occupation=years' separated by ';'."),
        C("target_sectors", "list", [], "Sectors the client aims for (codes from the taxonomy)."),
        C("languages", "list", ["nl"], "Languages spoken (ISO 639-1)."),
        C("certificates", "list", [], "Certificates held, e.g. VCA;BHV;heftruck."),
        C("coach_id", "str", None, "Current coach.", ref="coaches"),
        C("status", "enum", d.ClientStatus.ACTIVE.value, "active, placed or exited.", _enum(d.ClientStatus)),
    ),
)

CLIENT_PROTECTED = Table(
    "client_protected",
    "Protected attributes, stored apart and read only by fairness audits. Never model features.",
    (
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("gender", "enum", d.Gender.UNKNOWN.value, "female, male, other or unknown.", _enum(d.Gender)),
        C("migration_background", "enum", d.MigrationBackground.UNKNOWN.value, "none, western, non_western or unknown.", _enum(d.MigrationBackground)),
    ),
    key=("client_id",),
)

EMPLOYERS = Table(
    "employers",
    "Employers (werkgevers) served by employer services.",
    (
        C("id", "str", REQUIRED, "Employer id."),
        C("name", "str", None, "Name; defaults to the id."),
        C("sector", "str", None, "Sector code."),
        C("municipality", "str", None, "Municipality id.", ref="municipalities"),
        C("lat", "float", None, "Latitude.", min=-90, max=90),
        C("lon", "float", None, "Longitude.", min=-180, max=180),
    ),
)

VACANCIES = Table(
    "vacancies",
    "Vacancies. `skills` are the essential skills; `optional_skills` the nice-to-have ones.",
    (
        C("id", "str", REQUIRED, "Vacancy id."),
        C("skills", "list", REQUIRED, "Essential ESCO skills: preferred labels or URIs, separated by ';'."),
        C("optional_skills", "list", [], "Optional ESCO skills."),
        C("employer_id", "str", None, "Employer.", ref="employers"),
        C("title", "str", None, "Job title as advertised."),
        C("occupation", "str", None, "ESCO occupation (preferred label or URI)."),
        C("sector", "str", None, "Sector code."),
        C("municipality", "str", None, "Municipality id of the workplace.", ref="municipalities"),
        C("lat", "float", None, "Workplace latitude.", min=-90, max=90),
        C("lon", "float", None, "Workplace longitude.", min=-180, max=180),
        C("hours", "int", None, "Hours per week; empty means flexible.", min=0, max=60),
        C("requires_licence", "bool", False, "Requires a car driving licence."),
        C("certificates", "list", [], "Required certificates."),
        C("min_dutch_level", "enum", None, "Minimum Dutch level (CEFR); empty means none.", tuple(x.value for x in d.DUTCH_ORDER)),
        C("supported_work", "bool", False, "Suits supported work (loonkostensubsidie, rung 5)."),
        C("positions", "int", 1, "Number of positions.", min=1),
        C("open_date", "date", IMPORT_DATE, "Date the vacancy opened."),
        C("close_date", "date", None, "Date it closed (or closes), on or after open_date; empty means open."),
    ),
    aliases={"essential_skills": "skills"},
    periods=(("open_date", "close_date"),),
)

LADDER_EVENTS = Table(
    "ladder_events",
    "Measurements on the participatieladder (at intake and at least yearly).",
    (
        C("id", "str", REQUIRED, "Event id."),
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("date", "date", REQUIRED, "Date of the measurement."),
        C("rung", "int", REQUIRED, "Rung measured, 1-6.", min=1, max=6),
    ),
)

ASSIGNMENTS = Table(
    "assignments",
    "Assignment history: which coach had which client when, why, approved by whom.",
    (
        C("id", "str", REQUIRED, "Assignment id."),
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("coach_id", "str", REQUIRED, "Coach.", ref="coaches"),
        C("start_date", "date", REQUIRED, "First day."),
        C("end_date", "date", None, "Last day; empty while current."),
        C("reason", "str", None, "Why: intake, rebalance, absence, specialisation, ..."),
        C("approved_by", "str", None, "Manager who approved it."),
    ),
)

OUTCOMES = Table(
    "outcomes",
    "Placement outcomes: a client's progress on a vacancy's list.",
    (
        C("id", "str", REQUIRED, "Outcome id."),
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("vacancy_id", "str", REQUIRED, "Vacancy.", ref="vacancies"),
        C("date", "date", REQUIRED, "Date of the stage."),
        C("stage", "enum", REQUIRED, "proposed, shortlisted, invited, hired or rejected.", _enum(d.OutcomeStage)),
        C("reason", "str", None, "Reason, required in spirit for rejected."),
        C("recorded_by", "str", None, "Who recorded it."),
    ),
)

#: Ground truth written by the demo-region generator only: the probabilities of its causal
#: process, so models can be compared with the oracle. Never read by features.
TRUTH_LADDER = Table(
    "truth_ladder",
    "Generator oracle: per client snapshot, the true 12-month probabilities.",
    (
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("as_of", "date", REQUIRED, "Snapshot date."),
        C("p_rise_12m", "float", REQUIRED, "True probability of rising at least one rung within 12 months.", min=0, max=1),
        C("p_paid_12m", "float", REQUIRED, "True probability of reaching rung 5-6 within 12 months.", min=0, max=1),
    ),
    key=("client_id", "as_of"),
)

TRUTH_MATCH = Table(
    "truth_match",
    "Generator oracle: the true hire probability of each shortlisted client-vacancy pair.",
    (
        C("client_id", "str", REQUIRED, "Client.", ref="clients"),
        C("vacancy_id", "str", REQUIRED, "Vacancy.", ref="vacancies"),
        C("p_hire", "float", REQUIRED, "True probability of being hired when shortlisted.", min=0, max=1),
    ),
    key=("client_id", "vacancy_id"),
)

#: All tables in dependency order (referenced tables first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MUNICIPALITIES,
        TEAMS,
        COACHES,
        COACH_ABSENCES,
        CLIENTS,
        CLIENT_PROTECTED,
        EMPLOYERS,
        VACANCIES,
        LADDER_EVENTS,
        ASSIGNMENTS,
        OUTCOMES,
        TRUTH_LADDER,
        TRUTH_MATCH,
    )
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(TABLES)}") from None
