"""Small hand-made data for matching tests: a tiny taxonomy and frame builders."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

AS_OF = dt.date(2026, 1, 15)
ZUTPHEN = (52.1386, 6.2014)
LOCHEM = (52.1597, 6.4111)
ARNHEM = (51.9851, 5.8987)  # ~30 km from Zutphen
AMSTERDAM = (52.3676, 4.9041)  # ~90 km from Zutphen

#: occupation -> (ISCO-08 unit group, essential skills, optional skills)
OCCUPATIONS = {
    "cook": ("5120", ["prepare meals", "food safety", "use kitchen equipment", "plan menus"], ["bake bread"]),
    "chef": ("3434", ["plan menus", "lead kitchen staff", "prepare meals", "control food costs"], ["food safety"]),
    "kitchen assistant": ("9412", ["clean kitchen", "food safety", "wash dishes"], ["use kitchen equipment"]),
    "forklift operator": ("8344", ["operate forklift", "load goods", "warehouse safety"], ["read shipping documents"]),
    "warehouse worker": ("9333", ["load goods", "pick orders", "warehouse safety"], ["operate forklift"]),
    "care assistant": ("5322", ["assist patients", "hygiene care", "report observations"], ["prepare meals"]),
}


@pytest.fixture
def tiny_taxonomy():
    occupations = pd.DataFrame({
        "label": list(OCCUPATIONS),
        "uri": [f"http://example.org/occupation/{i}" for i in range(len(OCCUPATIONS))],
        "isco_code": [v[0] for v in OCCUPATIONS.values()],
        "sector": None,
    })
    rows = []
    for occ, (_, ess, opt) in OCCUPATIONS.items():
        rows += [(occ, s, "essential") for s in ess] + [(occ, s, "optional") for s in opt]
    occupation_skills = pd.DataFrame(rows, columns=["occupation", "skill", "relation"])
    skills = pd.DataFrame({"label": sorted(set(occupation_skills["skill"])), "uri": None, "kind": None})
    return SimpleNamespace(occupations=occupations, occupation_skills=occupation_skills, skills=skills)


def client(id, skills, **kw):
    base = {"id": id, "skills": list(skills), "lat": ZUTPHEN[0], "lon": ZUTPHEN[1], "dutch_level": "B2",
            "driving_licence": True, "hours_available": 36, "ladder_rung": 5, "status": "active",
            "certificates": [], "work_history": [], "intake_date": dt.date(2025, 1, 15)}
    base.update(kw)
    return base


def vacancy(id, skills, optional=(), **kw):
    base = {"id": id, "skills": list(skills), "optional_skills": list(optional), "lat": ZUTPHEN[0], "lon": ZUTPHEN[1],
            "hours": 32, "requires_licence": False, "certificates": [], "min_dutch_level": None,
            "supported_work": False, "open_date": dt.date(2026, 1, 1), "close_date": None}
    base.update(kw)
    return base


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows)


@pytest.fixture
def helpers():
    return SimpleNamespace(client=client, vacancy=vacancy, frame=frame, AS_OF=AS_OF, ZUTPHEN=ZUTPHEN, LOCHEM=LOCHEM,
                           ARNHEM=ARNHEM, AMSTERDAM=AMSTERDAM)


class FakeRanker:
    """Implements the ranker contract: prefers clients with more years in the occupation,
    then closer ones, ignoring skills, so its order differs from the rule score."""

    version = "fake-1"

    def __init__(self):
        self.calls = 0

    def predict_proba(self, features: pd.DataFrame):
        import numpy as np

        self.calls += 1
        z = 0.5 * features["occupation_experience_years"].to_numpy() - 0.05 * features["distance_km"].to_numpy()
        return 1 / (1 + np.exp(-z))

    def contributions(self, features: pd.DataFrame, top: int = 3):
        out = []
        for _, row in features.iterrows():
            parts = [("occupation_experience_years", 0.5 * row["occupation_experience_years"]),
                     ("distance_km", -0.05 * row["distance_km"])]
            out.append(sorted(parts, key=lambda p: -abs(p[1]))[:top])
        return out


@pytest.fixture
def fake_ranker():
    return FakeRanker()
