"""Training and evaluation on the toy region: metrics against baseline and oracle, determinism,
contributions and the coach worklist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.ladder import LadderModel
from models.training import train
from models.worklist import NoModelError, coach_worklist


@pytest.fixture(scope="module")
def ladder_result(toy_region):
    return train("ladder", toy_region, seed=3)


@pytest.fixture(scope="module")
def ranker_result(toy_region):
    return train("ranker", toy_region, seed=3)


def test_ladder_run_reports_model_baseline_and_oracle(ladder_result):
    m = ladder_result.evaluation.metrics
    for key in ("auc", "oracle_auc", "baseline_auc", "ece", "auc_paid", "oracle_auc_paid", "baseline_auc_paid", "ece_paid"):
        assert key in m and np.isfinite(m[key]), key
    assert m["auc"] == m["auc_rise"]
    # the toy process depends on education, Dutch level and complexity, which the baseline ignores
    assert m["auc"] > m["baseline_auc"] + 0.03
    assert m["auc"] <= m["oracle_auc"] + 0.02
    assert m["auc"] > 0.7
    assert m["n_train"] > 0 and m["n_test"] > 0
    assert set(ladder_result.evaluation.fairness["attributes"]) == {"gender", "migration_background", "age_band"}


def test_training_is_reproducible_from_seed_and_data(toy_region, ladder_result):
    again = train("ladder", toy_region, seed=3, dataset=ladder_result.dataset)
    X = ladder_result.dataset.X.head(200)
    assert np.array_equal(again.model.predict_proba(X), ladder_result.model.predict_proba(X))
    assert again.dataset.data_hash == ladder_result.dataset.data_hash
    other = train("ladder", toy_region, seed=4, dataset=ladder_result.dataset)
    assert not np.array_equal(other.model.predict_proba(X), ladder_result.model.predict_proba(X))


def test_data_hash_changes_with_the_data_not_the_row_order(toy_region, ladder_result):
    from models.training import data_hash

    r = toy_region
    shuffled = type(r)(**{**r.tables(), "clients": r.clients.sample(frac=1.0, random_state=0)})
    assert data_hash(shuffled, ("clients", "ladder_events", "vacancies")) == ladder_result.dataset.data_hash
    changed = r.clients.copy()
    changed.loc[0, "complexity"] = 3 if changed.loc[0, "complexity"] != 3 else 1
    assert data_hash(type(r)(**{**r.tables(), "clients": changed}), ("clients", "ladder_events", "vacancies")) != ladder_result.dataset.data_hash


def test_ranker_run_reports_auc_and_ndcg(ranker_result):
    m = ranker_result.evaluation.metrics
    for key in ("auc", "ndcg_at_10", "oracle_auc", "oracle_ndcg_at_10", "ece"):
        assert np.isfinite(m[key]), key
    assert m["auc"] > 0.6
    assert 0 < m["ndcg_at_10"] <= 1


def test_contributions_explain_the_prediction(ladder_result):
    model = ladder_result.model
    X = ladder_result.dataset.X.head(20).reset_index(drop=True)
    contrib = model.contributions(X, top=3)
    assert len(contrib) == 20 and all(len(c) == 3 for c in contrib)
    p = model.predict_proba(X)
    for i in range(3):
        for feature, change in contrib[i]:
            assert feature in model.feature_names_
            moved = X.iloc[[i]].copy()
            moved[feature] = model.reference_[feature]
            assert change == pytest.approx(p[i] - model.predict_proba(moved)[0], abs=1e-9)
        assert abs(contrib[i][0][1]) >= abs(contrib[i][-1][1])


def test_unfitted_and_bad_inputs_are_refused(ladder_result):
    X = ladder_result.dataset.X.head(5)
    with pytest.raises(RuntimeError, match="not fitted"):
        LadderModel().predict_proba(X)
    with pytest.raises(ValueError, match="unknown target"):
        ladder_result.model.predict_proba(X, target="moon")
    with pytest.raises(ValueError, match="lacks column"):
        ladder_result.model.predict_proba(X.drop(columns=["rung"]))
    with pytest.raises(ValueError, match="unknown ladder model parameter"):
        train("ladder", None, params={"depth": 3}, dataset=ladder_result.dataset)


def test_worklist_orders_the_coachs_active_clients_with_reasons(toy_region, ladder_result):
    region = toy_region
    clients = region.clients.copy()
    mine = clients.index[clients["coach_id"] == "coach-2"]
    clients.loc[mine[:3], "status"] = "exited"
    region = type(region)(**{**region.tables(), "clients": clients})
    items = coach_worklist(region, "coach-2", ladder_result.model)
    expected = set(clients.loc[(clients["coach_id"] == "coach-2") & (clients["status"] == "active"), "id"])
    assert {i.client_id for i in items} == expected
    probs = [i.p_rise for i in items]
    assert probs == sorted(probs, reverse=True)
    assert all(i.reasons and all(isinstance(r, str) and "points" in r or "typical" in r for r in i.reasons) for i in items)
    assert all(0 <= i.p_paid <= 1 for i in items)


def test_worklist_errors(toy_region, ladder_result):
    with pytest.raises(KeyError, match="unknown coach"):
        coach_worklist(toy_region, "coach-404", ladder_result.model)
    with pytest.raises(NoModelError, match="plein train ladder"):
        coach_worklist(toy_region, "coach-1", None)


def test_importance_ranks_the_toy_drivers(ladder_result):
    top = list(ladder_result.importance.index[:5])
    assert {"education_rank", "dutch_rank", "complexity"} <= set(top)
    assert isinstance(ladder_result.importance, pd.Series)
