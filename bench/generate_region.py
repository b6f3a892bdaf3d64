"""Benchmark: the demo-region generator.

`plein bench generate --clients 100000` generates a region with the builtin taxonomy and, when
the shared reference data is present (and --shared), again with the full ESCO occupation
profiles and real job-offer demand. For each run it prints seconds (taxonomy loading apart),
rows per table and peak memory (resident set size above the level before the run, sampled
every 20 ms), then a realism table of the first run: the rung distribution by benefit type,
caseload per coach, and mean truth probabilities against realised label rates.

Target (the issue): 100k clients in under 60 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.measure import PeakMemory


@dataclass
class Run:
    name: str
    seconds: float
    load_seconds: float
    peak_mb: float
    rows: dict[str, int] = field(default_factory=dict)
    region: object = None


def run_one(name: str, clients: int, seed: int, taxonomy_loader, job_offers=None) -> Run:
    import gc

    from plein.generator import generate_region

    gc.collect()
    t0 = time.perf_counter()
    taxonomy = taxonomy_loader()
    load = time.perf_counter() - t0
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        region = generate_region(clients, seed, taxonomy=taxonomy, job_offers=job_offers)
        seconds = time.perf_counter() - t0
    return Run(name, seconds, load, mem.peak_above_start_mb, region.summary(), region)


def realism(region) -> dict[str, pd.DataFrame]:
    """Tables that show whether the region looks like a Werkplein and the oracle holds."""
    from plein.ladder import ladder_outcomes

    c = region.clients
    rungs = pd.crosstab(c["benefit_type"], c["ladder_rung"].astype("Int64"), normalize="index").round(3)
    rungs["mean rung"] = c.groupby("benefit_type")["ladder_rung"].mean().round(2)
    rungs["clients"] = c["benefit_type"].value_counts()

    active = region.coaches[region.coaches["active"]]
    counts = c["coach_id"].value_counts().reindex(active["id"], fill_value=0)
    co = active.set_index("id")
    load = counts / co["max_clients"].clip(lower=1)
    caseload = pd.DataFrame({
        "value": [len(region.coaches), len(co), int(counts.min()), int(counts.median()), counts.max(),
                  round(float((c["status"] != "exited").sum() / len(co)), 1),
                  int((load > 1).sum()), int(c.loc[c["status"] == "active", "coach_id"].isna().sum())],
    }, index=["coaches", "active coaches", "min clients per active coach", "median clients per active coach",
              "max clients per active coach", "clients in caseload per active coach", "coaches over max_clients",
              "active clients without coach"])

    out = ladder_outcomes(region.ladder_events, region.truth_ladder)
    o = region.outcomes
    hired = o[o["stage"] == "hired"][["client_id", "vacancy_id"]].assign(hired=1)
    tm = region.truth_match.merge(hired, on=["client_id", "vacancy_id"], how="left")
    truth = pd.DataFrame({
        "pairs or snapshots": [len(out), len(out), len(tm)],
        "mean truth p": [region.truth_ladder["p_rise_12m"].mean(), region.truth_ladder["p_paid_12m"].mean(), tm["p_hire"].mean()],
        "realised rate": [out["rose"].astype(float).mean(), out["paid"].astype(float).mean(), tm["hired"].fillna(0).mean()],
    }, index=["rise within 12 months", "paid work within 12 months", "hired when shortlisted"]).round(4)
    prot = region.truth_ladder.merge(region.client_protected, on="client_id")
    shift = prot.groupby("migration_background")["p_rise_12m"].agg(["count", "mean"]).round(4)
    return {"Ladder rung by benefit type (share of clients)": rungs, "Caseloads": caseload,
            "Oracle vs realised": truth, "Mean p_rise by migration background (protected; audit only)": shift}


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    return f"{v:.4g}"


def main(clients: int = 100_000, seed: int = 1, shared: bool = True) -> list[Run]:
    from rich.console import Console
    from rich.table import Table

    from plein.settings import get_settings
    from plein.taxonomy import Taxonomy

    console = Console()
    runs = [run_one("builtin taxonomy", clients, seed, Taxonomy.builtin)]
    esco = get_settings().shared_data_dir / "esco"
    if shared:
        profiles, offers = esco / "occupation_profiles.parquet", esco / "job_offers_by_occupation.parquet"
        if profiles.is_file() and offers.is_file():
            runs.append(run_one("ESCO profiles + job offers", clients, seed,
                                lambda: Taxonomy.from_profiles(profiles), job_offers=offers))
        else:
            console.print(f"[yellow]shared data not found under {esco}; only the builtin run[/yellow]")

    table = Table(title=f"plein bench generate: {clients:,} clients, seed {seed} (target < 60 s)", title_justify="left")
    table.add_column("")
    for r in runs:
        table.add_column(r.name, justify="right")
    table.add_row("generate seconds", *[f"{r.seconds:.1f}" for r in runs])
    table.add_row("taxonomy load seconds", *[f"{r.load_seconds:.1f}" for r in runs])
    table.add_row("peak memory above start (MB)", *[f"{r.peak_mb:,.0f}" for r in runs])
    for name in runs[0].rows:
        table.add_row(f"rows: {name}", *[f"{r.rows[name]:,}" for r in runs])
    table.add_row("rows: total", *[f"{sum(r.rows.values()):,}" for r in runs])
    console.print(table)

    for title, frame in realism(runs[0].region).items():
        t = Table(title=f"{title} [{runs[0].name}]", title_justify="left")
        t.add_column(frame.index.name or "")
        for col in frame.columns:
            t.add_column(str(col), justify="right")
        for row in frame.itertuples(index=True):  # keeps each column's type (ints stay ints)
            t.add_row(str(row[0]), *[_cell(v) for v in row[1:]])
        console.print(t)
    return runs


if __name__ == "__main__":
    main()
