"""Test helpers of the service: a tiny hand-made region and `ApiEnv`, a complete app on its own
temporary database with one API key per role.

Used by the API tests and usable from any test or notebook that needs a running Plein service
without a server process (requests go through Starlette's test client, in process).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from api.roles import Role
from plein.region import Region

TODAY = dt.date.today()

#: ids the tests rely on
CLIENT = "c-001"
COACH = "coach-a1"
TEAM = "team-zorg"
EMPLOYER = "emp-1"
VACANCY = "vac-1"


def tiny_region() -> Region:
    """Three municipalities, two teams, four coaches, 24 clients, two employers, four vacancies."""
    muni = pd.DataFrame(
        [
            {"id": "GM0301", "name": "Zutphen", "lat": 52.1386, "lon": 6.2014},
            {"id": "GM0262", "name": "Lochem", "lat": 52.1597, "lon": 6.4142},
            {"id": "GM1876", "name": "Bronckhorst", "lat": 52.0500, "lon": 6.3100},
        ]
    )
    teams = pd.DataFrame(
        [
            {"id": TEAM, "name": "Zorg en welzijn", "kind": "sector", "sectors": ["Q"]},
            {"id": "team-techniek", "name": "Techniek en logistiek", "kind": "sector", "sectors": ["C", "H"]},
        ]
    )
    coaches = pd.DataFrame(
        [
            {"id": COACH, "name": "Anna de Vries", "team_id": TEAM, "specialisations": ["bijstand", "ww"], "capacity_points": 60.0,
             "max_clients": 20, "municipalities": ["GM0301"], "languages": ["nl"], "active": True},
            {"id": "coach-a2", "name": "Bram Jansen", "team_id": TEAM, "specialisations": ["bijstand", "youth"], "capacity_points": 60.0,
             "max_clients": 20, "municipalities": [], "languages": ["nl", "en"], "active": True},
            {"id": "coach-b1", "name": "Chris Bakker", "team_id": "team-techniek", "specialisations": ["ww", "bijstand"], "capacity_points": 60.0,
             "max_clients": 20, "municipalities": [], "languages": ["nl"], "active": True},
            {"id": "coach-b2", "name": "Dewi Smit", "team_id": "team-techniek", "specialisations": ["ww", "bijstand", "newcomers"],
             "capacity_points": 60.0, "max_clients": 20, "municipalities": [], "languages": ["nl", "ar"], "active": True},
        ]
    )
    skills_care = ["provide personal care", "assist patients with daily activities", "communicate with patients"]
    skills_tech = ["operate forklift", "load cargo", "maintain warehouse records"]
    rows = []
    coach_ids = list(coaches["id"])
    for i in range(24):
        care = i % 2 == 0
        rows.append(
            {
                "id": f"c-{i + 1:03d}",
                "skills": skills_care[: 1 + i % 3] if care else skills_tech[: 1 + i % 3],
                "municipality": ["GM0301", "GM0262", "GM1876"][i % 3],
                "lat": 52.14 + 0.01 * (i % 5),
                "lon": 6.20 + 0.02 * (i % 4),
                "benefit_type": ["ww", "bijstand"][i % 2],
                "intake_date": TODAY - dt.timedelta(days=30 * (i + 1)),
                "age_band": ["27-44", "45-54", "55+"][i % 3],
                "education_level": "mbo2_3",
                "dutch_level": "B2",
                "driving_licence": i % 3 == 0,
                "hours_available": 32,
                "ladder_rung": 3 + i % 4,
                "complexity": 1 + i % 3,
                "coach_id": coach_ids[i % 4] if i < 22 else None,
                "status": "active",
                "target_sectors": ["Q"] if care else ["H"],
            }
        )
    clients = pd.DataFrame(rows)
    employers = pd.DataFrame(
        [
            {"id": EMPLOYER, "name": "Zorggroep IJssel", "sector": "Q", "municipality": "GM0301", "lat": 52.14, "lon": 6.20},
            {"id": "emp-2", "name": "Logistiek Oost", "sector": "H", "municipality": "GM0262", "lat": 52.16, "lon": 6.41},
        ]
    )
    vacancies = pd.DataFrame(
        [
            {"id": VACANCY, "skills": skills_care[:2], "optional_skills": [skills_care[2]], "employer_id": EMPLOYER,
             "title": "Helpende zorg", "sector": "Q", "municipality": "GM0301", "lat": 52.14, "lon": 6.20, "hours": 24,
             "positions": 2, "open_date": TODAY - dt.timedelta(days=10)},
            {"id": "vac-2", "skills": skills_tech[:2], "optional_skills": [], "employer_id": "emp-2", "title": "Heftruckchauffeur",
             "sector": "H", "municipality": "GM0262", "lat": 52.16, "lon": 6.41, "hours": 32, "positions": 1,
             "open_date": TODAY - dt.timedelta(days=5)},
            {"id": "vac-3", "skills": skills_tech[2:], "optional_skills": [], "employer_id": "emp-2", "title": "Magazijnadministratie",
             "sector": "H", "municipality": "GM0262", "lat": 52.16, "lon": 6.41, "hours": 20, "positions": 1,
             "open_date": TODAY - dt.timedelta(days=3)},
            {"id": "vac-old", "skills": skills_care[:1], "optional_skills": [], "employer_id": EMPLOYER, "title": "Gesloten vacature",
             "sector": "Q", "municipality": "GM0301", "hours": 16, "positions": 1, "open_date": TODAY - dt.timedelta(days=200),
             "close_date": TODAY - dt.timedelta(days=100)},
        ]
    )
    ladder = pd.DataFrame(
        [{"id": f"le-{i + 1:03d}", "client_id": f"c-{i + 1:03d}", "date": TODAY - dt.timedelta(days=20), "rung": 3 + i % 4} for i in range(24)]
    )
    assignments = pd.DataFrame(
        [
            {"id": f"as-{i + 1:03d}", "client_id": f"c-{i + 1:03d}", "coach_id": coach_ids[i % 4],
             "start_date": TODAY - dt.timedelta(days=30 * (i + 1)), "reason": "intake"}
            for i in range(22)
        ]
    )
    region = Region(
        municipalities=muni, teams=teams, coaches=coaches, clients=clients, employers=employers, vacancies=vacancies,
        ladder_events=ladder, assignments=assignments,
    )
    # every frame must carry every schema column: fill the rest with None
    from plein import schema

    for name, df in region.tables().items():
        for col in schema.table(name).names:
            if col not in df.columns:
                df[col] = None
    return region


class ApiEnv:
    """One running app on its own database: settings, engine, keys per role, a test client."""

    def __init__(self, root, region: Region | None = None, mlflow_uri: str | None = None, **overrides) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app
        from api.auth import create_key
        from plein.settings import Settings
        from plein.storage import get_engine, save_region, upgrade

        root.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(
            data_dir=root,
            database_url=f"sqlite:///{root / 'plein.db'}",
            mlflow_tracking_uri=mlflow_uri or f"sqlite:///{root / 'mlflow.db'}",
            shared_data_dir=root / "no-shared-data",
        )
        self.engine = get_engine(self.settings.database_url)
        upgrade(self.engine)
        save_region(self.engine, region if region is not None else tiny_region())
        self.keys = {role.value: create_key(self.engine, f"test-{role.value}", role) for role in Role}
        self.keys["manager2"] = create_key(self.engine, "test-manager-2", Role.MANAGER)
        overrides.setdefault("preload", False)
        self.app = create_app(self.settings, **overrides)
        self.service = self.app.state.service
        self._tc = TestClient(self.app)
        self.client = self._tc.__enter__()

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def get(self, path: str, role: str, **kw):
        return self.client.get(path, headers={**self.headers(role), **kw.pop("headers", {})}, **kw)

    def post(self, path: str, role: str, **kw):
        return self.client.post(path, headers={**self.headers(role), **kw.pop("headers", {})}, **kw)

    def patch(self, path: str, role: str, **kw):
        return self.client.patch(path, headers={**self.headers(role), **kw.pop("headers", {})}, **kw)

    def audit_rows(self) -> list[dict]:
        import sqlalchemy as sa

        from plein.storage.operational import audit_log

        self.service.audit.flush()
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings()]

    def close(self) -> None:
        self._tc.__exit__(None, None, None)
        self.engine.dispose()
