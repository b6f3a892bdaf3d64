"""Caseload work shared by the JSON routes and the dashboard: balance figures, starting an
optimisation job, reading proposals and deciding on them through `scheduling.approval`.

The API never changes caseloads itself: approval (with its stale check and its optimistic
lock) belongs to `scheduling.approval`; this module maps its outcomes to problem documents.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from api.jobs import JobFailure
from api.problems import ProblemError, not_found
from api.service import NotReady, Service, retry_on_lock
from plein.storage.operational import proposals
from plein.storage.tables import sql_table


def _scheduling(what: str):
    try:
        if what == "approval":
            from scheduling import approval

            return approval
        if what == "proposal":
            from scheduling import proposal

            return proposal
        import scheduling

        return scheduling
    except ImportError as exc:
        raise ProblemError("not-ready", f"The optimiser is not installed in this service ({exc}).") from None


def proposal_quality(result: dict) -> list[str]:
    """How good a stored proposal is, in words (`scheduling.proposal.quality_lines`)."""
    return _scheduling("proposal").quality_lines(result.get("solver") or {})


# -- balance ------------------------------------------------------------------------------


def balance(service: Service) -> dict[str, Any]:
    """Caseload per coach and per team now, in clients and caseload points."""
    try:
        state = service.data()
    except NotReady as exc:
        raise ProblemError("not-ready", str(exc)) from None
    return state.cached(("balance",), lambda: _compute_balance(state.region))


def _compute_balance(region) -> dict[str, Any]:
    """Clients and caseload points per coach (current coach of active and placed clients),
    summed per team. Points come from the optimiser's own definition
    (`scheduling.config.CaseloadPoints`), so the chart and the optimiser agree."""
    import pandas as pd

    scheduling = _scheduling("scheduling")
    clients = region.clients
    in_caseload = clients["status"].fillna("active").astype(str).isin(("active", "placed"))
    cl = clients[in_caseload]

    def _val(v):
        return None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v

    # the optimiser's own points function (vectorised; a Python loop per client before)
    pts = scheduling.client_points(cl.assign(benefit_type=cl["benefit_type"].fillna("none")), scheduling.ScheduleConfig())
    # who is away today, in the optimiser's own words
    away = scheduling.coach_availability(region)
    frame = pd.DataFrame({"coach_id": cl["coach_id"].astype(object).to_numpy(), "points": pts})
    assigned = frame[frame["coach_id"].notna()]
    per_coach = assigned.groupby("coach_id")["points"].agg(["sum", "count"])
    coaches = []
    for r in region.coaches.itertuples(index=False):
        cid = str(r.id)
        total = float(per_coach["sum"].get(cid, 0.0))
        n = int(per_coach["count"].get(cid, 0))
        active = bool(_val(r.active) if _val(r.active) is not None else True)
        if not active and n == 0:
            continue
        cap = float(_val(r.capacity_points) or 0.0)
        why = away.get(cid)
        coaches.append({
            "id": cid, "name": str(_val(r.name) or cid), "team_id": _val(r.team_id), "clients": n, "points": round(total, 2),
            "capacity_points": cap, "max_clients": int(_val(r.max_clients) or 0),
            "load": round(total / cap, 4) if cap > 0 else 0.0, "available": why is None, "unavailable_reason": why,
        })
    team_names = {str(t.id): str(_val(t.name) or t.id) for t in region.teams.itertuples(index=False)}
    teams = []
    for tid in sorted({c["team_id"] for c in coaches if c["team_id"]} | set(team_names)):
        members = [c for c in coaches if c["team_id"] == tid]
        # the capacity of the coaches who are there, as the optimiser's team figures count it
        cap = sum(c["capacity_points"] for c in members if c["available"])
        total = sum(c["points"] for c in members)
        teams.append({
            "id": tid, "name": team_names.get(tid, tid), "team_id": tid, "clients": sum(c["clients"] for c in members),
            "points": round(total, 2), "capacity_points": cap, "max_clients": sum(c["max_clients"] for c in members if c["available"]),
            "load": round(total / cap, 4) if cap > 0 else 0.0,
        })
    # the caseload's clients without a coach (active and placed), as the optimiser counts them
    unassigned = int((in_caseload & clients["coach_id"].isna()).sum())
    coaches.sort(key=lambda c: (c["team_id"] or "", c["id"]))
    return {"coaches": coaches, "teams": teams, "unassigned_clients": unassigned}


# -- jobs ---------------------------------------------------------------------------------


def _check_named_ids(engine, opts) -> None:
    """The coaches and clients the options name must exist (ValueError naming each that does
    not), so that a typo is a 422 before the job, not a failed job after it."""
    named_coaches, named_clients = opts.named_ids()
    coaches = {c for ids in named_coaches.values() for c in ids}
    clients = {c for ids in named_clients.values() for c in ids}
    found = {}
    with engine.connect() as conn:
        for table, wanted in (("coaches", coaches), ("clients", clients)):
            tbl = sql_table(table)
            where = tbl.c.id.in_(sorted(map(str, wanted)))
            if table == "clients":  # the caseload, as the optimiser reads it: an exited client is not in it
                where = sa.and_(where, tbl.c.status.in_(["active", "placed"]))
            found[table] = set(conn.execute(sa.select(tbl.c.id).where(where)).scalars()) if wanted else set()
    opts.check_ids(found["coaches"], found["clients"])


def start_optimisation(service: Service, mode: str, options: dict[str, Any], created_by: str) -> str:
    scheduling = _scheduling("scheduling")
    approval = _scheduling("approval")
    try:
        mode = scheduling.normalise_mode(mode)
        opts = scheduling.ScheduleOptions.from_dict(options)
        _check_named_ids(service.engine, opts)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ProblemError(
            "validation-error", f"The optimisation options are not valid: {exc}",
            errors=[{"location": "body", "field": "options", "message": str(exc), "type": "value_error"}],
        ) from None
    engine = service.engine

    def work(progress) -> dict[str, Any]:
        from plein.storage import load_region

        progress(0, 1, "loading caseloads")
        region = load_region(engine)
        try:
            proposal = scheduling.run_optimisation(region, mode, options, progress=progress)
        except (ValueError, TypeError) as exc:
            raise JobFailure(f"The optimisation could not run: {exc}") from exc
        progress(0.99, 1, "storing the proposal")
        proposal_id = approval.store_proposal(engine, proposal, created_by)
        return {"proposal_id": proposal_id, "moves": len(getattr(proposal, "moves", None) or [])}

    return service.jobs.submit("optimise", {"mode": mode, "options": options}, created_by, work)


# -- proposals ----------------------------------------------------------------------------


def get_proposal(service: Service, proposal_id: str) -> dict[str, Any] | None:
    with service.engine.connect() as conn:
        row = conn.execute(sa.select(proposals).where(proposals.c.id == proposal_id)).mappings().first()
    return dict(row) if row else None


def stale_reason(service: Service, proposal_id: str) -> str | None:
    """Why a pending proposal could not be approved now (the caseload changed), or None."""
    return _scheduling("approval").stale_reason(service.engine, proposal_id)


def proposal_client_ids(row: dict[str, Any]) -> list[str]:
    result = row.get("result") or {}
    ids = [str(m.get("client_id")) for m in result.get("moves") or [] if m.get("client_id") is not None]
    ids += [str(u.get("client_id")) for u in result.get("unassigned") or [] if isinstance(u, dict) and u.get("client_id") is not None]
    return list(dict.fromkeys(ids))


def _error_kind(exc: Exception) -> str:
    name = type(exc).__name__.lower()
    if "stale" in name:
        return "stale-proposal"
    if "decided" in name or "already" in name or "conflict" in name or "concurren" in name:
        return "already-decided"
    if isinstance(exc, LookupError) or "notfound" in name or "unknown" in name:
        return "not-found"
    return ""


def decide(service: Service, proposal_id: str, action: str, principal, note: str | None, via: str | None = None) -> dict[str, Any]:
    """Approve or reject through `scheduling.approval`; problems for stale, decided, missing.
    Every attempt is written to the audit log, a refused one with why (``approve_refused``)."""
    approval = _scheduling("approval")
    where = {"via": via} if via else {}
    if get_proposal(service, proposal_id) is None:
        raise not_found("proposal", proposal_id)
    fn = approval.approve if action == "approve" else approval.reject
    try:
        retry_on_lock(lambda: fn(service.engine, proposal_id, principal.name, note=note))
    except Exception as exc:
        kind = _error_kind(exc)
        service.audit.record(principal, f"{action}_refused", "proposal", proposal_id,
                             {"note": note, "reason": kind or "error", "detail": str(exc)[:500], **where})
        if not kind:
            raise
        if kind == "not-found":
            raise not_found("proposal", proposal_id) from None
        current = get_proposal(service, proposal_id) or {}
        raise ProblemError(
            kind,
            str(exc),
            reason=kind.replace("-", "_"),
            proposal_status=current.get("status"),
            decided_by=current.get("decided_by"),
        ) from None
    service.audit.record(principal, action, "proposal", proposal_id, {"note": note, **where})
    if action == "approve":
        service.data_changed("clients")  # caseloads changed
    return get_proposal(service, proposal_id)
