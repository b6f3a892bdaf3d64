"""Clients, coaches, teams, employers, vacancies: read, create, update, bulk import, with the
importer's validation, pagination and filters."""

from __future__ import annotations


def test_pagination_walks_every_client_once(shared_api):
    seen, offset, pages = [], 0, 0
    while offset is not None:
        body = shared_api.get(f"/v1/clients?limit=7&offset={offset}", "case_system").json()
        assert body["total"] == 24
        assert body["limit"] == 7 and len(body["items"]) <= 7
        seen += [c["id"] for c in body["items"]]
        offset = body["next_offset"]
        pages += 1
    assert pages == 4
    assert seen == sorted(seen) and len(set(seen)) == 24


def test_filters(shared_api):
    body = shared_api.get("/v1/clients?coach_id=coach-a1&benefit_type=ww", "manager").json()
    assert body["total"] > 0
    assert all(c["coach_id"] == "coach-a1" and c["benefit_type"] == "ww" for c in body["items"])
    open_ids = {v["id"] for v in shared_api.get("/v1/vacancies?open=true", "employer_services").json()["items"]}
    assert "vac-old" not in open_ids and {"vac-1", "vac-2", "vac-3"} <= open_ids
    closed = shared_api.get("/v1/vacancies?open=false", "employer_services").json()["items"]
    assert [v["id"] for v in closed] == ["vac-old"]


def test_client_has_no_protected_attributes(shared_api):
    body = shared_api.get("/v1/clients/c-001", "case_system").json()
    assert body["id"] == "c-001"
    assert "gender" not in body and "migration_background" not in body


def test_create_then_read_then_update(api):
    new = {"id": "c-new", "skills": ["provide personal care"], "benefit_type": "bijstand", "coach_id": "coach-a2",
           "work_history": [{"occupation": "cook", "years": 3}]}
    r = api.post("/v1/clients", "case_system", json=new)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/clients/c-new"
    body = r.json()
    assert body["hours_available"] == 32, "omitted fields take the schema default"
    assert body["work_history"] == [{"occupation": "cook", "years": 3.0}]

    r = api.post("/v1/clients", "case_system", json=new)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-exists"

    r = api.patch("/v1/clients/c-new", "case_system", json={"ladder_rung": 4, "coach_id": "coach-a2"})
    assert r.status_code == 200, r.text
    assert r.json()["ladder_rung"] == 4 and r.json()["coach_id"] == "coach-a2", "the same coach is no change"
    assert r.json()["benefit_type"] == "bijstand", "fields not sent are left alone"
    assert api.get("/v1/clients/c-new", "manager").json()["ladder_rung"] == 4


def test_a_clients_coach_changes_only_by_an_approved_proposal(api):
    """The case system may create a client with its coach, but not give a stored client
    another coach (or none): that is a caseload change, a manager's decision, and only an
    approved proposal makes it (and writes the assignment history)."""
    for coach in ("coach-b1", None):
        r = api.patch("/v1/clients/c-001", "case_system", json={"coach_id": coach, "ladder_rung": 5})
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert err["column"] == "coach_id" and "coach-a1" in err["reason"] and "manager approves" in err["reason"]
        assert api.get("/v1/clients/c-001", "case_system").json()["ladder_rung"] != 5, "nothing written"
    # a bulk import too, all or nothing: row 3 would move c-002, so row 2 is not written either
    csv = "id,skills,coach_id,ladder_rung\nc-001,provide personal care,coach-a1,5\nc-002,provide personal care,coach-b2,5\n"
    r = api.post("/v1/clients/import", "case_system", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "coach_id")]
    assert api.get("/v1/clients/c-001", "case_system").json()["ladder_rung"] != 5


def test_update_unknown_is_404_and_references_are_checked(api):
    assert api.patch("/v1/clients/nobody", "case_system", json={"ladder_rung": 2}).status_code == 404
    r = api.patch("/v1/clients/c-001", "case_system", json={"coach_id": "no-such-coach"})
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "/problems/import-rejected"
    assert body["errors"][0]["column"] == "coach_id"
    assert "no-such-coach" in body["errors"][0]["reason"]
    assert api.get("/v1/clients/c-001", "case_system").json()["coach_id"] == "coach-a1", "nothing changed"


def test_an_id_that_differs_only_in_case_is_named_not_stored_twice(api):
    """Ids are case-sensitive; a case system that changes case gets told, not a second client."""
    r = api.get("/v1/clients/C-001", "case_system")
    assert r.status_code == 404
    assert "Ids are case-sensitive: the stored one is 'c-001'" in r.json()["detail"]
    assert api.patch("/v1/clients/C-001", "case_system", json={"ladder_rung": 2}).status_code == 404
    assert "case-sensitive" not in api.get("/v1/clients/nobody", "case_system").json()["detail"]
    total = api.get("/v1/clients", "case_system").json()["total"]
    r = api.post("/v1/clients", "case_system", json={"id": "C-001", "skills": []})
    assert r.status_code == 422
    assert "differs from the stored 'c-001' only in upper/lower case" in r.json()["errors"][0]["reason"]
    r = api.patch("/v1/clients/c-001", "case_system", json={"coach_id": "COACH-A1"})
    assert r.status_code == 422 and "the stored one is 'coach-a1'" in r.json()["errors"][0]["reason"]
    assert api.get("/v1/clients", "case_system").json()["total"] == total, "no second client"
    assert api.get("/v1/clients/c-001", "case_system").json()["coach_id"] == "coach-a1", "nothing changed"


def test_bsn_is_refused_as_client_id(api):
    r = api.post("/v1/clients", "case_system", json={"id": "111222333", "skills": []})
    assert r.status_code == 422
    assert "BSN" in r.json()["errors"][0]["reason"]


def test_bulk_import_csv(api):
    csv = "id,skills,benefit_type,coach_id\nc-101,cook;kitchen porter,ww,coach-a1\nc-102,operate forklift,bijstand,\n"
    r = api.post("/v1/clients/import", "case_system", content=csv, headers={**api.headers("case_system"), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 2 and r.json()["rows"] == 2
    assert api.get("/v1/clients/c-101", "admin").json()["skills"] == ["cook", "kitchen porter"]


def test_bulk_import_lists_every_error_and_writes_nothing(api):
    csv = (
        "id,skills,benefit_type,hours_available,coach_id\n"
        "c-201,cook,ww,32,coach-a1\n"
        "c-202,cook,pension,32,coach-a1\n"
        "c-203,cook,ww,99,coach-a1\n"
        "c-204,cook,ww,32,ghost\n"
    )
    r = api.client.post("/v1/clients/import", content=csv, headers={**api.headers("case_system"), "Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == "/problems/import-rejected"
    where = {(e["row"], e["column"]) for e in body["errors"]}
    # CSV line numbers: the header is line 1
    assert {(3, "benefit_type"), (4, "hours_available"), (5, "coach_id")} <= where
    assert "nothing was written" in body["detail"]
    assert api.get("/v1/clients/c-201", "admin").status_code == 404, "all-or-nothing"


def test_bulk_import_json_rows_updates_given_columns_only(api):
    team = api.get("/v1/coaches/coach-a1", "manager").json()["team_id"]
    assert team is not None
    # rows with different keys are refused: coach-a1's missing team_id would have read as an
    # empty cell and reset its team (until 2026-12-07 it did)
    r = api.post("/v1/coaches/import", "manager", json={"rows": [{"id": "coach-a1", "capacity_points": 80}, {"id": "coach-new", "team_id": "team-zorg"}]})
    assert r.status_code == 422, r.text
    assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [("rows[1]", "row 1 lacks team_id"), ("rows[2]", "row 2 lacks capacity_points")]
    assert api.get("/v1/coaches/coach-new", "manager").status_code == 404
    r = api.post("/v1/coaches/import", "manager", json={"rows": [{"id": "coach-a1", "capacity_points": 80}, {"id": "coach-new", "capacity_points": None}]})
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 1 and r.json()["updated"] == 1
    coach = api.get("/v1/coaches/coach-a1", "manager").json()
    assert coach["capacity_points"] == 80 and coach["name"] == "Anna de Vries" and coach["team_id"] == team


def test_bulk_import_refuses_other_media(api):
    r = api.client.post("/v1/teams/import", content=b"<xml/>", headers={**api.headers("admin"), "Content-Type": "application/xml"})
    assert r.status_code == 415
    assert "text/csv" in r.json()["detail"]


def test_writes_are_audited(api):
    api.patch("/v1/vacancies/vac-1", "employer_services", json={"positions": 3})
    rows = [r for r in api.audit_rows() if r["action"] == "update"]
    assert rows[-1]["actor"] == "test-employer_services" and rows[-1]["resource"] == "vacancy"
    assert rows[-1]["resource_id"] == "vac-1" and rows[-1]["detail"] == {"fields": ["positions"]}
