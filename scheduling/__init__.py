"""The caseload optimiser: assign clients to coaches (and so to sector teams) under caseload
limits, explain every move, and let a manager approve or reject the proposal.

    from scheduling import run_optimisation, ScheduleOptions
    proposal = run_optimisation(region, "full", ScheduleOptions(time_limit=30, seed=1))
    proposal.to_dict()          # JSON for the proposals table and the API
    scheduling.approval.store_proposal(engine, proposal, created_by="manager")
    scheduling.approval.approve(engine, proposal_id, manager="j.jansen")

Layers: `config` (weights, caseload points) -> `problem` (Region -> eligible pairs, classes;
`placement`: every eligible pair by eligibility group, the placement plan and the full bound)
-> `core`/`model`/`lp`/`solve` (the GAP engine: LP bound, start, CP-SAT LNS) -> `proposal`
(moves, reasons, figures) -> `approval` (database). `explain` turns unplaceable clients into
numbers and conflicting constraint groups; `plots` draws the balance chart.
"""

from __future__ import annotations

from plein.progress import ProgressCallback
from plein.region import Region
from scheduling.config import CaseloadPoints, ScheduleConfig, Weights
from scheduling.problem import MODES, ScheduleOptions, client_points, coach_availability
from scheduling.proposal import Proposal

#: a widened what-if (wall clock) has what the what-if left of the time limit, at least this share
WIDEN_MIN_SHARE = 0.4

__all__ = ["run_optimisation", "ScheduleOptions", "ScheduleConfig", "Weights", "CaseloadPoints", "Proposal", "MODES", "coach_availability", "client_points"]


def normalise_mode(mode: str) -> str:
    m = str(mode).strip().lower().replace("-", "_")
    if m == "whatif":
        m = "what_if"
    if m not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from full, intake, what-if")
    return m


def stranded(problem, result) -> int:
    """Clients who have a coach now and none in `result`: what a what-if must avoid before
    it may widen (classes group clients with the same current coach)."""
    import numpy as np

    core = problem.core
    placed = np.bincount(core.pair_item, weights=result.x, minlength=core.n_items)
    left = core.multiplicity - placed
    had = np.array([problem.current[m[0]] >= 0 for m in problem.class_members], dtype=bool)
    return int(np.rint(left[had].sum())) if len(had) else 0


def count_floor(problem, result) -> None:
    """Where the joint check ran beside the search (an intake) and clients stay unassigned:
    every assignment leaves at least its whole count out, each at least at the lowest
    unassigned cost, and every other term costs 0 or more, so that count is a bound too
    (an intake into an approved 50k caseload, `--seed 3`: one client out, the LP's bound
    7 860 against 109 271; this floor 100 000). Raises `result.bound` in place."""
    import math

    pending, core = problem.joint_shortfall, problem.core
    if pending is None or core.unassigned_cost is None or result.evaluation.unassigned == 0:
        return
    got = pending.result()
    if got is None or not len(core.unassigned_cost):
        return
    k = int(math.ceil(got[0] - 1e-6))
    floor = k * int(core.unassigned_cost.min())
    if floor > result.bound:
        core.notes.setdefault("bound", {})["count_floor"] = {"min_unassigned": k, "bound": floor, "before": int(result.bound)}
        result.bound = floor


def run_optimisation(
    region: Region,
    mode: str = "full",
    options: ScheduleOptions | dict | None = None,
    progress: ProgressCallback | None = None,
) -> Proposal:
    """Optimise the caseload of `region` and return a pending proposal (pure: no database).

    `mode`: ``full`` (rebalance everyone; handovers cost), ``intake`` (place clients without a
    coach; everyone else fixed) or ``what_if`` (apply the options' absences, departures and
    capacity changes; only clients who must move are moved). When a what-if cannot place
    everyone that must move (a client who has a coach now would have none), it widens to
    everyone, each voluntary handover still at the what-if's price, and keeps the widened
    result when it strands fewer of them; the solver figures say so (`escalated_to_full`).
    The time limit covers building and solving (a what-if: half of it for its own run, the
    rest for the widened one); the explanation and the proposal's figures come on top.
    """
    from scheduling.explain import explain, start_joint_check
    from scheduling.problem import build_problem, complete_unplaced, round_lp_all_pairs, start_from_lp
    from scheduling.proposal import build_proposal
    from scheduling.solve import SolveOptions, solve_core

    mode = normalise_mode(mode)
    if options is None:
        options = ScheduleOptions()
    elif isinstance(options, dict):
        options = ScheduleOptions.from_dict(options)
    if options.time_limit <= 0:
        raise ValueError(f"time_limit must be positive (got {options.time_limit})")

    import time

    from plein.progress import part

    t_start = time.perf_counter()

    def solve(m: str, seconds: float, lo: float, hi: float, widened: bool = False):
        """Build and solve in mode `m` in `seconds` (building included in wall-clock runs);
        progress on [lo, hi]."""

        t0 = time.perf_counter()
        # at regional scale building includes the placement plan (its time limit is 0.75 of
        # the limit); progress spans building and solving as one bar
        built_at = lo + 0.75 * (hi - lo)
        problem = build_problem(region, m, options, progress=part(progress, lo, built_at), widened=widened,
                                time_limit=seconds)
        if m == "intake" or widened:
            # the explanation's joint check beside the solve (its LP needs only the problem):
            # an intake into an approved 50k caseload leaves clients out, and its 2 s have no
            # room for the LP after the solve; a widened what-if's plan has no count to give
            # it (its LP is priced), and after the solve the LP took 2.7 s at 50k
            problem = start_joint_check(problem)
        limit = seconds
        if not options.deterministic:
            # the time limit covers building the problem (at regional scale the placement
            # plan is part of it); the search keeps at least half of it, 10 % after a
            # placement plan (at 50k its 25-40 s improved the plan's start by 70 in 21.6M,
            # and 0 where capacity suffices; measured 2026-12-03; what it buys there is the
            # bound's climb: 12.5 s 21 248 380, 5 s 21 243 535, 0.02 % of the gap, 2026-12-06).
            # 15 % until late on 2026-12-06: on a slower machine the plan ran 8-16 s over its
            # 0.75 of the limit, and the floor added its 7.5 s after that (the generated
            # region 59-68 s wall); with 10 % and the climb's three quarters of it the climb
            # keeps its 3.75 s there, and gets more where building ends on time
            # where everyone fits and the start came from the LP over the candidates (`core.lp`),
            # the bound is that LP priced over every pair, which needs its time: 14 % (50k,
            # `--seed 3`: with 15 % it climbed instead, 677 311 against ~686 400, when that
            # pricing started cold; from the kept model of `lp_start`'s column generation it
            # takes 2.4-3.1 s, and the search after it improved 0 in every run, so since
            # 2026-12-06 (late) the seconds a fifth gave it go to the start's exchange:
            # building gives `lp_start` 0.91 of the limit, not 0.85. On a slower machine that
            # exchange had had 0.4 s and 0 rounds: 714 134, 3.71 %, 58.4 s; now ~5 s, -5 313:
            # 709 899, 3.13 %, 52.5 s. `SolveOptions.price_min_seconds_warm` is 5 s to match)
            floor = 0.5 if problem.plan is None else 0.14 if problem.core.lp is not None else 0.1
            limit = max(floor * limit, limit - (time.perf_counter() - t0))
        elif problem.plan is not None:
            # deterministic (no clock to read): after a placement plan the search gets that
            # quarter. At 50k (time limit 50 s) the whole search improved the plan's start by
            # 2 in 21.5M in 57 s, at 20k (30 s) by 0 in 30 s; the runs took 111 s and 53 s
            limit = 0.25 * limit
        # a full rebalance below the plan's scale where everyone fits: the search starts from the
        # core's LP rounded and made whole over every eligible pair (`start_from_lp`)
        t_lp = time.perf_counter()
        problem = start_from_lp(problem, limit if options.deterministic else 0.4 * limit,
                                None if options.deterministic else min(2.0, max(0.2, 0.05 * limit)))
        if not options.deterministic:
            limit = max(0.5 * limit, limit - (time.perf_counter() - t_lp))
        made_whole = problem.core.notes.get("start_from_lp", {}).get("completed_kept", False)
        # deterministic: the search's work budget is half its limit; after a placement plan a
        # twentieth (at 50k a fifth, 2.5 s of deterministic work, took 9.5 s and improved 0 in
        # every run measured on 2026-12-05 and 2026-12-06; a twentieth takes 2.2 s), and from a
        # start made whole from the LP (5 000 clients, 40 coaches, `--seed 3`: half, 110
        # neighbourhoods in 64 s, improved 0)
        work = (0.05 if problem.plan is not None or made_whole else 0.5) * limit
        # below the placement plan's scale, where the core holds candidate pairs, the clients
        # the search leaves out get room gathered over every eligible pair after it
        # (`complete_unplaced`); in wall-clock runs that takes 5 % of the limit (at most 2 s),
        # set aside when some are certain to stay out (the count certificate; elsewhere a
        # fifth of a second: the intake of 500 at 50k lost half its bound to the set-aside)
        certain = problem.plan is None and (problem.core.count_multipliers is not None or problem.core.min_unassigned > 0)
        reserve = min(2.0, max(0.2, 0.05 * limit)) if certain and not options.deterministic else 0.0
        sopts = SolveOptions(
            time_limit=(limit - reserve) * (2.0 if options.deterministic else 1.0),
            work_budget=work if options.deterministic else None,
            seed=options.seed,
            workers=2,
            deterministic=options.deterministic,
            target_gap=0.0005,
            # after a placement plan the search adds little (see above) and the bound's climb
            # from the plan's multipliers more: it gets three quarters of the search's time
            # (half until late on 2026-12-06, with a floor of 15 %), not 12 %
            ascent_share=0.75 if problem.plan is not None else SolveOptions.ascent_share,
            # deterministic runs climb by iterations, not seconds: after a plan 15 per
            # temperature (50k: 30 took 13.6 s; 15 take ~7 s and give 21 259 499 against
            # 21 262 839 on the generated region, 29 464 325 against 29 466 063 on `--seed 2`)
            ascent_iterations=15 if options.deterministic and problem.plan is not None else SolveOptions.ascent_iterations,
        )

        at = built_at if problem.plan is not None else lo
        cb = part(progress, at, hi)
        result = solve_core(problem.core, sopts, cb)
        # its repair gets 5 % of the limit, at most 0.2 s (at 12 500 clients, 30 s, 0.05 s left 9
        # out where 0.2 s left 7; an intake's second is short)
        problem, result = round_lp_all_pairs(problem, result, None if options.deterministic else min(0.2, 0.05 * limit))
        before = result.evaluation.unassigned
        problem, result = complete_unplaced(problem, result, None if options.deterministic else max(0.2, reserve))
        count_floor(problem, result)
        if result.evaluation.unassigned < before:
            cb(1.0, 1.0, f"objective {result.objective}, bound {result.bound}: "
                         f"{before - result.evaluation.unassigned} more placed over every eligible coach")
        return problem, result

    total = options.time_limit
    problem, result = solve(mode, total, 0.0, 1.0) if mode != "what_if" else solve(mode, 0.5 * total, 0.0, 0.5)
    escalated = False
    if mode == "what_if" and stranded(problem, result) > 0:
        # someone who has a coach now would have none: widen to everyone, each voluntary
        # handover still at the what-if's price, so that clients move to make room for those
        # who must and for nothing else. Clients who had no coach before and still find no
        # room are no reason to widen (50k generated region, 3 coaches leaving: the widening
        # for them, at the plain handover price, moved 8 334 clients to place 406 of them)
        # in wall-clock runs the widened run has what the what-if left of the limit, at least
        # WIDEN_MIN_SHARE of it (a group LP of its plan must finish: with what was left after a
        # what-if that used 0.75 of the limit, the generated 50k region ended at a gap of 99.6 %)
        wide_seconds = 0.5 * total if options.deterministic else max(WIDEN_MIN_SHARE * total, total - (time.perf_counter() - t_start))
        wide, wide_result = solve("full", wide_seconds, 0.5, 1.0, widened=True)
        if ((stranded(wide, wide_result), wide_result.evaluation.unassigned)
                < (stranded(problem, result), result.evaluation.unassigned)):
            problem, result, escalated = wide, wide_result, True
            problem.mode = "what_if"
    # the conflict search gets a tenth of the time limit (1-10 s) on top of it: small conflicts
    # are found in well under a second; on a generated 5k region (150k pairs) CP-SAT had no
    # answer after 10 s, where the joint capacity check proves the 37 short in 0.25 s
    explain_limit = min(10.0, max(1.0, 0.1 * options.time_limit))
    explanation = explain(problem, time_limit=explain_limit) if result.evaluation.unassigned > 0 else None
    proposal = build_proposal(problem, result, region, explanation)
    proposal.solver["escalated_to_full"] = escalated
    return proposal
