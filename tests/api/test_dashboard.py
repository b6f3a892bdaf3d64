"""Dashboard pages rendered in process (the browser flows are in test_browser.py)."""

from __future__ import annotations

import pytest

from api.routers.dashboard import csrf_token


def login(env, role: str) -> dict[str, str]:
    r = env.client.post("/dashboard/login", data={"api_key": env.keys[role], "next": "/dashboard"}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    env.client.cookies.clear()  # the tests send the cookie explicitly
    return {"Cookie": f"plein_key={env.keys[role]}"}


def test_login_redirects_by_role(shared_api):
    r = shared_api.client.post("/dashboard/login", data={"api_key": shared_api.keys["manager"]}, follow_redirects=False)
    assert r.headers["location"] == "/dashboard/caseload"
    r = shared_api.client.post("/dashboard/login", data={"api_key": shared_api.keys["employer_services"]}, follow_redirects=False)
    assert r.headers["location"] == "/dashboard/vacancies"
    r = shared_api.client.post("/dashboard/login", data={"api_key": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and "not valid" in r.text
    shared_api.client.cookies.clear()
    r = shared_api.client.get("/dashboard/caseload", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login")


def test_caseload_page_has_the_balance_chart(shared_api):
    h = login(shared_api, "manager")
    r = shared_api.client.get("/dashboard/caseload", headers=h)
    assert r.status_code == 200, r.text
    assert r.text.count('<g class="bar') >= 4 + 2, "one bar per coach and per team"
    assert "Anna de Vries · coach-a1" in r.text, "coaches by name and id"
    assert "2 clients in the caseload without a coach" in r.text and "away" not in r.text


def test_a_coach_who_has_left_is_marked_on_the_balance(api):
    assert api.patch("/v1/coaches/coach-b2", "case_system", json={"active": False}).status_code == 200
    row = next(c for c in api.get("/v1/caseload/balance", "manager").json()["coaches"] if c["id"] == "coach-b2")
    assert row["available"] is False and row["unavailable_reason"] == "has left (inactive)"
    # the team's capacity is that of the coaches who are there
    body = api.get("/v1/caseload/balance", "manager").json()
    team = next(t for t in body["teams"] if t["id"] == row["team_id"])
    present = [c for c in body["coaches"] if c["team_id"] == row["team_id"] and c["available"]]
    assert team["capacity_points"] == sum(c["capacity_points"] for c in present)
    assert team["load"] == round(team["points"] / team["capacity_points"], 4)
    page = api.client.get("/dashboard/caseload", headers=login(api, "manager")).text
    assert "Dewi Smit · coach-b2 (away)" in page and '<g class="bar away"' in page
    assert "1 coach away (left or absent today)" in page


def test_vacancy_page_shows_cards_and_records_outcomes(api):
    h = login(api, "employer_services")
    r = api.client.get("/dashboard/vacancies?q=zorg", headers=h)
    assert r.status_code == 200 and "Helpende zorg" in r.text
    assert "<td>Zutphen</td>" in r.text and "GM0301" not in r.text, "places by name"
    r = api.client.get("/dashboard/vacancies/vac-1", headers=h)
    assert r.status_code == 200, r.text
    assert 'class="candidate"' in r.text and "essential skills" in r.text
    assert "bijstand" not in r.text and "rung" not in r.text.lower()
    form = {"client_id": "c-003", "stage": "invited", "reason": "", "csrf": csrf_token(api.keys["employer_services"])}
    r = api.client.post("/dashboard/vacancies/vac-1/outcomes", headers=h, data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("done=outcome")
    assert api.get("/v1/vacancies/vac-1/outcomes", "admin").json()["items"][0]["stage"] == "invited"
    # the candidate's card carries its latest stage on this vacancy
    page = api.client.get("/dashboard/vacancies/vac-1", headers=h).text
    card = page[page.index('data-client="c-003"'):]
    assert '<span class="badge stage invited"' in card[:card.index("</li>")]
    # a rejection without a reason is refused on the page, with the reason why
    form.update(stage="rejected")
    r = api.client.post("/dashboard/vacancies/vac-1/outcomes", headers=h, data=form)
    assert r.status_code == 422 and "needs a reason" in r.text
    # an event of some days ago is recorded on its day; a day to come is refused with the API's rule
    import datetime as dt

    assert 'type="date" name="date"' in page
    day = dt.date.today() - dt.timedelta(days=3)
    form.update(stage="shortlisted", client_id="c-004", date=day.isoformat())
    r = api.client.post("/dashboard/vacancies/vac-1/outcomes", headers=h, data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    got = [o for o in api.get("/v1/vacancies/vac-1/outcomes", "admin").json()["items"] if o["client_id"] == "c-004"]
    assert [o["date"] for o in got] == [day.isoformat()]
    form.update(date=(dt.date.today() + dt.timedelta(days=2)).isoformat())
    r = api.client.post("/dashboard/vacancies/vac-1/outcomes", headers=h, data=form)
    assert r.status_code == 422 and "has not come yet" in r.text


def test_forms_need_the_csrf_token(api):
    h = login(api, "employer_services")
    r = api.client.post("/dashboard/vacancies/vac-1/outcomes", headers=h, data={"client_id": "c-003", "stage": "invited", "csrf": "forged"})
    assert r.status_code == 403
    # said as what it is, not as a role the user lacks
    assert "Form out of date" in r.text and "Not allowed for your role" not in r.text
    assert api.get("/v1/vacancies/vac-1/outcomes", "admin").json()["total"] == 0


def test_proposal_page_and_decision(api):
    pytest.importorskip("scheduling.approval")
    h = login(api, "manager")
    r = api.client.post("/dashboard/optimise", headers=h, data={"mode": "intake", "csrf": csrf_token(api.keys["manager"])},
                        follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].split("/")[-1].split("?")[0]
    assert api.service.jobs.wait_idle(120)
    r = api.client.get(f"/dashboard/jobs/{job_id}", headers=h)
    assert "Open the proposal" in r.text
    pid = api.get(f"/v1/jobs/{job_id}", "manager").json()["result"]["proposal_id"]
    r = api.client.get(f"/dashboard/proposals/{pid}", headers=h)
    assert r.status_code == 200, r.text
    assert "Before and after" in r.text and "c-023" in r.text and "placement" in r.text
    # how good it is, in words: the stored solver figures, not a fixed text
    solver = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]["solver"]
    quality = r.text.split('id="quality"')[1].split("</section>")[0]
    assert f"{solver['objective']:,}" in quality
    assert ("Optimal: no assignment" in quality) if solver["status"] == "optimal" else (f"{solver['bound']:,} (the proven bound)" in quality)
    # each team before and after, from the proposal's team figures
    teams = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]["after"]["teams"]
    table = r.text.split('id="teams"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(teams) + 1
    for t in teams:
        assert f"<td>{t['team_id']}</td>" in table and f"→ {t['clients']}</td>" in table
    assert 'id="why"' not in r.text, "everyone is placed: nothing to explain"
    form = {"action": "approve", "note": "ok", "csrf": csrf_token(api.keys["manager"])}
    r = api.client.post(f"/dashboard/proposals/{pid}/decision", headers=h, data=form, follow_redirects=False)
    assert r.status_code == 303
    assert api.get(f"/v1/proposals/{pid}", "manager").json()["status"] == "approved"
    # deciding again shows why it cannot
    r = api.client.post(f"/dashboard/proposals/{pid}/decision", headers=h, data=form)
    assert r.status_code == 409 and "already approved" in r.text


def test_a_proposal_that_takes_clients_off_their_coach_says_so(api):
    """A client who has a coach and finds none is a change too: the page names the coach they
    have, counts them apart from the moves and warns before the manager approves."""
    pytest.importorskip("scheduling.approval")
    # coach-a1 and coach-b1 leave; the other two keep room for only a few more clients
    options = {"time_limit": 5, "seed": 1, "coach_leaves": ["coach-a1", "coach-b1"],
               "capacity": {"coach-a2": 12.0, "coach-b2": 12.0}}
    r = api.post("/v1/caseload/optimisations", "manager", json={"mode": "what_if", "options": options})
    assert r.status_code == 202, r.text
    assert api.service.jobs.wait_idle(120)
    pid = api.get(f"/v1/jobs/{r.json()['id']}", "manager").json()["result"]["proposal_id"]
    result = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]
    losing = [u for u in result["unassigned"] if u["from_coach"]]
    assert losing and result["after"]["summary"]["lose_coach"] == len(losing)
    assert {u["from_coach"] for u in losing} <= {"coach-a1", "coach-a2", "coach-b1", "coach-b2"}
    page = api.client.get(f"/dashboard/proposals/{pid}", headers=login(api, "manager")).text
    assert f"{len(losing)} lose the coach they have" in page and 'id="lose-coach"' in page
    assert "clients taken off their coach (no room found)" in page
    assert f"<td>{losing[0]['client_id']}</td><td>{losing[0]['from_coach']}</td>" in page
    # and why: the explanation's checks with their numbers, as the API gives them
    why = page.split('id="why"')[1].split("</section>")[0]
    explanation = result["explanation"]
    joint = (explanation.get("joint") or {}).get("text") or []
    assert joint and joint[0][1:] in why, "the joint check of points and client maximum"
    for g in explanation["joint"]["groups"][:10]:
        assert f"<td>{g['group']}</td>" in why
    for c in explanation["capacity"]:
        assert c["text"] in why
    for line in explanation["conflicts"]["text"]:
        assert line in why


def test_a_stale_proposal_says_so_on_its_page_before_anyone_approves(api):
    pytest.importorskip("scheduling.approval")
    r = api.post("/v1/caseload/optimisations", "manager", json={"mode": "intake", "options": {"time_limit": 5, "seed": 1}})
    assert api.service.jobs.wait_idle(120)
    pid = api.get(f"/v1/jobs/{r.json()['id']}", "manager").json()["result"]["proposal_id"]
    h = login(api, "manager")
    page = api.client.get(f"/dashboard/proposals/{pid}", headers=h).text
    assert 'id="stale"' not in page and 'value="approve"' in page
    # the case system records that a client the proposal places has left the caseload
    moved = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]["moves"][0]["client_id"]
    assert api.patch(f"/v1/clients/{moved}", "case_system", json={"status": "exited"}).status_code == 200
    page = api.client.get(f"/dashboard/proposals/{pid}", headers=h).text
    assert 'id="stale"' in page and f"client {moved} is now exited" in page
    assert 'value="approve"' not in page and 'value="reject"' in page, "a stale proposal can still be rejected"


def test_an_unknown_dashboard_page_is_a_page(shared_api):
    r = shared_api.client.get("/dashboard/nothing-here", headers=login(shared_api, "manager"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "/dashboard/nothing-here" in r.text
    # the API keeps its problem JSON
    r = shared_api.client.get("/v1/nothing-here", headers=shared_api.headers("manager"))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_a_running_optimisation_is_cancelled_from_its_page(api, long_work):
    work = long_work({"proposal_id": "never"})
    job_id = api.service.jobs.submit("optimise", {"mode": "full"}, "test-manager", work)
    assert work.started.wait(10)
    h = login(api, "manager")
    page = api.client.get(f"/dashboard/jobs/{job_id}", headers=h).text
    assert f'action="/dashboard/jobs/{job_id}/cancel"' in page
    r = api.client.post(f"/dashboard/jobs/{job_id}/cancel", headers=h, data={"csrf": csrf_token(api.keys["manager"])},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("done=cancel")
    assert api.service.jobs.wait_idle(10)
    page = api.client.get(f"/dashboard/jobs/{job_id}", headers=h).text
    assert '<strong class="job-status">cancelled</strong>' in page and "Nothing was stored." in page
    assert "/cancel" not in page


def _job_of(r) -> str:
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/")[-1].split("?")[0]


def test_a_what_if_is_started_from_the_caseload_page(api):
    """A manager asks "what if coach-a1 leaves?" on the page: the job and the proposal say
    what was asked, and the proposal moves every client coach-a1 has to a coach who stays."""
    pytest.importorskip("scheduling.approval")
    h = login(api, "manager")
    page = api.client.get("/dashboard/caseload", headers=h).text
    form = page[page.index('id="what-if-form"'):]
    assert '<option value="coach-a1">Anna de Vries · coach-a1</option>' in form[:form.index("</form>")]
    assert '<select id="coach_id" name="coach_id" multiple' in form, "one what-if may name several coaches"
    data = {"mode": "what_if", "coach_id": "coach-a1", "event": "leaves", "time_limit": "5", "max_handovers": "",
            "absent_from": "", "absent_until": "", "capacity_points": "", "csrf": csrf_token(api.keys["manager"])}
    job_id = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    assert api.service.jobs.wait_idle(120)
    job = api.get(f"/v1/jobs/{job_id}", "manager").json()
    assert job["status"] == "done", job
    assert job["params"] == {"mode": "what_if", "options": {"time_limit": 5.0, "coach_leaves": ["coach-a1"]}}
    assert "Asked: what if: coach-a1 leaves; time limit 5 s." in api.client.get(f"/dashboard/jobs/{job_id}", headers=h).text
    pid = job["result"]["proposal_id"]
    body = api.get(f"/v1/proposals/{pid}", "manager").json()
    assert body["mode"] == "what_if" and body["params"]["coach_leaves"] == ["coach-a1"]
    had = {c["id"] for c in api.get("/v1/clients?coach_id=coach-a1&limit=500", "manager").json()["items"]}
    assert had, "the test region gives coach-a1 clients"
    moved_off = {m["client_id"] for m in body["result"]["moves"] if m["from_coach"] == "coach-a1"}
    left_without = {u["client_id"] for u in body["result"]["unassigned"] if u.get("from_coach") == "coach-a1"}
    assert moved_off | left_without == had
    assert all(m["to_coach"] != "coach-a1" for m in body["result"]["moves"])
    assert "Asked: what if: coach-a1 leaves" in api.client.get(f"/dashboard/proposals/{pid}", headers=h).text
    assert "what if: coach-a1 leaves" in api.client.get("/dashboard/caseload", headers=h).text, "the proposals table says what was asked"
    audit = api.get("/v1/audit?resource=optimisation", "admin").json()["items"]
    assert audit[0]["detail"]["options"] == {"time_limit": 5.0, "coach_leaves": ["coach-a1"]}


def test_an_absence_and_a_new_capacity_are_asked_in_the_what_if_form(api):
    pytest.importorskip("scheduling.approval")
    import datetime as dt

    h, csrf = login(api, "manager"), csrf_token(api.keys["manager"])
    start = dt.date.today() + dt.timedelta(days=7)
    data = {"mode": "what_if", "coach_id": "coach-b2", "event": "absent", "absent_from": start.isoformat(), "absent_until": "",
            "capacity_points": "", "time_limit": "5", "max_handovers": "3", "csrf": csrf}
    job_id = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    data.update(event="capacity", absent_from="", capacity_points="12.5", max_handovers="")
    job2 = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    assert api.service.jobs.wait_idle(120)
    first = api.get(f"/v1/jobs/{job_id}", "manager").json()
    assert first["params"]["options"] == {"time_limit": 5.0, "max_handovers": 3, "coach_absent": [["coach-b2", start.isoformat(), None]]}
    second = api.get(f"/v1/jobs/{job2}", "manager").json()
    assert second["params"]["options"] == {"time_limit": 5.0, "capacity": {"coach-b2": 12.5}}
    for job in (first, second):
        assert job["status"] == "done", job
    p1 = api.get(f"/v1/proposals/{first['result']['proposal_id']}", "manager").json()
    assert p1["result"]["after"]["summary"]["handovers"] <= 3, "the cap holds"
    page = api.client.get(f"/dashboard/proposals/{first['result']['proposal_id']}", headers=h).text
    assert f"Asked: what if: coach-b2 is absent from {start.isoformat()}; at most 3 handovers; time limit 5 s." in page
    page = api.client.get(f"/dashboard/proposals/{second['result']['proposal_id']}", headers=h).text
    assert "Asked: what if: coach-b2 has a capacity of 12.5 points; time limit 5 s." in page


def test_a_rebalance_with_a_handover_cap_from_the_page(api):
    pytest.importorskip("scheduling.approval")
    h = login(api, "manager")
    data = {"mode": "full", "max_handovers": "0", "time_limit": "5", "csrf": csrf_token(api.keys["manager"])}
    job_id = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    assert api.service.jobs.wait_idle(120)
    job = api.get(f"/v1/jobs/{job_id}", "manager").json()
    assert job["params"] == {"mode": "full", "options": {"time_limit": 5.0, "max_handovers": 0}}
    body = api.get(f"/v1/proposals/{job['result']['proposal_id']}", "manager").json()
    assert body["params"]["max_handovers"] == 0
    assert body["result"]["after"]["summary"]["handovers"] == 0
    # without the cap the same rebalance hands clients over (so the cap is what kept them)
    data.update(max_handovers="")
    job_id = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    assert api.service.jobs.wait_idle(120)
    pid = api.get(f"/v1/jobs/{job_id}", "manager").json()["result"]["proposal_id"]
    assert api.get(f"/v1/proposals/{pid}", "manager").json()["result"]["after"]["summary"]["handovers"] > 0


@pytest.mark.parametrize("fields, said", [
    ({"mode": "full", "time_limit": "soon"}, "Time limit: enter a number of seconds (got 'soon')"),
    ({"mode": "full", "time_limit": "0"}, "Time limit: enter between 1 and 3600 seconds (got 0)"),
    ({"mode": "intake", "max_handovers": "-2"}, "At most … handovers: enter a whole number of 0 or more"),
    ({"mode": "rebalance"}, "Mode: choose a rebalance, intakes only or a what-if (got 'rebalance')"),
    ({"mode": "full", "coach_id": "coach-a1", "event": "leaves"}, "What if: coaches and a change belong to a what-if"),
    ({"mode": "what_if", "event": "leaves"}, "Coaches: choose the coach or coaches the what-if is about"),
    ({"mode": "what_if", "coach_id": [f"coach-{i}" for i in range(51)], "event": "leaves"}, "Coaches: choose at most 50 coaches (got 51)"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "retires"}, "Change: choose what happens to the coaches"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "absent"}, "Absent from: enter the first day of the absence"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "absent", "absent_from": "10-12-2026"},
     "Absent from: enter a date as YYYY-MM-DD (got '10-12-2026')"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "absent", "absent_from": "2026-12-20", "absent_until": "2026-12-10"},
     "Absent until: the last day (2026-12-10) is before the first (2026-12-20)"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "capacity", "capacity_points": "-5"}, "New capacity: enter 0 points or more (got -5)"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "capacity", "capacity_points": "nan"}, "New capacity: enter 0 points or more"),
    ({"mode": "what_if", "coach_id": "coach-a1", "event": "capacity"}, "New capacity: enter the capacity in caseload points"),
    # checked against the region by the service, as the API does
    ({"mode": "what_if", "coach_id": "coach-zz", "event": "leaves"}, "coach_leaves: coach 'coach-zz'"),
])
def test_an_optimise_form_that_cannot_be_used_says_which_field_and_starts_nothing(api, fields, said):
    h = login(api, "manager")
    r = api.client.post("/dashboard/optimise", headers=h, data={**fields, "csrf": csrf_token(api.keys["manager"])})
    assert r.status_code == 422, r.text
    import html

    error = html.unescape(r.text[r.text.index('id="page-error"'):])
    assert error.startswith('id="page-error">Not started. ') and said in error[:error.index("</p>")], error[:500]
    assert "Per coach" in r.text, "the whole caseload page, to try again"
    if fields.get("coach_id") == "coach-a1" and fields["mode"] == "what_if":
        form = r.text[r.text.index('id="what-if-form"'):]
        assert '<option value="coach-a1" selected>' in form, "the form as it was filled in"
    assert api.get("/v1/jobs", "manager").json()["total"] == 0


def test_one_what_if_names_several_coaches_with_the_same_change(api):
    """Two coaches away over the same holiday: one what-if, each absent from the same day; the
    form keeps both selected when a field is refused."""
    pytest.importorskip("scheduling.approval")
    import datetime as dt

    h, csrf = login(api, "manager"), csrf_token(api.keys["manager"])
    start = dt.date.today() + dt.timedelta(days=10)
    end = start + dt.timedelta(days=13)
    data = {"mode": "what_if", "coach_id": ["coach-a1", "coach-b2"], "event": "absent", "absent_from": end.isoformat(),
            "absent_until": start.isoformat(), "time_limit": "5", "csrf": csrf}
    r = api.client.post("/dashboard/optimise", headers=h, data=data)
    assert r.status_code == 422
    form = r.text[r.text.index('id="what-if-form"'):]
    assert '<option value="coach-a1" selected>' in form and '<option value="coach-b2" selected>' in form
    data.update(absent_from=start.isoformat(), absent_until=end.isoformat())
    job_id = _job_of(api.client.post("/dashboard/optimise", headers=h, data=data, follow_redirects=False))
    assert api.service.jobs.wait_idle(120)
    job = api.get(f"/v1/jobs/{job_id}", "manager").json()
    assert job["status"] == "done", job
    assert job["params"]["options"]["coach_absent"] == [["coach-a1", start.isoformat(), end.isoformat()],
                                                        ["coach-b2", start.isoformat(), end.isoformat()]]
    page = api.client.get(f"/dashboard/proposals/{job['result']['proposal_id']}", headers=h).text
    assert (f"Asked: what if: coach-a1 is absent from {start} until {end}, coach-b2 is absent from {start} until {end}; "
            "time limit 5 s.") in page


def test_a_proposals_moves_are_filtered_by_coach_and_kind_and_paged(api, monkeypatch):
    """A 50k rebalance proposes ~12 000 moves: the page shows them a page at a time, and the
    manager picks one coach's (from or to them) or one kind. A filter it cannot use is said
    with its field, and every move is listed."""
    import re

    from api.routers import dashboard

    pytest.importorskip("scheduling.approval")
    r = api.post("/v1/caseload/optimisations", "manager", json={"mode": "full", "options": {"time_limit": 5, "seed": 1}})
    assert api.service.jobs.wait_idle(120)
    pid = api.get(f"/v1/jobs/{r.json()['id']}", "manager").json()["result"]["proposal_id"]
    moves = api.get(f"/v1/proposals/{pid}", "manager").json()["result"]["moves"]
    assert len(moves) >= 5, "the region's rebalance moves enough clients to page through"
    h = login(api, "manager")

    def listed(query: str, status: int = 200) -> tuple[list[tuple[str, str, str, str]], str]:
        page = api.client.get(f"/dashboard/proposals/{pid}{query}", headers=h)
        assert page.status_code == status, page.text
        table = page.text.split('id="moves"')[1].split("</section>")[0]
        rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+?)(?: <small>.*?</small>)?</td>\s*<td>([^<]+?)(?: <small>.*?</small>)?</td>\s*"
                          r'<td><span class="badge">([^<]+)</span>', table)
        return rows, page.text

    rows, _ = listed("")
    assert [r[0] for r in rows] == [m["client_id"] for m in moves]
    coach = moves[0]["to_coach"]
    rows, text = listed(f"?coach={coach}")
    want = [m["client_id"] for m in moves if coach in (m["from_coach"], m["to_coach"])]
    assert [r[0] for r in rows] == want and all(coach in (r[1], r[2]) for r in rows)
    assert f"Showing 1–{len(want)} of {len(want)} (every kind, from or to {coach}; {len(moves)} in all)" in text
    kind = moves[0]["kind"]
    rows, _ = listed(f"?kind={kind}")
    assert [r[0] for r in rows] == [m["client_id"] for m in moves if m["kind"] == kind] and {r[3] for r in rows} == {kind}

    monkeypatch.setattr(dashboard, "MOVES_PER_PAGE", 2)
    rows, text = listed("")
    assert [r[0] for r in rows] == [m["client_id"] for m in moves[:2]]
    assert 'offset=2#moves">Next</a>' in text and ">Previous</a>" not in text
    rows, text = listed("?offset=2")
    assert [r[0] for r in rows] == [m["client_id"] for m in moves[2:4]] and 'offset=0#moves">Previous</a>' in text
    last = (len(moves) - 1) // 2 * 2
    rows, text = listed("?offset=100000")  # past the end: the last page
    assert [r[0] for r in rows] == [m["client_id"] for m in moves[last:]] and ">Next</a>" not in text

    monkeypatch.setattr(dashboard, "MOVES_PER_PAGE", 200)
    rows, text = listed("?kind=bogus", 422)
    assert "Kind: choose handover, forced or placement (got &#39;bogus&#39;)." in text and len(rows) == len(moves)
    rows, text = listed("?coach=nobody&kind=forced", 422)
    assert "Coach: &#39;nobody&#39; is not a coach in this proposal." in text and len(rows) == len(moves)
