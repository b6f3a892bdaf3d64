"""A small, fully known region for the models' unit tests (independent of the demo generator).

Clients (intakes spread over ten years) are measured on the participatieladder at intake and
every 12 months after; between
two measurements a client rises one rung with a known probability (a logistic function of
education, Dutch level, complexity and time on benefit), or drops one with probability 0.05.
`truth_ladder` holds these probabilities per measurement, so tests know the oracle exactly.
Shortlisted pairs are hired with a known probability driven by skill overlap (`truth_match`).
Gender and migration background are drawn independently of everything else.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from plein.region import Region

SKILLS = [f"skill {i}" for i in range(30)]
SECTORS = ["care", "tech", "logistics"]
START = date(2020, 1, 1)
END = date(2025, 12, 31)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def p_rise(rung, edu, dutch, complexity, months):
    return _sigmoid(0.4 + 0.35 * (edu - 3) + 0.3 * (dutch - 3) - 0.7 * (complexity - 2) - 0.5 * np.log1p(months / 12) - 0.25 * (rung - 3))


def make_toy_region(n_clients: int = 600, seed: int = 1) -> Region:
    rng = np.random.default_rng(seed)
    coaches = pd.DataFrame({
        "id": [f"coach-{i}" for i in range(6)], "name": None, "team_id": None,
        "specialisations": [["ww", "bijstand"]] * 6, "capacity_points": 100.0, "max_clients": 200,
        "municipalities": [[]] * 6, "languages": [["nl"]] * 6, "lat": 52.14, "lon": 6.2, "active": True,
    })
    ids = [f"c{i:05d}" for i in range(n_clients)]
    # intakes spread over ten years, so every period has clients with long and short histories
    intake = [END - timedelta(days=int(d)) for d in rng.integers(400, 3650, n_clients)]
    edu = rng.integers(0, 8, n_clients)
    dutch = rng.integers(0, 7, n_clients)
    complexity = rng.integers(1, 4, n_clients)
    rung0 = np.clip(rng.integers(1, 6, n_clients), 1, 5)
    events, truth = [], []
    current = rung0.copy()
    for i in range(n_clients):
        r = int(rung0[i])
        d = intake[i]
        k = 0
        while d <= END:
            events.append({"id": f"e{i}-{k}", "client_id": ids[i], "date": d, "rung": r})
            months = k * 12
            pr = float(p_rise(r, edu[i], dutch[i], complexity[i], months)) if r < 6 else 0.0
            pd_ = 0.05 if r > 1 else 0.0
            # paid (rung 5-6) at the next measurement: from 4 by rising; from 5 unless dropping; from 6 always
            p_paid = {4: pr, 5: 1 - pd_, 6: 1.0}.get(r, 0.0)
            truth.append({"client_id": ids[i], "as_of": d, "p_rise_12m": pr, "p_paid_12m": min(max(p_paid, 0.0), 1.0)})
            u = rng.random()
            r = r + 1 if u < pr else (r - 1 if u < pr + pd_ else r)
            r = int(min(max(r, 1), 6))
            d = d + timedelta(days=365)
            k += 1
        current[i] = r
    clients = pd.DataFrame({
        "id": ids,
        "skills": [list(rng.choice(SKILLS, size=int(rng.integers(1, 6)), replace=False)) for _ in ids],
        "municipality": None, "lat": 52.1 + rng.normal(0, 0.05, n_clients), "lon": 6.2 + rng.normal(0, 0.05, n_clients),
        "postcode_area": None,
        "benefit_type": rng.choice(["ww", "bijstand", "none"], n_clients),
        "intake_date": intake,
        "age_band": rng.choice(["18-26", "27-44", "45-54", "55+"], n_clients),
        "education_level": [["basic", "vmbo", "mbo1", "mbo2_3", "mbo4", "havo_vwo", "hbo", "wo"][e] for e in edu],
        "dutch_level": [["none", "A1", "A2", "B1", "B2", "C1", "C2"][x] for x in dutch],
        "driving_licence": rng.random(n_clients) < 0.6,
        "hours_available": 32,
        "ladder_rung": current.astype(int),
        "complexity": complexity.astype(int),
        "newcomer": rng.random(n_clients) < 0.1,
        "special_group": rng.random(n_clients) < 0.1,
        "work_history": [[{"occupation": "cook", "years": float(rng.integers(0, 10))}] for _ in ids],
        "target_sectors": [[str(rng.choice(SECTORS))] for _ in ids],
        "languages": [["nl"]] * n_clients,
        "certificates": [[] for _ in ids],
        "coach_id": [f"coach-{i % 6}" for i in range(n_clients)],
        "status": "active",
    })
    protected = pd.DataFrame({
        "client_id": ids,
        "gender": rng.choice(["female", "male"], n_clients),
        "migration_background": rng.choice(["none", "western", "non_western"], n_clients, p=[0.4, 0.3, 0.3]),
    })
    n_vac = max(20, n_clients // 5)
    vopen = [START + timedelta(days=int(d)) for d in rng.integers(0, (END - START).days - 60, n_vac)]
    vacancies = pd.DataFrame({
        "id": [f"v{j:04d}" for j in range(n_vac)],
        "skills": [list(rng.choice(SKILLS, size=3, replace=False)) for _ in range(n_vac)],
        "optional_skills": [[] for _ in range(n_vac)], "employer_id": None, "title": None, "occupation": None,
        "sector": rng.choice(SECTORS, n_vac), "municipality": None,
        "lat": 52.1 + rng.normal(0, 0.05, n_vac), "lon": 6.2 + rng.normal(0, 0.05, n_vac),
        "hours": 32, "requires_licence": False, "certificates": [[] for _ in range(n_vac)], "min_dutch_level": None,
        "supported_work": False, "positions": 1, "open_date": vopen, "close_date": [d + timedelta(days=60) for d in vopen],
    })
    outcomes, truth_match = [], []
    client_skills = {c: set(s) for c, s in zip(ids, clients["skills"])}
    for j in range(n_vac):
        cand = rng.choice(n_clients, size=8, replace=False)
        vs = set(vacancies.at[j, "skills"])
        for c in cand:
            overlap = len(client_skills[ids[c]] & vs) / 3
            p = float(_sigmoid(-2.0 + 3.5 * overlap + 0.2 * (edu[c] - 3)))
            d0 = vopen[j] + timedelta(days=int(rng.integers(1, 20)))
            hired = rng.random() < p
            outcomes.append({"client_id": ids[c], "vacancy_id": vacancies.at[j, "id"], "date": d0, "stage": "shortlisted"})
            outcomes.append({"client_id": ids[c], "vacancy_id": vacancies.at[j, "id"], "date": d0 + timedelta(days=14),
                             "stage": "hired" if hired else "rejected"})
            truth_match.append({"client_id": ids[c], "vacancy_id": vacancies.at[j, "id"], "p_hire": p})
    outcomes = pd.DataFrame(outcomes)
    outcomes.insert(0, "id", [f"o{k}" for k in range(len(outcomes))])
    outcomes["reason"] = None
    outcomes["recorded_by"] = None
    return Region(
        coaches=coaches, clients=clients, client_protected=protected, vacancies=vacancies,
        ladder_events=pd.DataFrame(events), outcomes=outcomes, truth_ladder=pd.DataFrame(truth),
        truth_match=pd.DataFrame(truth_match),
    )
