"""Every eligible pair at regional scale, compressed: the placement plan and the full bound.

At 50k clients a class is eligible for ~170 coaches (8.6M pairs); the search works on a few
candidate coaches per class. Two things must still see *every* eligible pair:

1. **How many clients can be placed at all.** Clients with the same eligible coaches and the
   same usage (caseload points, one client) are interchangeable for capacity, so an LP over
   these *eligibility groups* x coaches (~800 x 400 at 50k, ~100k columns) is small and exact
   about capacity: it gives the fewest clients that must stay unassigned when points and the
   client maximum bind *together* (the per-group checks in `explain` look at one capacity at a
   time), and with stay columns it keeps as many clients with their coach as it can. Its
   integer plan (`placement_plan`) becomes the search's start: quotas per group and coach
   (rounded, then `consolidate` gathers the room rounding leaves scattered), filled per
   usage type by min-cost flows with the real pair costs (sector fit, travel, language,
   handover; `_fill_by_type`). At caseload scale the LP whose solution is rounded splits the
   groups by target sector (`_profile_lp`), since a group's mean cost cannot tell teams
   apart. Last, `exchange` lowers the plan's cost by moves, swaps and chains of units over
   every eligible pair. The plan's pairs join the candidate pairs. Where everyone fits, the
   start comes from the LP over the candidates instead, made whole by `complete` (the units
   it leaves out made light, placed one cheapest step each by `insert`, gathering the rest).
2. **A bound valid for all eligible pairs** (`PairCatalogue.lagrangian`): the Lagrangian
   relaxation of the capacities, evaluated over every eligible pair group by group with costs
   computed from the small cost tables, so the reported gap is to a lower bound of the real
   problem, not of the pruned candidate model. `PairCatalogue.ascend` climbs its multipliers
   from the LP's duals.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from plein.progress import ProgressCallback, no_progress
from scheduling.lp import limit_time


def _count_cut(count_cut: tuple[int, float] | None) -> tuple[int, float]:
    """(k, mu) of a count cut, mu >= 0; (0, 0.0) when there is none or k is 0 (no cut)."""
    if count_cut is None or int(count_cut[0]) <= 0:
        return 0, 0.0
    return int(count_cut[0]), max(0.0, float(count_cut[1]))


@dataclass
class PairCatalogue:
    """All eligible pairs of a caseload problem, by eligibility group, costs on demand.

    Items with the same eligible agents and the same usage form a group (`item_group`); the
    group's agents are `group_agent[group_start[g]:group_start[g+1]]`. A pair's cost is
    `sum(table[key[item], agent] for table, key in tables)` plus `handover` when the item's
    units currently sit with another agent that could keep them (`stay_agent[item]`, -1 none).
    """

    item_group: np.ndarray  # int64 [n_items]
    group_start: np.ndarray  # int64 [G + 1]
    group_agent: np.ndarray  # int64 [sum of group sizes]
    group_usage: np.ndarray  # int64 [R, G]
    stay_agent: np.ndarray  # int64 [n_items]
    handover: int
    tables: tuple[tuple[np.ndarray, np.ndarray], ...]  # (table [K, m], key per item [n_items])

    @property
    def n_groups(self) -> int:
        return len(self.group_start) - 1

    @property
    def n_pairs(self) -> int:
        """Eligible pairs over all items (not stored)."""
        sizes = np.diff(self.group_start)
        return int(sizes[self.item_group].sum())

    def agents_of(self, g: int) -> np.ndarray:
        return self.group_agent[self.group_start[g]: self.group_start[g + 1]]

    def fitting_agents(self, g: int, capacity: np.ndarray) -> np.ndarray:
        """The agents of group g that have room for one of its units in every resource: no
        assignment can use any other pair, so bounds may leave them out."""
        ag = self.agents_of(g)
        return ag[(self.group_usage[:, g][:, None] <= capacity[:, ag]).all(axis=0)]

    def fitting_pairs(self, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(items, agents) of every eligible pair whose unit fits the agent's capacity on its
        own, sorted by item and agent (the pair order of an `AssignmentCore`)."""
        fits = [np.sort(self.fitting_agents(g, capacity)) for g in range(self.n_groups)]
        sizes = np.array([len(f) for f in fits], dtype=np.int64)
        fit_start = np.concatenate([[0], np.cumsum(sizes)])
        per_item = sizes[self.item_group]
        total = int(per_item.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # item by item (no sort of the pairs: 1.7 s at 8.5M), each with its group's agents in order
        items = np.repeat(np.arange(len(self.item_group), dtype=np.int64), per_item)
        item_first = np.concatenate([[0], np.cumsum(per_item)[:-1]])
        within = np.arange(total, dtype=np.int64) - item_first[items]
        agents = np.concatenate(fits).astype(np.int64)[fit_start[self.item_group[items]] + within]
        return items, agents

    def n_fitting_pairs(self, capacity: np.ndarray) -> int:
        sizes = np.array([len(self.fitting_agents(g, capacity)) for g in range(self.n_groups)], dtype=np.int64)
        return int(sizes[self.item_group].sum())

    def cost(self, items: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """Pair cost for each (items[k], agents[k])."""
        items, agents = np.asarray(items, dtype=np.int64), np.asarray(agents, dtype=np.int64)
        out = np.zeros(len(items), dtype=np.int64)
        for table, key in self.tables:
            out += table[key[items], agents]
        stay = self.stay_agent[items]
        return out + np.where((stay >= 0) & (stay != agents), self.handover, 0)

    def move(self, items: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """True where the pair is a voluntary handover."""
        stay = self.stay_agent[np.asarray(items, dtype=np.int64)]
        return (stay >= 0) & (stay != np.asarray(agents, dtype=np.int64))

    def cost_matrix(self, items: np.ndarray, agents: np.ndarray, handover: bool = True) -> np.ndarray:
        """Costs of every item in `items` with every agent in `agents`: [len(items), len(agents)]
        (without the handover when `handover` is False)."""
        out = np.zeros((len(items), len(agents)), dtype=np.int64)
        for table, key in self.tables:
            out += table[key[items]][:, agents]
        if not handover:
            return out
        stay = self.stay_agent[items]
        out += np.where((stay[:, None] >= 0) & (stay[:, None] != agents[None, :]), self.handover, 0)
        return out

    def group_items(self) -> list[np.ndarray]:
        order = np.argsort(self.item_group, kind="stable")
        bounds = np.searchsorted(self.item_group[order], np.arange(self.n_groups + 1))
        return [order[bounds[g]: bounds[g + 1]] for g in range(self.n_groups)]

    def lagrangian(
        self, lam: np.ndarray, multiplicity: np.ndarray, unassigned_cost: np.ndarray, capacity: np.ndarray,
        count_cut: tuple[int, float] | None = None,
    ) -> tuple[float, np.ndarray]:
        """Lagrangian value over *every* eligible pair for capacity multipliers `lam` [R, m]
        (a valid lower bound of the whole problem, balance and move cap dropped), and per item
        the agent of its cheapest reduced cost (-1 when leaving it unassigned is cheaper).
        Pairs whose unit does not fit the agent's capacity on its own are left out.

        `count_cut` (k, mu) dualises "at least k units stay unassigned" with multiplier
        mu >= 0: each unassigned unit costs mu less and the value gains mu * k. Valid when no
        assignment places more than all but k units (`fewest_unassigned` certifies k)."""
        lam = np.maximum(np.asarray(lam, dtype=float), 0.0)
        k_cut, mu = _count_cut(count_cut)
        total = mu * k_cut
        best_agent = np.full(len(self.item_group), -1, dtype=np.int64)
        for g, items in enumerate(self.group_items()):
            if len(items) == 0:
                continue
            ag = self.fitting_agents(g, capacity)
            u_cost = unassigned_cost[items].astype(float) - mu
            if len(ag) == 0:
                total += float((u_cost * multiplicity[items]).sum())
                continue
            price = (lam[:, ag] * self.group_usage[:, g][:, None]).sum(axis=0)
            red = self.cost_matrix(items, ag) + price[None, :]
            k = red.argmin(axis=1)
            mn = red[np.arange(len(items)), k]
            take = mn < u_cost
            best_agent[items[take]] = ag[k[take]]
            total += float((np.where(take, mn, u_cost) * multiplicity[items]).sum())
        return total - float((lam * capacity).sum()), best_agent

    def fewest_unassigned(self, lam: np.ndarray, multiplicity: np.ndarray, capacity: np.ndarray) -> int:
        """Units that every assignment leaves unassigned, certified by capacity multipliers
        `lam` [R, m] of the LP that minimises the units left (`placement_plan`'s count LP):
        its Lagrangian, each unit costing 1 unassigned and 0 placed, is a lower bound of that
        count for any `lam` >= 0, and the count is whole, so its ceiling is one too. (The LP
        leaves 281.53 at 50k: no assignment leaves fewer than 282.)"""
        lam = np.maximum(np.asarray(lam, dtype=float), 0.0)
        g_mult = np.bincount(self.item_group, weights=multiplicity, minlength=self.n_groups)
        total = 0.0
        for g in np.flatnonzero(g_mult > 0):
            ag = self.fitting_agents(int(g), capacity)
            price = (lam[:, ag] * self.group_usage[:, g][:, None]).sum(axis=0).min(initial=1.0)
            total += g_mult[g] * min(1.0, float(price))
        value = total - float((lam * capacity).sum())
        return max(0, int(np.ceil(value - 1e-4)))

    def ascend(
        self, lam: np.ndarray, multiplicity: np.ndarray, unassigned_cost: np.ndarray, capacity: np.ndarray,
        iterations: int = 30, temperatures: tuple[float, ...] = (1.0, 0.25), time_limit: float | None = None,
        count_cut: tuple[int, float] | None = None,
    ) -> tuple[np.ndarray, float]:
        """Capacity multipliers [R, m] that raise `lagrangian`, climbing from `lam`, and the
        count cut's multiplier climbed with them (from `count_cut` = (k, mu); 0.0 without).

        The Lagrangian is concave but not smooth (each item takes the minimum of its options),
        which makes subgradient steps zigzag. Here each minimum is replaced by a soft minimum at
        temperature tau (``-tau log sum exp(-option / tau)``, in cost units): smooth and
        concave, so L-BFGS-B (scipy, multipliers >= 0) climbs it quickly; the soft value lies
        below the true one by at most tau x log(options) per unit, so a lower temperature
        follows. `iterations` per temperature (deterministic); `time_limit` (seconds) is a
        cap for wall-clock runs, shared equally by the temperatures.

        L-BFGS-B climbs in multipliers per *unit's usage* (each resource's multipliers times
        the mean usage of a unit, the count cut's as they are): in caseload points (hundreds
        per client) against clients (one), the curvature of the two rows differs ~10^4-fold,
        which a quasi-Newton start with one scale cannot see. 50k `--seed 2`, from the plan's
        duals (29 444 749), 4.3 s: 29 444 565 unscaled, 29 460 407 scaled; the generated region
        21 233 227 -> 21 239 481 unscaled, 21 255 179 scaled (2026-12-06).
        Returns the multipliers of the best *true* value met (each evaluation has it: the sum
        of the hard minima), so never worse than the start's; evaluate them with `lagrangian`
        for the bound (any multipliers give a valid one)."""
        from scipy.optimize import minimize

        t_end = None if time_limit is None else time.perf_counter() + time_limit
        R, m = capacity.shape
        cap = np.maximum(np.asarray(capacity, dtype=float), 0.0)
        k_cut, mu0 = _count_cut(count_cut)
        cut = k_cut > 0
        blocks = []
        lone = 0.0  # units with no fitting agent: always unassigned, each worth -mu in the value
        for g, items in enumerate(self.group_items()):
            ag = self.fitting_agents(g, cap)
            if len(items) and len(ag):
                blocks.append((multiplicity[items].astype(float), unassigned_cost[items].astype(float), ag,
                               self.cost_matrix(items, ag).astype(float), self.group_usage[:, g].astype(float)))
            elif len(items):
                lone += float(multiplicity[items].sum())
        # the climb's variables: multipliers per unit's usage (see above)
        g_units = np.bincount(self.item_group, weights=multiplicity, minlength=self.n_groups)
        per_unit = np.maximum(self.group_usage.astype(float) @ g_units / max(float(g_units.sum()), 1.0), 1e-9)
        scale = np.repeat(per_unit, m)
        if cut:
            scale = np.append(scale, 1.0)
        x0 = np.maximum(np.asarray(lam, dtype=float), 0.0).ravel()
        if cut:
            x0 = np.append(x0, mu0)
        x0 = x0 * scale
        best = {"value": -np.inf, "x": x0, "true": -np.inf, "x_true": x0}

        class _OutOfTime(Exception):
            pass

        until = {"t": t_end}  # the running temperature's share of the time

        def negative(z: np.ndarray, tau: float):
            if until["t"] is not None and time.perf_counter() > until["t"]:
                raise _OutOfTime
            x = z / scale
            lam_ = x[: R * m].reshape(R, m)
            mu = float(x[R * m]) if cut else 0.0
            value = -float((lam_ * cap).sum()) + mu * (k_cut - lone)
            true = value
            grad = -cap.copy()
            g_mu = k_cut - lone
            for mult, u, ag, cost, use in blocks:
                red = cost + (use @ lam_[:, ag])[None, :]
                u_ = u - mu
                low = np.minimum(red.min(axis=1), u_)
                e = np.exp(-(red - low[:, None]) / tau)
                e_u = np.exp(-(u_ - low) / tau)
                total = e.sum(axis=1) + e_u
                value += float((mult * (low - tau * np.log(total))).sum())
                true += float((mult * low).sum())
                grad[:, ag] += use[:, None] * (e * (mult / total)[:, None]).sum(axis=0)[None, :]  # agents of a group are distinct
                g_mu -= float((mult * e_u / total).sum())
            if value > best["value"]:
                best["value"], best["x"] = value, z.copy()
            if true > best["true"]:
                best["true"], best["x_true"] = true, z.copy()
            g_all = grad.ravel() if not cut else np.append(grad.ravel(), g_mu)
            return -value, -g_all / scale

        for i, tau in enumerate(temperatures):
            best["value"] = -np.inf  # values at different temperatures do not compare
            start = best["x"]
            if t_end is not None:
                # each temperature an equal share of the time left (50k `--seed 2`, 4.3 s:
                # 29 456 537 when the first took its 30 iterations first, 29 460 407 shared)
                until["t"] = time.perf_counter() + (t_end - time.perf_counter()) / (len(temperatures) - i)
            try:
                minimize(negative, start, args=(float(tau),), jac=True, method="L-BFGS-B",
                         bounds=[(0.0, None)] * len(start), options={"maxiter": int(iterations)})
            except _OutOfTime:
                pass
        x = best["x_true"] / scale
        return x[: R * m].reshape(R, m), (float(x[R * m]) if cut else 0.0)


@dataclass
class PlacementPlan:
    """An integer assignment over all eligible pairs, from the placement LP."""

    items: np.ndarray  # int64 [T] item of each triple
    agents: np.ndarray  # int64 [T]
    quantity: np.ndarray  # int64 [T]
    lp_value: float  # a lower bound: the Lagrangian at the capacity duals in `multipliers`, see `placement_plan`
    min_unassigned: float  # fewest units that must stay unassigned (LP, fractional)
    multipliers: np.ndarray  # [R, m] capacity duals in cost units (a Lagrangian start)
    unassigned: int  # units the integer plan leaves unassigned
    seconds: float
    group_short: np.ndarray | None = None  # LP units unassigned per group
    gathered: dict | None = None  # what `consolidate` did: units placed, operations, batches
    passes: list | None = None  # per pass: cost (unassigned included), unassigned, seconds
    cut_multiplier: float = 0.0  # with `multipliers`: the dual of "at least `fewest_units` unassigned"
    fewest_units: int = 0  # units every assignment leaves unassigned (certified, see `PairCatalogue.fewest_unassigned`)
    count_multipliers: np.ndarray | None = None  # [R, m] the count LP's capacity duals, which certify it
    exchanged: dict | None = None  # what `exchange` did: moves, swaps, chains, gain, rounds, seconds, cost after
    lp_method: str = "dual simplex"  # how the group LP was solved (wall-clock runs race two ways)


def placement_plan(
    cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray, unassigned_cost: np.ndarray,
    time_limit: float = 10.0, deterministic: bool = True, seed: int = 0, refine: bool = True,
    profile_table: int | None = None, profile_width: int = 6, exchange_share: float = 0.15, improve: bool = True,
    progress: ProgressCallback | None = None, lean_if_all_fit: bool = False,
) -> PlacementPlan | None:
    """Place as many units as the capacities allow over every eligible pair, keeping as many
    units with their current agent as possible, and return an integer plan.

    LP over groups x agents: `s[g,a]` units of g kept at their current agent a (at most the
    units there now, reward `handover`), `y[g,a]` units of g placed at a (cost: the mean
    pair cost of g's units at a, handover aside), `u[g]` units unassigned (cost: unassigned
    cost - handover, since an unassigned unit pays no handover). Rows: each group's units
    add up; each agent's usage per resource within its capacity. The unassigned cost
    dominates, so the LP's unassigned units are the fewest any assignment can leave
    (`min_unassigned`, fractional). The mean costs are estimates, so the LP's value is no
    bound; `lp_value` is the Lagrangian over every eligible pair at the LP's capacity duals
    (`PairCatalogue.lagrangian`), which is one. Solved to optimality or None is returned.
    Where units must stay unassigned, the same LP re-solved for the count alone gives duals
    that certify the whole number every assignment leaves (`fewest_units`, the bound's
    count cut).
    Rounding: `_round_quotas`, then `consolidate`. Quotas become concrete items by
    `_fill_by_type` (min-cost flows with the real pair costs). With `improve`, the plan kept
    ends with `exchange` (moves, swaps and chains over every eligible pair); in wall-clock
    runs the optional passes below leave it `exchange_share` of the time limit.

    With `profile_table` (the index of the cost table whose key splits groups into profiles:
    the clients' target sectors), the plan comes from a *profile LP* first (`_profile_lp`):
    groups split into profiles, each placement priced at what that profile's clients cost
    there, the groups the group LP leaves units of held to its placements; it is made
    integer the same way (twice, with another seed, when time is left), and the profile
    LP's duals replace the group LP's as the Lagrangian start when they give more. The
    group LP's own plan follows only when the profile plan leaves out more than one unit
    above the LP's fewest (the cheaper plan is kept). 50k (2026-12-04): the group plan
    21 586 314; the profile plan 21 451 748-21 463 529, 201 unassigned in every run, ~19 s.

    With `refine` and no profile pass, a second pass re-solves the LP (from its basis) with
    each placement column the first filling used costing the mean of the units it put
    there, which is what that placement really costs; the plan of lower cost is kept, made
    in wall-clock runs when 0.75 of the first pass's time is left. Measured at 50k
    (2026-12-03): -13 000 and -15 000 in two runs of three, the third's second plan left
    one more unassigned and was dropped; 12.5 s. After a profile plan it made things worse.

    `progress` hears each stage, as the share of `time_limit` used when it starts.

    `lean_if_all_fit`: where the LP leaves no unit out, the caller starts from an LP over its
    candidate pairs instead (`solve.lp_start`), so the plan only ranks room and is the
    fallback: one rounding, no exchange (50k, `--seed 3`: the second rounding and the
    exchange took 8 s for 712 149 against the candidate LP's 705 814)."""

    t0 = time.perf_counter()
    cb = progress or no_progress

    def stage(message: str) -> None:
        cb(min(0.99, (time.perf_counter() - t0) / max(time_limit, 1e-9)), 1.0, message)

    R, m = capacity.shape
    G = cat.n_groups
    h = float(cat.handover)
    mult = np.asarray(multiplicity, dtype=np.int64)
    g_of = cat.item_group
    g_mult = np.bincount(g_of, weights=mult, minlength=G)
    sizes = np.diff(cat.group_start)
    y_g = np.repeat(np.arange(G), sizes)
    y_a = cat.group_agent
    Y = len(y_a)
    # stay columns: (group, agent) with units there that could stay
    has_stay = cat.stay_agent >= 0
    sk = g_of[has_stay] * m + cat.stay_agent[has_stay]
    s_key, s_inv = np.unique(sk, return_inverse=True)
    s_ub = np.bincount(s_inv, weights=mult[has_stay], minlength=len(s_key))
    s_g, s_a = s_key // m, s_key % m
    S = len(s_key)
    g_ucost = np.zeros(G)
    np.maximum.at(g_ucost, g_of, unassigned_cost.astype(float))
    n_var = Y + S + G
    # a placement costs the mean pair cost (handover aside) of the group's units at that
    # agent: an estimate (the flow later picks which units go), but it steers each group to
    # the agents that suit its clients, and its vertices round better (fewer left unplaced)
    est = np.zeros(Y)
    for g, items in enumerate(cat.group_items()):
        ag = cat.agents_of(g)
        if len(items) and len(ag):
            w = mult[items].astype(float)
            est[cat.group_start[g]: cat.group_start[g + 1]] = (w @ cat.cost_matrix(items, ag, handover=False)) / max(w.sum(), 1.0)
    s_pos = np.searchsorted(y_g * m + y_a, s_g * m + s_a)  # every stay column has its y column
    cost = np.concatenate([est, est[s_pos] - h, g_ucost - h])
    col_g = np.concatenate([y_g, s_g, np.arange(G)])
    a_eq, a_ub = _group_rows(cat, col_g, np.concatenate([y_a, s_a]), m)
    b_ub = np.maximum(capacity, 0).astype(float).ravel()
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[Y: Y + S, 1] = s_ub
    # wall-clock runs race dual simplex and interior point for it (see `_PlacementLP`)
    lp = _PlacementLP(cost, a_eq, g_mult, a_ub, b_ub, bounds, race=not deterministic)
    stage(f"placement plan: LP over every eligible pair ({G} eligibility groups x {m} coaches)")
    got = lp.solve(max(1.0, time_limit))
    if got is None:
        return None  # not solved to optimality within the limit: no plan, no bound from it
    vals, lam = got
    lam = lam.reshape(R, m)
    lp_value, _ = cat.lagrangian(lam, mult, unassigned_cost, np.maximum(capacity, 0))
    u_lp = vals[Y + S:]
    # the fewest units any assignment leaves unassigned, whole: the LP that minimises the
    # units left (the same rows, from this basis; 50k: no iteration, 0.03 s), certified by its
    # duals. Its ceiling is a cut the bound may use (`PairCatalogue.lagrangian`)
    fewest, count_lam = 0, None
    if u_lp.sum() > 1e-6:
        got_c = lp.solve(max(1.0, 0.1 * time_limit), cost=np.concatenate([np.zeros(Y + S), np.ones(G)]))
        if got_c is not None:
            count_lam = got_c[1].reshape(R, m)
            fewest = cat.fewest_unassigned(count_lam, mult, np.maximum(capacity, 0))

    passes = []
    best = {}
    # wall-clock runs: the optional passes (a second rounding, the group plan after a profile
    # plan, the re-priced pass) leave `exchange_share` of the time to the exchange, which gains
    # more (50k, `--seed 2`: the second rounding 0, the exchange 30 000)
    passes_limit = time_limit * (1.0 - exchange_share)

    def integer_plan(vals, cost, kind, t_start, seed=seed):
        # integer quotas: keep the LP's whole units, less one on every split column, and solve
        # what is left (a few hundred units on the capacity the LP split) with the engine,
        # limited in work, in wall-clock runs too: the budget comes from the time limit, not
        # from the clock, so that the plan does not depend on the machine's speed (50k,
        # wall-clock, 3 s: 201 or 202 unassigned from one run to the next, which is 0.9 % or
        # 1.3 % of gap; a quarter of it in work, 2.9 s here, gives 201 on the generated
        # region and 284 on `--seed 2`, run after run)
        budget = float(np.clip(0.5 * time_limit, 0.5, 3.0))
        stage(f"placement plan: rounding ({kind})")
        yq, sq = _round_quotas(cat, vals[:Y], vals[Y: Y + S], y_g, y_a, s_g, s_a, s_ub, cost, g_mult, capacity,
                               work=0.25 * budget, seed=seed)
        # gather the room integer packing leaves scattered, so that more units fit
        quota = np.zeros((G, m), dtype=np.int64)
        np.add.at(quota, (y_g, y_a), yq)
        np.add.at(quota, (s_g, s_a), sq)
        fill, gathered = _gather_and_fill(cat, quota, mult, capacity, unassigned_cost, lp_short=vals[Y + S:])
        total = filling_cost(cat, *fill, mult, unassigned_cost)
        passes.append({"cost": total, "unassigned": int(mult.sum() - fill[2].sum()),
                       "seconds": round(time.perf_counter() - t_start, 2), "kind": kind})
        if not best or total < best["cost"]:  # the plan of lower cost (unassigned included) is kept
            best.update(cost=total, fill=fill, gathered=gathered, unassigned=passes[-1]["unassigned"])

    got_p = None
    lean = lean_if_all_fit and u_lp.sum() < 0.5
    if profile_table is not None:
        # profile pass first: the LP again with each group split by its clients' key in one
        # cost table (their target sectors), so that a placement costs what *those* clients
        # cost there; each group the LP leaves units of unassigned keeps the group LP's
        # placements at every agent, and no more units are left out than there, so that as
        # many are placed
        t1 = time.perf_counter()
        stage("placement plan: LP by target sector")
        got_p = _profile_lp(cat, mult, capacity, unassigned_cost, profile_table, vals, y_g, y_a, s_key, m,
                            held=u_lp > 1e-6, time_limit=max(1.0, time_limit - (t1 - t0)), width=profile_width,
                            fewest=fewest)
        if got_p is not None:
            t_int = time.perf_counter()
            integer_plan(got_p[0], cost, "profiles", t1)
            t2 = time.perf_counter()
            if not deterministic and not lean and (t2 - t0) + 1.1 * (t2 - t_int) <= passes_limit:
                # time left (the LPs are done): the rounding again with another seed, whose
                # residual search (wall-clock) ends elsewhere
                integer_plan(got_p[0], cost, "profiles, second rounding", t2, seed=seed + 1)
    # the group LP's own plan: when there is no profile plan, or (time allowing) when the
    # profile plan leaves out more than one unit above the LP's fewest
    if not best or (best["unassigned"] > np.ceil(u_lp.sum() - 1e-6) + 1
                    and (deterministic or (time.perf_counter() - t0) + 0.6 * passes[0]["seconds"] <= passes_limit)):
        integer_plan(vals, cost, "groups", time.perf_counter())
    elapsed = time.perf_counter() - t0
    # the re-priced pass follows the group plan alone: after a profile plan it made things
    # worse (50k: 21 649 840 against 21 530 010, when the profile plan was still whole)
    if refine and len(passes) == 1 and passes[0]["kind"] == "groups" and (
            deterministic or elapsed + 0.75 * passes[0]["seconds"] <= passes_limit):
        # re-priced pass: the group LP again from its basis, each placement column the
        # filling used costing the mean of the units it put there (what such a placement
        # really costs, not the group's mean)
        t1 = time.perf_counter()
        est2 = est.copy()
        items_a, agents_a, qty_a = best["fill"]
        base = cat.cost(items_a, agents_a) - np.where(cat.move(items_a, agents_a), cat.handover, 0)
        uk, inv = np.unique(g_of[items_a] * m + agents_a, return_inverse=True)
        mean = np.bincount(inv, weights=base * qty_a) / np.maximum(np.bincount(inv, weights=qty_a), 1)
        est2[np.searchsorted(y_g * m + y_a, uk)] = mean  # every filled pair is eligible: it has its column
        cost2 = np.concatenate([est2, est2[s_pos] - h, g_ucost - h])
        got2 = lp.solve(max(1.0, time_limit - elapsed), cost=cost2)
        if got2 is not None:
            integer_plan(got2[0], cost2, "re-priced", t1)
    mu = 0.0
    # deterministic runs wait for them (what the bound starts from must not depend on the clock)
    profile_duals = got_p[1](wait=deterministic) if got_p is not None else None
    if profile_duals is not None:
        # the profile LP's duals (with the count cut's): a better start for the bound when
        # they give more
        value, _ = cat.lagrangian(profile_duals[0], mult, unassigned_cost, np.maximum(capacity, 0),
                                  count_cut=(fewest, profile_duals[1]))
        if value > lp_value:
            lp_value, lam, mu = value, profile_duals[0], profile_duals[1]
    fill, exchanged = best["fill"], None
    if improve and not lean:
        # last: moves, swaps and chains over every eligible pair lower the cost of the plan kept,
        # in what is left of the time limit; where the stages before ran over it (a slower
        # machine: 50k, the plan's LPs and rounding took 45 s of its 37.5 s), half its share,
        # which holds the first rounds, where the gain is (50k: 18 247, 6 753, 1 273, 302)
        left = time_limit - (time.perf_counter() - t0)
        stage("placement plan: moves, swaps and chains")
        fill, exchanged = exchange(cat, fill, mult, capacity, unassigned_cost,
                                   time_limit=None if deterministic else max(0.5 * exchange_share * time_limit, left))
        exchanged["cost"] = filling_cost(cat, *fill, mult, unassigned_cost)
    items_a, agents_a, qty_a = fill
    cb(1.0, 1.0, "placement plan: done")
    return PlacementPlan(
        items=items_a, agents=agents_a, quantity=qty_a, lp_value=lp_value,
        min_unassigned=float(u_lp.sum()), multipliers=lam, cut_multiplier=mu, unassigned=int(mult.sum() - qty_a.sum()),
        seconds=time.perf_counter() - t0, group_short=np.asarray(u_lp, dtype=float), gathered=best["gathered"],
        passes=passes, fewest_units=fewest, count_multipliers=count_lam, exchanged=exchanged, lp_method=lp.method,
    )


def _profile_lp(cat: PairCatalogue, mult: np.ndarray, capacity: np.ndarray, unassigned_cost: np.ndarray,
                table: int, vals: np.ndarray, y_g: np.ndarray, y_a: np.ndarray, s_key: np.ndarray, m: int,
                held: np.ndarray, time_limit: float, width: int = 6,
                fewest: int = 0) -> tuple[np.ndarray, tuple[np.ndarray, float] | None] | None:
    """The placement LP with each group split into *profiles* (its items with the same key in
    cost table `table`: at caseload scale their target sectors), a placement costing the
    mean pair cost of the profile's units there, so that the LP sees which clients suit which
    team. Returns (a point of the group LP: y per eligible group-agent pair, s per stay
    column, u per group; a function giving the duals of the whole profile LP: capacity
    [R, m] and the count cut's, or None if it was not solved; `wait=False` stops it where it
    is still running), or None when no group splits or the plan's LP is not solved within
    `time_limit`.

    Every eligible pair of every profile would be ~10x the group LP; each profile gets the
    `width` agents cheapest for it, its group's agents in the group LP's solution `vals` (so
    the profile LP can do what the group LP did) and its units' current agents. Two LPs over
    these columns, solved at the same time (two threads; HiGHS releases the GIL), each by
    interior point with crossover (50k: 11 523 profiles, ~160k columns, ~9 s; dual simplex
    takes ~40 s):

    * the *whole* profile LP, for its capacity duals: a better start for the Lagrangian bound
      than the group LP's (50k: 21 232 465 against 21 162 854 before the climb). With
      `fewest` > 0 it has the count cut as a row (at least that many units unassigned, which
      every assignment obeys), whose dual starts the cut's multiplier;
    * the plan's LP, in which each `held` group (one the group LP leaves units of
      unassigned) keeps the group LP's total at every agent, and which leaves no more units
      out than the group LP (when its optimum leaves more, a row caps them and it is solved
      again from its basis by dual simplex): the whole LP's own vertex rounds to one or two
      more clients left out than the group LP's (50k: 202-203 against 201), since where
      capacity is short the last points are packed differently, and it trades the last
      fraction of a client for costs the group LP does not see (50k `--seed 1`: 199.95 left
      out against 199.47). Held so, it rounds like the group LP, while every other group
      takes the agents its profiles' costs choose (until late on 2026-12-07 every group was
      held on every agent eligible for a short group, 303 of 400 on `--seed 1`, which cost
      ~90 000 and rounded to 202 there once the homes were kept to 2 decimals).
    """
    key = cat.tables[table][1]
    g_of = cat.item_group
    base = int(key.max(initial=0)) + 1
    p_key, p_of = np.unique(g_of * base + key, return_inverse=True)
    p_of = np.asarray(p_of).ravel()
    P, G = len(p_key), cat.n_groups
    if P <= G:
        return None
    t0 = time.perf_counter()
    parent = p_key // base
    Y, S = len(y_a), len(s_key)
    # the group LP's support per group, and the current agents per profile
    on = np.flatnonzero(vals[:Y] > 1e-7)
    sup_g, sup_a = y_g[on], y_a[on]
    stays = cat.stay_agent >= 0
    ps_key, ps_inv = np.unique(p_of[stays] * m + cat.stay_agent[stays], return_inverse=True)  # stay columns
    ps_g, ps_a = ps_key // m, ps_key % m
    ps_bounds = np.searchsorted(ps_g, np.arange(P + 1))
    order = np.argsort(p_of, kind="stable")
    p_bounds = np.searchsorted(p_of[order], np.arange(P + 1))
    sup_order = np.argsort(sup_g, kind="stable")
    sup_bounds = np.searchsorted(sup_g[sup_order], np.arange(G + 1))
    w_all = mult.astype(float)
    cg, ca, cc = [], [], []
    for p in range(P):
        items = order[p_bounds[p]: p_bounds[p + 1]]
        g = int(parent[p])
        agents = cat.agents_of(g)
        if len(items) == 0 or len(agents) == 0:
            continue
        w = w_all[items]
        mean = (w @ cat.cost_matrix(items, agents, handover=False)) / max(w.sum(), 1.0)
        keep = np.zeros(len(agents), dtype=bool)
        keep[np.argsort(mean, kind="stable")[:width]] = True
        keep |= np.isin(agents, np.concatenate([sup_a[sup_order[sup_bounds[g]: sup_bounds[g + 1]]],
                                                 ps_a[ps_bounds[p]: ps_bounds[p + 1]]]))
        cg.append(np.full(int(keep.sum()), p, dtype=np.int64))
        ca.append(agents[keep])
        cc.append(mean[keep])
    c_g, c_a, c_cost = np.concatenate(cg), np.concatenate(ca), np.concatenate(cc)
    srt = np.lexsort((c_a, c_g))
    c_g, c_a, c_cost = c_g[srt], c_a[srt], c_cost[srt]
    ps_ub = np.bincount(ps_inv, weights=mult[stays], minlength=len(ps_key))
    ps_pos = np.searchsorted(c_g * m + c_a, ps_key)  # every stay has its column (current agents were added)
    Yp, Sp = len(c_g), len(ps_key)
    h = float(cat.handover)
    p_ucost = np.zeros(P)
    np.maximum.at(p_ucost, p_of, unassigned_cost.astype(float))
    cost = np.concatenate([c_cost, c_cost[ps_pos] - h, p_ucost - h])
    profiles = PairCatalogue(item_group=p_of.astype(np.int64), group_start=np.zeros(P + 1, dtype=np.int64),
                             group_agent=np.zeros(0, dtype=np.int64), group_usage=cat.group_usage[:, parent],
                             stay_agent=cat.stay_agent, handover=cat.handover, tables=cat.tables)
    a_eq, a_ub = _group_rows(profiles, np.concatenate([c_g, ps_g, np.arange(P)]), np.concatenate([c_a, ps_a]), m)
    bounds = np.zeros((len(cost), 2))
    bounds[:, 1] = np.inf
    bounds[Yp: Yp + Sp, 1] = ps_ub
    b_eq = np.bincount(p_of, weights=mult, minlength=P)
    b_ub = np.maximum(capacity, 0).astype(float).ravel()
    # the plan's LP: the same, with each held group's total on each agent held to the group
    # LP's (and nothing where that is 0)
    group_total = np.zeros(G * m)
    np.add.at(group_total, y_g * m + y_a, vals[:Y])
    np.add.at(group_total, s_key, vals[Y: Y + S])
    col_key = np.concatenate([parent[c_g] * m + c_a, parent[ps_g] * m + ps_a])
    on_held = held[col_key // m]
    kept = np.flatnonzero(on_held & (group_total[col_key] > 1e-9))
    bounds_held = bounds.copy()
    bounds_held[np.flatnonzero(on_held & (group_total[col_key] <= 1e-9)), 1] = 0.0
    keys, row = np.unique(col_key[kept], return_inverse=True)
    rows = sp.csr_matrix((np.ones(len(kept)), (row, kept)), shape=(len(keys), len(cost)))
    a_cut, b_cut = a_ub, b_ub
    if fewest > 0:  # -sum(u) <= -fewest
        cut_row = sp.csr_matrix((np.full(P, -1.0), (np.zeros(P, dtype=np.int64), Yp + Sp + np.arange(P))), shape=(1, len(cost)))
        a_cut, b_cut = sp.vstack([a_ub, cut_row]).tocsr(), np.append(b_ub, -float(fewest))
    lps = {"plan": _PlacementLP(cost, sp.vstack([a_eq, rows]).tocsr(), np.concatenate([b_eq, group_total[keys]]),
                                a_ub, b_ub, bounds_held, interior=True),
           "duals": _PlacementLP(cost, a_eq, b_eq, a_cut, b_cut, bounds, interior=True)}
    # both at once: HiGHS releases the GIL, and the plan has the machine's second core idle
    got = {}
    limit = max(1.0, time_limit - (time.perf_counter() - t0))
    threads = [threading.Thread(target=lambda k=k: got.__setitem__(k, lps[k].solve(limit))) for k in lps]
    for th in threads:
        th.start()
    # the plan's LP is rounded next; the whole LP's duals are wanted only when the plan is done,
    # so that LP goes on beside the rounding, and where it has not finished by then (wall
    # clock) it is stopped and the group LP's duals stay the bound's start. 50k, `--seed 2`:
    # the plan's LP took 10.7 s, the whole LP ran into its time limit after 31.1 s without a
    # solution, and the plan waited for it (profile LPs 6.2 -> 38.1 s; the run 58 s)
    threads[0].join()

    def duals(wait: bool = True) -> tuple[np.ndarray, float] | None:
        while threads[1].is_alive() and not wait:
            lps["duals"].cancel()
            threads[1].join(0.05)
        threads[1].join()
        if got.get("duals") is None:
            return None
        d = got["duals"][1]
        return d[: len(b_ub)].reshape(capacity.shape), float(d[len(b_ub)]) if fewest > 0 else 0.0

    if got.get("plan") is None:
        duals(wait=False)
        return None
    x = got["plan"][0]
    group_out = float(vals[Y + S:].sum())
    if x[Yp + Sp:].sum() > group_out + 1e-6:
        # it left out more than the group LP: at most as many, from this basis (50k, `--seed 1`:
        # 2.9 s; rounded, 201 left out with each of the 6 seeds tried, 202 with 5 of 8 without)
        capped = lps["plan"].cap_sum(Yp + Sp + np.arange(P), group_out + 1e-6,
                                     max(1.0, time_limit - (time.perf_counter() - t0)))
        if capped is not None:
            x = capped
    out = np.zeros(Y + S + G)
    np.add.at(out, np.searchsorted(y_g * m + y_a, parent[c_g] * m + c_a), x[:Yp])
    np.add.at(out, Y + np.searchsorted(s_key, parent[ps_g] * m + ps_a), x[Yp: Yp + Sp])
    np.add.at(out, Y + S + parent, x[Yp + Sp:])
    return out, duals


class _PlacementLP:
    """The placement LP in HiGHS (highspy), kept so that a second solve with other costs
    starts from the first one's basis (which stays primal feasible: primal simplex).

    `interior`: the first solve by interior point, then crossover to a vertex (which rounds
    well). `race`: the first solve by dual simplex and by interior point at once, in two
    threads (HiGHS releases the GIL); the first to finish is kept and the other cancelled.
    Which is faster depends on the region: the group LP at 50k (2026-12-07, one machine)
    took 12.5 s by dual simplex and 7.9 s by interior point on the generated region, 4.8 s
    and 10.3 s on `--seed 3` (everyone fits); raced, 7.6 s and 4.8 s. Which vertex comes
    out then depends on the clock, so deterministic runs do not race."""

    def __init__(self, cost, a_eq, b_eq, a_ub, b_ub, bounds, interior: bool = False, race: bool = False) -> None:
        import highspy

        n = len(cost)
        inf = highspy.kHighsInf
        ub = np.where(np.isfinite(bounds[:, 1]), bounds[:, 1], inf).astype(float)
        a = sp.vstack([a_eq, a_ub]).tocsr()
        lower = np.concatenate([np.asarray(b_eq, dtype=float), np.full(a_ub.shape[0], -inf)])
        upper = np.concatenate([np.asarray(b_eq, dtype=float), np.asarray(b_ub, dtype=float)])

        def model(ipm: bool):
            from scheduling.lp import new_highs

            h = new_highs()
            if ipm:
                h.setOptionValue("solver", "ipm")
            empty = np.zeros(0, dtype=np.int32)
            h.addCols(n, np.asarray(cost, dtype=float), bounds[:, 0].astype(float), ub, 0, empty, empty, np.zeros(0))
            h.addRows(a.shape[0], lower, upper, a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                      a.data.astype(float))
            return h

        self.h, self.n, self.n_eq, self.n_cap = model(interior), n, a_eq.shape[0], a_ub.shape[0]
        self._rival = model(True) if race and not interior else None
        #: how the first solve went: "dual simplex" or "interior point" (the race's winner)
        self.method = "interior point" if interior else "dual simplex"
        self._highspy = highspy
        self._solved = False

    def _race(self, time_limit: float) -> None:
        """The first solve, both ways at once: `self.h` becomes the one that finished first."""
        optimal = self._highspy.HighsModelStatus.kOptimal
        runners = {"dual simplex": self.h, "interior point": self._rival}
        lock, won = threading.Lock(), []

        def run(name: str) -> None:
            h = runners[name]
            h.HandleUserInterrupt = True
            h.setOptionValue("time_limit", float(time_limit))
            h.run()
            with lock:
                if not won and h.getModelStatus() == optimal:
                    won.append(name)
                    for other, o in runners.items():
                        if other != name:
                            o.cancelSolve()

        threads = [threading.Thread(target=run, args=(name,), name=f"placement-lp-{name}") for name in runners]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.method = won[0] if won else "dual simplex"
        self.h, self._rival = runners[self.method], None
        self.h.HandleUserInterrupt = False

    def cancel(self) -> None:
        """Stop a solve running in another thread: it returns None (a solve not started yet
        is not affected, so the caller repeats this until the thread has ended)."""
        self.h.cancelSolve()

    def cap_sum(self, columns: np.ndarray, upper: float, time_limit: float) -> np.ndarray | None:
        """Column values at the optimum once the sum of `columns` is at most `upper` (a row
        added to the solved LP, then dual simplex from its basis), or None if that is not
        reached within `time_limit`. Its dual is not among the capacity multipliers."""
        h = self.h
        h.addRow(-self._highspy.kHighsInf, float(upper), len(columns), np.asarray(columns, dtype=np.int32),
                 np.ones(len(columns)))
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)
        limit_time(h, time_limit)
        h.run()
        if h.getModelStatus() != self._highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value, dtype=float)

    def solve(self, time_limit: float, cost: np.ndarray | None = None):
        """(column values, capacity multipliers >= 0 per capacity row) at optimality, else None."""
        if cost is not None:
            for h in (self.h, self._rival):
                if h is not None:
                    h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.asarray(cost, dtype=float))
        h = self.h
        # first solve: dual simplex (or interior point, or both raced); after a change of
        # costs the basis stays primal feasible: primal simplex from it
        if self._solved:
            h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 4 if self._solved else 1)
        if self._rival is not None:
            self._race(time_limit)
            h = self.h
        else:
            limit_time(h, time_limit)
            h.HandleUserInterrupt = True  # `cancel` from another thread
            h.run()
            h.HandleUserInterrupt = False
        if h.getModelStatus() != self._highspy.HighsModelStatus.kOptimal:
            return None
        self._solved = True
        sol = h.getSolution()
        duals = -np.asarray(sol.row_dual, dtype=float)[self.n_eq: self.n_eq + self.n_cap]
        return np.asarray(sol.col_value, dtype=float), np.maximum(0.0, duals)


def filling_cost(cat: PairCatalogue, items: np.ndarray, agents: np.ndarray, qty: np.ndarray,
               multiplicity: np.ndarray, unassigned_cost: np.ndarray) -> int:
    """Pair costs of a filling plus the unassigned cost of every unit it leaves out."""
    placed = np.bincount(items, weights=qty, minlength=len(multiplicity))
    return int((cat.cost(items, agents) * qty).sum() + ((multiplicity - placed) * unassigned_cost).sum())


def _group_rows(cat: PairCatalogue, col_g: np.ndarray, col_a: np.ndarray, m: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Rows of an LP over groups x agents. Column k belongs to group `col_g[k]`; the first
    `len(col_a)` columns place units at agent `col_a[k]`, the rest are unassigned columns.
    Returns (group equalities [G, n], agent capacities per resource [R*m, n])."""
    n_var, n_place = len(col_g), len(col_a)
    a_eq = sp.csr_matrix((np.ones(n_var), (col_g, np.arange(n_var))), shape=(cat.n_groups, n_var))
    a_ub = sp.vstack([sp.csr_matrix((cat.group_usage[r][col_g[:n_place]].astype(float), (col_a, np.arange(n_place))),
                                    shape=(m, n_var)) for r in range(cat.group_usage.shape[0])]).tocsr()
    return a_eq, a_ub


def _fill_by_type(cat: PairCatalogue, quota: np.ndarray, multiplicity: np.ndarray,
                  unassigned_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concrete items for integer group quotas [groups, agents]: (items, agents, quantities).

    Groups whose units use the same amount of every resource form a *type*; a type's slots at
    an agent are its groups' quotas there. Any two units of one type can trade places without
    changing a capacity, so per type one min-cost flow (OR-Tools) sends the type's items to
    its slots over every eligible pair at the real pair costs (handover included: a unit
    stays with its current agent unless that costs more elsewhere); a unit that gets no slot
    stays unassigned at its unassigned cost. This is the cheapest filling of those slots,
    and it may trade units between groups of a type, which the quotas alone do not."""
    from ortools.graph.python import min_cost_flow

    _, type_of = np.unique(cat.group_usage.T, axis=0, return_inverse=True)
    type_of = np.asarray(type_of).ravel()
    g_items = cat.group_items()
    out_i, out_a, out_q = [], [], []
    for t in range(int(type_of.max(initial=-1)) + 1):
        groups = np.flatnonzero(type_of == t)
        slots = quota[groups].sum(axis=0)
        members = [g_items[g] for g in groups]
        items = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
        if len(items) == 0 or not (slots > 0).any():
            continue
        n = len(items)
        open_agents = np.flatnonzero(slots > 0)
        node = np.full(len(slots), -1, dtype=np.int64)
        node[open_agents] = n + np.arange(len(open_agents))
        sink = n + len(open_agents)
        tails, heads, costs = [], [], []
        offset = 0
        for g, its in zip(groups, members):
            ag = cat.agents_of(g)
            ag = ag[slots[ag] > 0]
            if len(its) and len(ag):
                tails.append(np.repeat(offset + np.arange(len(its)), len(ag)))
                heads.append(np.tile(node[ag], len(its)))
                costs.append(cat.cost_matrix(its, ag).ravel())
            offset += len(its)
        n_pair = int(sum(len(x) for x in tails))
        sup = multiplicity[items].astype(np.int64)
        tail = np.concatenate(tails + [np.arange(n), node[open_agents]])
        head = np.concatenate(heads + [np.full(n, sink), np.full(len(open_agents), sink)])
        cap = np.concatenate([sup[tail[:n_pair]], sup, slots[open_agents]]).astype(np.int64)
        cost = np.concatenate(costs + [unassigned_cost[items].astype(np.int64), np.zeros(len(open_agents), dtype=np.int64)])
        f = min_cost_flow.SimpleMinCostFlow()
        f.add_arcs_with_capacity_and_unit_cost(tail.astype(np.int32), head.astype(np.int32), cap, cost.astype(np.int64))
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[:n] = sup
        supplies[sink] = -int(sup.sum())
        f.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
        if f.solve() != f.OPTIMAL:
            raise RuntimeError(f"the filling of type {t}'s slots did not solve")  # always feasible: every unit may stay unassigned
        flow = f.flows(np.arange(n_pair, dtype=np.int32))
        on = np.flatnonzero(flow > 0)
        out_i.append(items[tail[on]])
        out_a.append(open_agents[head[on] - n])
        out_q.append(flow[on].astype(np.int64))
    if not out_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_i), np.concatenate(out_a), np.concatenate(out_q)


def _gather_and_fill(cat: PairCatalogue, quota: np.ndarray, multiplicity: np.ndarray, capacity: np.ndarray,
                     unassigned_cost: np.ndarray, lp_short: np.ndarray | None = None) -> tuple[tuple, dict]:
    """Integer quotas [groups, agents] made whole: `consolidate` gathers the room integer
    packing leaves scattered so that more units fit, then each usage type's slots get the
    cheapest concrete items (`_fill_by_type`). Returns the filling and what gathering did."""
    g_mult = np.bincount(cat.item_group, weights=multiplicity, minlength=cat.n_groups)
    quota, gathered = consolidate(cat, quota, np.maximum(capacity, 0), g_mult, lp_short=lp_short)
    return _fill_by_type(cat, quota, multiplicity, unassigned_cost), gathered


def complete(cat: PairCatalogue, fill: tuple[np.ndarray, np.ndarray, np.ndarray], multiplicity: np.ndarray,
             capacity: np.ndarray, unassigned_cost: np.ndarray, time_limit: float | None = None,
             lighten: float = 0.0) -> tuple[tuple, dict]:
    """A filling over candidate pairs (an LP over them rounded) made whole over every
    eligible pair: the units it leaves out placed by gathering room, every slot filled again by
    type at the real pair costs (`_gather_and_fill`, evictions tried for every group), then
    `exchange`. For the regime where everyone fits only just (`--seed 3` at 50k: the candidate
    LP rounded leaves 33 heavy clients out, each needing ~3.5 points on coaches that are all
    within 0.9 points of full; gathering places them with ~115 operations).
    With `lighten` > 0, the units left out are first made light: an exchange where leaving out
    one unit of the first resource (0.01 caseload point) costs `lighten` more (10: 1 000 a
    point), see below; in wall-clock runs it gets 0.45 of `time_limit`. `lp_start` uses it
    (50k, `--seed 3`: 705 137 -> 701 117); below the plan's scale (`complete_unplaced`) it
    is off: on 5 000 clients and 40 coaches, `--seed 3`, deterministic, the search left 4
    out; lightened, gathering placed the last 3 with 38 operations instead of the 4 with 21,
    and the run ended 103 higher (106 973 against 106 870). The light units are then placed
    by `insert` (the cheapest move, chain or swap for each; 50k, `--seed 3`: the 26 left
    out, 0.70 points each, for 5 602, and the completion 701 117 -> 699 472), gathering
    taking what it leaves.
    Returns the filling and {"placed", "operations" (gathering's), "lightened" and
    "exchanged": the two exchanges' figures (the first's gain at the weighted cost),
    "inserted": `insert`'s, "seconds"}."""
    t0 = time.perf_counter()
    m = capacity.shape[1]
    items, agents, qty = fill
    left = int(np.asarray(multiplicity).sum() - qty.sum())
    stats: dict = {"placed": 0, "operations": 0}
    table = None  # the three steps below share their cost table (0.3-0.5 s to build at 50k)
    if left and lighten > 0:
        # the units left out made light: the exchange with each unit left out
        # costing `lighten` more per unit of the first resource (points), so that a heavy
        # unit left out takes a lighter unit's place where the room allows, and that one
        # another's, until what is left out needs one step a unit (50k, `--seed 3`: the 33
        # left out, 3.5 points each, become 26 of 0.7)
        weighted = np.asarray(unassigned_cost, dtype=np.float64) + lighten * cat.group_usage[0][cat.item_group]
        share = None if time_limit is None else 0.45 * time_limit
        table = _unit_costs(cat, np.maximum(capacity, 0), unassigned_cost)
        fill, stats["lightened"] = exchange(cat, fill, multiplicity, capacity, weighted, time_limit=share, table=table)
        # then each light unit by the cheapest move, chain or swap that makes room for it
        fill, stats["inserted"] = insert(cat, fill, multiplicity, capacity, unassigned_cost, table=table)
        items, agents, qty = fill
        left = int(np.asarray(multiplicity).sum() - qty.sum())
    if left:
        quota = np.zeros((cat.n_groups, m), dtype=np.int64)
        np.add.at(quota, (cat.item_group[items], agents), qty)
        whole, gathered = _gather_and_fill(cat, quota, multiplicity, capacity, unassigned_cost,
                                           lp_short=np.zeros(cat.n_groups))
        stats.update(placed=gathered["placed"], operations=gathered["operations"])
        if filling_cost(cat, *whole, multiplicity, unassigned_cost) < filling_cost(cat, *fill, multiplicity, unassigned_cost):
            fill = whole
    rest = None if time_limit is None else max(0.1, time_limit - (time.perf_counter() - t0))
    fill, stats["exchanged"] = exchange(cat, fill, multiplicity, capacity, unassigned_cost, time_limit=rest, table=table)
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return fill, stats


def shortfall(cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The fewest units that no assignment can place, with points *and* the client maximum
    (every resource) binding together, over every eligible pair where one unit fits: an LP
    over groups x agents (a lower bound; the integer shortfall can be a little higher). Returns (units, units
    short per group), or None when the LP fails."""
    got = _shortfall_lp(cat, multiplicity, capacity)
    return None if got is None else (float(got[0].sum()), got[0])


def count_certificate(cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray) -> tuple[int, np.ndarray] | None:
    """The whole number of units every assignment leaves unassigned and the capacity
    multipliers [R, m] that certify it (the duals of `shortfall`'s LP, through
    `PairCatalogue.fewest_unassigned`): for the bound's count cut where no placement plan
    gives them. None when the LP fails."""
    got = _shortfall_lp(cat, multiplicity, capacity)
    if got is None:
        return None
    lam = got[1]
    return cat.fewest_unassigned(lam, multiplicity, np.maximum(capacity, 0)), lam


def _shortfall_lp(cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """`shortfall`'s LP: (units short per group, capacity duals [R, m] >= 0) or None."""
    from scipy.optimize import linprog

    R, m = capacity.shape
    G = cat.n_groups
    g_mult = np.bincount(cat.item_group, weights=multiplicity, minlength=G)
    # only the agents with room for one of the group's units: no assignment uses another
    # pair, and the LP would place fractions of units there (an intake of 500 into an
    # approved 50k caseload, where most coaches are full: 0.73 s over every eligible pair)
    room = np.maximum(capacity, 0)
    fits = [cat.fitting_agents(g, room) if g_mult[g] > 0 else np.zeros(0, dtype=np.int64) for g in range(G)]
    y_g = np.repeat(np.arange(G), [len(f) for f in fits])
    Y = len(y_g)
    a_eq, a_ub = _group_rows(cat, np.concatenate([y_g, np.arange(G)]), (np.concatenate(fits) if fits else np.zeros(0)).astype(np.int64), m)
    res = linprog(np.concatenate([np.zeros(Y), np.ones(G)]), A_ub=a_ub, b_ub=room.astype(float).ravel(),
                  A_eq=a_eq, b_eq=g_mult, bounds=(0, None), method="highs")
    if res.status != 0 or res.x is None:
        return None
    lam = np.maximum(0.0, -np.asarray(res.ineqlin.marginals, dtype=float)).reshape(R, m)
    return np.asarray(res.x[Y:], dtype=float), lam


def _round_quotas(cat, y, s, y_g, y_a, s_g, s_a, s_ub, cost, g_mult, capacity, work: float, seed: int = 0):
    """Integer quotas from the LP's (y, s): fix floor - 1 on fractional columns (floor on the
    rest), then solve the residual units on the residual capacities as an assignment core of
    its own (items = groups) with the same engine (`scheduling.solve`: LP, start, CP-SAT
    search), deterministically, in `work` seconds of CP-SAT's deterministic time (the clock,
    at 8 x `work` and at least 2 s, is only a safety net); whatever is still left goes
    greedily to agents with room in every resource. Returns integer (y, s)."""

    R, m = capacity.shape
    G = cat.n_groups
    Y, S = len(y), len(s)
    use = cat.group_usage

    def split(v):
        f = np.floor(v + 1e-7).astype(np.int64)
        frac = (v - f) > 1e-7
        return np.maximum(f - frac, 0)

    yq, sq = split(y), split(s)

    def loads():
        out = np.zeros((R, m), dtype=np.int64)
        for r in range(R):
            out[r] = np.bincount(y_a, weights=yq * use[r][y_g], minlength=m).astype(np.int64)
            out[r] += np.bincount(s_a, weights=sq * use[r][s_g], minlength=m).astype(np.int64)
        return out

    free = np.maximum(capacity, 0) - loads()
    left = (g_mult - np.bincount(y_g, weights=yq, minlength=G) - np.bincount(s_g, weights=sq, minlength=G)).astype(np.int64)
    groups = np.flatnonzero(left > 0)
    on_g = np.zeros(G, dtype=bool)
    on_g[groups] = True
    fits_y = on_g[y_g] & np.all(use[:, y_g] <= free[:, y_a], axis=0)
    if len(groups) and fits_y.any():
        s_room = s_ub - sq
        fits_s = on_g[s_g] & (s_room > 0) & np.all(use[:, s_g] <= free[:, s_a], axis=0)
        cy, cs = np.flatnonzero(fits_y), np.flatnonzero(fits_s)
        g_idx = np.full(G, -1, dtype=np.int64)
        g_idx[groups] = np.arange(len(groups))
        # the residual as an assignment core of its own (items = groups), solved by the engine
        from scheduling.core import AssignmentCore
        from scheduling.solve import SolveOptions, solve_core

        pi = np.concatenate([g_idx[y_g[cy]], g_idx[s_g[cs]]])
        pa = np.concatenate([y_a[cy], s_a[cs]])
        pc = np.concatenate([cost[cy], cost[Y + cs]])
        pc = np.rint(pc - pc.min(initial=0)).astype(np.int64)
        order = np.lexsort((pc, pa, pi))
        pi, pa, pc = pi[order], pa[order], pc[order]
        dup = np.r_[False, (pi[1:] == pi[:-1]) & (pa[1:] == pa[:-1])]
        src = np.concatenate([cy, Y + cs])[order]
        gu = np.concatenate([y_g[cy], s_g[cs]])[order]
        pi, pa, pc, src, gu = pi[~dup], pa[~dup], pc[~dup], src[~dup], gu[~dup]
        sub = AssignmentCore(
            multiplicity=left[groups], pair_item=pi, pair_agent=pa, pair_cost=pc, usage=use[:, gu],
            capacity=free, resource_names=tuple(f"r{r}" for r in range(R)),
            unassigned_cost=np.full(len(groups), int(max(1, np.rint(cost[Y + S:].max()))), dtype=np.int64),
            name="placement/residual",
        )
        # no branch-and-cut first on a small residual: at 20k (deterministic, 6 s) it ran into
        # its 30 s safety net and left 11 over; the search alone: 2.2 s, 9 over
        sopts = SolveOptions(time_limit=max(2.0, 8.0 * work), seed=seed, workers=2, deterministic=True,
                             work_budget=work, mip_exact_pairs=0)
        res = solve_core(sub, sopts)
        v = res.x
        is_y = src < Y
        np.add.at(yq, src[is_y], v[is_y])
        # a stay column holds at most the units there now; the rest of its quantity is an
        # ordinary placement at the same agent
        si, sv = src[~is_y] - Y, v[~is_y]
        kept = np.minimum(sv, s_room[si])
        np.add.at(sq, si, kept)
        y_pos = np.searchsorted(y_g * m + y_a, s_g[si] * m + s_a[si])
        np.add.at(yq, y_pos, sv - kept)
    # anything still left: greedy, agents with the most room first
    free = np.maximum(capacity, 0) - loads()
    left = (g_mult - np.bincount(y_g, weights=yq, minlength=G) - np.bincount(s_g, weights=sq, minlength=G)).astype(np.int64)
    for g in np.argsort(-use[0] * (left > 0), kind="stable"):
        if left[g] <= 0:
            continue
        ag = cat.agents_of(g)
        fit = np.min(np.where(use[:, g][:, None] > 0, free[:, ag] // np.maximum(use[:, g][:, None], 1), np.iinfo(np.int64).max), axis=0)
        base = cat.group_start[g]
        for k in np.argsort(-fit, kind="stable"):
            if left[g] <= 0 or fit[k] <= 0:
                break
            q = int(min(fit[k], left[g]))
            yq[base + k] += q
            free[:, ag[k]] -= use[:, g] * q
            left[g] -= q
    return yq, sq


def consolidate(cat: PairCatalogue, quota: np.ndarray, capacity: np.ndarray, g_mult: np.ndarray,
                targets: int = 10, batches: int = 4, depth: int = 1, evictions: int = 2,
                max_batches: int = 3000, lp_short: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Place unassigned units by gathering the capacity that integer packing leaves scattered.

    With caseload points as the first resource and one client as the second, an integer plan
    leaves a little room (tens of points) on many coaches; the LP pools it, which is why it
    places more. Here, for an unassigned unit of group g, a target coach c eligible for g is
    filled up to g's points by *gathering*: a unit on c swaps with a lighter unit on a donor
    coach that has room for the difference (both eligible where they go), or moves whole to a
    donor with room in both resources. Each batch takes at most one operation per donor, the
    largest transfers first; a target gets `batches` batches, `targets` coaches are tried per
    unit (least missing first; 10 since 2026-12-07, 5 before: `--seed 2`'s plan at 50k then
    leaves 283 out instead of 284, 0.63 % of gap instead of 0.91 %, and intakes of 500 into
    approved 50k caseloads 208-212 instead of 215-217 on `--seed 1`). When gathering leaves
    the target short, the lightest unit on it that would free enough (of `evictions` tried)
    is *evicted* and placed elsewhere the same way, `depth` levels deep, never drawing on a
    coach higher up the chain: so room also flows from coaches that are not eligible for g.
    Evictions are tried only for groups with more units left than the LP leaves unassigned
    (`lp_short`, per group; all groups when None): elsewhere the room is not there to find.
    An attempt that does not end in a placement is undone, so until the next placement a
    target coach is not tried again for
    a unit at least as heavy as one that found no room there with as many evictions or more
    (as many placed in 155-291 batches instead of 438-1 101 on intakes of 500 into approved 50k
    caseloads, 662 instead of 1 207 and 854 instead of 1 400 in the plans of `--seed 2` and
    `--seed 1`; until 2026-12-07 only units with the very same coaches were skipped, and a
    rule by eligible coaches alone placed 21 instead of 24 on one intake). Deterministic (no
    time limit, at most `max_batches` batches).
    `quota` is [groups, agents]; returns the new quotas and {"placed", "operations",
    "evictions", "batches"}."""
    G, m = quota.shape
    stats = {"placed": 0, "operations": 0, "evictions": 0, "batches": 0}
    usage = cat.group_usage
    if usage.shape[0] != 2 or not (usage[1] == 1).all():
        return quota, stats
    Q = quota.astype(np.int64).copy()
    p = usage[0].astype(np.int64)
    eligible = np.zeros((G, m), dtype=bool)
    for g in range(G):
        eligible[g, cat.agents_of(g)] = True
    movable = eligible.sum(axis=1) > 1  # a unit that has somewhere else to go
    room = np.maximum(capacity[0], 0) - (Q * p[:, None]).sum(axis=0)  # points
    seats = np.maximum(capacity[1], 0) - Q.sum(axis=0)  # clients
    left = np.asarray(g_mult, dtype=np.int64) - Q.sum(axis=1)
    if not (left > 0).any():
        return Q, stats
    types, t_of = np.unique(p, return_inverse=True)
    one_hot = np.zeros((len(types), G), dtype=np.float32)  # float: the products below go to BLAS
    one_hot[t_of, np.arange(G)] = 1
    eligible_f = eligible.astype(np.float32)
    occupied = (Q > 0).astype(np.float32)  # Q > 0, kept up to date by `apply` and `add`
    type_groups = [np.flatnonzero(t_of == t) for t in range(len(types))]  # each type's groups, in order
    diff = types[:, None] - types[None, :]

    def apply(op, c, sign=1):
        h, k, b = op
        Q[h, c] -= sign
        Q[h, b] += sign
        room[c] += sign * p[h]
        room[b] -= sign * p[h]
        if k < 0:
            seats[c] += sign
            seats[b] -= sign
        else:
            Q[k, b] -= sign
            Q[k, c] += sign
            room[b] += sign * p[k]
            room[c] -= sign * p[k]
            occupied[k, b], occupied[k, c] = Q[k, b] > 0, Q[k, c] > 0
        occupied[h, c], occupied[h, b] = Q[h, c] > 0, Q[h, b] > 0

    def gather(c, need, banned) -> list:
        stats["batches"] += 1
        on_c, elig_c = Q[:, c] > 0, eligible[:, c]
        donors = np.flatnonzero(room > 0)
        donors = donors[donors != c]
        if banned:
            donors = donors[~np.isin(donors, list(banned))]
        if len(donors) == 0:
            return []
        on_rows = np.flatnonzero(on_c)
        h_t = np.unique(t_of[on_rows])
        # only units lighter than the heaviest on c come to it by a swap (whole moves below
        # only send units away)
        in_rows = np.flatnonzero(elig_c & (p < (p[on_rows].max() if len(on_rows) else 0)))
        k_t = np.unique(t_of[in_rows])
        # a unit of type t on c may go to donor b / a unit of type t on b may come to c
        # (products over every coach, then the donors' columns: 2.5-3x faster than taking the
        # donors' columns first)
        out_ok = ((one_hot[h_t][:, on_rows] @ eligible_f[on_rows]) > 0)[:, donors]
        in_ok = ((one_hot[k_t][:, in_rows] @ occupied[in_rows]) > 0)[:, donors]
        # only donors where some swap can be made (the same candidates, a smaller array below)
        both = out_ok.any(axis=0) & in_ok.any(axis=0)
        swap_donors = donors[both]
        cand = []
        # the (type out, type in) pairs with a lighter unit coming in, in (out, in) order, so
        # that the first best pair per donor is the one the whole product would give
        hh, kk = np.nonzero(diff[np.ix_(h_t, k_t)] > 0)
        if len(swap_donors) and len(hh):  # c holds units, and lighter units that may come to it sit on donors
            dv = diff[h_t[hh], k_t[kk]]
            fit = dv <= room[swap_donors].max()  # a swap no donor has room for is none
            hh, kk, dv = hh[fit], kk[fit], dv[fit]
        if len(swap_donors) and len(hh):  # (the same test after that filter)
            # per donor the pair of the largest gain that may be made there, the first in
            # (out, in) order among equals: the pairs sorted by gain (stable), then each
            # donor's first allowed one (before 2026-12-07 an int32 matrix of gains, argmax:
            # the same pairs, 10-35 % slower)
            gain = np.minimum(dv, need)
            by_gain = np.argsort(-gain, kind="stable")
            hh, kk, dv, gain = hh[by_gain], kk[by_gain], dv[by_gain], gain[by_gain]
            ok = out_ok[:, both][hh] & in_ok[:, both][kk] & (dv[:, None] <= room[swap_donors][None, :])
            best = ok.argmax(axis=0)
            j = np.flatnonzero(ok[best, np.arange(len(swap_donors))])
            cand = list(zip(gain[best[j]].tolist(), h_t[hh[best[j]]].tolist(), k_t[kk[best[j]]].tolist(),
                            swap_donors[j].tolist()))
        # whole moves: per donor with a seat, the heaviest unit on c that may go there and fits
        seated = donors[seats[donors] >= 1]
        if len(seated) and len(on_rows):
            fits = eligible[np.ix_(on_rows, seated)] & (p[on_rows][:, None] <= room[seated][None, :])
            heaviest = np.where(fits, p[on_rows][:, None], -1).argmax(axis=0)  # the first of the heaviest
            j = np.flatnonzero(fits.any(axis=0))
            h = on_rows[heaviest[j]]
            # whole moves (-1 - h: the unit's group)
            cand += list(zip(np.minimum(p[h], need).tolist(), (-1 - h).tolist(), [-1] * len(j), seated[j].tolist()))
        cand.sort(key=lambda z: (-z[0], z[3]))
        ops, got = [], 0
        used = set()
        for _, ht, kt, b in cand:
            if got >= need:
                break
            if b in used:
                continue
            if ht < 0:  # move unit of group -1 - ht
                h, k = -1 - ht, -1
                if Q[h, c] <= 0 or room[b] < p[h] or seats[b] < 1:
                    continue
            else:
                hs, ks = type_groups[ht], type_groups[kt]
                hs = hs[(Q[hs, c] > 0) & eligible[hs, b]]
                ks = ks[elig_c[ks] & (Q[ks, b] > 0)]
                if len(hs) == 0 or len(ks) == 0:
                    continue
                h, k = int(hs[0]), int(ks[0])
                if not 0 < p[h] - p[k] <= room[b]:
                    continue
            op = (h, k, b)
            apply(op, c)
            ops.append(op)
            used.add(b)
            got += int(p[h] - (p[k] if k >= 0 else 0))
        return ops

    def add(g, c, sign=1):
        Q[g, c] += sign
        occupied[g, c] = Q[g, c] > 0
        room[c] -= sign * p[g]
        seats[c] -= sign

    def undo(log):
        for entry in reversed(log):
            if entry[0] == "op":
                apply(entry[1], entry[2], -1)
            else:
                add(entry[1], entry[2], -entry[3])

    def place(g, level, banned, top=False) -> list | None:
        """Put one more unit of g on some coach; the log of what that did, or None (undone).
        `top`: a unit left over (not one evicted), whose failed targets are remembered."""
        cands = np.flatnonzero(eligible[g] & ((seats >= 1) | (level > 0)))  # an eviction frees a seat
        cands = cands[np.argsort(p[g] - room[cands], kind="stable")]
        for c in [int(c) for c in cands if int(c) not in banned][:targets]:
            if stats["batches"] >= max_batches:
                return None
            if top and no_room[level:, c].min() <= p[g]:
                continue  # a unit no heavier found no room here, with as many evictions or more
            log: list = []
            for _ in range(batches):
                if room[c] >= p[g]:
                    break
                new = gather(c, int(p[g] - room[c]), banned)
                if not new:
                    break
                log += [("op", op, c) for op in new]
            if (room[c] < p[g] or seats[c] < 1) and level > 0:
                hs = np.flatnonzero((Q[:, c] > 0) & (p >= p[g] - room[c]) & movable)
                for h in hs[np.argsort(p[hs], kind="stable")][:evictions]:
                    add(int(h), c, -1)
                    sub = place(int(h), level - 1, banned | {c})
                    if sub is not None:
                        log += [("add", int(h), c, -1)] + sub
                        break
                    add(int(h), c, 1)
            if room[c] >= p[g] and seats[c] >= 1:
                add(g, c)
                return log + [("add", g, c, 1)]
            undo(log)
            if top:
                no_room[level, c] = min(no_room[level, c], p[g])
        return None

    # per eviction depth and target coach, the lightest unit left over that found no room
    # there since the last placement (a failed attempt is undone: nothing has changed since)
    no_room = np.full((depth + 1, m), np.iinfo(np.int64).max)
    short = np.flatnonzero(left > 0)
    for g in short[np.argsort(p[short], kind="stable")]:
        while left[g] > 0 and stats["batches"] < max_batches:
            deep = lp_short is None or left[g] > lp_short[g] + 0.5
            log = place(int(g), depth if deep else 0, frozenset(), top=True)
            if log is None:
                break
            left[g] -= 1
            no_room[:] = np.iinfo(np.int64).max
            stats["placed"] += 1
            stats["operations"] += sum(1 for entry in log if entry[0] == "op")
            stats["evictions"] += sum(1 for entry in log if entry[0] == "add" and entry[3] < 0)
    return Q, stats


def _units(fill: tuple[np.ndarray, np.ndarray, np.ndarray], multiplicity: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """One row per unit of a filling: (item, agent), agent `m` for the units it leaves out."""
    items, agents, qty = fill
    placed = np.bincount(items, weights=qty, minlength=len(multiplicity)).astype(np.int64)
    left = np.asarray(multiplicity, dtype=np.int64) - placed
    u_item = np.concatenate([np.repeat(items, qty), np.repeat(np.arange(len(multiplicity)), left)]).astype(np.int64)
    u_agent = np.concatenate([np.repeat(agents, qty), np.full(int(left.sum()), m)]).astype(np.int64)
    return u_item, u_agent


def _filling(u_item: np.ndarray, u_agent: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A filling (items, agents, quantities) from units, without the ones left out."""
    on = u_agent < m
    key, qty = np.unique(u_item[on] * m + u_agent[on], return_counts=True)
    return key // m, key % m, qty.astype(np.int64)


_BIG = np.float32(1e9)


def _unit_costs(cat: PairCatalogue, capacity: np.ndarray, unassigned_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What `exchange` and `insert` work with: each group's usage type (groups of the same
    usage in every resource share one), the types' usage [R, T], and the cost of every item
    at every agent as float32 [items, agents + 1] (`_BIG` where its unit does not fit there,
    the last column leaving it out). `complete` builds it once for its three steps: each
    step sets the last column to its own cost of leaving out."""
    R, m = capacity.shape
    _, type_of = np.unique(cat.group_usage.T, axis=0, return_inverse=True)
    type_of = np.asarray(type_of).ravel()
    type_use = np.zeros((R, int(type_of.max()) + 1))
    type_use[:, type_of] = cat.group_usage
    cost = np.full((len(cat.item_group), m + 1), _BIG, dtype=np.float32)
    cost[:, m] = unassigned_cost
    for g, items in enumerate(cat.group_items()):
        ag = cat.fitting_agents(g, capacity)
        if len(items) and len(ag):
            cost[np.ix_(items, ag)] = cat.cost_matrix(items, ag)
    return type_of, type_use, cost


def insert(cat: PairCatalogue, fill: tuple[np.ndarray, np.ndarray, np.ndarray], multiplicity: np.ndarray,
           capacity: np.ndarray, unassigned_cost: np.ndarray, candidates: int = 20,
           table: tuple | None = None) -> tuple[tuple, dict]:
    """Place the units a filling leaves out one at a time, each by the cheapest way to make
    room for it on one of its agents, at the real pair costs (handover included):
    * a **move** where the agent has room for it in every resource;
    * a **chain**: a unit there moves on to an agent with room for it;
    * a **swap**: a unit there trades places with a lighter unit on another agent, which has
      room for the difference.
    Per unit the `candidates` eligible agents with room for one more client (the last
    resource) and the most room in the first are tried; for each, the best unit of every
    usage type there and the best unit of every (type, agent) segment elsewhere, so a unit
    costs a few array passes over the units placed. A unit with no such way stays out.
    Cost-aware where gathering (`consolidate`) is not: after lightening (`complete`), what is
    left out needs one such step a unit. Deterministic. `table`: `_unit_costs` for these
    capacities, when the caller has it. Returns the filling and {"placed", "moves",
    "chains", "swaps", "cost": what the placements added, "seconds"}."""
    t0 = time.perf_counter()
    R, m = capacity.shape
    cap = np.maximum(capacity, 0)
    mult = np.asarray(multiplicity, dtype=np.int64)
    stats = {"placed": 0, "moves": 0, "chains": 0, "swaps": 0, "cost": 0, "seconds": 0.0}
    u_item, u_agent = _units(fill, mult, m)
    out = np.flatnonzero(u_agent == m)
    if not len(out):
        return fill, stats
    type_of, type_use, cost = table if table is not None else _unit_costs(cat, cap, unassigned_cost)
    by_agent = np.ascontiguousarray(cost[:, :m].T)  # [agents, items]: one agent's column at a time
    u_type = type_of[cat.item_group[u_item]]
    slack = cap.astype(float).copy()
    on = u_agent < m
    for r in range(R):
        slack[r] -= np.bincount(u_agent[on], weights=type_use[r, u_type[on]], minlength=m)

    def fits(room, need):
        """Room [R, ...] for need [R, ...] in every resource."""
        return (room >= need - 1e-9).all(axis=0)

    for u in out:
        iu, use_u = u_item[u], type_use[:, u_type[u]]
        on = u_agent < m
        ag = np.flatnonzero((cost[iu, :m] < _BIG / 2) & (slack[-1] >= use_u[-1] - 1e-9))
        ag = ag[np.argsort(-slack[0, ag], kind="stable")][:candidates]
        # the units placed by (type, agent) segment, for the swaps' second unit
        placed = np.flatnonzero(on)
        key = u_type[placed] * m + u_agent[placed]
        placed = placed[np.argsort(key, kind="stable")]
        seg_key, seg_start = np.unique(np.sort(key, kind="stable"), return_index=True)
        seg_type, seg_agent = seg_key // m, seg_key % m
        own = cost[u_item[placed], u_agent[placed]]
        best = (np.inf, None)
        for c in ag:
            base = float(cost[iu, c])
            if base >= best[0]:
                continue
            if fits(slack[:, c], use_u):
                best = (base, ("move", c))
                continue
            here = np.flatnonzero(on & (u_agent == c))
            if not len(here):
                continue
            # the best unit of each type on c to send to each agent d: [types here, m]
            here = here[np.argsort(u_type[here], kind="stable")]
            h_type, h_start = np.unique(u_type[here], return_index=True)
            h_end = np.append(h_start[1:], len(here))
            away = cost[u_item[here], :m] - cost[u_item[here], c][:, None]
            a_gain = np.minimum.reduceat(away, h_start, axis=0)
            a_gain[:, c] = _BIG

            def unit_of(k: int, d: int) -> int:
                """The unit of type h_type[k] on c that costs least sent to d."""
                return int(here[h_start[k] + np.argmin(away[h_start[k]: h_end[k], d])])

            use_a = type_use[:, h_type]  # [R, types here]
            # chains: a unit of type ta leaves c for an agent with room for it
            c_ok = fits(slack[:, [c]] + use_a - use_u[:, None], 0.0)  # [types]
            d_ok = fits(slack[:, None, :], use_a[:, :, None])  # [types, m]
            val = np.where(c_ok[:, None] & d_ok, a_gain, _BIG)
            k, d = np.unravel_index(int(np.argmin(val)), val.shape)
            if val[k, d] < _BIG / 2 and base + float(val[k, d]) < best[0]:
                best = (base + float(val[k, d]), ("chain", c, unit_of(int(k), int(d)), int(d)))
            # swaps: a unit of type ta on c trades with the best unit of a segment (tb, d)
            into = by_agent[c][u_item[placed]] - own
            b_gain = np.minimum.reduceat(into, seg_start)
            segs = np.flatnonzero((b_gain < _BIG / 2) & (seg_agent != c))  # a unit there may come to c
            if not len(segs):
                continue
            ok = np.ones((len(h_type), len(segs)), dtype=bool)
            for r in range(R):  # what c frees (a for b) covers u, and b's agent has room for it
                diff = use_a[r][:, None] - type_use[r, seg_type[segs]][None, :]
                ok &= (diff >= use_u[r] - slack[r, c] - 1e-9) & (diff <= slack[r, seg_agent[segs]][None, :] + 1e-9)
            v = np.where(ok, a_gain[:, seg_agent[segs]] + b_gain[segs][None, :], _BIG)
            k, j = np.unravel_index(int(np.argmin(v)), v.shape)
            if v[k, j] < _BIG / 2 and base + float(v[k, j]) < best[0]:
                found = base + float(v[k, j])
                j = int(segs[j])
                lo = seg_start[j]
                hi = seg_start[j + 1] if j + 1 < len(seg_start) else len(placed)
                b = int(placed[lo + np.argmin(into[lo:hi])])
                best = (found, ("swap", c, unit_of(int(k), int(seg_agent[j])), b))
        if best[1] is None:
            continue
        kind, c = best[1][0], int(best[1][1])
        moved = [(u, c)]
        if kind == "chain":
            moved.append((best[1][2], best[1][3]))
        elif kind == "swap":
            a, b = best[1][2], best[1][3]
            moved += [(a, int(u_agent[b])), (b, c)]
        for v_, to in moved:
            if u_agent[v_] < m:
                slack[:, u_agent[v_]] += type_use[:, u_type[v_]]
            slack[:, to] -= type_use[:, u_type[v_]]
            u_agent[v_] = to
        stats["placed"] += 1
        stats[kind + "s"] += 1
        stats["cost"] += int(round(best[0]))
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return _filling(u_item, u_agent, m), stats


def exchange(cat: PairCatalogue, fill: tuple[np.ndarray, np.ndarray, np.ndarray], multiplicity: np.ndarray,
             capacity: np.ndarray, unassigned_cost: np.ndarray, time_limit: float | None = None,
             max_rounds: int = 25, refills: int = 1, min_gain: float = 0.5, table: tuple | None = None) -> tuple[tuple, dict]:
    """Lower the pair costs of an integer filling by moves, swaps and chains over every
    eligible pair, keeping every capacity.

    The filling by type is the cheapest for its slots, but the slots themselves (how many units
    of each usage type an agent takes) come from rounding an LP with estimated costs, and at
    regional scale most coaches are full to the last tenth of a point. Units change agents in
    rounds, best gain first:
    * a **move**: a unit goes to an agent with room for it in every resource;
    * a **swap**: a unit of type s on agent a and one of type t on agent b trade places when
      a has room for t's usage less s's and b for the reverse (between full coaches: types of
      nearly the same points, 1.20 and 1.21, say);
    * a **chain**: a unit goes to agent b, whose unit of another type goes on to an agent with
      room (b must have room for the difference).
    Leaving units out is an agent of its own with unlimited room, so a unit left out may take
    a placed unit's place where it costs less (the count stays the same), or a place where
    there is room. A round takes, per (type, agent) segment, the most any of its units saves
    by going to each agent (pair costs over every eligible pair, handover included); one step
    of a swap or chain must save, so the candidates are the (segment, agent) entries that save,
    joined with every segment on that agent. They are applied best first, each checked again
    against the capacities as they are then (and repeated while the segment's next units
    still save); a unit moves at most once a round. A pass ends when a round saves less than
    `min_gain` or 2 % of the first round's saving; then the slots are filled again by type
    (`_fill_by_type`, min-cost flows; it trades units within a type the rounds do not) and a
    second pass follows (`refills`). Every step keeps every capacity and eligibility and
    never raises the cost.

    At 50k (generated regions, 400 coaches, on the placement plan's filling; 2026-12-05):
    `--seed 2` 29 766 693 -> 29 738 518 (-28 175, ~640 swaps, 284 unassigned both), the
    benchmark region 21 455 678 -> 21 437 349 (-18 331), ~4 s each; two-coach repacking by
    CP-SAT after it found nothing more on the 200 coach pairs with the most to gain, and
    three-coach repacking 1 217 in 30 s.

    Deterministic (at most `max_rounds` rounds a pass); `time_limit` (seconds) is a cap for
    wall-clock runs. `table`: `_unit_costs` for these capacities, when the caller has it (its
    last column is set to `unassigned_cost`). Returns the filling and {"moves", "swaps", "chains", "gain", "rounds",
    "seconds"}."""
    t0 = time.perf_counter()
    R, m = capacity.shape
    M = m + 1  # agent m: left out
    cap = np.maximum(capacity, 0)
    mult = np.asarray(multiplicity, dtype=np.int64)
    stats = {"moves": 0, "swaps": 0, "chains": 0, "gain": 0, "rounds": 0, "seconds": 0.0}
    if len(mult) == 0:
        return fill, stats
    if table is None:
        table = _unit_costs(cat, cap, unassigned_cost)
    else:  # shared (`complete`): this exchange's cost of leaving out
        table[2][:, m] = unassigned_cost
    type_of, type_use, cost = table
    big = _BIG

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - t0 > time_limit

    def one_round(u_item: np.ndarray, u_agent: np.ndarray, slack: np.ndarray) -> float:
        n = len(u_item)
        # units in (type, agent) order: the segments below are runs of rows
        key = type_of[cat.item_group[u_item]] * M + u_agent
        order = np.argsort(key, kind="stable")
        u_item[:], u_agent[:] = u_item[order], u_agent[order]
        own = cost[u_item, u_agent]
        gain = cost[u_item]
        np.subtract(own[:, None], gain, out=gain)  # [n, M]: what moving each unit to each agent saves
        # per (type, agent) segment, the most any of its units saves by going to each agent
        seg_key, seg_start = np.unique(key[order], return_index=True)
        seg_end = np.append(seg_start[1:], n)
        seg_gain = np.maximum.reduceat(gain, seg_start, axis=0)  # [segments, M]
        del gain
        seg_type, seg_agent = seg_key // M, seg_key % M
        # moves into room
        room = (type_use[:, :, None] <= slack[:, None, :]).all(axis=0)  # [T, M]
        to = np.where(room[seg_type], seg_gain, -big)
        to[np.arange(len(seg_key)), seg_agent] = -big
        to[:, m] = -big  # leaving a placed unit out never gains
        best = to.argmax(axis=1)
        g_best = to[np.arange(len(seg_key)), best]
        on = np.flatnonzero(g_best > 0.5)
        cands = [np.stack([g_best[on], np.zeros(len(on)), on, best[on]], axis=1)]
        # swaps between two segments, and chains: a unit of segment x goes to the agent b of
        # segment y, whose unit goes back to x's agent a (a swap) or on to its best agent with
        # room (`best`, a chain). One of the two steps must gain, so the pairs come from the
        # (segment, agent) entries that gain, joined with every segment on that agent
        xs, bs = np.nonzero(seg_gain > 0.5)
        by_agent = np.argsort(seg_agent, kind="stable")
        agent_start = np.searchsorted(seg_agent[by_agent], np.arange(M + 1))
        per = agent_start[bs + 1] - agent_start[bs]
        k = np.repeat(np.arange(len(xs)), per)
        offset = np.arange(len(k)) - np.repeat(np.cumsum(per) - per, per)
        x, b = xs[k], bs[k]
        y = by_agent[agent_start[b] + offset]
        a = seg_agent[x]
        use_x, use_y = type_use[:, seg_type[x]], type_use[:, seg_type[y]]
        b_ok = (slack[:, b] >= use_x - use_y).all(axis=0)  # b takes x's unit for y's
        there = seg_gain[x, b]
        swap = b_ok & (slack[:, a] >= use_y - use_x).all(axis=0)
        total = there + seg_gain[y, a]
        on = np.flatnonzero(swap & (total > 0.5))
        cands.append(np.stack([total[on], np.ones(len(on)), x[on], y[on]], axis=1))
        chain = b_ok & (g_best[y] > -big / 2) & (best[y] != a)
        total = there + g_best[y]
        on = np.flatnonzero(chain & (total > 0.5))
        cands.append(np.stack([total[on], np.full(len(on), 2), x[on], y[on]], axis=1))
        cands = np.concatenate(cands)
        if not len(cands):
            return 0.0
        cands = cands[np.argsort(-cands[:, 0], kind="stable")]
        done = np.zeros(n, dtype=bool)  # units that moved this round (their gains are stale)
        saved = 0.0
        for _, kind, x, y in cands:
            x, y = int(x), int(y)
            us = np.arange(seg_start[x], seg_end[x])
            use_i = type_use[:, seg_type[x]]
            if kind == 0:  # move units of segment x to agent y while they gain and fit
                b = y
            else:
                a, b = int(seg_agent[x]), int(seg_agent[y])
                c = a if kind == 1 else int(best[y])  # where the unit of segment y goes
                vs = np.arange(seg_start[y], seg_end[y])
                use_j = type_use[:, seg_type[y]]
            while True:  # a segment holds several units of a class, or similar ones
                us = us[~done[us]]
                if not len(us):
                    break
                i = us[np.argmax(own[us] - cost[u_item[us], b])]
                real = float(own[i] - cost[u_item[i], b])
                if kind == 0:
                    if real <= 0.5 or (use_i > slack[:, b]).any():
                        break
                    slack[:, u_agent[i]] += use_i
                    slack[:, b] -= use_i
                    u_agent[i] = b
                    done[i] = True
                    stats["moves"] += 1
                    saved += real
                    continue
                vs = vs[~done[vs]]
                if not len(vs):
                    break
                j = vs[np.argmax(own[vs] - cost[u_item[vs], c])]
                real += float(own[j] - cost[u_item[j], c])
                if real <= 0.5 or (use_i - use_j > slack[:, b]).any():
                    break
                if (kind == 1 and (use_j - use_i > slack[:, a]).any()) or (kind == 2 and (use_j > slack[:, c]).any()):
                    break
                u_agent[i], u_agent[j] = b, c
                slack[:, a] += use_i
                slack[:, b] += use_j - use_i
                slack[:, c] -= use_j
                done[i] = done[j] = True
                stats["swaps" if kind == 1 else "chains"] += 1
                saved += real
        return saved

    u_item, u_agent = _units(fill, mult, m)
    first = None  # what the first round saved
    for refill in range(refills + 1):
        slack = np.full((R, M), np.inf)
        slack[:, :m] = cap
        on = u_agent < m
        for r in range(R):
            slack[r, :m] -= np.bincount(u_agent[on], weights=type_use[r, type_of[cat.item_group[u_item[on]]]], minlength=m)
        saved_pass = 0.0
        for _ in range(max_rounds):
            if out_of_time():
                break
            saved = one_round(u_item, u_agent, slack)
            stats["rounds"] += 1
            saved_pass += saved
            first = saved if first is None else first
            if saved < max(min_gain, 0.02 * first):
                break  # the tail gains little (50k: 18 247, 6 753, 1 273, 302): filling the slots again gains more
        stats["gain"] += int(round(saved_pass))
        if refill == refills or saved_pass < min_gain or out_of_time():
            break
        # the slots changed: fill them again by type, at the real pair costs
        before = float(cost[u_item, u_agent].sum())
        quota = np.zeros((cat.n_groups, m), dtype=np.int64)
        on = u_agent < m
        np.add.at(quota, (cat.item_group[u_item[on]], u_agent[on]), 1)
        new_item, new_agent = _units(_fill_by_type(cat, quota, mult, unassigned_cost), mult, m)
        after = float(cost[new_item, new_agent].sum())
        if after < before:
            u_item, u_agent = new_item, new_agent
            stats["gain"] += int(round(before - after))
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return _filling(u_item, u_agent, m), stats
