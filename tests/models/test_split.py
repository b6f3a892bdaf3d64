"""The time split: no label from the future reaches training."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.split import SplitError, assert_no_leakage, time_split
from models.training import HORIZON_MONTHS, ladder_dataset, split_dataset


def test_split_rules():
    start = pd.Series(pd.date_range("2020-01-01", periods=400, freq="7D"))
    end = start + pd.Timedelta(days=365)
    s = time_split(start, end, cutoff=date(2023, 1, 1), data_end=date(2027, 1, 1))
    assert (end[s.train] < pd.Timestamp("2023-01-01")).all()
    assert (start[s.test] >= pd.Timestamp("2023-01-01")).all()
    assert not (s.train & s.test).any()
    # rows started before the cutoff whose label resolves after it are in neither set
    straddling = (start < pd.Timestamp("2023-01-01")) & (end >= pd.Timestamp("2023-01-01"))
    assert straddling.any() and not (s.train[straddling] | s.test[straddling]).any()
    assert_no_leakage(s, start, end)


def test_unobserved_labels_are_not_tested():
    start = pd.Series(pd.date_range("2020-01-01", periods=200, freq="7D"))
    end = start + pd.Timedelta(days=365)
    s = time_split(start, end, cutoff=date(2021, 6, 1), data_end=date(2023, 1, 1))
    assert (end[s.test] <= pd.Timestamp("2023-01-01")).all()
    assert s.n_test < (start >= pd.Timestamp("2021-06-01")).sum()


def test_leakage_check_catches_a_random_split():
    rng = np.random.default_rng(0)
    start = pd.Series(pd.date_range("2020-01-01", periods=300, freq="3D"))
    end = start + pd.Timedelta(days=365)
    s = time_split(start, end, data_end=date(2030, 1, 1))
    leaky = type(s)(cutoff=s.cutoff, data_end=s.data_end, train=rng.random(300) < 0.7, test=s.test)
    with pytest.raises(AssertionError):
        assert_no_leakage(leaky, start, end)


def test_default_cutoff_gives_about_the_test_fraction():
    start = pd.Series(pd.date_range("2020-01-01", periods=1000, freq="D"))
    s = time_split(start, start, test_fraction=0.25)
    assert 200 <= s.n_test <= 300


def test_bad_input_is_refused():
    start = pd.Series(pd.date_range("2020-01-01", periods=10, freq="D"))
    with pytest.raises(SplitError, match="need"):
        time_split(start, start)
    with pytest.raises(SplitError, match="end before"):
        time_split(start, start - pd.Timedelta(days=1))
    with pytest.raises(SplitError, match="nothing"):
        time_split(pd.Series([], dtype="datetime64[ns]"), pd.Series([], dtype="datetime64[ns]"))


def test_ladder_training_rows_only_see_labels_before_the_cutoff(toy_region):
    """On a real dataset: every ladder event that decides a training label is dated before the
    cutoff, and every test snapshot is on or after it."""
    ds = ladder_dataset(toy_region)
    split = split_dataset(ds)
    cut = pd.Timestamp(split.cutoff)
    assert split.n_train > 100 and split.n_test > 100
    train_snaps = pd.DataFrame({"client_id": ds.client_ids[split.train], "as_of": ds.start[split.train].to_numpy()})
    ev = toy_region.ladder_events.assign(date=pd.to_datetime(toy_region.ladder_events["date"]))
    m = train_snaps.merge(ev, on="client_id")
    in_window = (m["date"] > m["as_of"]) & (m["date"] <= m["as_of"] + pd.DateOffset(months=HORIZON_MONTHS))
    assert (m.loc[in_window, "date"] < cut).all()
    assert (ds.start[split.test] >= cut).all()
    assert_no_leakage(split, ds.start, ds.end)
    # and the feature rows of training snapshots never look past their own snapshot date
    assert (pd.to_datetime(ds.X["as_of"][split.train]) < cut - timedelta(days=300)).all()
