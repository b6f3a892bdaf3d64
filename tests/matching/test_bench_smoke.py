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


def test_history_bench_on_the_small_region(small_region):
    from bench.matching_quality import history_benchmark

    table = history_benchmark(region=small_region)
    assert set(table["method"]) >= {"Rule-only score", "BM25 (skill labels)"}
    assert table["NDCG@10"].between(0, 1).all()
    assert (table["vacancies"] > 0).all()
