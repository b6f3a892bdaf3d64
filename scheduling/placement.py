"""Every eligible pair at regional scale, compressed: the placement plan and the full bound.

At 50k clients a class is eligible for ~170 coaches (8.6M pairs); the search works on a few
candidate coaches per class. Two things must still see *every* eligible pair:

1. **How many clients can be placed at all.** Clients with the same eligible coaches and the
   same usage (caseload points, one client) are interchangeable for capacity, so an LP over
   these *eligibility groups* x coaches (~800 x 400 at 50k, ~100k columns) is small and exact
   about capacity: it gives the fewest clients that must stay unassigned when points and the
   client maximum bind *together* (the per-group checks in `explain` look at one capacity at a
   time), and with stay columns it keeps as many clients with their coach as it can. Its
   integer plan (`placement_plan`) becomes the search's start: quotas per group and coach,
   filled by a min-cost flow per group with the real pair costs (sector fit, travel,
   language, handover). The plan's pairs join the candidate pairs.
2. **A bound valid for all eligible pairs** (`PairCatalogue.lagrangian`): the Lagrangian
   relaxation of the capacities, evaluated over every eligible pair group by group with costs
   computed from the small cost tables, so the reported gap is to a lower bound of the real
   problem, not of the pruned candidate model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


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

    def cost_matrix(self, items: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """Costs of every item in `items` with every agent in `agents`: [len(items), len(agents)]."""
        out = np.zeros((len(items), len(agents)), dtype=np.int64)
        for table, key in self.tables:
            out += table[key[items]][:, agents]
        stay = self.stay_agent[items]
        out += np.where((stay[:, None] >= 0) & (stay[:, None] != agents[None, :]), self.handover, 0)
        return out

    def group_items(self) -> list[np.ndarray]:
        order = np.argsort(self.item_group, kind="stable")
        bounds = np.searchsorted(self.item_group[order], np.arange(self.n_groups + 1))
        return [order[bounds[g]: bounds[g + 1]] for g in range(self.n_groups)]

    def lagrangian(
        self, lam: np.ndarray, multiplicity: np.ndarray, unassigned_cost: np.ndarray, capacity: np.ndarray,
    ) -> tuple[float, np.ndarray]:
        """Lagrangian value over *every* eligible pair for capacity multipliers `lam` [R, m]
        (a valid lower bound of the whole problem, balance and move cap dropped), and per item
        the agent of its cheapest reduced cost (-1 when leaving it unassigned is cheaper)."""
        lam = np.maximum(np.asarray(lam, dtype=float), 0.0)
        total = 0.0
        best_agent = np.full(len(self.item_group), -1, dtype=np.int64)
        for g, items in enumerate(self.group_items()):
            if len(items) == 0:
                continue
            ag = self.agents_of(g)
            u_cost = unassigned_cost[items].astype(float)
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


@dataclass
class PlacementPlan:
    """An integer assignment over all eligible pairs, from the placement LP."""

    items: np.ndarray  # int64 [T] item of each triple
    agents: np.ndarray  # int64 [T]
    quantity: np.ndarray  # int64 [T]
    lp_value: float  # the LP's value (+ the handover constant): a lower bound, see `placement_plan`
    min_unassigned: float  # fewest units that must stay unassigned (LP, fractional)
    multipliers: np.ndarray  # [R, m] capacity duals in cost units (a Lagrangian start)
    unassigned: int  # units the integer plan leaves unassigned
    seconds: float
    group_short: np.ndarray | None = None  # LP units unassigned per group
    gathered: dict | None = None  # what `consolidate` did: units placed, operations, batches


def placement_plan(
    cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray, unassigned_cost: np.ndarray,
    time_limit: float = 10.0, deterministic: bool = True, seed: int = 0,
) -> PlacementPlan | None:
    """Place as many units as the capacities allow over every eligible pair, keeping as many
    units with their current agent as possible, and return an integer plan.

    LP over groups x agents: `s[g,a]` units of g kept at their current agent a (at most the
    units there now, reward `handover`), `y[g,a]` units of g placed at a (cost 0), `u[g]`
    units unassigned (cost: unassigned cost - handover, since an unassigned unit pays no
    handover). Rows: each group's units add up; each agent's usage per resource within its
    capacity. Adding the handover constant (handover x units that could stay) makes the LP
    value a lower bound on "unassigned cost + handover cost" of any solution (it is one only
    when the LP is solved to optimality; otherwise None is returned). Rounding: see
    `_round_quotas`. Quotas become concrete items by a min-cost flow per group with the real
    pair costs."""
    from scipy.optimize import linprog

    t0 = time.perf_counter()
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
    cost = np.concatenate([np.zeros(Y), np.full(S, -h), g_ucost - h])
    col_g = np.concatenate([y_g, s_g, np.arange(G)])
    a_eq, a_ub = _group_rows(cat, col_g, np.concatenate([y_a, s_a]), m)
    b_ub = np.maximum(capacity, 0).astype(float).ravel()
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[Y: Y + S, 1] = s_ub
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=g_mult, bounds=bounds, method="highs-ds",
                  options={"time_limit": max(1.0, time_limit)})
    if res.status != 0 or res.x is None:
        return None  # not solved to optimality within the limit: no plan, no bound from it
    lam = np.maximum(0.0, -np.asarray(res.ineqlin.marginals)).reshape(R, m)
    lp_value = float(res.fun) + h * float(s_ub.sum())
    vals = res.x
    y = vals[:Y]
    s = vals[Y: Y + S]
    u_lp = vals[Y + S:]
    # integer quotas: keep the LP's whole units, less one on every split column, and solve
    # what is left (a few hundred units on the capacity the LP split) with the engine
    yq, sq = _round_quotas(cat, y, s, y_g, y_a, s_g, s_a, s_ub, cost, g_mult, capacity,
                           time_limit=float(np.clip(time_limit - (time.perf_counter() - t0), 0.5, 3.0)),
                           deterministic=deterministic, seed=seed)
    # gather the room integer packing leaves scattered, so that more units fit
    quota = np.zeros((G, m), dtype=np.int64)
    np.add.at(quota, (y_g, y_a), yq)
    np.add.at(quota, (s_g, s_a), sq)
    quota, gathered = consolidate(cat, quota, np.maximum(capacity, 0), g_mult)
    if gathered["placed"] or gathered["operations"]:
        sq = np.minimum(sq, quota[s_g, s_a])
        kept = np.zeros((G, m), dtype=np.int64)
        kept[s_g, s_a] = sq
        yq = quota[y_g, y_a] - kept[y_g, y_a]
    # concrete items per group: keep the s-quota at the current agent (cheapest there first),
    # then a min-cost flow sends the rest to the y-quotas (leftovers unassigned)
    items_l, agents_l, qty_l = [], [], []
    remaining = mult.copy()
    s_quota = dict(zip(s_key.tolist(), sq.tolist()))
    stay_items = np.flatnonzero(has_stay)
    if len(stay_items):
        key = g_of[stay_items] * m + cat.stay_agent[stay_items]
        own = cat.cost(stay_items, cat.stay_agent[stay_items])
        order = np.lexsort((own, key))
        for j in stay_items[order]:
            kk = int(g_of[j] * m + cat.stay_agent[j])
            q = min(int(remaining[j]), s_quota.get(kk, 0))
            if q > 0:
                items_l.append(j)
                agents_l.append(int(cat.stay_agent[j]))
                qty_l.append(q)
                remaining[j] -= q
                s_quota[kk] -= q
    for g, items in enumerate(cat.group_items()):
        items = items[remaining[items] > 0]
        base = cat.group_start[g]
        ag_all = cat.agents_of(g)
        quota = yq[base: base + len(ag_all)]
        on = quota > 0
        if len(items) == 0 or not on.any():
            continue
        _flow_fill(cat, items, ag_all[on], quota[on], remaining, items_l, agents_l, qty_l)
    items_a = np.array(items_l, dtype=np.int64)
    agents_a = np.array(agents_l, dtype=np.int64)
    qty_a = np.array(qty_l, dtype=np.int64)
    # merge duplicates (an item kept and also flowed to the same agent)
    if len(items_a):
        k = items_a * m + agents_a
        uk, inv = np.unique(k, return_inverse=True)
        qty_a = np.bincount(inv, weights=qty_a).astype(np.int64)
        items_a, agents_a = uk // m, uk % m
    return PlacementPlan(
        items=items_a, agents=agents_a, quantity=qty_a, lp_value=lp_value,
        min_unassigned=float(u_lp.sum()), multipliers=lam, unassigned=int(mult.sum() - qty_a.sum()),
        seconds=time.perf_counter() - t0, group_short=np.asarray(u_lp, dtype=float), gathered=gathered,
    )


def _group_rows(cat: PairCatalogue, col_g: np.ndarray, col_a: np.ndarray, m: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Rows of an LP over groups x agents. Column k belongs to group `col_g[k]`; the first
    `len(col_a)` columns place units at agent `col_a[k]`, the rest are unassigned columns.
    Returns (group equalities [G, n], agent capacities per resource [R*m, n])."""
    n_var, n_place = len(col_g), len(col_a)
    a_eq = sp.csr_matrix((np.ones(n_var), (col_g, np.arange(n_var))), shape=(cat.n_groups, n_var))
    a_ub = sp.vstack([sp.csr_matrix((cat.group_usage[r][col_g[:n_place]].astype(float), (col_a, np.arange(n_place))),
                                    shape=(m, n_var)) for r in range(cat.group_usage.shape[0])]).tocsr()
    return a_eq, a_ub


def _flow_fill(cat, items, agents, quota, remaining, items_l, agents_l, qty_l) -> None:
    """Send the remaining units of `items` (one group) to `agents` with integer `quota`s at the
    real pair costs (OR-Tools min-cost flow); units beyond the quotas stay unassigned."""
    from ortools.graph.python import min_cost_flow

    n, k = len(items), len(agents)
    sup = remaining[items].astype(np.int64)
    total = int(min(sup.sum(), quota.sum()))
    if total <= 0:
        return
    cost = cat.cost_matrix(items, agents)
    tails = np.repeat(np.arange(n), k)
    heads = n + np.tile(np.arange(k), n)
    # an overflow node takes what does not fit (at a cost above every pair)
    over = n + k
    sink = n + k + 1
    big = int(cost.max(initial=0)) + 1
    t = np.concatenate([tails, n + np.arange(k), np.arange(n), [over]]).astype(np.int32)
    hd = np.concatenate([heads, np.full(k, sink), np.full(n, over), [sink]]).astype(np.int32)
    caps = np.concatenate([np.repeat(sup, k), quota, sup, [int(sup.sum())]]).astype(np.int64)
    costs = np.concatenate([cost.ravel(), np.zeros(k, dtype=np.int64), np.full(n, big, dtype=np.int64), [0]]).astype(np.int64)
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(t, hd, caps, costs)
    supplies = np.zeros(n + k + 2, dtype=np.int64)
    supplies[:n] = sup
    supplies[sink] = -int(sup.sum())
    f.set_nodes_supplies(np.arange(n + k + 2, dtype=np.int32), supplies)
    if f.solve() != f.OPTIMAL:
        return
    flows = f.flows(np.arange(n * k, dtype=np.int32)).reshape(n, k)
    ii, kk = np.nonzero(flows)
    for i, c in zip(ii.tolist(), kk.tolist()):
        q = int(flows[i, c])
        items_l.append(int(items[i]))
        agents_l.append(int(agents[c]))
        qty_l.append(q)
        remaining[items[i]] -= q


def shortfall(cat: PairCatalogue, multiplicity: np.ndarray, capacity: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The fewest units that no assignment can place, with points *and* the client maximum
    (every resource) binding together, over every eligible pair: an LP over groups x agents
    (a lower bound; the integer shortfall can be a little higher). Returns (units, units
    short per group), or None when the LP fails."""
    from scipy.optimize import linprog

    m = capacity.shape[1]
    G = cat.n_groups
    g_mult = np.bincount(cat.item_group, weights=multiplicity, minlength=G)
    sizes = np.diff(cat.group_start)
    y_g = np.repeat(np.arange(G), sizes)
    Y = len(y_g)
    a_eq, a_ub = _group_rows(cat, np.concatenate([y_g, np.arange(G)]), cat.group_agent, m)
    res = linprog(np.concatenate([np.zeros(Y), np.ones(G)]), A_ub=a_ub, b_ub=np.maximum(capacity, 0).astype(float).ravel(),
                  A_eq=a_eq, b_eq=g_mult, bounds=(0, None), method="highs")
    if res.status != 0 or res.x is None:
        return None
    u = np.asarray(res.x[Y:], dtype=float)
    return float(u.sum()), u


def _round_quotas(cat, y, s, y_g, y_a, s_g, s_a, s_ub, cost, g_mult, capacity, time_limit: float,
                  deterministic: bool = True, seed: int = 0):
    """Integer quotas from the LP's (y, s): fix floor - 1 on fractional columns (floor on the
    rest), then solve the residual units on the residual capacities as an assignment core of
    its own (items = groups) with the same engine (`scheduling.solve`: LP, start, CP-SAT
    search); whatever is still left goes greedily to agents with room in every resource.
    Returns integer (y, s)."""

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
        sopts = SolveOptions(time_limit=time_limit * (2.0 if deterministic else 1.0), seed=seed, workers=2,
                             deterministic=deterministic, work_budget=0.5 * time_limit if deterministic else None)
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
                targets: int = 5, batches: int = 4, max_batches: int = 3000) -> tuple[np.ndarray, dict]:
    """Place unassigned units by gathering the capacity that integer packing leaves scattered.

    With caseload points as the first resource and one client as the second, an integer plan
    leaves a little room (tens of points) on many coaches; the LP pools it, which is why it
    places more. Here, for an unassigned unit of group g, a target coach c eligible for g is
    filled up to g's points by *gathering*: a unit on c swaps with a lighter unit on a donor
    coach that has room for the difference (both eligible where they go), or moves whole to a
    donor with room in both resources. Each batch takes at most one operation per donor, the
    largest transfers first; a target gets `batches` batches, `targets` coaches are tried per
    unit (least missing first), and an attempt that does not end in a placement is undone.
    Deterministic (no time limit, at most `max_batches` batches). `quota` is [groups, agents];
    returns the new quotas and {"placed", "operations", "batches"}."""
    G, m = quota.shape
    stats = {"placed": 0, "operations": 0, "batches": 0}
    usage = cat.group_usage
    if usage.shape[0] != 2 or not (usage[1] == 1).all():
        return quota, stats
    Q = quota.astype(np.int64).copy()
    p = usage[0].astype(np.int64)
    eligible = np.zeros((G, m), dtype=bool)
    for g in range(G):
        eligible[g, cat.agents_of(g)] = True
    room = np.maximum(capacity[0], 0) - (Q * p[:, None]).sum(axis=0)  # points
    seats = np.maximum(capacity[1], 0) - Q.sum(axis=0)  # clients
    left = np.asarray(g_mult, dtype=np.int64) - Q.sum(axis=1)
    if not (left > 0).any():
        return Q, stats
    types, t_of = np.unique(p, return_inverse=True)
    one_hot = np.zeros((len(types), G), dtype=np.int32)
    one_hot[t_of, np.arange(G)] = 1
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

    def gather(c, need) -> list:
        stats["batches"] += 1
        on_c, elig_c = Q[:, c] > 0, eligible[:, c]
        donors = np.flatnonzero(room > 0)
        donors = donors[donors != c]
        if len(donors) == 0:
            return []
        h_t, k_t = np.unique(t_of[on_c]), np.unique(t_of[elig_c])
        # a unit of type t on c may go to donor b / a unit of type t on b may come to c
        out_ok = (one_hot[np.ix_(h_t, np.flatnonzero(on_c))] @ eligible[np.ix_(on_c, donors)].astype(np.int32)) > 0
        in_ok = (one_hot[np.ix_(k_t, np.flatnonzero(elig_c))] @ (Q[np.ix_(elig_c, donors)] > 0).astype(np.int32)) > 0
        d = diff[np.ix_(h_t, k_t)][:, :, None]
        ok = out_ok[:, None, :] & in_ok[None, :, :] & (d > 0) & (d <= room[donors][None, None, :])
        gain = np.where(ok, np.minimum(d, need), 0).reshape(-1, len(donors))
        best = gain.argmax(axis=0)
        cand = [(int(gain[best[j], j]), int(h_t[best[j] // len(k_t)]), int(k_t[best[j] % len(k_t)]), int(donors[j]))
                for j in np.flatnonzero(gain[best, np.arange(len(donors))] > 0)]
        for b in donors[seats[donors] >= 1]:
            hs = np.flatnonzero(on_c & eligible[:, b] & (p <= room[b]))
            if len(hs):
                h = int(hs[p[hs].argmax()])
                cand.append((int(min(p[h], need)), -1 - h, -1, int(b)))  # a whole move
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
                hs = np.flatnonzero((Q[:, c] > 0) & eligible[:, b] & (t_of == ht))
                ks = np.flatnonzero(elig_c & (Q[:, b] > 0) & (t_of == kt))
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

    failed: list[tuple[bytes, int]] = []
    short = np.flatnonzero(left > 0)
    for g in short[np.argsort(p[short], kind="stable")]:
        while left[g] > 0 and stats["batches"] < max_batches:
            sig = eligible[g].tobytes()
            if any(s == sig and w <= p[g] for s, w in failed):
                break  # a lighter unit with the same coaches found no room
            cands = np.flatnonzero(eligible[g] & (seats >= 1))
            placed = False
            for c in cands[np.argsort(p[g] - room[cands], kind="stable")][:targets]:
                ops: list = []
                for _ in range(batches):
                    if room[c] >= p[g]:
                        break
                    new = gather(c, int(p[g] - room[c]))
                    if not new:
                        break
                    ops += new
                if room[c] >= p[g] and seats[c] >= 1:
                    Q[g, c] += 1
                    room[c] -= p[g]
                    seats[c] -= 1
                    left[g] -= 1
                    stats["placed"] += 1
                    stats["operations"] += len(ops)
                    placed = True
                    break
                for op in reversed(ops):
                    apply(op, c, -1)
            if not placed:
                failed.append((sig, int(p[g])))
                break
    return Q, stats
