"""The matching benchmarks run end to end on tiny sizes (no timings asserted: those are
`plein bench matching-speed` / `matching-quality`, never unit tests)."""

import pytest


@pytest.mark.shared_data
def test_speed_bench_runs_on_a_tiny_population(shared_data):
    from bench.matching_speed import run

    res = run(n_clients=400, n_vacancies=30, queries=10, jobs=2, batch=True, source="synthetic")
    assert res["clients"] == 400 and res["vacancies"] == 30 and res["queries"] == 10
    assert res["batch_rows"] > 0 and res["query_cpu_ms_p95"] > 0
    assert res["query_ms_p50"] <= res["query_ms_p99"]


def test_ndcg_and_bm25_pair_scores():
    import numpy as np
    import pandas as pd

    from bench.matching_quality import _bm25_pair_scores, ndcg_at_k
    from matching.index import MatchIndex

    assert ndcg_at_k(np.array([1, 0, 0])) == pytest.approx(1.0)
    assert ndcg_at_k(np.array([0, 0, 1])) == pytest.approx(1 / np.log2(4))
    assert np.isnan(ndcg_at_k(np.array([0, 0])))
    ix = MatchIndex(pd.DataFrame({"id": ["a", "b"], "skills": [["weld", "grind"], ["cook"]]}),
                    pd.DataFrame({"id": ["v"], "skills": [["weld", "grind"]]}))
    scores = _bm25_pair_scores(ix, pd.DataFrame({"client_id": ["a", "b"], "vacancy_id": ["v", "v"]}))
    assert scores[0] > scores[1] == 0
