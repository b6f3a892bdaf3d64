"""A proposal: what the optimiser suggests, with its reasons and its figures.

A manager reads it and approves or rejects it (`scheduling.approval`). It holds every move
(client, from coach, to coach, forced or voluntary, reasons), every client left unassigned
with the reason, and before/after figures: load per coach and per team, handovers, sector fit,
travel, unassigned. It carries two fingerprints: of the whole caseload state it was computed
from, and of *what it touches* (the moved clients and the coaches they leave or join, with
those coaches' current caseloads): approval refuses the proposal when the latter has changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from plein.domain import ClientStatus, TeamKind, haversine_km
from plein.region import Region
from scheduling.problem import WHAT_IF_HANDOVER_FACTOR, CaseloadProblem, _as_date, _as_list, _none, text_column
from scheduling.solve import SolveResult


@dataclass
class Proposal:
    mode: str
    params: dict
    fingerprint: str
    touched_fingerprint: str
    touched_clients: list[str]
    touched_coaches: list[str]
    plan_date: str
    moves: list[dict] = field(default_factory=list)
    unassigned: list[dict] = field(default_factory=list)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    solver: dict = field(default_factory=dict)
    explanation: dict | None = None
    id: str | None = None
    status: str = "pending"

    # -- (de)serialisation for the proposals table (result column) and the API
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Proposal:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def result_dict(self) -> dict:
        """What goes in `proposals.result` (everything but the columns of its own)."""
        d = self.to_dict()
        for k in ("id", "status", "mode", "params", "fingerprint"):
            d.pop(k, None)
        return d

    def applied_to(self, region: Region) -> Region:
        """`region` with this proposal's coach changes made, in memory: what approval
        (`scheduling.approval.approve`) writes to the clients table (each move's coach; no
        coach for an unassigned client who had one), without its history rows. For what
        follows an approved proposal in a benchmark or a what-if chain; `region` is not changed."""
        from dataclasses import replace

        cl = region.clients.copy()
        coach = cl["coach_id"].astype(object).to_numpy().copy()
        pos = pd.Index(text_column(cl["id"]))
        new = {m["client_id"]: m["to_coach"] for m in self.moves}
        new.update({u["client_id"]: None for u in self.unassigned if u.get("from_coach")})
        if new:
            at = pos.get_indexer(list(new))
            if (at < 0).any():
                missing = [c for c, k in zip(new, at) if k < 0][:5]
                raise ValueError(f"proposal {self.id or '(unsaved)'}: clients not in the region: {missing}")
            coach[at] = list(new.values())
        cl["coach_id"] = pd.Series(coach, index=cl.index, dtype=cl["coach_id"].dtype)
        return replace(region, clients=cl)

    @property
    def handovers(self) -> int:
        return sum(1 for m in self.moves if m["kind"] == "handover")

    def summary_lines(self) -> list[str]:
        b, a = self.before["summary"], self.after["summary"]
        s = self.solver
        return [
            f"mode {self.mode}, plan date {self.plan_date}: {len(self.moves)} moves "
            f"({a['handovers']} handovers, {a['forced_moves']} forced, {a['placements']} placements), {a['unassigned']} unassigned"
            + (f" ({a['lose_coach']} of them lose the coach they have)" if a.get("lose_coach") else ""),
            f"highest relative load {b['max_relative_load']:.1%} -> {a['max_relative_load']:.1%}; "
            f"spread {b['load_spread']:.1%} -> {a['load_spread']:.1%}; team spread {b['team_spread']:.1%} -> {a['team_spread']:.1%}",
            f"sector fit {b['sector_fit']:.1%} -> {a['sector_fit']:.1%}; mean travel {b['mean_travel_km']:.1f} -> {a['mean_travel_km']:.1f} km",
        ] + quality_lines(s)


#: why the search ended, in a manager's words (`SolveResult.stopped_by`)
STOPPED_BY_TEXT = {
    "optimal": "it proved that nothing better exists",
    "time": "the time limit ended the search",
    "work budget": "its work budget ended the search (a deterministic run stops on work done, not on the clock, "
                   "so the same input gives the same proposal)",
    "target gap": "it came within the target gap",
}


def quality_lines(solver: dict) -> list[str]:
    """How good a proposal is, in the words a manager decides by: its cost against the proven
    bound (no assignment under the same rules costs less), the gap between them, why the
    search stopped, and whether a what-if had to move other clients to make room. Costs are
    in the weights' units (`scheduling.config`: one voluntary handover = 100 by default)."""
    objective, bound, gap = solver.get("objective"), solver.get("bound"), solver.get("gap")
    lines = []
    if objective is None:
        return ["no solver figures were recorded for this proposal"]
    if solver.get("status") == "optimal" or (bound is not None and gap is not None and gap <= 0):
        lines.append(f"optimal: no assignment under these rules costs less than this one ({objective:,} cost units)")
    elif bound is not None and gap is not None:
        lines.append(f"the best proposal found: it costs {objective:,} units, "
                     f"and no assignment under these rules can cost less than {bound:,} (the proven bound), so at most "
                     f"{gap:.1%} of its cost could still be saved")
        if gap > 0.05:
            lines.append("a gap this large means the bound is weak (it lets clients be split between coaches, "
                         "which fills room no whole client fits), or the search was short, or both; the figures "
                         "cannot tell which")
    else:
        lines.append(f"the best proposal found: it costs {objective:,} units; no bound was proven, so how far it "
                     f"is from the best possible is not known")
    why = STOPPED_BY_TEXT.get(str(solver.get("stopped_by")))
    if why and solver.get("status") != "optimal":
        lines.append(f"the search stopped because {why}")
    if solver.get("escalated_to_full"):
        lines.append(f"clients who must move found no room with everyone else kept in place, so the what-if let "
                     f"other clients move too, only to make room for them (each such handover weighs "
                     f"{WHAT_IF_HANDOVER_FACTOR} times as much as usual)")
    return lines


def touched_fingerprint(region: Region, client_ids, coach_ids) -> str:
    """Hash of the state a proposal's moves depend on: for each touched client its coach and
    status; for each touched coach its availability fields, absences and current caseload."""
    cids, kids = set(map(str, client_ids)), set(map(str, coach_ids))
    cl = region.clients
    h = hashlib.sha256()
    if len(cl):
        ids, coach, status = text_column(cl["id"]), text_column(cl["coach_id"]), text_column(cl["status"])

        def member(values: np.ndarray, within: set) -> np.ndarray:
            return pd.Index(values).isin(list(within))

        sel = member(ids, cids)
        h.update(json.dumps(sorted(zip(ids[sel], coach[sel], status[sel]))).encode())
        live = member(status, {ClientStatus.ACTIVE.value, ClientStatus.PLACED.value})
        sel2 = member(coach, kids) & live
        h.update(json.dumps(sorted(zip(coach[sel2], ids[sel2]))).encode())
    co = region.coaches
    rows = sorted(
        (str(r.id), str(_none(r.team_id)), sorted(_as_list(r.specialisations)), float(r.capacity_points or 0),
         int(r.max_clients or 0), sorted(_as_list(r.municipalities)), bool(r.active))
        for r in co.itertuples(index=False) if str(r.id) in kids
    )
    h.update(json.dumps(rows, default=str).encode())
    ab = region.coach_absences
    arows = sorted((str(r.coach_id), str(_as_date(r.start_date)), str(_as_date(r.end_date)))
                   for r in ab.itertuples(index=False) if str(r.coach_id) in kids)
    h.update(json.dumps(arows).encode())
    return h.hexdigest()[:32]


def assignment_from_solution(problem: CaseloadProblem, x: np.ndarray) -> np.ndarray:
    """Coach index per client (-1 = unassigned) from the class quantities. Members of a class
    are identical for the model; those who stay with their current coach are taken first in id
    order, so the expansion is deterministic."""
    core = problem.core
    new = problem.current.copy()
    new[problem.movable] = -1
    for c, mem in enumerate(problem.class_members):
        lo, hi = core.item_start[c], core.item_start[c + 1]
        ags, qty = core.pair_agent[lo:hi], x[lo:hi]
        cur = problem.current[mem[0]]
        order = sorted(range(len(ags)), key=lambda t: (ags[t] != cur, ags[t]))
        pos = 0
        for t in order:
            q = int(qty[t])
            if q:
                new[mem[pos : pos + q]] = ags[t]
                pos += q
    return new


def _target_sets(problem: CaseloadProblem) -> tuple[np.ndarray, list]:
    """Per client the index of its target sectors among the sets that occur (-1: none), and
    those sets: for `_figures`, which judges sector fit once per (target sectors, coach)."""
    index: dict = {}
    t_id = np.fromiter((index.setdefault(t, len(index)) if t else -1 for t in problem.client_targets),
                       dtype=np.int64, count=len(problem.client_targets))
    return t_id, list(index)


def _figures(problem: CaseloadProblem, coach_of: np.ndarray, target_sets: tuple[np.ndarray, list] | None = None) -> dict:
    n_co = problem.n_coaches
    ok = coach_of >= 0
    pts = np.bincount(coach_of[ok], weights=problem.client_points[ok], minlength=n_co)
    cnt = np.bincount(coach_of[ok], minlength=n_co)
    cap = problem.cap_points
    rel = np.where(cap > 0, pts / np.where(cap > 0, cap, 1), 0.0)
    coaches = [
        {"coach_id": problem.coach_ids[i], "team_id": problem.coach_team[i], "points": round(float(pts[i]), 2),
         "clients": int(cnt[i]), "capacity_points": float(cap[i]), "max_clients": int(problem.max_clients[i]),
         "relative_load": round(float(rel[i]), 4), "available": bool(problem.available[i]),
         "unavailable_reason": problem.unavailable_reason[i]}
        for i in range(n_co)
    ]
    teams = []
    team_rel = []
    for t in problem.team_ids:
        mem = [i for i in range(n_co) if problem.coach_team[i] == t]
        av = [i for i in mem if problem.available[i]]
        tp, tc = float(pts[mem].sum()), float(cap[av].sum())
        r = tp / tc if tc > 0 else 0.0
        if tc > 0:
            team_rel.append(r)
        teams.append({"team_id": t, "points": round(tp, 2), "clients": int(cnt[mem].sum()), "capacity_points": tc,
                      "relative_load": round(r, 4), "coaches": len(mem), "available_coaches": len(av)})
    av = problem.available & (cap > 0)
    # sector fit and travel over assigned clients
    kind = problem.coach_attrs["team_kind"]
    secs = problem.coach_attrs["team_secs"]
    # sector fit judged once per (target sectors, coach) that occurs (50k: 0.27 s client by client)
    t_id, kinds = target_sets if target_sets is not None else _target_sets(problem)
    with_t = np.flatnonzero(ok & (t_id >= 0))
    fit = 0
    if len(with_t):
        keys, n = np.unique(t_id[with_t] * max(1, n_co) + coach_of[with_t], return_counts=True)
        fit = int(sum(int(c) for k, c in zip(keys.tolist(), n)
                      if kind[k % n_co] == TeamKind.SECTOR.value and secs[k % n_co].intersection(kinds[k // n_co])))
    if ok.any():
        km = haversine_km(problem.client_lat[ok], problem.client_lon[ok],
                          problem.coach_attrs["lat"][coach_of[ok]], problem.coach_attrs["lon"][coach_of[ok]])
        km = np.asarray(km, dtype=float)
        mean_km = float(np.nanmean(km)) if np.isfinite(km).any() else 0.0
    else:
        mean_km = 0.0
    at_gone = int((~np.asarray(problem.available, dtype=bool)[coach_of[ok]]).sum())
    over = int(((pts > cap + 1e-9) | (cnt > problem.max_clients)).sum())
    summary = {
        "clients": int(len(coach_of)),
        "assigned": int(ok.sum()),
        "unassigned": int((~ok).sum()),
        "with_unavailable_coach": at_gone,
        "coaches_over_capacity": over,
        "max_relative_load": round(float(rel[av].max()) if av.any() else 0.0, 4),
        "min_relative_load": round(float(rel[av].min()) if av.any() else 0.0, 4),
        "load_spread": round(float(rel[av].max() - rel[av].min()) if av.any() else 0.0, 4),
        "team_spread": round(float(max(team_rel) - min(team_rel)) if team_rel else 0.0, 4),
        "sector_fit": round(fit / len(with_t), 4) if len(with_t) else 1.0,
        "mean_travel_km": round(mean_km, 2),
    }
    return {"summary": summary, "coaches": coaches, "teams": teams}


def _pair_index(problem: CaseloadProblem, c: int, agent: int) -> int | None:
    core = problem.core
    lo, hi = core.item_start[c], core.item_start[c + 1]
    k = lo + int(np.searchsorted(core.pair_agent[lo:hi], agent))
    return int(k) if k < hi and core.pair_agent[k] == agent else None


def build_proposal(problem: CaseloadProblem, result: SolveResult, region: Region, explanation: dict | None = None) -> Proposal:
    new = assignment_from_solution(problem, result.x)
    cur = problem.current
    target_sets = _target_sets(problem)
    before = _figures(problem, cur, target_sets)
    after = _figures(problem, new, target_sets)
    rel_before = {c["coach_id"]: c["relative_load"] for c in before["coaches"]}
    rel_after = {c["coach_id"]: c["relative_load"] for c in after["coaches"]}
    ids = problem.clients["id"].astype(str).tolist()
    munis = [_none(m) for m in problem.clients["municipality"].tolist()]  # the index is positional
    moves, unassigned = [], []
    handovers = forced = placements = 0
    from scheduling.explain import capacity_checks, no_coach_reason

    checks = None
    cat = problem.catalogue
    # per coach, the clients this proposal brings, by the kind of their move (for the reason
    # of a handover that makes room and of a client who gives up their place)
    arrive = (new >= 0) & (new != cur)
    taken_by_kind = {
        "who must move": np.bincount(new[arrive & (cur >= 0) & problem.forced_current], minlength=problem.n_coaches),
        "new": np.bincount(new[arrive & (cur < 0)], minlength=problem.n_coaches),
        "handed over": np.bincount(new[arrive & (cur >= 0) & ~problem.forced_current], minlength=problem.n_coaches),
    }
    taken_in = sum(taken_by_kind.values())

    def takes_others(i: int) -> str:
        """'coach X takes N other clients in this proposal (a who must move, b new, c handed over)'."""
        n = int(taken_in[i])
        parts = ", ".join(f"{int(v[i])} {k}" for k, v in taken_by_kind.items() if v[i])
        return f"coach {problem.coach_ids[i]} takes {n} other client{'s' if n != 1 else ''} in this proposal ({parts})"

    joint = (explanation or {}).get("joint")
    joint_short = {g["index"]: g for g in (joint or {}).get("groups", [])}
    for j in np.flatnonzero((new != cur) | (new < 0)):
        to, frm = int(new[j]), int(cur[j])
        c = int(problem.client_class[j])
        if to < 0:
            if problem.core.item_start[c + 1] == problem.core.item_start[c]:
                why = [no_coach_reason(problem, j)]
            else:
                if checks is None:
                    checks = [k for k in capacity_checks(problem) if k.short]
                # the short checks of this client's own groups, not every short group's (until
                # 2026-12-08 every "needs" and "team" check was given to every client left out)
                rel = [k.text() for k in checks if c in k.classes][:3]
                n_el = int(problem.eligible_count[c])
                why = [f"all {n_el} eligible coaches are full"] + rel
                g = joint_short.get(int(cat.item_group[c])) if joint_short and cat is not None else None
                if g is not None:
                    why.append(f"points and client maximum together: {g['text']}")
                elif joint is not None and problem.widened and cat is not None:
                    # a widened what-if: the count finds room for this client's group, but making
                    # it means handing over clients who need not move, at the what-if's price
                    why.append(f"room could be made only by handing over other clients, which this what-if judges "
                               f"dearer than leaving them out (a handover here weighs {WHAT_IF_HANDOVER_FACTOR} times "
                               f"as much as in a rebalance)")
                if problem.core.max_moves is not None and frm >= 0 and not problem.forced_current[j]:
                    why.append("the handover cap was reached")
            if frm >= 0 and j in problem.why_ineligible:
                why.insert(0, f"must leave: {problem.why_ineligible[j]}")
            elif frm >= 0 and taken_in[frm] > 0:
                # their coach stays and takes others in their place (a widened what-if, or a
                # rebalance where seats are short): say so before "all eligible coaches are full"
                why.insert(0, f"gives up their place: {takes_others(frm)}")
            unassigned.append({"client_id": ids[j], "from_coach": problem.coach_ids[frm] if frm >= 0 else None, "reasons": why})
            continue
        to_id = problem.coach_ids[to]
        p_to = _pair_index(problem, c, to)
        reasons = []
        if frm < 0:
            kind = "placement"
            placements += 1
            reasons.append("new or unassigned client: placed with an eligible coach")
        elif problem.forced_current[j]:
            kind = "forced"
            forced += 1
            reasons.append(f"must move: {problem.why_ineligible.get(j, 'current coach unavailable')}")
        else:
            kind = "handover"
            handovers += 1
            p_from = _pair_index(problem, c, frm)
            if p_from is not None and p_to is not None:
                for part, label in (("sector", "sector fit"), ("language", "language"), ("travel", "travel")):
                    d = int(problem.parts[part][p_from] - problem.parts[part][p_to])
                    if d > 0:
                        if part == "travel":
                            reasons.append(f"closer: {problem.pair_km[p_to]:.1f} km instead of {problem.pair_km[p_from]:.1f} km")
                        elif part == "sector":
                            reasons.append(f"better sector fit: team {problem.coach_team[to]} covers the client's target sectors")
                        else:
                            reasons.append(f"coach {to_id} speaks the client's language")
            fb, fa = rel_before[problem.coach_ids[frm]], rel_after[problem.coach_ids[frm]]
            if fb > fa:
                reasons.append(f"relieves coach {problem.coach_ids[frm]}: {fb:.0%} -> {fa:.0%} of capacity")
            if not reasons and taken_in[frm] > 0:
                # no gain of its own: the place it frees goes to others (until 2026-12-08 such a
                # handover said only where the client may go: 463 of 829 on the demo region).
                # A coach who takes no one in is relieved by every client who leaves: no third case
                reasons.append(f"makes room: {takes_others(frm)}")
        need = problem.need[j]
        reasons.append(f"eligible: holds {', '.join(sorted(need)) or 'every needed role'}" + (
            f", serves {munis[j]}" if munis[j] is not None else ""))
        if p_to is not None and kind != "handover":
            if problem.parts["sector"][p_to] == 0 and problem.client_targets[j]:
                reasons.append(f"sector fit: team {problem.coach_team[to]} covers {', '.join(problem.client_targets[j])}")
            reasons.append(f"{problem.pair_km[p_to]:.1f} km to the coach's office")
        reasons.append(f"coach {to_id} load after: {rel_after[to_id]:.0%} of capacity")
        moves.append({
            "client_id": ids[j], "from_coach": problem.coach_ids[frm] if frm >= 0 else None, "to_coach": to_id,
            "from_team": problem.coach_team[frm] if frm >= 0 else None, "to_team": problem.coach_team[to],
            "kind": kind, "reasons": reasons,
        })
    # clients who have a coach now and would have none: approval takes them off their coach,
    # so they are changes as much as the moves are, and the proposal counts them apart
    lose = sum(1 for u in unassigned if u["from_coach"])
    after["summary"].update(handovers=handovers, forced_moves=forced, placements=placements, moves=len(moves), lose_coach=lose)
    before["summary"].update(handovers=0, forced_moves=0, placements=0, moves=0, lose_coach=0)
    touched_clients = sorted({m["client_id"] for m in moves} | {u["client_id"] for u in unassigned})
    touched_coaches = sorted({m["to_coach"] for m in moves} | {m["from_coach"] for m in moves if m["from_coach"]}
                             | {u["from_coach"] for u in unassigned if u["from_coach"]})
    return Proposal(
        mode=problem.mode,
        params=problem.options.to_dict(),
        fingerprint=problem.fingerprint,
        touched_fingerprint=touched_fingerprint(region, touched_clients, touched_coaches),
        touched_clients=touched_clients,
        touched_coaches=touched_coaches,
        plan_date=problem.options.effective_date().isoformat(),
        moves=moves,
        unassigned=unassigned,
        before=before,
        after=after,
        solver={**result.stats(), "classes": problem.core.n_items, "pairs": problem.core.n_pairs,
                "eligible_pairs": problem.catalogue.n_pairs if problem.catalogue is not None else problem.core.n_pairs,
                **({"placement": problem.core.notes["placement"]} if "placement" in problem.core.notes else {}),
                # how the bound was found (Lagrangian climbs, LPs over every eligible pair)
                **({"bound_figures": problem.core.notes["bound"]} if "bound" in problem.core.notes else {}),
                # room gathered after the search for the clients it left out (`complete_unplaced`)
                **({"completed": problem.core.notes["completed"]} if "completed" in problem.core.notes else {}),
                # the start made whole from the core's LP before the search (`start_from_lp`)
                **({"start_from_lp": problem.core.notes["start_from_lp"]} if "start_from_lp" in problem.core.notes else {}),
                # the LP over every eligible pair rounded after the search (`round_lp_all_pairs`)
                **({"lp_all_pairs_rounded": problem.core.notes["lp_all_pairs_rounded"]}
                   if "lp_all_pairs_rounded" in problem.core.notes else {}),
                "movable_clients": int(problem.movable.sum())},
        explanation=explanation,
    )
