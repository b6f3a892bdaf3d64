"""Model benchmarks: `plein bench models [--pairs 1000000] [--clients 100000] [--seed 0]`.

Three measurements, each against the target of the models issue:

1. **Ranker training on 1M labelled pairs** (target 120 s): a generated region's shortlisted
   pairs with a decision get their features from `matching.features.pair_features` (point in
   time, as in training; timed separately), are resampled with replacement to `--pairs` rows,
   and `RankerModel.fit` is timed on them.
2. **Ladder training on 100k clients** (target 60 s): a region of `--clients` clients; the
   dataset build (features, labels) and the fit of the two-target model on the
   training side of the time split are timed, and reported together.
3. **Batch prediction for 100k clients** (target 5 s): the features of every client on one
   date and both probabilities, timed as one batch (features and prediction also apart).

Threads follow `models.base.thread_count` (all cores from 50,000 rows; ``PLEIN_MODEL_THREADS``
overrides). The machine may be shared with other work: the table reports the wall time and
the CPU seconds of this process for one run, and the load average.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

TARGETS = {"ranker_fit": 120.0, "ladder_train": 60.0, "batch_predict": 5.0}


#: CPU seconds of the last `_timed` call (all threads of this process), reported beside the
#: wall time: on a shared machine the wall time mostly measures the neighbours
_last_cpu = [0.0]


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    _last_cpu[0] = time.process_time() - c
    return out, time.perf_counter() - t


def bench_ranker(n_pairs: int, seed: int, progress=print) -> list[tuple]:
    from models.ranker import RankerModel, labelled_pairs, ranker_features
    from plein.generator import generate_region

    # about 3.4 labelled pairs per client in the demo generator: a region big enough for a
    # representative pool, then resampled to n_pairs
    n_clients = int(min(60_000, max(5_000, n_pairs // 20)))
    progress(f"ranker: generating a region of {n_clients} clients")
    region = generate_region(n_clients=n_clients, seed=seed)
    taxonomy = None
    try:
        from plein.taxonomy import Taxonomy

        taxonomy = Taxonomy.load()
    except Exception:  # the built-in taxonomy is optional for timing
        taxonomy = None
    pairs = labelled_pairs(region.outcomes)
    progress(f"ranker: features for {len(pairs)} labelled pairs")
    X, t_feat = _timed(lambda: ranker_features(region, pairs, taxonomy=taxonomy))
    c_feat = _last_cpu[0]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(pairs), n_pairs)
    Xb = X.iloc[idx].reset_index(drop=True)
    yb = pairs["hired"].to_numpy()[idx]
    progress(f"ranker: fitting on {n_pairs} pairs")
    model, t_fit = _timed(lambda: RankerModel(random_state=seed).fit(Xb, yb))
    c_fit = _last_cpu[0]
    trees = model.pipeline_.named_steps["booster"].n_iter_ if hasattr(model.pipeline_, "named_steps") else "?"
    return [
        ("ranker: pair features (point in time)", f"{len(pairs):,} pairs", t_feat, c_feat, None),
        ("ranker: fit", f"{n_pairs:,} pairs ({trees} trees)", t_fit, c_fit, TARGETS["ranker_fit"]),
    ]


def bench_ladder(n_clients: int, seed: int, progress=print) -> list[tuple]:
    from models.ladder import LadderModel
    from models.ladder_features import region_ladder_features
    from models.training import ladder_dataset, split_dataset
    from models.worklist import default_as_of
    from plein.generator import generate_region

    progress(f"ladder: generating a region of {n_clients} clients")
    region, t_gen = _timed(lambda: generate_region(n_clients=n_clients, seed=seed))
    c_gen = _last_cpu[0]
    progress("ladder: dataset (features and labels)")
    ds, t_ds = _timed(lambda: ladder_dataset(region))
    c_ds = _last_cpu[0]
    split = split_dataset(ds)
    Xtr = ds.X[split.train].reset_index(drop=True)
    ytr = ds.y[split.train].reset_index(drop=True)
    progress(f"ladder: fitting on {len(Xtr)} snapshots")
    model, t_fit = _timed(lambda: LadderModel(random_state=seed).fit(Xtr, ytr))
    c_fit = _last_cpu[0]

    progress(f"ladder: batch prediction for {len(region.clients)} clients")
    as_of = default_as_of(region)
    snaps = pd.DataFrame({"client_id": region.clients["id"].astype(str).to_numpy(), "as_of": [as_of] * len(region.clients)})
    X, t_x = _timed(lambda: region_ladder_features(region, snaps))
    c_x = _last_cpu[0]
    probs, t_p = _timed(lambda: model.predict_frame(X))
    c_p = _last_cpu[0]
    assert len(probs) == len(region.clients)
    return [
        ("ladder: generate region (no target)", f"{n_clients:,} clients", t_gen, c_gen, None),
        ("ladder: dataset (features + labels)", f"{len(ds.X):,} snapshots", t_ds, c_ds, None),
        ("ladder: fit (2 targets)", f"{len(Xtr):,} training snapshots", t_fit, c_fit, None),
        ("ladder: training = dataset + fit", f"{n_clients:,} clients", t_ds + t_fit, c_ds + c_fit, TARGETS["ladder_train"]),
        ("batch: features", f"{len(X):,} clients", t_x, c_x, None),
        ("batch: predict p_rise and p_paid", f"{len(X):,} clients", t_p, c_p, None),
        ("batch: features + predict", f"{len(X):,} clients", t_x + t_p, c_x + c_p, TARGETS["batch_predict"]),
    ]


def run(n_pairs: int = 1_000_000, n_clients: int = 100_000, seed: int = 0) -> list[tuple]:
    from rich.console import Console
    from rich.table import Table

    from models.base import thread_count

    console = Console()
    rows = bench_ladder(n_clients, seed, progress=lambda m: console.print(f"[dim]{m}[/dim]"))
    rows += bench_ranker(n_pairs, seed, progress=lambda m: console.print(f"[dim]{m}[/dim]"))
    table = Table(title=f"plein bench models (threads: {thread_count(10**9)} of {os.cpu_count()} cores for large fits)")
    for col in ("step", "size", "wall s", "CPU s", "target s", "ok"):
        table.add_column(col, justify="right" if col.endswith(" s") else "left")
    for step, size, secs, cpu, target in rows:
        ok = "" if target is None else ("yes" if secs <= target else "NO")
        table.add_row(step, size, f"{secs:.1f}", f"{cpu:.1f}", "-" if target is None else f"{target:.0f}", ok)
    console.print(table)
    load = os.getloadavg()[0]
    console.print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores"
                  + (" (a busy machine: wall times are inflated, CPU seconds are the fairer figure)" if load > (os.cpu_count() or 1) else ""))
    return rows
