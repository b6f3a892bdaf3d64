"""The caseload-balance chart of a proposal (PNG bytes), for the CLI, the API and dashboards.

Left: relative load (points / capacity) per available coach, before and after, coaches sorted
by their load before, with the 100% line. Right: the same per team.
"""

from __future__ import annotations

import io

from scheduling.proposal import Proposal


def balance_png(proposal: Proposal | dict, width: float = 11.0, height: float = 4.2, dpi: int = 100) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    p = proposal if isinstance(proposal, Proposal) else Proposal.from_dict(proposal)
    before = {c["coach_id"]: c for c in p.before["coaches"]}
    coaches = [c for c in p.after["coaches"] if c["available"] or before[c["coach_id"]]["clients"]]
    coaches.sort(key=lambda c: before[c["coach_id"]]["relative_load"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(width, height), gridspec_kw={"width_ratios": [3, 1.4]})
    xs = range(len(coaches))
    ax1.plot(xs, [100 * before[c["coach_id"]]["relative_load"] for c in coaches], "o", ms=3, color="#bbbbbb", label="before")
    ax1.plot(xs, [100 * c["relative_load"] for c in coaches], "o", ms=3, color="#1f5fa8", label="after")
    ax1.axhline(100, color="#c0392b", lw=1, ls="--")
    ax1.set_xlabel("coach (sorted by load before)")
    ax1.set_ylabel("relative load (% of capacity points)")
    s_b, s_a = p.before["summary"], p.after["summary"]
    ax1.set_title(f"Coaches: max {s_b['max_relative_load']:.0%} -> {s_a['max_relative_load']:.0%}, "
                  f"spread {s_b['load_spread']:.0%} -> {s_a['load_spread']:.0%}", fontsize=10)
    ax1.legend(loc="upper left", fontsize=8)
    tb = {t["team_id"]: t for t in p.before["teams"]}
    teams = p.after["teams"]
    ys = range(len(teams))
    ax2.barh([y - 0.2 for y in ys], [100 * tb.get(t["team_id"], {}).get("relative_load", 0) for t in teams], height=0.4, color="#bbbbbb", label="before")
    ax2.barh([y + 0.2 for y in ys], [100 * t["relative_load"] for t in teams], height=0.4, color="#1f5fa8", label="after")
    ax2.set_yticks(list(ys), [str(t["team_id"]) for t in teams], fontsize=8)
    ax2.axvline(100, color="#c0392b", lw=1, ls="--")
    ax2.set_xlabel("team load (%)")
    ax2.set_title(f"Teams: spread {s_b['team_spread']:.0%} -> {s_a['team_spread']:.0%}", fontsize=10)
    fig.suptitle(f"Caseload balance, {p.mode} proposal: {s_a.get('handovers', 0)} handovers, {s_a['unassigned']} unassigned", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
