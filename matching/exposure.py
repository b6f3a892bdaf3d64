"""Fair exposure: keep the same few clients from filling every candidate list.

A strong profile tends to top many lists at once; without a limit a handful of clients get
every invitation while equally suitable clients are never proposed. `allocate_lists` builds
the lists of many open vacancies together with a cap on how many lists (in the period,
counting lists already proposed) a client may appear on. `concentration` measures how
concentrated exposure is (Gini coefficient, share of list slots taken by the top 10% of
clients), so the effect of the cap can be seen and monitored.

Allocation is round-robin by rank: in round r every vacancy (oldest open first) takes its
best remaining candidate who is under the cap and not yet on its list. Every vacancy thus
gets its first choice before any gets its second, so the cap does not hurt one vacancy to
favour another. Each vacancy starts from a pool of its `pool_factor` x `top` best candidates;
when the cap has used that up, the pool is refilled with the next best (leaving out clients at
the cap). Only a vacancy that runs out of eligible candidates altogether gets a shorter list;
the result says by how many slots.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plein.progress import ProgressCallback, no_progress


@dataclass
class Allocation:
    lists: pd.DataFrame  # vacancy_id, rank, client_id, score
    short_lists: dict[str, int]  # vacancy -> slots left empty because of the cap
    appearances: pd.Series  # client_id -> appearances in the period (prior + new)


def prior_appearances(outcomes: pd.DataFrame, as_of: dt.date, period_days: int = 30) -> pd.Series:
    """Lists each client was proposed on within `period_days` before `as_of` (from outcomes)."""
    if outcomes is None or outcomes.empty:
        return pd.Series(dtype=int)
    dates = pd.to_datetime(outcomes["date"]).dt.date
    start = as_of - dt.timedelta(days=period_days)
    recent = outcomes[(dates > start) & (dates <= as_of)]
    return recent.groupby("client_id")["vacancy_id"].nunique()


def allocate_lists(matcher, vacancy_ids=None, top: int = 20, cap: int | None = None, prior: pd.Series | None = None,
                   ranker=None, pool_factor: int = 4, progress: ProgressCallback | None = None) -> Allocation:
    """Top-`top` lists for many vacancies at once, each client on at most `cap` lists.

    - `vacancy_ids`: default every vacancy open on the matcher's reference date.
    - `cap`: maximum appearances per client in the period, including `prior` appearances
      (client_id -> count, see `prior_appearances`); None means no cap (plain top-N lists).
    """
    cb = progress or no_progress
    ix = matcher.index
    if vacancy_ids is None:
        as_of = matcher.as_of.toordinal()
        open_ = np.isnan(ix.v_close) | (ix.v_close > as_of)
        vacancy_ids = list(ix.vacancy_ids[open_])
    # oldest open first: they have waited longest
    order = sorted(vacancy_ids, key=lambda v: (np.nan_to_num(ix.v_open[ix.vacancy_index(v)], nan=0.0), str(v)))
    pool_size = top if cap is None else top * max(pool_factor, 1)
    pools: dict[str, list[tuple[str, float]]] = {}
    n_candidates: dict[str, int] = {}
    for i, vid in enumerate(order):
        lst = matcher.candidates_for_vacancy(vid, top=pool_size, ranker=ranker, with_reasons=False)
        pools[vid] = [(r.client_id, r.score) for r in lst.results]
        n_candidates[vid] = lst.eligible if len(lst.results) == pool_size else len(lst.results)
        if i % 100 == 0:
            cb(i, len(order), "candidate pools")
    cb(len(order), len(order), "candidate pools")
    counts: dict[str, int] = defaultdict(int)
    if prior is not None:
        for c, n in prior.items():
            counts[str(c)] = int(n)
    chosen: dict[str, list[tuple[str, float]]] = {v: [] for v in order}
    pos = {v: 0 for v in order}
    exhausted = {v: len(pools[v]) < pool_size for v in order}  # the pool holds every candidate
    for _ in range(top):
        for vid in order:
            pool = pools[vid]
            p = pos[vid]
            while True:
                if p >= len(pool):
                    if exhausted[vid]:
                        break
                    # refill: the next best, leaving out clients at the cap and those listed here
                    skip = {c for c, n in counts.items() if cap is not None and n >= cap} | {c for c, _ in chosen[vid]}
                    lst = matcher.candidates_for_vacancy(vid, top=pool_size, ranker=ranker, exclude=skip, with_reasons=False)
                    pool = pools[vid] = [(r.client_id, r.score) for r in lst.results]
                    exhausted[vid] = len(pool) < pool_size
                    p = 0
                    if not pool:
                        break
                cid, score = pool[p]
                p += 1
                if cap is None or counts[cid] < cap:
                    chosen[vid].append((cid, score))
                    counts[cid] += 1
                    break
            pos[vid] = p
    rows = [(vid, r + 1, cid, score) for vid in order for r, (cid, score) in enumerate(chosen[vid])]
    lists = pd.DataFrame(rows, columns=["vacancy_id", "rank", "client_id", "score"])
    # slots a vacancy would have filled without the cap but did not with it
    short = {vid: min(top, n_candidates[vid]) - len(chosen[vid]) for vid in order if len(chosen[vid]) < min(top, n_candidates[vid])}
    return Allocation(lists, short, pd.Series(dict(counts), dtype=int).sort_values(ascending=False))


def gini(values) -> float:
    """Gini coefficient of non-negative values: 0 = equal exposure, towards 1 = one takes all."""
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


def concentration(lists: pd.DataFrame, population=None) -> dict[str, float]:
    """How concentrated exposure is across clients.

    `population`: the client ids that could have been listed (e.g. the active clients with
    any candidate); clients never listed count as zero. Default: the clients that appear.
    Returns gini, top10_share (share of all list slots taken by the 10% most-listed
    clients of the population), clients_listed, max_appearances, slots.
    """
    counts = lists.groupby("client_id").size() if len(lists) else pd.Series(dtype=int)
    if population is not None:
        counts = counts.reindex(pd.Index([str(c) for c in population]).union(counts.index), fill_value=0)
    values = np.sort(counts.to_numpy())[::-1]
    slots = int(values.sum())
    k = max(1, int(np.ceil(0.10 * len(values)))) if len(values) else 0
    return {
        "gini": gini(values),
        "top10_share": float(values[:k].sum() / slots) if slots else 0.0,
        "clients_listed": int((values > 0).sum()),
        "max_appearances": int(values[0]) if len(values) else 0,
        "slots": slots,
    }
