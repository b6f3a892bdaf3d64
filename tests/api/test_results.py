"""Ladder results (management information): `GET /v1/results/ladder` and `/dashboard/results`."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from api.routers.results import default_period
from plein.results import ladder_results
from tests.api.test_dashboard import login


@pytest.fixture(scope="module")
def generated_api(tmp_path_factory, mlflow_uri, small_region):
    from api.testing import ApiEnv

    env = ApiEnv(tmp_path_factory.mktemp("api-results"), region=small_region, mlflow_uri=mlflow_uri)
    yield env
    env.close()


def test_results_are_the_domain_figures_of_the_served_region(generated_api):
    api = generated_api
    r = api.get("/v1/results/ladder?start=2025-01-01&end=2026-01-01&by=municipality", "manager")
    assert r.status_code == 200, r.text
    body = r.json()
    expected = ladder_results(api.service.data().region, dt.date(2025, 1, 1), dt.date(2026, 1, 1), by="municipality").to_dict()
    assert body == expected
    assert body["attribution"] == "assignment history" and body["total"]["clients"] > 500
    assert {g["name"] for g in body["groups"]} >= {"Zutphen", "Lochem"}, "municipalities by name"
    assert 0 < body["total"]["rose_share"] < 1


def test_the_default_period_is_the_twelve_months_up_to_today(generated_api):
    body = generated_api.get("/v1/results/ladder", "admin").json()
    start, end = default_period()
    assert (body["start"], body["end"], body["by"]) == (start.isoformat(), end.isoformat(), "team")
    assert default_period(dt.date(2028, 2, 29)) == (dt.date(2027, 2, 28), dt.date(2028, 2, 29))


@pytest.mark.parametrize("query, field, said", [
    ("start=2026-01-01&end=2025-01-01", "end", "the period must end after it starts"),
    ("start=2025-13-01", "start", ""),
    ("by=coach", "by", ""),
])
def test_a_period_or_grouping_that_cannot_be_used_is_a_422_naming_the_field(generated_api, query, field, said):
    r = generated_api.get(f"/v1/results/ladder?{query}", "manager")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field] and said in errors[0]["message"]


def test_only_managers_and_admins_see_results(generated_api):
    for role in ("case_system", "employer_services", "data_scientist"):
        assert generated_api.get("/v1/results/ladder", role).status_code == 403, role


def test_the_results_page_charts_the_share_who_rose_per_team(generated_api):
    api = generated_api
    h = login(api, "manager")
    r = api.client.get("/dashboard/results?start=2025-01-01&end=2026-01-01&by=team", headers=h)
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    expected = ladder_results(api.service.data().region, dt.date(2025, 1, 1), dt.date(2026, 1, 1), by="team")
    t = expected.total
    assert f"Of the {t['clients']} clients in the caseload on 2025-01-01 (from the assignment history)" in page
    assert f"({t['rose']} of {t['could_rise']})" in page
    chart = page[page.index('aria-label="Share who rose per team"'):page.index("</svg>", page.index('aria-label="Share who rose per team"'))]
    assert chart.count('<g class="bar') == len(expected.groups), "a bar per team"
    assert f"whole caseload: {t['rose_share'] * 100:.0f}%" in chart
    first = expected.groups[0]
    assert f"<td>{first['name']}</td><td class=\"num\">{first['clients']}</td>" in page
    assert '<a href="/dashboard/results">Results</a>' in page, "in the managers' navigation"


def test_the_results_page_refuses_a_period_it_cannot_use(generated_api):
    api = generated_api
    h = login(api, "manager")
    r = api.client.get("/dashboard/results?start=2026-01-01&end=2025-01-01", headers=h)
    assert r.status_code == 422
    assert "the period must end after it starts" in html.unescape(r.text) and 'id="page-error"' in r.text
    assert 'value="2026-01-01"' in r.text, "the form as filled in"
    r = api.client.get("/dashboard/results?end=soon", headers=h)
    assert r.status_code == 422 and "Until: enter a date as YYYY-MM-DD (got &#39;soon&#39;)." in r.text
    r = api.client.get("/dashboard/results", headers=login(api, "employer_services"))
    assert r.status_code == 403
