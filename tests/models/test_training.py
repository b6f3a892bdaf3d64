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
    predicted = [i for i in items if i.p_rise is not None]
    probs = [i.p_rise for i in predicted]
    assert probs == sorted(probs, reverse=True)
    assert items[: len(predicted)] == predicted, "clients without a prediction (top rung) come last"
    assert all(i.reasons and all(isinstance(r, str) and "points" in r or "typical" in r for r in i.reasons) for i in predicted)
    assert all(0 <= i.p_paid <= 1 for i in predicted)


def test_worklist_errors(toy_region, ladder_result):
    with pytest.raises(KeyError, match="unknown coach"):
        coach_worklist(toy_region, "coach-404", ladder_result.model)
    with pytest.raises(NoModelError, match="plein train ladder"):
        coach_worklist(toy_region, "coach-1", None)


def test_importance_ranks_the_toy_drivers(ladder_result):
    top = list(ladder_result.importance.index[:5])
    assert {"education_rank", "dutch_rank", "complexity"} <= set(top)
    assert isinstance(ladder_result.importance, pd.Series)


# ------------------------------------------------------------------- the rungs and the two targets
def test_paid_never_exceeds_rise_where_paid_work_is_a_rise(ladder_result):
    """Reaching rung 5-6 from rungs 1-4 is a rise: served P(paid) <= P(rise) there, equal at
    rung 4 (the same event). The raw boosters broke this on a quarter of the toy rows."""
    model = ladder_result.model
    X = ladder_result.dataset.X
    frame = model.predict_frame(X)
    rung = X["rung"].to_numpy(dtype=float)
    low = rung <= 4
    assert (frame["p_paid"].to_numpy()[low] <= frame["p_rise"].to_numpy()[low] + 1e-12).all()
    assert np.allclose(frame["p_paid"].to_numpy()[rung == 4], frame["p_rise"].to_numpy()[rung == 4])
    assert np.array_equal(model.predict_proba(X, target="paid"), frame["p_paid"].to_numpy())
    raw = model.predict_proba(X, target="paid", raw=True)
    assert ((raw > frame["p_rise"].to_numpy()) & low).any(), "the toy model must show the problem the rule solves"
    # P(rise) is what the gate audits: the rule never changes it
    assert np.array_equal(model.predict_proba(X, target="rise"), frame["p_rise"].to_numpy())
    # above rung 4 "paid" means staying in paid work: left as the paid model says
    high = rung == 5
    assert np.array_equal(frame["p_paid"].to_numpy()[high], raw[high])


def test_coherent_rule_by_hand():
    from models.ladder import coherent

    rise, paid = coherent([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0.7, 0.3, 0.7, 0.3, 0.9, 0.9], [2, 2, 4, 4, 5, np.nan])
    assert rise.tolist() == [0.5] * 6
    assert paid.tolist() == [0.5, 0.3, 0.5, 0.5, 0.9, 0.9]


def test_evaluation_reports_the_served_and_the_raw_paid_figures(ladder_result):
    m = ladder_result.evaluation.metrics
    for key in ("raw_auc_paid", "raw_ece_paid", "adjusted_share_paid"):
        assert key in m and np.isfinite(m[key]), key
    assert 0 < m["adjusted_share_paid"] <= 1
    # the plain paid metrics are those of the served (adjusted) probabilities
    ds, split = ladder_result.dataset, ladder_result.evaluation.split
    from models.metrics import expected_calibration_error

    served = ladder_result.model.predict_proba(ds.X[split.test].reset_index(drop=True), target="paid")
    assert m["ece_paid"] == pytest.approx(expected_calibration_error(ds.y["paid"].to_numpy()[split.test], served))


def test_paid_is_audited_per_group_on_its_own_target_and_threshold(ladder_result, ranker_result, toy_region):
    from models.fairness import FairnessGate, audit, audit_groups
    from models.training import operating_threshold

    ds, ev = ladder_result.dataset, ladder_result.evaluation
    test, train_rows = ev.split.test, ev.split.train
    Xtr = ds.X[train_rows].reset_index(drop=True)
    thr = operating_threshold("ladder", ladder_result.model, Xtr, float(ds.y["paid"][train_rows].mean()), "paid")
    served = ladder_result.model.predict_proba(ds.X[test].reset_index(drop=True), target="paid")
    expected = audit(ds.y["paid"].to_numpy()[test], served, audit_groups(toy_region, ds.client_ids[test]), thr)
    paid = ev.fairness["paid"]
    assert paid["threshold"] == pytest.approx(thr) and thr != pytest.approx(ev.threshold)
    for attr, res in expected["attributes"].items():
        assert [(g["group"], g["n"], g["selection_rate"]) for g in paid["attributes"][attr]["groups"]] == \
            [(g["group"], g["n"], g["selection_rate"]) for g in res["groups"]]
    # the gate reads the main target's audit only
    without = {k: v for k, v in ev.fairness.items() if k != "paid"}
    assert FairnessGate().check(ev.fairness) == FairnessGate().check(without)
    # the ranker has no P(paid)
    assert "paid" not in ranker_result.evaluation.fairness


def test_training_leaves_out_the_top_rung_and_records_its_rungs(ladder_result, toy_region):
    from models.ladder_features import region_ladder_features
    from models.training import ladder_snapshots

    assert (ladder_result.dataset.X["rung"] < 6).all()
    snaps = ladder_snapshots(toy_region)
    on_top = region_ladder_features(toy_region, snaps)["rung"] == 6
    assert on_top.any(), "the toy region has snapshots on rung 6: they must be left out"
    assert ladder_result.model.training_rungs_ == [1, 2, 3, 4, 5]
    assert ladder_result.model.outside_training(6) and ladder_result.model.outside_training(None)
    assert not ladder_result.model.outside_training(3)


@pytest.fixture(scope="module")
def low_rung_model(ladder_result):
    """A model that learned from rungs 1-4 only, as on the generated demo region."""
    ds = ladder_result.dataset
    keep = (ds.X["rung"] <= 4).to_numpy()
    return LadderModel(random_state=3).fit(ds.X[keep].reset_index(drop=True), ds.y[keep].reset_index(drop=True))


def test_worklist_gives_no_probability_on_the_top_rung_and_flags_unseen_rungs(toy_region, low_rung_model):
    items = coach_worklist(toy_region, "coach-1", low_rung_model)
    rungs = {i.rung for i in items}
    assert {6, 5} <= rungs and rungs & {1, 2, 3, 4}, rungs
    top = [i for i in items if i.rung == 6]
    assert all(i.p_rise is None and i.p_paid is None for i in top)
    assert all("top rung" in i.reasons[0] and i.note == i.reasons[0] for i in top)
    assert items[-len(top):] == top
    for i in items:
        if i.rung == 5:
            assert i.p_rise is not None and i.reasons[0].startswith("extrapolation:") and "rungs 1-4" in i.reasons[0]
            assert "rung 5" in i.note
        elif i.rung in (1, 2, 3, 4):
            assert i.note is None and not any(r.startswith("extrapolation") for r in i.reasons)
            assert i.p_paid <= i.p_rise + 1e-12


def test_reasons_read_as_one_score_each():
    from models.worklist import reason_text

    assert reason_text("complexity", 1.0, 0.05) == "case complexity 1: +5 points"
    assert reason_text("months_on_benefit", 23.4, -0.21) == "months since intake 23: -21 points"
    assert reason_text("rung", 4.0, 0.12) == "rung 4 (unpaid work): +12 points"
    # no level word that a contribution against the median could contradict
    assert reason_text("sector_demand", 0.0, -0.06) == "demand in the target sectors +0.00: -6 points"
    for feature, value in (("complexity", 2.0), ("hours_available", 32.0), ("rung_change_12m", -1.0), ("education_rank", np.nan)):
        assert reason_text(feature, value, 0.01).count(":") == 1, reason_text(feature, value, 0.01)
