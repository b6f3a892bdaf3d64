"""The assignment core: a generalised assignment problem (GAP) with side objectives, in arrays.

Caseload assignment *is* a GAP: items (classes of identical clients) go to agents (coaches)
under per-agent resource capacities (caseload points, client count), each pair with a cost
(handover, sector fit, travel, language). On top come the balance terms (highest relative
load, spread between agents and between teams) and an optional cap on the number of moves.
The OR-Library benchmark instances are the same structure with multiplicity 1 and one
resource, so they run through exactly this core and the same solver (`scheduling.solve`).

Only *eligible* pairs exist (sparse, sorted by item): at 50k clients and 400 coaches a dense
pair matrix would be 20M entries; eligibility and grouping cut that by orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

#: relative loads are expressed in per-mille of capacity (1000 = exactly full)
PER_MILLE = 1000


@dataclass(frozen=True)
class Balance:
    """Balance terms of the objective, on one resource (normally caseload points).

    `denominator[i]` is agent i's capacity in that resource (relative load = load / denominator);
    agents with denominator 0 (absent, left) take no part. `team[i]` groups agents (-1 = none).
    Weights are cost units per per-mille of relative load.
    """

    resource: int
    denominator: np.ndarray  # int64 [n_agents]
    team: np.ndarray  # int32 [n_agents]
    w_max: int = 0
    w_spread: int = 0
    w_team_spread: int = 0

    @property
    def active(self) -> bool:
        return (self.w_max or self.w_spread or self.w_team_spread) and bool((self.denominator > 0).any())


@dataclass
class AssignmentCore:
    """One assignment problem. Pairs are sorted by item; `usage[r, p]` is what pair p uses of
    resource r at its agent; `capacity[r, i]` is what agent i offers (already net of any
    fixed load). `base_load[i]` is agent i's fixed load of the balance resource (clients not in
    the problem), used only for the balance terms."""

    multiplicity: np.ndarray  # int64 [n_items]
    pair_item: np.ndarray  # int64 [P]
    pair_agent: np.ndarray  # int64 [P]
    pair_cost: np.ndarray  # int64 [P]
    usage: np.ndarray  # int64 [R, P]
    capacity: np.ndarray  # int64 [R, n_agents]
    resource_names: tuple[str, ...]
    #: cost of leaving one unit of an item unassigned; None = every item must be assigned
    unassigned_cost: np.ndarray | None = None
    balance: Balance | None = None
    base_load: np.ndarray | None = None  # int64 [n_agents]
    #: pairs that count as a (voluntary) move, and the hard cap on their total quantity
    move_mask: np.ndarray | None = None  # bool [P]
    max_moves: int | None = None
    #: quantity per pair of the current state (who stays where), for the start heuristic
    incumbent: np.ndarray | None = None
    name: str = "assignment"
    #: every eligible pair when the pairs above are a candidate subset (`scheduling.placement`):
    #: the bound is then taken over all of them
    catalogue: object | None = None
    #: a start solution (quantity per pair) and capacity multipliers [R, n_agents] in cost
    #: units, e.g. from the placement plan
    start: np.ndarray | None = None
    multipliers: np.ndarray | None = None
    #: with `multipliers`: the multiplier of the count cut (at least so many units unassigned)
    cut_multiplier: float = 0.0
    #: capacity multipliers of the LP that minimises the units left unassigned: they certify
    #: how many every assignment leaves (`PairCatalogue.fewest_unassigned`), the count cut
    count_multipliers: np.ndarray | None = None
    #: units every assignment leaves unassigned, certified elsewhere
    #: (`placement.count_certificate`): the LP gets the row "at least this many unassigned"
    #: (a valid cut)
    min_unassigned: int = 0
    #: the LP over these pairs without the balance rows (`lp.LPResult`), when building the
    #: problem solved it already (`solve.lp_start`): the solve uses it instead of solving again
    lp: object | None = None
    #: figures for the report (placement plan, bounds)
    notes: dict = field(default_factory=dict)
    _item_start: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.multiplicity = np.asarray(self.multiplicity, dtype=np.int64)
        self.pair_item = np.asarray(self.pair_item, dtype=np.int64)
        self.pair_agent = np.asarray(self.pair_agent, dtype=np.int64)
        self.pair_cost = np.asarray(self.pair_cost, dtype=np.int64)
        self.usage = np.atleast_2d(np.asarray(self.usage, dtype=np.int64))
        self.capacity = np.atleast_2d(np.asarray(self.capacity, dtype=np.int64))
        if self.base_load is None:
            self.base_load = np.zeros(self.n_agents, dtype=np.int64)
        self.validate()

    # -- shape -----------------------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.multiplicity)

    @property
    def n_agents(self) -> int:
        return self.capacity.shape[1]

    @property
    def n_pairs(self) -> int:
        return len(self.pair_item)

    @property
    def n_resources(self) -> int:
        return self.capacity.shape[0]

    @property
    def item_start(self) -> np.ndarray:
        """CSR offsets: pairs of item j are `item_start[j]:item_start[j+1]`."""
        if self._item_start is None:
            self._item_start = np.searchsorted(self.pair_item, np.arange(self.n_items + 1)).astype(np.int64)
        return self._item_start

    def find_pairs(self, items: np.ndarray, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the pairs (items[k], agents[k]) are among this core's pairs: (positions,
        found); a position is meaningful only where found. Pairs come sorted by item, and by
        agent within an item where they are built so (then no sort is needed)."""
        m = self.n_agents
        want = np.asarray(items, dtype=np.int64) * m + np.asarray(agents, dtype=np.int64)
        if self.n_pairs == 0:
            return np.zeros(len(want), dtype=np.int64), np.zeros(len(want), dtype=bool)
        keys = self.pair_item * m + self.pair_agent
        order = None if np.all(keys[1:] > keys[:-1]) else np.argsort(keys, kind="stable")
        ordered = keys if order is None else keys[order]
        pos = np.minimum(np.searchsorted(ordered, want), len(keys) - 1)
        found = ordered[pos] == want
        return (pos if order is None else order[pos]), found

    def validate(self) -> None:
        P = self.n_pairs
        for name, arr in (("pair_agent", self.pair_agent), ("pair_cost", self.pair_cost)):
            if len(arr) != P:
                raise ValueError(f"{self.name}: {name} has {len(arr)} entries, expected {P} (one per pair)")
        if self.usage.shape != (self.n_resources, P):
            raise ValueError(f"{self.name}: usage has shape {self.usage.shape}, expected {(self.n_resources, P)}")
        if len(self.resource_names) != self.n_resources:
            raise ValueError(f"{self.name}: {len(self.resource_names)} resource names for {self.n_resources} resources")
        if P and (np.diff(self.pair_item) < 0).any():
            raise ValueError(f"{self.name}: pairs must be sorted by item")
        if P and (self.pair_item.min() < 0 or self.pair_item.max() >= self.n_items):
            raise ValueError(f"{self.name}: pair_item out of range 0..{self.n_items - 1}")
        if P and (self.pair_agent.min() < 0 or self.pair_agent.max() >= self.n_agents):
            raise ValueError(f"{self.name}: pair_agent out of range 0..{self.n_agents - 1}")
        if (self.multiplicity < 0).any():
            raise ValueError(f"{self.name}: negative multiplicity")
        if (self.usage < 0).any():
            raise ValueError(f"{self.name}: negative resource usage")
        if self.unassigned_cost is not None:
            self.unassigned_cost = np.asarray(self.unassigned_cost, dtype=np.int64)
            if len(self.unassigned_cost) != self.n_items:
                raise ValueError(f"{self.name}: unassigned_cost needs one entry per item")
        if self.move_mask is not None and len(self.move_mask) != P:
            raise ValueError(f"{self.name}: move_mask needs one entry per pair")

    def with_changes(self, **kwargs) -> AssignmentCore:
        return replace(self, _item_start=None, **kwargs)


@dataclass
class Evaluation:
    """The objective of a solution, split in its parts, and whether it is feasible."""

    pair_cost: int
    unassigned: int
    unassigned_cost: int
    l_max: int
    l_min: int
    t_max: int
    t_min: int
    balance_cost: int
    moves: int
    overload: np.ndarray  # [R, n_agents] amount over capacity (0 when feasible)
    feasible: bool

    @property
    def objective(self) -> int:
        return self.pair_cost + self.unassigned_cost + self.balance_cost


def agent_loads(core: AssignmentCore, x: np.ndarray) -> np.ndarray:
    """Usage per resource and agent of solution `x` (quantity per pair): [R, n_agents]."""
    loads = np.zeros((core.n_resources, core.n_agents), dtype=np.int64)
    for r in range(core.n_resources):
        np.add.at(loads[r], core.pair_agent, core.usage[r] * x)
    return loads


def balance_levels(core: AssignmentCore, balance_load: np.ndarray) -> tuple[int, int, int, int]:
    """(L_max, L_min, T_max, T_min) in per-mille, rounded the way the models do: the max
    terms up, the min terms down, so they are exactly the tightest integer model values."""
    b = core.balance
    if b is None or not b.active:
        return 0, 0, 0, 0
    on = b.denominator > 0
    den = b.denominator[on]
    load = balance_load[on]
    rel_hi = -((-PER_MILLE * load) // den)
    rel_lo = (PER_MILLE * load) // den
    l_max, l_min = int(rel_hi.max()), int(rel_lo.min())
    t_max = t_min = 0
    teams = b.team[on]
    if b.w_team_spread and (teams >= 0).any():
        ids = np.unique(teams[teams >= 0])
        t_load = np.array([load[teams == t].sum() for t in ids])
        t_den = np.array([den[teams == t].sum() for t in ids])
        t_max = int((-((-PER_MILLE * t_load) // t_den)).max())
        t_min = int(((PER_MILLE * t_load) // t_den).min())
    return l_max, l_min, t_max, t_min


def balance_floor(core: AssignmentCore, upper: float | None = None) -> int:
    """A lower bound on the balance cost of *any* solution, from what is fixed: every agent's
    load is at least its fixed load and at most fixed load + capacity, so the highest relative
    load is at least the highest fixed one and the spread at least its distance to the lowest
    reachable maximum (likewise for teams). With `upper` (the objective of a known solution)
    a better solution leaves at most upper / unassigned cost units unassigned, so the highest
    relative load is also at least the average one with everything else placed. Added to
    bounds that drop the balance terms."""
    b = core.balance
    if b is None or not b.active:
        return 0
    on = b.denominator > 0
    den = b.denominator[on]
    lo = core.base_load[on]
    hi = lo + np.maximum(core.capacity[b.resource][on], 0)
    l_max_lb = int((-((-PER_MILLE * lo) // den)).max())
    if core.n_pairs and den.sum() > 0:
        use = np.zeros(core.n_items, dtype=np.int64)
        np.maximum.at(use, core.pair_item, core.usage[b.resource])
        demand = int((use * core.multiplicity).sum())
        if core.unassigned_cost is not None:
            if upper is None or core.unassigned_cost.min() <= 0:
                demand = 0
            else:
                demand -= int(upper // int(core.unassigned_cost.min())) * int(use.max(initial=0))
        if demand > 0:
            l_max_lb = max(l_max_lb, int(-((-PER_MILLE * (int(lo.sum()) + demand)) // int(den.sum()))))
    l_min_ub = int(((PER_MILLE * hi) // den).min())
    cost = b.w_max * l_max_lb + b.w_spread * max(0, l_max_lb - l_min_ub)
    teams = b.team[on]
    if b.w_team_spread and (teams >= 0).any():
        ids = np.unique(teams[teams >= 0])
        t_den = np.array([den[teams == t].sum() for t in ids])
        t_lo = np.array([lo[teams == t].sum() for t in ids])
        t_hi = np.array([hi[teams == t].sum() for t in ids])
        t_max_lb = int((-((-PER_MILLE * t_lo) // t_den)).max())
        t_min_ub = int(((PER_MILLE * t_hi) // t_den).min())
        cost += b.w_team_spread * max(0, t_max_lb - t_min_ub)
    return int(cost)


def evaluate(core: AssignmentCore, x: np.ndarray) -> Evaluation:
    x = np.asarray(x, dtype=np.int64)
    assigned = np.bincount(core.pair_item, weights=x, minlength=core.n_items).astype(np.int64)
    unassigned = core.multiplicity - assigned
    loads = agent_loads(core, x)
    overload = np.maximum(loads - core.capacity, 0)
    u_cost = int((unassigned * core.unassigned_cost).sum()) if core.unassigned_cost is not None else 0
    moves = int(x[core.move_mask].sum()) if core.move_mask is not None else 0
    feasible = bool((unassigned >= 0).all() and not overload.any())
    if core.unassigned_cost is None and unassigned.any():
        feasible = False
    if core.max_moves is not None and moves > core.max_moves:
        feasible = False
    l_max = l_min = t_max = t_min = 0
    balance_cost = 0
    b = core.balance
    if b is not None and b.active:
        l_max, l_min, t_max, t_min = balance_levels(core, core.base_load + loads[b.resource])
        balance_cost = b.w_max * l_max + b.w_spread * (l_max - l_min) + b.w_team_spread * (t_max - t_min)
    return Evaluation(
        pair_cost=int((core.pair_cost * x).sum()),
        unassigned=int(unassigned.sum()),
        unassigned_cost=u_cost,
        l_max=l_max,
        l_min=l_min,
        t_max=t_max,
        t_min=t_min,
        balance_cost=int(balance_cost),
        moves=moves,
        overload=overload,
        feasible=feasible,
    )
