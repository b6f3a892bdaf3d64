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
        versions = server.versions() if callable(getattr(server, "versions", None)) else getattr(server, "versions", {})
        checks["models"] = {"ok": True, "detail": f"serving {versions}"}
    except Exception as exc:
        # models are optional: the service answers with rule-based scores without them
        checks["models"] = {"ok": True, "detail": f"no trained model ({exc}); rule-based scoring is used"}
    return checks


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
