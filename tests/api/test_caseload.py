"""Caseload: balance, optimisation jobs with progress, proposals, approval (stale refused,
concurrent approvals: exactly one wins) and rejection."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("scheduling.approval")

OPTIONS = {"time_limit": 5, "seed": 1}


def run_job(env, mode: str = "intake", options: dict | None = None, role: str = "manager") -> dict:
    r = env.post("/v1/caseload/optimisations", role, json={"mode": mode, "options": options or OPTIONS})
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] in ("queued", "running", "done")
    assert env.service.jobs.wait_idle(120)
    done = env.get(f"/v1/jobs/{job['id']}", role).json()
    assert done["status"] == "done", done
    assert done["progress"] == 1.0
    return done


def test_balance_per_coach_and_team(shared_api):
    body = shared_api.get("/v1/caseload/balance", "manager").json()
    coaches = {c["id"]: c for c in body["coaches"]}
    assert set(coaches) == {"coach-a1", "coach-a2", "coach-b1", "coach-b2"}
    assert sum(c["clients"] for c in coaches.values()) == 22
    assert body["unassigned_clients"] == 2
    for c in coaches.values():
        assert c["load"] == pytest.approx(c["points"] / c["capacity_points"], abs=1e-3)
    teams = {t["id"]: t for t in body["teams"]}
    assert teams["team-zorg"]["clients"] == coaches["coach-a1"]["clients"] + coaches["coach-a2"]["clients"]


def test_intake_job_gives_a_proposal_with_reasons(api):
    job = run_job(api, "intake")
    pid = job["result"]["proposal_id"]
    p = api.get(f"/v1/proposals/{pid}", "manager").json()
    assert p["status"] == "pending" and p["mode"] == "intake" and p["created_by"] == "test-manager"
    moved = {m["client_id"] for m in p["result"]["moves"]}
    assert moved == {"c-023", "c-024"}, "intake places exactly the clients without a coach"
    assert all(m["reasons"] for m in p["result"]["moves"])
    assert p["result"]["before"]["summary"]["unassigned"] == 2
    # how good it is, in words, from its own solver figures (as the dashboard and the CLI say it)
    s = p["result"]["solver"]
    assert p["quality"] and f"{s['objective']:,}" in p["quality"][0]
    assert p["quality"][0].startswith("optimal:") if s["status"] == "optimal" else f"{s['bound']:,} (the proven bound)" in p["quality"][0]
    listed = api.get("/v1/proposals?status=pending", "admin").json()
    assert [x["id"] for x in listed["items"]] == [pid] and listed["items"][0]["moves"] == 2
    reads = [r for r in api.audit_rows() if r["action"] == "read" and (r["detail"] or {}).get("proposal_id") == pid]
    assert reads and set(reads[0]["detail"]["client_ids"]) == moved


@pytest.mark.parametrize("options, says", [
    ({"time_limit": "soon"}, "soon"),
    ({"time_limt": 5}, "unknown option(s): time_limt"),
    ({"time_limit": -5}, "time_limit must be above 0"),
    ({"time_limit": 100000}, "at most 3600"),
    ({"max_handovers": -3}, "max_handovers must not be negative"),
    ({"capacity": {"coach-a1": -100}}, "capacity for coach 'coach-a1' must be a number of points, 0 or more"),
    ({"coach_absent": [["coach-a1", "2026-12-10", "2026-12-01"]]}, "ends (2026-12-01) before it begins (2026-12-10)"),
    ({"coach_leaves": ["coach-999"]}, "coach_leaves: coach 'coach-999'"),
    ({"pins": {"c-001": "coach-999", "nobody": "coach-a1"}}, "pins (coach): coach 'coach-999'; pins: client 'nobody'"),
    ({"forbids": [["c-001", "coach-998"]]}, "forbids (coach): coach 'coach-998'"),
])
def test_invalid_options_are_refused_before_a_job_starts(api, options, says):
    r = api.post("/v1/caseload/optimisations", "manager", json={"mode": "what_if", "options": options})
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "options" and says in err["message"], err
    assert api.get("/v1/jobs", "manager").json()["total"] == 0


def test_a_capacity_that_is_not_a_number_is_refused(api):
    # Python's JSON reader takes NaN; the optimiser used to fall back to 100 points silently
    r = api.client.post("/v1/caseload/optimisations", headers={**api.headers("manager"), "content-type": "application/json"},
                        content=b'{"mode": "what_if", "options": {"capacity": {"coach-a1": NaN}}}')
    assert r.status_code == 422, r.text
    assert "must be a number of points, 0 or more (got nan)" in r.json()["errors"][0]["message"]
    assert api.get("/v1/jobs", "manager").json()["total"] == 0


def test_a_pin_on_an_exited_client_is_refused_before_the_job(api):
    assert api.patch("/v1/clients/c-010", "case_system", json={"status": "exited"}).status_code == 200
    r = api.post("/v1/caseload/optimisations", "manager", json={"mode": "intake", "options": {"pins": {"c-010": "coach-a1"}}})
    assert r.status_code == 422, r.text
    assert "not in the caseload (unknown, or exited): pins: client 'c-010'" in r.json()["errors"][0]["message"]
    assert api.get("/v1/jobs", "manager").json()["total"] == 0


def test_the_balance_and_a_proposals_before_figures_agree(api):
    # two bijstand clients of one coach on rung 5, complexity 2: 1.5 x 0.9 x 1.3 = 1.755 points
    # each, rounded per client to 1.76 by both
    rows = api.get("/v1/clients?benefit_type=bijstand&limit=100", "case_system").json()["items"]
    by_coach: dict = {}
    for c in rows:
        if c["coach_id"]:
            by_coach.setdefault(c["coach_id"], []).append(c["id"])
    pair = next(ids[:2] for ids in by_coach.values() if len(ids) >= 2)
    for cid in pair:
        assert api.patch(f"/v1/clients/{cid}", "case_system", json={"ladder_rung": 5, "complexity": 2}).status_code == 200
    balance = api.get("/v1/caseload/balance", "manager").json()
    before = run_job(api, "intake")["result"]["proposal_id"]
    result = api.get(f"/v1/proposals/{before}", "manager").json()["result"]
    mine = {c["id"]: (c["clients"], c["points"]) for c in balance["coaches"]}
    theirs = {c["coach_id"]: (c["clients"], c["points"]) for c in result["before"]["coaches"]}
    assert mine == theirs
    assert balance["unassigned_clients"] == result["before"]["summary"]["unassigned"]


def test_approve_applies_moves(api):
    pid = run_job(api, "intake")["result"]["proposal_id"]
    r = api.post(f"/v1/proposals/{pid}/approve", "manager", json={"note": "looks good"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == "test-manager"
    assert r.json()["quality"] == api.get(f"/v1/proposals/{pid}", "manager").json()["quality"] != []
    assert api.get("/v1/clients/c-023", "case_system").json()["coach_id"] is not None
    assert api.get("/v1/caseload/balance", "manager").json()["unassigned_clients"] == 0


def test_stale_proposal_is_refused_with_the_reason(api):
    pid = run_job(api, "intake")["result"]["proposal_id"]
    # the case system records meanwhile that one of the touched clients has left the caseload
    assert api.patch("/v1/clients/c-023", "case_system", json={"status": "exited"}).status_code == 200
    r = api.post(f"/v1/proposals/{pid}/approve", "manager")
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"] == "/problems/stale-proposal" and body["reason"] == "stale_proposal"
    assert "c-023" in body["detail"] and "optimiser again" in body["detail"]
    assert api.get(f"/v1/proposals/{pid}", "manager").json()["status"] == "pending", "nothing applied"
    assert api.get("/v1/clients/c-024", "case_system").json()["coach_id"] is None


def test_a_stale_proposal_names_the_coach_whose_capacity_changed(api):
    pid = run_job(api, "intake")["result"]["proposal_id"]
    result = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]
    coach = result["moves"][0]["to_coach"]
    before = next(c for c in result["before"]["coaches"] if c["coach_id"] == coach)
    assert api.patch(f"/v1/coaches/{coach}", "case_system", json={"capacity_points": 30.0}).status_code == 200
    r = api.post(f"/v1/proposals/{pid}/approve", "manager")
    assert r.status_code == 409, r.text
    assert f"coach {coach} now has a capacity of 30 points, not {before['capacity_points']:g}" in r.json()["detail"]
    # the refused attempt is in the audit log, with why
    refused = [a for a in api.audit_rows() if a["action"] == "approve_refused" and a["resource_id"] == pid]
    assert len(refused) == 1 and refused[0]["actor"] == "test-manager"
    assert "stale" in str(refused[0]["detail"]) and "capacity of 30 points" in str(refused[0]["detail"])
    assert not [a for a in api.audit_rows() if a["action"] == "approve" and a["resource_id"] == pid]


def test_two_managers_approving_at_once_exactly_one_wins(api):
    from fastapi.testclient import TestClient

    pid = run_job(api, "intake")["result"]["proposal_id"]
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def approve(role: str) -> None:
        with TestClient(api.app) as c:
            barrier.wait()
            results[role] = c.post(f"/v1/proposals/{pid}/approve", headers=api.headers(role))

    threads = [threading.Thread(target=approve, args=(role,)) for role in ("manager", "manager2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: (v.status_code, v.text) for k, v in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409).json()
    assert loser["type"] == "/problems/already-decided"
    winner = next(r for r in results.values() if r.status_code == 200).json()
    assert loser["decided_by"] == winner["decided_by"]
    # the moves were applied once: one open assignment per placed client
    import sqlalchemy as sa

    from plein.storage import sql_table

    a = sql_table("assignments")
    with api.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(a).where(a.c.client_id == "c-023", a.c.end_date.is_(None))).scalar_one()
    assert n == 1


def test_reject_then_approve_is_already_decided(api):
    pid = run_job(api, "intake")["result"]["proposal_id"]
    r = api.post(f"/v1/proposals/{pid}/reject", "manager", json={"note": "wait for the new coach"})
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["decision_note"] == "wait for the new coach"
    r = api.post(f"/v1/proposals/{pid}/approve", "manager2")
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-decided"
    assert api.get("/v1/clients/c-023", "case_system").json()["coach_id"] is None
    assert api.post("/v1/proposals/nope/approve", "manager").status_code == 404


def test_a_failed_job_tells_the_user_and_logs_the_cause(api, caplog):
    import logging

    from api.jobs import JobFailure

    def work(progress):
        try:
            raise ValueError("assignment destination is read-only")
        except ValueError as exc:
            raise JobFailure(f"The optimisation could not run: {exc}") from exc

    with caplog.at_level(logging.WARNING, logger="plein.api.jobs"):
        job_id = api.service.jobs.submit("optimise", {"mode": "intake"}, "test-manager", work)
        assert api.service.jobs.wait_idle(60)
    job = api.get(f"/v1/jobs/{job_id}", "manager").json()
    assert job["status"] == "failed" and job["error"] == "The optimisation could not run: assignment destination is read-only"
    logged = [r for r in caplog.records if job_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None, "the cause's traceback is in the log"


def test_a_job_can_be_cancelled_queued_or_running(api, long_work):
    """A running job stops at its next progress report and stores nothing; a job queued
    behind it never starts; a finished job answers 409. The work here stands in for an
    optimisation: it reports progress until it is stopped (or 30 s pass)."""
    import time

    work, stores = long_work({"proposal_id": "never"}), []

    def next_work(progress):
        stores.append("next")
        return {}

    jobs = api.service.jobs
    running = jobs.submit("optimise", {"mode": "full"}, "test-manager", work)
    queued = jobs.submit("optimise", {"mode": "intake"}, "test-manager", next_work)  # one worker: it waits
    assert work.started.wait(10)
    r = api.post(f"/v1/jobs/{queued}/cancel", "manager")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and "before it started" in r.json()["message"]
    r = api.post(f"/v1/jobs/{running}/cancel", "manager")
    assert r.status_code == 200 and r.json()["status"] in ("cancelling", "cancelled")
    t0 = time.monotonic()
    assert jobs.wait_idle(20)
    assert time.monotonic() - t0 < 5, "it stopped at its next step, not after its 30 s"
    done = api.get(f"/v1/jobs/{running}", "manager").json()
    assert (done["status"], done["message"], done["result"]) == ("cancelled", "cancelled by test-manager", None)
    assert api.get(f"/v1/jobs/{queued}", "manager").json()["status"] == "cancelled"
    assert stores == [] and work.stored == [], "neither stored anything"
    # finished: nothing to cancel; unknown: 404; and the cancel is audited
    r = api.post(f"/v1/jobs/{running}/cancel", "manager")
    assert r.status_code == 409 and "already finished" in r.json()["detail"]
    assert api.post("/v1/jobs/no-such-job/cancel", "manager").status_code == 404
    assert api.post(f"/v1/jobs/{running}/cancel", "employer_services").status_code == 403
    assert [r["resource_id"] for r in api.audit_rows() if r["action"] == "cancel"] == [queued, running]
    listed = api.get("/v1/jobs?status=cancelled", "manager").json()
    assert {j["id"] for j in listed["items"]} == {queued, running}


def test_a_cancel_from_another_process_reaches_the_running_job(api, long_work):
    """The request is the job's row: a runner that did not start the job (another process of
    the service) cancels it, and the job sees it at its next progress write."""
    from api.jobs import JobRunner

    work = long_work(step=0.05)
    job_id = api.service.jobs.submit("optimise", {"mode": "full"}, "test-manager", work)
    assert work.started.wait(10)
    other = JobRunner(api.service.engine)
    assert other.cancel(job_id, "m.elsewhere")["status"] in ("cancelling", "cancelled")
    assert api.service.jobs.wait_idle(10)
    assert api.get(f"/v1/jobs/{job_id}", "manager").json()["status"] == "cancelled"
