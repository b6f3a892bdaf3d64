"""Matching speed: `plein bench matching-speed [--clients 100000 --vacancies 10000]`.

Measures, in-process:

- build time and peak memory of the index (clients, vacancies, transferable skills);
- latency of one vacancy's top-20 candidate list over all clients (p50/p95/p99 over a sample
  of vacancies, after a warm-up), rule-based, with full reasons;
- the batch: top 20 for every open vacancy over all clients, on `jobs` worker processes
  (fork, sharing the built index copy-on-write), total seconds.

Clients and vacancies come from `plein.generator.generate_region` over the full ESCO
profiles when it exists (its clients; its most recent vacancies, all treated as open), else
(or with `--source synthetic`) they are synthesised from ESCO occupation profiles
(`synthetic_population`): each client has one or two past occupations, holds part of their
essential skills plus a few stray ones, and lives around Zutphen/Lochem/Bronckhorst; each
vacancy is an occupation's profile at a workplace in the region, with realistic hours,
licence, certificate and Dutch requirements.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import time

import numpy as np
import pandas as pd

from bench.measure import peak_rss_mb
from plein.progress import ProgressCallback, no_progress

#: Zutphen (GM0301), Lochem (GM0262), Bronckhorst (GM1876) town halls
TOWNS = [("GM0301", 52.1386, 6.2014), ("GM0262", 52.1597, 6.4111), ("GM1876", 52.0500, 6.3000)]
CERTIFICATES = ["VCA", "BHV", "heftruck", "HACCP", "code 95"]




def synthetic_population(taxonomy, n_clients: int, n_vacancies: int, seed: int = 0, as_of: dt.date | None = None):
    """Clients and vacancies frames (schema columns) drawn from the taxonomy's occupations."""
    from matching.index import TaxonomyView

    rng = np.random.default_rng(seed)
    as_of = as_of or dt.date.today()
    view = TaxonomyView.from_taxonomy(taxonomy)
    n_occ = len(view.occ_labels)
    skill_label = view.skill_labels
    all_skills = list(skill_label.values())
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(view.occ_isco):
        groups.setdefault(g, []).append(i)
    # a skewed demand: some occupations are far more common (as in job-offer counts)
    popularity = rng.pareto(1.2, n_occ) + 0.05
    popularity /= popularity.sum()

    def place(n):
        town = rng.integers(len(TOWNS), size=n)
        lat = np.array([TOWNS[t][1] for t in town]) + rng.normal(0, 0.06, n)
        lon = np.array([TOWNS[t][2] for t in town]) + rng.normal(0, 0.09, n)
        return [TOWNS[t][0] for t in town], lat, lon

    occ = rng.choice(n_occ, size=n_clients, p=popularity)
    muni, lat, lon = place(n_clients)
    skills, history = [], []
    for i, o in enumerate(occ):
        ess, opt = view.occ_skills[o]
        k = max(1, int(len(ess) * rng.uniform(0.3, 0.8)))
        s = [skill_label.get(x, x) for x in rng.choice(ess, size=min(k, len(ess)), replace=False)] if ess else []
        if opt:
            s += [skill_label.get(x, x) for x in rng.choice(opt, size=min(len(opt), int(rng.integers(0, 4))), replace=False)]
        s += [all_skills[j] for j in rng.integers(len(all_skills), size=int(rng.integers(0, 3)))]
        skills.append(sorted(set(s)))
        hist = [{"occupation": view.occ_labels[o], "years": round(float(rng.gamma(2.0, 2.0)), 1)}]
        if rng.random() < 0.5:
            sib = groups.get(view.occ_isco[o], [o])
            hist.append({"occupation": view.occ_labels[int(rng.choice(sib))], "years": round(float(rng.gamma(1.5, 1.5)), 1)})
        history.append(hist)
    dutch = rng.choice(["A1", "A2", "B1", "B2", "C1", "unknown"], size=n_clients, p=[0.05, 0.12, 0.3, 0.3, 0.13, 0.1])
    rung = rng.choice([1, 2, 3, 4, 5, 6, 0], size=n_clients, p=[0.05, 0.1, 0.2, 0.3, 0.15, 0.1, 0.1]).astype(object)
    rung[rung == 0] = None
    clients = pd.DataFrame({
        "id": [f"k{i:06d}" for i in range(n_clients)],
        "skills": skills,
        "municipality": muni, "lat": lat, "lon": lon,
        "benefit_type": rng.choice(["ww", "bijstand", "none"], size=n_clients, p=[0.45, 0.45, 0.1]),
        "intake_date": [as_of - dt.timedelta(days=int(d)) for d in rng.integers(10, 1500, size=n_clients)],
        "education_level": rng.choice(["basic", "vmbo", "mbo2_3", "mbo4", "hbo", "wo", "unknown"], size=n_clients),
        "dutch_level": dutch,
        "driving_licence": rng.random(n_clients) < 0.7,
        "hours_available": rng.choice([16, 24, 32, 36, 40], size=n_clients),
        "ladder_rung": rung,
        "complexity": rng.integers(1, 4, size=n_clients),
        "work_history": history,
        "certificates": [list(rng.choice(CERTIFICATES, size=int(rng.integers(0, 3)), replace=False)) for _ in range(n_clients)],
        "status": rng.choice(["active", "placed", "exited"], size=n_clients, p=[0.9, 0.07, 0.03]),
    })
    vocc = rng.choice(n_occ, size=n_vacancies, p=popularity)
    vm, vlat, vlon = place(n_vacancies)
    vac = pd.DataFrame({
        "id": [f"v{i:05d}" for i in range(n_vacancies)],
        "skills": [[skill_label.get(x, x) for x in view.occ_skills[o][0]] for o in vocc],
        "optional_skills": [[skill_label.get(x, x) for x in view.occ_skills[o][1]] for o in vocc],
        "title": [view.occ_labels[o] for o in vocc],
        "occupation": [view.occ_labels[o] for o in vocc],
        "municipality": vm, "lat": vlat, "lon": vlon,
        "hours": rng.choice([16, 24, 32, 36, 38, 40, None], size=n_vacancies),
        "requires_licence": rng.random(n_vacancies) < 0.2,
        "certificates": [list(rng.choice(CERTIFICATES, size=1)) if rng.random() < 0.15 else [] for _ in range(n_vacancies)],
        "min_dutch_level": rng.choice(["A2", "B1", "B2", None], size=n_vacancies, p=[0.2, 0.4, 0.2, 0.2]),
        "supported_work": rng.random(n_vacancies) < 0.1,
        "open_date": [as_of - dt.timedelta(days=int(d)) for d in rng.integers(0, 90, size=n_vacancies)],
        "close_date": [None] * n_vacancies,
    })
    return clients, vac


# --- batch over worker processes (fork: the index is shared copy-on-write) ---------------
_MATCHER = None


def _batch_worker(args):
    vacancy_ids, top = args
    rows = []
    for vid in vacancy_ids:
        lst = _MATCHER.candidates_for_vacancy(vid, top=top, with_reasons=False)
        rows += [(vid, r.rank, r.client_id, r.score) for r in lst.results]
    return rows


def batch_top_n(matcher, vacancy_ids, top: int = 20, jobs: int = 2, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Top `top` candidates for every vacancy in `vacancy_ids`, on `jobs` forked processes."""
    global _MATCHER
    cb = progress or no_progress
    vacancy_ids = list(vacancy_ids)
    chunks = [vacancy_ids[i:i + 200] for i in range(0, len(vacancy_ids), 200)]
    rows = []
    if jobs <= 1 or len(chunks) <= 1:
        _MATCHER = matcher
        for i, ch in enumerate(chunks):
            rows += _batch_worker((ch, top))
            cb(i + 1, len(chunks), "batch")
    else:
        import multiprocessing as mp

        _MATCHER = matcher
        ctx = mp.get_context("fork")
        with ctx.Pool(jobs) as pool:
            for i, part in enumerate(pool.imap_unordered(_batch_worker, [(ch, top) for ch in chunks])):
                rows += part
                cb(i + 1, len(chunks), "batch")
        _MATCHER = None
    return pd.DataFrame(rows, columns=["vacancy_id", "rank", "client_id", "score"])


def load_population(n_clients: int, n_vacancies: int, seed: int, progress: ProgressCallback | None = None,
                    source: str = "auto"):
    """(clients, vacancies, taxonomy, description) for the benchmark.

    `source`: "generator" (the demo-region generator over the full ESCO profiles: its 100k
    clients, and its most recent `n_vacancies` vacancies, all treated as open), "synthetic"
    (`synthetic_population`), or "auto" (the generator when installed).
    """
    from plein.settings import get_settings

    if source not in ("auto", "generator", "synthetic"):
        raise ValueError(f"unknown population source {source!r}: auto, generator or synthetic")
    taxonomy = None
    path = get_settings().shared_data_dir / "esco" / "occupation_profiles.parquet"
    if path.is_file():
        from matching.esco import load_profiles_taxonomy

        taxonomy = load_profiles_taxonomy(path)
    else:
        try:
            from plein.taxonomy import Taxonomy

            taxonomy = Taxonomy.load()
        except ImportError:
            raise RuntimeError(f"no taxonomy: neither {path} nor plein.taxonomy is available") from None
    if source in ("auto", "generator"):
        try:
            from plein.generator import generate_region
        except ImportError:
            if source == "generator":
                raise
            generate_region = None
        if generate_region is not None:
            region = generate_region(n_clients=n_clients, seed=seed, taxonomy=taxonomy, progress=progress)
            vac = region.vacancies.sort_values("open_date", ascending=False, kind="stable").head(n_vacancies).copy()
            vac["close_date"] = None  # the benchmark lists every one of them as open
            if len(vac) < n_vacancies:
                _, extra = synthetic_population(taxonomy, 1, n_vacancies - len(vac), seed=seed)
                extra["id"] = [f"syn-{i}" for i in range(len(extra))]
                vac = pd.concat([vac, extra[[c for c in extra.columns if c in vac.columns]]], ignore_index=True)
            return (region.clients, vac.reset_index(drop=True), taxonomy,
                    f"generate_region({n_clients}, seed={seed}) over {len(taxonomy.occupations)} ESCO occupations")
    clients, vacancies = synthetic_population(taxonomy, n_clients, n_vacancies, seed=seed)
    return clients, vacancies, taxonomy, f"synthetic from {len(taxonomy.occupations)} ESCO occupations"


def run(n_clients: int = 100_000, n_vacancies: int = 10_000, queries: int = 300, top: int = 20, jobs: int = 2,
        seed: int = 0, batch: bool = True, source: str = "auto", progress: ProgressCallback | None = None) -> dict:
    from matching.engine import Matcher

    cb = progress or no_progress
    t0 = time.perf_counter()
    clients, vacancies, taxonomy, described = load_population(n_clients, n_vacancies, seed, progress, source=source)
    t_data = time.perf_counter() - t0
    t0 = time.perf_counter()
    matcher = Matcher(clients, vacancies, taxonomy=taxonomy)
    t_build = time.perf_counter() - t0
    del clients
    ix = matcher.index
    rng = np.random.default_rng(seed + 1)
    sample = list(rng.choice(ix.vacancy_ids, size=min(queries, len(ix.vacancy_ids)), replace=False))
    for vid in sample[:10]:  # warm-up
        matcher.candidates_for_vacancy(vid, top=top)
    lat, cpu = [], []
    load_before = os.getloadavg()[0]
    for i, vid in enumerate(sample):
        t, c = time.perf_counter(), time.process_time()
        matcher.candidates_for_vacancy(vid, top=top)
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        if i % 50 == 0:
            cb(i, len(sample), "single-vacancy queries")
    lat_arr = np.array(lat)
    cpu_arr = np.array(cpu)
    out = {
        "source": described, "clients": len(ix.client_ids), "vacancies": len(ix.vacancy_ids), "skills": len(ix.vocab),
        "client_skill_nnz": int(ix.C.nnz), "transferable_nnz": int(ix.T.nnz),
        "data_seconds": t_data, "build_seconds": t_build,
        "query_ms_p50": float(np.percentile(lat_arr, 50)), "query_ms_p95": float(np.percentile(lat_arr, 95)),
        "query_ms_p99": float(np.percentile(lat_arr, 99)), "queries": len(lat),
        # CPU time of the query: what the latency is on an idle core (the wall clock above
        # includes waiting for a core when other work runs on the machine)
        "query_cpu_ms_p50": float(np.percentile(cpu_arr, 50)), "query_cpu_ms_p95": float(np.percentile(cpu_arr, 95)),
        "query_cpu_ms_p99": float(np.percentile(cpu_arr, 99)),
        "load_average_1min": float(max(load_before, os.getloadavg()[0])), "cpus": os.cpu_count(),
        "peak_rss_mb_after_build": peak_rss_mb(),
    }
    if batch:
        t0 = time.perf_counter()
        out["batch_load_average_1min_start"] = float(os.getloadavg()[0])
        ru0, rc0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        lists = batch_top_n(matcher, ix.vacancy_ids, top=top, jobs=jobs, progress=cb)
        out["batch_seconds"] = time.perf_counter() - t0
        ru1, rc1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) + (rc1.ru_utime + rc1.ru_stime - rc0.ru_utime - rc0.ru_stime)
        out["batch_cpu_seconds"] = cpu_s
        # on `jobs` idle cores the batch takes about its CPU time divided by the workers
        out["batch_seconds_on_idle_cores"] = cpu_s / max(jobs, 1)
        out["batch_load_average_1min_end"] = float(os.getloadavg()[0])
        out["batch_jobs"] = jobs
        out["batch_rows"] = len(lists)
        out["peak_rss_mb"] = peak_rss_mb()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        out["peak_rss_mb_worker"] = children
    return out
