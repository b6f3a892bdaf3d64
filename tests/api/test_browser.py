"""The dashboard in a real browser: headless Debian chromium driven by Playwright against a
uvicorn server on a free loopback port.

- A team manager logs in, sees the caseload balance chart, starts an optimisation, follows it
  to the proposal (moves with reasons, before/after figures) and approves it.
- Employer services log in, open a vacancy's candidate list and record an outcome.

Skipped cleanly where /usr/bin/chromium or Playwright is missing (CI installs chromium).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
]
playwright_sync = pytest.importorskip("playwright.sync_api")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, mlflow_uri):
    """The app on a real uvicorn server on loopback, for the module."""
    import uvicorn

    from api.testing import ApiEnv

    env = ApiEnv(tmp_path_factory.mktemp("api-browser"), mlflow_uri=mlflow_uri)
    port = _free_port()
    config = uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    yield env, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    env.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        except Exception as exc:  # a broken chromium install: skip, do not fail
            pytest.skip(f"chromium could not start: {exc}")
        yield b
        b.close()


def _login(page, base: str, key: str) -> None:
    page.goto(f"{base}/dashboard/login")
    page.fill("#api_key", key)
    page.click("form[action='/dashboard/login'] button[type=submit]")


def _manager_on_caseloads(server, browser):
    """(env, base url, page) with a manager logged in on the caseload page."""
    pytest.importorskip("scheduling.approval")
    env, base = server
    page = browser.new_page()
    page.set_default_timeout(60_000)
    _login(page, base, env.keys["manager"])
    page.wait_for_url(f"{base}/dashboard/caseload")
    return env, base, page


def test_manager_sees_balance_and_approves_a_proposal(server, browser):
    env, base, page = _manager_on_caseloads(server, browser)
    bars = page.locator("svg.chart g.bar")
    assert bars.count() >= 6, "one bar per coach (4) and per team (2)"
    assert page.locator("svg.chart[aria-label='Caseload per coach']").is_visible()
    assert "2 clients in the caseload without a coach" in page.inner_text("main")

    page.select_option("#mode", "intake")
    page.click("text=Start optimisation")
    page.wait_for_url("**/dashboard/jobs/**")
    page.click("text=Open the proposal")  # the job page refreshes itself until this link appears
    page.wait_for_url("**/dashboard/proposals/**")
    assert page.inner_text("#proposal-status") == "pending"
    moves = page.locator("table.moves tbody tr")
    assert moves.count() == 2
    assert "placed with an eligible coach" in moves.first.inner_text()
    assert page.locator("table.figures").is_visible()
    assert "clients without a coach" in page.inner_text("table.figures")
    solver = env.get(f"/v1/proposals/{page.url.split('?')[0].rstrip('/').split('/')[-1]}", "manager").json()["result"]["solver"]
    assert page.locator("#quality").is_visible() and f"{solver['objective']:,}" in page.inner_text("#quality")
    assert page.locator("#teams tbody tr").count() == 2, "one row per team"

    page.fill("#note", "intakes placed")
    page.click("button[value=approve]")
    page.wait_for_url("**done=approved")
    assert page.inner_text("#proposal-status") == "approved"
    assert "The proposal is approved" in page.inner_text("main")
    assert env.get("/v1/caseload/balance", "manager").json()["unassigned_clients"] == 0
    page.close()


def test_manager_asks_a_what_if_in_the_browser(server, browser):
    """The what-if form: a wrong capacity is refused on the page with the form kept, the
    corrected one runs and its proposal says what was asked."""
    env, base, page = _manager_on_caseloads(server, browser)
    page.select_option("#coach_id", "coach-b1")
    page.select_option("#event", "capacity")
    page.fill("#capacity_points", "")
    page.click("text=Start what-if")
    assert "Not started. New capacity: enter the capacity in caseload points" in page.inner_text("#page-error")
    assert page.eval_on_selector("#coach_id", "s => [...s.selectedOptions].map(o => o.value)") == ["coach-b1"], "the form as filled in"
    assert page.input_value("#event") == "capacity"
    page.fill("#capacity_points", "8")
    page.click("text=Start what-if")
    page.wait_for_url("**/dashboard/jobs/**")
    assert "Asked: what if: coach-b1 has a capacity of 8 points" in page.inner_text("#asked")
    page.click("text=Open the proposal")
    page.wait_for_url("**/dashboard/proposals/**")
    assert "coach-b1 has a capacity of 8 points" in page.inner_text("#asked")
    page.close()


def test_employer_services_record_an_outcome(server, browser):
    env, base = server
    page = browser.new_page()
    page.set_default_timeout(30_000)
    _login(page, base, env.keys["employer_services"])
    page.wait_for_url(f"{base}/dashboard/vacancies")
    page.click("text=Helpende zorg")
    page.wait_for_url(f"{base}/dashboard/vacancies/vac-1")
    first = page.locator("li.candidate").first
    client_id = first.get_attribute("data-client")
    assert "essential skills" in first.inner_text()
    first.locator("select[name=stage]").select_option("shortlisted")
    first.locator("button", has_text="Record").click()
    page.wait_for_url("**done=outcome")
    assert "The outcome is recorded." in page.inner_text("main")
    row = page.locator("table.outcomes tbody tr").first.inner_text()
    assert client_id in row and "shortlisted" in row and "test-employer_services" in row
    page.close()


def test_wrong_key_and_wrong_role(server, browser):
    env, base = server
    page = browser.new_page()
    _login(page, base, "not-a-key")
    assert "not valid" in page.inner_text(".flash.error")
    _login(page, base, env.keys["employer_services"])
    page.goto(f"{base}/dashboard/caseload")
    assert "Not allowed for your role" in page.inner_text("main")
    page.close()
