"""Caseload optimisation: balance now, start an optimisation as a job, follow its progress,
read the proposal, approve or reject it.

Every caseload change is a proposal a manager decides on. Approval is atomic in
`scheduling.approval`: a proposal computed from caseloads that have changed since is refused
as stale (409 ``stale-proposal`` with the reason), and of two managers approving at once
exactly one wins; the other gets 409 ``already-decided``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from api import caseload_service
from api.config import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import ProblemError, not_found, problem_responses
from api.schemas import Balance, Decision, Job, OptimisationRequest, Page, ProposalOut, ProposalSummary, page
from plein.storage.operational import proposals

router = APIRouter(prefix="/v1", tags=["caseload"], dependencies=[Depends(authorize)])

IdPath = Annotated[str, Path(min_length=1, max_length=100)]


@router.get(
    "/caseload/balance",
    response_model=Balance,
    summary="Caseload balance per coach and team now",
    responses=problem_responses(401, 403, 503),
)
def balance(service: ServiceDep) -> dict:
    return caseload_service.balance(service)


@router.post(
    "/caseload/optimisations",
    response_model=Job,
    status_code=202,
    summary="Start an optimisation (full, intake or what-if) as a background job",
    description="Answers at once with the job; poll `GET /v1/jobs/{job_id}` until it is done, then read "
    "`GET /v1/proposals/{result.proposal_id}`.",
    responses=problem_responses(401, 403, 422, 503),
)
def start_optimisation(body: OptimisationRequest, service: ServiceDep, principal: PrincipalDep, response: Response) -> dict:
    job_id = caseload_service.start_optimisation(service, body.mode, body.options, principal.name)
    service.audit.record(principal, "start", "optimisation", job_id, {"mode": body.mode, "options": body.options})
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return service.jobs.get(job_id)


@router.get(
    "/jobs",
    response_model=Page[Job],
    summary="List jobs, newest first",
    responses=problem_responses(401, 403, 422),
)
def list_jobs(
    service: ServiceDep,
    status: Literal["queued", "running", "cancelling", "done", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    total, items = service.jobs.list(status=status, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@router.get("/jobs/{job_id}", response_model=Job, summary="A job's status and progress", responses=problem_responses(401, 403, 404))
def get_job(job_id: IdPath, service: ServiceDep) -> dict:
    job = service.jobs.get(job_id)
    if job is None:
        raise not_found("job", job_id)
    return job


@router.post("/jobs/{job_id}/cancel", response_model=Job, summary="Cancel a queued or running job",
             description="A queued job never starts; a running one stops at its next step (status `cancelling` "
             "until then, then `cancelled`) and stores nothing. A job that has finished answers 409.",
             responses=problem_responses(401, 403, 404, 409))
def cancel_job(job_id: IdPath, service: ServiceDep, principal: PrincipalDep) -> dict:
    job = service.jobs.get(job_id)
    if job is None:
        raise not_found("job", job_id)
    if job["status"] in ("done", "failed", "cancelled"):
        raise ProblemError("conflict", f"Job {job_id} has already finished ({job['status']}); there is nothing to cancel.")
    job = service.jobs.cancel(job_id, principal.name)
    service.audit.record(principal, "cancel", "job", job_id, {"status": job["status"]})
    return job


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    result = row.get("result") or {}
    moves = result.get("moves") or []
    return {**row, "moves": len(moves)}


def _whole(row: dict[str, Any]) -> dict[str, Any]:
    """A proposal as `ProposalOut`: the summary, and how good it is in words."""
    return {**_summary(row), "quality": caseload_service.proposal_quality(row.get("result") or {})}


@router.get(
    "/proposals",
    response_model=Page[ProposalSummary],
    summary="List proposals, newest first",
    responses=problem_responses(401, 403, 422),
)
def list_proposals(
    service: ServiceDep,
    status: Literal["pending", "approved", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    where = proposals.c.status == status if status else sa.true()
    with service.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(proposals).where(where)).scalar_one()
        rows = conn.execute(
            sa.select(proposals).where(where).order_by(proposals.c.created_at.desc(), proposals.c.id).limit(limit).offset(offset)
        ).mappings().all()
    return page([_summary(dict(r)) for r in rows], total, limit, offset)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalOut,
    summary="A proposal: moves with reasons, before/after figures, unassigned clients",
    description="Written to the audit log (the moves name clients).",
    responses=problem_responses(401, 403, 404),
)
def get_proposal(proposal_id: IdPath, service: ServiceDep, principal: PrincipalDep) -> dict:
    row = caseload_service.get_proposal(service, proposal_id)
    if row is None:
        raise not_found("proposal", proposal_id)
    service.audit.record_clients(principal, "read", caseload_service.proposal_client_ids(row), "proposal",
                                 {"proposal_id": proposal_id})
    return _whole(row)


@router.post(
    "/proposals/{proposal_id}/approve",
    response_model=ProposalOut,
    summary="Approve a proposal: its moves become the caseloads",
    description="409 `stale-proposal` when the caseloads changed since it was computed; 409 `already-decided` "
    "when someone decided first (of two managers approving at once, exactly one wins).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve(proposal_id: IdPath, service: ServiceDep, principal: PrincipalDep, body: Decision | None = None) -> dict:
    note = body.note if body else None
    row = await run_in_threadpool(caseload_service.decide, service, proposal_id, "approve", principal, note)
    return _whole(row)


@router.post(
    "/proposals/{proposal_id}/reject",
    response_model=ProposalOut,
    summary="Reject a proposal",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reject(proposal_id: IdPath, service: ServiceDep, principal: PrincipalDep, body: Decision | None = None) -> dict:
    note = body.note if body else None
    row = await run_in_threadpool(caseload_service.decide, service, proposal_id, "reject", principal, note)
    return _whole(row)
