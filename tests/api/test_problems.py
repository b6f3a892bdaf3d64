"""Every error is an RFC 9457 problem document a person can act on."""

from __future__ import annotations

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(r, status: int, type_slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert PROBLEM_KEYS <= set(body), body
    assert body["status"] == status
    assert body["type"] == f"/problems/{type_slug}"
    assert body["instance"] == r.request.url.path
    assert len(body["detail"]) > 20, "a detail must say what to do, not just repeat the status"
    return body


def test_unauthenticated_is_401_problem(shared_api):
    body = assert_problem(shared_api.client.get("/v1/clients"), 401, "unauthenticated")
    assert "Authorization: Bearer" in body["detail"]


def test_unknown_endpoint_and_method(shared_api):
    body = assert_problem(shared_api.client.get("/v2/clients"), 404, "not-found")
    assert "/v1" in body["detail"]
    r = shared_api.client.delete("/v1/clients/c-001", headers=shared_api.headers("admin"))
    body = assert_problem(r, 405, "method-not-allowed")
    assert "DELETE" in body["detail"]
    # every method the path takes (Starlette named only the first route's: "Allowed: GET.")
    assert r.headers["allow"] == "GET, HEAD, PATCH" and body["detail"].endswith("Allowed: GET, HEAD, PATCH.")
    r = shared_api.client.put("/v1/clients", headers=shared_api.headers("admin"))
    assert assert_problem(r, 405, "method-not-allowed") and r.headers["allow"] == "GET, HEAD, POST"


def test_missing_resource_names_the_id(shared_api):
    body = assert_problem(shared_api.get("/v1/clients/does-not-exist", "case_system"), 404, "not-found")
    assert "does-not-exist" in body["detail"]
    assert body["resource"] == "client"


def test_validation_error_lists_every_field(shared_api):
    r = shared_api.post(
        "/v1/clients",
        "case_system",
        json={"id": "new-1", "skills": ["cook"], "hours_available": 99, "benefit_type": "pension", "skils": []},
    )
    body = assert_problem(r, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert {"hours_available", "benefit_type", "skils"} <= fields, body["errors"]
    for e in body["errors"]:
        assert e["location"] == "body" and e["message"]
    assert "3 fields are invalid" in body["detail"]


def test_an_id_and_broken_json_are_explained_in_words(shared_api):
    body = assert_problem(shared_api.post("/v1/clients", "case_system", json={"id": "a b", "skills": []}), 422, "validation-error")
    assert body["errors"][0]["field"] == "id" and "spaces, slashes, '?', '#', '%', backslashes and control characters are not" in body["errors"][0]["message"]
    assert "^[" not in body["detail"], "not the raw pattern"
    r = shared_api.client.post("/v1/clients", headers={**shared_api.headers("case_system"), "content-type": "application/json"},
                               content=b'{"id": "x", ')
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"][0]["field"] == "(body)" and "not valid JSON at character 12" in body["errors"][0]["message"]


def test_query_validation_error(shared_api):
    body = assert_problem(shared_api.get("/v1/clients?limit=0", "admin"), 422, "validation-error")
    assert body["errors"][0]["field"] == "limit"
    assert body["errors"][0]["location"] == "query"


def test_body_size_limit(make_api):
    env = make_api(max_body_bytes=1000)
    big = "id,skills\n" + "".join(f"x-{i},cook\n" for i in range(200))
    # announced size
    r = env.client.post("/v1/clients/import", headers={**env.headers("case_system"), "Content-Type": "text/csv"}, content=big)
    body = assert_problem(r, 413, "payload-too-large")
    assert body["max_bytes"] == 1000
    # streamed without a Content-Length: counted while reading

    def chunks():
        for i in range(0, len(big), 100):
            yield big[i : i + 100].encode()

    r = env.client.post("/v1/clients/import", headers={**env.headers("case_system"), "Content-Type": "text/csv"}, content=chunks())
    assert_problem(r, 413, "payload-too-large")
    # nothing was imported
    assert env.get("/v1/clients?limit=1", "admin").json()["total"] == 24


def test_problem_types_are_documented(shared_api):
    r = shared_api.client.get("/problems/stale-proposal")
    assert r.status_code == 200
    assert "Start a new optimisation" in r.text


def test_server_error_is_a_problem_without_internals(api, monkeypatch):
    from fastapi.testclient import TestClient

    env = api
    def boom(*a, **k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("api.routers._entities.fetch_one", boom)
    with TestClient(env.app, raise_server_exceptions=False) as c:
        r = c.get("/v1/clients/c-001", headers=env.headers("admin"))
    body = assert_problem(r, 500, "server-error")
    assert "secret internal detail" not in r.text
    assert body["request_id"] in body["detail"]


def test_a_protected_attribute_sent_to_the_api_gets_the_privacy_pointer(shared_api):
    r = shared_api.post("/v1/clients", "case_system", json={"id": "new-2", "skills": [], "gender": "female"})
    body = assert_problem(r, 422, "validation-error")
    err = next(e for e in body["errors"] if e["field"] == "gender")
    assert "protected attribute" in err["message"] and "client_protected" in err["message"]
    assert shared_api.get("/v1/clients/new-2", "case_system").status_code == 404
