"""Small hand-built regions for the optimiser tests: every number is chosen so that one
constraint group decides the outcome, and dropping that group changes it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from plein import schema
from plein.region import Region

PLAN_DATE = dt.date(2026, 3, 2)
ZUTPHEN = ("GM0301", 52.1386, 6.2017)
LOCHEM = ("GM0262", 52.1597, 6.4111)


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows with schema defaults filled in, columns exactly as in the schema."""
    cols = schema.table(table).columns
    out = []
    for r in rows:
        row = {}
        for c in cols:
            if c.name in r:
                row[c.name] = r[c.name]
            elif c.required:
                raise KeyError(f"{table}: test row misses required column {c.name}")
            else:
                d = c.default
                row[c.name] = list(d) if isinstance(d, list) else (None if d is schema.IMPORT_DATE else d)
        out.append(row)
    return pd.DataFrame(out, columns=[c.name for c in cols]) if out else pd.DataFrame({c.name: pd.Series(dtype=object) for c in cols})


def coach(cid, team="team-care", specs=("ww", "bijstand"), cap=10.0, maxc=20, munis=(), langs=("nl",), lat=None, lon=None, active=True):
    return {"id": cid, "name": cid, "team_id": team, "specialisations": list(specs), "capacity_points": float(cap),
            "max_clients": int(maxc), "municipalities": list(munis), "languages": list(langs),
            "lat": lat if lat is not None else ZUTPHEN[1], "lon": lon if lon is not None else ZUTPHEN[2], "active": active}


def client(cid, coach_id=None, benefit="ww", age="27-44", muni="GM0301", rung=4, complexity=1, targets=(), langs=("nl",),
           dutch="C1", newcomer=False, special=False, lat=None, lon=None, pc4="7201", status="active"):
    return {"id": cid, "skills": [], "municipality": muni, "lat": lat if lat is not None else ZUTPHEN[1],
            "lon": lon if lon is not None else ZUTPHEN[2], "postcode_area": pc4, "benefit_type": benefit,
            "intake_date": dt.date(2025, 1, 1), "age_band": age, "education_level": "mbo2_3", "dutch_level": dutch,
            "driving_licence": False, "hours_available": 32, "ladder_rung": rung, "complexity": complexity,
            "newcomer": newcomer, "special_group": special, "work_history": [], "target_sectors": list(targets),
            "languages": list(langs), "certificates": [], "coach_id": coach_id, "status": status}


def make_region(coaches: list[dict], clients: list[dict], teams=None, absences=()) -> Region:
    teams = teams or [
        {"id": "team-care", "name": "Care", "kind": "sector", "sectors": ["care"]},
        {"id": "team-tech", "name": "Tech", "kind": "sector", "sectors": ["tech"]},
        {"id": "team-all", "name": "All", "kind": "integrated", "sectors": []},
    ]
    return Region(
        municipalities=frame("municipalities", [
            {"id": ZUTPHEN[0], "name": "Zutphen", "lat": ZUTPHEN[1], "lon": ZUTPHEN[2]},
            {"id": LOCHEM[0], "name": "Lochem", "lat": LOCHEM[1], "lon": LOCHEM[2]},
        ]),
        teams=frame("teams", teams),
        coaches=frame("coaches", coaches),
        coach_absences=frame("coach_absences", list(absences)),
        clients=frame("clients", clients),
    )


@pytest.fixture
def region_factory():
    return make_region


@pytest.fixture
def tiny():
    """Helpers as a namespace: tiny.coach(...), tiny.client(...), tiny.make_region(...)."""
    import types

    return types.SimpleNamespace(coach=coach, client=client, make_region=make_region, PLAN_DATE=PLAN_DATE, LOCHEM=LOCHEM, ZUTPHEN=ZUTPHEN)
