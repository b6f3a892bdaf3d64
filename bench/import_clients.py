"""Benchmark: importing a large clients file (validate + one-transaction upsert).

`plein bench import --clients 100000` writes a valid clients CSV of that size (made here with
numpy; it does not use the demo-region generator, so it measures the importer alone), imports
the municipalities and coaches it refers to, then times reading + validating + importing the
clients into a fresh SQLite file and, when reachable, into PostgreSQL (a scratch schema that
is dropped afterwards). A second run of the same file measures the idempotent re-import, and a
Parquet run the other format. Prints a table: rows, seconds, rows/s, peak memory.

Target (the issue): 100k clients in under 30 s.
"""

from __future__ import annotations

import csv
import os
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass

from bench.measure import PeakMemory
from pathlib import Path

import numpy as np

from plein import domain

#: Real ESCO preferred labels of skills of common Werkplein occupations (cook, shop assistant,
#: warehouse worker, cleaner, forklift operator, nurse assistant, bus driver), used when the
#: taxonomy package is not installed.
ESCO_SKILLS = (
    "order supplies", "handover the food preparation area", "store raw food materials",
    "use culinary finishing techniques", "maintain kitchen equipment at correct temperature",
    "ensure cleanliness of food preparation area", "use reheating techniques", "operate cash register",
    "organise product display", "maintain store cleanliness", "process refunds",
    "direct customers to merchandise", "carry out order intake", "operate warehouse materials",
    "clean industrial containers", "operate weighing machine", "follow verbal instructions",
    "assist in the movement of heavy loads", "cleaning techniques", "iron textiles", "clean surfaces",
    "maintain inventory of cleaning supplies", "remove dust", "vacuum surfaces", "monitor goods movement",
    "stack goods", "operate forklift", "follow stock control instructions", "transfer stock",
    "promote inclusion", "work in multidisciplinary health teams", "contribute to continuity of health care",
    "communicate in healthcare", "accept own accountability", "first aid", "apply person-centred care",
    "use communication devices", "provide first aid", "communicate with customers", "apply conflict management",
)
MUNICIPALITIES = (("GM0301", "Zutphen", 52.1387, 6.2011), ("GM0262", "Lochem", 52.1600, 6.4139),
                  ("GM1876", "Bronckhorst", 52.0500, 6.3000))
OCCUPATIONS = ("cook", "shop assistant", "warehouse worker", "domestic cleaner", "forklift operator", "bus driver")


def _skill_vocabulary() -> list[str]:
    try:
        from plein.taxonomy import Taxonomy

        labels = Taxonomy.load().skills["label"].astype(str).tolist()
        return labels if len(labels) >= 50 else list(ESCO_SKILLS)
    except Exception:  # no taxonomy package (yet), or no data: the fixed list is realistic enough
        return list(ESCO_SKILLS)


def write_bench_files(folder: Path, n_clients: int, seed: int = 1) -> dict[str, Path]:
    """Write municipalities.csv, coaches.csv and clients.csv (n_clients rows) into `folder`."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv" for name in ("municipalities", "coaches", "clients")}
    with paths["municipalities"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon"])
        w.writerows(MUNICIPALITIES)
    n_coaches = max(1, n_clients // 60)
    coach_ids = np.array([f"coach-{i:05d}" for i in range(n_coaches)])
    specs = [s.value for s in domain.Specialisation]
    with paths["coaches"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "specialisations", "capacity_points", "max_clients", "municipalities"])
        for i, cid in enumerate(coach_ids):
            w.writerow([cid, ";".join(rng.choice(specs, size=2, replace=False)), 100, 80, MUNICIPALITIES[i % 3][0]])

    vocab = np.array(_skill_vocabulary(), dtype=object)
    n = n_clients
    muni = rng.integers(0, 3, n)
    lat = np.array([m[2] for m in MUNICIPALITIES])[muni] + rng.normal(0, 0.03, n)
    lon = np.array([m[3] for m in MUNICIPALITIES])[muni] + rng.normal(0, 0.05, n)
    n_skills = rng.integers(0, 12, n)
    skill_idx = rng.integers(0, len(vocab), (n, 12))
    intake = np.datetime64("2020-01-01") + rng.integers(0, 5 * 365, n).astype("timedelta64[D]")
    benefit = rng.choice(["ww", "bijstand", "none"], n, p=[0.35, 0.55, 0.10])
    age = rng.choice([a.value for a in domain.AgeBand if a is not domain.AgeBand.UNKNOWN], n)
    edu = rng.choice([e.value for e in domain.EDUCATION_ORDER], n)
    dutch = rng.choice([d.value for d in domain.DUTCH_ORDER], n)
    rung = rng.integers(1, 7, n)
    coach = coach_ids[rng.integers(0, n_coaches, n)]
    history_len = rng.integers(0, 3, n)
    occ = rng.integers(0, len(OCCUPATIONS), (n, 2))
    years = np.round(rng.gamma(2.0, 2.0, (n, 2)), 1)
    header = ["id", "skills", "municipality", "lat", "lon", "benefit_type", "intake_date", "age_band",
              "education_level", "dutch_level", "driving_licence", "hours_available", "ladder_rung",
              "complexity", "work_history", "languages", "coach_id"]
    with paths["clients"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            skills = ";".join(dict.fromkeys(vocab[skill_idx[i, : n_skills[i]]]))
            history = ";".join(f"{OCCUPATIONS[occ[i, j]]}={years[i, j]:g}" for j in range(history_len[i]))
            w.writerow([
                f"client-{i:07d}", skills, MUNICIPALITIES[muni[i]][0], f"{lat[i]:.5f}", f"{lon[i]:.5f}",
                benefit[i], str(intake[i]), age[i], edu[i], dutch[i], "ja" if i % 3 else "nee",
                (16, 24, 32, 36, 40)[i % 5], rung[i], 1 + i % 3, history, "nl" if i % 4 else "nl;en", coach[i],
            ])
    return paths


@dataclass
class Row:
    backend: str
    run: str
    rows: int
    seconds: float
    peak_mb: float
    note: str = ""
    #: CPU seconds of this process (not of the PostgreSQL server): a figure that a busy
    #: machine inflates much less than the wall-clock time
    cpu: float | None = None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")


def _postgres_url() -> str | None:
    url = os.environ.get("PLEIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return url
    except OSError:
        return None


def run(n_clients: int = 100_000, seed: int = 1, postgres: bool = True, save: bool = True,
        keep: Path | None = None) -> list[Row]:
    """Run the benchmark and return its rows (the CLI prints them)."""
    from plein.storage import export_file, get_engine

    with tempfile.TemporaryDirectory(prefix="plein-bench-") as tmp:
        folder = Path(keep or tmp)
        t0 = time.perf_counter()
        paths = write_bench_files(folder, n_clients, seed)
        rows = [Row("-", "write clients.csv (numpy)", n_clients, time.perf_counter() - t0, 0.0)]
        engine = get_engine(f"sqlite:///{folder / 'bench.db'}")
        parquet = folder / "clients.parquet"
        try:
            rows += _runs_with_export(engine, "sqlite", paths, parquet, n_clients, export_file)
        finally:
            engine.dispose()
        region = bench_region(paths, seed) if save else None
        if region is not None:
            engine = get_engine(f"sqlite:///{folder / 'bench-region.db'}")
            try:
                rows += _save_region_run(engine, "sqlite", region)
            finally:
                engine.dispose()
        url = _postgres_url() if postgres else None
        if url:
            rows += _postgres_runs(url, paths, parquet, n_clients, region)
        return rows


def _runs_with_export(engine, backend, paths, parquet, n, export_file) -> list[Row]:
    from plein.storage import import_file, upgrade

    upgrade(engine)
    import_file(engine, "municipalities", paths["municipalities"])
    import_file(engine, "coaches", paths["coaches"])
    out = []
    with PeakMemory() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        report = import_file(engine, "clients", paths["clients"])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out.append(Row(backend, "import clients.csv, fresh", n, seconds, mem.peak_mb,
                   f"{report.inserted} inserted, {len(report.warnings)} warnings", cpu))
    if not parquet.exists():
        t0, c0 = time.perf_counter(), time.process_time()
        export_file(engine, "clients", parquet)
        out.append(Row(backend, "export clients.parquet", n, time.perf_counter() - t0, 0.0, "", time.process_time() - c0))
    for run_name, path in (("re-import clients.csv, unchanged", paths["clients"]),
                           ("re-import clients.parquet, unchanged", parquet)):
        with PeakMemory() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            report = import_file(engine, "clients", path)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out.append(Row(backend, run_name, n, seconds, mem.peak_mb,
                       f"{report.inserted} inserted, {report.updated} updated, {report.unchanged} unchanged", cpu))
    return out


def _postgres_runs(url: str, paths, parquet, n, region=None) -> list[Row]:
    import sqlalchemy as sa

    from plein.storage import export_file, get_engine

    schema_name = f"plein_bench_{uuid.uuid4().hex[:8]}"
    admin = get_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
    engine = get_engine(url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        rows = _runs_with_export(engine, "postgresql", paths, parquet, n, export_file)
        if region is not None:
            rows += _save_region_run(engine, "postgresql", region)
        return rows
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


def bench_region(paths: dict[str, Path], seed: int = 1):
    """A Region of the bench clients with their event history (numpy, no generator): three
    ladder measurements and one or two assignments per client."""
    import pandas as pd

    from plein.region import Region
    from plein.storage import read_file, validate_frame

    frames = {}
    for name in ("municipalities", "coaches", "clients"):
        df, _ = read_file(paths[name])
        frames[name], issues = validate_frame(name, df)
        assert not [i for i in issues if i.severity == "error"], issues[:3]
    clients = frames["clients"]
    rng = np.random.default_rng(seed)
    n = len(clients)
    ids = clients["id"].to_numpy(dtype=object)
    intake = pd.to_datetime(pd.Series(clients["intake_date"])).to_numpy()
    k = 3
    ev_client = np.repeat(ids, k)
    ev_date = np.repeat(intake, k) + (np.tile(np.arange(k), n) * 365).astype("timedelta64[D]")
    ladder = pd.DataFrame({
        "id": [f"le-{i:08d}" for i in range(n * k)],
        "client_id": ev_client,
        "date": pd.Series(ev_date).dt.date,
        "rung": rng.integers(1, 7, n * k),
    })
    second = rng.random(n) < 0.5
    coaches = frames["coaches"]["id"].to_numpy(dtype=object)
    a_client = np.concatenate([ids, ids[second]])
    a_start = np.concatenate([intake, intake[second] + np.timedelta64(200, "D")])
    assignments = pd.DataFrame({
        "id": [f"as-{i:08d}" for i in range(len(a_client))],
        "client_id": a_client,
        "coach_id": coaches[rng.integers(0, len(coaches), len(a_client))],
        "start_date": pd.Series(a_start).dt.date,
        "reason": np.where(np.arange(len(a_client)) < n, "intake", "rebalance"),
    })
    return Region(municipalities=frames["municipalities"], coaches=frames["coaches"], clients=clients,
                  ladder_events=ladder, assignments=assignments)


def _save_region_run(engine, backend: str, region) -> list[Row]:
    from plein.storage import load_region, save_region, upgrade

    upgrade(engine)
    rows = sum(region.summary().values())
    with PeakMemory() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        save_region(engine, region)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = [Row(backend, "save_region (clients + ladder events + assignments)", rows, seconds, mem.peak_mb,
               ", ".join(f"{k} {v:,}" for k, v in region.summary().items() if v), cpu)]
    t0, c0 = time.perf_counter(), time.process_time()
    load_region(engine)
    out.append(Row(backend, "load_region", rows, time.perf_counter() - t0, 0.0, "", time.process_time() - c0))
    return out


def print_table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="plein bench import (validate + upsert in one transaction)")
    for name, justify in (("backend", "left"), ("run", "left"), ("rows", "right"), ("seconds", "right"),
                          ("rows/s", "right"), ("CPU s", "right"), ("peak RSS MB", "right"), ("result", "left")):
        table.add_column(name, justify=justify)
    for r in rows:
        table.add_row(r.backend, r.run, f"{r.rows:,}", f"{r.seconds:.2f}", f"{r.rows_per_s:,.0f}",
                      "-" if r.cpu is None else f"{r.cpu:.2f}", f"{r.peak_mb:,.0f}" if r.peak_mb else "-", r.note)

    console = Console(width=max(Console().width, 150))
    console.print(table)
    console.print(
        "seconds: wall clock; CPU s: this process only (the PostgreSQL server's work is not in it). "
        "On a busy machine the wall clock grows, the CPU time much less."
    )
