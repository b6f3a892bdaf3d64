"""Benchmark: the caseload optimiser at regional scale, on a generated region.

    plein bench caseload --clients 50000 --time-limit 50 --intake 500 --intake-time-limit 1.0 --what-if-leave 3

1. **Full rebalance** of the whole caseload with every constraint (specialisations,
   municipalities, absences, points capacity, client maximum, continuity, sector fit, travel,
   language, balance). Wall time includes building the problem and the proposal.
2. **Intake**: 500 clients lose their coach (as if newly registered) and are placed into the
   otherwise fixed caseload: once into the generated caseload, once into the caseload as the
   rebalance leaves it when approved (`Proposal.applied_to`), where coaches are filled to
   what fits and some of the new clients find no room (the figures then include the
   explanation of why).
3. **What-if**: on that approved caseload, `--what-if-leave` coaches (3; drawn with the seed
   among those who carry clients) leave, with a time limit of `--what-if-time-limit` (30 s):
   only what must move, moves (`forced` counts the clients of the leaving coaches placed with
   another, `lose_coach` the clients who had a coach and find no room, `handovers` the others
   moved to make room). Where some of the leaving coaches' clients would find no room, the
   what-if widens (see docs/scheduling.md), and may place them where others lose their place
   when that leaves fewer without a coach. 0 skips it.

Prints a table: wall seconds, solver seconds, objective, proven bound and gap, unassigned,
handovers, and the process's peak memory (resident set, which includes the generated region).
The generator sizes coaches at about 120 caseload clients each, so `--clients 50000` gives
~360 coaches; `--coaches 400` splits the largest caseloads (capacity, client maximum and clients
halved) until there are 400.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import resource
import time

import numpy as np
import pandas as pd

from plein.progress import ProgressCallback, no_progress


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _row(step: str, proposal, wall: float, n_coaches: int) -> dict:
    s = proposal.solver
    a = proposal.after["summary"]
    return {
        "step": step,
        "clients": a["clients"],
        "movable": s["movable_clients"],
        "coaches": n_coaches,
        "classes": s["classes"],
        "pairs": s["pairs"],
        "wall_s": round(wall, 2),
        "solver_s": s["seconds"],
        "objective": s["objective"],
        "bound": s["bound"],
        "gap_pct": None if s["gap"] is None else round(100 * s["gap"], 3),
        "unassigned": a["unassigned"],
        "min_unassigned_lp": (s.get("placement") or {}).get("min_unassigned_lp"),
        "handovers": a["handovers"],
        "forced": a["forced_moves"],
        "lose_coach": a["lose_coach"],
        "max_load": a["max_relative_load"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def split_coaches(region, n_coaches: int, seed: int = 0):
    """Reach `n_coaches` by splitting the coaches with the largest capacity in two: the copy
    keeps team, specialisations, municipalities and office, takes half the capacity, half the
    client maximum and half the clients. Returns the region with new coach and client frames."""
    co = region.coaches.copy().reset_index(drop=True)
    if n_coaches < len(co):
        raise ValueError(f"--coaches {n_coaches} is below the {len(co)} coaches the generator made for this many clients")
    cl = region.clients.copy()
    rng = np.random.default_rng(seed)
    k = 0
    while len(co) < n_coaches:
        i = int(co["capacity_points"].astype(float).idxmax())
        row = co.loc[i].copy()
        half_cap, half_max = float(row["capacity_points"]) / 2, int(row["max_clients"]) // 2
        co.loc[i, "capacity_points"], co.loc[i, "max_clients"] = half_cap, int(row["max_clients"]) - half_max
        k += 1
        row["id"], row["name"] = f"{row['id']}-split{k}", f"{row['name']} (2)"
        row["capacity_points"], row["max_clients"] = half_cap, half_max
        co = pd.concat([co, row.to_frame().T], ignore_index=True)
        mine = np.flatnonzero((cl["coach_id"] == co.loc[i, "id"]).to_numpy())
        moved = rng.choice(mine, size=len(mine) // 2, replace=False) if len(mine) else mine
        cl.loc[cl.index[moved], "coach_id"] = row["id"]
    for col in ("capacity_points",):
        co[col] = co[col].astype(float)
    co["max_clients"] = co["max_clients"].astype(int)
    region.coaches, region.clients = co, cl
    return region


def scale_capacity(region, factor: float):
    """Every coach's capacity in points and client maximum times `factor` (a region staffed
    for its caseload, where the generated one is short for some eligibility groups)."""
    if not factor > 0:
        raise ValueError(f"--capacity-factor must be positive (got {factor})")
    co = region.coaches.copy()
    co["capacity_points"] = (co["capacity_points"].astype(float) * factor).round(1)
    co["max_clients"] = np.ceil(co["max_clients"].astype(float) * factor).astype(int)
    region.coaches = co
    return region


def run(
    n_clients: int = 50_000,
    seed: int = 1,
    n_coaches: int | None = None,
    time_limit: float = 50.0,
    intake: int = 500,
    intake_time_limit: float = 1.0,
    progress: ProgressCallback | None = None,
    capacity_factor: float = 1.0,
    what_if_leave: int = 3,
    what_if_time_limit: float = 30.0,
) -> list[dict]:
    from plein.generator import generate_region
    from scheduling import ScheduleOptions, run_optimisation

    cb = progress or no_progress
    cb(0, 3, f"generating a region of {n_clients} clients")
    t = time.perf_counter()
    region = generate_region(n_clients, seed=seed)
    gen_s = time.perf_counter() - t
    if n_coaches:
        region = split_coaches(region, n_coaches, seed)
    if capacity_factor != 1.0:
        region = scale_capacity(region, capacity_factor)
    plan = region.as_of() or dt.date.today()
    n_coaches = len(region.coaches)
    rows = [{"step": "generate", "clients": len(region.clients), "coaches": n_coaches, "wall_s": round(gen_s, 2),
             "peak_rss_mb": round(peak_rss_mb(), 1)}]

    cb(1, 3, "full rebalance")
    t = time.perf_counter()
    full = run_optimisation(region, "full", ScheduleOptions(plan_date=plan, time_limit=time_limit, seed=seed, deterministic=False))
    rows.append(_row("full rebalance", full, time.perf_counter() - t, n_coaches))

    # the intake twice: into the generated caseload, and into the caseload as the rebalance
    # leaves it once approved (coaches filled to what fits: the harder case, where some of the
    # new clients find no room)
    for k, (label, base) in enumerate((("", region), (", after the rebalance", full.applied_to(region)))):
        cb(2 + k / 2, 3, f"intake of {intake}{label}")
        rng = np.random.default_rng(seed)
        cl = base.clients.copy()
        has = np.flatnonzero(cl["coach_id"].notna().to_numpy() & cl["status"].astype(str).isin(["active", "placed"]).to_numpy())
        released = rng.choice(has, size=min(intake, len(has)), replace=False)
        cl.loc[cl.index[released], "coach_id"] = None
        base = dataclasses.replace(base, clients=cl)  # the generated region itself stays as it was
        t = time.perf_counter()
        inta = run_optimisation(base, "intake", ScheduleOptions(plan_date=plan, time_limit=intake_time_limit, seed=seed, deterministic=False))
        row = _row(f"intake {len(released)}{label}", inta, time.perf_counter() - t, n_coaches)
        row["placed"] = inta.after["summary"]["placements"]
        rows.append(row)
    if what_if_leave > 0:
        # a what-if on the caseload as the rebalance leaves it once approved: some coaches
        # (drawn with the seed among those who carry clients) leave; only what must move, moves
        cb(3, 3, f"what-if: {what_if_leave} coaches leave")
        base = full.applied_to(region)
        carrying = sorted(set(base.clients["coach_id"].dropna().astype(str)))
        leaving = [str(c) for c in np.random.default_rng(seed).choice(carrying, size=min(what_if_leave, len(carrying)), replace=False)]
        t = time.perf_counter()
        wi = run_optimisation(base, "what_if", ScheduleOptions(plan_date=plan, time_limit=what_if_time_limit, seed=seed,
                                                               deterministic=False, coach_leaves=leaving))
        row = _row(f"what-if: {len(leaving)} coaches leave", wi, time.perf_counter() - t, n_coaches)

        def with_leaving(r) -> int:
            cl = r.clients
            return int((cl["coach_id"].astype(str).isin(leaving) & cl["status"].astype(str).isin(["active", "placed"])).sum())

        row["placed"] = wi.after["summary"]["placements"]
        row["leaving_clients"] = with_leaving(base)
        # the clients of the leaving coaches: placed with another coach, or out where none has room
        row["leaving_moved"] = sum(1 for m in wi.moves if m["from_coach"] in leaving)
        row["leaving_out"] = sum(1 for u in wi.unassigned if u["from_coach"] in leaving)
        # who would still be with a leaving coach once the what-if is approved (must be 0)
        row["still_with_leaving"] = with_leaving(wi.applied_to(base))
        rows.append(row)
    cb(3, 3, "done")
    return rows


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    cols = ["step", "clients", "movable", "coaches", "classes", "pairs", "wall_s", "solver_s", "objective", "bound",
            "gap_pct", "unassigned", "min_unassigned_lp", "handovers", "forced", "lose_coach", "max_load", "peak_rss_mb"]
    table = Table(title="Caseload optimiser at scale (generated region)")
    for c in cols:
        table.add_column(c, justify="left" if c == "step" else "right")
    for r in rows:
        table.add_row(*("-" if r.get(c) is None else str(r.get(c)) for c in cols))
    Console().print(table)
