"""The commands on a generated region: evaluate --json, train, promote, worklist."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from plein.cli import app

ARGS = ["--clients", "1500", "--seed", "7"]


@pytest.fixture(scope="module")
def runner(mlflow_store):
    return CliRunner()


def test_evaluate_ladder_json_has_model_baseline_oracle_and_ece(runner):
    res = runner.invoke(app, ["evaluate", "ladder", "--json", *ARGS])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("auc", "oracle_auc", "baseline_auc", "ece", "auc_rise", "auc_paid", "oracle_auc_paid", "baseline_auc_paid", "ece_paid"):
        assert isinstance(out[key], float) and 0 <= out[key] <= 1, key
    assert out["model"] == "plein-ladder" and out["split"]["n_train"] > 0
    assert set(out["fairness"]["attributes"]) == {"gender", "migration_background", "age_band"}
    assert isinstance(out["fairness_gate"]["passed"], bool)
    assert set(out["fairness"]["paid"]["attributes"]) == {"gender", "migration_background", "age_band"}


def test_train_promote_and_worklist(runner, mlflow_store):
    res = runner.invoke(app, ["train", "ladder", *ARGS])
    assert res.exit_code == 0, res.output
    assert "registered as plein-ladder version 1 (alias challenger)" in " ".join(res.output.split())
    assert "P(paid) audit at" in res.output and "(reported, not gated): four-fifths ratios gender" in " ".join(res.output.split())

    res = runner.invoke(app, ["promote", "ladder", *ARGS])
    promoted = res.exit_code == 0
    if promoted:
        assert "version 1 promoted to champion" in res.output
    else:  # refused: it must say why
        assert res.exit_code == 1 and "NOT promoted" in res.output and "\n  - " in res.output

    # `plein models --json` gives the registered version's auc as a number (it was a string)
    res = runner.invoke(app, ["models", "--json"])
    assert res.exit_code == 0, res.output
    registered = [r for r in json.loads(res.output) if r["version"] is not None]
    assert registered and all(isinstance(r["auc"], float) for r in registered), registered
    assert "auc 0." in runner.invoke(app, ["models"]).output

    res = runner.invoke(app, ["worklist", "coach-001", "--json", "--top", "5", *ARGS])
    if promoted:
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert out["model_version"] == "1" and 0 < len(out["clients"]) <= 5
        probs = [c["p_rise"] for c in out["clients"]]
        assert probs == sorted(probs, reverse=True) and all(c["reasons"] for c in out["clients"])
    else:
        assert res.exit_code == 2 and "plein promote ladder" in res.output


def test_promote_without_a_challenger_refuses_and_says_why(runner):
    res = runner.invoke(app, ["promote", "ranker", "--logged-metrics"])
    assert res.exit_code == 1
    assert "no version of plein-ranker has the alias 'challenger'" in res.output


def test_unknown_coach_is_a_clear_error(runner):
    res = runner.invoke(app, ["worklist", "nobody", *ARGS])
    assert res.exit_code != 0


def test_train_refuses_the_champion_alias_and_points_to_promote(runner):
    res = runner.invoke(app, ["train", "ladder", "--alias", "champion", *ARGS])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "plein promote" in out and "champion" in out
    assert "MLflow run" not in out  # refused before training or logging anything
