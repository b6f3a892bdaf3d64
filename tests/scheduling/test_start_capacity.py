"""The start heuristics at scale respect both capacities (caseload points and the client
maximum): on a tight but feasible instance, where both bind on every coach, nobody stays
unplaced (the regional benchmark used to leave ~1 000 clients unplaced for lack of this)."""

from __future__ import annotations

import numpy as np
import pytest

from scheduling.core import AssignmentCore, evaluate
from scheduling.solve import SolveOptions, flow_start, repair_unplaced, solve_core


def _tight_core(n_items: int = 600, n_agents: int = 12, extra: int = 4, seed: int = 3, slack: float = 0.05) -> AssignmentCore:
    """A hidden assignment fills every agent up to `slack` in points and up to one client in
    count; each item may also go to `extra` other agents, mostly at a lower cost (to lure the
    heuristics the wrong way)."""
    rng = np.random.default_rng(seed)
    pts = rng.choice([10, 13, 17, 24, 41], size=n_items)
    true = rng.integers(n_agents, size=n_items)
    cap_pts = np.floor(np.bincount(true, weights=pts, minlength=n_agents) * (1 + slack)).astype(np.int64)
    cap_cnt = np.bincount(true, minlength=n_agents).astype(np.int64) + (1 if slack > 0 else 0)
    items, agents, costs = [], [], []
    for j in range(n_items):
        others = rng.choice(np.delete(np.arange(n_agents), true[j]), size=extra, replace=False)
        ags = np.sort(np.concatenate([[true[j]], others]))
        for a in ags:
            items.append(j)
            agents.append(a)
            costs.append(int(rng.integers(0, 30)) + (40 if a == true[j] else 0))
    pair_item = np.array(items)
    pair_agent = np.array(agents)
    usage = np.vstack([pts[pair_item], np.ones(len(pair_item), dtype=np.int64)])
    return AssignmentCore(
        multiplicity=np.ones(n_items, dtype=np.int64),
        pair_item=pair_item,
        pair_agent=pair_agent,
        pair_cost=np.array(costs),
        usage=usage,
        capacity=np.vstack([cap_pts, cap_cnt]),
        resource_names=("points", "clients"),
        unassigned_cost=np.full(n_items, 100_000, dtype=np.int64),
        name="tight",
    )


def test_repair_respects_both_capacities_and_places_more():
    core = _tight_core(slack=0.0)
    x0 = flow_start(core)
    ev0 = evaluate(core, x0)
    assert not ev0.overload.any()
    x1 = repair_unplaced(core, x0)
    ev1 = evaluate(core, x1)
    assert not ev1.overload.any(), "repair broke a capacity"
    assert ev1.unassigned <= ev0.unassigned
    assert ev1.objective <= ev0.objective


@pytest.mark.parametrize("lp_max_pairs", [0, 200_000], ids=["flow-start", "lp-start"])
def test_tight_points_and_counts_places_everyone(lp_max_pairs):
    core = _tight_core()
    # both capacities bind: 95 % of every agent's points and all but one client slot are needed
    assert (core.usage[1] == 1).all()
    assert core.multiplicity.sum() >= core.capacity[1].sum() - core.n_agents
    res = solve_core(core, SolveOptions(time_limit=6, seed=1, workers=1, lp_max_pairs=lp_max_pairs))
    ev = res.evaluation
    assert not ev.overload.any()
    assert ev.unassigned == 0, f"{ev.unassigned} units unplaced although a full assignment exists"
