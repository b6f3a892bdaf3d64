"""What the service says about its models: readiness names the versions served (it said
"serving {}" whatever was loaded), and a version the fairness gate failed is not served."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("models.serving")


class _Model:
    """Stands in for a loaded model: the server checks only these two attributes."""

    feature_names_ = ["rung"]

    def predict_proba(self, X):  # pragma: no cover - never called here
        raise AssertionError


def _serve(api, versions: dict[str, tuple[str, dict]]):
    """Serve fake models on `api`: kind -> (version, registry tags)."""
    from models.serving import ModelServer

    def resolver(client, name, alias):
        for kind, (version, tags) in versions.items():
            if kind in name:
                return SimpleNamespace(version=version, run_id=f"run-{version}", tags=tags)
        return None

    api.service._models = ModelServer(api.settings, load=True, resolver=resolver, loader=lambda name, version: _Model())
    return api


def _models_check(api) -> str:
    r = api.get("/v1/ready", "admin")
    assert r.status_code in (200, 503), r.text  # 503 while the matcher builds; the checks are there either way
    return r.json()["checks"]["models"]["detail"]


def test_ready_names_the_versions_served(api):
    passed = {"fairness_gate": "passed"}
    _serve(api, {"ranker": ("2", passed), "ladder": ("3", passed)})
    detail = _models_check(api)
    assert "serving plein-ranker version 2 and plein-ladder version 3" in detail
    assert "{}" not in detail


def test_ready_says_what_is_not_served_and_why(api):
    _serve(api, {"ladder": ("3", {"fairness_gate": "failed"})})
    detail = _models_check(api)
    assert detail.startswith("serving no model")
    assert "no ranker (no version holds the alias 'champion'): candidate lists ranked by the rule-based score" in detail
    assert "no ladder (not serving plein-ladder: version 3 failed the fairness gate" in detail
    assert "no ladder predictions" in detail


def test_models_endpoint_shows_a_refused_version_as_not_serving(api):
    _serve(api, {"ladder": ("3", {}), "ranker": ("2", {"fairness_gate": "failed", "promotion_fairness_gate": "passed"})})
    body = api.get("/v1/models", "data_scientist").json()
    ladder = body["models"]["ladder"]
    assert ladder["version"] is None and "never through the fairness gate" in ladder["error"]
    # the promotion's verdict on current data counts over the training run's
    assert body["models"]["ranker"]["version"] == "2" and body["matching"] == "model:2"
