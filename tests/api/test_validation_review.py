"""The review's reproductions through the API (sections 6, 7, 11, 12 and the range message of
16): every write path refuses what the row validator refuses, with the row and column."""

from __future__ import annotations

import pytest


def _problem(r, status=422):
    assert r.status_code == status, r.text
    return r.json()


@pytest.mark.parametrize("client_id", ["123-456-782", "bsn-123-45-6782", "123_456_782", "1234.56.782", "123\u00a0456\u00a0782"])
def test_a_bsn_with_any_separator_is_refused_as_client_id(api, client_id):
    body = _problem(api.post("/v1/clients", "case_system", json={"id": client_id, "skills": []}))
    errors = body.get("errors", [])
    assert errors and ("BSN" in str(errors) or "spaces, slashes" in str(errors)), body


@pytest.mark.parametrize("client_id", ["c-2024-0004", "K-2024-00012", "K00000012", "client-000123456"])
def test_pseudonyms_with_counters_are_accepted(api, client_id):
    r = api.post("/v1/clients", "case_system", json={"id": client_id, "skills": []})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("fields, column", [
    ({"postcode_area": "123456782"}, "postcode_area"),
    ({"certificates": ["123456782"]}, "certificates"),
    ({"languages": ["123456782"]}, "languages"),
])
def test_a_bsn_in_a_clients_other_fields_is_refused(api, fields, column):
    body = _problem(api.post("/v1/clients", "case_system", json={"id": "K-rev-01", "skills": [], **fields}))
    assert any(e["column"] == column and "BSN" in e["reason"] for e in body["errors"]), body
    assert api.get("/v1/clients/K-rev-01", "case_system").status_code == 404


def test_a_bsn_in_an_outcome_reason_a_title_or_a_coach_id_is_refused(api):
    body = _problem(api.post("/v1/vacancies/vac-1/outcomes", "case_system",
                             json={"client_id": "c-001", "stage": "rejected", "reason": "klant met BSN 123456782 kwam niet"}))
    assert [(e["column"], "BSN" in e["reason"]) for e in body["errors"]] == [("reason", True)]
    r = api.post("/v1/vacancies/vac-1/outcomes", "case_system",
                 json={"client_id": "c-001", "stage": "rejected", "reason": "niet bereikbaar op 0612345678"})
    assert r.status_code == 201, r.text
    body = _problem(api.post("/v1/vacancies", "employer_services", json={"id": "vac-bsn", "skills": ["cook"], "title": "contact 123456782"}))
    assert [e["column"] for e in body["errors"]] == ["title"]
    body = _problem(api.post("/v1/coaches", "manager", json={"id": "123456782"}))
    assert [e["column"] for e in body["errors"]] == ["id"] and "BSN" in body["errors"][0]["reason"]


def test_postcode_area_takes_only_a_pc4(api):
    for value in ("Dorpsstraat 5, 7201AB Zutphen", "7201 AB 12"):
        body = _problem(api.post("/v1/clients", "case_system", json={"id": "K-rev-03", "skills": [], "postcode_area": value}))
        assert [e["column"] for e in body["errors"]] == ["postcode_area"]
        assert "four-digit postcode area (PC4)" in body["errors"][0]["reason"]
    r = api.post("/v1/clients", "case_system", json={"id": "K-rev-03", "skills": [], "postcode_area": "7201"})
    assert r.status_code == 201 and r.json()["postcode_area"] == "7201"


def test_bulk_import_refuses_ids_the_api_cannot_serve(api):
    csv = "id,skills\nK/imp 4,\nK?x#1,\nK-ok,\n"
    body = _problem(api.post("/v1/clients/import", "case_system", content=csv, headers={"content-type": "text/csv"}))
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "id"), (3, "id")]
    assert "spaces, slashes, '?', '#', '%'" in body["errors"][0]["reason"]
    assert api.get("/v1/clients/K-ok", "case_system").status_code == 404, "all or nothing"
    body = _problem(api.post("/v1/clients/import", "case_system", json={"rows": [{"id": "k 5", "skills": []}]}))
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(1, "id")]


def test_vacancies_that_make_no_sense_are_refused(api):
    base = {"skills": ["operate forklift"]}
    body = _problem(api.post("/v1/vacancies", "employer_services",
                             json={"id": "vac-r2", **base, "open_date": "2026-11-01", "close_date": "2026-01-01"}))
    assert [e["column"] for e in body["errors"]] == ["close_date"] and "before open_date 2026-11-01" in body["errors"][0]["reason"]
    body = _problem(api.post("/v1/vacancies", "employer_services", json={"id": "vac-r5", **base, "lat": 52.14}))
    assert [e["column"] for e in body["errors"]] == ["lon"]
    body = _problem(api.post("/v1/vacancies", "employer_services", json={"id": "vac-r3", **base, "min_dutch_level": "unknown"}))
    assert "min_dutch_level" in str(body["errors"])
    # moving a stored vacancy takes both coordinates
    body = _problem(api.patch("/v1/vacancies/vac-1", "employer_services", json={"lat": 52.2}))
    assert [e["column"] for e in body["errors"]] == ["lon"]
    r = api.patch("/v1/vacancies/vac-1", "employer_services", json={"lat": 52.21234, "lon": 6.21234})
    assert r.status_code == 200 and (r.json()["lat"], r.json()["lon"]) == (52.21234, 6.21234)
    # a client's half point too
    body = _problem(api.post("/v1/clients", "case_system", json={"id": "K-half", "skills": [], "lon": 6.2}))
    assert [e["column"] for e in body["errors"]] == ["lat"]


def test_every_error_of_a_vacancy_import_at_once(api):
    empty = {"open_date": None, "close_date": None, "lat": None, "lon": None, "min_dutch_level": None}
    rows = [
        {**empty, "id": "vac-a", "skills": ["cook"], "open_date": "2026-11-01", "close_date": "2026-01-01"},
        {**empty, "id": "vac-b", "skills": ["cook"], "lat": 52.14},
        {**empty, "id": "vac-c", "skills": ["cook"], "min_dutch_level": "unknown", "lat": 52.1, "lon": 6.2},
    ]
    body = _problem(api.post("/v1/vacancies/import", "employer_services", json={"rows": rows}))
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(1, "close_date"), (2, "lon"), (3, "min_dutch_level")]


def test_a_clients_home_is_stored_at_postcode_area_precision(api):
    r = api.post("/v1/clients", "case_system", json={"id": "K-home", "skills": [], "lat": 52.14132, "lon": 6.21626})
    assert r.status_code == 201, r.text
    body = api.get("/v1/clients/K-home", "case_system").json()
    assert (body["lat"], body["lon"]) == (52.14, 6.22)
    r = api.patch("/v1/clients/K-home", "case_system", json={"lat": 52.15678, "lon": 6.19321})
    assert (r.json()["lat"], r.json()["lon"]) == (52.16, 6.19)


def test_a_number_out_of_range_names_the_range(api):
    body = _problem(api.post("/v1/clients/import", "case_system", json={"rows": [{"id": "K-j-2", "skills": [], "hours_available": 1e12}]}))
    assert [(e["column"], e["reason"]) for e in body["errors"]] == [("hours_available", "must be between 0 and 60")]


def test_a_patched_close_date_is_checked_against_the_stored_open_date(api):
    r = api.patch("/v1/vacancies/vac-1", "employer_services", json={"close_date": "2000-01-01"})
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["column"] == "close_date" and "comes before the stored open_date" in err["reason"]
    assert api.get("/v1/vacancies/vac-1", "employer_services").json()["close_date"] is None
