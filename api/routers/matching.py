"""Matching: a vacancy's candidate list, a client's vacancy suggestions, and the outcomes of
candidates on a vacancy's list.

Employer services get the *candidate card*: the pseudonymous client id, the skills that match
and miss, a distance band, whether the client is ready for this kind of work, and reasons in
words. No benefit type, no ladder rung or history, no protected attribute, no address or
coordinates, no score breakdown by personal feature. Case system, managers and admins get the
full reasons the matcher gives. Every list is written to the audit log with the client ids.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.config import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.deps import PrincipalDep, ServiceDep, authorize
from api.problems import ProblemError, not_found, problem_responses
from api.roles import Role
from api.routers._entities import fetch_one
from api.schemas import Outcome, OutcomeCreate, Page, page
from api.service import NotReady, retry_on_lock
from plein.domain import outcome_date_problem
from plein.storage.tables import sql_table

router = APIRouter(prefix="/v1", tags=["matching"], dependencies=[Depends(authorize)])

IdPath = Annotated[str, Path(min_length=1, max_length=100)]
MAX_LIST = 200

#: (upper bound in km, label); beyond the last bound: the last label
DISTANCE_BANDS = ((5.0, "under 5 km"), (15.0, "5-15 km"), (30.0, "15-30 km"), (float("inf"), "over 30 km"))


class CandidateCard(BaseModel):
    """A candidate as employer services see it: no sensitive fields."""

    view: Literal["card"] = "card"
    client_id: str = Field(description="Pseudonymous client id (to record outcomes).")
    rank: int
    score: float = Field(description="Match score (higher is better); model probability of hire when a ranker serves.")
    matched_skills: list[str] = Field(description="Essential skills of the vacancy the client holds.")
    missing_skills: list[str] = Field(description="Essential skills the client does not list.")
    matched_optional_skills: list[str]
    transferable_skills: list[str] = Field(description="Missing skills the client very likely has from related work experience.")
    distance_band: str = Field(description="Home to workplace: under 5 km, 5-15 km, 15-30 km, over 30 km, or unknown.")
    ready: bool | None = Field(description="Ready for this kind of work (regular or supported); null when not yet assessed.")
    reasons: list[str] = Field(description="Why this candidate is on the list, in words.")


class Candidate(BaseModel):
    """A candidate with the matcher's full reasons (case system, managers, admins)."""

    view: Literal["full"] = "full"
    client_id: str
    rank: int
    score: float
    rule_score: float
    reasons: dict[str, Any]


class CandidateList(BaseModel):
    vacancy_id: str
    scored_by: str = Field(description="'rules', or 'model:<version>' when a learned ranker re-ranks.")
    candidates_considered: int = Field(description="Clients sharing at least one skill with the vacancy.")
    eligible: int = Field(description="Of those, passing every hard filter.")
    excluded_by: dict[str, int] = Field(description="Filter -> candidates it excluded (a candidate failing several is counted under each).")
    note: str | None = None
    items: list[Annotated[Candidate | CandidateCard, Field(discriminator="view")]]


class VacancyMatch(BaseModel):
    vacancy_id: str
    rank: int
    score: float
    rule_score: float
    reasons: dict[str, Any]


class VacancyList(BaseModel):
    client_id: str
    scored_by: str
    vacancies_considered: int
    eligible: int
    excluded_by: dict[str, int]
    note: str | None = None
    items: list[VacancyMatch]


def distance_band(km: float | None) -> str:
    if km is None:
        return "unknown"
    for bound, label in DISTANCE_BANDS:
        if km < bound:
            return label
    return DISTANCE_BANDS[-1][1]


def _ready(reasons: dict[str, Any]) -> bool | None:
    readiness = reasons.get("readiness") or {}
    rung, required = readiness.get("rung"), readiness.get("required_rung")
    if rung is None or required is None:
        return None
    return int(rung) >= int(required)


def candidate_card(result: dict[str, Any]) -> dict[str, Any]:
    """The employer-services view of one list entry, built from a whitelist of reasons."""
    r = result.get("reasons") or {}
    matched = list(r.get("matched_essential_skills") or [])
    missing = list(r.get("missing_essential_skills") or [])
    optional = list(r.get("matched_optional_skills") or [])
    transferable = list(r.get("transferable_skills") or [])
    n_matched = int(r.get("essential_matched", len(matched)))
    n_missing = int(r.get("essential_missing", len(missing)))
    band = distance_band(r.get("distance_km"))
    ready = _ready(r)
    words = []
    total = n_matched + n_missing

    def listed(names: list[str], of: int | None = None) -> str:
        """At most 5 names, and how many more there are (a cut list read as the whole one)."""
        more = max((of if of is not None else len(names)) - min(len(names), 5), 0)
        return ", ".join(names[:5]) + (f" and {more} more" if more else "")

    if total:
        words.append(f"holds {n_matched} of the {total} essential skills" + (f": {listed(matched, n_matched)}" if matched else ""))
    if optional:
        words.append(f"also holds optional skills: {listed(optional)}")
    if transferable:
        words.append(f"related work experience suggests: {listed(transferable)}")
    if missing:
        words.append(f"does not list: {listed(missing, n_missing)}")
    words.append(f"lives {band} from the workplace" if band != "unknown" else "distance to the workplace unknown")
    if ready is True:
        words.append("ready for this kind of work")
    elif ready is False:
        words.append("may need support before this kind of work")
    else:
        words.append("readiness not yet assessed: ask the client's coach")
    return {
        "view": "card",
        "client_id": result["client_id"],
        "rank": result["rank"],
        "score": round(float(result["score"]), 4),
        "matched_skills": matched,
        "missing_skills": missing,
        "matched_optional_skills": optional,
        "transferable_skills": transferable,
        "distance_band": band,
        "ready": ready,
        "reasons": words,
    }


def _state(service):
    try:
        return service.data()
    except NotReady as exc:
        raise ProblemError("not-ready", str(exc)) from None


def candidate_list(service, vacancy_id: str, top: int, state=None, ranker=None) -> dict[str, Any]:
    """The candidate list of a vacancy with full reasons, as plain data.

    Cached per data version as JSON bytes, not as Python objects: thousands of cached lists
    as dicts would be millions of objects for the garbage collector to walk, which showed as
    pauses of hundreds of milliseconds under load."""
    state = state or _state(service)
    ranker = ranker if ranker is not None else service.ranker()
    version = getattr(ranker, "version", None)

    def compute() -> bytes:
        try:
            lst = state.matcher.candidates_for_vacancy(vacancy_id, top=top, ranker=ranker)
        except KeyError:
            raise not_found("vacancy", vacancy_id) from None
        return json.dumps({
            "vacancy_id": vacancy_id,
            "scored_by": lst.scored_by,
            "candidates_considered": lst.candidates,
            "eligible": lst.eligible,
            "excluded_by": lst.excluded_by,
            "note": lst.note,
            "results": [r.to_dict() for r in lst.results],
        }).encode()

    return json.loads(state.cached(("candidates", vacancy_id, top, version), compute))


def _candidate_body(service, state, vacancy_id: str, limit: int, ranker, view: str) -> tuple[bytes, list[str]]:
    """The serialised response of a candidate list in one view, and the client ids it shows.

    Cached with the list: a busy vacancy's list is served as ready-made JSON, which is what
    lets the endpoint serve hundreds of requests a second."""
    version = getattr(ranker, "version", None)

    def build() -> tuple[bytes, list[str]]:
        data = candidate_list(service, vacancy_id, limit, state=state, ranker=ranker)
        if view == "card":
            items = [candidate_card(r) for r in data["results"]]
        else:
            items = [{"view": "full", **{k: r[k] for k in ("client_id", "rank", "score", "rule_score", "reasons")}} for r in data["results"]]
        body = CandidateList.model_validate({k: v for k, v in data.items() if k != "results"} | {"items": items})
        return body.model_dump_json().encode(), tuple(i["client_id"] for i in items)

    return state.cached(("candidates-json", vacancy_id, limit, version, view), build)


@router.get(
    "/vacancies/{vacancy_id}/candidates",
    response_model=CandidateList,
    summary="The candidate list of a vacancy, best first, with reasons",
    description="Employer services receive candidate cards without sensitive fields; other roles the full reasons. "
    "Written to the audit log.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def candidates(
    vacancy_id: IdPath,
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description=f"List length, at most {MAX_LIST}.")] = 20,
) -> Response:
    view = "card" if principal.role is Role.EMPLOYER_SERVICES else "full"
    state = service.current_data()
    ranker = service.current_ranker()
    hit = state.peek(("candidates-json", vacancy_id, limit, getattr(ranker, "version", None), view)) if state and ranker is not False else None
    if hit is None:  # compute (or load) off the event loop
        def compute():
            st = _state(service)
            rk = service.ranker()
            return _candidate_body(service, st, vacancy_id, limit, rk, view)

        hit = await run_in_threadpool(compute)
    body, ids = hit
    service.audit.record_clients(principal, "read", ids, "candidate list", {"vacancy_id": vacancy_id, "view": view})
    return Response(body, media_type="application/json")


@router.get(
    "/clients/{client_id}/vacancies",
    response_model=VacancyList,
    summary="Open vacancies for a client, best first, with reasons",
    description="Written to the audit log.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def vacancies_for_client(
    client_id: IdPath,
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 20,
) -> dict:
    state = _state(service)
    try:
        lst = state.matcher.vacancies_for_client(client_id, top=limit, ranker=service.ranker())
    except KeyError:
        raise not_found("client", client_id) from None
    service.audit.record(principal, "read", "client", client_id, {"context": "vacancies for client"})
    return {
        "client_id": client_id,
        "scored_by": lst.scored_by,
        "vacancies_considered": lst.candidates,
        "eligible": lst.eligible,
        "excluded_by": lst.excluded_by,
        "note": lst.note,
        "items": [{k: r.to_dict()[k] for k in ("vacancy_id", "rank", "score", "rule_score", "reasons")} for r in lst.results],
    }


@router.get(
    "/vacancies/{vacancy_id}/outcomes",
    response_model=Page[Outcome],
    summary="Outcomes recorded on a vacancy's list, newest first",
    description="Written to the audit log.",
    responses=problem_responses(401, 403, 404, 422),
)
def list_outcomes(
    vacancy_id: IdPath,
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    if fetch_one(service.engine, "vacancies", vacancy_id) is None:
        raise not_found("vacancy", vacancy_id)
    tbl = sql_table("outcomes")
    where = tbl.c.vacancy_id == vacancy_id
    with service.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(tbl).where(where)).scalar_one()
        rows = conn.execute(
            sa.select(tbl).where(where).order_by(tbl.c.date.desc(), tbl.c.id).limit(limit).offset(offset)
        ).mappings().all()
    items = [dict(r) for r in rows]
    if items:
        service.audit.record_clients(principal, "read", [i["client_id"] for i in items], "vacancy outcomes", {"vacancy_id": vacancy_id})
    return page(items, total, limit, offset)


def _check_outcome_date(vacancy: dict[str, Any], stage: str, when: dt.date) -> None:
    """The outcome's date, by `plein.domain.outcome_date_problem`, as a 422 on `date`."""
    problem = outcome_date_problem(vacancy["id"], stage, when, vacancy.get("open_date"), vacancy.get("close_date"))
    if problem:
        raise ProblemError("validation-error", f"The outcome's date is not possible: {problem}.",
                           errors=[{"location": "body", "field": "date", "message": problem, "type": "value_error"}])


def _has_history(engine, vacancy_id: str, client_id: str) -> bool:
    """Whether the client has any outcome on the vacancy already."""
    tbl = sql_table("outcomes")
    with engine.connect() as conn:
        return conn.execute(sa.select(tbl.c.id).where(tbl.c.vacancy_id == vacancy_id, tbl.c.client_id == client_id)
                            .limit(1)).first() is not None


def record_outcome(service, principal, vacancy_id: str, body: OutcomeCreate) -> dict[str, Any]:
    """Validate and store one outcome through `matching.outcomes` (shared with the dashboard).

    The outcome id is stable per (client, vacancy, stage, date): recording the same event
    twice does not duplicate it."""
    from matching.outcomes import outcome_rows, record_outcomes
    from plein.storage import ImportValidationError

    from api.routers._entities import import_problem

    vacancy = fetch_one(service.engine, "vacancies", vacancy_id)
    if vacancy is None:
        raise not_found("vacancy", vacancy_id)
    client = fetch_one(service.engine, "clients", body.client_id)
    if client is None:
        raise not_found("client", body.client_id)
    when = body.date or dt.date.today()
    _check_outcome_date(vacancy, body.stage, when)
    if client.get("status") == "exited" and not _has_history(service.engine, vacancy_id, body.client_id):
        # a client who left the caseload is on no list: a first outcome for them on this
        # vacancy is a mistyped id (the review recorded "hired" for an exited client who holds
        # none of the vacancy's skills); a pair with history may still be closed (a rejection)
        problem = (f"client {body.client_id} has left the caseload (status exited) and has no history on vacancy "
                   f"{vacancy_id}: an outcome is recorded for a client on its list")
        raise ProblemError("validation-error", f"{problem[0].upper()}{problem[1:]}.",
                           errors=[{"location": "body", "field": "client_id", "message": problem, "type": "value_error"}])
    try:
        rows = outcome_rows(vacancy_id, [body.client_id], body.stage, when,
                            reason=(body.reason or "").strip() or None, recorded_by=principal.name)
    except ValueError as exc:
        raise ProblemError(
            "validation-error", f"{str(exc)[0].upper()}{str(exc)[1:]}.",
            errors=[{"location": "body", "field": "reason" if "reason" in str(exc) else "stage", "message": str(exc), "type": "value_error"}],
        ) from None
    try:
        retry_on_lock(lambda: record_outcomes(service.engine, rows, source=f"POST /v1/vacancies/{vacancy_id}/outcomes"))
    except ImportValidationError as exc:
        raise import_problem(exc, "outcomes") from None
    service.audit.record(principal, "record_outcome", "client", body.client_id, {"vacancy_id": vacancy_id, "stage": body.stage})
    return fetch_one(service.engine, "outcomes", str(rows["id"].iloc[0]))


@router.post(
    "/vacancies/{vacancy_id}/outcomes",
    response_model=Outcome,
    status_code=201,
    summary="Record a candidate's outcome on a vacancy's list",
    description="Stages: proposed, shortlisted, invited, hired, rejected (a rejection needs a reason).",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def create_outcome(vacancy_id: IdPath, body: OutcomeCreate, service: ServiceDep, principal: PrincipalDep, response: Response) -> dict:
    out = record_outcome(service, principal, vacancy_id, body)
    response.headers["Location"] = f"/v1/vacancies/{vacancy_id}/outcomes"
    return out
