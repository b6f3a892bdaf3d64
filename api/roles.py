"""THE role matrix: which role may call which endpoint, as data.

Every route of the service (JSON API and dashboard) has exactly one entry here, keyed by
``(METHOD, path template)``. Authorisation reads only this table (`api.deps.authorize`), the
OpenAPI document shows it per operation (``x-allowed-roles``), `docs/api.md` prints it, and
the tests walk it endpoint by endpoint for every role. `create_app` refuses to start when a
route has no entry or an entry has no route, so the matrix cannot drift from the code.

Roles:
- ``case_system``: the municipality's / UWV's case-management system (integration key).
- ``manager``: a team manager; starts optimisations and decides on proposals.
- ``employer_services``: werkgeversdienstverlening; vacancies and candidate lists, sees only
  the anonymised candidate card.
- ``data_scientist``: model versions and reloads; no client records.
- ``admin``: operates the service; reads everything including the audit log, but does not
  decide on caseload proposals (that stays with managers).
"""

from __future__ import annotations

from enum import Enum

from plein.storage.operational import API_ROLES


class Role(str, Enum):
    CASE_SYSTEM = "case_system"
    MANAGER = "manager"
    EMPLOYER_SERVICES = "employer_services"
    DATA_SCIENTIST = "data_scientist"
    ADMIN = "admin"


assert tuple(r.value for r in Role) == API_ROLES, "api.roles.Role must list plein.storage.operational.API_ROLES"

ALL_ROLES: frozenset[Role] = frozenset(Role)
#: marker for endpoints anyone may call without a key (health, readiness, login page)
PUBLIC: frozenset[Role] = frozenset()

CS, MG, ES, DS, AD = Role.CASE_SYSTEM, Role.MANAGER, Role.EMPLOYER_SERVICES, Role.DATA_SCIENTIST, Role.ADMIN

_PEOPLE_READ = frozenset({CS, MG, AD})
_PEOPLE_WRITE = frozenset({CS, AD})
_STAFF_WRITE = frozenset({CS, MG, AD})
_JOBS_READ = frozenset({CS, MG, ES, AD})
_JOBS_WRITE = frozenset({CS, ES, AD})
_CASELOAD = frozenset({MG, AD})
_DECIDE = frozenset({MG})


def _entity(path: str, read: frozenset[Role], write: frozenset[Role], id_name: str) -> dict[tuple[str, str], frozenset[Role]]:
    return {
        ("GET", path): read,
        ("POST", path): write,
        ("POST", f"{path}/import"): write,
        ("GET", f"{path}/{{{id_name}}}"): read,
        ("PATCH", f"{path}/{{{id_name}}}"): write,
    }


ROLE_MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    # health
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/ready"): PUBLIC,
    ("GET", "/v1/me"): ALL_ROLES,
    # entities
    **_entity("/v1/clients", _PEOPLE_READ, _PEOPLE_WRITE, "client_id"),
    **_entity("/v1/coaches", _PEOPLE_READ, _STAFF_WRITE, "coach_id"),
    **_entity("/v1/teams", _PEOPLE_READ, _STAFF_WRITE, "team_id"),
    **_entity("/v1/employers", _JOBS_READ, _JOBS_WRITE, "employer_id"),
    **_entity("/v1/vacancies", _JOBS_READ, _JOBS_WRITE, "vacancy_id"),
    # caseload
    ("GET", "/v1/caseload/balance"): _CASELOAD,
    ("POST", "/v1/caseload/optimisations"): _CASELOAD,
    ("GET", "/v1/jobs"): _CASELOAD,
    ("GET", "/v1/jobs/{job_id}"): _CASELOAD,
    ("POST", "/v1/jobs/{job_id}/cancel"): _CASELOAD,
    ("GET", "/v1/proposals"): _CASELOAD,
    ("GET", "/v1/proposals/{proposal_id}"): _CASELOAD,
    ("POST", "/v1/proposals/{proposal_id}/approve"): _DECIDE,
    ("POST", "/v1/proposals/{proposal_id}/reject"): _DECIDE,
    # matching
    ("GET", "/v1/vacancies/{vacancy_id}/candidates"): frozenset({CS, MG, ES, AD}),
    ("GET", "/v1/vacancies/{vacancy_id}/outcomes"): frozenset({CS, MG, ES, AD}),
    ("POST", "/v1/vacancies/{vacancy_id}/outcomes"): frozenset({CS, ES, AD}),
    ("GET", "/v1/clients/{client_id}/vacancies"): _PEOPLE_READ,
    # ladder
    ("GET", "/v1/clients/{client_id}/ladder"): _PEOPLE_READ,
    ("GET", "/v1/coaches/{coach_id}/worklist"): _PEOPLE_READ,
    # results (management information: aggregates per team, municipality, benefit type)
    ("GET", "/v1/results/ladder"): _CASELOAD,
    # models
    ("GET", "/v1/models"): ALL_ROLES,
    ("POST", "/v1/models/reload"): frozenset({DS}),
    # audit
    ("GET", "/v1/audit"): frozenset({AD}),
    # dashboard (server-rendered pages; the key travels in a cookie)
    ("GET", "/dashboard"): PUBLIC,
    ("GET", "/dashboard/login"): PUBLIC,
    ("POST", "/dashboard/login"): PUBLIC,
    ("POST", "/dashboard/logout"): PUBLIC,
    ("GET", "/dashboard/caseload"): _CASELOAD,
    ("POST", "/dashboard/optimise"): _CASELOAD,
    ("GET", "/dashboard/jobs/{job_id}"): _CASELOAD,
    ("POST", "/dashboard/jobs/{job_id}/cancel"): _CASELOAD,
    ("GET", "/dashboard/proposals/{proposal_id}"): _CASELOAD,
    ("POST", "/dashboard/proposals/{proposal_id}/decision"): _DECIDE,
    ("GET", "/dashboard/results"): _CASELOAD,
    ("GET", "/dashboard/vacancies"): frozenset({MG, ES, AD}),
    ("GET", "/dashboard/vacancies/{vacancy_id}"): frozenset({MG, ES, AD}),
    ("POST", "/dashboard/vacancies/{vacancy_id}/outcomes"): frozenset({ES, AD}),
}

#: routes outside the matrix on purpose: documentation and static files, no data behind them
UNGUARDED_PATHS = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/problems/{slug}", "/static", "/")


def allowed_roles(method: str, path: str) -> frozenset[Role]:
    """The roles allowed on a route; KeyError (a programming error) for an unknown route."""
    return ROLE_MATRIX[(method.upper(), path)]


def is_public(method: str, path: str) -> bool:
    return ROLE_MATRIX.get((method.upper(), path)) == PUBLIC


def markdown_table() -> str:
    """The matrix as a Markdown table (for docs/api.md)."""
    roles = list(Role)
    lines = ["| Endpoint | " + " | ".join(r.value for r in roles) + " |", "|---|" + "---|" * len(roles)]
    for (method, path), allowed in ROLE_MATRIX.items():
        if allowed == PUBLIC:
            cells = ["public"] * len(roles)
        else:
            cells = ["yes" if r in allowed else "" for r in roles]
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
