"""Ladder features: observable at the snapshot date only, allow-listed, protected attributes refused."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.ladder import LadderModel
from models.ladder_features import (
    LADDER_FEATURES,
    ProtectedAttributeError,
    assert_no_protected,
    build_ladder_features,
    check_feature_frame,
    describe_value,
    region_ladder_features,
    sector_demand,
)
from plein.domain import PROTECTED_ATTRIBUTES


def _snap(region, n=50):
    ev = region.ladder_events
    return ev[["client_id", "date"]].rename(columns={"date": "as_of"}).head(n).reset_index(drop=True)


def test_feature_frame_is_exactly_the_allow_list(toy_region):
    X = region_ladder_features(toy_region, _snap(toy_region))
    assert list(X.columns) == ["client_id", "as_of", *LADDER_FEATURES]
    assert not set(PROTECTED_ATTRIBUTES) & set(X.columns)
    assert X["rung"].notna().all()


@pytest.mark.parametrize("column", [*PROTECTED_ATTRIBUTES, "gender_female", "migration_background_non_western"])
def test_protected_attribute_in_clients_is_refused(toy_region, column):
    clients = toy_region.clients.assign(**{column: "x"})
    with pytest.raises(ProtectedAttributeError, match=column):
        build_ladder_features(clients, toy_region.ladder_events, toy_region.vacancies, _snap(toy_region))


def test_protected_attribute_joined_into_features_cannot_reach_a_model(toy_region):
    X = region_ladder_features(toy_region, _snap(toy_region, 200))
    leaked = X.merge(toy_region.client_protected, on="client_id")
    with pytest.raises(ProtectedAttributeError):
        check_feature_frame(leaked)
    y = pd.DataFrame({"rise": np.arange(len(leaked)) % 2, "paid": np.arange(len(leaked)) % 3 == 0})
    with pytest.raises(ProtectedAttributeError):
        LadderModel(max_iter=5, calibration=None).fit(leaked, y)


def test_guard_accepts_innocent_names():
    assert_no_protected(["rung", "age_band", "genderless_thing_is_not_gender"])  # no exception
    with pytest.raises(ProtectedAttributeError):
        assert_no_protected(["rung", "Gender"])


def test_features_ignore_events_after_the_snapshot(toy_region):
    """Changing what happens after as_of leaves the features unchanged; changing the past does not."""
    cid = toy_region.ladder_events["client_id"].value_counts().index[0]
    ev = toy_region.ladder_events[toy_region.ladder_events["client_id"] == cid].sort_values("date")
    as_of = ev["date"].iloc[1]
    snaps = pd.DataFrame({"client_id": [cid], "as_of": [as_of]})
    base = region_ladder_features(toy_region, snaps)

    future = toy_region.ladder_events.copy()
    after = (future["client_id"] == cid) & (future["date"] > as_of)
    assert after.any()
    future.loc[after, "rung"] = 6 - future.loc[after, "rung"] + 1
    extra = pd.DataFrame({"id": ["x-future"], "client_id": [cid], "date": [date(2030, 1, 1)], "rung": [6]})
    future = pd.concat([future, extra], ignore_index=True)
    changed_future = build_ladder_features(toy_region.clients, future, toy_region.vacancies, snaps)
    pd.testing.assert_frame_equal(base, changed_future)

    past = toy_region.ladder_events.copy()
    at = (past["client_id"] == cid) & (past["date"] == as_of)
    past.loc[at, "rung"] = 1 if int(past.loc[at, "rung"].iloc[0]) != 1 else 2
    changed_past = build_ladder_features(toy_region.clients, past, toy_region.vacancies, snaps)
    assert changed_past["rung"].iloc[0] != base["rung"].iloc[0]


def test_current_rung_of_the_client_is_not_a_feature(toy_region):
    """clients.ladder_rung is today's rung: for a past snapshot it is the future."""
    snaps = _snap(toy_region, 100)
    base = region_ladder_features(toy_region, snaps)
    clients = toy_region.clients.assign(ladder_rung=6)
    pd.testing.assert_frame_equal(base, build_ladder_features(clients, toy_region.ladder_events, toy_region.vacancies, snaps))


def test_rung_history_features():
    clients = pd.DataFrame({
        "id": ["a"], "intake_date": [date(2020, 1, 1)], "benefit_type": ["ww"], "age_band": ["27-44"], "education_level": ["mbo4"],
        "dutch_level": ["B1"], "driving_licence": [True], "hours_available": [32], "complexity": [2], "newcomer": [False],
        "special_group": [False], "work_history": [[{"occupation": "cook", "years": 2.5}, {"occupation": "waiter", "years": 1}]],
        "skills": [["x", "y"]], "certificates": [["VCA"]], "target_sectors": [["care"]],
    })
    events = pd.DataFrame({"id": ["1", "2", "3"], "client_id": ["a"] * 3, "date": [date(2020, 1, 1), date(2021, 1, 1), date(2021, 7, 1)], "rung": [2, 3, 4]})
    snaps = pd.DataFrame({"client_id": ["a", "a"], "as_of": [date(2021, 8, 1), date(2019, 6, 1)]})
    X = build_ladder_features(clients, events, pd.DataFrame(columns=["sector", "open_date", "close_date"]), snaps)
    assert X.loc[0, "rung"] == 4 and X.loc[0, "n_measurements"] == 3
    # a year before 2021-08-01 the last measurement was 2020-01-01 (rung 2): change +2
    assert X.loc[0, "rung_change_12m"] == 2
    assert round(X.loc[0, "months_since_measurement"]) == 1
    assert X.loc[0, "work_history_years"] == 3.5 and X.loc[0, "skills_count"] == 2 and X.loc[0, "certificates_count"] == 1
    assert round(X.loc[0, "months_on_benefit"]) == 19
    assert np.isnan(X.loc[1, "rung"]) and X.loc[1, "n_measurements"] == 0 and X.loc[1, "months_on_benefit"] == 0


def test_sector_demand_index_uses_the_year_before_the_snapshot():
    d = date(2024, 6, 1)
    vac = pd.DataFrame({
        "sector": ["care"] * 4 + ["tech"] + ["retail"] * 2 + ["care"] * 10,
        "open_date": [date(2024, 1, 1)] * 7 + [date(2024, 7, 1)] * 10,  # the last ten open after the snapshot
        "close_date": [None] * 17,
    })
    got = sector_demand(vac, pd.Series([["care"], ["tech"], ["care", "tech"], [], ["unknown sector"]]), pd.Series([d] * 5))
    mean = (4 + 1 + 2) / 3
    assert got[0] == pytest.approx(np.log(4 / mean))
    assert got[1] == pytest.approx(np.log(1 / mean))  # -0.85: within the clip range
    assert got[2] == pytest.approx((np.log(4 / mean) + np.log(1 / mean)) / 2)
    assert got[3] == 0.0 and got[4] == 0.0
    many = pd.DataFrame({"sector": ["care"] * 50 + ["tech"], "open_date": [date(2024, 1, 1)] * 51, "close_date": [None] * 51})
    assert sector_demand(many, pd.Series([["care"], ["tech"]]), pd.Series([d, d])).tolist() == [pytest.approx(np.log(50 / 25.5)), -1.0]


def test_describe_value_in_plain_words():
    assert describe_value("rung", 4.0) == "rung 4 (unpaid work)"
    assert describe_value("dutch_rank", 3.0) == "Dutch level B1"
    assert describe_value("driving_licence", 0.0) == "no driving licence"
    assert "unknown" in describe_value("education_rank", np.nan)


def test_ranker_refuses_protected_columns_and_uses_the_rung_of_the_shortlist_date(toy_region):
    from models.ranker import RankerModel, point_in_time_clients

    X = pd.DataFrame({"skill_similarity": [0.1, 0.9] * 20, "gender": ["female", "male"] * 20})
    with pytest.raises(ProtectedAttributeError, match="gender"):
        RankerModel(max_iter=3).fit(X, [0, 1] * 20)

    ev = toy_region.ladder_events
    cid = ev["client_id"].value_counts().index[0]
    mine = ev[ev["client_id"] == cid].sort_values("date")
    first, second = mine.iloc[0], mine.iloc[1]
    rows, pit_ids = point_in_time_clients(toy_region.clients, ev, [cid, cid], [first["date"], second["date"]])
    assert list(pit_ids) == [f"{cid}@r{first['rung']}", f"{cid}@r{second['rung']}"]
    got = dict(zip(rows["id"], rows["ladder_rung"]))
    assert got[pit_ids[0]] == first["rung"] and got[pit_ids[1]] == second["rung"]
    with pytest.raises(ProtectedAttributeError):
        point_in_time_clients(toy_region.clients.assign(migration_background="x"), ev, [cid], [first["date"]])
