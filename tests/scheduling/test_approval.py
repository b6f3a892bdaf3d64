"""Approval and rejection against the database: history written, double decisions refused,
stale proposals refused."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from scheduling import ScheduleOptions, run_optimisation
from scheduling.approval import (
    ProposalConflict,
    StaleProposal,
    approve,
    load_proposal,
    reject,
    store_proposal,
)

storage = pytest.importorskip("plein.storage")


@pytest.fixture
def db(tmp_path, tiny):
    engine = storage.get_engine(f"sqlite:///{tmp_path / 'plein.db'}")
    storage.upgrade(engine)
    coaches = [tiny.coach("A", cap=10), tiny.coach("B", cap=10)]
    clients = [tiny.client("c1", "A"), tiny.client("c2", "A"), tiny.client("c3", "A"), tiny.client("c4", "B")]
    region = tiny.make_region(coaches, clients)
    region.assignments = region.assignments.iloc[0:0]
    import pandas as pd

    region.assignments = pd.DataFrame([
        {"id": f"as-{c}", "client_id": c, "coach_id": k, "start_date": dt.date(2025, 1, 1), "end_date": None,
         "reason": "intake", "approved_by": "seed"}
        for c, k in (("c1", "A"), ("c2", "A"), ("c3", "A"), ("c4", "B"))
    ])
    storage.save_region(engine, region)
    yield engine
    engine.dispose()


def _proposal(engine, tiny):
    region = storage.load_region(engine)
    p = run_optimisation(region, "what_if", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5, capacity={"A": 2.0}))
    assert p.moves, "the what-if must need a move (A's capacity lowered to 2 below its 3 clients)"
    return p


def _coach(engine, client_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("select coach_id from clients where id = :i"), {"i": client_id}).scalar_one()


def test_approve_writes_assignment_history(db, tiny):
    p = _proposal(db, tiny)
    pid = store_proposal(db, p, created_by="planner")
    stored, meta = load_proposal(db, pid)
    assert meta["status"] == "pending" and stored.moves == p.moves
    out = approve(db, pid, manager="m.jansen", today=dt.date(2026, 3, 3))
    assert out["moves_applied"] == len(p.moves)
    move = p.moves[0]
    assert _coach(db, move["client_id"]) == move["to_coach"]
    with db.connect() as conn:
        rows = conn.execute(sa.text(
            "select coach_id, start_date, end_date, approved_by, reason from assignments where client_id = :i order by start_date"
        ), {"i": move["client_id"]}).all()
    assert len(rows) == 2
    assert rows[0].coach_id == "A" and str(rows[0].end_date) == "2026-03-03"
    assert rows[1].coach_id == move["to_coach"] and rows[1].end_date is None and rows[1].approved_by == "m.jansen"
    assert rows[1].reason.startswith("what-if")
    _, meta = load_proposal(db, pid)
    assert meta["status"] == "approved" and meta["decided_by"] == "m.jansen" and meta["version"] == 2


def test_second_decision_is_refused(db, tiny):
    pid = store_proposal(db, _proposal(db, tiny), created_by="planner")
    approve(db, pid, manager="first")
    with pytest.raises(ProposalConflict, match="already approved"):
        approve(db, pid, manager="second")
    with pytest.raises(ProposalConflict):
        reject(db, pid, manager="second", note="too late")


def test_concurrent_claim_only_one_wins(db, tiny):
    """Two managers read version 1 at once; the conditional update lets only one through."""
    from plein.storage.operational import proposals

    pid = store_proposal(db, _proposal(db, tiny), created_by="planner")
    stmt = (proposals.update().where(proposals.c.id == pid, proposals.c.status == "pending", proposals.c.version == 1)
            .values(status="approved", version=2))
    with db.begin() as conn:
        first = conn.execute(stmt).rowcount
    with db.begin() as conn:
        second = conn.execute(stmt).rowcount
    assert (first, second) == (1, 0)


def test_stale_proposal_is_refused(db, tiny):
    p = _proposal(db, tiny)
    pid = store_proposal(db, p, created_by="planner")
    moved = p.moves[0]["client_id"]
    with db.begin() as conn:  # someone reassigns that client meanwhile
        conn.execute(sa.text("update clients set coach_id = 'B' where id = :i"), {"i": moved})
    with pytest.raises(StaleProposal, match=f"client {moved} is now with B"):
        approve(db, pid, manager="m.jansen")
    _, meta = load_proposal(db, pid)
    assert meta["status"] == "pending"  # the refused approval changed nothing
    assert _coach(db, moved) == "B"


def test_untouched_change_does_not_make_it_stale(db, tiny):
    p = _proposal(db, tiny)
    pid = store_proposal(db, p, created_by="planner")
    with db.begin() as conn:  # a change to a coach the proposal does not touch
        conn.execute(sa.text("insert into coaches (id, name, capacity_points, max_clients, active, specialisations, municipalities, languages) "
                             "values ('Z', 'Z', 10, 10, 1, '[\"ww\"]', '[]', '[\"nl\"]')"))
    assert approve(db, pid, manager="m")["status"] == "approved"


def test_reject_records_note(db, tiny):
    pid = store_proposal(db, _proposal(db, tiny), created_by="planner")
    reject(db, pid, manager="m.jansen", note="wait for the new coach")
    _, meta = load_proposal(db, pid)
    assert meta["status"] == "rejected" and meta["decision_note"] == "wait for the new coach"
    assert _coach(db, "c1") == "A"


def test_applied_to_leaves_the_region_as_approval_writes_it(db, tiny):
    """`Proposal.applied_to` (in memory, for benchmarks and what-if chains) gives each client
    the coach that approval writes to the database, and leaves the region it is given alone."""
    region = storage.load_region(db)
    p = _proposal(db, tiny)
    before = region.clients["coach_id"].tolist()
    applied = p.applied_to(region)
    assert region.clients["coach_id"].tolist() == before
    approve(db, store_proposal(db, p, created_by="planner"), manager="m.jansen")
    written = storage.load_region(db).clients.set_index("id")["coach_id"]
    mine = applied.clients.set_index("id")["coach_id"]
    assert mine.to_dict() == written.loc[mine.index].to_dict()
    assert mine[p.moves[0]["client_id"]] == p.moves[0]["to_coach"] != before[region.clients["id"].tolist().index(p.moves[0]["client_id"])]


def test_applied_to_releases_the_unassigned_and_refuses_unknown_clients(tiny):
    from scheduling.proposal import Proposal

    region = tiny.make_region([tiny.coach("A"), tiny.coach("B")], [tiny.client("c1", "A"), tiny.client("c2", "A"), tiny.client("c3")])
    p = Proposal(mode="full", params={}, fingerprint="", touched_fingerprint="", touched_clients=[], touched_coaches=[],
                 plan_date="2026-01-01", moves=[{"client_id": "c3", "from_coach": None, "to_coach": "B"}],
                 unassigned=[{"client_id": "c2", "from_coach": "A", "reasons": ["full"]}])
    coach = p.applied_to(region).clients.set_index("id")["coach_id"]
    assert coach["c1"] == "A" and coach["c3"] == "B" and pd.isna(coach["c2"])
    p.moves.append({"client_id": "nobody", "from_coach": None, "to_coach": "A"})
    with pytest.raises(ValueError, match="clients not in the region: \\['nobody'\\]"):
        p.applied_to(region)
