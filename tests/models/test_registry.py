"""MLflow lifecycle: logging, registry aliases, the promotion gate, serving with reload and a
registry outage. One MLflow store for the whole module (creating one costs seconds)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from models.fairness import FairnessGate
from models.names import LADDER_NAME
from models.registry import CHALLENGER, CHAMPION, alias_version, configure, log_training, promote
from models.serving import ModelServer
from models.training import train
from plein.settings import get_settings


@pytest.fixture(scope="module")
def results(toy_region):
    good = train("ladder", toy_region, seed=3)
    weak = train("ladder", toy_region, seed=3, params={"max_iter": 2, "learning_rate": 0.01, "calibration": None},
                 dataset=good.dataset)
    return good, weak


@pytest.fixture(scope="module")
def store(mlflow_store, toy_region, results):
    """Registry state after: v1 (good) logged and promoted to champion."""
    good, _ = results
    run = log_training(good)
    decision = promote("ladder", region=toy_region)
    return {"run": run, "first_decision": decision}


def test_run_logs_params_metrics_audit_plots_and_model_card(store, results):
    import mlflow

    client = configure()
    run = client.get_run(store["run"].run_id)
    good, _ = results
    assert run.data.params["seed"] == "3"
    assert run.data.params["data_hash"] == good.dataset.data_hash
    assert run.data.tags["plein.data_hash"] == good.dataset.data_hash
    for key in ("auc", "oracle_auc", "baseline_auc", "ece", "auc_paid", "ece_paid", "fairness_gate_passed"):
        assert key in run.data.metrics, key
    assert run.data.metrics["auc"] == pytest.approx(good.evaluation.metrics["auc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)} | {
        a.path for d in ("plots", "fairness") for a in client.list_artifacts(run.info.run_id, d)
    }
    assert {"model_card.md", "plots/roc.png", "plots/calibration.png", "plots/importance.png", "plots/fairness.png",
            "fairness/audit.json", "fairness/audit.csv"} <= artifacts
    card = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")
    for section in ("## Intended use", "## Data", "## Metrics", "## Groups", "## Limits"):
        assert section in card
    audit = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/fairness/audit.json")
    assert set(audit["attributes"]) == {"gender", "migration_background", "age_band"}
    # P(paid) is served too: audited per group at its own operating threshold, reported, not gated
    paid = audit["paid"]
    assert set(paid["attributes"]) == {"gender", "migration_background", "age_band"}
    assert paid["threshold"] != audit["threshold"]
    assert paid["overall"]["n"] == audit["overall"]["n"] > 0
    assert "fairness/audit_paid.csv" in artifacts
    assert "### P(paid) by group" in card and "not gated" in card
    assert settings_artifacts_dir_used(run)


def settings_artifacts_dir_used(run) -> bool:
    return str(get_settings().mlflow_artifacts_dir) in run.info.artifact_uri


def test_first_challenger_becomes_champion(store):
    d = store["first_decision"]
    assert d.accepted, d.summary()
    client = configure()
    assert str(alias_version(client, LADDER_NAME, CHAMPION).version) == store["run"].version
    assert alias_version(client, LADDER_NAME, CHALLENGER) is None


def test_worse_challenger_is_refused_with_the_reason(store, toy_region, results):
    _, weak = results
    run = log_training(weak)
    decision = promote("ladder", region=toy_region)
    assert not decision.accepted
    assert any("worse than the champion on auc" in r for r in decision.reasons), decision.reasons
    client = configure()
    assert str(alias_version(client, LADDER_NAME, CHAMPION).version) == store["run"].version
    assert str(alias_version(client, LADDER_NAME, CHALLENGER).version) == run.version  # still waiting, not promoted
    tags = client.get_model_version(LADDER_NAME, run.version).tags
    assert tags["promotion_decision"].startswith("refused") and "worse" in tags["promotion_reasons"]
    # the logged metrics tell the same story without re-scoring
    assert not promote("ladder").accepted


def test_unfair_challenger_is_refused_with_the_reason(store, toy_region, results):
    good, _ = results
    run = log_training(good)  # as good as the champion ...
    strict = FairnessGate(min_four_fifths=0.999)  # ... but judged by a gate it cannot pass
    decision = promote("ladder", region=toy_region, gate=strict)
    assert not decision.accepted
    assert all("four-fifths rule fails" in r for r in decision.reasons) and decision.reasons
    assert str(alias_version(configure(), LADDER_NAME, CHAMPION).version) == store["run"].version
    # and with the normal gate the equal challenger is promoted (not worse is enough)
    again = promote("ladder", region=toy_region)
    assert again.accepted, again.summary()
    assert str(alias_version(configure(), LADDER_NAME, CHAMPION).version) == run.version


def test_promote_without_challenger_says_so(store):
    d = promote("ranker")
    assert not d.accepted and "plein train ranker" in d.reasons[0]


def test_server_serves_the_champion_and_reloads_without_restart(store, toy_region, results):
    server = ModelServer()
    client = configure()
    champion = alias_version(client, LADDER_NAME, CHAMPION)
    assert server.ladder is not None and server.ladder.version == str(champion.version)
    assert server.ranker is None  # none registered: serving still works
    X = results[0].dataset.X.head(10)
    p = server.ladder.predict_proba(X)
    assert p.shape == (10,) and ((p >= 0) & (p <= 1)).all()
    assert np.allclose(p, results[0].model.predict_proba(X))
    assert len(server.ladder.contributions(X, top=2)[0]) == 2
    assert list(server.ladder.predict_frame(X).columns) == ["p_rise", "p_paid"]

    # a new champion appears: reload picks it up
    run = log_training(results[0])
    assert promote("ladder", region=toy_region).accepted
    status = server.reload()
    assert server.ladder.version == run.version
    assert status["models"]["ladder"]["version"] == run.version and status["models"]["ladder"]["error"] is None


def test_server_keeps_the_last_good_model_when_the_registry_is_down(store, monkeypatch):
    server = ModelServer()
    served = server.ladder
    assert served is not None
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    server.settings = dataclasses.replace(server.settings, mlflow_tracking_uri="http://127.0.0.1:9")  # nothing listens there
    status = server.reload()
    assert server.ladder is served
    assert "unreachable" in status["models"]["ladder"]["error"]
    assert server.ladder.predict_proba(server_input(served)).shape == (3,)


def server_input(served):
    import pandas as pd

    row = {f: served.model.reference_[f] for f in served.feature_names}
    return pd.DataFrame([row] * 3)


def test_server_keeps_the_model_when_loading_a_new_version_fails(store):
    calls = []

    def broken_loader(name, version):
        calls.append(version)
        raise OSError("artifact store offline")

    server = ModelServer()
    served = server.ladder
    server._loader = broken_loader

    class FakeVersion:
        version = "999"
        run_id = "r"
        tags = {"fairness_gate": "passed"}

    server._resolver = lambda client, name, alias: FakeVersion() if name == LADDER_NAME else None
    status = server.reload()
    assert calls == ["999"]
    assert server.ladder is served
    assert "artifact store offline" in status["models"]["ladder"]["error"]


def test_server_with_an_empty_registry_serves_nothing_and_does_not_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path))
    server = ModelServer()
    assert server.ladder is None and server.ranker is None
    assert json.dumps(server.status())


def test_configure_leaves_the_environment_as_it_was(tmp_path, monkeypatch):
    import os

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "a"))
    configure()
    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "b"))
    assert get_settings().mlflow_tracking_uri.endswith(str(tmp_path / "b" / "mlflow.db"))


# ------------------------------------------------------------- only promote makes a champion
def test_log_training_refuses_the_champion_alias(store, results):
    from models.registry import ChampionAliasError

    client = configure()
    before = client.search_model_versions(f"name='{LADDER_NAME}'")
    with pytest.raises(ChampionAliasError, match="plein promote"):
        log_training(results[0], alias="champion")
    with pytest.raises(ChampionAliasError):
        log_training(results[0], alias=" Champion ")
    assert len(client.search_model_versions(f"name='{LADDER_NAME}'")) == len(before), "nothing registered"


def test_server_refuses_a_champion_that_failed_or_skipped_the_gate(store, results, caplog):
    """Defence in depth: an alias moved by hand (MLflow UI, client) to a version the gate failed
    or never saw is not served; the previous champion is not served either."""
    client = configure()
    server = ModelServer()
    good = server.ladder
    assert good is not None
    run = log_training(results[0], alias=None)
    client.set_model_version_tag(LADDER_NAME, run.version, "fairness_gate", "failed")
    client.set_registered_model_alias(LADDER_NAME, CHAMPION, run.version)  # by hand, not by promote
    try:
        with caplog.at_level("WARNING", logger="models.serving"):
            status = server.reload()
        assert server.ladder is None
        error = status["models"]["ladder"]["error"]
        assert f"version {run.version} failed the fairness gate" in error and "plein promote" in error
        assert any("failed the fairness gate" in r.getMessage() for r in caplog.records)
        assert "failed the fairness gate" in server.unavailable_reason("ladder")
        assert ModelServer().ladder is None  # a fresh server too

        client.delete_model_version_tag(LADDER_NAME, run.version, "fairness_gate")
        assert "never through the fairness gate" in ModelServer().status()["models"]["ladder"]["error"]
    finally:
        client.set_registered_model_alias(LADDER_NAME, CHAMPION, good.version)
    assert ModelServer().ladder.version == good.version


def test_promotion_records_its_gate_verdict_for_serving(store):
    tags = configure().get_model_version(LADDER_NAME, store["run"].version).tags
    assert tags["promotion_fairness_gate"] == "passed"


def test_promote_without_a_champion_says_what_it_compared(store):
    basis = store["first_decision"].basis
    assert "no champion yet" in basis and "both" not in basis


def test_registry_status_gives_auc_as_a_number(store):
    from models.registry import registry_status

    rows = registry_status()
    champion = next(r for r in rows if r["model"] == LADDER_NAME and r["alias"] == CHAMPION)
    assert isinstance(champion["auc"], float) and 0.5 < champion["auc"] <= 1


def test_importance_plot_names_its_target(results):
    import matplotlib.pyplot as plt

    from models.registry import plot_importance

    fig = plot_importance(results[0].importance, "importance", results[0].importance_target)
    try:
        assert "P(rise)" in fig.axes[0].get_xlabel()
    finally:
        plt.close(fig)


def test_model_card_reports_the_paid_rule_and_the_rungs(results):
    from models.registry import model_card

    card = model_card(results[0])
    assert "P(paid) = P(rise)" in card and "raw output" in card
    assert "Learned from rungs: 1, 2, 3, 4, 5" in card


def test_server_stops_serving_a_version_whose_gate_tag_turns_failed(store):
    client = configure()
    server = ModelServer()
    served = server.ladder
    assert served is not None
    tags = client.get_model_version(LADDER_NAME, served.version).tags
    client.set_model_version_tag(LADDER_NAME, served.version, "promotion_fairness_gate", "failed")
    try:
        server.reload()
        assert server.ladder is None and "failed the fairness gate when promoted" in server.unavailable_reason("ladder")
    finally:
        client.set_model_version_tag(LADDER_NAME, served.version, "promotion_fairness_gate", tags["promotion_fairness_gate"])
    assert server.reload()["models"]["ladder"]["version"] == served.version
