"""The LP relaxation of an assignment core, solved with HiGHS (scipy): the proven lower bound,
the fractional solution that seeds the start heuristic, and reduced costs that steer the
neighbourhoods of the search. The same rows with integer pair columns are the core's MIP
(`solve_mip`), which HiGHS's branch-and-cut solves on small cores (first, or beside the
search: see `scheduling.solve`).

The LP has the same rows as the CP-SAT model (`scheduling.model`): item equalities, resource
capacities per agent, the balance rows and the move cap, so its optimum is a valid lower bound
on the integer problem (rounded up, since every objective coefficient is an integer).

With `candidates` the LP is solved over a subset of pairs first and then *priced*: pairs with
a negative reduced cost are added until none is left (column generation). The final bound is
then valid for the full pair set while the LP stays small.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from scheduling.core import PER_MILLE, AssignmentCore


@dataclass
class LPResult:
    bound: float  # LP optimum (a lower bound on the integer optimum)
    x: np.ndarray  # fractional quantity per pair (full pair set; 0 for unpriced pairs)
    u: np.ndarray  # fractional unassigned per item
    reduced_cost: np.ndarray  # per pair (full pair set)
    seconds: float
    columns: int  # pairs in the final LP
    rounds: int
    status: str
    #: duals of the capacity rows [R, n_agents], >= 0, in cost units (a Lagrangian start)
    multipliers: np.ndarray | None = None
    #: the final round's duals (equality rows, inequality rows) as HiGHS gives them: they
    #: price the pairs of a larger problem with the same rows (`solve_lp(duals=...)`)
    duals: tuple[np.ndarray, np.ndarray] | None = None
    #: simplex iterations of each round (each round after the first starts from the last basis)
    iterations: list[int] | None = None
    #: the LP still in HiGHS (`solve_lp(keep=True)`), for `solve_lp(warm=...)` to take over
    #: once: the LP of a larger pair set with the same rows, solved from this one's basis
    model: object | None = field(default=None, repr=False)
    #: the (item, agent) of each pair of `x` where the LP is over another pair set than the
    #: core's (`solve.catalogue_lp_bound`: every eligible pair that fits), so that its
    #: solution can be carried to a core over some of them
    pairs: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def integer_bound(self) -> int:
        return int(math.ceil(self.bound - 1e-6 * max(1.0, abs(self.bound))))


class _LPMatrix:
    """Rows of the LP, with pair columns built for any subset of pairs (for pricing)."""

    def __init__(self, core: AssignmentCore) -> None:
        self.core = core
        n, m, R = core.n_items, core.n_agents, core.n_resources
        self.has_u = core.unassigned_cost is not None
        b = core.balance
        self.bal = b if (b is not None and b.active) else None
        # inequality row blocks: resources [R*m], balance hi [m], balance lo [m], team hi, team lo, moves
        self.row_res = 0
        self.row_bhi = R * m
        self.row_blo = self.row_bhi + (m if self.bal else 0)
        self.n_team = 0
        if self.bal is not None and self.bal.w_team_spread:
            teams = self.bal.team.copy()
            teams[self.bal.denominator <= 0] = -1
            ids = np.unique(teams[teams >= 0])
            self.team_index = np.full(m, -1, dtype=np.int64)
            for k, t in enumerate(ids):
                self.team_index[teams == t] = k
            self.n_team = len(ids)
        self.row_thi = self.row_blo + (m if self.bal else 0)
        self.row_tlo = self.row_thi + self.n_team
        self.row_moves = self.row_tlo + self.n_team
        self.row_cut = self.row_moves + (1 if core.max_moves is not None else 0)
        # at least `min_unassigned` units unassigned: -sum(u) <= -k
        self.cut = self.has_u and core.min_unassigned > 0
        self.n_ub = self.row_cut + (1 if self.cut else 0)
        self.n_eq = n

    def pair_columns(self, pairs: np.ndarray) -> tuple[sp.csc_matrix, sp.csc_matrix]:
        core, m = self.core, self.core.n_agents
        k = len(pairs)
        cols = np.arange(k)
        item = core.pair_item[pairs]
        agent = core.pair_agent[pairs]
        a_eq = sp.csc_matrix((np.ones(k), (item, cols)), shape=(self.n_eq, k))
        rows, vals, cc = [], [], []
        for r in range(core.n_resources):
            rows.append(r * m + agent)
            vals.append(core.usage[r, pairs].astype(float))
            cc.append(cols)
        if self.bal is not None:
            ub = core.usage[self.bal.resource, pairs].astype(float) * PER_MILLE
            on = self.bal.denominator[agent] > 0
            rows += [self.row_bhi + agent[on], self.row_blo + agent[on]]
            vals += [ub[on], -ub[on]]
            cc += [cols[on], cols[on]]
            if self.n_team:
                t = self.team_index[agent]
                ok = t >= 0
                rows += [self.row_thi + t[ok], self.row_tlo + t[ok]]
                vals += [ub[ok], -ub[ok]]
                cc += [cols[ok], cols[ok]]
        if core.max_moves is not None:
            mv = core.move_mask[pairs]
            rows.append(np.full(int(mv.sum()), self.row_moves))
            vals.append(np.ones(int(mv.sum())))
            cc.append(cols[mv])
        a_ub = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cc))), shape=(self.n_ub, k)
        )
        return a_eq, a_ub

    def reduced_costs(self, y_eq: np.ndarray, y_ub: np.ndarray) -> np.ndarray:
        """Every pair's cost less its column (`pair_columns`) times the duals: the same
        product without the matrix over every pair (50k, 8.5M eligible pairs: 3 s to build)."""
        if (len(y_eq), len(y_ub)) != (self.n_eq, self.n_ub):
            raise ValueError(f"duals for {len(y_eq)} + {len(y_ub)} rows, but this LP has {self.n_eq} + {self.n_ub}: "
                             "they must come from an LP with the same rows")
        core, m = self.core, self.core.n_agents
        agent = core.pair_agent
        rc = core.pair_cost.astype(float) - y_eq[core.pair_item]
        for r in range(core.n_resources):
            rc -= core.usage[r] * y_ub[self.row_res + r * m + agent]
        if self.bal is not None:
            ub = core.usage[self.bal.resource].astype(float) * PER_MILLE
            on = self.bal.denominator > 0
            per_agent = np.where(on, y_ub[self.row_bhi : self.row_bhi + m] - y_ub[self.row_blo : self.row_blo + m], 0.0)
            if self.n_team:
                t = self.team_index
                per_agent = per_agent + np.where(t >= 0, y_ub[self.row_thi + np.maximum(t, 0)] - y_ub[self.row_tlo + np.maximum(t, 0)], 0.0)
            rc -= ub * per_agent[agent]
        if core.max_moves is not None:
            rc -= core.move_mask * y_ub[self.row_moves]
        return rc

    def extra_columns(self):
        """Columns for u (per item) and the balance levels: their blocks of equality and
        inequality rows, their costs and their bounds ([k, 2], no upper bound as inf)."""
        core = self.core
        eq_blocks, ub_blocks, costs, bounds = [], [], [], []
        if self.has_u:
            n = core.n_items
            eq_blocks.append(sp.identity(n, format="csc"))
            if self.cut:
                ub_blocks.append(sp.csc_matrix((-np.ones(n), (np.full(n, self.row_cut), np.arange(n))), shape=(self.n_ub, n)))
            else:
                ub_blocks.append(sp.csc_matrix((self.n_ub, n)))
            costs.append(core.unassigned_cost.astype(float))
            bounds += [(0.0, float(v)) for v in core.multiplicity]
        if self.bal is not None:
            b = self.bal
            den = b.denominator.astype(float)
            on = np.flatnonzero(b.denominator > 0)
            cols = []
            # L_max: load*1000 - den*L <= -base*1000 ; L_min: -load*1000 + den*L <= base*1000
            lmax = sp.csc_matrix((-den[on], (self.row_bhi + on, np.zeros(len(on), int))), shape=(self.n_ub, 1))
            lmin = sp.csc_matrix((den[on], (self.row_blo + on, np.zeros(len(on), int))), shape=(self.n_ub, 1))
            cols += [lmax, lmin]
            costs.append(np.array([b.w_max + b.w_spread, -b.w_spread], dtype=float))
            bounds += [(0.0, np.inf), (0.0, np.inf)]
            if self.n_team:
                tden = np.zeros(self.n_team)
                np.add.at(tden, self.team_index[on], den[on])
                k = np.arange(self.n_team)
                cols.append(sp.csc_matrix((-tden, (self.row_thi + k, np.zeros(self.n_team, int))), shape=(self.n_ub, 1)))
                cols.append(sp.csc_matrix((tden, (self.row_tlo + k, np.zeros(self.n_team, int))), shape=(self.n_ub, 1)))
                costs.append(np.array([b.w_team_spread, -b.w_team_spread], dtype=float))
                bounds += [(0.0, np.inf), (0.0, np.inf)]
            ub_blocks.append(sp.hstack(cols, format="csc"))
            eq_blocks.append(sp.csc_matrix((self.n_eq, len(cols))))
        return eq_blocks, ub_blocks, costs, np.array(bounds, dtype=float).reshape(-1, 2)

    def rhs(self) -> tuple[np.ndarray, np.ndarray]:
        core, m = self.core, self.core.n_agents
        b_eq = core.multiplicity.astype(float)
        b_ub = np.zeros(self.n_ub)
        b_ub[: core.n_resources * m] = core.capacity.reshape(-1).astype(float)
        if self.bal is not None:
            # agents outside the balance (absent, left: denominator 0) have empty balance rows,
            # whatever fixed load they still hold
            base = np.where(self.bal.denominator > 0, core.base_load, 0).astype(float) * PER_MILLE
            b_ub[self.row_bhi : self.row_bhi + m] = -base
            b_ub[self.row_blo : self.row_blo + m] = base
            if self.n_team:
                tb = np.zeros(self.n_team)
                ok = self.team_index >= 0
                np.add.at(tb, self.team_index[ok], base[ok])
                b_ub[self.row_thi : self.row_thi + self.n_team] = -tb
                b_ub[self.row_tlo : self.row_tlo + self.n_team] = tb
        if core.max_moves is not None:
            b_ub[self.row_moves] = core.max_moves
        if self.cut:
            b_ub[self.row_cut] = -float(core.min_unassigned)
        return b_eq, b_ub


def limit_time(h, seconds: float | None) -> None:
    """Give HiGHS object `h` `seconds` more to run (None: no limit). HiGHS counts its time limit
    over every run of one object (until its 2.0), so a re-solve given less than the runs
    before it took would stop at once."""
    import highspy

    h.setOptionValue("time_limit", h.getRunTime() + float(seconds) if seconds is not None else highspy.kHighsInf)


def new_highs():
    """A silent HiGHS solver (highspy): HiGHS prints its banner on stdout when the first one
    of a process is made, which would break output such as a benchmark's JSON line."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    h.setOptionValue("output_flag", False)
    return h


class _KeptLP:
    """The LP in HiGHS (highspy), kept between the rounds of pricing, so each round after the
    first starts from the last basis instead of a cold solve (12 500 clients, 463k eligible
    pairs: a cold round took ~35 000 iterations and 12-15 s even when it added 0.1 % of the
    columns). The extra columns (unassigned, balance levels) come first, then the pair
    columns in the order they were added."""

    def __init__(self, mat: _LPMatrix, b_eq: np.ndarray, b_ub: np.ndarray) -> None:
        import highspy

        self.mat = mat
        self.h = new_highs()
        inf = highspy.kHighsInf
        empty = np.array([], dtype=np.int32)
        self.h.addRows(mat.n_eq + mat.n_ub, np.concatenate([b_eq, np.full(mat.n_ub, -inf)]),
                       np.concatenate([b_eq, b_ub]), 0, empty, empty, np.array([]))
        eq_x, ub_x, c_x, bnd_x = mat.extra_columns()
        self.n_extra = len(bnd_x)
        if self.n_extra:
            self._add_columns(sp.vstack([sp.hstack(eq_x), sp.hstack(ub_x)], format="csc"),
                              np.concatenate(c_x), bnd_x[:, 0], bnd_x[:, 1])
        self.pairs = np.zeros(0, dtype=np.int64)
        self.solved = False
        self.iterations: list[int] = []

    def _add_columns(self, a: sp.csc_matrix, cost: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        a = sp.csc_matrix(a)
        a.sort_indices()
        self.h.addCols(a.shape[1], cost.astype(float), lo.astype(float), hi.astype(float), a.nnz,
                       a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float))

    def add_pairs(self, pairs: np.ndarray) -> None:
        core = self.mat.core
        a_eq, a_ub = self.mat.pair_columns(pairs)
        self._add_columns(sp.vstack([a_eq, a_ub], format="csc"), core.pair_cost[pairs],
                          np.zeros(len(pairs)), core.multiplicity[core.pair_item[pairs]])
        self.pairs = np.concatenate([self.pairs, pairs])

    def adopt(self, mat: _LPMatrix) -> None:
        """Carry the model over to `mat`'s core: the same rows, and pairs (item, agent) that
        include every pair column this model holds. Raises ValueError otherwise."""
        old, new = self.mat, mat
        rows = lambda t: (t.n_eq, t.n_ub, t.core.n_agents, t.core.n_resources, t.bal is None, t.n_team, t.cut)  # noqa: E731
        if rows(old) != rows(new) or not all(np.array_equal(a, b) for a, b in zip(old.rhs(), new.rhs())):
            raise ValueError(f"a kept LP has rows {rows(old)}, this LP {rows(new)} (or other right-hand sides): "
                             "it can only be solved again with the same rows")
        pos, found = new.core.find_pairs(old.core.pair_item[self.pairs], old.core.pair_agent[self.pairs])
        if not found.all():
            raise ValueError(f"a kept LP holds {int((~found).sum())} pair columns that are no pairs of this LP")
        self.mat, self.pairs = new, pos

    def run(self, time_limit: float | None) -> bool:
        """Solve (the first time with presolve, then warm from the last basis); True when optimal."""
        import highspy

        h = self.h
        limit_time(h, time_limit)
        if self.solved:
            h.setOptionValue("presolve", "off")
            # dual simplex from the last basis: the added columns keep it primal feasible, but
            # HiGHS's primal simplex was the slower of the two from there (12 500 clients, the
            # second round: 28.4 s against 3.8 s)
            h.setOptionValue("simplex_strategy", 1)
        h.run()
        self.solved = True
        self.iterations.append(int(h.getInfo().simplex_iteration_count))
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def status_text(self) -> str:
        return self.h.modelStatusToString(self.h.getModelStatus())

    def solution(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(objective, column values, equality duals, inequality duals)."""
        sol = self.h.getSolution()
        dual = np.asarray(sol.row_dual, dtype=float)
        return (float(self.h.getInfo().objective_function_value), np.asarray(sol.col_value, dtype=float),
                dual[: self.mat.n_eq], dual[self.mat.n_eq:])


class _OnceLP:
    """The LP solved once (no pricing), by scipy's HiGHS (`linprog`): the interface of
    `_KeptLP`. Where no round follows, nothing is gained by keeping the model, and the
    vertex it gives is the one the rest of the engine was tuned and measured with: highspy's
    HiGHS returns other vertices of the same optimum, and the 50k placement plan's residual
    solves rounded one of them to 202 clients left out against 201 (generated region,
    deterministic; 284 both on `--seed 2`)."""

    def __init__(self, mat: _LPMatrix, b_eq: np.ndarray, b_ub: np.ndarray) -> None:
        self.mat, self.b_eq, self.b_ub = mat, b_eq, b_ub
        self.extra = mat.extra_columns()
        self.n_extra = len(self.extra[3])
        self.pairs = np.zeros(0, dtype=np.int64)
        self.iterations: list[int] = []
        self.res = None
        self.status = ""

    def add_pairs(self, pairs: np.ndarray) -> None:
        self.pairs = np.concatenate([self.pairs, pairs])

    def run(self, time_limit: float | None) -> bool:
        from scipy.optimize import linprog

        core, mat, pairs = self.mat.core, self.mat, self.pairs
        eq_x, ub_x, c_x, bnd_x = self.extra
        a_eq_p, a_ub_p = mat.pair_columns(pairs)
        a_eq = sp.hstack([a_eq_p, *eq_x], format="csc")
        a_ub = sp.hstack([a_ub_p, *ub_x], format="csc")
        c = np.concatenate([core.pair_cost[pairs].astype(float), *c_x])
        bounds = np.vstack([np.column_stack([np.zeros(len(pairs)), core.multiplicity[core.pair_item[pairs]]]), bnd_x])
        options = {"presolve": True, **({"time_limit": time_limit} if time_limit is not None else {})}
        has_ub = a_ub.shape[0] > 0
        res = linprog(c, A_ub=a_ub if has_ub else None, b_ub=self.b_ub if has_ub else None, A_eq=a_eq, b_eq=self.b_eq,
                      bounds=bounds, method="highs", options=options)
        self.iterations.append(int(getattr(res, "nit", 0) or 0))
        self.status = str(res.message)
        self.res = res if res.status == 0 and res.x is not None else None
        if self.res is not None:
            self.y_ub = np.asarray(res.ineqlin.marginals, dtype=float) if has_ub else np.zeros(0)
        return self.res is not None

    def status_text(self) -> str:
        return self.status

    def solution(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        x = np.asarray(self.res.x, dtype=float)
        k = len(self.pairs)
        return (float(self.res.fun), np.concatenate([x[k:], x[:k]]),  # the extra columns first, as `_KeptLP`
                np.asarray(self.res.eqlin.marginals, dtype=float), self.y_ub)


def solve_lp(
    core: AssignmentCore,
    candidates: np.ndarray | None = None,
    max_rounds: int = 30,
    time_limit: float | None = None,
    duals: tuple[np.ndarray, np.ndarray] | None = None,
    keep: bool = False,
    warm: LPResult | None = None,
) -> LPResult:
    """Solve the LP relaxation; with `candidates` (pair indices), by column generation, at
    most `max_rounds` rounds, and no new round after `time_limit` seconds: the bound of an
    LP not fully priced is corrected by the reduced costs outside it, so it stays valid.
    The LP is kept in HiGHS between the rounds (`_KeptLP`), each round warm from the last;
    without candidates it is solved once (`_OnceLP`).
    `duals` (an `LPResult.duals` of the LP over the candidates, with the same rows) price
    every pair before the first round, so that round already holds the columns the
    candidates' LP would add: one LP solve less.
    `keep`: the result holds its HiGHS model (`LPResult.model`). `warm`: such a result, of
    an LP over some of these pairs with the same rows: its model is taken over, gets the
    pairs its duals price out and is solved from its last basis, where a first round would
    start cold (50k, `--seed 3`, the LP over the candidates and every pair its duals price
    out: 66 698 simplex iterations in 13.5 s cold, 7 558 in 4.4 s warm)."""
    t0 = time.perf_counter()
    mat = _LPMatrix(core)
    b_eq, b_ub = mat.rhs()
    taken = None
    if warm is not None:
        if warm.model is None:
            raise ValueError("solve_lp: `warm` holds no HiGHS model (solve it with keep=True; a model is taken over once)")
        taken, warm.model = warm.model, None
        taken.adopt(mat)
        candidates, duals = taken.pairs, warm.duals
    # the first round's pair columns (a taken-over model holds its own already)
    if candidates is None:
        new = np.arange(core.n_pairs)
    else:
        chosen = np.zeros(core.n_pairs, dtype=bool)
        chosen[np.asarray(candidates, dtype=np.int64)] = True
        # an item without any candidate column makes the restricted LP infeasible when u is absent
        if not mat.has_u:
            covered = np.zeros(core.n_items, dtype=bool)
            covered[core.pair_item[chosen]] = True
            chosen |= ~covered[core.pair_item]
        if duals is not None:
            chosen |= mat.reduced_costs(*duals) < -1e-7
        if taken is not None:
            chosen[taken.pairs] = False
        new = np.flatnonzero(chosen)
    if taken is not None:
        model = taken
    else:
        model = _KeptLP(mat, b_eq, b_ub) if candidates is not None or keep else _OnceLP(mat, b_eq, b_ub)
    rounds = 0
    priced = candidates is None
    corrected = -math.inf
    last = None  # the last round solved: (its value, columns' values, reduced costs, duals)
    while True:
        rounds += 1
        model.add_pairs(new)
        # the first round gets at least a second (without it there is no bound); a later one
        # only what is left, since the round before it stands when it runs out
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        ok = model.run(None if left is None else max(1.0, left) if rounds == 1 else max(0.05, left))
        if not ok:
            if last is not None:
                # a later round of pricing ran out of time: the rounds before it stand (their
                # corrected bound is valid)
                fun, values, rc, y_eq, y_ub = last
                rounds -= 1
                break
            return LPResult(
                bound=-math.inf, x=np.zeros(core.n_pairs), u=np.zeros(core.n_items),
                reduced_cost=np.zeros(core.n_pairs), seconds=time.perf_counter() - t0,
                columns=len(model.pairs), rounds=rounds, status=f"lp status: {model.status_text()}",
                iterations=list(model.iterations),
            )
        fun, values, y_eq, y_ub = model.solution()
        rc = mat.reduced_costs(y_eq, y_ub)  # of every pair
        last = (fun, values, rc, y_eq, y_ub)
        # upper bounds on x are never binding at value m for priced-out pairs, so rc<0 means improvable
        if candidates is None:
            break
        in_lp = np.zeros(core.n_pairs, dtype=bool)
        in_lp[model.pairs] = True
        new = np.flatnonzero((rc < -1e-7) & ~in_lp)
        if len(new) == 0:
            priced = True
            break
        # not priced yet: a Lagrangian-style correction makes this round's value a valid
        # bound. An item's pairs together carry at most its multiplicity, so each item adds
        # its multiplicity times its most negative reduced cost outside the LP. A later round
        # may correct to less (capacity x 1.15 at 50k, intake: 17 796 after one round, 16 963
        # after two), so the best round's counts
        worst = np.zeros(core.n_items)
        np.minimum.at(worst, core.pair_item[new], rc[new])
        corrected = max(corrected, fun + float((worst * core.multiplicity).sum()))
        if rounds >= max_rounds or (time_limit is not None and time.perf_counter() - t0 >= time_limit):
            break
    x = np.zeros(core.n_pairs)
    x[model.pairs[: len(values) - model.n_extra]] = values[model.n_extra:]
    u = values[: core.n_items] if mat.has_u else np.zeros(core.n_items)
    bound = fun if priced else corrected  # rounds or time ran out: the best corrected round
    n_cap = core.n_resources * core.n_agents
    return LPResult(
        bound=bound, x=x, u=np.asarray(u, dtype=float), reduced_cost=np.asarray(rc, dtype=float),
        seconds=time.perf_counter() - t0, columns=len(values) - model.n_extra, rounds=rounds,
        status="optimal" if priced else "optimal, not fully priced",
        multipliers=np.maximum(0.0, -y_ub[:n_cap]).reshape(core.n_resources, core.n_agents) if len(y_ub) >= n_cap else None,
        duals=(y_eq, y_ub), iterations=list(model.iterations), model=model if keep else None,
    )


@dataclass
class MIPResult:
    x: np.ndarray | None  # integer quantity per pair of the best solution found, or None
    objective: float | None
    bound: float  # HiGHS's proven lower bound (-inf when it has none)
    seconds: float
    status: str


def solve_mip(core: AssignmentCore, time_limit: float, node_limit: int | None = None) -> MIPResult:
    """The core as a MIP (HiGHS branch-and-cut): the LP's rows with integer pair and
    unassigned columns (the balance levels stay continuous). Every pair is a column. With
    `node_limit` and a time limit that does not fire, the run is deterministic."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    mat = _LPMatrix(core)
    b_eq, b_ub = mat.rhs()
    eq_x, ub_x, c_x, bnd_x = mat.extra_columns()
    # columns agent by agent: HiGHS found better solutions on the OR-Library's type-d
    # instances in this order than item by item (d20100: 6229 against 6255 in 45 s)
    order = np.lexsort((core.pair_item, core.pair_agent))
    a_eq_p, a_ub_p = mat.pair_columns(order)
    a_eq = sp.hstack([a_eq_p, *eq_x], format="csc")
    a_ub = sp.hstack([a_ub_p, *ub_x], format="csc")
    c = np.concatenate([core.pair_cost[order].astype(float), *c_x])
    lo = np.concatenate([np.zeros(core.n_pairs), bnd_x[:, 0]])
    hi = np.concatenate([core.multiplicity[core.pair_item[order]].astype(float), bnd_x[:, 1]])
    integral = np.zeros(len(c))
    integral[: core.n_pairs + (core.n_items if mat.has_u else 0)] = 1
    constraints = [LinearConstraint(a_eq, b_eq, b_eq)]
    if a_ub.shape[0]:
        constraints.append(LinearConstraint(a_ub, -np.inf, b_ub))
    res = milp(c, constraints=constraints, integrality=integral, bounds=Bounds(lo, hi),
               options={"time_limit": max(0.1, time_limit - (time.perf_counter() - t0)), "disp": False,
                        **({"node_limit": int(node_limit)} if node_limit is not None else {})})
    bound = getattr(res, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and np.isfinite(bound) else -math.inf
    x = None
    if res.x is not None:
        x = np.zeros(core.n_pairs, dtype=np.int64)
        x[order] = np.rint(res.x[: core.n_pairs]).astype(np.int64)
    status = str(res.message)
    if node_limit is not None and "not recognized" in status:  # scipy does not name this one
        status = f"node limit reached ({node_limit} nodes)"
    return MIPResult(x=x, objective=None if res.x is None else float(res.fun), bound=bound,
                     seconds=time.perf_counter() - t0, status=status)


def lagrangian_bound(
    core: AssignmentCore,
    upper: float,
    time_limit: float = 5.0,
    iterations: int = 200,
    multipliers: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Lower bound by Lagrangian relaxation of the capacity rows (subgradient, Polyak steps
    towards `upper`, the best known objective). For the regional scale, where even the LP
    does not fit the time limit: each iteration is one vectorised pass over the pairs.

    Relaxing capacities leaves, per item, "cheapest option at cost + multiplier x usage" (or
    unassigned); dropping the balance terms (never negative) and the move cap keeps it a valid
    lower bound. Returns (best bound, its multipliers [R, n_agents])."""
    t0 = time.perf_counter()
    R, m = core.n_resources, core.n_agents
    lam = np.zeros((R, m)) if multipliers is None else multipliers.astype(float).copy()
    cap = core.capacity.astype(float)
    mult = core.multiplicity.astype(float)
    cost = core.pair_cost.astype(float)
    use = core.usage.astype(float)
    ucost = core.unassigned_cost.astype(float) if core.unassigned_cost is not None else np.full(core.n_items, np.inf)
    starts = core.item_start
    nonempty = starts[1:] > starts[:-1]
    unit = np.maximum(cap.mean(axis=1), 1.0)
    best, best_lam = -math.inf, lam.copy()
    scale = 1.0
    stall = 0
    for _ in range(iterations):
        if time.perf_counter() - t0 > time_limit:
            break
        red = cost + (lam[:, core.pair_agent] * use).sum(axis=0)
        min_red = np.full(core.n_items, np.inf)
        min_red[nonempty] = np.minimum.reduceat(red, starts[:-1][nonempty])
        choose_u = ucost <= min_red
        per_item = np.where(choose_u, ucost, min_red)
        value = float((per_item * mult).sum() - (lam * cap).sum())
        if value > best + 1e-9:
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= 10:
                scale *= 0.5
                stall = 0
        # subgradient: usage of the chosen pairs minus capacity
        arg = np.zeros(core.n_items, dtype=np.int64)
        is_min = red <= min_red[core.pair_item] + 1e-12
        first = np.flatnonzero(is_min)
        first = first[np.r_[True, core.pair_item[first][1:] != core.pair_item[first][:-1]]]
        arg[core.pair_item[first]] = first
        chosen = np.flatnonzero(nonempty & ~choose_u)
        g = -cap.copy()
        for r in range(R):
            np.add.at(g[r], core.pair_agent[arg[chosen]], use[r, arg[chosen]] * mult[chosen])
        # in units of the mean capacity per resource, so the client-count rows (tens) are not
        # drowned by the caseload-point rows (thousands): both sets of multipliers move
        gn = g / unit[:, None]
        norm = float((gn * gn).sum())
        if norm < 1e-12 or not math.isfinite(upper):
            break
        step = scale * max(upper - value, 1e-6 * max(1.0, abs(upper))) / norm
        lam = np.maximum(0.0, lam + step * gn / unit[:, None])
    return best, best_lam
