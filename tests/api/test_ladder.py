"""Ladder prediction and worklist endpoints, with a real (small) ladder model served through
`models.serving.ModelServer`'s injection points (resolver and loader), and the 503 problem
when no model serves."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

pytest.importorskip("models.serving")


@pytest.fixture(scope="module")
def ladder_model(small_region):
    """A small ladder model fitted on the generated region, labels from its oracle."""
    from models.ladder import LadderModel
    from models.ladder_features import region_ladder_features
    from models.worklist import default_as_of

    region = small_region
    as_of = default_as_of(region)
    snaps = pd.DataFrame({"client_id": region.clients["id"].astype(str), "as_of": [as_of] * len(region.clients)})
    X = region_ladder_features(region, snaps)
    truth = region.truth_ladder.sort_values("as_of").groupby("client_id").last()
    p = truth.reindex(X["client_id"])
    y = pd.DataFrame({"rise": (p["p_rise_12m"].fillna(0).to_numpy() > 0.5).astype(int),
                      "paid": (p["p_paid_12m"].fillna(0).to_numpy() > 0.3).astype(int)})
    if y["rise"].nunique() < 2 or y["paid"].nunique() < 2:
        y = pd.DataFrame({"rise": (X["rung"].fillna(0) <= 3).astype(int), "paid": (X["rung"].fillna(0) >= 4).astype(int)})
    return LadderModel(max_iter=40, min_samples_leaf=20).fit(X, y)


@pytest.fixture
def api_with_ladder(api, ladder_model):
    from models.serving import ModelServer

    server = ModelServer(
        api.settings, load=True,
        resolver=lambda client, name, alias: SimpleNamespace(version="7", run_id="run-test") if "ladder" in name else None,
        loader=lambda name, version: ladder_model,
    )
    api.service._models = server
    return api


def test_client_ladder_prediction_with_reasons(api_with_ladder):
    api = api_with_ladder
    r = api.get("/v1/clients/c-001/ladder", "case_system")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["client_id"] == "c-001" and body["model_version"] == "7"
    assert 0 <= body["p_rise_12m"] <= 1 and 0 <= body["p_paid_12m"] <= 1
    assert body["rung"] == 3 and body["reasons"]
    entry = [e for e in api.audit_rows() if e["resource_id"] == "c-001"][-1]
    assert entry["detail"]["context"] == "ladder prediction" and entry["actor"] == "test-case_system"
    assert api.get("/v1/clients/nobody/ladder", "case_system").status_code == 404


def test_worklist_orders_by_probability(api_with_ladder):
    api = api_with_ladder
    body = api.get("/v1/coaches/coach-a1/worklist", "manager").json()
    items = body["items"]
    assert body["total"] == len(items) == 6, "coach-a1 has clients 1, 5, 9, 13, 17, 21"
    probs = [i["p_rise_12m"] for i in items]
    assert probs == sorted(probs, reverse=True)
    assert [i["rank"] for i in items] == list(range(1, 7))
    entry = [e for e in api.audit_rows() if (e["detail"] or {}).get("context") == "worklist"][-1]
    assert set(entry["detail"]["client_ids"]) == {i["client_id"] for i in items}
    assert api.get("/v1/coaches/nobody/worklist", "manager").status_code == 404


def test_models_endpoint_shows_the_served_version(api_with_ladder):
    body = api_with_ladder.get("/v1/models", "employer_services").json()
    assert body["models"]["ladder"]["version"] == "7"
    assert body["matching"] == "rules"


def test_without_a_model_the_answer_says_how_to_get_one(shared_api):
    r = shared_api.get("/v1/clients/c-001/ladder", "manager")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/model-unavailable" and "plein train" in r.json()["detail"]
    # an id that does not exist is a 404 whether or not a model serves
    assert shared_api.get("/v1/clients/nope/ladder", "manager").status_code == 404
    assert shared_api.get("/v1/coaches/nope/worklist", "manager").status_code == 404
