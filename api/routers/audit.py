"""The audit log, for administrators: who read or changed what, when. Newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from api.config import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.deps import ServiceDep, authorize
from api.problems import problem_responses
from api.schemas import AuditRow, Page, page

router = APIRouter(prefix="/v1", tags=["audit"], dependencies=[Depends(authorize)])


@router.get("/audit", response_model=Page[AuditRow], summary="Read the audit log (admins)", responses=problem_responses(401, 403, 422))
async def read_audit(
    service: ServiceDep,
    actor: Annotated[str | None, Query(max_length=200, description="Key name.")] = None,
    resource: Annotated[str | None, Query(max_length=100, description="e.g. client, proposal.")] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    client_id: Annotated[str | None, Query(max_length=200, description=(
        "Every entry that exposed this client: its own reads and changes, and the lists, candidate lists "
        "and worklists it appeared in (who saw client X)."))] = None,
    since: Annotated[dt.datetime | None, Query(description="Only entries at or after this time (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    total, rows = await run_in_threadpool(
        service.audit.query, actor=actor, resource=resource, resource_id=resource_id, since=since, limit=limit, offset=offset,
        client_id=client_id,
    )
    return page(rows, total, limit, offset)
