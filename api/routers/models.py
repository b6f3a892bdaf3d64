"""Models: which versions this process serves, and reloading them (data scientists only).

Reload asks the registry which version holds the champion alias and loads it if it changed;
on any registry trouble the running version stays (see `models.serving`). Candidate lists
computed with the previous ranker are forgotten."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import ProblemError, problem_responses
from api.service import NotReady

router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[Depends(authorize)])


class ServedVersion(BaseModel):
    name: str
    version: str | None = Field(description="Registry version serving; null when none is.")
    run_id: str | None = None
    loaded_at: str | None = None
    error: str | None = Field(None, description="Last problem loading it; the previous version keeps serving.")


class ModelStatus(BaseModel):
    alias: str = Field(description="Registry alias served, normally 'champion'.")
    checked_at: str | None = Field(description="When the registry was last asked.")
    models: dict[str, ServedVersion] = Field(description="ranker and ladder.")
    matching: str = Field(description="'rules', or 'model:<version>' when the ranker re-ranks candidate lists.")


def _status(service) -> dict[str, Any]:
    try:
        server = service.models()
    except NotReady as exc:
        raise ProblemError("model-unavailable", str(exc)) from None
    status = server.status()
    ranker = getattr(server, "ranker", None)
    status["matching"] = f"model:{ranker.version}" if ranker is not None else "rules"
    return status


@router.get("", response_model=ModelStatus, summary="Model versions serving", responses=problem_responses(401, 403, 503))
def model_versions(service: ServiceDep) -> dict:
    return _status(service)


@router.post(
    "/reload",
    response_model=ModelStatus,
    summary="Reload the champion models from the registry (data scientists)",
    responses=problem_responses(401, 403, 503),
)
async def reload_models(service: ServiceDep, principal: PrincipalDep) -> dict:
    try:
        await run_in_threadpool(service.reload_models)
    except NotReady as exc:
        raise ProblemError("model-unavailable", str(exc)) from None
    status = _status(service)
    service.audit.record(principal, "reload", "models", None,
                         {k: v.get("version") for k, v in status.get("models", {}).items()})
    return status
