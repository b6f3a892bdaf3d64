"""Every eligible pair, not only the candidates: the joint capacity check (points and client
maximum together), the placement plan, and a bound that holds for the whole problem when the
search works on candidate pairs (`scheduling.placement`)."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from scheduling import ScheduleConfig, ScheduleOptions, run_optimisation
from scheduling.core import agent_loads
from scheduling.explain import capacity_checks
from scheduling.placement import PairCatalogue, consolidate, filling_cost, placement_plan, shortfall
from scheduling.lp import solve_lp
from scheduling.problem import build_problem


def _joint_region(tiny):
    """Coach A takes heavy clients (4.08 points) but at most 2 clients; coach B has the
    points for light clients (1.0) but only 4 of them. Points (14.16 of 14.16) and client
    counts (8 of 12) each suffice in total, for every specialisation and municipality; only
    together do they leave 2 light clients without room."""
    coaches = [tiny.coach("A", cap=10.16, maxc=2), tiny.coach("B", cap=4.0, maxc=10)]
    heavy = [tiny.client(f"H{i}", benefit="bijstand", rung=1, complexity=3) for i in range(2)]
    light = [tiny.client(f"L{i}") for i in range(6)]
    return tiny.make_region(coaches, heavy + light)


def test_joint_shortfall_is_found_where_single_capacity_checks_pass(tiny):
    region = _joint_region(tiny)
    problem = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    assert not [c for c in capacity_checks(problem) if c.short], "the one-capacity checks should all pass here"
    units, per_group = shortfall(problem.catalogue, problem.core.multiplicity, problem.core.capacity)
    assert abs(units - 2.0) < 1e-6
    assert per_group.max() > 0


def test_shortfall_counts_no_room_where_a_whole_unit_does_not_fit(tiny):
    """Room smaller than a client is no room: two coaches with 3 points each cannot take a
    client of 4.08 points, although together they hold 6. The LP counts only pairs where one
    unit fits (before, it placed three quarters of the client on each and found 0 short), so
    the joint check names the client and the certificate proves 1."""
    from scheduling.placement import count_certificate

    coaches = [tiny.coach("A", cap=3.0), tiny.coach("B", cap=3.0)]
    region = tiny.make_region(coaches, [tiny.client("H", benefit="bijstand", rung=1, complexity=3), tiny.client("L")])
    problem = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    units, per_group = shortfall(problem.catalogue, problem.core.multiplicity, problem.core.capacity)
    assert abs(units - 1.0) < 1e-6 and per_group.max() == 1.0
    assert count_certificate(problem.catalogue, problem.core.multiplicity, problem.core.capacity)[0] == 1


def test_proposal_explains_the_joint_shortfall(tiny):
    proposal = run_optimisation(_joint_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5))
    assert proposal.after["summary"]["unassigned"] == 2
    joint = proposal.explanation["joint"]
    assert joint["min_unassigned"] == 2
    assert any("at least 2 clients" in t for t in joint["text"])
    assert joint["groups"] and joint["groups"][0]["points"] == 1.0  # the light clients are short
    assert len(proposal.unassigned) == 2
    for u in proposal.unassigned:
        assert u["client_id"].startswith("L")
        assert any(r.startswith("points and client maximum together") for r in u["reasons"]), u["reasons"]


def test_intake_solves_the_joint_check_beside_the_search(tiny, monkeypatch):
    """An intake starts the explanation's joint check (its LP needs only the problem) in a
    thread as soon as the problem is built; the explanation takes that answer instead of
    solving the LP again after the search (an intake into an approved 50k caseload: 0.35 s
    of its 2 s)."""
    import threading

    import scheduling.placement as placement_mod

    calls = []
    real = placement_mod.shortfall

    def counted(*args):
        calls.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(placement_mod, "shortfall", counted)
    proposal = run_optimisation(_joint_region(tiny), "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5))
    assert proposal.after["summary"]["unassigned"] == 2
    assert proposal.explanation["joint"]["min_unassigned"] == 2
    assert len(calls) == 1 and calls[0].startswith("joint-check"), calls
    # a full rebalance below the plan's scale still solves it when it explains (no thread)
    calls.clear()
    proposal = run_optimisation(_joint_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5))
    assert proposal.explanation["joint"]["min_unassigned"] == 2
    assert calls and not any(name.startswith("joint-check") for name in calls), calls


def test_intake_bound_counts_the_clients_no_assignment_can_place(tiny):
    """Where the joint check ran beside the search and clients stay out, its whole count at
    the unassigned cost is a bound (every other term costs 0 or more): an LP that leaves 0.3
    clients out proves that one is, whatever the cost LP's bound says. Where the search's
    bound is higher already (here it is exact), nothing changes."""
    from concurrent.futures import Future
    from dataclasses import replace

    from scheduling import count_floor
    from scheduling.solve import SolveOptions, solve_core

    coaches = [tiny.coach("A", cap=3.0), tiny.coach("B", cap=3.0)]
    region = tiny.make_region(coaches, [tiny.client("H", benefit="bijstand", rung=1, complexity=3), tiny.client("L")])
    problem = build_problem(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=5))
    result = solve_core(problem.core, SolveOptions(time_limit=5, seed=0))
    assert result.evaluation.unassigned == 1 and result.bound >= 100_000  # exact on so small a core
    exact = result.bound
    answer = Future()
    answer.set_result((0.3, np.array([0.3])))
    with_check = replace(problem, joint_shortfall=answer)
    count_floor(with_check, result)
    assert result.bound == exact and "count_floor" not in with_check.core.notes.get("bound", {})
    result.bound = 7_860  # as the LP over candidates proved on an intake at 50k
    count_floor(with_check, result)
    assert result.bound == 100_000
    assert with_check.core.notes["bound"]["count_floor"] == {"min_unassigned": 1, "bound": 100_000, "before": 7_860}
    assert result.gap < (result.objective - 7_860) / result.objective


def _wide_region(tiny, n_coaches: int = 18, n_clients: int = 70, seed: int = 5):
    rng = np.random.default_rng(seed)
    teams = ["team-care", "team-tech", "team-all"]
    coaches = [tiny.coach(f"C{i:02d}", team=teams[i % 3], cap=float(rng.integers(6, 14)), maxc=int(rng.integers(4, 9)),
                          lat=52.0 + 0.3 * rng.random(), lon=6.0 + 0.4 * rng.random()) for i in range(n_coaches)]
    clients = []
    for j in range(n_clients):
        clients.append(tiny.client(
            f"K{j:03d}", coach_id=f"C{int(rng.integers(n_coaches)):02d}", benefit=str(rng.choice(["ww", "bijstand"])),
            rung=int(rng.integers(1, 7)), complexity=int(rng.integers(1, 4)), targets=(str(rng.choice(["care", "tech"])),),
            lat=52.0 + 0.3 * rng.random(), lon=6.0 + 0.4 * rng.random(), pc4=f"72{j:02d}"))
    return tiny.make_region(coaches, clients)


def test_catalogue_costs_match_the_candidate_pairs(tiny):
    region = _wide_region(tiny)
    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    problem = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg))
    core, cat = problem.core, problem.catalogue
    assert core.catalogue is cat, "pruned candidates: the core must carry every eligible pair"
    assert core.n_pairs < cat.n_pairs
    np.testing.assert_array_equal(cat.cost(core.pair_item, core.pair_agent), core.pair_cost)
    np.testing.assert_array_equal(cat.move(core.pair_item, core.pair_agent), core.move_mask)


def test_bound_over_candidates_holds_for_the_whole_problem(tiny):
    """With 3 candidate coaches per client the search's own model is much smaller than the
    real one; the bound it reports must still be below what the full model reaches."""
    region = _wide_region(tiny)
    pruned = run_optimisation(region, "full", ScheduleOptions(
        plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)))
    full = run_optimisation(region, "full", ScheduleOptions(
        plan_date=tiny.PLAN_DATE, time_limit=8, config=ScheduleConfig(candidates_per_client=0)))
    assert pruned.solver["bound"] is not None and pruned.solver["bound"] > 0
    assert pruned.solver["bound"] <= full.solver["objective"]
    assert pruned.solver["bound"] <= pruned.solver["objective"]


def test_placement_plan_respects_every_capacity_and_places_the_most(tiny):
    region = _joint_region(tiny)
    problem = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    core, cat = problem.core, problem.catalogue
    plan = placement_plan(cat, core.multiplicity, core.capacity, core.unassigned_cost, time_limit=2)
    assert plan is not None
    assert plan.unassigned == 2 and abs(plan.min_unassigned - 2.0) < 1e-6
    x = np.zeros(core.n_pairs, dtype=np.int64)
    pos = np.searchsorted(core.pair_item * core.n_agents + core.pair_agent, plan.items * core.n_agents + plan.agents)
    x[pos] = plan.quantity
    assert (agent_loads(core, x) <= core.capacity).all()
    per_item = np.bincount(core.pair_item, weights=x, minlength=core.n_items)
    assert (per_item <= core.multiplicity).all()
    # its LP value is a lower bound: here 2 unassigned at their cost (minus the handover
    # they do not pay) plus nothing else
    assert plan.lp_value <= 2 * int(core.unassigned_cost[0]) + 1e-6


def test_balance_floor_is_below_the_balance_cost_of_solutions(tiny):
    from scheduling.core import balance_floor, evaluate
    from scheduling.solve import SolveOptions, solve_core

    problem = build_problem(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    core = problem.core
    res = solve_core(core, SolveOptions(time_limit=3, deterministic=True, work_budget=1.5))
    ev = evaluate(core, res.x)
    floor = balance_floor(core, upper=ev.objective)
    assert 0 < floor <= ev.balance_cost
    # the average-load argument is what lifts it here: without a known solution it is weaker
    assert balance_floor(core) <= floor


def test_large_problem_path_lp_without_balance_rows_gives_a_valid_bound(tiny):
    """Beyond `lp_max_pairs` the LP is solved without the balance rows (when everyone can be
    placed): its rounding is a start and its value plus the balance floor a bound."""
    from scheduling.solve import SolveOptions, solve_core

    problem = build_problem(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    core = problem.core
    big = solve_core(core, SolveOptions(time_limit=3, lp_max_pairs=10, deterministic=True, work_budget=1.5))
    ref = solve_core(core, SolveOptions(time_limit=6, deterministic=True, work_budget=3))
    assert big.lp is not None and np.isfinite(big.lp.bound)
    assert big.bound <= big.objective and big.bound <= ref.objective
    assert ref.bound <= big.objective
    assert big.evaluation.feasible and big.evaluation.unassigned == 0


def _catalogue(points, agents, cost=None):
    """A catalogue of one item per group: `points[g]` per unit, eligible at `agents[g]`,
    costing `cost[g][a]` at agent a (none when None)."""
    starts = np.concatenate([[0], np.cumsum([len(a) for a in agents])]).astype(np.int64)
    G = len(points)
    tables = () if cost is None else ((np.asarray(cost, dtype=np.int64), np.arange(G, dtype=np.int64)),)
    return PairCatalogue(
        item_group=np.arange(G, dtype=np.int64), group_start=starts,
        group_agent=np.concatenate([np.asarray(a, dtype=np.int64) for a in agents]),
        group_usage=np.vstack([np.asarray(points, dtype=np.int64), np.ones(G, dtype=np.int64)]),
        stay_agent=np.full(G, -1, dtype=np.int64), handover=100, tables=tables,
    )


def test_consolidate_gathers_scattered_room_by_swaps():
    """Coach 0 (10 points) holds two 4-point units (group P, also fine at coach 1): 2 points
    free. Coach 1 (10 points, at most 2 clients) holds two 3-point units (group S, also fine
    at coach 0): 4 points free but no seat. The 4-point unit of group H fits only coach 0,
    so it is unplaced, and no single move helps (coach 1 has no seat). Two swaps P<->S move
    2 points of room from coach 1 to coach 0, and H fits."""
    cat = _catalogue([4, 3, 4], [[0, 1], [0, 1], [0]])  # P, S, H
    quota = np.array([[2, 0], [0, 2], [0, 0]])
    capacity = np.array([[10, 10], [5, 2]])
    g_mult = np.array([2, 2, 1])
    new, stats = consolidate(cat, quota, capacity, g_mult)
    assert stats["placed"] == 1 and stats["operations"] == 2
    assert new[2, 0] == 1  # H placed at coach 0
    assert (new.sum(axis=1) == g_mult).all()
    pts = cat.group_usage[0]
    assert ((new * pts[:, None]).sum(axis=0) <= capacity[0]).all()
    assert (new.sum(axis=0) <= capacity[1]).all()
    assert new[2, 1] == 0  # eligibility kept
    # the input is left as it was
    assert (quota == np.array([[2, 0], [0, 2], [0, 0]])).all()


def test_consolidate_undoes_an_attempt_that_cannot_place():
    """Same, but coach 1 has only 1 point free: the swaps cannot free 2 points, nothing
    changes."""
    cat = _catalogue([4, 3, 4], [[0, 1], [0, 1], [0]])
    quota = np.array([[2, 0], [0, 2], [0, 0]])
    capacity = np.array([[10, 7], [5, 2]])
    new, stats = consolidate(cat, quota, capacity, np.array([2, 2, 1]))
    assert stats["placed"] == 0
    assert (new == quota).all()


def test_consolidate_does_not_retry_a_coach_where_a_unit_no_heavier_found_no_room():
    """As above, H (4 points, coaches 0 and 1) finds no room: gathering frees 1 of the 2
    points coach 0 lacks, and coach 1 has no seat. H2 (5 points, coach 0 only) is heavier,
    and nothing was placed since, so coach 0 is not tried for it: the same batches as
    without it (until 2026-12-07 only units with the very same coaches were skipped). H3 (5
    points) may also go to coach 2, which is empty: it is tried and placed there."""
    capacity = np.array([[10, 7, 10], [5, 2, 1]])
    cat = _catalogue([4, 3, 4], [[0, 1], [0, 1], [0, 1]])  # P, S, H
    _, alone = consolidate(cat, np.array([[2, 0, 0], [0, 2, 0], [0, 0, 0]]), capacity, np.array([2, 2, 1]))
    assert alone["placed"] == 0 and alone["batches"] > 0
    cat = _catalogue([4, 3, 4, 5, 5], [[0, 1], [0, 1], [0, 1], [0], [0, 2]])  # P, S, H, H2, H3
    quota = np.array([[2, 0, 0], [0, 2, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    new, stats = consolidate(cat, quota, capacity, np.array([2, 2, 1, 1, 1]))
    assert stats["placed"] == 1 and new[4, 2] == 1  # H3 at coach 2
    assert new[2].sum() == 0 and new[3].sum() == 0
    # H3 is placed without gathering (coach 2 has room); H2 costs no batch
    assert stats["batches"] == alone["batches"]


def test_consolidate_evicts_a_unit_and_gathers_room_for_it_elsewhere():
    """H (4 points) fits only coach 0, which is full with E (4 points, also fine at coach 1).
    Coach 1 (6 points) holds F (3 points, also fine at coach 2): 3 free, one short of E.
    Coach 2 (10 points) holds G (1 point, also fine at coach 1). No swap or move with coach
    0 frees it (E does not fit coach 1, and nothing else may go to or come from coach 0), so
    gathering alone places nothing. Evicting E works: a swap F<->G frees 2 points on coach
    1, E goes there, H takes coach 0."""
    cat = _catalogue([4, 4, 3, 1], [[0], [0, 1], [1, 2], [1, 2]])  # H, E, F, G
    quota = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    capacity = np.array([[4, 6, 10], [1, 2, 5]])
    g_mult = np.array([1, 1, 1, 1])
    shallow, stats0 = consolidate(cat, quota, capacity, g_mult, depth=0)
    assert stats0["placed"] == 0 and (shallow == quota).all()
    new, stats = consolidate(cat, quota, capacity, g_mult)
    assert stats["placed"] == 1 and stats["evictions"] == 1 and stats["operations"] == 1
    assert (new == np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])).all()
    pts = cat.group_usage[0]
    assert ((new * pts[:, None]).sum(axis=0) <= capacity[0]).all()
    assert (new.sum(axis=0) <= capacity[1]).all()


def test_consolidate_tries_evictions_only_where_the_lp_places_more():
    """The same case, but the LP says H cannot be placed (`lp_short` 1 for H): no eviction is
    tried, nothing changes."""
    cat = _catalogue([4, 4, 3, 1], [[0], [0, 1], [1, 2], [1, 2]])
    quota = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    new, stats = consolidate(cat, quota, np.array([[4, 6, 10], [1, 2, 5]]), np.array([1, 1, 1, 1]),
                             lp_short=np.array([1.0, 0, 0, 0]))
    assert stats["placed"] == 0 and stats["evictions"] == 0 and (new == quota).all()


def test_fill_by_type_trades_units_between_groups_of_one_type():
    """A and B weigh 3 points each but are different groups (B may also go to coach 2). The
    quotas put A's slot at coach 0 and B's at coach 1, where each costs 50; filled per type,
    A and B trade places (0 each) with the same load on every coach. C (3 points, coach 2
    only) has no slot: unassigned. D (5 points) keeps its slot: no unit of another weight
    may take it."""
    from scheduling.placement import _fill_by_type

    cost = [[50, 0, 0], [0, 50, 0], [0, 0, 0], [0, 0, 0]]
    cat = _catalogue([3, 3, 3, 5], [[0, 1], [0, 1, 2], [2], [0, 1]], cost=cost)
    quota = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 1, 0]])
    items, agents, qty = _fill_by_type(cat, quota, np.ones(4, dtype=np.int64), np.full(4, 10_000))
    got = {(int(i), int(a)): int(q) for i, a, q in zip(items, agents, qty)}
    assert got == {(0, 1): 1, (1, 0): 1, (3, 1): 1}
    assert int(cat.cost(items, agents).sum()) == 0


def test_ascend_raises_the_lagrangian_bound_and_keeps_it_valid(tiny):
    """From zero multipliers, the climbed multipliers give a higher Lagrangian value over
    every eligible pair, still no higher than the optimum (here: 2 light clients cannot be
    placed, `_joint_region`)."""
    from scheduling.solve import SolveOptions, solve_core

    problem = build_problem(_joint_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    core, cat = problem.core, problem.catalogue
    zero = np.zeros((core.n_resources, core.n_agents))
    start, _ = cat.lagrangian(zero, core.multiplicity, core.unassigned_cost, core.capacity)
    lam, _ = cat.ascend(zero, core.multiplicity, core.unassigned_cost, core.capacity, iterations=50)
    climbed, _ = cat.lagrangian(lam, core.multiplicity, core.unassigned_cost, core.capacity)
    best = solve_core(core, SolveOptions(time_limit=5, deterministic=True, work_budget=2))
    assert best.evaluation.unassigned == 2
    assert start < 2 * int(core.unassigned_cost[0]) <= climbed + 0.05 * int(core.unassigned_cost[0])
    assert climbed <= best.objective
    assert (lam >= 0).all()


def test_full_bound_climbs_from_the_given_multipliers_and_stays_valid(tiny, monkeypatch):
    """`climb_from` sets where the climb starts (where everyone fits: the candidate LP's
    duals, nearer the top than the best start); the bound never falls below the best start
    and stays below the optimum."""
    from scheduling.placement import PairCatalogue
    from scheduling.solve import SolveOptions, full_bound, solve_core

    problem = build_problem(_joint_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE))
    cat = problem.catalogue
    core = problem.core.with_changes(catalogue=cat)
    zero = np.zeros((core.n_resources, core.n_agents))
    other = np.full((core.n_resources, core.n_agents), 0.5)
    starts = []
    real = PairCatalogue.ascend

    def recording(self, lam, *args, **kwargs):
        starts.append(np.array(lam))
        return real(self, lam, *args, **kwargs)

    monkeypatch.setattr(PairCatalogue, "ascend", recording)
    plain = full_bound(core, [(zero, 0.0)], ascent_iterations=20)
    from_other = full_bound(core, [(zero, 0.0)], ascent_iterations=20, climb_from=other)
    assert (starts[0] == 0).all() and (starts[1] == 0.5).all()
    best = solve_core(core, SolveOptions(time_limit=5, deterministic=True, work_budget=2))
    start_value, _ = cat.lagrangian(zero, core.multiplicity, core.unassigned_cost, core.capacity)
    for bound in (plain, from_other):
        assert start_value - 1 <= bound <= best.objective


def test_second_pass_prices_placements_at_what_the_filling_paid():
    """Group P (1 point; units a, b, b, c) and group Q (2 points; unit d, 0 everywhere) on
    three coaches with 2, 2 and 3 seats. P's mean cost is 17.5 at coaches 0 and 1 and 22.5 at
    coach 2 (b costs 40 there), so the first LP puts all of P at 0 and 1, and a, whose only
    cheap coach is 2, pays 40: 70 in all. The second pass prices those columns at what the
    filling paid there, moves one P slot to coach 2, and a takes it: 30, the optimum."""
    starts = np.array([0, 3, 6], dtype=np.int64)
    cost = np.array([[40, 40, 0], [10, 10, 40], [10, 10, 10], [0, 0, 0]], dtype=np.int64)
    cat = PairCatalogue(
        item_group=np.array([0, 0, 0, 1], dtype=np.int64), group_start=starts,
        group_agent=np.array([0, 1, 2, 0, 1, 2], dtype=np.int64),
        group_usage=np.array([[1, 2], [1, 1]], dtype=np.int64), stay_agent=np.full(4, -1, dtype=np.int64),
        handover=100, tables=((cost, np.arange(4, dtype=np.int64)),),
    )
    mult = np.array([1, 2, 1, 1], dtype=np.int64)
    capacity = np.array([[2, 6, 5], [2, 2, 3]], dtype=np.int64)
    ucost = np.full(4, 1000, dtype=np.int64)
    # the passes alone (the exchange after them would find 30 by itself: a moves to coach 2)
    once = placement_plan(cat, mult, capacity, ucost, refine=False, improve=False)
    twice = placement_plan(cat, mult, capacity, ucost, refine=True, improve=False)
    assert [p["cost"] for p in once.passes] == [70]
    assert [p["cost"] for p in twice.passes] == [70, 30]
    for plan, want in ((once, 70), (twice, 30)):
        assert plan.unassigned == 0
        assert int((cat.cost(plan.items, plan.agents) * plan.quantity).sum()) == want
        used = np.zeros((2, 3), dtype=np.int64)
        np.add.at(used, (slice(None), plan.agents), cat.group_usage[:, cat.item_group[plan.items]] * plan.quantity)
        assert (used <= capacity).all()
    got = {(int(i), int(a)) for i, a in zip(twice.items, twice.agents)}
    assert (0, 2) in got  # a at the coach where it costs nothing
    # deterministic plans solve the group LP by dual simplex; wall-clock plans race it
    # against interior point (`_PlacementLP`), and the passes end at the same optimum
    raced = placement_plan(cat, mult, capacity, ucost, refine=True, improve=False, deterministic=False)
    assert twice.lp_method == "dual simplex" and raced.lp_method in ("dual simplex", "interior point")
    assert filling_cost(cat, raced.items, raced.agents, raced.quantity, mult, ucost) == filling_cost(
        cat, twice.items, twice.agents, twice.quantity, mult, ucost)


def _small_placement_lp():
    """A placement LP of 6 groups and 4 agents: (rows and bounds, two cost vectors)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    G, m = 6, 4
    a_eq = sp.csr_matrix(np.hstack([np.kron(np.eye(G), np.ones(m)), np.eye(G)]))
    use = rng.integers(1, 4, size=G)
    a_ub = sp.csr_matrix(np.hstack([np.kron(use[None, :], np.eye(m)), np.zeros((m, G))]))
    b_eq, b_ub = rng.integers(1, 4, size=G).astype(float), np.full(m, 5.0)
    bounds = np.zeros((G * m + G, 2))
    bounds[:, 1] = np.inf
    c1 = np.concatenate([rng.integers(0, 50, size=G * m), np.full(G, 1000)]).astype(float)
    c2 = np.concatenate([rng.integers(0, 50, size=G * m), np.full(G, 1000)]).astype(float)
    return (a_eq, b_eq, a_ub, b_ub, bounds), c1, c2


def test_placement_lp_resolved_with_new_costs_matches_a_fresh_solve():
    """The placement LP keeps its HiGHS model: a solve after new costs (from the last basis)
    reaches the same optimum as a new model with those costs."""
    from scheduling.placement import _PlacementLP

    (a_eq, b_eq, a_ub, b_ub, bounds), c1, c2 = _small_placement_lp()
    warm = _PlacementLP(c1, a_eq, b_eq, a_ub, b_ub, bounds)
    x1, _ = warm.solve(10.0)
    x2, lam2 = warm.solve(10.0, cost=c2)
    fresh_x, fresh_lam = _PlacementLP(c2, a_eq, b_eq, a_ub, b_ub, bounds).solve(10.0)
    assert abs(float(c2 @ x2) - float(c2 @ fresh_x)) < 1e-6
    assert float(c1 @ x1) <= float(c1 @ x2) + 1e-6  # x1 was optimal for c1
    assert np.allclose(a_eq @ x2, b_eq) and (a_ub @ x2 <= b_ub + 1e-9).all()
    assert (lam2 >= 0).all() and (fresh_lam >= 0).all()


def test_placement_lp_raced_keeps_the_first_to_finish(monkeypatch):
    """Raced, the first solve runs dual simplex and interior point in two threads and keeps
    the one that finished: the same optimum as dual simplex alone, and a solve after new
    costs starts from the winner's basis."""
    import threading

    from scheduling.placement import _PlacementLP

    (a_eq, b_eq, a_ub, b_ub, bounds), c1, c2 = _small_placement_lp()
    names = []
    real = threading.Thread
    monkeypatch.setattr(threading, "Thread", lambda *a, **k: names.append(k.get("name")) or real(*a, **k))
    raced = _PlacementLP(c1, a_eq, b_eq, a_ub, b_ub, bounds, race=True)
    x1, lam1 = raced.solve(10.0)
    assert sorted(names) == ["placement-lp-dual simplex", "placement-lp-interior point"]
    assert raced.method in ("dual simplex", "interior point") and raced._rival is None
    plain_x, _ = _PlacementLP(c1, a_eq, b_eq, a_ub, b_ub, bounds).solve(10.0)
    assert abs(float(c1 @ x1) - float(c1 @ plain_x)) < 1e-6 and (lam1 >= 0).all()
    x2, _ = raced.solve(10.0, cost=c2)
    assert len(names) == 2  # no second race
    fresh_x, _ = _PlacementLP(c2, a_eq, b_eq, a_ub, b_ub, bounds).solve(10.0)
    assert abs(float(c2 @ x2) - float(c2 @ fresh_x)) < 1e-6


def test_consolidate_gathers_nothing_onto_an_empty_coach_without_failing():
    """H (4 points) may only go to coach 0, which holds nothing and has 3 points: there is
    nothing on it to swap, so H stays unassigned (this used to fail on an empty choice)."""
    cat = _catalogue([4, 1], [[0], [1]])
    quota = np.array([[0, 0], [0, 1]])
    new, stats = consolidate(cat, quota, np.array([[3, 5], [2, 2]]), np.array([1, 1]))
    assert stats["placed"] == 0
    assert (new == quota).all()


def test_lagrangian_leaves_out_pairs_whose_unit_does_not_fit():
    """A unit of 5 points never goes to a coach with 3 points of room, so the bound may price
    it at the coach where it fits (7), not at the cheaper one where it cannot (1)."""
    cat = _catalogue([5], [[0, 1]], cost=[[1, 7]])
    one, ucost = np.array([1]), np.array([1000])
    zero = np.zeros((2, 2))
    value, best = cat.lagrangian(zero, one, ucost, np.array([[3, 10], [5, 5]]))
    assert value == 7 and best.tolist() == [1]
    value, best = cat.lagrangian(zero, one, ucost, np.array([[3, 3], [5, 5]]))
    assert value == 1000 and best.tolist() == [-1]
    items, agents = cat.fitting_pairs(np.array([[3, 10], [5, 5]]))
    assert items.tolist() == [0] and agents.tolist() == [1]
    assert cat.n_fitting_pairs(np.array([[3, 10], [5, 5]])) == 1 and cat.n_pairs == 2


def test_intake_bound_is_the_lp_over_every_eligible_pair(tiny):
    """Intake over candidate pairs: the bound is the LP of the whole problem (balance rows
    and all), priced from the candidate LP over every eligible pair. It is at least the
    Lagrangian bound without it, and no more than the optimum of the unpruned model."""
    from scheduling.solve import SolveOptions, solve_core

    region = _wide_region(tiny, n_clients=80)
    clients = region.clients.copy()
    clients.loc[clients.index[::4], "coach_id"] = None  # 20 clients wait for a coach
    region.clients = clients
    pruned = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    core = build_problem(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=pruned)).core
    assert core.catalogue is not None and core.n_pairs < core.catalogue.n_pairs
    opts = dict(time_limit=3, deterministic=True, work_budget=1)
    priced = solve_core(core, SolveOptions(**opts))
    lagrangian = solve_core(core, SolveOptions(price_max_pairs=0, **opts))
    notes = core.notes["bound"]
    assert notes["lp_all_pairs_priced"] and notes["lp_all_pairs_columns"] > 0
    whole = build_problem(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=ScheduleConfig(candidates_per_client=0))).core
    exact = solve_core(whole, SolveOptions(time_limit=20, deterministic=True))
    assert exact.status == "optimal"
    assert lagrangian.bound < priced.bound <= exact.objective
    # fully priced, it is at least the whole model's LP (more where a unit fits no coach's room)
    assert priced.bound >= solve_lp(whole).integer_bound
    # in a wall-clock run the climb gives its time to pricing that LP: no climb, the LP's bound
    fresh = build_problem(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=pruned)).core
    clock = solve_core(fresh, SolveOptions(time_limit=3, deterministic=False))
    assert "lagrangian_climbed" not in fresh.notes["bound"] and fresh.notes["bound"]["lp_all_pairs_columns"] > 0
    assert lagrangian.bound < clock.bound <= exact.objective


def _profiles_catalogue(short: bool):
    """One group of 6 clients eligible at a care team (agent 0), a tech team (1) and an
    integrated team (2): 3 with target care (0 at care, 40 at tech, 15 integrated), 3 with
    target tech (the other way round). At the group's *mean* cost the integrated team is
    cheapest (15 against 20), so the group LP sends all 6 there (90); per profile, each goes
    to its own team (0). With `short`, a second group of 3 clients fits only the care team,
    which has room for 2 clients: the LP leaves one of them out, so that group is held to the
    group LP's placements in the plan's profile LP."""
    sector = np.array([[0, 40, 15], [40, 0, 15]], dtype=np.int64)
    item_group = [0, 0] + ([1] if short else [])
    key = [0, 1] + ([0] if short else [])
    agents = [[0, 1, 2]] + ([[0]] if short else [])
    starts = np.concatenate([[0], np.cumsum([len(a) for a in agents])]).astype(np.int64)
    cat = PairCatalogue(
        item_group=np.array(item_group, dtype=np.int64), group_start=starts,
        group_agent=np.concatenate([np.array(a, dtype=np.int64) for a in agents]),
        group_usage=np.array([[100] * len(agents), [1] * len(agents)], dtype=np.int64),
        stay_agent=np.full(len(item_group), -1, dtype=np.int64), handover=100,
        tables=((sector, np.array(key, dtype=np.int64)),))
    mult = np.array([3, 3] + ([3] if short else []), dtype=np.int64)
    capacity = np.array([[200 if short else 300, 300, 1000], [10, 10, 10]], dtype=np.int64)
    return cat, mult, capacity, np.full(len(mult), 100_000, dtype=np.int64)


def test_profile_pass_prices_each_target_sector_where_the_group_mean_cannot():
    cat, mult, capacity, ucost = _profiles_catalogue(short=False)
    grouped = placement_plan(cat, mult, capacity, ucost, time_limit=5, improve=False)
    profiled = placement_plan(cat, mult, capacity, ucost, time_limit=5, profile_table=0, improve=False)
    cost = lambda plan: int((cat.cost(plan.items, plan.agents) * plan.quantity).sum())  # noqa: E731
    assert grouped.unassigned == profiled.unassigned == 0
    assert cost(grouped) == 90 and [p["kind"] for p in grouped.passes] == ["groups", "re-priced"]
    assert cost(profiled) == 0 and [p["kind"] for p in profiled.passes] == ["profiles"]
    assert sorted(zip(profiled.items.tolist(), profiled.agents.tolist(), profiled.quantity.tolist())) == [(0, 0, 3), (1, 1, 3)]


def test_profile_pass_keeps_the_group_plan_where_capacity_is_short():
    """The care-only group cannot all be placed: it keeps the group LP's placements (2 at the
    care team), so no more clients are left out; the 6 others go by target sector to the tech
    and integrated teams."""
    cat, mult, capacity, ucost = _profiles_catalogue(short=True)
    grouped = placement_plan(cat, mult, capacity, ucost, time_limit=5, improve=False)
    profiled = placement_plan(cat, mult, capacity, ucost, time_limit=5, profile_table=0, improve=False)
    assert abs(profiled.min_unassigned - 1.0) < 1e-6 and grouped.unassigned == profiled.unassigned == 1
    at = {(i, a): q for i, a, q in zip(profiled.items.tolist(), profiled.agents.tolist(), profiled.quantity.tolist())}
    assert at.get((2, 0)) == 2 and not any(a == 0 and i != 2 for i, a in at)  # the care team as the group plan had it
    assert at.get((1, 1)) == 3 and at.get((0, 2)) == 3  # tech clients to tech, care clients to the integrated team
    assert [p["kind"] for p in profiled.passes] == ["profiles"] and grouped.passes[0]["kind"] == "groups"
    assert profiled.passes[0]["cost"] == 100_000 + 3 * 15 < grouped.passes[0]["cost"] == 100_000 + 6 * 15


def test_profile_lp_holds_only_the_groups_the_group_lp_leaves_short():
    """The plan's profile LP holds a group to the group LP's placements only where that group
    is held (one the group LP leaves units of): the mixed group of the profiles case, which
    the group LP puts on the integrated team whole, goes by target sector when not held."""
    from scheduling.placement import _profile_lp

    cat, mult, capacity, ucost = _profiles_catalogue(short=False)
    y_g, y_a = np.zeros(3, dtype=np.int64), np.arange(3, dtype=np.int64)
    group_lp = np.array([0.0, 0.0, 6.0, 0.0])  # y at the three teams, u
    for held, expected in (([False], [3.0, 3.0, 0.0]), ([True], [0.0, 0.0, 6.0])):
        got = _profile_lp(cat, mult, capacity, ucost, 0, group_lp, y_g, y_a, np.zeros(0, dtype=np.int64), 3,
                          held=np.array(held), time_limit=5)
        assert got is not None
        got[1](wait=True)
        assert np.allclose(got[0][:3], expected) and abs(got[0][3]) < 1e-9


def test_profile_pass_leaves_no_more_out_than_the_group_lp(monkeypatch):
    """One group of a care client and a tech client (neither with a coach yet), room for both
    on the care team only, a client left out costing 130 and a handover 100, so that in the
    LP leaving a client out costs 30 against a placement's cost without the handover. At the
    group's mean cost (20 a client) the group LP places both; per profile, the tech client
    costs 40 there, so the profile LP's own optimum leaves it out. The plan's LP is then capped at the group LP's count and solved again from its
    basis, and the rounding gets a point that places both. Without that re-solve (it not
    reaching optimality) the plan rounds the uncapped vertex, which places one."""
    import scheduling.placement as placement_mod

    sector = np.array([[0, 40], [40, 0]], dtype=np.int64)
    cat = PairCatalogue(
        item_group=np.array([0, 0], dtype=np.int64), group_start=np.array([0, 2], dtype=np.int64),
        group_agent=np.array([0, 1], dtype=np.int64), group_usage=np.array([[100], [1]], dtype=np.int64),
        stay_agent=np.full(2, -1, dtype=np.int64), handover=100, tables=((sector, np.array([0, 1], dtype=np.int64)),))
    mult, capacity = np.array([1, 1], dtype=np.int64), np.array([[200, 0], [10, 10]], dtype=np.int64)
    ucost = np.full(2, 130, dtype=np.int64)
    caps, rounded = [], []
    real_cap, real_round = placement_mod._PlacementLP.cap_sum, placement_mod._round_quotas

    def recording(self, columns, upper, time_limit):
        got = real_cap(self, columns, upper, time_limit)
        caps.append((upper, got is not None))
        return got

    def rounding(cat_, y, s, *args, **kwargs):
        rounded.append(float(y.sum() + s.sum()))  # the units the LP being rounded places
        return real_round(cat_, y, s, *args, **kwargs)

    monkeypatch.setattr(placement_mod._PlacementLP, "cap_sum", recording)
    monkeypatch.setattr(placement_mod, "_round_quotas", rounding)
    plan = placement_plan(cat, mult, capacity, ucost, time_limit=5, profile_table=0, improve=False)
    assert caps and caps[0][0] < 1e-3 and caps[0][1]
    assert abs(rounded[0] - 2.0) < 1e-5 and [p["kind"] for p in plan.passes] == ["profiles"]
    assert plan.unassigned == 0
    assert sorted(zip(plan.items.tolist(), plan.agents.tolist(), plan.quantity.tolist())) == [(0, 0, 1), (1, 0, 1)]
    monkeypatch.setattr(placement_mod._PlacementLP, "cap_sum", lambda self, columns, upper, time_limit: None)
    rounded.clear()
    placement_plan(cat, mult, capacity, ucost, time_limit=5, profile_table=0, improve=False)
    assert abs(rounded[0] - 1.0) < 1e-5  # the uncapped vertex leaves the tech client out


def test_placement_lp_capped_from_its_basis_matches_a_fresh_solve_with_the_row():
    """`cap_sum` adds a row over some columns to the solved LP and solves again from its
    basis: the same optimum as a new model with that row among its capacities."""
    import scipy.sparse as sp

    from scheduling.placement import _PlacementLP

    (a_eq, b_eq, a_ub, b_ub, bounds), c1, _ = _small_placement_lp()
    n = len(c1)
    warm = _PlacementLP(c1, a_eq, b_eq, a_ub, b_ub, bounds)
    x1, _ = warm.solve(10.0)
    cols = np.arange(n // 2)
    upper = 0.5 * float(x1[cols].sum())
    assert upper > 0.5  # the row binds
    x2 = warm.cap_sum(cols, upper, 10.0)
    row = sp.csr_matrix((np.ones(len(cols)), (np.zeros(len(cols), dtype=np.int64), cols)), shape=(1, n))
    fresh_x, _ = _PlacementLP(c1, a_eq, b_eq, sp.vstack([a_ub, row]).tocsr(), np.append(b_ub, upper), bounds).solve(10.0)
    assert x2 is not None and x2[cols].sum() <= upper + 1e-6
    assert abs(float(c1 @ x2) - float(c1 @ fresh_x)) < 1e-6 and float(c1 @ x2) >= float(c1 @ x1) - 1e-6


def test_count_cut_is_certified_and_lifts_the_bound_to_the_optimum():
    """Three units of 2 points, one coach with 5: the LP places 2.5, so every assignment
    leaves at least 0.5 unassigned, and being whole, at least 1 (1000). The Lagrangian of
    the capacities alone reaches only 500 (the LP's half unit); with the count cut "at least
    1 unassigned" dualised it reaches 1000, in `full_bound` as well."""
    from scheduling.core import AssignmentCore
    from scheduling.solve import full_bound

    cat = _catalogue([2], [[0]], cost=[[0]])
    mult, capacity, ucost = np.array([3]), np.array([[5], [10]]), np.array([1000])
    plan = placement_plan(cat, mult, capacity, ucost)
    assert abs(plan.min_unassigned - 0.5) < 1e-6 and plan.unassigned == 1
    assert plan.fewest_units == 1
    assert cat.fewest_unassigned(plan.count_multipliers, mult, capacity) == 1
    assert cat.fewest_unassigned(np.zeros((2, 1)), mult, capacity) == 0  # other prices certify less, never more
    zero = np.zeros((2, 1))
    best_plain = max(cat.lagrangian(np.array([[lam], [0.0]]), mult, ucost, capacity)[0] for lam in range(0, 1001, 10))
    assert best_plain == 500
    assert cat.lagrangian(zero, mult, ucost, capacity, count_cut=(1, 1000.0))[0] == 1000
    lam, mu = cat.ascend(zero, mult, ucost, capacity, iterations=80, count_cut=(1, 0.0))
    climbed = cat.lagrangian(lam, mult, ucost, capacity, count_cut=(1, mu))[0]
    assert 900 < climbed <= 1000 and mu > 0

    items, agents = cat.fitting_pairs(capacity)
    core = AssignmentCore(multiplicity=mult, pair_item=items, pair_agent=agents, pair_cost=cat.cost(items, agents),
                          usage=cat.group_usage[:, cat.item_group[items]], capacity=capacity,
                          resource_names=("points", "clients"), unassigned_cost=ucost, catalogue=cat)
    without = full_bound(core, [(zero, 0.0)], ascent_iterations=80)
    core.count_multipliers = plan.count_multipliers
    with_cut = full_bound(core, [(zero, 0.0)], ascent_iterations=80)
    assert without <= 500 < 900 < with_cut <= 1000
    assert core.notes["bound"]["count_cut"] == 1


def test_deterministic_search_after_a_placement_plan_gets_a_quarter(tiny, monkeypatch):
    """After a placement plan the search adds little (50k: 2 in 21.5M in 57 s; 0 in every
    run of 2026-12-05 and 2026-12-06), so in deterministic mode it gets a quarter of the time
    limit (times the usual safety of two), as in wall-clock runs, and a twentieth of that as
    work, and the bound's climb 15 iterations per temperature; without a plan the whole,
    half of it as work, and the climb's usual 30."""
    import scheduling.problem as problem_mod
    import scheduling.solve as solve_mod

    seen = []
    real = solve_mod.solve_core

    def recording(core, options, progress=None):
        if core.name == "caseload/full":  # not the plan's residual solves
            seen.append((core.start is not None, options.time_limit, options.work_budget, options.ascent_iterations))
        return real(core, options, progress)

    monkeypatch.setattr(solve_mod, "solve_core", recording)
    region = _wide_region(tiny)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))
    run_optimisation(region, "full", opts)
    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    proposal = run_optimisation(region, "full", opts)
    assert seen == [(False, 8.0, 2.0, 30), (True, 2.0, 0.05, 15)]  # work: half the limit, a twentieth after a plan
    assert proposal.after["summary"]["unassigned"] == 0


def test_start_from_lp_makes_the_rounding_whole_before_the_search(tiny, monkeypatch):
    """A full rebalance whose core holds every eligible pair, where everyone fits: the core's
    LP rounded is the search's start, and units the rounding and the repair leave over (here
    one taken out of the rounding, the repair off) are placed over every eligible pair before
    the search (`start_from_lp`). The core keeps the LP, which the solve then does not solve
    again, and a start made whole gets a twentieth of the limit as search work."""
    import scheduling.solve as solve_mod
    from scheduling.problem import start_from_lp
    from scheduling.solve import evaluate

    region = _wide_region(tiny)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4)
    problem = build_problem(region, "full", opts)
    core = problem.core
    assert problem.plan is None and core.catalogue is None and core.count_multipliers is None and core.lp is None
    real_greedy = solve_mod.greedy_start

    def leaves_one_over(core, lp, x0=None):
        x = real_greedy(core, lp, x0)
        x[np.flatnonzero(x > 0)[0]] -= 1
        return x

    monkeypatch.setattr(solve_mod, "greedy_start", leaves_one_over)
    monkeypatch.setattr(solve_mod, "repair_unplaced", lambda core, x, **kwargs: x)
    started = start_from_lp(problem, 4.0)
    note = started.core.notes["start_from_lp"]
    assert note["rounding_left_over"] == 1 and note["repair_left_over"] == 1 and note["completed_kept"]
    ev = evaluate(started.core, started.core.start)
    assert ev.unassigned == 0 and ev.feasible and ev.objective == note["completed_objective"] < note["objective"]
    lp = started.core.lp
    assert lp is not None and np.isfinite(lp.bound) and len(lp.x) == started.core.n_pairs
    assert abs(note["lp"] - lp.bound) < 0.1 and core.lp is not None  # the input's core has the LP and the rounding

    seen, lps = [], []
    real, real_lp = solve_mod.solve_core, solve_mod.solve_lp

    def recording(core, options, progress=None):
        seen.append((core.lp is not None, options.work_budget))
        return real(core, options, progress)

    def counting(core, *args, **kwargs):
        lps.append(core.name)
        return real_lp(core, *args, **kwargs)

    monkeypatch.setattr(solve_mod, "solve_core", recording)
    monkeypatch.setattr(solve_mod, "solve_lp", counting)
    proposal = run_optimisation(region, "full", opts)
    assert seen == [(True, 0.05 * 4)] and "caseload/full" not in lps  # the LP is start_from_lp's
    assert proposal.solver["start_from_lp"]["completed_kept"] and proposal.after["summary"]["unassigned"] == 0


def _triples(fill) -> dict:
    return {(int(i), int(a)): int(q) for i, a, q in zip(*fill)}


def _loads(cat, fill, m):
    items, agents, qty = fill
    used = np.zeros((cat.group_usage.shape[0], m), dtype=np.int64)
    np.add.at(used, (slice(None), agents), cat.group_usage[:, cat.item_group[items]] * qty)
    return used


def test_exchange_swaps_units_of_different_points_between_full_coaches():
    """A (5 points) sits on coach 0 (40 there, 0 on coach 1), B (4 points) on coach 1 (40
    there, 0 on coach 0); C (5) fits only coach 0, D (5) only coach 1. Coach 0 is full (10
    of 10) and coach 1 has 1 point free (9 of 10): neither A nor B can move alone, but they
    can trade places (coach 0 then holds 9, coach 1 10): 80 -> 0."""
    from scheduling.placement import filling_cost, exchange

    cost = [[40, 0], [0, 40], [0, 0], [0, 0]]
    cat = _catalogue([5, 4, 5, 5], [[0, 1], [0, 1], [0], [1]], cost=cost)
    mult, ucost = np.ones(4, dtype=np.int64), np.full(4, 100_000)
    capacity = np.array([[10, 10], [5, 5]])
    fill = (np.array([0, 2, 1, 3]), np.array([0, 0, 1, 1]), np.ones(4, dtype=np.int64))
    assert filling_cost(cat, *fill, mult, ucost) == 80
    new, stats = exchange(cat, fill, mult, capacity, ucost)
    assert _triples(new) == {(0, 1): 1, (2, 0): 1, (1, 0): 1, (3, 1): 1}
    assert stats["swaps"] == 1 and stats["moves"] == 0 and stats["gain"] == 80
    assert (_loads(cat, new, 2) <= capacity).all()
    # one point less on coach 1 and the swap no longer fits: nothing changes
    same, stats = exchange(cat, fill, mult, np.array([[10, 9], [5, 5]]), ucost)
    assert _triples(same) == _triples(fill) and stats["gain"] == 0


def test_exchange_moves_into_room_and_places_a_unit_left_out():
    """P (2 points) sits on coach 0 at 30 and costs 0 on coach 1, which has room: it moves.
    Q (3 points, coach 1 only) was left out although coach 1 has room for it too: placed."""
    from scheduling.placement import exchange

    cat = _catalogue([2, 3], [[0, 1], [1]], cost=[[30, 0], [0, 0]])
    mult, ucost = np.ones(2, dtype=np.int64), np.full(2, 100_000)
    new, stats = exchange(cat, (np.array([0]), np.array([0]), np.array([1])), mult, np.array([[5, 5], [3, 3]]), ucost)
    assert _triples(new) == {(0, 1): 1, (1, 1): 1}
    assert stats["moves"] == 2 and stats["gain"] == 100_000 + 30


def test_exchange_chain_sends_the_displaced_unit_to_a_coach_with_room():
    """A (3 points) on coach 0 costs 50 there and 0 on coach 1, which is full with B (3
    points, 0 there). B may not go to coach 0, so no swap; it may go to coach 2 (room) at 10.
    The chain A -> 1, B -> 2 saves 40; nothing else does."""
    from scheduling.placement import exchange

    cat = _catalogue([3, 3], [[0, 1], [1, 2]], cost=[[50, 0, 0], [0, 0, 10]])
    mult, ucost = np.ones(2, dtype=np.int64), np.full(2, 100_000)
    capacity = np.array([[3, 3, 6], [2, 1, 2]])
    fill = (np.array([0, 1]), np.array([0, 1]), np.array([1, 1]))
    new, stats = exchange(cat, fill, mult, capacity, ucost)
    assert _triples(new) == {(0, 1): 1, (1, 2): 1}
    assert stats["chains"] == 1 and stats["gain"] == 40
    assert (_loads(cat, new, 3) <= capacity).all()


def test_exchange_lets_a_unit_left_out_take_the_place_of_a_dearer_one():
    """Coach 0 has room for one of P and L (3 points each, one client). P holds it at 50, L
    was left out and would cost 0 there: they trade (one left out either way)."""
    from scheduling.placement import exchange

    cat = _catalogue([3, 3], [[0], [0]], cost=[[50], [0]])
    mult, ucost = np.ones(2, dtype=np.int64), np.full(2, 100_000)
    new, stats = exchange(cat, (np.array([0]), np.array([0]), np.array([1])), mult, np.array([[3], [1]]), ucost)
    assert _triples(new) == {(1, 0): 1}
    assert stats["swaps"] == 1 and stats["gain"] == 50


def test_exchange_keeps_every_capacity_and_eligibility_and_never_costs_more():
    """Random instances (points of nearly the same size, coaches nearly full, classes with
    several units): the exchange keeps each unit on an eligible coach, every capacity and
    every multiplicity, never raises the cost (usually lowers it) and gives the same result
    twice."""
    from scheduling.placement import _fill_by_type, filling_cost, exchange

    lowered = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        G, m = 12, 6
        agents = [np.sort(rng.choice(m, size=int(rng.integers(2, m + 1)), replace=False)) for _ in range(G)]
        points = rng.choice([97, 100, 103, 150, 152], size=G)
        cost = rng.integers(0, 60, size=(G, m))
        cat = _catalogue(points, agents, cost=cost)
        mult = rng.integers(1, 5, size=G).astype(np.int64)
        ucost = np.full(G, 100_000)
        capacity = np.vstack([rng.integers(300, 700, size=m), rng.integers(3, 7, size=m)])
        # a feasible start: each group's units on its coaches in turn, while they fit
        quota = np.zeros((G, m), dtype=np.int64)
        used = np.zeros((2, m), dtype=np.int64)
        for g in range(G):
            for _ in range(int(mult[g])):
                for a in agents[g]:
                    if used[0, a] + points[g] <= capacity[0, a] and used[1, a] + 1 <= capacity[1, a]:
                        quota[g, a] += 1
                        used[:, a] += [points[g], 1]
                        break
        fill = _fill_by_type(cat, quota, mult, ucost)
        before = filling_cost(cat, *fill, mult, ucost)
        new, stats = exchange(cat, fill, mult, capacity, ucost)
        after = filling_cost(cat, *new, mult, ucost)
        assert after <= before and before - after == stats["gain"]
        lowered += after < before
        assert (_loads(cat, new, m) <= capacity).all()
        assert (np.bincount(new[0], weights=new[2], minlength=G) <= mult).all()
        assert all(a in agents[i] for i, a in zip(new[0], new[1]))
        again, _ = exchange(cat, fill, mult, capacity, ucost)
        assert _triples(again) == _triples(new)
    assert lowered >= 4


def test_placement_plan_ends_with_the_exchange():
    """The group plan of the profiles case puts all six clients on the integrated team (90);
    the exchange moves each to its own sector team, where there is room (0), and says so."""
    cat, mult, capacity, ucost = _profiles_catalogue(short=False)
    plain = placement_plan(cat, mult, capacity, ucost, time_limit=5, improve=False)
    plan = placement_plan(cat, mult, capacity, ucost, time_limit=5)
    cost = lambda p: int((cat.cost(p.items, p.agents) * p.quantity).sum())  # noqa: E731
    assert cost(plain) == 90 and plain.exchanged is None
    assert cost(plan) == 0 and plan.unassigned == 0
    assert plan.exchanged["gain"] == 90 and plan.exchanged["cost"] == 0 and plan.exchanged["moves"] == 6


def test_the_plans_rounding_budget_does_not_read_the_clock(monkeypatch):
    """The residual search of the rounding gets a work budget from the time limit alone, not
    from the time left, in wall-clock runs as in deterministic ones (a slow machine, or a run
    that got less of the processor, would otherwise get another plan: at 50k 201 or 202
    unassigned). Here the clock jumps 30 s after the plan starts: both get a quarter of half
    the limit (0.625 s of work for 5 s), and the same quotas."""
    import types

    import scheduling.placement as placement_mod

    seen = []
    real_round = placement_mod._round_quotas

    def recording(*args, work, **kwargs):
        got = real_round(*args, work=work, **kwargs)
        seen.append((work, tuple(got[0]), tuple(got[1])))
        return got

    calls = [0]

    def clock():
        calls[0] += 1
        return time.perf_counter() + (30.0 if calls[0] > 1 else 0.0)

    monkeypatch.setattr(placement_mod, "_round_quotas", recording)
    monkeypatch.setattr(placement_mod, "time", types.SimpleNamespace(perf_counter=clock))
    cat, mult, capacity, ucost = _profiles_catalogue(short=True)
    for deterministic in (True, False):
        calls[0] = 0
        placement_plan(cat, mult, capacity, ucost, time_limit=5, deterministic=deterministic, improve=False)
    assert len(seen) >= 2 and seen[0][0] == 0.625
    assert seen[-1] == seen[0]


def test_conflict_search_is_limited_in_deterministic_time_in_deterministic_runs():
    from scheduling.explain import _conflict_solver

    det, wall = _conflict_solver(2.0, 1, True), _conflict_solver(2.0, 1, False)
    assert det.parameters.max_deterministic_time == 2.0 and det.parameters.max_time_in_seconds == 4.0
    assert wall.parameters.max_time_in_seconds == 2.0 and wall.parameters.num_workers == 1


def test_progress_covers_the_placement_plan_and_the_search_on_one_bar(tiny, monkeypatch):
    """At regional scale the placement plan is half the run or more: its stages report
    progress, and building and solving share one bar that never goes back."""
    import scheduling.problem as problem_mod

    from plein.progress import part

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    heard = []
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))
    proposal = run_optimisation(_wide_region(tiny), "full", opts, progress=lambda d, t, msg: heard.append((d / t, msg)))
    # the figures of how the bound was found go with the proposal, beside the bound itself
    assert isinstance(proposal.solver["bound"], int) and "lagrangian_start" in proposal.solver["bound_figures"]
    json.dumps(proposal.solver)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] and fractions[-1] == 1.0
    plan = [f for f, msg in heard if msg.startswith("placement plan")]
    assert any("LP over every eligible pair" in msg for _, msg in heard)
    assert any("rounding" in msg for _, msg in heard)
    assert any("moves, swaps and chains" in msg for _, msg in heard)
    assert plan and max(plan) <= 0.75  # the plan's share of the bar; the search follows
    assert any(f >= 0.75 and not msg.startswith("placement plan") for f, msg in heard)
    # `part` maps a stage's own fractions onto its span of the whole
    got = []
    cb = part(lambda d, t, msg: got.append(d / t), 0.5, 0.75)
    cb(0, 4, "a")
    cb(2, 4, "b")
    cb(9, 4, "c")  # beyond the stage's total: clipped to its end
    assert got == [0.5, 0.625, 0.75]


def test_complete_gathers_room_for_what_a_rounding_left_out_then_exchanges():
    """The swaps case as a filling: P x2 on coach 0, S x2 on coach 1, H (fits coach 0 only)
    left out. `complete` gathers room by two swaps (each P or S away from home costs 5) and
    places H: 20 instead of the unassigned cost. A filling that leaves no one out is only
    exchanged: P and S placed away from home go back (0)."""
    from scheduling.placement import complete

    cat = _catalogue([4, 3, 4], [[0, 1], [0, 1], [0]], cost=[[0, 5], [5, 0], [0, 0]])  # P, S, H
    mult = np.array([2, 2, 1])
    capacity = np.array([[10, 10], [5, 2]])
    ucost = np.full(3, 1000)
    fill = (np.array([0, 1]), np.array([0, 1]), np.array([2, 2]))
    got, stats = complete(cat, fill, mult, capacity, ucost)
    assert stats["placed"] == 1 and stats["operations"] == 2
    assert _triples(got) == {(1, 0): 2, (2, 0): 1, (0, 1): 2}
    assert filling_cost(cat, *got, mult, ucost) == 20
    loads = _loads(cat, got, 2)
    assert (loads <= capacity).all()
    # nothing left out: no gathering, the exchange alone
    cat2 = _catalogue([4, 3], [[0, 1], [0, 1]], cost=[[0, 5], [5, 0]])
    away = (np.array([0, 1]), np.array([1, 0]), np.array([1, 1]))
    got2, stats2 = complete(cat2, away, np.array([1, 1]), capacity, np.full(2, 1000))
    assert stats2["placed"] == 0 and stats2["exchanged"]["gain"] == 10
    assert _triples(got2) == {(0, 0): 1, (1, 1): 1}


def test_complete_first_makes_what_is_left_out_light():
    """H (4 points) fits coach 0 only, which holds M (3 points, also fine at coach 1): 2
    points free there. Coach 1 (4 points) holds S (2 points, also fine at coach 2), coach 2
    (2 points) is empty. No chain of two places H (M finds no room at coach 1). Leaving out
    a point costs more in the first exchange: H takes M's place, then M takes S's at coach 1
    and S goes to coach 2. Everyone is placed before gathering (0 operations), at the pair
    costs (M at 1 and S at 2 cost 5 each). Without it, gathering places H instead."""
    from scheduling.placement import complete

    cat = _catalogue([4, 3, 2], [[0], [0, 1], [1, 2]], cost=[[0, 0, 0], [0, 5, 0], [0, 0, 5]])  # H, M, S
    mult = np.array([1, 1, 1])
    capacity = np.array([[5, 4, 2], [3, 3, 3]])
    ucost = np.full(3, 1000)
    fill = (np.array([1, 2]), np.array([0, 1]), np.array([1, 1]))
    got, stats = complete(cat, fill, mult, capacity, ucost, lighten=10.0)
    assert _triples(got) == {(0, 0): 1, (1, 1): 1, (2, 2): 1}
    assert filling_cost(cat, *got, mult, ucost) == 10
    lightened = stats["lightened"]
    assert lightened["swaps"] + lightened["chains"] >= 1 and stats["operations"] == 0
    assert (_loads(cat, got, 3) <= capacity).all()
    plain, stats0 = complete(cat, fill, mult, capacity, ucost)  # not lightened by default
    assert "lightened" not in stats0 and stats0["operations"] > 0 and stats0["placed"] == 1
    assert _triples(plain) == _triples(got)


def test_insert_places_what_is_left_out_by_the_cheapest_step():
    """U (2 points) fits coach 0 only, where A (4 points) leaves 1 point free. Room for U:
    A moves on to empty coach 2 (a chain, A there costs `far`), or A trades places with B
    (3 points) on coach 1, which has the 1 point of difference free (a swap: A at 1 and B
    at 0 cost 5 each). The cheaper one is taken; every capacity holds."""
    from scheduling.placement import insert

    capacity = np.array([[5, 4, 4], [3, 3, 3]])
    mult = np.array([1, 1, 1])
    ucost = np.full(3, 1000)
    fill = (np.array([1, 2]), np.array([0, 1]), np.array([1, 1]))  # A on 0, B on 1, U out
    for far, kind, where in [(50, "swaps", {(0, 0): 1, (1, 1): 1, (2, 0): 1}), (3, "chains", {(0, 0): 1, (1, 2): 1, (2, 1): 1})]:
        cat = _catalogue([2, 4, 3], [[0], [0, 1, 2], [0, 1]], cost=[[0, 0, 0], [0, 5, far], [5, 0, 0]])  # U, A, B
        got, stats = insert(cat, fill, mult, capacity, ucost)
        assert _triples(got) == where
        assert stats["placed"] == 1 and stats[kind] == 1 and stats["cost"] == min(far, 10)
        assert filling_cost(cat, *got, mult, ucost) == min(far, 10)
        assert (_loads(cat, got, 3) <= capacity).all()
    # room where it is: a plain move; nowhere: the unit stays out
    cat = _catalogue([1, 4, 3], [[0], [0, 1, 2], [0, 1]])
    got, stats = insert(cat, fill, mult, capacity, ucost)
    assert _triples(got)[(0, 0)] == 1 and stats["moves"] == 1
    tight = np.array([[4, 3, 0], [3, 3, 3]])
    cat = _catalogue([2, 4, 3], [[0], [0, 1, 2], [0, 1]])
    got, stats = insert(cat, fill, mult, tight, ucost)
    assert stats["placed"] == 0 and _triples(got) == _triples(fill)


def test_lp_start_is_whole_feasible_over_every_eligible_pair_and_deterministic(tiny, monkeypatch):
    """Where everyone fits, the LP over the candidates rounded and completed places every
    client, on eligible coaches, within both capacities; twice the same."""
    import scheduling.problem as problem_mod
    from scheduling.solve import lp_start

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))
    core = build_problem(_wide_region(tiny), "full", opts).core
    cat = core.catalogue
    lp, fill, figures = lp_start(core)
    items, agents, qty = fill
    assert qty.sum() == core.multiplicity.sum()  # everyone placed
    for i, a in zip(items, agents):
        assert a in cat.agents_of(int(cat.item_group[i]))
    assert (_loads(cat, fill, core.n_agents) <= core.capacity).all()
    assert abs(figures["lp"] - lp.bound) <= 0.05 and figures["repair_left_over"] <= figures["rounding_left_over"]
    _, fill2, _ = lp_start(core)
    assert _triples(fill) == _triples(fill2)
    # its completion makes what the rounding leaves out light first (`complete`'s `lighten`)
    import scheduling.solve as solve_mod

    heard = []

    def listening(*args, **kwargs):
        heard.append(kwargs.get("lighten", 0.0))
        return complete(*args, **kwargs)

    from scheduling.placement import complete
    monkeypatch.setattr(solve_mod, "complete", listening)
    lp_start(core)
    assert heard == [solve_mod.LIGHTEN] and solve_mod.LIGHTEN > 0


def test_build_starts_from_the_candidate_lp_and_the_solve_reuses_that_lp(tiny, monkeypatch):
    """Beyond the LP size (where the solve works from the LP without balance rows), building
    solves that LP once: its rounded, completed filling is the start when it costs less than
    the placement plan (its pairs then join the candidates, and the LP is carried over to
    them), and the solve takes the LP from the core instead of solving it again."""
    import scheduling.problem as problem_mod
    import scheduling.solve as solve_mod
    from scheduling.solve import SolveOptions, evaluate, solve_core

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    monkeypatch.setattr(SolveOptions, "lp_max_pairs", 0)  # what building reads
    calls = []
    real = solve_mod.solve_lp

    def counting(core, *args, **kwargs):
        # building's LP (kept in HiGHS, by column generation over the core's pairs) and any
        # solve of it again; not the plan's residual solves, nor pricing over every pair
        if core.name == "caseload/full" and ("candidates" not in kwargs or kwargs.get("keep")):
            calls.append(core.balance is None)
        return real(core, *args, **kwargs)

    monkeypatch.setattr(solve_mod, "solve_lp", counting)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))
    problem = build_problem(_wide_region(tiny), "full", opts)
    core, cat = problem.core, problem.catalogue
    figures = problem.core.notes["placement"]["candidate_lp"]
    assert calls == [True] and core.lp is not None
    assert len(core.lp.x) == len(core.lp.reduced_cost) == core.n_pairs
    assert figures["kept"] == (figures["cost"] < figures["plan_cost"])
    on = core.start > 0
    start_cost = filling_cost(cat, core.pair_item[on], core.pair_agent[on], core.start[on], core.multiplicity, core.unassigned_cost)
    assert start_cost == min(figures["cost"], figures["plan_cost"])
    assert len(problem.parts["sector"]) == len(problem.pair_km) == core.n_pairs
    # the LP's solution sits on the same pairs after the carry-over: its value is unchanged
    assert abs(float(core.lp.x @ core.pair_cost) - figures["lp"]) <= 0.05
    # building kept that LP in HiGHS: pricing every pair takes its model over (from its
    # basis), in deterministic runs too, plus the balance floor
    assert core.lp.model is not None
    result = solve_core(core, SolveOptions(time_limit=3, lp_max_pairs=0, deterministic=True, work_budget=1.0))
    assert calls == [True]  # not solved again
    assert evaluate(core, result.x).feasible and core.lp.model is None
    assert core.notes["bound"]["lp_all_pairs_without_balance"] <= result.bound <= result.evaluation.objective
    del core.notes["bound"]
    # without the kept model: deterministic runs climb from that LP's duals (a cold round
    # would leave their search to the clock's safety net); wall-clock runs with the time
    # price every pair once from them
    result = solve_core(core, SolveOptions(time_limit=3, lp_max_pairs=0, deterministic=True, work_budget=1.0))
    assert "lp_all_pairs_without_balance" not in core.notes.get("bound", {})
    result = solve_core(core, SolveOptions(time_limit=3, lp_max_pairs=0, deterministic=False, price_min_seconds=0.0))
    assert calls == [True]
    assert core.notes["bound"]["lp_all_pairs_without_balance"] <= result.evaluation.objective
    assert result.bound <= result.evaluation.objective
    # when that LP does not finish in the time left, the climb from its duals follows after all
    climbs = []
    real_bound = solve_mod.full_bound

    def recording(core_, starts, **kwargs):
        climbs.append((kwargs.get("ascent_iterations", 0), kwargs.get("climb_from") is not None))
        return real_bound(core_, starts, **kwargs)

    monkeypatch.setattr(solve_mod, "catalogue_lp_bound", lambda *args, **kwargs: None)
    monkeypatch.setattr(solve_mod, "full_bound", recording)
    again = solve_core(core, SolveOptions(time_limit=3, lp_max_pairs=0, deterministic=False, price_min_seconds=0.0))
    assert climbs == [(0, True), (SolveOptions.ascent_iterations, True)]
    assert again.bound <= again.evaluation.objective


def test_lp_priced_from_the_candidates_duals_needs_a_round_less(tiny, monkeypatch):
    """Column generation over every eligible pair, started from the duals of the LP over
    the candidates, reaches the same optimum with one LP solve less."""
    import scheduling.problem as problem_mod
    from scheduling.solve import catalogue_lp_bound

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0))
    core = build_problem(_wide_region(tiny, n_coaches=24, n_clients=120), "full", opts).core.with_changes(balance=None)
    cand = solve_lp(core)
    plain = catalogue_lp_bound(core, 30)
    warm = catalogue_lp_bound(core, 30, duals=cand.duals)
    assert plain.status == warm.status == "optimal"
    assert abs(plain.bound - warm.bound) <= 1e-6 * max(1.0, abs(plain.bound))
    assert plain.rounds >= 2 and warm.rounds == plain.rounds - 1
    assert cand.bound >= plain.bound - 1e-6  # the candidates' LP is no bound of the whole


def test_the_lp_over_every_pair_starts_from_the_candidates_duals_where_it_has_their_rows(tiny, monkeypatch):
    """After the LP over the candidates, the LP over every eligible pair (the bound) starts
    from that LP's duals when both have the same rows (the same count row, here none: the
    intake's case), so the candidates' LP is not solved twice; its bound is the same as when
    started cold. Where the certified count adds a row the candidates' LP did not have, it
    starts cold; duals of an LP with other rows are refused with a clear error."""
    import scheduling.problem as problem_mod
    import scheduling.solve as solve_mod
    from scheduling.solve import SolveOptions, catalogue_lp_bound, solve_core

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0))
    fits = build_problem(_wide_region(tiny, n_coaches=24, n_clients=120), "full", opts).core
    short = build_problem(_wide_region(tiny, n_coaches=9, n_clients=70), "full", ScheduleOptions(
        plan_date=tiny.PLAN_DATE, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))).core
    seen = []
    real = solve_mod.catalogue_lp_bound

    def recording(core, *args, **kwargs):
        got = real(core, *args, **kwargs)
        seen.append((kwargs.get("duals") is not None, kwargs.get("min_unassigned", 0), got))
        return got

    monkeypatch.setattr(solve_mod, "catalogue_lp_bound", recording)
    wall = SolveOptions(time_limit=4, deterministic=False)
    done = solve_core(fits, wall)
    assert [(d, k) for d, k, _ in seen] == [(True, 0)]
    cold = real(fits, wall.price_rounds)
    assert abs(seen[0][2].bound - cold.bound) <= 1e-6 * max(1.0, abs(cold.bound))
    assert done.bound <= done.evaluation.objective
    seen.clear()
    solve_core(short, wall)
    k = short.notes["bound"]["lp_all_pairs_count_cut"]
    assert k >= 1 and short.min_unassigned == 0 and [(d, kk) for d, kk, _ in seen] == [(False, k)]
    lp = solve_lp(fits)
    with pytest.raises(ValueError, match="same rows"):
        catalogue_lp_bound(fits.with_changes(balance=None), 4, duals=lp.duals)


def test_a_kept_lp_is_priced_from_its_basis(tiny, monkeypatch):
    """An LP kept in HiGHS (`keep=True`) is taken over by the LP over every eligible pair
    with the same rows (`warm=`): it continues that model (its rounds follow the kept one's)
    and reaches the optimum of a cold start. A model is taken over once; one with other rows
    is refused with a clear error."""
    import scheduling.problem as problem_mod
    from scheduling.solve import catalogue_lp_bound

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0))
    fits = build_problem(_wide_region(tiny, n_coaches=24, n_clients=120), "full", opts).core
    core = fits.with_changes(balance=None)
    kept = solve_lp(core, keep=True)
    assert kept.model is not None and solve_lp(core).model is None
    cold = catalogue_lp_bound(core, 30)
    warm = catalogue_lp_bound(core, 30, duals=kept.duals, warm=kept)
    assert cold.status == warm.status == "optimal" and warm.columns > kept.columns
    assert abs(cold.bound - warm.bound) <= 1e-6 * max(1.0, abs(cold.bound))
    assert warm.iterations[: len(kept.iterations)] == kept.iterations and len(warm.iterations) > len(kept.iterations)
    assert kept.model is None
    with pytest.raises(ValueError, match="taken over once"):
        catalogue_lp_bound(core, 30, duals=kept.duals, warm=kept)
    other = solve_lp(fits, keep=True)  # with the balance rows
    with pytest.raises(ValueError, match="same rows"):
        catalogue_lp_bound(core, 4, duals=other.duals, warm=other)


def test_reduced_costs_are_the_pair_columns_times_the_duals(tiny, monkeypatch):
    """`_LPMatrix.reduced_costs` (every pair, without building their matrix) equals the cost
    less the pair columns' product with the duals, on a core with every row block: capacity,
    balance per coach and per team, and the move cap."""
    import scheduling.problem as problem_mod
    from scheduling.lp import _LPMatrix

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0))
    core = build_problem(_wide_region(tiny, n_coaches=24, n_clients=120), "full", opts).core
    core = core.with_changes(max_moves=5, move_mask=np.arange(core.n_pairs) % 3 == 0)
    mat = _LPMatrix(core)
    assert mat.bal is not None and mat.n_team > 0 and core.max_moves is not None
    rng = np.random.default_rng(0)
    y_eq, y_ub = rng.normal(size=mat.n_eq), -rng.random(mat.n_ub)
    a_eq, a_ub = mat.pair_columns(np.arange(core.n_pairs))
    expected = core.pair_cost - a_eq.T @ y_eq - a_ub.T @ y_ub
    assert np.allclose(mat.reduced_costs(y_eq, y_ub), expected)
    with pytest.raises(ValueError, match="same rows"):
        mat.reduced_costs(y_eq[:-1], y_ub)


def test_no_flow_start_where_the_core_brings_its_own_start(tiny, monkeypatch):
    """Beyond the LP's size the min-cost-flow start is computed only where the core has no
    admissible start of its own (the placement plan's, or the candidate LP's rounding): at 50k
    it took 2.4 s for 138.9M against the plan's 21.4M."""
    import scheduling.solve as solve_mod
    from scheduling.solve import SolveOptions, solve_core

    calls = []
    real = solve_mod.flow_start
    monkeypatch.setattr(solve_mod, "flow_start", lambda core: calls.append(1) or real(core))
    core = build_problem(_wide_region(tiny, n_coaches=9, n_clients=70), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE)).core
    # beyond the LP's size (patched) where some must stay out: no LP start, as at 50k
    core = core.with_changes(notes={"placement": {"min_unassigned_lp": 1.5}})
    opts = SolveOptions(time_limit=2, lp_max_pairs=0, deterministic=True, work_budget=0.5)
    first = solve_core(core.with_changes(start=None), opts)
    assert calls == [1]
    solve_core(core.with_changes(start=first.x.copy()), opts)
    assert calls == [1]


def _drop_one_unit(core, result):
    """`result` with one placed unit taken out (as if the search had left it unassigned)."""
    from dataclasses import replace

    from scheduling.solve import evaluate

    x = result.x.copy()
    p = int(np.flatnonzero(x > 0)[0])
    x[p] -= 1
    return replace(result, x=x, evaluation=evaluate(core, x))


def test_complete_unplaced_places_what_the_search_left_out_over_every_eligible_pair(tiny):
    """Below the placement plan's scale the search sees candidate pairs only; a client it
    leaves out is placed afterwards over every eligible pair: the problem's core then holds the
    candidates plus the new pairs (costs and cost parts as the catalogue says), the solution
    evaluates the same on it, and the notes say what happened. Nothing left out: no change."""
    from scheduling.problem import complete_unplaced
    from scheduling.solve import SolveOptions, evaluate, solve_core

    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    problem = build_problem(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg))
    core, cat = problem.core, problem.catalogue
    assert problem.plan is None and core.catalogue is cat
    result = solve_core(core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    assert result.evaluation.unassigned == 0
    same = complete_unplaced(problem, result)
    assert same[0] is problem and same[1] is result

    worse = _drop_one_unit(core, result)
    assert worse.evaluation.unassigned == 1
    new_problem, new_result = complete_unplaced(problem, worse)
    new_core = new_problem.core
    ev = new_result.evaluation
    assert ev.unassigned == 0 and ev.objective < worse.evaluation.objective and not ev.overload.any()
    assert evaluate(new_core, new_result.x).objective == ev.objective
    old_keys = set(zip(core.pair_item.tolist(), core.pair_agent.tolist()))
    new_keys = set(zip(new_core.pair_item.tolist(), new_core.pair_agent.tolist()))
    assert old_keys <= new_keys  # the candidates stay
    for i, a in zip(new_core.pair_item, new_core.pair_agent):
        assert a in cat.agents_of(int(cat.item_group[i]))
    np.testing.assert_array_equal(cat.cost(new_core.pair_item, new_core.pair_agent), new_core.pair_cost)
    parts = new_problem.parts
    np.testing.assert_array_equal(parts["handover"] + parts["sector"] + parts["travel"] + parts["language"], new_core.pair_cost)
    assert len(new_problem.pair_km) == new_core.n_pairs
    done = new_core.notes["completed"]
    assert done["unassigned_before"] == 1 and done["unassigned"] == 0 and done["objective_before"] == worse.evaluation.objective
    assert new_result.bound <= ev.objective and problem.core is core  # the input is not changed
    # completed twice, plain and with the units left out made light first: the cheaper kept
    on = new_result.x > 0
    kept = filling_cost(cat, new_core.pair_item[on], new_core.pair_agent[on], new_result.x[on], new_core.multiplicity, new_core.unassigned_cost)
    assert kept == min(done["cost_plain"], done["cost_lightened"])
    assert done["lightened_first"] == (done["cost_lightened"] < done["cost_plain"])


def test_a_widened_what_if_plans_without_the_profile_pass(tiny, monkeypatch):
    """At the placement plan's scale a what-if, widened to everyone or not, plans by
    eligibility group only: a client moves only to make room there (a handover costs 100x),
    and the pass by target sector took 18 s of a 30 s what-if at 50k. A full rebalance keeps it."""
    import scheduling.problem as problem_mod

    seen = []
    real = problem_mod.placement_plan

    def spy(*args, **kwargs):
        seen.append(kwargs.get("profile_table"))
        return real(*args, **kwargs)

    monkeypatch.setattr(problem_mod, "placement_plan", spy)
    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg, coach_leaves=["C00"])
    widened = build_problem(_wide_region(tiny), "full", opts, widened=True)
    plain = build_problem(_wide_region(tiny), "full", opts)
    assert seen == [None, 0]
    # nor in a what-if, whose handovers cost as much (generated 50k region, 3 coaches leaving:
    # its plan 16.9 -> 12.5 s, the what-if's objective 92 119 999 -> 91 877 411)
    what_if = build_problem(_wide_region(tiny), "what_if", opts)
    assert what_if.plan is not None and seen == [None, 0, None]
    assert widened.plan is not None and plain.plan is not None
    assert widened.catalogue.handover == 100 * plain.catalogue.handover


def test_complete_unplaced_tries_the_completion_plain_and_lightened(tiny, monkeypatch):
    """`complete_unplaced` runs `placement.complete` once as it is and once with the units
    left out made light first (`solve.LIGHTEN`), each with the time given, and reports both;
    an intake only where its joint check finds room for everyone."""
    import scheduling.placement as placement_mod
    from scheduling.problem import complete_unplaced
    from scheduling.solve import LIGHTEN, SolveOptions, solve_core

    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    problem = build_problem(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg))
    result = solve_core(problem.core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    real, calls = placement_mod.complete, []

    def spy(*args, **kwargs):
        calls.append((kwargs.get("lighten", 0.0), kwargs.get("time_limit")))
        return real(*args, **kwargs)

    monkeypatch.setattr(placement_mod, "complete", spy)
    new_problem, new_result = complete_unplaced(problem, _drop_one_unit(problem.core, result), time_limit=1.0)
    assert calls == [(0.0, 1.0), (LIGHTEN, 1.0)]
    done = new_problem.core.notes["completed"]
    assert done["unassigned"] == 0 and {"cost_plain", "cost_lightened", "lightened_first", "inserted"} <= set(done)

    # an intake lightens too where its joint check (beside the search) finds room for
    # everyone, and completes plain only where it proves some must stay out or did not run
    from concurrent.futures import Future
    from dataclasses import replace

    from scheduling.explain import start_joint_check

    region = _wide_region(tiny)
    cl = region.clients.copy()
    cl.loc[cl.index[:20], "coach_id"] = None
    region.clients = cl
    intake = start_joint_check(build_problem(region, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg)))
    assert intake.joint_shortfall.result()[0] < 1e-6
    got = solve_core(intake.core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    calls.clear()
    new_problem, _ = complete_unplaced(intake, _drop_one_unit(intake.core, got), time_limit=1.0)
    assert calls == [(0.0, 1.0), (LIGHTEN, 1.0)]
    assert new_problem.core.notes["completed"]["cost_lightened"] is not None
    short_answer = Future()
    short_answer.set_result((1.5, np.ones(intake.catalogue.n_groups)))
    for check in (short_answer, None):
        calls.clear()
        new_problem, _ = complete_unplaced(replace(intake, joint_shortfall=check), _drop_one_unit(intake.core, got), time_limit=1.0)
        assert calls == [(0.0, 1.0)]
        assert new_problem.core.notes["completed"]["cost_lightened"] is None

    # nor where clients are certain to stay out (the count certificate)
    short = build_problem(_wide_region(tiny, n_clients=200), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg))
    assert short.plan is None and short.core.count_multipliers is not None
    got = solve_core(short.core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    assert got.evaluation.unassigned > 0
    calls.clear()
    complete_unplaced(short, got, time_limit=1.0)
    assert calls == [(0.0, 1.0)]


def test_the_lp_over_every_pair_is_rounded_over_the_candidates_plus_its_pairs(tiny):
    """Where the core holds candidate pairs, the bound prices the LP over every eligible pair
    (`SolveResult.lp_all_pairs`); after the search that LP is rounded over a core of the
    candidates plus the pairs it uses (`round_lp_all_pairs`), and kept only when the whole
    objective is lower: then the new core holds both, every pair eligible at the catalogue's
    costs, every capacity holds and the notes say so. A second call adds nothing (the LP's
    pairs are the core's now), and a result without that LP comes back as it was."""
    from scheduling.problem import round_lp_all_pairs
    from scheduling.solve import SolveOptions, evaluate, solve_core

    cfg = ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0)
    problem = build_problem(_wide_region(tiny, n_clients=90), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg))
    core, cat = problem.core, problem.catalogue
    assert problem.plan is None and core.catalogue is cat
    result = solve_core(core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    whole = result.lp_all_pairs
    assert whole is not None and whole.pairs is not None and len(whole.pairs[0]) == len(whole.x)
    keys = set(zip(core.pair_item.tolist(), core.pair_agent.tolist()))
    used = [(int(i), int(a)) for i, a, v in zip(*whole.pairs, whole.x) if v > 1e-9]
    outside = [k for k in used if k not in keys]
    assert outside  # the LP over every pair uses pairs the candidates lack

    worse = _drop_one_unit(core, result)  # a search that did worse than the LP's rounding
    new_problem, new_result = round_lp_all_pairs(problem, worse)
    new_core = new_problem.core
    ev = new_result.evaluation
    note = new_core.notes["lp_all_pairs_rounded"]
    assert note["kept"] and note["pairs_added"] == len(outside) and note["objective_before"] == worse.evaluation.objective
    assert ev.objective == note["objective"] < worse.evaluation.objective and ev.feasible and not ev.overload.any()
    assert evaluate(new_core, new_result.x).objective == ev.objective and new_result.bound == result.bound
    new_keys = set(zip(new_core.pair_item.tolist(), new_core.pair_agent.tolist()))
    assert keys <= new_keys and set(outside) <= new_keys and len(new_keys) == len(keys) + len(outside)
    for i, a in zip(new_core.pair_item, new_core.pair_agent):
        assert a in cat.agents_of(int(cat.item_group[i]))
    np.testing.assert_array_equal(cat.cost(new_core.pair_item, new_core.pair_agent), new_core.pair_cost)
    parts = new_problem.parts
    np.testing.assert_array_equal(parts["handover"] + parts["sector"] + parts["travel"] + parts["language"], new_core.pair_cost)
    assert problem.core is core and "lp_all_pairs_rounded" not in core.notes  # the input is not changed

    again = round_lp_all_pairs(new_problem, new_result)
    assert again[0] is new_problem and again[1] is new_result
    worse.lp_all_pairs = None
    same = round_lp_all_pairs(problem, worse)
    assert same[0] is problem and same[1] is worse

    # run_optimisation tries it after the search, and the proposal reports it
    proposal = run_optimisation(_wide_region(tiny, n_clients=90), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=3, config=cfg))
    tried = proposal.solver["lp_all_pairs_rounded"]
    assert tried["pairs_added"] == len(outside)
    assert tried["kept"] == (tried["objective"] < tried["objective_before"])
    assert proposal.solver["objective"] <= min(tried["objective"], tried["objective_before"])


def test_run_optimisation_completes_what_the_search_left_out_and_the_proposal_follows(tiny, monkeypatch):
    """End to end: a search that leaves a client out (patched) is completed before the
    proposal is built, so the proposal places the client, on an eligible coach, and its
    solver figures say so."""
    import scheduling.solve as solve_mod

    real = solve_mod.solve_core

    def leaves_one_out(core, options=None, progress=None):
        worse = _drop_one_unit(core, real(core, options, progress))
        worse.lp_all_pairs = None  # its rounding (`round_lp_all_pairs`) would place everyone first
        return worse

    monkeypatch.setattr(solve_mod, "solve_core", leaves_one_out)
    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    heard = []
    proposal = run_optimisation(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=3, config=cfg),
                                progress=lambda d, t, msg: heard.append(msg))
    assert any("1 more placed" in msg for msg in heard)  # the bar ends with the figures the proposal has
    done = proposal.solver["completed"]
    assert done["unassigned_before"] == 1 and done["unassigned"] == 0
    assert proposal.after["summary"]["unassigned"] == 0 and not proposal.unassigned
    assert proposal.solver["objective"] < done["objective_before"]


def test_a_rebalance_with_the_time_for_it_keeps_every_eligible_pair(tiny):
    """Candidates are pruned only where the eligible pairs exceed `all_pairs_per_second` per
    second of the time limit: otherwise the core holds every eligible pair (its own LP is the
    whole one, no catalogue on the core) and the completion can still rebuild it. An intake
    or a what-if keeps its candidates."""
    region = _wide_region(tiny)
    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1)
    dense = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=30, config=cfg))
    n = dense.catalogue.n_pairs
    assert dense.core.n_pairs == n and dense.core.catalogue is None
    short = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=0.9 * n / cfg.all_pairs_per_second, config=cfg))
    never = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=30, config=ScheduleConfig(
        candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)))
    for pruned in (short, never):
        assert pruned.core.n_pairs < n and pruned.core.catalogue is pruned.catalogue
    released = _wide_region(tiny)
    released.clients = released.clients.assign(coach_id=None)
    intake = build_problem(released, "intake", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=30, config=cfg))
    assert intake.core.n_pairs < intake.catalogue.n_pairs
    what_if = build_problem(region, "what_if", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=30, config=cfg,
                                                               coach_leaves=["C00", "C01", "C02"]))
    assert what_if.core.n_pairs < what_if.catalogue.n_pairs
    rebuilt, _, _ = dense.with_fillings([(dense.core.pair_item[:3], dense.core.pair_agent[:3], np.ones(3, dtype=np.int64))])
    np.testing.assert_array_equal(rebuilt.pair_item, dense.core.pair_item)  # no pair twice
    np.testing.assert_array_equal(rebuilt.pair_agent, dense.core.pair_agent)


def test_a_core_of_every_pair_gets_the_certified_count_as_an_lp_row(tiny):
    """Where the core holds every eligible pair and clients must stay out, building gives it
    the certified count (the rounded-up `shortfall`) as the LP row "at least k unassigned",
    which raises the LP's bound."""
    region = _wide_region(tiny, n_coaches=9, n_clients=70)
    core = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE)).core
    assert core.catalogue is None
    short, _ = shortfall(build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE)).catalogue,
                         core.multiplicity, core.capacity)
    assert short > 0.5 and core.min_unassigned == int(np.ceil(short - 1e-6))
    assert solve_lp(core).bound > solve_lp(core.with_changes(min_unassigned=0)).bound + 1.0


def test_run_optimisation_completes_over_a_core_of_every_pair(tiny, monkeypatch):
    """The completion after the search also runs where the core holds every eligible pair
    (no candidates): a search that leaves a client out (patched) gets them placed."""
    import scheduling.solve as solve_mod

    real = solve_mod.solve_core

    def leaves_one_out(core, options=None, progress=None):
        assert core.catalogue is None
        return _drop_one_unit(core, real(core, options, progress))

    monkeypatch.setattr(solve_mod, "solve_core", leaves_one_out)
    proposal = run_optimisation(_wide_region(tiny), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=3))
    done = proposal.solver["completed"]
    assert done["unassigned_before"] == 1 and done["unassigned"] == 0
    assert proposal.after["summary"]["unassigned"] == 0 and proposal.solver["objective"] < done["objective_before"]


def test_lp_row_for_certified_unassigned_units_raises_the_bound():
    """Two 2-point units, one coach of 3 points: the LP places 1.5 units (bound 5 at 10 per
    unit left out); with the certified "at least 1 unassigned" row it places 1 (bound 10)."""
    from scheduling.core import AssignmentCore

    core = AssignmentCore(multiplicity=[1, 1], pair_item=[0, 1], pair_agent=[0, 0], pair_cost=[0, 0],
                          usage=[[2, 2], [1, 1]], capacity=[[3], [5]], resource_names=("points", "clients"),
                          unassigned_cost=np.array([10, 10]))
    assert abs(solve_lp(core).bound - 5.0) < 1e-6
    assert abs(solve_lp(core.with_changes(min_unassigned=1)).bound - 10.0) < 1e-6


def test_whole_lp_bound_carries_the_certified_count_of_unassigned(tiny):
    """Where the LP leaves clients out, the bound over every eligible pair has the row "at
    least k unassigned", k the rounded-up `shortfall`; the bound is at least the LP's without
    it and at most the objective found."""
    from scheduling.solve import SolveOptions, catalogue_lp_bound, solve_core

    region = _wide_region(tiny, n_coaches=9, n_clients=70)
    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    core = build_problem(region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg)).core
    short, _ = shortfall(core.catalogue, core.multiplicity, core.capacity)
    assert short > 0.5
    result = solve_core(core, SolveOptions(time_limit=4, work_budget=1.0, deterministic=True))
    k = core.notes["bound"]["lp_all_pairs_count_cut"]
    assert k == int(np.ceil(short - 1e-6))
    without = catalogue_lp_bound(core, 8)
    with_row = catalogue_lp_bound(core, 8, min_unassigned=k)
    assert with_row.bound > without.bound + 1.0  # the LP left a fraction of a client more out
    assert result.bound >= with_row.integer_bound
    assert result.bound <= result.evaluation.objective


def test_a_pricing_round_out_of_time_keeps_the_rounds_before_it(tiny, monkeypatch):
    """Column generation whose second LP fails (its time limit, here patched) keeps the
    first round: a finite bound, corrected for the pairs not priced yet, so at most the
    fully priced LP's, and said to be not fully priced."""
    import scheduling.lp as lp_mod
    import scheduling.problem as problem_mod
    from scheduling.solve import catalogue_lp_bound

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=1, room_candidates=0, all_pairs_per_second=0))
    core = build_problem(_wide_region(tiny, n_coaches=24, n_clients=120), "full", opts).core.with_changes(balance=None)
    full = catalogue_lp_bound(core, 30)
    assert full.rounds >= 2 and full.status == "optimal"
    real = lp_mod._KeptLP.run
    calls = []

    def second_fails(self, time_limit):
        calls.append(1)
        optimal = real(self, time_limit)
        return optimal and len(calls) != 2  # the second as HiGHS reports a time limit

    monkeypatch.setattr(lp_mod._KeptLP, "run", second_fails)
    cut = catalogue_lp_bound(core, 30)
    assert cut is not None and cut.rounds == 1 and cut.status == "optimal, not fully priced"
    assert math.isfinite(cut.bound) and cut.bound <= full.bound + 1e-6


def test_whole_lp_that_does_not_solve_falls_back_to_the_climb(tiny, monkeypatch):
    """Below the plan's scale, when not even the first round of the LP over every eligible
    pair finishes (patched), the bound still climbs (its figures say so) and stays valid."""
    import scheduling.solve as solve_mod
    from scheduling.solve import SolveOptions, solve_core

    cfg = ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    core = build_problem(_wide_region(tiny, n_coaches=9, n_clients=70), "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, config=cfg)).core
    monkeypatch.setattr(solve_mod, "catalogue_lp_bound", lambda *a, **k: None)
    # wall-clock: there the LP over every pair replaces the climb (deterministic runs climb first)
    result = solve_core(core, SolveOptions(time_limit=3, deterministic=False))
    figures = core.notes["bound"]
    assert "lagrangian_climbed" in figures and "lp_all_pairs" not in figures
    assert figures["count_cut"] >= 1  # the certified count of unassigned rides along
    assert math.isfinite(result.bound) and result.bound <= result.evaluation.objective


def test_a_full_rebalance_where_clients_must_stay_out_starts_from_the_placement_plan(tiny):
    """From `full_plan_min_pairs` eligible pairs a full rebalance takes the placement plan
    when the count certificate says some clients must stay out, whether the core keeps
    candidates or every pair (then the certified count is a row of the core's LP, whose
    catalogue bound is not needed); not where everyone fits, not below the size, not in an
    intake. The proposal then leaves out no more than the certified count."""
    short_region = _wide_region(tiny, n_coaches=9, n_clients=70)
    plan_always = ScheduleConfig(full_plan_min_pairs=0)

    def built(region, mode="full", **cfg):
        return build_problem(region, mode, ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=3, config=ScheduleConfig(**cfg)))

    every_pair = built(short_region, full_plan_min_pairs=0)
    assert every_pair.plan is not None and every_pair.core.catalogue is None
    assert every_pair.plan.fewest_units > 0 and every_pair.core.min_unassigned == every_pair.plan.fewest_units
    pruned = built(short_region, full_plan_min_pairs=0, candidates_per_client=2, room_candidates=1, all_pairs_per_second=0)
    assert pruned.plan is not None and pruned.core.catalogue is pruned.catalogue
    assert pruned.core.count_multipliers is not None and pruned.core.min_unassigned == 0
    assert built(short_region).plan is None  # 9 coaches x 70 clients: far below 20 000 pairs
    assert built(short_region, "intake", full_plan_min_pairs=0).plan is None
    fits = _wide_region(tiny, n_coaches=30, n_clients=70)
    assert shortfall(built(fits).catalogue, built(fits).core.multiplicity, built(fits).core.capacity)[0] < 0.5
    assert built(fits, full_plan_min_pairs=0).plan is None

    proposal = run_optimisation(short_region, "full", ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=3, config=plan_always))
    assert "placement" in proposal.solver
    assert proposal.after["summary"]["unassigned"] == every_pair.plan.fewest_units


def _two_scale_instance(seed: int):
    """60 groups of 3-11 units, 100-449 points each (caseload points x 100, as the problem
    holds them) and one client, 3-6 of 12 coaches eligible, random costs: the points rows are
    ~100 times the client rows. Returns (catalogue, multiplicity, capacity, unassigned cost,
    the LP optimum over every pair), the LP being the Lagrangian dual's optimum."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    rng = np.random.default_rng(seed)
    G, m = 60, 12
    pts = rng.integers(100, 450, G)
    mult = rng.integers(3, 12, G)
    agents = [np.sort(rng.choice(m, rng.integers(3, 7), replace=False)) for _ in range(G)]
    cost = rng.integers(0, 300, (G, m))
    cat = _catalogue(pts, agents, cost=cost)
    capacity = np.vstack([np.full(m, int((pts * mult).sum() / m * 0.97)), np.full(m, int(mult.sum() / m * 1.02))])
    ucost = np.full(G, 5000)
    y_g = np.repeat(np.arange(G), [len(a) for a in agents])
    y_a = np.concatenate(agents)
    Y = len(y_g)
    a_eq = sp.coo_matrix((np.ones(Y + G), (np.concatenate([y_g, np.arange(G)]), np.arange(Y + G))), shape=(G, Y + G))
    a_ub = sp.vstack([sp.coo_matrix((pts[y_g].astype(float), (y_a, np.arange(Y))), shape=(m, Y + G)),
                      sp.coo_matrix((np.ones(Y), (y_a, np.arange(Y))), shape=(m, Y + G))])
    lp = linprog(np.concatenate([cost[y_g, y_a], ucost]).astype(float), A_ub=a_ub, b_ub=capacity.ravel().astype(float),
                 A_eq=a_eq, b_eq=mult.astype(float), method="highs")
    assert lp.status == 0
    return cat, mult, capacity, ucost, lp.fun


@pytest.mark.parametrize("seed", range(4))
def test_ascend_reaches_the_lp_where_points_and_clients_differ_in_scale(seed):
    """The climb works in multipliers per unit's usage, so the points rows (hundreds per
    client) and the client rows (one) climb alike: 200 iterations per temperature from zero
    end within 0.05 % of the LP (the Lagrangian dual's optimum). Climbing in the raw
    multipliers ended 0.1-3 % below it on these instances (0.07-1.4 % after 300). The
    multipliers returned are those of the best true value met, never below the start."""
    cat, mult, capacity, ucost, lp = _two_scale_instance(seed)
    zero = np.zeros(capacity.shape)
    start, _ = cat.lagrangian(zero, mult, ucost, capacity)
    lam, _ = cat.ascend(zero, mult, ucost, capacity, iterations=200)
    climbed, _ = cat.lagrangian(lam, mult, ucost, capacity)
    assert start < lp - 30_000  # far below: the climb has the whole way to go
    assert lp * (1 - 5e-4) <= climbed <= lp + 1e-6 * lp
    assert (lam >= 0).all()
    # from the climbed multipliers a short climb never returns worse ones
    again, _ = cat.ascend(lam, mult, ucost, capacity, iterations=3)
    assert cat.lagrangian(again, mult, ucost, capacity)[0] >= climbed - 1e-6


def test_lp_start_prices_the_core_pairs_from_each_class_cheapest(tiny, monkeypatch):
    """`lp_start` solves the LP over the core's pairs by column generation from each class's
    two cheapest pairs and the start's (at 50k, `--seed 3`: 9.7 s against 15.0 s solved
    whole): the same optimum as the LP over all of them, its first round over fewer columns,
    and its model kept for the pricing over every eligible pair."""
    import scheduling.problem as problem_mod
    import scheduling.solve as solve_mod
    from scheduling.solve import SolveOptions, lp_start

    monkeypatch.setattr(problem_mod, "PLACEMENT_MIN_PAIRS", 0)
    monkeypatch.setattr(SolveOptions, "lp_max_pairs", 0)
    opts = ScheduleOptions(plan_date=tiny.PLAN_DATE, time_limit=4, config=ScheduleConfig(candidates_per_client=2, room_candidates=1, all_pairs_per_second=0))
    core = build_problem(_wide_region(tiny), "full", opts).core
    first_rounds = []
    real = solve_mod.solve_lp

    def recording(c, *args, **kwargs):
        first_rounds.append(len(kwargs["candidates"]) if kwargs.get("candidates") is not None else c.n_pairs)
        return real(c, *args, **kwargs)

    monkeypatch.setattr(solve_mod, "solve_lp", recording)
    lp, fill, figures = lp_start(core)
    whole = real(core.with_changes(balance=None))
    assert lp.status == "optimal" and abs(lp.bound - whole.bound) <= 1e-6 * max(1.0, abs(whole.bound))
    assert first_rounds[0] < core.n_pairs and lp.model is not None
    assert len(lp.x) == core.n_pairs and figures["lp"] == round(lp.bound, 1)
