"""The role matrix, enforced endpoint by endpoint: for every route in `api.roles.ROLE_MATRIX`
and every role, an allowed role gets past authorisation and every other role gets 403; no key
gets 401 (or, on dashboard pages, the log-in page)."""

from __future__ import annotations

import re

import pytest

from api.roles import PUBLIC, ROLE_MATRIX, Role
from api.routers.dashboard import csrf_token

IDS = {
    "client_id": "c-001",
    "coach_id": "coach-a1",
    "team_id": "team-zorg",
    "employer_id": "emp-1",
    "vacancy_id": "vac-1",
    "job_id": "no-such-job",
    "proposal_id": "no-such-proposal",
}

#: request bodies that pass authorisation but are refused by validation, so the matrix test
#: changes nothing (JSON routes) - or form fields (dashboard routes)
INVALID_JSON = {"not_a_field": 1}
FORMS = {
    "/dashboard/optimise": {"mode": "not-a-mode"},
    "/dashboard/proposals/{proposal_id}/decision": {"action": "not-an-action"},
    "/dashboard/vacancies/{vacancy_id}/outcomes": {"client_id": "", "stage": "not-a-stage"},
    "/dashboard/login": {"api_key": "wrong"},
}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: IDS[m.group(1)], path)


def _call(env, method: str, path: str, key: str | None):
    url = _url(path)
    dashboard = path.startswith("/dashboard")
    # the shared client keeps cookies: a log-in by another test on this worker would make the
    # "anonymous" call a signed-in one (seen: 403 for a form without its token, not 303)
    env.client.cookies.clear()
    headers = {}
    if key is not None:
        if dashboard:
            headers["Cookie"] = f"plein_key={key}"
        else:
            headers["Authorization"] = f"Bearer {key}"
    if method == "GET":
        return env.client.get(url, headers=headers, follow_redirects=False)
    if dashboard:
        form = dict(FORMS.get(path, {}))
        if key is not None:
            form["csrf"] = csrf_token(key)
            if path == "/dashboard/login":
                form["api_key"] = key
        return env.client.post(url, headers=headers, data=form, follow_redirects=False)
    if path.endswith("/import"):
        return env.client.post(url, headers={**headers, "Content-Type": "application/json"}, content=b'{"rows": []}')
    return env.client.request(method, url, headers=headers, json=INVALID_JSON)


ENTRIES = sorted(ROLE_MATRIX.items(), key=lambda kv: (kv[0][1], kv[0][0]))


@pytest.mark.parametrize(("endpoint", "allowed"), ENTRIES, ids=[f"{m} {p}" for (m, p), _ in ENTRIES])
def test_role_matrix(shared_api, endpoint, allowed):
    method, path = endpoint
    dashboard = path.startswith("/dashboard")

    anonymous = _call(shared_api, method, path, None)
    if allowed == PUBLIC:
        # the log-in form answers 401 to a wrong key: that is about the key, not a role
        expected_refusals = (403,) if path == "/dashboard/login" else (401, 403)
        assert anonymous.status_code not in expected_refusals, anonymous.text
    elif dashboard:
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/dashboard/login")
    else:
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")

    for role in Role:
        r = _call(shared_api, method, path, shared_api.keys[role.value])
        if allowed == PUBLIC or role in allowed:
            assert r.status_code not in (401, 403), f"{role.value} should be allowed on {method} {path}: {r.status_code} {r.text[:300]}"
        else:
            assert r.status_code == 403, f"{role.value} must be refused on {method} {path}: {r.status_code} {r.text[:300]}"
            if dashboard:
                assert "Not allowed for your role" in r.text
            else:
                body = r.json()
                assert r.headers["content-type"] == "application/problem+json"
                assert body["type"] == "/problems/forbidden"
                assert body["allowed_roles"] == sorted(x.value for x in allowed)
                assert role.value in body["detail"]


def test_invalid_and_revoked_keys_are_refused(api):
    from api.auth import KeyStore, revoke_key

    r = api.client.get("/v1/clients", headers={"X-API-Key": "not-a-real-key-at-all-1234567890"})
    assert r.status_code == 401
    assert "not valid" in r.json()["detail"]
    assert api.get("/v1/me", "case_system").json() == {"name": "test-case_system", "role": "case_system"}
    revoke_key(api.engine, "test-case_system")
    r = api.get("/v1/me", "case_system")
    assert r.status_code == 401, "a revoked key must stop working at once in this process"
    KeyStore.invalidate_all()


def test_every_route_must_be_in_the_matrix(shared_api):
    from fastapi import APIRouter

    from api.app import check_role_matrix

    check_role_matrix(shared_api.app)  # the real app is complete
    extra = APIRouter()

    @extra.get("/v1/unguarded")
    def unguarded():  # pragma: no cover - never called
        return {}

    shared_api.app.include_router(extra)
    try:
        with pytest.raises(RuntimeError, match="/v1/unguarded"):
            check_role_matrix(shared_api.app)
    finally:
        shared_api.app.router.routes.pop()


def test_openapi_lists_allowed_roles(shared_api):
    doc = shared_api.client.get("/openapi.json").json()
    op = doc["paths"]["/v1/proposals/{proposal_id}/approve"]["post"]
    assert op["x-allowed-roles"] == ["manager"]
    assert doc["paths"]["/v1/health"]["get"]["x-allowed-roles"] == ["public"]
