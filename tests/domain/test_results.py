"""plein.results: ladder results over a period, per team, municipality and benefit type."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from plein import schema
from plein.region import Region
from plein.results import NONE_GROUP, ladder_results

D = dt.date
START, END = D(2025, 1, 1), D(2026, 1, 1)


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in schema.table(name).names:
        if col not in df.columns:
            df[col] = None
    return df


@pytest.fixture
def region() -> Region:
    """Two teams; clients whose outcome over 2025 is known by construction:

    a (team t1, bijstand, Zutphen): rung 2 -> 3: rose; hired in the period
    b (t1, ww, Lochem): rung 4 -> 5: rose and reached paid work; hired *before* the period
    c (t2, ww, Zutphen): rung 6 all along: cannot rise, already in paid work
    d (t2, bijstand, Zutphen): rung 3 -> 2: fell
    e (t2): intake after the first day: not in the caseload then
    f (t1): left the caseload before the first day
    g (coach without a team, bijstand, no municipality): never measured
    h (t1 on the first day, moved to t2 later, ww, Lochem): rung 1, a measurement after the period (rung 3): not a rise
    """
    teams = _frame("teams", [{"id": "t1", "name": "Team techniek"}, {"id": "t2", "name": "Team zorg & welzijn"}])
    coaches = _frame("coaches", [{"id": "k1", "team_id": "t1"}, {"id": "k2", "team_id": "t2"}, {"id": "k3", "team_id": None}])
    munis = _frame("municipalities", [{"id": "GM0301", "name": "Zutphen"}, {"id": "GM0262", "name": "Lochem"}])
    people = {"a": ("bijstand", "GM0301"), "b": ("ww", "GM0262"), "c": ("ww", "GM0301"), "d": ("bijstand", "GM0301"),
              "e": ("ww", "GM0301"), "f": ("ww", "GM0301"), "g": ("bijstand", None), "h": ("ww", "GM0262")}
    clients = _frame("clients", [{"id": c, "benefit_type": b, "municipality": m, "status": "active", "intake_date": D(2024, 1, 1)}
                                 for c, (b, m) in people.items()])
    assignments = _frame("assignments", [
        {"id": "1", "client_id": "a", "coach_id": "k1", "start_date": D(2024, 1, 1)},
        {"id": "2", "client_id": "b", "coach_id": "k1", "start_date": D(2024, 1, 1)},
        {"id": "3", "client_id": "c", "coach_id": "k2", "start_date": D(2024, 1, 1)},
        {"id": "4", "client_id": "d", "coach_id": "k2", "start_date": D(2024, 1, 1)},
        {"id": "5", "client_id": "e", "coach_id": "k2", "start_date": D(2025, 3, 1)},
        {"id": "6", "client_id": "f", "coach_id": "k1", "start_date": D(2024, 1, 1), "end_date": D(2024, 12, 31)},
        {"id": "7", "client_id": "g", "coach_id": "k3", "start_date": D(2024, 1, 1)},
        {"id": "8", "client_id": "h", "coach_id": "k1", "start_date": D(2024, 1, 1), "end_date": D(2025, 6, 30)},
        {"id": "9", "client_id": "h", "coach_id": "k2", "start_date": D(2025, 7, 1)},
    ])
    events = _frame("ladder_events", [
        {"id": str(i), "client_id": c, "date": d, "rung": r} for i, (c, d, r) in enumerate([
            ("a", D(2024, 6, 1), 2), ("a", D(2025, 6, 1), 3),
            ("b", D(2024, 6, 1), 4), ("b", D(2025, 9, 1), 5),
            ("c", D(2024, 6, 1), 6), ("c", D(2025, 6, 1), 6),
            ("d", D(2024, 6, 1), 3), ("d", D(2025, 6, 1), 2),
            ("e", D(2025, 3, 1), 1), ("e", D(2025, 9, 1), 4),
            ("f", D(2024, 6, 1), 2), ("f", D(2025, 6, 1), 5),
            ("h", D(2024, 6, 1), 1), ("h", D(2026, 3, 1), 3),
        ])
    ])
    outcomes = _frame("outcomes", [
        {"id": "o1", "client_id": "a", "vacancy_id": "v", "date": D(2025, 10, 1), "stage": "hired"},
        {"id": "o2", "client_id": "b", "vacancy_id": "v", "date": D(2024, 10, 1), "stage": "hired"},
        {"id": "o3", "client_id": "d", "vacancy_id": "v", "date": D(2025, 10, 1), "stage": "invited"},
    ])
    return Region(teams=teams, coaches=coaches, municipalities=munis, clients=clients, assignments=assignments,
                  ladder_events=events, outcomes=outcomes)


def _by_group(res) -> dict:
    return {g["group"]: g for g in res.groups}


def test_results_per_team_count_each_client_as_constructed(region):
    res = ladder_results(region, START, END, by="team", min_group=1)
    assert res.attribution == "assignment history"
    t = res.total
    # in the caseload on the first day: a, b, c, d, g, h (not e: later; not f: left before)
    assert t["clients"] == 6 and t["measured"] == 5
    assert (t["could_rise"], t["rose"], t["rose_share"]) == (4, 2, 0.5)  # a, b, d, h could; a and b rose
    assert (t["below_paid_work"], t["reached_paid_work"], t["paid_work_share"]) == (4, 1, 0.25)  # b
    assert (t["fell"], t["hired"]) == (1, 1)  # d fell; a hired in the period (b's hire was before it)
    assert t["mean_rung_start"] == round((2 + 4 + 6 + 3 + 1) / 5, 2) and t["mean_rung_end"] == round((3 + 5 + 6 + 2 + 1) / 5, 2)
    groups = _by_group(res)
    assert list(groups) == ["t1", "t2", NONE_GROUP], "named teams first, clients without a team last"
    t1, t2 = groups["t1"], groups["t2"]
    assert t1["name"] == "Team techniek" and t1["clients"] == 3, "h counts with the team it had on the first day"
    assert (t1["rose"], t1["could_rise"], t1["reached_paid_work"], t1["hired"]) == (2, 3, 1, 1)
    assert (t2["clients"], t2["could_rise"], t2["rose"], t2["fell"], t2["fell_share"]) == (2, 1, 0, 1, 0.5)
    assert groups[NONE_GROUP]["clients"] == 1 and groups[NONE_GROUP]["measured"] == 0
    assert res.rungs == {"start": {1: 1, 2: 1, 3: 1, 4: 1, 5: 0, 6: 1}, "end": {1: 1, 2: 1, 3: 1, 4: 0, 5: 1, 6: 1}}
    assert sum(g["clients"] for g in res.groups) == t["clients"]


def test_results_per_municipality_and_benefit_type(region):
    res = ladder_results(region, START, END, by="municipality", min_group=1)
    groups = _by_group(res)
    assert {g: (r["name"], r["clients"]) for g, r in groups.items()} == {
        "GM0262": ("Lochem", 2), "GM0301": ("Zutphen", 3), NONE_GROUP: (NONE_GROUP, 1)}
    assert groups["GM0262"]["rose"] == 1 and groups["GM0262"]["reached_paid_work"] == 1
    res = ladder_results(region, START, END, by="benefit_type", min_group=1)
    groups = _by_group(res)
    assert {g: r["clients"] for g, r in groups.items()} == {"bijstand": 3, "ww": 3}
    assert (groups["bijstand"]["rose"], groups["bijstand"]["fell"]) == (1, 1)


def test_small_groups_get_no_share_and_a_note(region):
    res = ladder_results(region, START, END, by="team", min_group=3)
    groups = _by_group(res)
    assert groups["t1"]["rose_share"] == round(2 / 3, 4), "3 who could rise: enough"
    assert groups["t2"]["rose_share"] is None and groups["t2"]["rose"] == 0, "the count stays, the share goes"
    assert res.total["rose_share"] == 0.5
    assert any("fewer than 3 clients who could rise: Team zorg & welzijn, (none)" in n for n in res.notes)


def test_notes_say_what_the_figures_cannot_see(region):
    res = ladder_results(region, START, END, min_group=1)
    assert not any("latest ladder measurement" in n for n in res.notes), "measured after the period's end"
    late = ladder_results(region, D(2025, 6, 1), D(2026, 6, 1), min_group=1)
    assert any("the latest ladder measurement is on 2026-03-01" in n for n in late.notes)
    short = ladder_results(region, D(2025, 1, 1), D(2025, 7, 1), min_group=1)
    assert any("shorter than a year" in n for n in short.notes)


def test_without_assignment_history_the_current_coach_counts(region):
    region.assignments = region.assignments.iloc[0:0]
    region.clients["coach_id"] = ["k1", "k1", "k2", "k2", "k2", "k1", "k3", "k2"]
    region.clients.loc[region.clients["id"] == "f", "status"] = "exited"
    region.clients.loc[region.clients["id"] == "e", "intake_date"] = D(2025, 3, 1)
    res = ladder_results(region, START, END, min_group=1)
    assert res.attribution == "current coach (no assignment history)"
    assert res.total["clients"] == 6, "e had no intake yet; f has exited"
    assert _by_group(res)["t2"]["clients"] == 3, "h counts with the coach it has now"
    assert any("no assignment history" in n for n in res.notes)


@pytest.mark.parametrize("start, end, by, said", [
    (END, START, "team", "end: the period must end after it starts (start 2026-01-01, end 2025-01-01)"),
    (START, START, "team", "end: the period must end after it starts"),
    ("1-1-2025", END, "team", "start: not a date as YYYY-MM-DD (got '1-1-2025')"),
    (START, END, "coach", "by: group by one of team, municipality, benefit_type (got 'coach')"),
])
def test_a_period_or_grouping_that_cannot_be_used_is_refused_naming_the_field(region, start, end, by, said):
    with pytest.raises(ValueError) as err:
        ladder_results(region, start, end, by=by)
    assert said in str(err.value)


def test_results_of_a_generated_region_add_up(small_region):
    res = ladder_results(small_region, D(2025, 1, 1), D(2026, 1, 1), by="team")
    t = res.total
    assert t["clients"] > 500 and 0 < t["rose"] < t["could_rise"] <= t["measured"] <= t["clients"]
    for col in ("clients", "measured", "could_rise", "rose", "below_paid_work", "reached_paid_work", "fell", "hired"):
        assert sum(g[col] for g in res.groups) == t[col], col
    assert sum(res.rungs["start"].values()) == t["measured"]
