"""Why clients cannot all be placed: numbers first, then the solver's conflicting groups.

1. **Capacity checks** (necessary conditions, Hall-style): for every specialisation, every
   municipality, every team and every combination of needs and municipality, the caseload
   points (and client count) the movable clients need against what the coaches who may serve
   them offer: "youth bijstand in GM0301 needs 412.0 points, eligible coaches offer 380.0".
2. **Conflicting constraint groups**: the problem is rebuilt with every constraint group
   switched on by an assumption literal, and CP-SAT names a set of groups that together are
   infeasible (`SufficientAssumptionsForInfeasibility`), e.g. ``capacity:points`` +
   ``specialisation``: relaxing either would let everyone be placed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from scheduling.core import AssignmentCore
from scheduling.model import build_cpsat
from scheduling.problem import POINT_SCALE, CaseloadProblem

GROUP_TEXT = {
    "assign_all": "every client gets a coach",
    "capacity:points": "coach capacity in caseload points",
    "capacity:clients": "coach maximum number of clients",
    "max_handovers": "the cap on handovers",
    "specialisation": "specialisation eligibility",
    "municipality": "municipalities a coach serves",
    "absence": "coach absences and departures",
    "forbidden": "forbidden client-coach pairs",
    "pinned": "pinned client-coach pairs",
}

#: largest explanation model (pairs) we build; beyond it only the capacity checks are given
MAX_EXPLAIN_PAIRS = 400_000
#: and at most this many pairs per second of the conflict search's time limit: building the
#: model takes ~20 us a pair, outside that limit (a generated region of 8 000 clients, 59
#: coaches, 398k pairs: 8.5 s of building for a 2 s search that found no answer)
EXPLAIN_PAIRS_PER_SECOND = 20_000


@dataclass
class CapacityCheck:
    scope: str  # specialisation | municipality | team | needs
    name: str
    demand_points: float
    offered_points: float
    demand_clients: int
    offered_clients: int
    #: the problem's classes the check counts (for the reasons of the clients left out)
    classes: frozenset[int] = field(default_factory=frozenset, repr=False, compare=False)

    @property
    def use(self) -> float:
        """The larger share of the offer the demand takes, in points or in clients."""
        return max(self.demand_points / self.offered_points if self.offered_points > 0 else math.inf,
                   self.demand_clients / self.offered_clients if self.offered_clients > 0 else math.inf)

    @property
    def short(self) -> bool:
        return self.demand_points > self.offered_points + 1e-9 or self.demand_clients > self.offered_clients

    def text(self) -> str:
        parts = []
        if self.demand_points > self.offered_points + 1e-9:
            verb = "need" if self.name.endswith("clients") else "needs"
            parts.append(f"{self.name} {verb} {self.demand_points:.1f} points, eligible coaches offer {self.offered_points:.1f}")
        if self.demand_clients > self.offered_clients:
            parts.append(f"{self.name} has {self.demand_clients} clients, eligible coaches take at most {self.offered_clients} more")
        return "; ".join(parts) or f"{self.name}: {self.demand_points:.1f} of {self.offered_points:.1f} points"

    def to_dict(self) -> dict:
        return {
            "scope": self.scope, "name": self.name, "demand_points": round(self.demand_points, 2),
            "offered_points": round(self.offered_points, 2), "demand_clients": self.demand_clients,
            "offered_clients": self.offered_clients, "short": self.short, "text": self.text(),
        }


def capacity_checks(problem: CaseloadProblem) -> list[CapacityCheck]:
    """All checks, shortest first, then the fullest (the largest share of the offer used).
    Demand = movable clients; offer = net free capacity of the coaches that may serve them
    (capacity minus fixed clients)."""
    core = problem.core
    free_pts = core.capacity[0] / POINT_SCALE
    free_cnt = core.capacity[1]
    cls_pts = np.array([problem.client_points[m].sum() for m in problem.class_members])
    cls_cnt = core.multiplicity
    # eligible coach set per class: every eligible coach, not only the search's candidates. With
    # the catalogue, classes of one eligibility group share it: work per group (~800 at 50k
    # clients, against ~40k classes), not per class
    cat = problem.catalogue
    if cat is not None:
        key = np.asarray(cat.item_group, dtype=np.int64)
        elig = [cat.agents_of(int(g)) for g in range(cat.n_groups)]
    else:
        key = np.arange(core.n_items)
        elig = [core.pair_agent[core.item_start[c] : core.item_start[c + 1]] for c in range(core.n_items)]
    rep = [int(m[0]) for m in problem.class_members]
    munis = problem.clients["municipality"].tolist()  # the clients' index is positional
    groups: dict[tuple[str, str], list[int]] = {}
    for c, j in enumerate(rep):
        need = problem.need[j]
        m = munis[j]
        m = None if m is None or m != m else str(m)
        label = " ".join(sorted(need)) or "no specialisation"
        for s in need:
            groups.setdefault(("specialisation", s), []).append(c)
        if m is not None:
            groups.setdefault(("municipality", m), []).append(c)
            groups.setdefault(("needs", f"{label} in {m}"), []).append(c)
        else:
            groups.setdefault(("needs", label), []).append(c)
    # team: classes whose every eligible coach is in one team
    team_of_key = []
    for agents in elig:
        teams = {problem.coach_team[i] for i in agents}
        team_of_key.append(next(iter(teams)) if len(teams) == 1 and None not in teams else None)
    for c in range(core.n_items):
        team = team_of_key[key[c]]
        if team is not None:
            groups.setdefault(("team", team), []).append(c)
    checks = []
    for (scope, name), cls in groups.items():
        keys = np.unique(key[cls]) if cls else np.zeros(0, dtype=np.int64)
        coaches = np.unique(np.concatenate([elig[k] for k in keys])) if len(keys) else np.zeros(0, dtype=int)
        checks.append(CapacityCheck(
            scope=scope, name=name if scope != "specialisation" else f"{name} clients",
            demand_points=float(cls_pts[cls].sum()), offered_points=float(free_pts[coaches].sum()),
            demand_clients=int(cls_cnt[cls].sum()), offered_clients=int(free_cnt[coaches].sum()),
            classes=frozenset(cls),
        ))
    # short ones by how much they lack; the others by how much of the offer they use (by the
    # slack in points, a group of 4 clients beside 1 780 free points ranked among the
    # "tightest", next to bijstand's 6 605 of 7 123)
    checks.sort(key=lambda k: (not k.short, -(k.demand_points - k.offered_points) if k.short else -k.use, k.scope, k.name))
    return checks


def no_coach_reason(problem: CaseloadProblem, j: int, region_coaches=None) -> str:
    """Why client j has no eligible coach at all, in words."""
    need = problem.need[j]
    m = problem.clients.at[j, "municipality"]
    m = None if m is None or m != m else str(m)
    opts = problem.options
    cid = str(problem.clients.at[j, "id"])
    if cid in opts.pins:
        k = opts.pins[cid]
        i = problem.coach_ids.index(k)
        if not problem.available[i]:
            return f"pinned to coach {k}, who {problem.unavailable_reason[i]}"
        return f"pinned to coach {k}, who may not serve this client (needs {', '.join(sorted(need)) or 'none'}, municipality {m})"
    return (
        f"no available coach holds {', '.join(sorted(need)) or 'any role'}"
        + (f" and serves {m}" if m else "")
        + (" (after forbidden pairs)" if any(c == cid for c, _ in opts.forbids) else "")
    )


def conflict_groups(problem: CaseloadProblem, time_limit: float = 10.0) -> dict:
    """Rebuild the problem with every constraint group behind an assumption and ask CP-SAT
    which groups conflict. Returns {"status", "groups": [...], "text": [...]}."""
    core = problem.core
    n_co = problem.n_coaches
    opts = problem.options
    rep = [int(m[0]) for m in problem.class_members]
    if core.n_items * n_co > min(MAX_EXPLAIN_PAIRS, EXPLAIN_PAIRS_PER_SECOND * time_limit):
        return {"status": "skipped", "groups": [], "text": [
            f"problem too large for a conflict search in {time_limit:g} s ({core.n_items} classes x {n_co} coaches); see the capacity checks"]}
    # every class x coach pair, each with the groups that forbid it
    items, agents, reasons = [], [], []
    spec_of = _coach_attr(problem)
    pin = {problem.clients.index[problem.clients["id"] == c][0]: problem.coach_ids.index(k) for c, k in opts.pins.items()} if opts.pins else {}
    forb = {}
    for c, k in opts.forbids:
        idx = problem.clients.index[problem.clients["id"] == c]
        if len(idx):
            forb.setdefault(int(idx[0]), set()).add(problem.coach_ids.index(k))
    for c, j in enumerate(rep):
        need = problem.need[j]
        m = problem.clients.at[j, "municipality"]
        m = None if m is None or m != m else str(m)
        for i in range(n_co):
            why = []
            if not need <= spec_of["specs"][i]:
                why.append("specialisation")
            if spec_of["munis"][i] and m is not None and m not in spec_of["munis"][i]:
                why.append("municipality")
            if not problem.available[i]:
                why.append("absence")
            if i in forb.get(j, ()):
                why.append("forbidden")
            if j in pin and pin[j] != i:
                why.append("pinned")
            items.append(c)
            agents.append(i)
            reasons.append(why)
    items = np.array(items, dtype=np.int64)
    agents = np.array(agents, dtype=np.int64)
    cls_pts = np.array([int(round(problem.client_points[m[0]] * POINT_SCALE)) for m in problem.class_members], dtype=np.int64)
    # capacities for the relaxed groups: absent coaches keep their nominal capacity
    cap = core.capacity.copy()
    cap_nominal = np.rint(problem.cap_points * POINT_SCALE).astype(np.int64) - problem.fixed_points
    cap[0] = np.where(problem.available, cap[0], np.maximum(cap_nominal, 0))
    cap[1] = np.where(problem.available, cap[1], np.maximum(problem.max_clients - problem.fixed_count, 0))
    move = np.zeros(len(items), dtype=bool)
    if core.max_moves is not None:
        cur = problem.current[np.array(rep)][items]
        forced = problem.forced_current[np.array(rep)][items]
        move = (cur >= 0) & ~forced & (agents != cur)
    explain_core = AssignmentCore(
        multiplicity=core.multiplicity, pair_item=items, pair_agent=agents,
        pair_cost=np.zeros(len(items), dtype=np.int64),
        usage=np.vstack([cls_pts[items], np.ones(len(items), dtype=np.int64)]),
        capacity=cap, resource_names=core.resource_names, unassigned_cost=None,
        move_mask=move if core.max_moves is not None else None, max_moves=core.max_moves, name="explain",
    )
    exclusions: dict[str, list[int]] = {}
    for p, why in enumerate(reasons):
        for g in why:
            exclusions.setdefault(g, []).append(p)
    built = build_cpsat(explain_core, assumptions=True, exclusions={g: np.array(v) for g, v in exclusions.items()})
    lits = list(built.groups.values())
    built.model.add_assumptions(lits)
    budget = _Budget(time_limit, opts.deterministic)
    solver = _conflict_solver(time_limit, int(opts.seed), opts.deterministic)
    status = solver.solve(built.model)
    budget.spend(solver)
    if status == cp_model.INFEASIBLE:
        idx = set(solver.sufficient_assumptions_for_infeasibility())
        core_names = [g for g, lit in built.groups.items() if lit.index in idx]
        core_names, minimal = _minimise(built, core_names, budget, int(opts.seed))
        names = sorted(g for g in core_names if g != "assign_all") or core_names
        text = (f"these constraint groups conflict: {', '.join(GROUP_TEXT.get(g, g) for g in names)} "
                + ("(relaxing any one of them would let every client be placed)" if minimal else
                   "(the time for the explanation ran out before each group was tested on its own: relaxing all of them together would let every client be placed)"))
        return {"status": "infeasible", "groups": names, "minimal": minimal, "text": [text]}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": "feasible", "groups": [], "text": ["every client can be placed when all groups hold: the unassigned clients are a time-limit effect, not a conflict"]}
    return {"status": "unknown", "groups": [], "text": [f"conflict search stopped without an answer ({solver.status_name(status)})"]}


def _conflict_solver(time_limit: float, seed: int, deterministic: bool) -> cp_model.CpSolver:
    """One worker; deterministic runs are limited in CP-SAT's deterministic time (the same
    answer every run), with twice the time limit in seconds as a safety net."""
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    s.parameters.random_seed = seed
    if deterministic:
        s.parameters.max_deterministic_time = time_limit
        s.parameters.max_time_in_seconds = 2 * time_limit
    else:
        s.parameters.max_time_in_seconds = time_limit
    return s


class _Budget:
    """The conflict search's one time limit, shared by all its CP-SAT calls: seconds of
    CP-SAT's deterministic time in deterministic runs (the same answer every run), else of the
    wall clock."""

    def __init__(self, limit: float, deterministic: bool) -> None:
        self.limit, self.deterministic, self.spent = limit, deterministic, 0.0

    def spend(self, solver: cp_model.CpSolver) -> None:
        self.spent += solver.deterministic_time if self.deterministic else solver.wall_time

    def left(self) -> float:
        return self.limit - self.spent


def _minimise(built, names: list[str], budget: _Budget, seed: int) -> tuple[list[str], bool]:
    """Deletion filter: drop each group in turn and keep it dropped when the rest is still
    infeasible, so the answer is a minimal conflicting set (every group named matters).
    Each trial gets at most a quarter of the time limit, and none starts once the budget is
    spent (a generated region of 8 000 clients: 15 calls, 11 s for a 2 s limit before).
    Returns the groups and whether every group was tested."""
    keep = list(names)
    minimal = True
    for g in list(names):
        if g == "assign_all" or len(keep) <= 2:
            continue
        if budget.left() <= 0.05 * budget.limit:
            minimal = False
            break
        trial = [k for k in keep if k != g]
        built.model.clear_assumptions()
        built.model.add_assumptions([built.groups[k] for k in trial])
        s = _conflict_solver(min(budget.left(), max(0.5, budget.limit / 4)), seed, budget.deterministic)
        status = s.solve(built.model)
        budget.spend(s)
        if status == cp_model.INFEASIBLE:
            keep = trial
        elif status != cp_model.OPTIMAL and status != cp_model.FEASIBLE:
            minimal = False  # unknown within its time: the group stays, maybe needlessly
    return keep, minimal


def _coach_attr(problem: CaseloadProblem) -> dict:
    """Specialisations and municipalities per coach, recovered from the problem's coach order."""
    return problem.coach_attrs


def joint_check(problem: CaseloadProblem, top: int = 5) -> dict | None:
    """Points and the client maximum *together*, over every eligible coach: the fewest
    clients no assignment can place (LP over eligibility groups, `placement.shortfall`), and
    the groups that are short. The per-group checks above look at one capacity at a time and
    can all pass while this one fails (light clients fill a coach's client maximum before its
    points, heavy ones the other way round)."""
    from scheduling.placement import shortfall

    cat = problem.catalogue
    if cat is None or cat.n_groups == 0:
        return None
    plan = problem.plan
    if plan is not None and plan.group_short is not None and not problem.what_if_price:
        # the plan's group LP: the unassigned cost dominates its prices, so the units it
        # leaves out are the fewest. At a what-if's price of a handover they are not (it may
        # leave a client out rather than pay the handovers that make room): the count alone
        total, per_group = plan.min_unassigned, plan.group_short
    else:
        pending = problem.joint_shortfall
        got = pending.result() if pending is not None else shortfall(cat, problem.core.multiplicity, problem.core.capacity)
        if got is None:
            return None
        total, per_group = got
    need = int(np.ceil(total - 1e-6))
    out = {"min_unassigned": need, "lp_value": round(total, 2), "groups": [], "text": []}
    if need <= 0:
        out["text"].append("points and client maximum together leave room for every client over all eligible coaches")
        return out
    out["text"].append(f"points and client maximum together: at least {need} clients cannot be placed by any assignment "
                       f"(LP over every eligible coach; {total:.1f} before rounding)")
    rep_of_group = {}
    for c, g in enumerate(cat.item_group.tolist()):
        rep_of_group.setdefault(g, int(problem.class_members[c][0]))
    for rank, g in enumerate(np.argsort(-per_group, kind="stable")):
        if per_group[g] <= 1e-6:
            break
        j = rep_of_group[int(g)]
        m = problem.clients.at[j, "municipality"]
        m = None if m is None or m != m else str(m)
        label = " ".join(sorted(problem.need[j])) or "no specialisation"
        where = f" in {m}" if m else ""
        pts = cat.group_usage[0, g] / POINT_SCALE
        n_g = int(problem.core.multiplicity[cat.item_group == g].sum())
        text = (f"{label}{where}, {pts:g} points each: {per_group[g]:.1f} of {n_g} clients find no room "
                f"with the {len(cat.agents_of(int(g)))} eligible coaches")
        out["groups"].append({"index": int(g), "group": label + where, "points": float(pts), "clients": n_g,
                              "short": round(float(per_group[g]), 2), "text": text})
        if rank < top:
            out["text"].append(text)
    return out


def start_joint_check(problem: CaseloadProblem) -> CaseloadProblem:
    """`problem` with the joint check's LP started in a thread beside the solve, for
    `joint_check` to take when some client stays unassigned: the LP depends only on the
    problem (its groups and the room), and HiGHS releases the interpreter while it solves.
    Where no placement plan brings the shortfall (a widened what-if's plan brings none: its
    LP is priced, `joint_check`). An intake of 500 into an approved 50k
    caseload: the LP takes 0.35-0.45 s of a 2 s target. The thread is left to finish when the
    answer is not needed; an LP that fails gives no joint check, as without the thread."""
    from scheduling.placement import shortfall
    from scheduling.solve import in_thread

    cat = problem.catalogue
    if cat is None or cat.n_groups == 0 or (problem.plan is not None and not problem.what_if_price):
        return problem
    pending = in_thread("joint-check", shortfall, cat, problem.core.multiplicity.copy(), problem.core.capacity.copy())
    return replace(problem, joint_shortfall=pending)


def explain(problem: CaseloadProblem, time_limit: float = 10.0) -> dict:
    checks = capacity_checks(problem)
    short = [c for c in checks if c.short]
    return {
        "capacity": [c.to_dict() for c in short] or [c.to_dict() for c in checks[:5]],
        "joint": joint_check(problem),
        "conflicts": conflict_groups(problem, time_limit=time_limit),
    }
