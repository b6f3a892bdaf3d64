"""Benchmark: OR-Library generalised assignment problems (GAP).

Caseload assignment is a GAP with side objectives, so the optimiser's core is measured on the
field's standard instances (../shared/data/gap), side by side with two baselines given the same
time limit and cores: a plain CP-SAT model (one boolean per pair) and scipy's HiGHS MILP.

    plein bench gap ../shared/data/gap/d801600.zip --time-limit 60        # one JSON line
    plein bench gap-suite ../shared/data/gap --time-limit 60 --pattern 'd*'  # the table

Gap to best-known = (objective - best known solution) / best known solution, with the best
known solution of the minimisation from `bounds.tsv` (`NAME_Min`, second column).
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from plein.progress import ProgressCallback, no_progress

SOLVERS = ("plein", "plain-cpsat", "highs")


def instance_files(folder: str | Path, pattern: str = "*") -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"GAP folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".zip", ".txt", "") and p.is_file()
                   and p.name != "bounds.tsv" and fnmatch.fnmatch(p.name.removesuffix(".zip"), pattern))
    if not files:
        raise FileNotFoundError(f"no GAP instances matching {pattern!r} in {folder}")
    return files


def best_known(folder: str | Path, name: str) -> int | None:
    from scheduling.gap import read_bounds

    path = Path(folder) / "bounds.tsv"
    if not path.exists():
        return None
    bounds = read_bounds(path)
    entry = bounds.get(f"{name}_Min")
    return entry[1] if entry else None


def run_one(path: str | Path, time_limit: float, seed: int = 0, solver: str = "plein", workers: int = 2) -> dict:
    """Solve one instance with one solver; the row as a dict (JSON-serialisable)."""
    from scheduling.gap import read_gap, solve_highs_milp, solve_plain_cpsat, solve_plein

    inst = read_gap(path)
    if solver == "plein":
        row = solve_plein(inst, time_limit, seed=seed, workers=workers)
    elif solver == "plain-cpsat":
        row = solve_plain_cpsat(inst, time_limit, seed=seed, workers=workers)
    elif solver == "highs":
        row = solve_highs_milp(inst, time_limit)
    else:
        raise ValueError(f"unknown solver {solver!r}; choose from {', '.join(SOLVERS)}")
    best = best_known(Path(path).parent, inst.name)
    row["best_known"] = best
    row["gap_to_best_pct"] = (
        round(100.0 * (row["objective"] - best) / best, 3) if best and row.get("objective") is not None else None
    )
    return row


def run_suite(
    folder: str | Path,
    time_limit: float,
    pattern: str = "*",
    solvers: tuple[str, ...] = SOLVERS,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    jsonl: Path | None = None,
) -> list[dict]:
    """Every instance in `folder` matching `pattern`, every solver in turn (never in
    parallel: each gets the same cores). One summary row per instance."""
    cb = progress or no_progress
    files = instance_files(folder, pattern)
    rows = []
    total = len(files) * len(solvers)
    step = 0
    for f in files:
        summary: dict = {"instance": f.name.removesuffix(".zip"), "best_known": best_known(folder, f.name.removesuffix(".zip"))}
        for s in solvers:
            cb(step, total, f"{summary['instance']}: {s}")
            r = run_one(f, time_limit, seed=seed, solver=s)
            step += 1
            summary[f"{s}_objective"] = r.get("objective")
            summary[f"{s}_gap_pct"] = r.get("gap_to_best_pct")
            summary[f"{s}_seconds"] = r.get("seconds")
            if s == "plein":
                summary["plein_bound"] = r.get("bound")
            if jsonl is not None:
                with open(jsonl, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
        rows.append(summary)
    cb(total, total, "done")
    return rows


def print_table(rows: list[dict], solvers: tuple[str, ...] = SOLVERS, time_limit: float | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    title = "OR-Library GAP: gap to best-known (%)" + (f", {time_limit:g} s per solver" if time_limit else "")
    table = Table(title=title)
    table.add_column("instance")
    table.add_column("best-known", justify="right")
    for s in solvers:
        table.add_column(f"{s} obj", justify="right")
        table.add_column(f"{s} gap %", justify="right")
        table.add_column(f"{s} s", justify="right")

    def fmt(v, spec=""):
        return "-" if v is None else format(v, spec)

    for r in rows:
        cells = [r["instance"], fmt(r["best_known"])]
        for s in solvers:
            cells += [fmt(r.get(f"{s}_objective")), fmt(r.get(f"{s}_gap_pct"), ".2f"), fmt(r.get(f"{s}_seconds"), ".1f")]
        table.add_row(*cells)
    for s in solvers:
        gaps = [r.get(f"{s}_gap_pct") for r in rows]
        ok = [g for g in gaps if g is not None]
        if ok:
            table.caption = (table.caption or "") + f"{s}: mean gap {sum(ok) / len(ok):.2f}%, max {max(ok):.2f}%, no solution {len(gaps) - len(ok)}.  "
    Console().print(table)
