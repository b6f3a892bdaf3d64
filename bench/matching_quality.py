"""Matching quality benchmarks: `plein bench matching-quality`.

Two tables, one run:

1. ESCO taxonomy (needs ../shared/data/esco/occupation_profiles.parquet). Every ESCO
   occupation is a vacancy (its essential and optional skills). For a sample of occupations
   a client is built whose profile is a random `fraction` of the occupation's essential
   skills (floor, at least one) plus `noise` times as many random skills drawn uniformly from
   all ESCO skills outside the occupation. Each client's vacancies are ranked by Plein
   (rule-based, `Matcher.vacancies_for_client`) and by BM25 (`bm25s`, each skill label one
   token, essential and optional skills in the document); reported: MRR and recall@10 of the
   true occupation.
2. History (a generated region, `plein.generator.generate_region`): vacancies' outcome
   lists split by time (vacancies opened before the cut-off train, after it test). For each
   test vacancy with at least one hire, the clients on its lists are ranked by Plein
   (learned ranker trained on the earlier outcomes through the one feature path, when
   scikit-learn is available), the rule-only score and BM25 over skill labels; reported:
   NDCG@10 of the actual hires.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plein.progress import ProgressCallback, no_progress

# ---------------------------------------------------------------------------------------------
# ESCO taxonomy benchmark


@dataclass
class EscoSetting:
    fraction: float = 0.15  # share of the essential skills the client holds
    noise: float = 2.0  # random unrelated skills, as a multiple of the true ones


def esco_queries(ess: list[list[str]], opt: list[list[str]], sample: np.ndarray, setting: EscoSetting,
                 rng: np.random.Generator) -> list[list[str]]:
    all_skills = sorted({s for lst in ess + opt for s in lst})
    queries = []
    for o in sample:
        e = ess[o]
        k = max(1, int(math.floor(setting.fraction * len(e))))
        true = [str(x) for x in rng.choice(e, size=min(k, len(e)), replace=False)]
        own = set(e) | set(opt[o])
        n_noise = int(round(setting.noise * len(true)))
        noise: list[str] = []
        while len(noise) < n_noise:
            s = all_skills[int(rng.integers(len(all_skills)))]
            if s not in own and s not in noise:
                noise.append(s)
        q = true + noise
        rng.shuffle(q)
        queries.append(q)
    return queries


def _rank_metrics(ranks: np.ndarray) -> dict[str, float]:
    return {"mrr": float(np.mean(1.0 / ranks)), "recall@10": float(np.mean(ranks <= 10)), "n": int(len(ranks))}


def bm25_label_ranks(docs: list[list[str]], queries: list[list[str]], truth: np.ndarray) -> np.ndarray:
    """Rank of the true document per query, BM25 with every skill label as one token."""
    import bm25s

    vocab: dict[str, str] = {}
    tok = lambda labels: [vocab.setdefault(s, f"s{len(vocab)}") for s in labels]  # noqa: E731
    corpus = [tok(d) for d in docs]
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    q_tokens = [[vocab[s] for s in q if s in vocab] for q in queries]
    results, _ = retriever.retrieve(q_tokens, k=len(docs), show_progress=False, n_threads=1)
    ranks = np.array([int(np.flatnonzero(results[i] == truth[i])[0]) + 1 if (results[i] == truth[i]).any() else len(docs)
                      for i in range(len(queries))])
    return ranks


def bm25_word_ranks(docs: list[list[str]], queries: list[list[str]], truth: np.ndarray) -> np.ndarray:
    """Rank of the true document per query, BM25 over the words of the skill labels."""
    import bm25s

    corpus = bm25s.tokenize([" ; ".join(d) for d in docs], show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    q = bm25s.tokenize([" ; ".join(x) for x in queries], show_progress=False, allow_empty=True)
    results, _ = retriever.retrieve(q, k=len(docs), show_progress=False, n_threads=1)
    return np.array([int(np.flatnonzero(results[i] == truth[i])[0]) + 1 if (results[i] == truth[i]).any() else len(docs)
                     for i in range(len(queries))])


def plein_ranks(matcher, query_ids: list[str], truth_ids: list[str], progress: ProgressCallback) -> np.ndarray:
    """Rank of the true vacancy in Plein's full list for each client (1 = first)."""
    ranks = np.empty(len(query_ids))
    n_vac = len(matcher.index.vacancy_ids)
    for i, (cid, true) in enumerate(zip(query_ids, truth_ids)):
        lst = matcher.vacancies_for_client(cid, top=n_vac, with_reasons=False)
        ids = lst.ids()
        ranks[i] = ids.index(true) + 1 if true in ids else n_vac
        if i % 50 == 0:
            progress(i, len(query_ids), "Plein ranking")
    return ranks


def esco_benchmark(profiles_path, n_sample: int = 1000, settings: list[EscoSetting] | None = None, seed: int = 0,
                   config=None, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """MRR and recall@10 of the true occupation, Plein vs BM25, per noise setting."""
    from matching.config import MatchConfig
    from matching.engine import Matcher
    from matching.esco import load_profiles_taxonomy, read_profiles

    cb = progress or no_progress
    settings = settings or [EscoSetting(0.15, 2.0), EscoSetting(0.15, 0.0), EscoSetting(0.30, 2.0)]
    profiles = read_profiles(profiles_path)
    taxonomy = load_profiles_taxonomy(profiles_path)
    names = profiles["occupation_name"].astype(str).str.strip().tolist()
    ess = [[str(s).strip() for s in (x if x is not None else [])] for x in profiles["essential_skills"]]
    opt = [[str(s).strip() for s in (x if x is not None else [])] for x in profiles["optional_skills"]]
    vac_ids = [f"occ{i}" for i in range(len(names))]
    vacancies = pd.DataFrame({"id": vac_ids, "skills": ess, "optional_skills": opt, "occupation": names})
    rows = []
    for setting in settings:
        rng = np.random.default_rng(seed)
        sample = rng.choice(len(names), size=min(n_sample, len(names)), replace=False)
        queries = esco_queries(ess, opt, sample, setting, rng)
        clients = pd.DataFrame({"id": [f"q{i}" for i in range(len(queries))], "skills": queries})
        t0 = time.perf_counter()
        matcher = Matcher(clients, vacancies, taxonomy=taxonomy, config=config or MatchConfig(), as_of=dt.date.today())
        p_ranks = plein_ranks(matcher, clients["id"].tolist(), [vac_ids[o] for o in sample], cb)
        t_plein = time.perf_counter() - t0
        t0 = time.perf_counter()
        b_ranks = bm25_label_ranks([e + o for e, o in zip(ess, opt)], queries, sample)
        t_bm25 = time.perf_counter() - t0
        w_ranks = bm25_word_ranks([e + o for e, o in zip(ess, opt)], queries, sample)
        label = f"{setting.fraction:.0%} essential + {setting.noise:g}x random"
        for method, ranks, secs in (("Plein (rules)", p_ranks, t_plein), ("BM25 (skill labels)", b_ranks, t_bm25),
                                    ("BM25 (label words)", w_ranks, None)):
            m = _rank_metrics(ranks)
            rows.append({"profile": label, "method": method, "MRR": m["mrr"], "recall@10": m["recall@10"], "n": m["n"],
                         "seconds": secs})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# history benchmark (generated region)


def ndcg_at_k(relevance_in_rank_order: np.ndarray, k: int = 10) -> float:
    rel = np.asarray(relevance_in_rank_order, dtype=float)
    gains = rel[:k] / np.log2(np.arange(2, min(k, len(rel)) + 2))
    ideal = np.sort(rel)[::-1][:k] / np.log2(np.arange(2, min(k, len(rel)) + 2))
    return float(gains.sum() / ideal.sum()) if ideal.sum() > 0 else float("nan")


def history_benchmark(n_clients: int = 5000, seed: int = 11, taxonomy=None, region=None, k: int = 10,
                      progress: ProgressCallback | None = None) -> pd.DataFrame:
    """NDCG@k of actual hires among each test vacancy's listed clients, time-based split."""
    from matching.config import MatchConfig
    from matching.engine import Matcher
    from matching.outcomes import training_frame

    cb = progress or no_progress
    if taxonomy is None:
        from plein.taxonomy import Taxonomy

        taxonomy = Taxonomy.builtin()
    if region is None:
        from plein.generator import generate_region

        region = generate_region(n_clients=n_clients, seed=seed, taxonomy=taxonomy, progress=cb)
    outcomes = region.outcomes.copy()
    if outcomes.empty:
        raise ValueError("the region has no outcomes history to evaluate on")
    outcomes["date"] = pd.to_datetime(outcomes["date"]).dt.date
    first = outcomes.groupby("vacancy_id")["date"].min()
    cutoff = sorted(first)[int(len(first) * 0.7)]
    test_vacancies = set(first[first >= cutoff].index)
    train = outcomes[~outcomes["vacancy_id"].isin(test_vacancies)]
    test = outcomes[outcomes["vacancy_id"].isin(test_vacancies)]
    from matching.features import FEATURE_COLUMNS
    from matching.outcomes import final_stages
    from matching.scoring import rule_score

    config = MatchConfig()
    matcher = Matcher.from_region(region, taxonomy=taxonomy, config=config, as_of=cutoff)
    test_pairs = final_stages(test)
    try:
        # point in time, as the models package trains: each pair described as it was when
        # listed (rung from ladder_events), not as the client is today
        from models.ranker import RankerModel, labelled_pairs, ranker_features

        label = "Plein (learned re-rank, models.ranker)"
        train_pairs = labelled_pairs(train)
        X_train = ranker_features(region, train_pairs, taxonomy=taxonomy)
        ranker = RankerModel().fit(X_train, train_pairs["hired"].to_numpy())
        tf_test = ranker_features(region, test_pairs.rename(columns={"first_date": "start"}), taxonomy=taxonomy)
        tf_test["hired"] = test_pairs["hired"].to_numpy()
        n_train = len(train_pairs)
    except ImportError:
        label = "Plein (learned re-rank, bench stand-in)"
        tf_train = training_frame(train, matcher.index)
        tf_test = training_frame(test, matcher.index)
        ranker = _fit_ranker(tf_train)
        n_train = len(tf_train)
    tf_test = tf_test.reset_index(drop=True)
    tf_test["rule"] = rule_score(tf_test, config)
    if ranker is not None:
        tf_test["learned"] = ranker.predict_proba(tf_test[FEATURE_COLUMNS])
    tf_test["bm25"] = _bm25_pair_scores(matcher.index, tf_test)
    methods = [(label, "learned")] if ranker is not None else []
    methods += [("Rule-only score", "rule"), ("BM25 (skill labels)", "bm25")]
    rows = []
    groups = [g for _, g in tf_test.groupby("vacancy_id") if g["hired"].sum() > 0 and len(g) > 1]
    for name, col in methods:
        vals = [ndcg_at_k(g.sort_values(col, ascending=False, kind="stable")["hired"].to_numpy(), k) for g in groups]
        rows.append({"method": name, f"NDCG@{k}": float(np.nanmean(vals)) if vals else float("nan"), "vacancies": len(groups),
                     "pairs": int(sum(len(g) for g in groups)), "train_pairs": n_train})
    return pd.DataFrame(rows)


class _SkRanker:
    version = "bench-hgb"

    def __init__(self, model, columns):
        self.model, self.columns = model, columns

    def predict_proba(self, X):
        return self.model.predict_proba(X[self.columns].to_numpy())[:, 1]

    def contributions(self, X, top=3):
        return [[] for _ in range(len(X))]


def _fit_ranker(tf: pd.DataFrame):
    """A gradient-boosted hire classifier on the training outcomes (stands in for models/)."""
    from matching.features import FEATURE_COLUMNS

    if tf["hired"].nunique() < 2:
        return None
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    model.fit(tf[FEATURE_COLUMNS].to_numpy(), tf["hired"].to_numpy())
    return _SkRanker(model, FEATURE_COLUMNS)


def _bm25_pair_scores(index, pairs: pd.DataFrame) -> np.ndarray:
    """BM25 of each client (document: skill labels) for its vacancy (query: essential + optional)."""
    import bm25s

    clients = sorted(set(pairs["client_id"]))
    pos = {c: i for i, c in enumerate(clients)}
    docs = [[f"s{j}" for j in index.C.getrow(index.client_index(c)).indices] for c in clients]
    retriever = bm25s.BM25()
    retriever.index(docs, show_progress=False)
    out = np.zeros(len(pairs))
    for vid, g in pairs.groupby("vacancy_id"):
        v = index.vacancy_index(vid)
        q = [f"s{j}" for j in np.concatenate([index.E.getrow(v).indices, index.O.getrow(v).indices])]
        scores = retriever.get_scores(q) if q else np.zeros(len(clients))
        out[g.index.to_numpy()] = [scores[pos[c]] for c in g["client_id"]]
    return out


def run(n_sample: int = 1000, history_clients: int = 5000, seed: int = 0, progress: ProgressCallback | None = None) -> dict:
    from plein.settings import get_settings

    out = {}
    path = get_settings().shared_data_dir / "esco" / "occupation_profiles.parquet"
    out["esco"] = esco_benchmark(path, n_sample=n_sample, seed=seed, progress=progress) if path.is_file() else None
    try:
        import plein.generator  # noqa: F401
        out["history"] = history_benchmark(n_clients=history_clients, progress=progress)
    except ImportError:
        out["history"] = None
    return out
