"""Column generation and diving for the pure generalised assignment problem.

The Dantzig-Wolfe master of the GAP has one column per agent and feasible set of jobs (a
*caseload*), and asks that every job is in exactly one chosen column and every agent has at
most one. Its LP is the Lagrangian bound with the assignment rows relaxed (per-agent 0-1
knapsacks), stronger than the LP of the pair model (d20100: 6176 against 6143; the optimum
is about 6185). Columns are priced by a 0-1 knapsack per agent, solved by dynamic programming
for all agents at once (`knapsack_columns`), with dual smoothing (Wentges) and a subgradient
warm-up from the pair LP's duals.

**Diving** (Sadykov, Vanderbeck, Pessoa, Tahiri and Uchoa, "Primal heuristics for
branch-and-price: the assets of diving methods", INFORMS J. Computing 2019): fix the column
with the largest LP value, generate columns again for what is left, repeat; once few agents
are left, CP-SAT solves the rest exactly (the last fixings are where a pure dive loses most).
Each further dive starts with a *discrepancy*: at the top it fixes the next column instead of
the first. On the OR-Library's type-d instances a dive gives solutions the sub-MIP search
(`scheduling.solve`) does not reach in the minute (d20100: 6193-6207 against 6211-6250).

Applies to cores with one resource, every item once and mandatory, no balance terms and no
move cap (`is_pure_gap`), as the benchmark instances are; caseloads have two resources
(points and the client maximum), for which the knapsack would be two-dimensional.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from scheduling.core import AssignmentCore
from scheduling.lp import MIPResult

_EPS = 1e-9
#: the dynamic programme's table (items x agents x capacity) must stay below this many cells
MAX_TABLE = 60_000_000
#: at most this many items (job rows of the master) and items per agent (column length):
#: beyond, HiGHS's simplex on the master slows down and the dives do not pay (measured in
#: 45 s: d30900, 900 jobs, 2 s per master solve and no dive; d10400, 40 per agent, the root
#: alone 23 s; d10200, 20 per agent, 12477 against the search's 12447)
MAX_ITEMS = 400
MAX_ITEMS_PER_AGENT = 10


def is_pure_gap(core: AssignmentCore) -> bool:
    """One resource, every item exactly once and mandatory, no balance terms, no move cap."""
    return (core.unassigned_cost is None and core.n_resources == 1 and core.max_moves is None
            and (core.balance is None or not core.balance.active) and bool((core.multiplicity == 1).all()))


def applies(core: AssignmentCore) -> bool:
    """Column generation fits: a pure GAP whose knapsack tables stay small."""
    if not is_pure_gap(core) or core.catalogue is not None or core.n_pairs == 0:
        return False
    if np.bincount(core.pair_item, minlength=core.n_items).min() == 0:
        return False  # an item without any pair: infeasible, nothing to price
    cap = int(core.capacity.max(initial=0))
    return (0 < cap and core.n_items <= MAX_ITEMS and core.n_items <= MAX_ITEMS_PER_AGENT * core.n_agents
            and core.n_items * core.n_agents * (cap + 1) <= MAX_TABLE)


@dataclass(frozen=True)
class _Dense:
    cost: np.ndarray  # float [m, n], +inf where the pair does not exist
    weight: np.ndarray  # int64 [m, n], capacity + 1 where the pair does not exist
    capacity: np.ndarray  # int64 [m]
    pair: np.ndarray  # int64 [m, n], the pair index or -1


def _dense(core: AssignmentCore) -> _Dense:
    m, n = core.n_agents, core.n_items
    cap = core.capacity[0].astype(np.int64)
    cost = np.full((m, n), np.inf)
    weight = np.repeat((cap + 1)[:, None], n, axis=1)
    pair = np.full((m, n), -1, dtype=np.int64)
    a, j = core.pair_agent, core.pair_item
    cost[a, j] = core.pair_cost
    weight[a, j] = core.usage[0]
    pair[a, j] = np.arange(core.n_pairs)
    return _Dense(cost=cost, weight=weight, capacity=cap, pair=pair)


def knapsack_columns(profit: np.ndarray, weight: np.ndarray, capacity: np.ndarray, k: int = 3) -> list[list[tuple[np.ndarray, float]]]:
    """A 0-1 knapsack per row: items are columns of `profit`/`weight`, entries with profit
    <= 0 are never taken. One dynamic programme over capacity for all rows at once. Returns
    per row up to `k` item sets (best first): the best set within the capacity, then the best
    within each lower capacity that gives a strictly lower value."""
    rows_n, n = profit.shape
    out: list[list[tuple[np.ndarray, float]]] = [[] for _ in range(rows_n)]
    if rows_n == 0 or n == 0:
        return out
    cap_max = int(capacity.max())
    items = np.flatnonzero((profit > _EPS).any(axis=0))
    if len(items) == 0 or cap_max <= 0:
        return out
    dp = np.zeros((rows_n, cap_max + 1))
    take = np.zeros((len(items), rows_n, cap_max + 1), dtype=bool)
    cells = np.arange(cap_max + 1)[None, :]
    rows = np.arange(rows_n)[:, None]
    for t, j in enumerate(items):
        p = profit[:, j]
        src = cells - weight[:, j][:, None]
        cand = dp[rows, np.maximum(src, 0)] + p[:, None]
        better = (src >= 0) & (p[:, None] > _EPS) & (cand > dp + 1e-12)
        take[t] = better
        dp = np.where(better, cand, dp)
    w_items = weight[:, items]
    for r in range(rows_n):
        values = dp[r, : int(capacity[r]) + 1]
        last = math.inf
        for c in range(len(values) - 1, -1, -1):
            if len(out[r]) >= k or values[c] <= _EPS:
                break
            if values[c] >= last - 1e-9:
                continue
            last = values[c]
            chosen, cc = [], c
            for t in range(len(items) - 1, -1, -1):
                if take[t, r, cc]:
                    chosen.append(items[t])
                    cc -= int(w_items[r, t])
            out[r].append((np.array(sorted(chosen), dtype=np.int64), float(values[c])))
    return out


class _Master:
    """The restricted master LP in HiGHS (highspy), kept between solves so each one starts
    from the last basis: job rows (= 1), agent rows (<= 1), an artificial column per job."""

    def __init__(self, dense: _Dense) -> None:
        import highspy

        self.d = dense
        m, n = dense.cost.shape
        self.m, self.n = m, n
        from scheduling.lp import new_highs

        h = new_highs()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)  # primal: new columns keep the basis primal feasible
        inf = highspy.kHighsInf
        empty_i = np.array([], dtype=np.int32)
        h.addRows(n, np.ones(n), np.ones(n), 0, empty_i, empty_i, np.array([]))
        h.addRows(m, np.full(m, -inf), np.ones(m), 0, empty_i, empty_i, np.array([]))
        finite = dense.cost[np.isfinite(dense.cost)]
        big = float(10 * max(1.0, np.abs(finite).max(initial=1.0)) * max(1, n))
        ar = np.arange(n, dtype=np.int32)
        h.addCols(n, np.full(n, big), np.zeros(n), np.full(n, inf), n, ar, ar, np.ones(n))
        self.h = h
        self.agent: list[int] = []
        self.items: list[np.ndarray] = []
        self.cost: list[float] = []
        self._keys: set[tuple[int, bytes]] = set()
        self._bounds_changed = False

    def add(self, agent: int, items: np.ndarray) -> bool:
        items = np.asarray(items, dtype=np.int64)
        key = (int(agent), items.tobytes())
        if len(items) == 0 or key in self._keys:
            return False
        self._keys.add(key)
        c = float(self.d.cost[agent, items].sum())
        self.agent.append(int(agent))
        self.items.append(items)
        self.cost.append(c)
        idx = np.concatenate([items, [self.n + agent]]).astype(np.int32)
        self.h.addCol(c, 0.0, 1.0, len(idx), idx, np.ones(len(idx)))
        return True

    def column(self, k: int) -> int:
        return self.n + k  # the artificial columns come first

    def set_bounds(self, cols: list[int], lo: float, hi: float) -> None:
        if cols:
            idx = np.array([self.column(k) for k in cols], dtype=np.int32)
            self.h.changeColsBounds(len(idx), idx, np.full(len(idx), lo), np.full(len(idx), hi))
            self._bounds_changed = True

    def run(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
        """(value, job duals, agent duals, column values, artificial total)."""
        # after bound changes the basis stays dual feasible (dual simplex); after new columns
        # it stays primal feasible (primal simplex)
        self.h.setOptionValue("simplex_strategy", 1 if self._bounds_changed else 4)
        self._bounds_changed = False
        self.h.run()
        sol = self.h.getSolution()
        dual = np.asarray(sol.row_dual)
        x = np.asarray(sol.col_value)
        return float(self.h.getInfo().objective_function_value), dual[: self.n], dual[self.n:], x[self.n:], float(x[: self.n].sum())

    def generate(self, free_a: np.ndarray, free_j: np.ndarray, deadline: float, pi0: np.ndarray | None = None,
                 value0: float = -math.inf, max_iter: int | None = None, alpha: float = 0.6, per_agent: int = 3,
                 fixed_cost: float = 0.0):
        """Column generation over the free agents and jobs until no column prices out (or the
        Lagrangian value proves the LP to within the integer rounding, or `max_iter`). The
        Lagrangian covers the free part only; `fixed_cost` (the fixed columns' cost, which the
        master's value includes) is added to it for that test. Returns (LP value, column
        values, artificial total, best Lagrangian value of the free part)."""
        d = self.d
        fa = np.flatnonzero(free_a)
        fj = np.flatnonzero(free_j)
        centre = pi0  # the stability centre: the multipliers with the best Lagrangian value so far
        best = value0 if pi0 is not None else -math.inf
        it = 0
        while True:
            it += 1
            value, pi, mu, lam, art = self.run()
            point = pi if centre is None else alpha * centre + (1 - alpha) * pi
            profit = point[fj][None, :] - d.cost[np.ix_(fa, fj)]
            cols = knapsack_columns(profit, d.weight[np.ix_(fa, fj)], d.capacity[fa], per_agent)
            lag = float(point[fj].sum())
            new = 0
            for r, i in enumerate(fa):
                if not cols[r]:
                    continue
                lag -= cols[r][0][1]
                for local, _ in cols[r]:
                    items = fj[local]
                    if d.cost[i, items].sum() - pi[items].sum() - mu[i] < -1e-6 and self.add(int(i), items):
                        new += 1
            if lag > best:
                best, centre = lag, point
            elif centre is None:
                centre = point
            if new == 0:
                if centre is not None and not np.allclose(point, pi):
                    centre = pi  # a mispricing: price at the LP's own duals next
                    continue
                break
            if math.ceil(best + fixed_cost - 1e-6) >= value - 1e-6 or time.perf_counter() >= deadline:
                break
            if max_iter is not None and it >= max_iter:
                break
        if new:
            value, pi, mu, lam, art = self.run()
        return value, lam, art, best

    def subgradient(self, pi0: np.ndarray, target: float, deadline: float, iters: int = 40) -> tuple[np.ndarray, float]:
        """A short subgradient ascent of the knapsack Lagrangian from `pi0`; every knapsack
        solution becomes a column. Returns the best multipliers and value."""
        d = self.d
        pi = pi0.copy()
        best, best_pi, theta, stall = -math.inf, pi.copy(), 1.0, 0
        for _ in range(iters):
            if time.perf_counter() >= deadline:
                break
            cols = knapsack_columns(pi[None, :] - d.cost, d.weight, d.capacity, 2)
            value, g = float(pi.sum()), np.ones(self.n)
            for i in range(self.m):
                if cols[i]:
                    value -= cols[i][0][1]
                    g[cols[i][0][0]] -= 1
                    for items, _ in cols[i]:
                        self.add(i, items)
            if value > best + 1e-6:
                best, best_pi, stall = value, pi.copy(), 0
            else:
                stall += 1
                if stall >= 5:
                    theta, stall = theta / 2, 0
            norm = float((g * g).sum())
            if norm == 0:
                break
            pi = pi + theta * max(1.0, target - value) / norm * g
        return best_pi, best


def price_and_dive(core: AssignmentCore, time_limit: float, seed: int = 0,
                   start: np.ndarray | None = None, rest_agents: int = 8, rest_seconds: float = 10.0,
                   quiet: bool = False) -> MIPResult:
    """Column generation to the master LP's optimum (the bound), then dives until
    `time_limit`; the best dive's solution (quantity per pair) and the Lagrangian bound.
    `start`: a solution (quantity per pair) whose caseloads seed the master (by default the
    engine's LP-rounding start)."""
    from scheduling.core import evaluate

    t0 = time.perf_counter()
    deadline = t0 + time_limit
    if not applies(core):
        why = "not a pure GAP" if not is_pure_gap(core) else "beyond the column-generation sizes"
        return MIPResult(x=None, objective=None, bound=-math.inf, seconds=0.0, status=why)
    if quiet:
        # highspy announces itself on stdout when a solver is made; the child's stdout is the
        # benchmark's JSON line
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    from scheduling.lp import solve_lp
    from scheduling.solve import greedy_start

    lp = solve_lp(core, time_limit=max(1.0, 0.1 * time_limit))
    if start is None and np.isfinite(lp.bound):
        start = greedy_start(core, lp)
    d = _dense(core)
    master = _Master(d)
    m, n = d.cost.shape
    if start is not None:
        used = start > 0
        for i in range(m):
            master.add(i, np.sort(core.pair_item[used & (core.pair_agent == i)]))
    # the LP's duals of the job rows: each job at its cheapest pair priced with the capacity
    # duals (the knapsack Lagrangian at them is at least the LP bound); without an LP, at its
    # cheapest pair
    lp_ok = np.isfinite(lp.bound) and lp.multipliers is not None
    price = lp.multipliers[0][core.pair_agent] * core.usage[0] if lp_ok else 0
    pi0 = np.full(n, np.inf)
    np.minimum.at(pi0, core.pair_item, core.pair_cost + price)
    if lp_ok:
        target = lp.bound * 1.002  # the subgradient's step aims just above the LP bound
    else:
        target = float(core.pair_cost[start > 0].sum()) if start is not None else float(pi0.sum())
    pi, value0 = master.subgradient(pi0, target, deadline=t0 + 0.15 * time_limit)
    all_a, all_j = np.ones(m, dtype=bool), np.ones(n, dtype=bool)
    value, lam, art, lag = master.generate(all_a, all_j, deadline=t0 + 0.5 * time_limit, pi0=pi, value0=value0)
    bound = lag if math.isfinite(lag) else -math.inf
    root_seconds = time.perf_counter() - t0
    rest = min(rest_agents, max(2, m // 3))
    best_x, best_obj, dives = None, None, 0
    while time.perf_counter() < deadline - 1.0:
        x = _dive(core, master, d, discrepancy=dives, rest_agents=rest, rest_seconds=rest_seconds,
                  deadline=deadline, seed=seed)
        dives += 1
        if x is None:
            continue
        ev = evaluate(core, x)
        if ev.feasible and (best_obj is None or ev.objective < best_obj):
            best_x, best_obj = x, int(ev.objective)
    found = "no dive finished" if best_x is None else f"best of {dives} dives"
    status = f"price-and-dive: {found} (master LP {value:.1f} after {root_seconds:.1f} s, {len(master.agent)} columns)"
    return MIPResult(x=best_x, objective=None if best_obj is None else float(best_obj), bound=bound,
                     seconds=time.perf_counter() - t0, status=status)


def _dive(core, master: _Master, d: _Dense, discrepancy: int, rest_agents: int, rest_seconds: float,
          deadline: float, seed: int) -> np.ndarray | None:
    """One dive: fix the column with the largest value (at the top, the `discrepancy`-th),
    generate columns again, repeat; CP-SAT solves the last `rest_agents` agents exactly."""
    m, n = master.m, master.n
    free_a, free_j = np.ones(m, dtype=bool), np.ones(n, dtype=bool)
    fixed: list[int] = []
    zeroed: set[int] = set()
    try:
        depth = 0
        while free_a.sum() > rest_agents and free_j.any():
            if time.perf_counter() >= deadline - 1.0:
                return None
            value, lam, art, _ = master.generate(free_a, free_j, deadline=deadline - 1.0, max_iter=10,
                                                 fixed_cost=sum(master.cost[k] for k in fixed))
            if art > 1e-6:
                return None  # the fixings leave no feasible LP: this dive is lost
            skip = discrepancy if depth == 0 else 0
            pick = None
            for k in np.argsort(-lam, kind="stable"):
                if lam[k] < 1e-6:
                    break
                if not free_a[master.agent[k]] or not free_j[master.items[k]].all():
                    continue
                if skip:
                    skip -= 1
                    continue
                pick = int(k)
                break
            if pick is None:
                return None
            depth += 1
            fixed.append(pick)
            master.set_bounds([pick], 1.0, 1.0)
            free_a[master.agent[pick]] = False
            free_j[master.items[pick]] = False
            # every other column of that agent or touching those jobs is out for this dive
            taken = set(fixed) | zeroed
            clash = [k for k in range(len(master.agent))
                     if k not in taken and (not free_a[master.agent[k]] or not free_j[master.items[k]].all())]
            master.set_bounds(clash, 0.0, 0.0)
            zeroed.update(clash)
        return _finish(core, master, d, fixed, free_a, free_j, min(rest_seconds, deadline - time.perf_counter() - 0.5), seed)
    finally:
        master.set_bounds(fixed + sorted(zeroed), 0.0, 1.0)


def _finish(core, master: _Master, d: _Dense, fixed: list[int], free_a, free_j, seconds: float, seed: int) -> np.ndarray | None:
    """The fixed columns plus the free agents' jobs solved exactly by CP-SAT."""
    from ortools.sat.python import cp_model

    from scheduling.model import build_cpsat
    from scheduling.solve import SolveOptions, _big_m, _solver, _subcore

    x = np.zeros(core.n_pairs, dtype=np.int64)
    for k in fixed:
        x[d.pair[master.agent[k], master.items[k]]] = 1
    if not free_j.any():
        return x
    if seconds <= 0.05:
        return None
    penalised = core.with_changes(unassigned_cost=np.full(core.n_items, _big_m(core), dtype=np.int64))
    sub, pmap, cur = _subcore(penalised, x, np.flatnonzero(free_a))
    built = build_cpsat(sub.with_changes(unassigned_cost=None), hint=None)
    solver = _solver(SolveOptions(seed=seed, workers=1), seconds)
    status = solver.solve(built.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    x[pmap] = built.values(solver)
    return x
