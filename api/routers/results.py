"""Results: how the caseload moved on the participatieladder over a period, per team,
municipality or benefit type (management information for team managers; `plein.results`).

Aggregates only: counts and shares, no client ids, so nothing is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import ServiceDep, authorize
from api.problems import ProblemError, problem_responses
from api.service import NotReady, Service

router = APIRouter(prefix="/v1", tags=["results"], dependencies=[Depends(authorize)])


class ResultRow(BaseModel):
    clients: int = Field(description="Clients in the caseload on the first day of the period.")
    measured: int = Field(description="Of them, with a rung on the first day.")
    could_rise: int = Field(description="Measured and below rung 6 on the first day.")
    rose: int = Field(description="Of those who could rise, rose at least one rung in the period.")
    rose_share: float | None = Field(description="rose / could_rise; null for fewer than `min_group` who could rise.")
    below_paid_work: int = Field(description="Measured and below rung 5 on the first day.")
    reached_paid_work: int = Field(description="Of those below rung 5, measured at rung 5 or 6 in the period.")
    paid_work_share: float | None = Field(description="reached_paid_work / below_paid_work; null for small groups.")
    fell: int = Field(description="Latest rung at the end below the rung on the first day.")
    fell_share: float | None
    mean_rung_start: float | None
    mean_rung_end: float | None
    hired: int = Field(description="Hired through a vacancy's list in the period (a `hired` outcome).")


class ResultGroup(ResultRow):
    group: str = Field(description="Team id, municipality id or benefit type; '(none)' for clients without one.")
    name: str


class LadderResultsOut(BaseModel):
    start: str
    end: str
    by: str
    attribution: str = Field(description="Where the caseload on the first day comes from: the assignment history, "
                                         "or (without one) the current coach.")
    min_group: int
    latest_measurement: str | None
    notes: list[str] = Field(description="What to keep in mind when reading the figures.")
    total: ResultRow
    groups: list[ResultGroup]
    rungs: dict[str, dict[str, int]] = Field(description="Clients per rung (1-6) on the first day (`start`) and the last (`end`).")


def default_period(end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The twelve months up to `end` (default: today)."""
    end = end or dt.date.today()
    try:
        start = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28)
    return start, end


def ladder_results(service: Service, start: dt.date | None, end: dt.date | None, by: str) -> dict[str, Any]:
    """`plein.results.ladder_results` on the served region (cached until the data change);
    a 422 naming the field for a period or grouping that cannot be used."""
    from plein.results import ladder_results as compute

    end = end or dt.date.today()
    start = start or default_period(end)[0]
    try:
        state = service.data()
    except NotReady as exc:
        raise ProblemError("not-ready", str(exc)) from None
    try:
        return state.cached(("ladder-results", start, end, by), lambda: compute(state.region, start, end, by).to_dict())
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ProblemError("validation-error", f"The results cannot be computed: {exc}",
                           errors=[{"location": "query", "field": field, "message": message or str(exc), "type": "value_error"}]) from None


@router.get(
    "/results/ladder",
    response_model=LadderResultsOut,
    summary="Results on the participatieladder over a period, per team, municipality or benefit type",
    description="Of the clients in the caseload on `start`: how many rose at least one rung, reached paid work "
                "(rung 5-6) or fell by `end`, and were hired through a vacancy's list. Default: the twelve months "
                "up to today, per team.",
    responses=problem_responses(401, 403, 422, 503),
)
def results_ladder(
    service: ServiceDep,
    start: Annotated[dt.date | None, Query(description="First day of the period (YYYY-MM-DD); default: a year before `end`.")] = None,
    end: Annotated[dt.date | None, Query(description="Last day of the period (YYYY-MM-DD); default: today.")] = None,
    by: Annotated[Literal["team", "municipality", "benefit_type"], Query(description="How to group the clients.")] = "team",
) -> dict:
    return ladder_results(service, start, end, by)
