"""Matching endpoints: the candidate list (full reasons vs. the employer-services card without
sensitive fields), vacancies for a client, outcomes; and the audit log of every client read."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matching.engine")

CARD_FIELDS = {
    "view", "client_id", "rank", "score", "matched_skills", "missing_skills", "matched_optional_skills",
    "transferable_skills", "distance_band", "ready", "reasons",
}
#: words that would reveal a sensitive field on an employer-services card
SENSITIVE = ("ww", "bijstand", "benefit", "rung", "ladder", "complexity", "gender", "migration", "lat", "lon",
             "postcode", "age", "newcomer", "special_group", "GM0")


def test_employer_services_get_cards_without_sensitive_fields(shared_api):
    r = shared_api.get("/v1/vacancies/vac-1/candidates?limit=10", "employer_services")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["items"], "the tiny region has care clients for the care vacancy"
    for card in body["items"]:
        assert set(card) == CARD_FIELDS
        assert card["view"] == "card"
        assert card["distance_band"] in ("under 5 km", "5-15 km", "15-30 km", "over 30 km", "unknown")
        assert card["ready"] in (True, False, None)
        text = json.dumps(card).lower()
        for word in SENSITIVE:
            assert f'"{word.lower()}' not in text and f" {word.lower()} " not in text, (word, card)
    assert [c["rank"] for c in body["items"]] == list(range(1, len(body["items"]) + 1))


def test_other_roles_get_the_full_reasons(shared_api):
    body = shared_api.get("/v1/vacancies/vac-1/candidates?limit=10", "case_system").json()
    first = body["items"][0]
    assert first["view"] == "full"
    assert {"matched_essential_skills", "readiness", "score_contributions", "distance_km"} <= set(first["reasons"])
    # the same ranking in both views
    cards = shared_api.get("/v1/vacancies/vac-1/candidates?limit=10", "employer_services").json()["items"]
    assert [c["client_id"] for c in cards] == [i["client_id"] for i in body["items"]]


def test_candidate_list_reads_are_audited_with_client_ids(api):
    items = api.get("/v1/vacancies/vac-2/candidates?limit=5", "employer_services").json()["items"]
    entry = [r for r in api.audit_rows() if (r["detail"] or {}).get("context") == "candidate list"][-1]
    assert entry["actor"] == "test-employer_services" and entry["role"] == "employer_services"
    assert entry["action"] == "read" and entry["resource"] == "client"
    assert entry["detail"]["client_ids"] == [i["client_id"] for i in items]
    assert entry["detail"]["vacancy_id"] == "vac-2" and entry["detail"]["view"] == "card"
    assert entry["at"] is not None


def test_the_audit_log_answers_who_saw_a_client_lists_included(api):
    """An access request asks who saw client X: their own reads and every list they were on
    (until 2026-12-07 `resource_id` found only the single reads: 1 of 85 in the review)."""
    items = api.get("/v1/vacancies/vac-2/candidates?limit=5", "employer_services").json()["items"]
    seen = items[0]["client_id"]
    api.get(f"/v1/clients/{seen}", "case_system")
    api.get("/v1/clients/c-005", "case_system")
    page = api.get(f"/v1/audit?client_id={seen}", "admin").json()
    got = {(r["actor"], (r["detail"] or {}).get("context")) for r in page["items"]}
    assert ("test-employer_services", "candidate list") in got and any(a == "test-case_system" for a, _ in got)
    assert all(r["resource_id"] == seen or seen in r["detail"]["client_ids"] for r in page["items"])
    assert page["total"] == len(page["items"]) >= 2
    # the single-read filter stays as it was; an id that is a prefix of another finds only itself
    assert api.get(f"/v1/audit?resource=client&resource_id={seen}", "admin").json()["total"] == 1
    assert all(r["resource_id"] != seen for r in api.get("/v1/audit?client_id=c-00", "admin").json()["items"])
    assert api.get("/v1/audit?client_id=c-00", "admin").json()["total"] == 0
    assert api.get(f"/v1/audit?client_id={seen}", "manager").status_code == 403


def test_client_reads_are_audited(api):
    api.get("/v1/clients/c-005", "case_system")
    api.get("/v1/clients?coach_id=coach-a2&limit=3", "manager")
    rows = api.audit_rows()
    single = [r for r in rows if r["resource_id"] == "c-005" and r["action"] == "read"]
    assert single and single[-1]["actor"] == "test-case_system"
    listing = [r for r in rows if (r["detail"] or {}).get("context") == "list clients"][-1]
    assert listing["actor"] == "test-manager" and listing["detail"]["count"] == 3
    assert listing["detail"]["filters"] == {"coach_id": "coach-a2", "limit": 3, "offset": 0}
    # reading other entities is not client data
    before = len(api.audit_rows())
    api.get("/v1/teams", "manager")
    assert len(api.audit_rows()) == before
    # admins read the log through the API
    page = api.get("/v1/audit?resource=client&resource_id=c-005", "admin").json()
    assert page["total"] >= 1 and page["items"][0]["resource_id"] == "c-005"


def test_unknown_vacancy_and_client(shared_api):
    r = shared_api.get("/v1/vacancies/nope/candidates", "manager")
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    assert shared_api.get("/v1/clients/nope/vacancies", "manager").status_code == 404


def test_vacancies_for_a_client(shared_api):
    body = shared_api.get("/v1/clients/c-002/vacancies", "case_system").json()
    ids = [v["vacancy_id"] for v in body["items"]]
    assert ids and ids[0] == "vac-2", "a forklift driver gets the forklift vacancy first"
    assert "vac-old" not in ids, "closed vacancies are not suggested"
    assert body["items"][0]["reasons"]["matched_essential_skills"]


def test_record_outcomes(api):
    r = api.post("/v1/vacancies/vac-1/outcomes", "employer_services", json={"client_id": "c-003", "stage": "shortlisted"})
    assert r.status_code == 201, r.text
    assert r.json()["recorded_by"] == "test-employer_services" and r.json()["stage"] == "shortlisted"
    r = api.post("/v1/vacancies/vac-1/outcomes", "employer_services", json={"client_id": "c-003", "stage": "rejected"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = api.post("/v1/vacancies/vac-1/outcomes", "employer_services", json={"client_id": "ghost", "stage": "invited"})
    assert r.status_code == 404
    listed = api.get("/v1/vacancies/vac-1/outcomes", "manager").json()
    assert listed["total"] == 1 and listed["items"][0]["client_id"] == "c-003"


def test_an_exited_client_gets_no_first_outcome_but_their_history_may_close(api):
    # c-003 is shortlisted, then leaves the caseload: the rejection that closes the pair is
    # recorded; a first outcome for them on another vacancy is refused, naming the client
    assert api.post("/v1/vacancies/vac-1/outcomes", "employer_services", json={"client_id": "c-003", "stage": "shortlisted"}).status_code == 201
    assert api.patch("/v1/clients/c-003", "case_system", json={"status": "exited"}).status_code == 200
    r = api.post("/v1/vacancies/vac-1/outcomes", "employer_services",
                 json={"client_id": "c-003", "stage": "rejected", "reason": "left the caseload"})
    assert r.status_code == 201, r.text
    r = api.post("/v1/vacancies/vac-2/outcomes", "employer_services", json={"client_id": "c-003", "stage": "hired"})
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "client_id" and "has left the caseload (status exited)" in err["message"]
    assert api.get("/v1/vacancies/vac-2/outcomes", "manager").json()["total"] == 0


def test_an_outcome_on_a_day_that_cannot_be_is_refused(api):
    import datetime as dt

    today = dt.date.today()
    cases = [("vac-1", "hired", today + dt.timedelta(days=30), "has not come yet"),
             ("vac-1", "invited", today - dt.timedelta(days=40), "opened on"),
             ("vac-old", "hired", today - dt.timedelta(days=50), "closed on")]
    for vacancy, stage, day, says in cases:
        r = api.post(f"/v1/vacancies/{vacancy}/outcomes", "employer_services",
                     json={"client_id": "c-003", "stage": stage, "date": day.isoformat()})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "date" and says in r.json()["errors"][0]["message"]
    assert api.get("/v1/vacancies/vac-old/outcomes", "manager").json()["total"] == 0
    # a rejection may come after the close; a hire before it is history, recorded late
    r = api.post("/v1/vacancies/vac-old/outcomes", "employer_services",
                 json={"client_id": "c-003", "stage": "rejected", "reason": "employer chose other", "date": (today - dt.timedelta(days=50)).isoformat()})
    assert r.status_code == 201, r.text
    r = api.post("/v1/vacancies/vac-old/outcomes", "employer_services",
                 json={"client_id": "c-005", "stage": "hired", "date": (today - dt.timedelta(days=120)).isoformat()})
    assert r.status_code == 201, r.text


def test_a_card_says_how_many_skills_it_leaves_unnamed():
    from api.routers.matching import candidate_card

    names = [f"skill {i}" for i in range(8)]
    card = candidate_card({"client_id": "c-1", "rank": 1, "score": 0.5, "reasons": {
        "matched_essential_skills": names[:6], "essential_matched": 6, "missing_essential_skills": names[6:],
        "essential_missing": 6, "matched_optional_skills": ["a", "b"], "distance_km": 3.0}})
    reasons = card["reasons"]
    assert "holds 6 of the 12 essential skills: skill 0, skill 1, skill 2, skill 3, skill 4 and 1 more" in reasons
    assert "does not list: skill 6, skill 7 and 4 more" in reasons
    assert "also holds optional skills: a, b" in reasons  # a whole list says no more
