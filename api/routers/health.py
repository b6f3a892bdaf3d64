"""Liveness (`/v1/health`: the process answers) and readiness (`/v1/ready`: the database
answers and is migrated, the matcher is built, models are loaded), and `/v1/me`."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

import plein
from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import PROBLEM_JSON, problem_body
from api.schemas import Health, Me, Readiness

router = APIRouter(prefix="/v1", tags=["health"], dependencies=[Depends(authorize)])


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
async def health() -> dict:
    return {"status": "ok", "version": plein.__version__}


def _checks(service) -> dict[str, dict]:
    from plein.storage import current_revision, head_revision

    checks: dict[str, dict] = {}
    try:
        with service.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        current, head = current_revision(service.engine), head_revision()
        if current == head:
            checks["database"] = {"ok": True, "detail": f"reachable, schema at {current}"}
        else:
            checks["database"] = {"ok": False, "detail": f"schema at {current}, code expects {head}: run `plein db upgrade`"}
    except Exception as exc:  # the check reports, it does not fail
        checks["database"] = {"ok": False, "detail": f"not reachable: {exc}"}
    ok, detail = service.data_status()
    if not ok:
        service.build_in_background()
    checks["matcher"] = {"ok": ok, "detail": detail}
    try:
        server = service.models()
        checks["models"] = {"ok": True, "detail": _models_detail(server.status())}
    except Exception as exc:
        # models are optional: the service answers with rule-based scores without them
        checks["models"] = {"ok": True, "detail": f"no trained model ({exc}); rule-based scoring is used"}
    return checks


#: what the service does without each model
_WITHOUT = {"ranker": "candidate lists ranked by the rule-based score", "ladder": "no ladder predictions"}


def _models_detail(status: dict) -> str:
    """``serving plein-ranker version 2 and plein-ladder version 3``, or per model what is not
    served and why, from `ModelServer.status()` (the one account of what is loaded)."""
    served, missing = [], []
    for kind, m in status.get("models", {}).items():
        if m.get("version"):
            served.append(f"{m.get('name', kind)} version {m['version']}" + (f" ({m['error']})" if m.get("error") else ""))
        else:
            why = m.get("error") or f"no version holds the alias '{status.get('alias', 'champion')}'"
            missing.append(f"no {kind} ({why}): {_WITHOUT.get(kind, 'not used')}")
    return "; ".join(([f"serving {' and '.join(served)}"] if served else ["serving no model"]) + missing)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: database reachable and migrated, matcher built",
    responses={503: {"description": "Not ready", "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
)
def ready(service: ServiceDep):
    checks = _checks(service)
    if all(c["ok"] for c in checks.values()):
        return {"status": "ready", "checks": checks}
    failing = [f"{name}: {c['detail']}" for name, c in checks.items() if not c["ok"]]
    body = problem_body("/v1/ready", "not-ready", "Not ready: " + "; ".join(failing) + ".", checks=checks)
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


@router.get("/me", response_model=Me, summary="The caller: key name and role")
async def me(principal: PrincipalDep) -> dict:
    return {"name": principal.name, "role": principal.role.value}
