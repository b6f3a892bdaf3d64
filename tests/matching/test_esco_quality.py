"""Plein against BM25 on real ESCO occupation profiles (a small sample; the full run is
`plein bench matching-quality`)."""

import pytest


@pytest.mark.shared_data
def test_plein_beats_bm25_on_noisy_partial_profiles(shared_data):
    from bench.matching_quality import EscoSetting, esco_benchmark

    table = esco_benchmark(shared_data / "esco" / "occupation_profiles.parquet", n_sample=150,
                           settings=[EscoSetting(0.15, 2.0)], seed=1)
    mrr = table.set_index("method")["MRR"]
    assert mrr["Plein (rules)"] > 1.1 * mrr["BM25 (skill labels)"]
    assert table.set_index("method").loc["Plein (rules)", "recall@10"] > 0.8
