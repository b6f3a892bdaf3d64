"""Storage test fixtures.

`engine` runs a test on SQLite (a fresh file per test) and on PostgreSQL (one scratch schema
per test session, emptied before each test, dropped at the end; skipped when the server is
unreachable). `tiny_region` is a hand-made region touching every table, every column kind,
empty values and references, independent of the demo-region generator.
"""

from __future__ import annotations

import uuid
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from plein.region import Region
from plein.storage import get_engine, metadata, upgrade


@pytest.fixture(scope="session")
def pg_engine_session(postgres_url):
    schema_name = f"plein_t_{uuid.uuid4().hex[:10]}"
    admin = get_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
    engine = get_engine(postgres_url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


def _empty_all(engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = get_engine(f"sqlite:///{tmp_path / 'plein.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("pg_engine_session")
        _empty_all(eng)
        yield eng


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table (region and operational), ordered: to prove nothing changed."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = sa.select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(query)]
    return out


@pytest.fixture
def take_snapshot():
    return snapshot


def _region() -> Region:
    d = date
    municipalities = pd.DataFrame({
        "id": ["GM0301", "GM0262", "GM1876"],
        "name": ["Zutphen", "Lochem", "Bronckhorst"],
        "lat": [52.1387, 52.16, 52.05],
        "lon": [6.2011, 6.4139, 6.3],
    })
    teams = pd.DataFrame({
        "id": ["team-care", "team-all"],
        "name": ["Zorg", None],
        "kind": ["sector", "integrated"],
        "sectors": [["Q", "N"], []],
    })
    coaches = pd.DataFrame({
        "id": ["coach-1", "coach-2", "coach-3"],
        "name": ["Anna", "Bram", None],
        "team_id": ["team-care", "team-all", None],
        "specialisations": [["ww"], ["bijstand", "youth"], []],
        "capacity_points": [100.0, 80.5, 0.0],
        "max_clients": [80, 60, 0],
        "municipalities": [["GM0301"], ["GM0262", "GM1876"], []],
        "languages": [["nl"], ["nl", "ar"], ["nl", "en"]],
        "lat": [52.1387, None, 52.0],
        "lon": [6.2011, None, 6.1],
        "active": [True, True, False],
    })
    coach_absences = pd.DataFrame({
        "id": ["abs-1", "abs-2"],
        "coach_id": ["coach-1", "coach-3"],
        "start_date": [d(2025, 7, 1), d(2025, 1, 1)],
        "end_date": [d(2025, 7, 21), None],
        "reason": ["leave", None],
    })
    clients = pd.DataFrame({
        "id": ["k-001", "k-002", "k-003", "k-004"],
        "skills": [["operate forklift", "stack goods"], [], ["first aid"], ["clean surfaces", "remove dust"]],
        "municipality": ["GM0301", "GM0262", None, "GM1876"],
        "lat": [52.14, 52.1612345678, None, 52.05],
        "lon": [6.2, 6.41, None, 6.3],
        "postcode_area": ["7201", None, "7241", "7255"],
        "benefit_type": ["ww", "bijstand", "none", "bijstand"],
        "intake_date": [d(2024, 2, 1), d(2023, 11, 15), d(2025, 1, 31), d(2022, 6, 1)],
        "age_band": ["27-44", "18-26", "55+", "unknown"],
        "education_level": ["mbo2_3", "vmbo", "unknown", "hbo"],
        "dutch_level": ["C1", "A2", "unknown", "B1"],
        "driving_licence": [True, False, False, True],
        "hours_available": [32, 24, 0, 40],
        "ladder_rung": [5, 2, None, 4],
        "complexity": [1, 3, 2, 1],
        "newcomer": [False, True, False, False],
        "special_group": [False, False, True, False],
        "work_history": [[{"occupation": "forklift operator", "years": 3.0}, {"occupation": "warehouse worker", "years": 1.5}], [], [], [{"occupation": "domestic cleaner", "years": 0.25}]],
        "target_sectors": [["H"], [], ["Q"], ["N", "Q"]],
        "languages": [["nl"], ["ar", "nl"], ["nl"], ["nl", "en"]],
        "certificates": [["VCA", "heftruck"], [], ["BHV"], []],
        "coach_id": ["coach-1", "coach-2", None, "coach-2"],
        "status": ["active", "active", "placed", "exited"],
    })
    client_protected = pd.DataFrame({
        "client_id": ["k-001", "k-002", "k-004"],
        "gender": ["female", "male", "unknown"],
        "migration_background": ["none", "non_western", "western"],
    })
    employers = pd.DataFrame({
        "id": ["emp-1", "emp-2"],
        "name": ["Zorggroep Sensire", None],
        "sector": ["Q", None],
        "municipality": ["GM0301", None],
        "lat": [52.14, None],
        "lon": [6.2, None],
    })
    vacancies = pd.DataFrame({
        "id": ["vac-1", "vac-2"],
        "skills": [["operate forklift"], ["first aid", "apply person-centred care"]],
        "optional_skills": [["stack goods"], []],
        "employer_id": ["emp-1", None],
        "title": ["Heftruckchauffeur", None],
        "occupation": ["forklift operator", None],
        "sector": ["H", "Q"],
        "municipality": ["GM0301", None],
        "lat": [52.13, None],
        "lon": [6.19, None],
        "hours": [36, None],
        "requires_licence": [True, False],
        "certificates": [["heftruck"], []],
        "min_dutch_level": ["A2", None],
        "supported_work": [False, True],
        "positions": [2, 1],
        "open_date": [d(2025, 3, 1), d(2025, 4, 2)],
        "close_date": [None, d(2025, 6, 30)],
    })
    ladder_events = pd.DataFrame({
        "id": ["le-1", "le-2", "le-3"],
        "client_id": ["k-001", "k-001", "k-002"],
        "date": [d(2024, 2, 1), d(2025, 2, 1), d(2023, 11, 15)],
        "rung": [4, 5, 2],
    })
    assignments = pd.DataFrame({
        "id": ["as-1", "as-2"],
        "client_id": ["k-001", "k-002"],
        "coach_id": ["coach-1", "coach-2"],
        "start_date": [d(2024, 2, 1), d(2023, 11, 15)],
        "end_date": [None, None],
        "reason": ["intake", "specialisation"],
        "approved_by": ["manager-1", None],
    })
    outcomes = pd.DataFrame({
        "id": ["out-1", "out-2"],
        "client_id": ["k-001", "k-003"],
        "vacancy_id": ["vac-1", "vac-2"],
        "date": [d(2025, 3, 10), d(2025, 4, 20)],
        "stage": ["hired", "rejected"],
        "reason": [None, "hours do not fit"],
        "recorded_by": ["es-1", "es-1"],
    })
    truth_ladder = pd.DataFrame({
        "client_id": ["k-001", "k-001", "k-002"],
        "as_of": [d(2024, 1, 1), d(2025, 1, 1), d(2025, 1, 1)],
        "p_rise_12m": [0.31, 0.2, 0.05],
        "p_paid_12m": [0.6, 0.7, 0.01],
    })
    truth_match = pd.DataFrame({
        "client_id": ["k-001", "k-003"],
        "vacancy_id": ["vac-1", "vac-2"],
        "p_hire": [0.42, 0.07],
    })
    return Region(
        municipalities=municipalities, teams=teams, coaches=coaches, coach_absences=coach_absences,
        clients=clients, client_protected=client_protected, employers=employers, vacancies=vacancies,
        ladder_events=ladder_events, assignments=assignments, outcomes=outcomes,
        truth_ladder=truth_ladder, truth_match=truth_match,
    )


@pytest.fixture
def tiny_region() -> Region:
    return _region()
