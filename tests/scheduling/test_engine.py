"""The assignment engine on generalised assignment problems: reading OR-Library files, the LP
bound, column generation, the LNS path, the branch-and-cut and the price-and-dive beside it
(knapsack columns against brute force, the master's bound and the dives against the exact
optimum), and a verified solution of a real instance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from scheduling import pricing
from scheduling.core import AssignmentCore, Balance, evaluate
from scheduling.gap import GapInstance, check_solution, gap_core, parse_gap, read_gap
from scheduling.lp import solve_lp, solve_mip
from scheduling.solve import SolveOptions, solve_core

TINY = """2 3
 1 5 3
 4 2 3
 2 2 2
 2 2 2
 4 2
"""


def _random_gap(m: int, n: int, seed: int, tight: float = 0.8) -> GapInstance:
    rng = np.random.default_rng(seed)
    w = rng.integers(5, 26, size=(m, n))
    c = rng.integers(10, 51, size=(m, n))
    cap = np.full(m, int(tight * w.sum() / m / m) + 1)
    return GapInstance("rand", c, w, cap)


def _agent_of_job(core, x):
    out = np.full(core.n_items, -1)
    out[core.pair_item[x > 0]] = core.pair_agent[x > 0]
    return out


def test_parse_and_brute_force_optimum():
    inst = parse_gap(TINY, "tiny")
    assert (inst.m, inst.n) == (2, 3) and inst.capacity.tolist() == [4, 2]
    best = min(
        check_solution(inst, np.array(a)) for a in itertools.product(range(2), repeat=3)
        if np.bincount(a, weights=inst.weight[list(a), range(3)], minlength=2).tolist() <= [4, 2]
        and all(np.bincount(a, weights=inst.weight[list(a), range(3)], minlength=2) <= inst.capacity)
    )
    res = solve_core(gap_core(inst), SolveOptions(time_limit=5))
    assert res.evaluation.feasible and res.objective == best and res.bound == best


def test_parse_errors_are_clear():
    with pytest.raises(ValueError, match="2 agents x 3 jobs, so 16 numbers are expected, found 15"):
        parse_gap(TINY.rsplit(" ", 2)[0] + " 4", "cut")
    with pytest.raises(ValueError, match="non-integer"):
        parse_gap("2 x", "bad")


def test_lp_bound_and_column_generation_agree():
    core = gap_core(_random_gap(8, 80, seed=1))
    full = solve_lp(core)
    # start the LP from each job's two cheapest agents; pricing must recover the same bound
    order = np.lexsort((core.pair_cost, core.pair_item))
    rank = np.arange(core.n_pairs) - core.item_start[core.pair_item[order]]
    cand = order[rank < 2]
    cg = solve_lp(core, candidates=cand)
    assert cg.rounds > 1 and cg.columns < core.n_pairs
    assert abs(cg.bound - full.bound) < 1e-6 * abs(full.bound)


def test_pricing_rounds_start_from_the_last_basis():
    """The LP stays in HiGHS between the rounds of pricing: the second round, from the first
    round's basis with the priced columns added, takes fewer simplex iterations than a cold
    solve of the same columns, and ends at the same value."""
    core = gap_core(_random_gap(20, 400, seed=1))
    order = np.lexsort((core.pair_cost, core.pair_item))
    cand = order[np.arange(core.n_pairs) - core.item_start[core.pair_item[order]] < 2]
    first = solve_lp(core, candidates=cand, max_rounds=1)
    priced = np.setdiff1d(np.flatnonzero(first.reduced_cost < -1e-7), cand)
    assert len(priced)
    cold = solve_lp(core, candidates=np.union1d(cand, priced), max_rounds=1)
    warm = solve_lp(core, candidates=cand, max_rounds=2)
    assert len(cold.iterations) == 1 and len(warm.iterations) == 2
    assert warm.iterations[1] < cold.iterations[0]
    assert warm.columns == cold.columns
    # both not fully priced after those rounds: compare the restricted LPs' optimum through x
    assert abs(float(core.pair_cost @ warm.x) - float(core.pair_cost @ cold.x)) < 1e-6 * float(core.pair_cost @ cold.x)


def test_column_generation_cut_short_keeps_a_valid_bound():
    """When pricing stops early (rounds or time), the bound is the restricted LP corrected by
    each job's most negative reduced cost outside it, times its multiplicity: still below
    the full LP, and tighter than charging every negative pair."""
    core = gap_core(_random_gap(8, 80, seed=1))
    full = solve_lp(core)
    order = np.lexsort((core.pair_cost, core.pair_item))
    rank = np.arange(core.n_pairs) - core.item_start[core.pair_item[order]]
    cand = order[rank < 2]
    for short in (solve_lp(core, candidates=cand, max_rounds=1), solve_lp(core, candidates=cand, time_limit=0.0)):
        assert short.rounds == 1 and short.status == "optimal, not fully priced"
        outside = np.ones(core.n_pairs, dtype=bool)
        outside[cand] = False
        rc = np.minimum(short.reduced_cost, 0.0)
        worst = np.zeros(core.n_items)
        np.minimum.at(worst, core.pair_item[outside], rc[outside])
        restricted = short.bound - float(worst.sum())
        every_pair = restricted + float(rc[outside].sum())
        assert every_pair < short.bound <= full.bound + 1e-6
        assert restricted > full.bound + 1e-6  # two columns per job miss the optimum: a real correction


def test_column_generation_cut_short_keeps_its_best_round():
    """Each round's corrected value is a valid bound, and a later round can correct to less
    (here 4 592.67 after two rounds, 4 591.67 after three): the bound is the best round's,
    so more rounds never report less, and it stays below the fully priced LP (4 596.33)."""
    rng = np.random.default_rng(50)
    n, m = 20, 5
    items, agents = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    cost, pts, cap = rng.integers(0, 60, size=n * m), rng.integers(1, 4, size=n), rng.integers(4, 9, size=m) * n // 12
    core = AssignmentCore(
        multiplicity=rng.integers(1, 3, size=n), pair_item=items, pair_agent=agents, pair_cost=cost,
        usage=np.vstack([pts[items], np.ones(n * m, dtype=np.int64)]), capacity=np.vstack([cap, np.full(m, 8 * n // 12)]),
        resource_names=("points", "clients"), unassigned_cost=np.full(n, 500),
        balance=Balance(resource=0, denominator=cap, team=np.arange(m) % 2, w_max=4, w_spread=2, w_team_spread=2))
    order = np.lexsort((core.pair_cost, core.pair_item))
    cand = order[np.arange(core.n_pairs) - core.item_start[core.pair_item[order]] < 1]  # each item's cheapest pair
    full = solve_lp(core)
    cut = [solve_lp(core, candidates=cand, max_rounds=k) for k in (1, 2, 3)]
    bounds = [r.bound for r in cut]
    assert [r.status for r in cut] == ["optimal, not fully priced"] * 3
    assert bounds[0] < bounds[1] <= bounds[2] <= full.bound + 1e-6
    assert abs(bounds[2] - 4592.67) < 0.01 and abs(full.bound - 4596.33) < 0.01


def test_lp_with_a_coach_outside_the_balance_that_still_holds_clients():
    """An absent coach (no balance denominator) may still hold fixed clients (intake keeps
    them where they are): the LP must not read their load as a balance row it can never meet."""
    core = AssignmentCore(
        multiplicity=np.array([1, 1]), pair_item=np.array([0, 0, 1, 1]), pair_agent=np.array([0, 1, 0, 1]),
        pair_cost=np.array([1, 3, 3, 1]), usage=np.array([[1, 1, 1, 1]]), capacity=np.array([[2, 2, 0]]),
        resource_names=("points",), unassigned_cost=np.array([100_000, 100_000]),
        balance=Balance(resource=0, denominator=np.array([4, 4, 0]), team=np.array([-1, -1, -1]), w_max=10, w_spread=10),
        base_load=np.array([0, 0, 5]))
    lp = solve_lp(core)
    best = solve_core(core, SolveOptions(time_limit=2, deterministic=True))
    assert lp.status == "optimal" and math.isfinite(lp.bound)
    assert best.objective == 2 + 10 * 250  # each client with its cheap coach: both at 250 per mille
    assert lp.bound <= best.objective and lp.integer_bound == best.objective


def test_lns_path_gives_verified_solution_above_bound():
    inst = _random_gap(10, 100, seed=2, tight=0.95)
    core = gap_core(inst)
    res = solve_core(core, SolveOptions(time_limit=4, seed=5, direct_pairs=0, polish_pairs=0))
    assert res.iterations > 5  # the large-neighbourhood search ran
    assert res.evaluation.feasible
    cost = check_solution(inst, _agent_of_job(core, res.x))
    assert cost == res.objective >= res.bound
    assert res.gap < 0.05


def test_deterministic_branch_and_cut_never_runs_past_the_solve_limit(monkeypatch):
    """Small cores in deterministic mode get HiGHS's branch-and-cut first, node-limited, with
    a time limit as a safety net: never more than the solve's own time left (a 6 s residual
    of the 20k placement plan used to run 30 s in it)."""
    import scheduling.solve as solve_mod

    limits = []
    real = solve_mod.solve_mip

    def recording(core, time_limit, node_limit=None):
        limits.append(time_limit)
        return real(core, time_limit=time_limit, node_limit=node_limit)

    monkeypatch.setattr(solve_mod, "solve_mip", recording)
    core = gap_core(_random_gap(8, 80, seed=1))
    res = solve_core(core, SolveOptions(time_limit=3, deterministic=True, direct_pairs=100))
    assert len(limits) == 1 and limits[0] <= 3
    assert res.evaluation.feasible


def test_lns_sub_problems_are_exactly_one_once_everything_is_placed(monkeypatch):
    # a mandatory assignment (pure GAP): once the search holds a solution that places every
    # job, its sub-problems come from the mandatory core, so CP-SAT sees exactly-one rows and
    # no priced way out (on d801600 this took the gap to best-known from 0.72 % to 0.27 %)
    import scheduling.solve as solve_mod

    built = []
    real = solve_mod.build_cpsat

    def recording(core, hint=None):
        built.append((core.name, core.unassigned_cost is None))
        return real(core, hint=hint)

    monkeypatch.setattr(solve_mod, "build_cpsat", recording)
    inst = _random_gap(10, 100, seed=2, tight=0.95)
    core = gap_core(inst)
    # the LNS gets the whole time (a pure GAP otherwise hands most of it to CP-SAT whole)
    res = solve_core(core, SolveOptions(time_limit=3, seed=5, direct_pairs=0, mip_pairs=0, lns_share=1.0))
    assert res.evaluation.feasible
    lns = [exact for name, exact in built if name.endswith("/lns")]
    assert len(lns) > 5
    # every sub-problem built from the first one with everything placed has no unassigned option
    assert True in lns, lns
    assert all(lns[lns.index(True):]), lns
    assert check_solution(inst, _agent_of_job(core, res.x)) == res.objective >= res.bound


def test_unplaceable_job_reported_infeasible():
    inst = GapInstance("over", np.ones((2, 3), dtype=np.int64), np.full((2, 3), 3), np.array([3, 3]))
    res = solve_core(gap_core(inst), SolveOptions(time_limit=2))
    assert not res.evaluation.feasible and res.evaluation.unassigned == 1


def test_deterministic_lns():
    core = gap_core(_random_gap(10, 100, seed=4))
    opts = SolveOptions(time_limit=20, seed=9, deterministic=True, work_budget=0.4, direct_pairs=0, polish_pairs=0,
                         mip_exact_pairs=0)
    a, b = solve_core(core, opts), solve_core(core, opts)
    assert np.array_equal(a.x, b.x) and a.iterations == b.iterations


def test_mip_of_the_core_is_exact():
    # the MIP form has the core's rows: on a tight random instance HiGHS proves the optimum
    # that CP-SAT proves on the whole model
    inst = _random_gap(4, 16, seed=3, tight=0.9)
    core = gap_core(inst)
    mip = solve_mip(core, time_limit=30)
    exact = solve_core(core, SolveOptions(time_limit=30, direct_pairs=10_000))
    assert exact.status == "optimal"
    assert mip.objective == exact.objective == math.ceil(mip.bound - 1e-6)
    assert check_solution(inst, _agent_of_job(core, mip.x)) == exact.objective
    # with unassigned units allowed and two units per item, the same holds
    pair = core.with_changes(multiplicity=np.full(core.n_items, 2), capacity=core.capacity + 10,
                             unassigned_cost=np.full(core.n_items, 60))
    mip2 = solve_mip(pair, time_limit=30)
    exact2 = solve_core(pair, SolveOptions(time_limit=30, direct_pairs=10_000))
    assert exact2.status == "optimal" and exact2.evaluation.unassigned > 0
    assert mip2.objective == exact2.objective == evaluate(pair, mip2.x).objective


def test_branch_and_cut_runs_beside_the_search():
    # 20 jobs per agent: no price-and-dive (see below), so HiGHS's branch-and-cut runs beside
    inst = _random_gap(5, 100, seed=2, tight=0.95)
    core = gap_core(inst)
    assert not pricing.applies(core)
    res = solve_core(core, SolveOptions(time_limit=4, seed=1, mip_min_seconds=1))
    assert res.mip is not None and res.mip["objective"] is not None, res.mip
    # the better of the two is kept, and HiGHS's bound counts
    assert res.objective <= res.mip["objective"]
    assert res.bound >= math.ceil(res.mip["bound"] - 1e-6)
    assert check_solution(inst, _agent_of_job(core, res.x)) == res.objective >= res.bound
    assert res.stats()["mip"] == res.mip
    # deterministic mode: first, in this process, limited in nodes; same input, same result
    det = [solve_core(core, SolveOptions(time_limit=4, seed=1, deterministic=True, work_budget=0.3, mip_nodes=20))
           for _ in range(2)]
    assert det[0].mip is not None and det[0].mip["objective"] is not None
    assert np.array_equal(det[0].x, det[1].x) and det[0].mip == {**det[1].mip, "seconds": det[0].mip["seconds"]}
    assert det[0].objective <= det[0].mip["objective"]
    assert check_solution(inst, _agent_of_job(core, det[0].x)) == det[0].objective >= det[0].bound


def test_branch_and_cut_on_a_caseload_core():
    # a generated region's full rebalance (balance rows, unassigned option, multiplicities):
    # the MIP is the same problem, up to the per-mille rounding of the balance levels
    from plein.generator import generate_region
    from scheduling.problem import ScheduleOptions, build_problem

    region = generate_region(300, seed=3)
    core = build_problem(region, "full", ScheduleOptions(plan_date=region.as_of(), time_limit=10)).core
    assert core.balance is not None and core.balance.active and core.unassigned_cost is not None
    mip = solve_mip(core, time_limit=60)
    assert "Optimal" in mip.status, mip.status
    ev = evaluate(core, mip.x)
    assert ev.feasible and not ev.overload.any()
    # the MIP's balance levels are continuous; the evaluation rounds each to whole per-mille
    # (the max up, the min down), which costs less than one per-mille per level and term
    b = core.balance
    rounding = b.w_max + 2 * (b.w_spread + b.w_team_spread)
    assert 0 <= ev.objective - mip.objective < rounding
    assert math.ceil(mip.bound - 1e-6) <= ev.objective
    # beside the search, the better of the two is kept: whatever the second process reached in
    # the time (on a loaded machine it may not reach the optimum above), the result is no
    # worse than its solution, evaluated as above
    res = solve_core(core, SolveOptions(time_limit=10, seed=1, mip_min_seconds=1))
    assert res.mip is not None and res.mip["objective"] is not None, res.mip
    assert res.evaluation.feasible
    assert res.objective < res.mip["objective"] + rounding
    assert res.bound <= ev.objective


def _child_with(monkeypatch, target: str, message: str, core):
    """The second process's body run here, with `target` replaced by one that raises."""
    import multiprocessing as mp

    from scheduling.solve import _mip_child

    def broken(*args, **kwargs):
        raise MemoryError(message)

    monkeypatch.setattr(target, broken)
    recv, send = mp.Pipe(duplex=False)
    _mip_child(core, 0.0, 0, send)
    return recv.recv()


def test_branch_and_cut_failure_is_reported_not_raised(monkeypatch):
    # the second process's body: an error becomes a result that says so
    got = _child_with(monkeypatch, "scheduling.solve.solve_mip", "no room for the MIP", gap_core(_random_gap(2, 30, seed=1)))
    assert got.x is None and got.status == "failed: no room for the MIP"
    # and when no result comes in time, the search goes on alone and says so
    class Silent:  # a second process that never answers
        def collect(self, timeout):
            return None

    monkeypatch.setattr("scheduling.solve._MIPBeside.start", classmethod(lambda cls, core, options: Silent()))
    inst = _random_gap(10, 100, seed=2, tight=0.95)
    core = gap_core(inst)
    res = solve_core(core, SolveOptions(time_limit=3, seed=1, mip_min_seconds=1))
    assert res.mip == {"status": "no result in time"}
    assert res.evaluation.feasible
    assert check_solution(inst, _agent_of_job(core, res.x)) == res.objective >= res.bound


def test_or_library_instance(shared_data):
    inst = read_gap(shared_data / "gap" / "c05100.zip")
    assert (inst.m, inst.n) == (5, 100)
    core = gap_core(inst)
    res = solve_core(core, SolveOptions(time_limit=5, seed=0))
    cost = check_solution(inst, _agent_of_job(core, res.x))
    assert cost == res.objective
    assert cost <= 1931 * 1.01  # best known 1931
    assert evaluate(core, res.x).feasible


# ------------------------------------------------------------------ price-and-dive (pricing.py)
def _brute_knapsack(profit, weight, cap):
    best = 0.0
    for mask in itertools.product((0, 1), repeat=len(profit)):
        sel = np.array(mask, dtype=bool)
        if weight[sel].sum() <= cap:
            best = max(best, float(profit[sel].sum()))
    return best


def test_knapsack_columns_are_optimal_and_within_capacity():
    rng = np.random.default_rng(3)
    profit = rng.normal(2.0, 3.0, size=(5, 11))
    weight = rng.integers(1, 9, size=(5, 11))
    cap = rng.integers(8, 25, size=5)
    cols = pricing.knapsack_columns(profit, weight, cap, k=3)
    for r in range(5):
        assert cols[r], "every row has items with positive profit"
        items, value = cols[r][0]
        assert value == pytest.approx(_brute_knapsack(profit[r], weight[r], cap[r]))
        for items, value in cols[r]:
            assert weight[r, items].sum() <= cap[r]
            assert (profit[r, items] > 0).all()  # an item that costs more than it brings is never taken
            assert profit[r, items].sum() == pytest.approx(value)
        values = [v for _, v in cols[r]]
        assert values == sorted(values, reverse=True) and len(set(values)) == len(values)


def test_knapsack_columns_take_nothing_without_profit():
    cols = pricing.knapsack_columns(-np.ones((2, 4)), np.ones((2, 4), dtype=np.int64), np.array([3, 3]))
    assert cols == [[], []]


def _exact_optimum(inst):
    res = solve_core(gap_core(inst), SolveOptions(time_limit=60, direct_pairs=100_000))
    assert res.status == "optimal"
    return res.objective


def test_master_bound_and_dive_against_the_optimum():
    inst = _random_gap(6, 30, seed=7, tight=0.9)
    core = gap_core(inst)
    assert pricing.applies(core)
    optimum = _exact_optimum(inst)
    lp = solve_lp(core)
    res = pricing.price_and_dive(core, time_limit=8, seed=1)
    assert res.x is not None, res.status
    assert "price-and-dive" in res.status and "dives" in res.status
    cost = check_solution(inst, _agent_of_job(core, res.x))
    assert cost == res.objective >= optimum
    # the Dantzig-Wolfe (knapsack Lagrangian) bound: valid, and at least the pair LP's
    assert lp.bound - 1e-6 <= res.bound <= optimum + 1e-6
    assert res.objective <= 1.02 * optimum


def test_applies_only_to_the_pure_gap_it_is_fast_on():
    assert pricing.applies(gap_core(_random_gap(20, 100, seed=1)))
    # long columns (20 jobs per agent): the search and the branch-and-cut do better there
    long_columns = gap_core(_random_gap(5, 100, seed=1))
    assert pricing.is_pure_gap(long_columns) and not pricing.applies(long_columns)
    assert pricing.price_and_dive(long_columns, time_limit=1).status == "beyond the column-generation sizes"
    core = gap_core(_random_gap(20, 100, seed=1))
    # an unassigned option, a second resource or multiplicities: not a pure GAP
    assert not pricing.applies(core.with_changes(unassigned_cost=np.full(core.n_items, 50)))
    assert not pricing.applies(core.with_changes(multiplicity=np.full(core.n_items, 2)))
    two = core.with_changes(usage=np.vstack([core.usage, core.usage]), capacity=np.vstack([core.capacity, core.capacity]),
                            resource_names=("points", "clients"))
    assert not pricing.applies(two)
    got = pricing.price_and_dive(two, time_limit=1)
    assert got.x is None and got.status == "not a pure GAP"


def test_caseload_cores_are_not_priced():
    from plein.generator import generate_region
    from scheduling.problem import ScheduleOptions, build_problem

    region = generate_region(300, seed=3)
    core = build_problem(region, "full", ScheduleOptions(plan_date=region.as_of(), time_limit=10)).core
    assert not pricing.is_pure_gap(core) and not pricing.applies(core)


def test_price_and_dive_runs_beside_the_search():
    inst = _random_gap(20, 100, seed=5, tight=0.9)
    core = gap_core(inst)
    res = solve_core(core, SolveOptions(time_limit=12, seed=1, mip_min_seconds=1))
    assert res.mip is not None and "price-and-dive" in res.mip["status"], res.mip
    assert res.mip["objective"] is not None, res.mip
    # the better of the two is kept, and the master's bound counts
    assert res.objective <= res.mip["objective"]
    assert res.bound >= res.mip["bound"]
    assert check_solution(inst, _agent_of_job(core, res.x)) == res.objective >= res.bound


def test_a_failing_price_and_dive_is_reported_not_raised(monkeypatch):
    got = _child_with(monkeypatch, "scheduling.pricing.price_and_dive", "no room for the master",
                      gap_core(_random_gap(20, 100, seed=1)))
    assert got.x is None and got.status == "failed: no room for the master"
    assert not math.isfinite(got.bound)


def test_deterministic_runs_read_no_clock_for_their_path(monkeypatch):
    """Deterministic: the same seed and input give the same result on any machine, so no step
    may stop on the clock. The LNS runs to its share of the work budget (its clock limit is
    the solve's own safety net, not the 35 % split of wall-clock runs: at 50k the plan's
    residual search stopped after 5 or 7 neighbourhoods by the clock, and the plan then left
    201 or 202 clients unassigned); the ejection repair and the Lagrangian bound get no time
    limit; the LPs get the whole limit as a safety net."""
    import scheduling.solve as solve_mod

    seen: dict[str, list] = {"lns": [], "repair": [], "lagrangian": [], "lp": []}
    real_lns, real_repair, real_lag, real_lp = solve_mod._lns, solve_mod.repair_unplaced, solve_mod.lagrangian_bound, solve_mod.solve_lp

    def lns(core, x, ev, bound, lp, options, deadline, *a, **k):
        seen["lns"].append(deadline - time_zero[0])
        return real_lns(core, x, ev, bound, lp, options, deadline, *a, **k)

    def repair(core, x, time_limit=5.0, **k):
        seen["repair"].append(time_limit)
        return real_repair(core, x, time_limit=time_limit, **k)

    def lag(core, upper, time_limit=5.0, **k):
        seen["lagrangian"].append(time_limit)
        return real_lag(core, upper, time_limit=time_limit, **k)

    def lp(core, candidates=None, time_limit=None, **k):
        seen["lp"].append(time_limit)
        return real_lp(core, candidates=candidates, time_limit=time_limit, **k)

    time_zero = [0.0]
    real_clock = solve_mod.time.perf_counter
    monkeypatch.setattr(solve_mod, "_lns", lns)
    monkeypatch.setattr(solve_mod, "repair_unplaced", repair)
    monkeypatch.setattr(solve_mod, "lagrangian_bound", lag)
    monkeypatch.setattr(solve_mod, "solve_lp", lp)
    core = gap_core(_random_gap(10, 100, seed=4, tight=0.9))  # short: units left over
    # beyond the LP's size where not everyone fits (as the placement LP says at scale): the
    # Lagrangian path; then the LP path
    short = core.with_changes(notes={"placement": {"min_unassigned_lp": 1.0}})
    results = []
    for c, lp_max in ((short, 0), (core, 200_000)):
        opts = SolveOptions(time_limit=20, seed=9, deterministic=True, work_budget=0.4, direct_pairs=0,
                            mip_exact_pairs=0, lp_max_pairs=lp_max)
        time_zero[0] = real_clock()
        results.append(solve_core(c, opts))
    assert len(seen["lns"]) == 2 and all(d > 0.9 * 20 for d in seen["lns"])  # not 0.35 x 20
    assert seen["repair"] and all(t is None for t in seen["repair"])
    assert seen["lagrangian"] == [math.inf]
    assert seen["lp"] == [20]
    again = solve_core(short.with_changes(notes={"placement": {"min_unassigned_lp": 1.0}}),
                       SolveOptions(time_limit=20, seed=9, deterministic=True, work_budget=0.4, direct_pairs=0,
                                    mip_exact_pairs=0, lp_max_pairs=0))
    assert np.array_equal(again.x, results[0].x) and again.objective == results[0].objective and again.bound == results[0].bound
