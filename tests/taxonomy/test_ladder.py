"""plein.ladder: rung at a date and 12-month outcomes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from plein.ladder import ladder_outcomes, rung_at

D = dt.date


@pytest.fixture
def events() -> pd.DataFrame:
    rows = [
        ("e1", "a", D(2024, 1, 31), 2),
        ("e2", "a", D(2024, 6, 1), 3),
        ("e3", "a", D(2025, 1, 31), 5),  # exactly 12 calendar months after 2024-01-31
        ("e4", "b", D(2024, 3, 1), 4),
        ("e5", "b", D(2024, 9, 1), 3),  # fell
        ("e6", "c", D(2024, 2, 1), 1),
        ("e7", "c", D(2025, 3, 1), 2),  # rose, but after the window
        ("e8", "d", D(2024, 2, 1), 5),
        ("e9", "d", D(2024, 8, 1), 6),
    ]
    return pd.DataFrame(rows, columns=["id", "client_id", "date", "rung"])


def test_rung_at_takes_latest_measurement_on_or_before(events):
    got = rung_at(events, ["a", "a", "a", "a", "b", "zz"],
                  [D(2024, 1, 30), D(2024, 1, 31), D(2024, 5, 31), D(2030, 1, 1), D(2024, 9, 1), D(2024, 9, 1)])
    assert got.tolist() == [pd.NA, 2, 2, 5, 3, pd.NA]
    assert str(got.dtype) == "Int64"


def test_rung_at_accepts_strings_and_timestamps(events):
    got = rung_at(events, ["b", "b"], ["2024-03-01", pd.Timestamp("2024-02-29")])
    assert got.tolist() == [4, pd.NA]


def test_rung_at_length_mismatch_is_an_error(events):
    with pytest.raises(ValueError, match="2 client ids but 1 dates"):
        rung_at(events, ["a", "b"], [D(2024, 1, 1)])


def test_ladder_outcomes(events):
    snaps = pd.DataFrame({
        "client_id": ["a", "a", "b", "c", "d", "e"],
        "as_of": [D(2024, 1, 31), D(2024, 6, 1), D(2024, 3, 1), D(2024, 2, 1), D(2024, 2, 1), D(2024, 2, 1)],
    })
    out = ladder_outcomes(events, snaps)
    assert list(out.columns) == ["client_id", "as_of", "rung_at", "rose", "paid"]
    assert out["rung_at"].tolist() == [2, 3, 4, 1, 5, pd.NA]
    # a: window (2024-01-31, 2025-01-31] holds 3 and 5 -> rose and paid (end inclusive)
    # a at 2024-06-01 (rung 3): 5 on 2025-01-31 -> rose, paid
    # b: fell to 3 -> neither; c: next measurement after the window; d: 5 -> 6 rose and paid
    assert out["rose"].tolist() == [True, True, False, False, True, pd.NA]
    assert out["paid"].tolist() == [True, True, False, False, True, False]


def test_ladder_outcomes_window_is_open_at_as_of(events):
    # the measurement on the as_of date itself is the past: b at 2024-02-29 has no rung yet,
    # the 2024-03-01 measurement (rung 4) is in its window -> paid False (4 < 5), rose NA
    out = ladder_outcomes(events, pd.DataFrame({"client_id": ["b"], "as_of": [D(2024, 2, 29)]}))
    assert out["rung_at"].tolist() == [pd.NA]
    assert out["paid"].tolist() == [False]
    # a shorter horizon leaves a's rise to 5 out
    out = ladder_outcomes(events, pd.DataFrame({"client_id": ["a"], "as_of": [D(2024, 1, 31)]}), horizon_months=6)
    assert out["rose"].tolist() == [True] and out["paid"].tolist() == [False]


def test_ladder_outcomes_bad_input(events):
    with pytest.raises(ValueError, match="missing column"):
        ladder_outcomes(events, pd.DataFrame({"client_id": ["a"]}))
    with pytest.raises(ValueError, match="horizon_months must be positive"):
        ladder_outcomes(events, pd.DataFrame({"client_id": ["a"], "as_of": [D(2024, 1, 1)]}), horizon_months=0)
    bad = events.copy()
    bad.loc[0, "rung"] = 7
    with pytest.raises(ValueError, match="row 0: rung 7 is not 1-6"):
        rung_at(bad, ["a"], [D(2024, 1, 1)])
