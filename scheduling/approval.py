"""Storing proposals and deciding on them, against the database.

Approval happens in ONE transaction:

1. claim the proposal with a conditional update
   ``UPDATE proposals SET status='approved', version=version+1 ... WHERE id=? AND
   status='pending' AND version=?``: of two managers approving at once exactly one updates a
   row; the other gets `ProposalConflict`;
2. lock the touched clients (``SELECT ... FOR UPDATE`` where the database supports it) and
   recompute the fingerprint of what the proposal touches (its clients' coaches and statuses,
   the caseloads, fields and absences of its coaches); if it differs from the one stored with
   the proposal, the whole transaction rolls back with `StaleProposal` naming what changed;
3. apply the moves: `clients.coach_id`, and the assignment history: the open `assignments` row
   of each moved client is closed (end_date = the approval day) and a new one opened with the
   reason and `approved_by`.

Rejecting records who and why; a decided proposal cannot be decided again.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from scheduling.proposal import Proposal, touched_fingerprint


class ProposalError(Exception):
    """Base class: the message says what and why."""


class ProposalNotFound(ProposalError):
    pass


class ProposalConflict(ProposalError):
    """The proposal was decided by someone else (or is not pending)."""


class StaleProposal(ProposalError):
    """The caseload changed since the proposal was made, in what the proposal touches."""


def _tables():
    from plein.storage import sql_table
    from plein.storage.operational import proposals

    return proposals, sql_table("clients"), sql_table("assignments")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def store_proposal(engine: Engine, proposal: Proposal, created_by: str) -> str:
    """Insert a pending proposal; returns its id (also set on `proposal.id`)."""
    if not created_by or not str(created_by).strip():
        raise ValueError("store_proposal: created_by (who ran the optimiser) is required")
    proposals, _, _ = _tables()
    pid = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(proposals.insert().values(
            id=pid, created_at=_now(), created_by=str(created_by), mode=proposal.mode, params=proposal.params,
            fingerprint=proposal.touched_fingerprint, status="pending", result=proposal.result_dict(), version=1,
        ))
    proposal.id = pid
    proposal.status = "pending"
    return pid


def load_proposal(engine: Engine, proposal_id: str) -> tuple[Proposal, dict]:
    """The proposal and its row's decision columns (status, decided_by, decided_at, note, version)."""
    proposals, _, _ = _tables()
    with engine.connect() as conn:
        row = conn.execute(sa.select(proposals).where(proposals.c.id == proposal_id)).mappings().first()
    if row is None:
        raise ProposalNotFound(f"proposal {proposal_id!r} does not exist")
    data = dict(row["result"] or {})
    data.update(id=row["id"], status=row["status"], mode=row["mode"], params=row["params"] or {})
    data.setdefault("touched_fingerprint", row["fingerprint"])
    data.setdefault("fingerprint", row["fingerprint"])
    p = Proposal.from_dict({**{k: data.get(k) for k in ("touched_clients", "touched_coaches", "plan_date")}, **data})
    meta = {k: row[k] for k in ("status", "created_by", "created_at", "decided_by", "decided_at", "decision_note", "version", "fingerprint")}
    return p, meta


def _claim(conn, proposals, proposal_id: str, status: str, manager: str, note: str | None) -> int:
    row = conn.execute(sa.select(proposals.c.status, proposals.c.version).where(proposals.c.id == proposal_id)).first()
    if row is None:
        raise ProposalNotFound(f"proposal {proposal_id!r} does not exist")
    if row.status != "pending":
        raise ProposalConflict(f"proposal {proposal_id} is already {row.status}; only a pending proposal can be decided")
    res = conn.execute(
        proposals.update()
        .where(proposals.c.id == proposal_id, proposals.c.status == "pending", proposals.c.version == row.version)
        .values(status=status, decided_by=manager, decided_at=_now(), decision_note=note, version=row.version + 1)
    )
    if res.rowcount != 1:
        raise ProposalConflict(f"proposal {proposal_id} was decided by someone else at the same moment")
    return row.version + 1


def _current_state(conn, client_ids: list[str], coach_ids: list[str]):
    """The slice of the region the fingerprint needs, read inside the transaction."""
    from plein.region import Region
    from plein.storage import read_table

    return Region(
        # only what the fingerprint and the stale reason read: the proposal page checks it on
        # every view, and a 50k clients table with its skills is seconds to decode
        clients=read_table(conn, "clients", ["id", "coach_id", "status"]),
        coaches=read_table(conn, "coaches"),
        coach_absences=read_table(conn, "coach_absences"),
    )


def approve(engine: Engine, proposal_id: str, manager: str, note: str | None = None, today: dt.date | None = None) -> dict:
    """Approve and apply a pending proposal (see the module doc). Returns a summary dict."""
    if not manager or not str(manager).strip():
        raise ValueError("approve: the approving manager's name is required")
    proposals, clients, assignments = _tables()
    proposal, _ = load_proposal(engine, proposal_id)
    day = today or dt.date.today()
    with engine.begin() as conn:
        _claim(conn, proposals, proposal_id, "approved", str(manager), note)
        touched = list(proposal.touched_clients)
        if conn.dialect.name == "postgresql" and touched:
            conn.execute(sa.select(clients.c.id).where(clients.c.id.in_(touched)).with_for_update())
        stale = _stale(conn, proposal)
        if stale:
            raise StaleProposal(stale)
        moved = 0
        for m in proposal.moves:
            _reassign(conn, clients, assignments, m["client_id"], m["to_coach"], day, _reason(proposal, m), str(manager))
            moved += 1
        released = 0
        for u in proposal.unassigned:
            if u.get("from_coach"):
                _reassign(conn, clients, assignments, u["client_id"], None, day, "unassigned: " + "; ".join(u["reasons"])[:200], str(manager))
                released += 1
    return {"proposal_id": proposal_id, "status": "approved", "moves_applied": moved, "clients_released": released,
            "approved_by": manager, "date": day.isoformat()}


def _stale(conn, proposal: Proposal) -> str | None:
    """Why `proposal` no longer fits the stored caseload (None: it still does)."""
    state = _current_state(conn, list(proposal.touched_clients), proposal.touched_coaches)
    if touched_fingerprint(state, proposal.touched_clients, proposal.touched_coaches) == proposal.touched_fingerprint:
        return None
    return _stale_reason(state, proposal)


def stale_reason(engine: Engine, proposal_id: str) -> str | None:
    """Why a pending proposal could not be approved now because the caseload changed since it
    was made (None: it could), read without deciding: the dashboard says so before a manager
    tries. Approval checks again inside its transaction."""
    proposal, row = load_proposal(engine, proposal_id)
    if row.get("status") != "pending":
        return None
    with engine.connect() as conn:
        return _stale(conn, proposal)


def reject(engine: Engine, proposal_id: str, manager: str, note: str | None = None) -> dict:
    """Reject a pending proposal, recording who and why. Nothing else changes."""
    if not manager or not str(manager).strip():
        raise ValueError("reject: the manager's name is required")
    proposals, _, _ = _tables()
    with engine.begin() as conn:
        _claim(conn, proposals, proposal_id, "rejected", str(manager), note)
    return {"proposal_id": proposal_id, "status": "rejected", "rejected_by": manager, "note": note}


def _reason(proposal: Proposal, move: dict) -> str:
    label = {"handover": "rebalance" if proposal.mode == "full" else proposal.mode.replace("_", "-"),
             "forced": "must move", "placement": "intake"}.get(move["kind"], move["kind"])
    first = move["reasons"][0] if move["reasons"] else ""
    return f"{label}: {first}"[:250]


def _reassign(conn, clients, assignments, client_id: str, coach_id: str | None, day: dt.date, reason: str, manager: str) -> None:
    conn.execute(clients.update().where(clients.c.id == client_id).values(coach_id=coach_id))
    conn.execute(
        assignments.update()
        .where(assignments.c.client_id == client_id, assignments.c.end_date.is_(None))
        .values(end_date=day)
    )
    if coach_id is not None:
        conn.execute(assignments.insert().values(
            id=f"as-{uuid.uuid4().hex[:16]}", client_id=client_id, coach_id=coach_id, start_date=day,
            end_date=None, reason=reason, approved_by=manager,
        ))


def _stale_reason(state, proposal: Proposal) -> str:
    """Say what changed, as precisely as we can."""
    cl = state.clients
    changed = []
    by_id = {str(r.id): r for r in cl.itertuples(index=False)} if len(cl) else {}
    was = {m["client_id"]: m["from_coach"] for m in proposal.moves}
    was.update({u["client_id"]: u.get("from_coach") for u in proposal.unassigned})
    for cid in proposal.touched_clients:
        r = by_id.get(cid)
        if r is None:
            changed.append(f"client {cid} no longer exists")
            continue
        now = None if r.coach_id is None or r.coach_id != r.coach_id else str(r.coach_id)
        if cid in was and now != was[cid]:
            changed.append(f"client {cid} is now with {now or 'no coach'}; the proposal saw "
                           + (f"them with {was[cid]}" if was[cid] else "them without a coach"))
        if str(r.status) not in ("active", "placed"):
            changed.append(f"client {cid} is now {r.status}")
    # the touched coaches against the proposal's own before-figures (a what-if's scenario
    # capacities are its own, not a change)
    before = {c["coach_id"]: c for c in (proposal.before or {}).get("coaches") or []}
    scenario = set((proposal.params or {}).get("capacity") or {})
    live = cl[cl["status"].astype(str).isin(["active", "placed"])] if len(cl) else cl
    counts = live["coach_id"].astype(object).value_counts().to_dict() if len(live) else {}
    for r in state.coaches.itertuples(index=False):
        cid, b = str(r.id), before.get(str(r.id))
        if cid not in proposal.touched_coaches or b is None:
            continue
        if r.active is not None and r.active == r.active and not bool(r.active) and b.get("available", True):
            changed.append(f"coach {cid} has left (inactive)")
        if cid not in scenario and abs(float(r.capacity_points or 0) - float(b["capacity_points"])) > 1e-6:
            changed.append(f"coach {cid} now has a capacity of {float(r.capacity_points or 0):g} points, not {float(b['capacity_points']):g}")
        if int(r.max_clients or 0) != int(b["max_clients"]):
            changed.append(f"coach {cid} now takes at most {int(r.max_clients or 0)} clients, not {int(b['max_clients'])}")
        if int(counts.get(cid, 0)) != int(b["clients"]):
            changed.append(f"coach {cid} now has {int(counts.get(cid, 0))} clients, not {int(b['clients'])}")
    detail = "; ".join(changed[:5]) + (f" (and {len(changed) - 5} more)" if len(changed) > 5 else "") or \
        "the specialisations, municipalities, teams or absences of the coaches it touches changed"
    return f"proposal {proposal.id} is stale: {detail}. Run the optimiser again."
