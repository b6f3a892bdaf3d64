"""The CP-SAT models, built in one place.

`build_cpsat(core)` turns an `AssignmentCore` into a CP-SAT model. Every constraint belongs to
a *named group*; with `assumptions=True` each group is switched on by its own literal and
solved under assumptions, so an infeasible model names the groups that conflict
(`SufficientAssumptionsForInfeasibility`) instead of a bare INFEASIBLE. Groups:

- ``assign_all``: every client gets a coach (only as an assumption; normally a client may stay
  unassigned at a high cost so the optimiser always returns a proposal that names the gap)
- ``capacity:<resource>``: per-coach capacity, e.g. ``capacity:points``, ``capacity:clients``
- ``max_handovers``: the hard cap on voluntary handovers
- any eligibility group passed in `exclusions` (``specialisation``, ``municipality``,
  ``absence``, ``forbidden``, ``pinned``): pairs the group forbids are forced to zero

The same builder makes the large-neighbourhood sub-models of the search (a sub-core is just a
smaller core) and, with `plain=True`, the "one boolean per pair" baseline of the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from scheduling.core import PER_MILLE, AssignmentCore

#: highest relative load the balance variables can express (per-mille): 10x capacity
MAX_RELATIVE = 10 * PER_MILLE


@dataclass
class BuiltModel:
    model: cp_model.CpModel
    x: list  # one variable per pair
    u: list | None  # one variable per item (unassigned quantity) or None
    groups: dict[str, cp_model.IntVar] = field(default_factory=dict)  # group name -> literal

    def values(self, solver: cp_model.CpSolver) -> np.ndarray:
        return np.fromiter((solver.value(v) for v in self.x), dtype=np.int64, count=len(self.x))


def build_cpsat(
    core: AssignmentCore,
    hint: np.ndarray | None = None,
    assumptions: bool = False,
    exclusions: dict[str, np.ndarray] | None = None,
) -> BuiltModel:
    """Build the CP-SAT model of `core`.

    `hint`: a start solution (quantity per pair). `assumptions`: guard every constraint group
    with a literal (for explanations); then ``assign_all`` is a group too. `exclusions`:
    group name -> pair indices that group forbids (explanation models only).
    """
    model = cp_model.CpModel()
    groups: dict[str, cp_model.IntVar] = {}

    def group(name: str):
        if not assumptions:
            return None
        if name not in groups:
            groups[name] = model.new_bool_var(name)
        return groups[name]

    mult = core.multiplicity
    pm = mult[core.pair_item]
    x = [
        model.new_bool_var(f"x{p}") if pm[p] == 1 else model.new_int_var(0, int(pm[p]), f"x{p}")
        for p in range(core.n_pairs)
    ]
    starts = core.item_start
    allow_u = core.unassigned_cost is not None or assumptions
    u = None
    if allow_u:
        u = [
            model.new_bool_var(f"u{j}") if mult[j] == 1 else model.new_int_var(0, int(mult[j]), f"u{j}")
            for j in range(core.n_items)
        ]
    lit_all = group("assign_all")
    for j in range(core.n_items):
        xs = x[starts[j] : starts[j + 1]]
        if u is None:
            if mult[j] == 1:
                model.add_exactly_one(xs)
            else:
                model.add(sum(xs) == int(mult[j]))
        else:
            if mult[j] == 1:
                model.add_exactly_one([*xs, u[j]])
            else:
                model.add(sum(xs) + u[j] == int(mult[j]))
            if core.unassigned_cost is None:
                # assignment is mandatory: u only exists to be switched off by the assumption
                model.add(u[j] == 0).only_enforce_if(lit_all)
            elif lit_all is not None:
                model.add(u[j] == 0).only_enforce_if(lit_all)

    # capacities per resource and agent
    order = np.argsort(core.pair_agent, kind="stable")
    agent_start = np.searchsorted(core.pair_agent[order], np.arange(core.n_agents + 1))
    for r, rname in enumerate(core.resource_names):
        lit = group(f"capacity:{rname}")
        for i in range(core.n_agents):
            ps = order[agent_start[i] : agent_start[i + 1]]
            if len(ps) == 0:
                continue
            coef = core.usage[r, ps]
            cap = int(core.capacity[r, i])
            if int((coef * pm[ps]).sum()) <= cap:
                continue  # can never bind
            ct = model.add(cp_model.LinearExpr.weighted_sum([x[p] for p in ps], coef.tolist()) <= cap)
            if lit is not None:
                ct.only_enforce_if(lit)

    # hard cap on moves
    if core.max_moves is not None and core.move_mask is not None:
        lit = group("max_handovers")
        mv = np.flatnonzero(core.move_mask)
        ct = model.add(sum(x[p] for p in mv) <= int(core.max_moves))
        if lit is not None:
            ct.only_enforce_if(lit)

    # eligibility groups (explanations)
    for gname, pairs in (exclusions or {}).items():
        lit = group(gname)
        for p in np.asarray(pairs, dtype=np.int64):
            ct = model.add(x[p] == 0)
            if lit is not None:
                ct.only_enforce_if(lit)

    # objective
    obj_vars, obj_coefs = [], []
    nz = np.flatnonzero(core.pair_cost)
    obj_vars += [x[p] for p in nz]
    obj_coefs += core.pair_cost[nz].tolist()
    if core.unassigned_cost is not None and u is not None:
        obj_vars += u
        obj_coefs += core.unassigned_cost.tolist()
    b = core.balance
    levels = {}
    if b is not None and b.active:
        levels = _add_balance(model, core, x, order, agent_start, obj_vars, obj_coefs)
    model.minimize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coefs))

    if hint is not None:
        for p in range(core.n_pairs):
            model.add_hint(x[p], int(hint[p]))
        if u is not None:
            assigned = np.bincount(core.pair_item, weights=hint, minlength=core.n_items).astype(np.int64)
            for j in range(core.n_items):
                model.add_hint(u[j], int(mult[j] - assigned[j]))
        if levels:
            # a complete hint: the balance levels of the hinted assignment, rounded as modelled
            from scheduling.core import agent_loads, balance_levels

            load = core.base_load + agent_loads(core, np.asarray(hint, dtype=np.int64))[b.resource]
            l_max, l_min, t_max, t_min = balance_levels(core, load)
            values = {"L_max": l_max, "L_min": l_min, "T_max": t_max, "T_min": t_min}
            for name, var in levels.items():
                model.add_hint(var, int(min(max(values[name], 0), MAX_RELATIVE)))
    return BuiltModel(model=model, x=x, u=u, groups=groups)


def _add_balance(model, core, x, order, agent_start, obj_vars, obj_coefs) -> None:
    """L_max >= relative load of every coach, L_min <= it; the same per team. Coaches without
    free pairs contribute constants (their load is fixed in this (sub-)model)."""
    b = core.balance
    r = b.resource
    on = np.flatnonzero(b.denominator > 0)
    loads_const = core.base_load
    l_max = model.new_int_var(0, MAX_RELATIVE, "L_max")
    l_min = model.new_int_var(0, MAX_RELATIVE, "L_min")
    const_hi, const_lo = 0, MAX_RELATIVE
    load_expr = {}
    for i in on:
        den = int(b.denominator[i])
        ps = order[agent_start[i] : agent_start[i + 1]]
        base = int(loads_const[i])
        if len(ps) == 0:
            const_hi = max(const_hi, -((-PER_MILLE * base) // den))
            const_lo = min(const_lo, (PER_MILLE * base) // den)
            continue
        expr = cp_model.LinearExpr.weighted_sum([x[p] for p in ps], core.usage[r, ps].tolist())
        load_expr[i] = (expr, base)
        model.add(PER_MILLE * expr + PER_MILLE * base <= den * l_max)
        model.add(PER_MILLE * expr + PER_MILLE * base >= den * l_min)
    model.add(l_max >= min(const_hi, MAX_RELATIVE))
    model.add(l_min <= const_lo)
    obj_vars += [l_max, l_min]
    obj_coefs += [b.w_max + b.w_spread, -b.w_spread]
    levels = {"L_max": l_max, "L_min": l_min}
    if b.w_team_spread:
        teams = np.unique(b.team[on][b.team[on] >= 0])
        if len(teams) > 1:
            t_max = model.new_int_var(0, MAX_RELATIVE, "T_max")
            t_min = model.new_int_var(0, MAX_RELATIVE, "T_min")
            for t in teams:
                members = on[b.team[on] == t]
                den = int(b.denominator[members].sum())
                base = int(loads_const[members].sum())
                exprs = [load_expr[i][0] for i in members if i in load_expr]
                if not exprs:
                    model.add(t_max * den >= PER_MILLE * base)
                    model.add(t_min * den <= PER_MILLE * base)
                    continue
                total = sum(exprs)
                model.add(PER_MILLE * total + PER_MILLE * base <= den * t_max)
                model.add(PER_MILLE * total + PER_MILLE * base >= den * t_min)
            obj_vars += [t_max, t_min]
            obj_coefs += [b.w_team_spread, -b.w_team_spread]
            levels.update(T_max=t_max, T_min=t_min)
    return levels


def build_plain_gap(cost: np.ndarray, weight: np.ndarray, capacity: np.ndarray) -> tuple[cp_model.CpModel, list]:
    """The textbook GAP model, one boolean per (agent, job) pair: the benchmark's baseline."""
    m, n = cost.shape
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(n)] for i in range(m)]
    for j in range(n):
        model.add_exactly_one(x[i][j] for i in range(m))
    for i in range(m):
        model.add(cp_model.LinearExpr.weighted_sum(x[i], weight[i].tolist()) <= int(capacity[i]))
    model.minimize(
        cp_model.LinearExpr.weighted_sum([x[i][j] for i in range(m) for j in range(n)], cost.reshape(-1).tolist())
    )
    return model, x
