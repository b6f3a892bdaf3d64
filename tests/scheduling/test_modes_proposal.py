"""Modes (full, intake, what-if), the proposal's figures, explanations and determinism."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from scheduling import ScheduleOptions, run_optimisation
from scheduling.config import ScheduleConfig
from scheduling.explain import capacity_checks
from scheduling.problem import build_problem


def opts(tiny, **kw) -> ScheduleOptions:
    return ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5, seed=3, **kw)


def _region(tiny):
    coaches = [tiny.coach("A", cap=8), tiny.coach("B", cap=8), tiny.coach("C", team="team-tech", cap=8)]
    clients = [tiny.client(f"a{i}", "A") for i in range(5)] + [tiny.client(f"b{i}", "B") for i in range(2)] + \
              [tiny.client(f"c{i}", "C") for i in range(3)] + [tiny.client("new1"), tiny.client("new2", targets=("tech",))]
    return tiny.make_region(coaches, clients)


def test_intake_moves_only_new_clients(tiny):
    p = run_optimisation(_region(tiny), "intake", opts(tiny))
    assert sorted(m["client_id"] for m in p.moves) == ["new1", "new2"]
    assert all(m["kind"] == "placement" for m in p.moves)
    assert next(m for m in p.moves if m["client_id"] == "new2")["to_coach"] == "C"  # sector fit
    assert p.after["summary"]["handovers"] == 0 and p.after["summary"]["placements"] == 2


def test_full_rebalance_moves_existing_clients(tiny):
    p = run_optimisation(_region(tiny), "full", opts(tiny))
    kinds = {m["kind"] for m in p.moves}
    assert "handover" in kinds  # A at 5/8 vs B at 2/8: balance pays for a handover
    assert p.after["summary"]["max_relative_load"] < p.before["summary"]["max_relative_load"]
    assert p.after["summary"]["handovers"] == sum(1 for m in p.moves if m["kind"] == "handover")


def test_what_if_coach_leaves_only_what_must_move(tiny):
    r = _region(tiny)
    p = run_optimisation(r, "what_if", opts(tiny, coach_leaves=["B"]))
    moved = {m["client_id"] for m in p.moves}
    assert {"b0", "b1"} <= moved
    assert not moved & ({f"a{i}" for i in range(5)} | {f"c{i}" for i in range(3)})  # nobody else
    assert all(m["kind"] in ("forced", "placement") for m in p.moves)
    assert {m["to_coach"] for m in p.moves if m["client_id"].startswith("b")} <= {"A", "C"}


def test_what_if_widens_only_for_clients_it_would_strand(tiny, monkeypatch):
    """B leaves; b0 lives in GM0302, which only A serves, and A is full with a0, who may go to
    D. The what-if alone strands b0, so it widens to everyone: a0 moves to D (one handover at
    the what-if's price) and b0 takes the room. A client who had no coach and finds none is no
    reason to widen, and the widened run moves nobody else."""
    coaches = [tiny.coach("A", cap=1.0, munis=("GM0301", "GM0302")), tiny.coach("B", cap=5.0, munis=("GM0302",)),
               tiny.coach("D", cap=5.0, munis=("GM0301",))]
    clients = [tiny.client("a0", "A"), tiny.client("b0", "B", muni="GM0302"), tiny.client("d0", "D"), tiny.client("d1", "D")]
    p = run_optimisation(tiny.make_region(coaches, clients), "what_if", opts(tiny, coach_leaves=["B"]))
    assert p.solver["escalated_to_full"] is True
    assert {m["client_id"]: (m["kind"], m["to_coach"]) for m in p.moves} == {"b0": ("forced", "A"), "a0": ("handover", "D")}
    assert p.after["summary"]["unassigned"] == 0
    # the widened run prices a handover as the what-if does: balance alone moves nobody
    problem = build_problem(tiny.make_region(coaches, clients), "full", opts(tiny, coach_leaves=["B"]), widened=True)
    plain = build_problem(tiny.make_region(coaches, clients), "full", opts(tiny, coach_leaves=["B"]))
    assert problem.core.pair_cost.max() > plain.core.pair_cost.max()
    assert problem.catalogue.handover == 100 * plain.catalogue.handover

    # no room for a new client anywhere (GM0303 is served by no coach with room) and nobody
    # stranded: the what-if answers as it is, without widening
    full_d = [tiny.coach("A", cap=1.0, munis=("GM0301", "GM0302")), tiny.coach("B", cap=5.0, munis=("GM0302",)),
              tiny.coach("D", cap=2.0, munis=("GM0301", "GM0303"))]
    clients2 = [tiny.client("a0", "A"), tiny.client("b0", "B", muni="GM0302"), tiny.client("d0", "D"), tiny.client("d1", "D"),
                tiny.client("n0", muni="GM0303")]
    import scheduling.problem as problem_mod

    builds = []
    real = problem_mod.build_problem
    monkeypatch.setattr(problem_mod, "build_problem", lambda *a, **k: builds.append((a[1], k.get("widened"))) or real(*a, **k))
    p2 = run_optimisation(tiny.make_region(full_d, clients2), "what_if", opts(tiny, coach_absent=[("D", tiny.PLAN_DATE - dt.timedelta(days=400), tiny.PLAN_DATE - dt.timedelta(days=300))]))
    assert builds == [("what_if", False)] and p2.solver["escalated_to_full"] is False
    assert [u["client_id"] for u in p2.unassigned] == ["n0"] and p2.moves == []


def test_a_what_if_shares_its_time_limit_with_the_widened_run(tiny, monkeypatch):
    """The what-if builds and solves in half the time limit (its placement plan's budget
    included); widened, the run for everyone has what the what-if left, at least
    `WIDEN_MIN_SHARE` of the limit, and half in deterministic runs (no clock). Both used to
    build with the whole limit: 3 coaches leaving the generated 50k region took 50.8 s of 30."""
    import time

    import scheduling.problem as problem_mod
    from scheduling import WIDEN_MIN_SHARE

    coaches = [tiny.coach("A", cap=1.0, munis=("GM0301", "GM0302")), tiny.coach("B", cap=5.0, munis=("GM0302",)),
               tiny.coach("D", cap=5.0, munis=("GM0301",))]
    clients = [tiny.client("a0", "A"), tiny.client("b0", "B", muni="GM0302"), tiny.client("d0", "D"), tiny.client("d1", "D")]
    builds = []
    real = problem_mod.build_problem
    monkeypatch.setattr(problem_mod, "build_problem",
                        lambda *a, **k: builds.append((a[1], k.get("time_limit"), time.perf_counter())) or real(*a, **k))
    run_optimisation(tiny.make_region(coaches, clients), "what_if", opts(tiny, coach_leaves=["B"]))
    assert [(m, t) for m, t, _ in builds] == [("what_if", 2.5), ("full", 2.5)]  # deterministic

    builds.clear()
    t0 = time.perf_counter()
    p = run_optimisation(tiny.make_region(coaches, clients), "what_if", opts(tiny, coach_leaves=["B"], deterministic=False))
    assert p.solver["escalated_to_full"] is True
    (m1, t1, _), (m2, t2, at) = builds
    assert (m1, t1, m2) == ("what_if", 2.5, "full")
    assert t2 >= WIDEN_MIN_SHARE * 5 and abs(t2 - max(WIDEN_MIN_SHARE * 5, 5 - (at - t0))) < 0.25


def test_what_if_absent_from_date(tiny):
    r = _region(tiny)
    now = opts(tiny, coach_absent=[("A", tiny.PLAN_DATE, None)])
    moved = {m["client_id"] for m in run_optimisation(r, "what_if", now).moves}
    assert {f"a{i}" for i in range(5)} <= moved
    # the what-if's absence is its scenario: one that begins after the plan date counts too
    # (the plan prepares for it), with its dates in the reasons; it used to be ignored, and
    # the absent coach took on more clients
    later = opts(tiny, coach_absent=[("A", tiny.PLAN_DATE + dt.timedelta(days=30), tiny.PLAN_DATE + dt.timedelta(days=60))])
    p = run_optimisation(r, "what_if", later)
    assert {f"a{i}" for i in range(5)} <= {m["client_id"] for m in p.moves}
    assert all(m["to_coach"] != "A" for m in p.moves)
    start = (tiny.PLAN_DATE + dt.timedelta(days=30)).isoformat()
    assert any(start in reason for m in p.moves if m["from_coach"] == "A" for reason in m["reasons"])
    # one that has ended by the plan date changes nothing
    ended = opts(tiny, coach_absent=[("A", tiny.PLAN_DATE - dt.timedelta(days=60), tiny.PLAN_DATE - dt.timedelta(days=30))])
    assert {m["client_id"] for m in run_optimisation(r, "what_if", ended).moves} <= {"new1", "new2"}
    # the region's own (recorded) absences still count from their start only
    recorded = [{"id": "ab1", "coach_id": "A", "start_date": tiny.PLAN_DATE + dt.timedelta(days=30), "end_date": None,
                 "reason": "leave"}]
    r2 = tiny.make_region(r.coaches.to_dict("records"), r.clients.to_dict("records"), absences=recorded)
    assert {m["client_id"] for m in run_optimisation(r2, "what_if", opts(tiny)).moves} <= {"new1", "new2"}


def test_what_if_capacity_change_moves_the_minimum(tiny):
    r = _region(tiny)
    p = run_optimisation(r, "what_if", opts(tiny, capacity={"A": 3.0}))
    from_a = [m for m in p.moves if m["from_coach"] == "A"]
    assert len(from_a) == 2  # 5 one-point clients, capacity 3: exactly two must go
    after = {c["coach_id"]: c for c in p.after["coaches"]}
    assert after["A"]["points"] == 3.0 and after["A"]["capacity_points"] == 3.0


def test_figures_match_the_assignment(tiny):
    r = _region(tiny)
    p = run_optimisation(r, "full", opts(tiny))
    after = {c["coach_id"]: c for c in p.after["coaches"]}
    final = {str(c.id): c.coach_id for c in r.clients.itertuples(index=False)}
    final.update({m["client_id"]: m["to_coach"] for m in p.moves})
    for k in ("A", "B", "C"):
        assert after[k]["clients"] == sum(1 for v in final.values() if v == k)
        assert abs(after[k]["relative_load"] - after[k]["points"] / after[k]["capacity_points"]) < 1e-3
    teams = {t["team_id"]: t for t in p.after["teams"]}
    assert teams["team-care"]["clients"] == after["A"]["clients"] + after["B"]["clients"]
    assert p.before["summary"]["unassigned"] == 2 and p.after["summary"]["unassigned"] == 0
    # the before figures are the current state
    before = {c["coach_id"]: c["clients"] for c in p.before["coaches"]}
    assert before == {"A": 5, "B": 2, "C": 3}
    # every move has reasons and the whole proposal is JSON
    assert all(m["reasons"] for m in p.moves)
    again = type(p).from_dict(json.loads(json.dumps(p.to_dict())))
    assert again.moves == p.moves and again.after == p.after


def test_conflict_search_gets_a_tenth_of_the_time_limit(tiny, monkeypatch):
    """The explanation runs after the solve, so its conflict search is kept short: a tenth
    of the time limit, at least 1 s and at most 10 s (a 5k region's search found nothing in
    10 s, while small conflicts take well under a second)."""
    import scheduling.explain as explain_mod

    limits = []
    real = explain_mod.explain

    def recording(problem, time_limit=10.0):
        limits.append(time_limit)
        return real(problem, time_limit=time_limit)

    monkeypatch.setattr(explain_mod, "explain", recording)
    coaches = [tiny.coach("Y", specs=("bijstand", "youth"), cap=4), tiny.coach("W", specs=("bijstand",), cap=50)]
    clients = [tiny.client(f"y{i}", benefit="bijstand", age="18-26", rung=3, complexity=1) for i in range(3)]
    region = tiny.make_region(coaches, clients)
    for limit in (5, 30, 200):
        p = run_optimisation(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=limit))
        assert p.explanation["conflicts"]["status"] == "infeasible"
    assert limits == [1.0, 3.0, 10.0]


def test_infeasible_case_is_explained(tiny):
    # three youth bijstand clients of 2.1 points (6.3 points), one youth coach with 4 points
    coaches = [tiny.coach("Y", specs=("bijstand", "youth"), cap=4), tiny.coach("W", specs=("bijstand",), cap=50)]
    clients = [tiny.client(f"y{i}", benefit="bijstand", age="18-26", rung=3, complexity=1) for i in range(3)]
    p = run_optimisation(tiny.make_region(coaches, clients), "intake", opts(tiny))
    assert len(p.unassigned) == 1
    texts = [c["text"] for c in p.explanation["capacity"]]
    assert "bijstand youth in GM0301 needs 5.4 points, eligible coaches offer 4.0" in texts
    assert p.explanation["conflicts"]["status"] == "infeasible"
    assert set(p.explanation["conflicts"]["groups"]) == {"capacity:points", "specialisation"}
    assert "eligible coaches are full" in p.unassigned[0]["reasons"][0]


def test_capacity_checks_name_the_short_specialisation_and_team(tiny):
    # the youth clients may only go to the two youth coaches, both in team-care (4 points
    # together, the clients need 5.4); the other bijstand clients fit anywhere
    coaches = [tiny.coach("Y1", specs=("bijstand", "youth"), cap=2), tiny.coach("Y2", specs=("bijstand", "youth"), cap=2),
               tiny.coach("W", team="team-tech", specs=("bijstand",), cap=50)]
    clients = ([tiny.client(f"y{i}", benefit="bijstand", age="18-26", rung=3, complexity=1) for i in range(3)]
               + [tiny.client(f"b{i}", benefit="bijstand", rung=3, complexity=1) for i in range(2)])
    problem = build_problem(tiny.make_region(coaches, clients), "full", opts(tiny))
    checks = {(c.scope, c.name): c for c in capacity_checks(problem)}
    team = checks[("team", "team-care")]
    assert team.short and team.demand_clients == 3
    assert team.text() == "team-care needs 5.4 points, eligible coaches offer 4.0"
    youth = checks[("specialisation", "youth clients")]
    assert youth.short and youth.text() == "youth clients need 5.4 points, eligible coaches offer 4.0"
    # the bijstand clients as a whole have every coach: not short, and no team of their own
    assert not checks[("specialisation", "bijstand clients")].short
    assert checks[("specialisation", "bijstand clients")].offered_points == 54.0
    assert ("team", "team-tech") not in checks


def test_capacity_checks_that_are_not_short_come_fullest_first(tiny):
    """Where nothing is short, the first checks are the groups that use the largest share of
    what their coaches offer, not the ones with the least slack in points: one WW client on a
    coach with 2.5 points (1.5 to spare) is less tight than 12 bijstand clients taking 18 of
    20 (2 to spare)."""
    coaches = [tiny.coach("B", specs=("bijstand",), cap=20, maxc=40, munis=("GM0301",)),
               tiny.coach("W", specs=("ww",), cap=2.5, maxc=40, munis=("GM0302",))]
    clients = ([tiny.client(f"b{i}", benefit="bijstand", rung=4, complexity=1) for i in range(12)]
               + [tiny.client("w0", muni="GM0302")])
    checks = capacity_checks(build_problem(tiny.make_region(coaches, clients), "full", opts(tiny)))
    assert not any(c.short for c in checks)
    uses = [c.use for c in checks]
    assert uses == sorted(uses, reverse=True)
    assert checks[0].name in ("bijstand clients", "GM0301", "bijstand in GM0301") and checks[0].use == 18.0 / 20.0
    assert checks[-1].name in ("ww clients", "GM0302", "ww in GM0302") and checks[-1].use == 1.0 / 2.5


def test_pin_conflict_is_explained(tiny):
    coaches = [tiny.coach("A", cap=1), tiny.coach("B", cap=50)]
    clients = [tiny.client("c1", "A"), tiny.client("c2")]
    p = run_optimisation(tiny.make_region(coaches, clients), "full", opts(tiny, pins={"c1": "A", "c2": "A"}))
    assert len(p.unassigned) == 1
    assert set(p.explanation["conflicts"]["groups"]) == {"capacity:points", "pinned"}


def test_deterministic_for_seed(tiny):
    r = _region(tiny)
    a = run_optimisation(r, "full", opts(tiny)).to_dict()
    b = run_optimisation(r, "full", opts(tiny)).to_dict()
    assert a["solver"]["seconds"] >= 0 and a["moves"] == b["moves"]
    # the same proposal apart from how long each step took (wall clock, in any note)
    assert _without_timings(a) == _without_timings(b)


def _without_timings(d):
    if isinstance(d, dict):
        return {k: _without_timings(v) for k, v in d.items() if "seconds" not in k}
    if isinstance(d, list):
        return [_without_timings(v) for v in d]
    return d


def test_classes_group_identical_clients(tiny):
    r = _region(tiny)
    prob = build_problem(r, "full", opts(tiny))
    # a0..a4 are identical (same coach, needs, place): one class of five
    assert prob.core.n_items < len(prob.clients)
    sizes = sorted(int(m) for m in prob.core.multiplicity)
    assert sizes[-1] == 5
    assert int(prob.core.multiplicity.sum()) == len(prob.clients)
    assert np.all(np.diff(prob.core.pair_item) >= 0)


def test_config_overrides_points(tiny):
    cfg = ScheduleConfig.from_dict({"points": {"benefit": {"ww": 2.0}}})
    r = tiny.make_region([tiny.coach("A", cap=3)], [tiny.client("c1"), tiny.client("c2")])
    p = run_optimisation(r, "intake", opts(tiny, config=cfg))
    assert len(p.unassigned) == 1  # two 2-point clients do not fit in 3 points
    assert ScheduleConfig().points.points("bijstand", 1, 3, False, False) == 4.08


def test_balance_png(tiny):
    from scheduling.plots import balance_png

    p = run_optimisation(_region(tiny), "full", opts(tiny))
    png = balance_png(p)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert balance_png(p.to_dict())[:8] == png[:8]  # also from the stored JSON


def test_vectorised_rules_match_the_domain_rules(tiny):
    """The vectorised needs and points used at scale agree with the reference rules."""
    import itertools

    from plein.domain import required_specialisations
    from scheduling.problem import _mask_set, client_points, need_masks

    rows = [tiny.client(f"c{i}", benefit=b, age=a, newcomer=nw, special=sg, rung=r, complexity=cx)
            for i, (b, a, nw, sg, r, cx) in enumerate(itertools.product(
                ("ww", "bijstand", "none"), ("18-26", "45-54"), (False, True), (False, True), (1, 4, None), (1, 3)))]
    cl = tiny.make_region([tiny.coach("A")], rows).clients
    masks = need_masks(cl)
    pts = client_points(cl, ScheduleConfig())
    cfg = ScheduleConfig().points
    for k, r in enumerate(rows):
        assert _mask_set(int(masks[k])) == required_specialisations(r["benefit_type"], r["age_band"], r["newcomer"], r["special_group"])
        assert pts[k] == cfg.points(r["benefit_type"], r["ladder_rung"], r["complexity"], r["newcomer"], r["special_group"])


def test_bench_split_coaches_keeps_capacity_and_clients(tiny):
    import pytest

    from bench.caseload_scale import split_coaches

    r = tiny.make_region([tiny.coach("A", cap=10, maxc=9), tiny.coach("B", cap=4)], [tiny.client(f"c{i}", "A") for i in range(6)])
    r = split_coaches(r, 3, seed=0)
    assert len(r.coaches) == 3 and r.coaches["capacity_points"].sum() == 14.0
    counts = r.clients["coach_id"].value_counts().to_dict()
    assert counts == {"A": 3, "A-split1": 3}
    with pytest.raises(ValueError, match="below the 3 coaches"):
        split_coaches(r, 2)


def test_bench_intakes_and_what_if_on_the_generated_and_the_approved_caseload():
    """`plein bench caseload` runs the intake twice: into the generated caseload and into the
    one the rebalance leaves once approved (`Proposal.applied_to`). There the movable clients
    are the released ones plus those the rebalance left out, and the released ones fit back
    where they were, so no more stay out than the rebalance left."""
    from bench.caseload_scale import run

    # staffed for the caseload (capacity x 1.5), so that a leaving coach's clients find room
    rows = run(600, seed=1, time_limit=3.0, intake=20, intake_time_limit=1.0, what_if_leave=1, what_if_time_limit=3.0,
               capacity_factor=1.5)
    assert [r["step"] for r in rows] == ["generate", "full rebalance", "intake 20", "intake 20, after the rebalance",
                                         "what-if: 1 coaches leave"]
    full, after, what_if = rows[1], rows[3], rows[4]
    assert after["movable"] == full["unassigned"] + 20
    assert after["placed"] + after["unassigned"] == after["movable"]
    assert after["unassigned"] <= full["unassigned"] and after["bound"] <= after["objective"]
    # the what-if on the approved caseload: nobody stays with a coach who leaves, and what
    # moves is their clients (forced), not a rebalance of everyone
    assert what_if["leaving_clients"] > 0 and what_if["still_with_leaving"] == 0
    assert what_if["leaving_moved"] + what_if["leaving_out"] == what_if["leaving_clients"], \
        "every client of a leaving coach moves or, where no coach has room, loses the coach"
    assert what_if["forced"] == what_if["leaving_moved"] > 0
    # it starts from the approved caseload: out are those the rebalance left out, less those it
    # places now, plus those who lose their coach (the intakes leave that caseload alone)
    assert what_if["unassigned"] == full["unassigned"] - what_if["placed"] + what_if["lose_coach"]
    assert what_if["handovers"] < what_if["leaving_clients"]
    assert run(600, seed=1, time_limit=3.0, intake=20, intake_time_limit=1.0, what_if_leave=0)[-1]["step"] == "intake 20, after the rebalance"


def test_conflict_search_keeps_one_budget_for_all_its_solves(tiny, monkeypatch):
    """The deletion filter's CP-SAT calls share the conflict search's time limit with the
    first solve: once it is spent no trial starts, and the answer says the groups were not
    each tested on their own. With the budget, each group named is needed."""
    import scheduling.explain as explain_mod
    from scheduling.explain import conflict_groups
    from scheduling.problem import build_problem

    # three youth clients of 2.1 points: only coach Y (4 points) may take them
    coaches = [tiny.coach("Y", specs=("bijstand", "youth"), cap=4), tiny.coach("W", specs=("bijstand",), cap=50, munis=("GM0302",))]
    clients = [tiny.client(f"y{i}", benefit="bijstand", age="18-26", rung=3, complexity=1) for i in range(3)]
    problem = build_problem(tiny.make_region(coaches, clients), "intake", opts(tiny))
    calls = []
    real = explain_mod._conflict_solver

    def counting(time_limit, seed, deterministic):
        calls.append(time_limit)
        return real(time_limit, seed, deterministic)

    monkeypatch.setattr(explain_mod, "_conflict_solver", counting)
    whole = conflict_groups(problem, time_limit=4.0)
    assert whole["status"] == "infeasible" and whole["minimal"]
    # W may not take them twice over (specialisation and municipality): either one, with
    # Y's points, is a minimal conflict; the first solve named more
    assert len(whole["groups"]) == 2 and "capacity:points" in whole["groups"]
    assert set(whole["groups"]) - {"capacity:points"} <= {"specialisation", "municipality"}
    assert len(calls) > 1 and all(t <= 4.0 for t in calls)

    calls.clear()
    monkeypatch.setattr(explain_mod._Budget, "spend", lambda self, solver: setattr(self, "spent", self.limit))
    spent = conflict_groups(problem, time_limit=4.0)
    assert len(calls) == 1, "no trial may start once the budget is spent"
    assert spent["status"] == "infeasible" and not spent["minimal"]
    assert set(spent["groups"]) > set(whole["groups"])
    assert "ran out" in spent["text"][0]


def test_conflict_search_is_skipped_where_building_its_model_would_outlast_it(tiny, monkeypatch):
    """The model of every class x coach pair is built outside the search's time limit, so it
    is built only up to `EXPLAIN_PAIRS_PER_SECOND` pairs per second of that limit."""
    import scheduling.explain as explain_mod
    from scheduling.explain import conflict_groups
    from scheduling.problem import build_problem

    coaches = [tiny.coach("Y", specs=("bijstand", "youth"), cap=4), tiny.coach("W", specs=("bijstand",), cap=50)]
    clients = [tiny.client(f"y{i}", benefit="bijstand", age="18-26", rung=3, complexity=1) for i in range(3)]
    problem = build_problem(tiny.make_region(coaches, clients), "intake", opts(tiny))
    pairs = problem.core.n_items * problem.n_coaches
    monkeypatch.setattr(explain_mod, "EXPLAIN_PAIRS_PER_SECOND", pairs)
    assert conflict_groups(problem, time_limit=1.0)["status"] == "infeasible"
    skipped = conflict_groups(problem, time_limit=0.5)
    assert skipped["status"] == "skipped" and "in 0.5 s" in skipped["text"][0]


def test_the_proposal_counts_clients_who_lose_their_coach(tiny):
    # B leaves with 5 one-point clients; A has room for 2: 3 lose the coach they have (a
    # client who never had one and stays out is not counted)
    r = tiny.make_region([tiny.coach("A", cap=2), tiny.coach("B", cap=8)],
                         [tiny.client(f"b{i}", "B") for i in range(5)] + [tiny.client("new")])
    p = run_optimisation(r, "what_if", opts(tiny, coach_leaves=["B"]))
    assert p.after["summary"]["unassigned"] == 4 and p.after["summary"]["lose_coach"] == 3
    assert sorted(u["from_coach"] or "-" for u in p.unassigned) == ["-", "B", "B", "B"]
    assert p.before["summary"]["lose_coach"] == 0
    assert "4 unassigned (3 of them lose the coach they have)" in p.summary_lines()[0]


def test_a_what_if_answers_for_its_change_not_for_overloads_already_there(tiny):
    # A was over capacity before (3 one-point clients, capacity 2); the what-if is about C
    # leaving: only C's client moves, and A keeps theirs (a full rebalance is for A)
    coaches = [tiny.coach("A", cap=2), tiny.coach("B", cap=10), tiny.coach("C", cap=10)]
    clients = [tiny.client(f"a{i}", "A") for i in range(3)] + [tiny.client("b0", "B"), tiny.client("c0", "C")]
    r = tiny.make_region(coaches, clients)
    p = run_optimisation(r, "what_if", opts(tiny, coach_leaves=["C"]))
    assert [(m["client_id"], m["kind"]) for m in p.moves] == [("c0", "forced")]
    assert p.unassigned == [] and p.after["summary"]["coaches_over_capacity"] == 1
    # lowering A's capacity is a change: what no longer fits moves
    p = run_optimisation(r, "what_if", opts(tiny, capacity={"A": 1.0}))
    assert sorted(m["from_coach"] for m in p.moves) == ["A", "A"]
    # and the full rebalance relieves A
    p = run_optimisation(r, "full", opts(tiny))
    assert p.after["summary"]["coaches_over_capacity"] == 0


def test_coach_availability_in_the_optimisers_words(tiny):
    from scheduling import coach_availability

    day = tiny.PLAN_DATE
    absences = [{"id": "ab1", "coach_id": "A", "start_date": day - dt.timedelta(days=3), "end_date": day + dt.timedelta(days=3), "reason": "illness"},
                {"id": "ab2", "coach_id": "B", "start_date": day + dt.timedelta(days=10), "end_date": None, "reason": "leave"}]
    r = tiny.make_region([tiny.coach("A"), tiny.coach("B"), {**tiny.coach("C"), "active": False}], [], absences=absences)
    got = coach_availability(r, day)
    assert got["A"].startswith(f"absent from {day - dt.timedelta(days=3)}") and "illness" in got["A"]
    assert got["B"] is None and got["C"] == "has left (inactive)"
    assert coach_availability(r, day + dt.timedelta(days=10))["B"].startswith("absent from")


def test_a_what_if_leaves_what_did_not_fit_before_and_a_raised_capacity_alone(tiny):
    # c0 needs youth and A lacks it (a mismatch from before the what-if); A is over capacity
    # before (4 one-point clients, capacity 3). The what-if "B leaves" moves b0 only.
    coaches = [tiny.coach("A", cap=3), tiny.coach("B", cap=10), tiny.coach("Y", specs=("ww", "youth"), cap=10)]
    clients = [tiny.client("c0", "A", age="18-26")] + [tiny.client(f"a{i}", "A") for i in range(3)] + [tiny.client("b0", "B")]
    r = tiny.make_region(coaches, clients)
    p = run_optimisation(r, "what_if", opts(tiny, coach_leaves=["B"]))
    assert [(m["client_id"], m["kind"]) for m in p.moves] == [("b0", "forced")] and p.unassigned == []
    # raising A's capacity (still below its load) moves nobody; lowering it moves what no longer fits
    assert run_optimisation(r, "what_if", opts(tiny, capacity={"A": 3.5})).moves == []
    lowered = run_optimisation(r, "what_if", opts(tiny, capacity={"A": 2.0}))
    assert [m["from_coach"] for m in lowered.moves] == ["A", "A"]
    # the full rebalance fixes both
    full = run_optimisation(r, "full", opts(tiny))
    assert next(m for m in full.moves if m["client_id"] == "c0")["to_coach"] == "Y"


def test_a_widened_what_if_leaves_old_overloads_and_mismatches_alone(tiny):
    """As `test_what_if_widens_only_for_clients_it_would_strand` (B leaves, b0 can only go to
    A, A's a0 makes room by going to D or Y), and besides: E was over capacity before (3 one-point
    clients, capacity 2) and e-y needs youth, which E lacks. The widened run moves a0 to make
    room and nothing else: E keeps all four (until 2026-12-07 it shed one of them to D, as a
    full rebalance does, and e-y went to Y)."""
    coaches = [tiny.coach("A", cap=1.0, munis=("GM0301", "GM0302")), tiny.coach("B", cap=5.0, munis=("GM0302",)),
               tiny.coach("D", cap=5.0, munis=("GM0301",)), tiny.coach("E", cap=2.0, munis=("GM0301",)),
               tiny.coach("Y", specs=("ww", "youth"), cap=5.0, munis=("GM0301",))]
    clients = [tiny.client("a0", "A"), tiny.client("b0", "B", muni="GM0302"), tiny.client("d0", "D"),
               tiny.client("e-y", "E", age="18-26")] + [tiny.client(f"e{i}", "E") for i in range(3)]
    r = tiny.make_region(coaches, clients)
    p = run_optimisation(r, "what_if", opts(tiny, coach_leaves=["B"]))
    assert p.solver["escalated_to_full"] is True
    moves = {m["client_id"]: (m["kind"], m["to_coach"]) for m in p.moves}
    assert moves.pop("b0") == ("forced", "A") and moves.pop("a0") in {("handover", "D"), ("handover", "Y")} and moves == {}
    assert p.unassigned == []
    e = next(c for c in p.after["coaches"] if c["coach_id"] == "E")
    assert e["clients"] == 4 and p.after["summary"]["coaches_over_capacity"] == 1  # the figures keep the real capacity
    # in the widened problem itself: E's clients that fit are movable at the what-if's price,
    # its model capacity is what it carries (4 points), the mismatched e-y is fixed
    wide = build_problem(r, "full", opts(tiny, coach_leaves=["B"]), widened=True)
    ids = wide.clients["id"].astype(str).tolist()
    assert not wide.movable[ids.index("e-y")] and wide.movable[ids.index("e0")]
    # a full rebalance fixes both
    full = run_optimisation(r, "full", opts(tiny))
    assert full.after["summary"]["coaches_over_capacity"] == 0
    assert next(m for m in full.moves if m["client_id"] == "e-y")["to_coach"] == "Y"


def test_a_client_whose_place_goes_to_another_is_told_so(tiny):
    """Where seats are short, a rebalance may give a settled client's place to a client who had
    no coach (the same number without a coach either way, at a lower cost: here the newcomer
    fits the coach's sector and the settled client does not). The settled client's reason
    says so, not that their coaches are full."""
    r = tiny.make_region([tiny.coach("A", team="team-care", cap=1, maxc=1)],
                         [tiny.client("settled", "A", targets=("tech",)), tiny.client("new", targets=("care",))])
    p = run_optimisation(r, "full", opts(tiny))
    assert [m["client_id"] for m in p.moves] == ["new"] and [u["client_id"] for u in p.unassigned] == ["settled"]
    why = p.unassigned[0]["reasons"]
    assert why[:2] == ["gives up their place: coach A takes 1 other client in this proposal (1 new)", "all 1 eligible coaches are full"]
    assert p.after["summary"]["lose_coach"] == 1


def test_in_a_what_if_losing_ones_coach_is_a_handover_too(tiny):
    """A widened what-if (the what-if itself keeps everyone who need not move fixed) prices
    leaving out a client who keeps an eligible coach at the plain unassigned cost plus its
    handover price: a settled client's place goes to a client who must move or had no coach
    only where that leaves fewer without a coach. A rebalance keeps one price for everyone
    left out."""
    from scheduling.problem import WHAT_IF_HANDOVER_FACTOR

    r = tiny.make_region([tiny.coach("A", cap=2), tiny.coach("B", cap=8)],
                         [tiny.client("settled", "A"), tiny.client("leaving", "B"), tiny.client("waiting")])
    w = ScheduleConfig().weights
    fixed = build_problem(r, "what_if", opts(tiny, coach_leaves=["B"]))
    assert fixed.client_class[list(fixed.clients["id"]).index("settled")] == -1, "the what-if itself does not move them"
    for widened, extra in ((True, w.handover * WHAT_IF_HANDOVER_FACTOR), (False, 0)):
        problem = build_problem(r, "full", opts(tiny, coach_leaves=["B"]), widened=widened)
        cls = {cid: int(problem.client_class[j]) for j, cid in enumerate(problem.clients["id"].astype(str))}
        cost = problem.core.unassigned_cost
        assert cost[cls["settled"]] == w.unassigned + extra, widened
        assert cost[cls["leaving"]] == w.unassigned and cost[cls["waiting"]] == w.unassigned, widened


def test_the_proposal_says_how_good_it_is_in_words():
    """The solver figures a manager decides by: optimal, or the proven bound and how much of
    the cost could still be saved; why the search stopped; and a what-if that had to widen."""
    from scheduling.proposal import quality_lines

    assert quality_lines({"objective": 1200, "bound": 1200, "gap": 0.0, "status": "optimal", "stopped_by": "optimal"}) == [
        "optimal: no assignment under these rules costs less than this one (1,200 cost units)"]
    lines = quality_lines({"objective": 706417, "bound": 687760, "gap": 0.026411, "status": "feasible",
                           "seconds": 19.4, "stopped_by": "time"})
    assert lines == [
        "the best proposal found: it costs 706,417 units, and no assignment under these rules can cost less "
        "than 687,760 (the proven bound), so at most 2.6% of its cost could still be saved",
        "the search stopped because the time limit ended the search"]
    wide = quality_lines({"objective": 21264407, "bound": 15339459, "gap": 0.27863, "status": "feasible", "seconds": 9.0,
                          "stopped_by": "work budget", "escalated_to_full": True})
    assert "at most 27.9% of its cost could still be saved" in wide[0]
    assert wide[1].startswith("a gap this large means the bound is weak")
    assert "deterministic run stops on work done" in wide[2]
    assert "the what-if let other clients move too, only to make room" in wide[3] and "100 times" in wide[3]
    assert "no bound was proven" in quality_lines({"objective": 5, "bound": None, "gap": None, "status": "feasible"})[0]
    assert quality_lines({}) == ["no solver figures were recorded for this proposal"]


def test_a_real_proposal_reports_its_quality(tiny):
    p = run_optimisation(_region(tiny), "full", opts(tiny))
    lines = p.summary_lines()
    s = p.solver
    assert s["bound"] is not None and s["bound"] <= s["objective"]
    said = lines[3]
    assert f"{s['objective']:,}" in said
    assert said.startswith("optimal:") if s["status"] == "optimal" else f"{s['bound']:,} (the proven bound)" in said


def test_a_widened_what_if_with_a_plan_counts_only_who_cannot_be_placed(tiny):
    """L leaves. h1 fits on C once c0 moves to B (one handover at the what-if's price); h2 fits
    on A only if both a0 and a1 move (two handovers, dearer than leaving h2 out); no one but L
    serves h3's municipality. The widened run (with a placement plan) places h1 and leaves h2
    and h3 out. Only h3 *cannot* be placed: the plan's LP leaves h2 out for its price, which is
    no floor on the count, so the joint check solves the count alone; h2 is told that room
    could be made by handovers the what-if judges too dear; and each client left out gets the
    short checks of their own groups, not every short group's."""
    from scheduling.config import Weights

    coaches = [tiny.coach("L", cap=5.0, munis=("GM0301", "GM0302", "GM0303", "GM0304")),
               tiny.coach("A", cap=2.0, munis=("GM0302", "GM0301")), tiny.coach("C", cap=1.0, munis=("GM0303", "GM0301")),
               tiny.coach("B", cap=5.0, munis=("GM0301",))]
    clients = [tiny.client("h1", "L", muni="GM0303"), tiny.client("h2", "L", muni="GM0302", benefit="bijstand"),
               tiny.client("h3", "L", muni="GM0304"), tiny.client("a0", "A"), tiny.client("a1", "A"), tiny.client("c0", "C")]
    cfg = ScheduleConfig(full_plan_min_pairs=0, weights=Weights(handover=600))  # a handover at 100x: 60 000
    p = run_optimisation(tiny.make_region(coaches, clients), "what_if", opts(tiny, coach_leaves=["L"], config=cfg))
    assert p.solver["escalated_to_full"] and p.solver.get("placement"), "the widened run, with its plan"
    assert p.solver["placement"]["min_unassigned_lp"] > 1, "the plan's priced LP leaves h2 out too"
    assert {(m["client_id"], m["to_coach"]) for m in p.moves} == {("h1", "C"), ("c0", "B")}
    out = {u["client_id"]: u["reasons"] for u in p.unassigned}
    assert set(out) == {"h2", "h3"}
    joint = p.explanation["joint"]
    assert joint["min_unassigned"] == 1 and [g["group"] for g in joint["groups"]] == ["ww in GM0304"]
    assert "at least 1 clients cannot be placed" in joint["text"][0]
    assert not any("GM0304" in r for r in out["h2"]), out["h2"]  # h3's group's shortage is not h2's
    assert out["h2"][1] == "all 1 eligible coaches are full"
    assert out["h2"][2].startswith("room could be made only by handing over other clients"), out["h2"]
    assert out["h3"] == ["must leave: coach L leaves (what-if)", "no available coach holds ww and serves GM0304"]


def test_every_handover_says_what_it_is_for(tiny):
    """A handover with no gain of its own (sector, travel, language, a coach relieved) says what
    it is for: the room it makes on its coach, who takes others in, by kind. B leaves: b0 must go to A, who is full with a0, so a0 moves on to C and makes
    room for b0."""
    coaches = [tiny.coach("A", cap=1.0, munis=("GM0301", "GM0302")), tiny.coach("B", cap=5.0, munis=("GM0302",)),
               tiny.coach("C", cap=5.0, munis=("GM0301",))]
    clients = [tiny.client("a0", "A", muni="GM0301"), tiny.client("b0", "B", muni="GM0302")]
    region = tiny.make_region(coaches, clients)
    p = run_optimisation(region, "full", opts(tiny, coach_leaves=["B"]))
    moves = {m["client_id"]: m for m in p.moves}
    assert set(moves) == {"a0", "b0"} and moves["a0"]["kind"] == "handover" and moves["b0"]["to_coach"] == "A"
    assert moves["a0"]["reasons"][0] == "makes room: coach A takes 1 other client in this proposal (1 who must move)"
    for m in p.moves:
        if m["kind"] == "handover":
            assert not m["reasons"][0].startswith(("eligible", "coach ")), m
    # a coach who takes no one in is relieved by each client who leaves
    even = tiny.make_region([tiny.coach("A", cap=4.0), tiny.coach("B", cap=4.0)],
                            [tiny.client(f"a{i}", "A") for i in range(4)])
    q = run_optimisation(even, "full", opts(tiny))
    assert q.moves and all(m["reasons"][0] == "relieves coach A: 100% -> 50% of capacity" for m in q.moves), q.moves
