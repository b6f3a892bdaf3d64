"""OR-Library generalised assignment problem (GAP) instances: reading them, turning them into
the assignment core the caseload optimiser uses, and the two baselines of the benchmark.

File format (Beasley's OR-Library, one instance per file, whitespace separated integers):
``m n``, then the cost matrix ``c`` (m rows of n), the resource matrix ``a`` (m rows of n), and
the capacities ``b`` (m values). Job j must go to exactly one agent; agent i may use at most
``b[i]``. We minimise the cost.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduling.core import AssignmentCore


@dataclass(frozen=True)
class GapInstance:
    name: str
    cost: np.ndarray  # [m, n]
    weight: np.ndarray  # [m, n]
    capacity: np.ndarray  # [m]

    @property
    def m(self) -> int:
        return self.cost.shape[0]

    @property
    def n(self) -> int:
        return self.cost.shape[1]


def parse_gap(text: str, name: str = "gap") -> GapInstance:
    """Parse the OR-Library text; every count mismatch is a clear error."""
    try:
        values = np.array(text.split(), dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"{name}: not an OR-Library GAP file (non-integer token: {exc})") from None
    if len(values) < 2:
        raise ValueError(f"{name}: empty GAP file")
    m, n = int(values[0]), int(values[1])
    expected = 2 + 2 * m * n + m
    if m <= 0 or n <= 0 or len(values) != expected:
        raise ValueError(f"{name}: header says {m} agents x {n} jobs, so {expected} numbers are expected, found {len(values)}")
    cost = values[2 : 2 + m * n].reshape(m, n)
    weight = values[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    capacity = values[2 + 2 * m * n :]
    return GapInstance(name=name, cost=cost, weight=weight, capacity=capacity)


def read_gap(path: str | Path) -> GapInstance:
    """Read an instance from its text file or from the OR-Library zip holding one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"GAP instance not found: {path}")
    name = path.name.removesuffix(".zip").removesuffix(".txt")
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise ValueError(f"{path}: expected one instance file in the zip, found {len(members)}")
            text = io.TextIOWrapper(zf.open(members[0]), encoding="ascii").read()
    else:
        text = path.read_text(encoding="ascii")
    return parse_gap(text, name)


def read_bounds(path: str | Path) -> dict[str, tuple[int, int]]:
    """bounds.tsv: NAME_Min / NAME_Max -> (best known lower bound, best known solution)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


def gap_core(inst: GapInstance) -> AssignmentCore:
    """The instance as an assignment core: every (job, agent) pair that fits at all."""
    m, n = inst.m, inst.n
    item = np.repeat(np.arange(n), m)
    agent = np.tile(np.arange(m), n)
    ok = inst.weight[agent, item] <= inst.capacity[agent]
    item, agent = item[ok], agent[ok]
    return AssignmentCore(
        multiplicity=np.ones(n, dtype=np.int64),
        pair_item=item,
        pair_agent=agent,
        pair_cost=inst.cost[agent, item],
        usage=inst.weight[agent, item][None, :],
        capacity=inst.capacity[None, :],
        resource_names=("capacity",),
        name=inst.name,
    )


def solve_plein(inst: GapInstance, time_limit: float, seed: int = 0, workers: int = 2) -> dict:
    """Plein's engine on one instance: the row `plein bench gap` prints."""
    from scheduling.solve import SolveOptions, solve_core

    t0 = time.perf_counter()
    core = gap_core(inst)
    res = solve_core(core, SolveOptions(time_limit=max(0.5, time_limit - (time.perf_counter() - t0)), seed=seed, workers=workers))
    feasible = bool(res.evaluation.feasible)
    return {
        "instance": inst.name,
        "solver": "plein",
        "objective": int(res.objective) if feasible else None,
        "bound": int(res.bound) if math.isfinite(res.bound) else None,
        "gap": round(res.gap, 6) if feasible and math.isfinite(res.gap) else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "feasible": feasible,
        "status": res.status,
        "iterations": res.iterations,
        # the second process: price-and-dive on a pure GAP that suits it, else branch-and-cut
        **({"beside": {k: res.mip.get(k) for k in ("objective", "bound", "status")}} if res.mip else {}),
    }


def solve_plain_cpsat(inst: GapInstance, time_limit: float, seed: int = 0, workers: int = 2) -> dict:
    """Baseline: one boolean per pair, CP-SAT defaults, same limit and workers."""
    from ortools.sat.python import cp_model

    from scheduling.model import build_plain_gap

    t0 = time.perf_counter()
    model, _ = build_plain_gap(inst.cost, inst.weight, inst.capacity)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    feasible = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "instance": inst.name,
        "solver": "plain-cpsat",
        "objective": int(round(solver.objective_value)) if feasible else None,
        "bound": int(math.ceil(solver.best_objective_bound - 1e-6)) if feasible or status == cp_model.UNKNOWN else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "feasible": feasible,
        "status": solver.status_name(status),
    }


def solve_highs_milp(inst: GapInstance, time_limit: float) -> dict:
    """Baseline: scipy's HiGHS MILP on the textbook model, same time limit."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    m, n = inst.m, inst.n
    c = inst.cost.reshape(-1).astype(float)  # variable i*n + j
    rows_eq = sp.csr_matrix((np.ones(m * n), (np.tile(np.arange(n), m), np.arange(m * n))), shape=(n, m * n))
    rows_ub = sp.csr_matrix((inst.weight.reshape(-1).astype(float), (np.repeat(np.arange(m), n), np.arange(m * n))), shape=(m, m * n))
    res = milp(
        c,
        constraints=[LinearConstraint(rows_eq, 1, 1), LinearConstraint(rows_ub, -np.inf, inst.capacity.astype(float))],
        integrality=np.ones(m * n),
        bounds=Bounds(0, 1),
        options={"time_limit": max(0.1, time_limit - (time.perf_counter() - t0)), "disp": False},
    )
    feasible = res.x is not None
    bound = getattr(res, "mip_dual_bound", None)
    return {
        "instance": inst.name,
        "solver": "highs",
        "objective": int(round(res.fun)) if feasible else None,
        "bound": int(math.ceil(bound - 1e-6)) if bound is not None and np.isfinite(bound) else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "feasible": feasible,
        "status": res.message,
    }


def check_solution(inst: GapInstance, agent_of_job: np.ndarray) -> int:
    """Verify a solution independently of the solver; returns its cost."""
    agent_of_job = np.asarray(agent_of_job)
    if agent_of_job.shape != (inst.n,) or agent_of_job.min() < 0 or agent_of_job.max() >= inst.m:
        raise ValueError("every job needs exactly one agent")
    used = np.zeros(inst.m, dtype=np.int64)
    np.add.at(used, agent_of_job, inst.weight[agent_of_job, np.arange(inst.n)])
    if (used > inst.capacity).any():
        raise ValueError(f"capacity exceeded at agents {np.flatnonzero(used > inst.capacity).tolist()}")
    return int(inst.cost[agent_of_job, np.arange(inst.n)].sum())


def to_json_line(row: dict) -> str:
    return json.dumps(row, sort_keys=False)
