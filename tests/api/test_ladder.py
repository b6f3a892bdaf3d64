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


@pytest.fixture(scope="module")
def low_rung_model(small_region):
    """A model that learned from rungs 1-4 only, as the generated demo region's (its oracle
    snapshots are on rungs 1-4)."""
    from models.ladder import LadderModel
    from models.training import ladder_dataset

    ds = ladder_dataset(small_region)
    assert set(ds.X["rung"].dropna().astype(int)) <= {1, 2, 3, 4}
    return LadderModel(max_iter=40, min_samples_leaf=20).fit(ds.X, ds.y)


def serve(api, model, tags=None):
    """Serve `model` as ladder version 7 of `api`, through ModelServer's injection points; the
    version passed the fairness gate unless `tags` say otherwise."""
    from models.serving import ModelServer

    tags = {"fairness_gate": "passed"} if tags is None else tags
    server = ModelServer(
        api.settings, load=True,
        resolver=lambda client, name, alias: SimpleNamespace(version="7", run_id="run-test", tags=tags) if "ladder" in name else None,
        loader=lambda name, version: model,
    )
    api.service._models = server
    return api


@pytest.fixture
def api_with_ladder(api, ladder_model):
    return serve(api, ladder_model)


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


# ------------------------------------------------------- rungs without a (learned) prediction
def test_top_rung_client_gets_no_probability_and_is_told_why(api_with_ladder):
    body = api_with_ladder.get("/v1/clients/c-004/ladder", "case_system").json()  # rung 6
    assert body["rung"] == 6
    assert body["p_rise_12m"] is None and body["p_paid_12m"] is None
    assert "top rung" in body["note"] and body["reasons"] == [body["note"]]


def test_worklist_puts_top_rung_clients_last_without_probabilities(api_with_ladder):
    items = api_with_ladder.get("/v1/coaches/coach-b2/worklist", "manager").json()["items"]  # all on rung 6
    assert items and all(i["rung"] == 6 and i["p_rise_12m"] is None and "top rung" in i["note"] for i in items)


def test_served_paid_never_exceeds_rise_on_rungs_1_to_4(api_with_ladder):
    items = api_with_ladder.get("/v1/coaches/coach-a2/worklist", "manager").json()["items"]  # all on rung 4
    assert items and all(i["rung"] == 4 for i in items)
    assert all(i["p_paid_12m"] == pytest.approx(i["p_rise_12m"]) for i in items), "at rung 4 paid work is the rise"
    body = api_with_ladder.get("/v1/clients/c-001/ladder", "case_system").json()  # rung 3
    assert body["p_paid_12m"] <= body["p_rise_12m"]


def test_prediction_for_a_rung_the_model_never_learned_from_is_flagged(api, low_rung_model):
    serve(api, low_rung_model)
    body = api.get("/v1/clients/c-003/ladder", "case_system").json()  # rung 5
    assert body["rung"] == 5 and body["p_rise_12m"] is not None
    assert body["note"].startswith("extrapolation:") and "rungs 1-4" in body["note"] and "rung 5" in body["note"]
    assert body["reasons"][0] == body["note"]
    items = api.get("/v1/coaches/coach-b1/worklist", "manager").json()["items"]  # rung 5
    assert items and all(i["note"] and i["note"].startswith("extrapolation:") for i in items)
    assert api.get("/v1/clients/c-001/ladder", "case_system").json()["note"] is None  # rung 3: learned from


def test_client_who_is_not_active_gets_no_prediction(make_api, ladder_model):
    from api.testing import tiny_region

    region = tiny_region()
    region.clients.loc[region.clients["id"] == "c-005", "status"] = "exited"
    api = serve(make_api(region=region), ladder_model)
    r = api.get("/v1/clients/c-005/ladder", "case_system")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["p_rise_12m"] is None and body["p_paid_12m"] is None
    assert "status is exited" in body["note"] and "active clients only" in body["note"]
    assert "c-005" not in {i["client_id"] for i in api.get("/v1/coaches/coach-a1/worklist", "manager").json()["items"]}


def test_a_version_that_failed_the_gate_is_not_served(api, ladder_model):
    serve(api, ladder_model, tags={"fairness_gate": "failed"})
    r = api.get("/v1/clients/c-001/ladder", "case_system")
    assert r.status_code == 503 and r.json()["type"] == "/problems/model-unavailable"
    assert api.get("/v1/coaches/coach-a1/worklist", "manager").status_code == 503
