"""Time-based train/test split without leakage from the future.

Each labelled row has a *start* (the moment a prediction would have been made: the snapshot
date of a ladder snapshot, the shortlist date of a match) and an *end* (the last moment that
can influence its label: snapshot + 12 months, the hire/reject decision). With a cutoff date:

- training rows have ``end < cutoff``: their labels were fully known before the cutoff;
- test rows have ``start >= cutoff`` and ``end <= data_end``: predicted after the cutoff, with a
  label fully observed in the data.

Rows in between (started before the cutoff, label resolved after it) are in neither set: using
them for training would let the model learn from outcomes that happened after the cutoff, which
is exactly the leak a random split has. A model trained this way is evaluated as it would be
used: on the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd


class SplitError(ValueError):
    """The data cannot be split in time (too few rows, no labelled future)."""


@dataclass(frozen=True)
class TimeSplit:
    cutoff: date
    data_end: date
    train: np.ndarray  # boolean mask
    test: np.ndarray  # boolean mask

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_test(self) -> int:
        return int(self.test.sum())

    def describe(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "data_end": self.data_end.isoformat(), "n_train": self.n_train, "n_test": self.n_test}


def _dt(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values).reset_index(drop=True)).astype("datetime64[ns]")


def time_split(
    start,
    end,
    cutoff: date | None = None,
    data_end: date | None = None,
    test_fraction: float = 0.25,
    min_rows: int = 20,
) -> TimeSplit:
    """Split rows by time (see module doc). `start` and `end` are array-likes of dates.

    Without a `cutoff`, it is placed so that about `test_fraction` of the rows whose label is
    observed (``end <= data_end``) start on or after it. `data_end`, the last date the data
    covers, defaults to the latest `start`; pass the region's observation end when known.
    """
    s, e = _dt(start), _dt(end)
    if len(s) != len(e):
        raise SplitError(f"start and end differ in length ({len(s)} vs {len(e)})")
    if len(s) == 0:
        raise SplitError("nothing to split: no labelled rows")
    if (e < s).any():
        raise SplitError(f"{int((e < s).sum())} row(s) end before they start")
    d_end = pd.Timestamp(data_end) if data_end is not None else s.max()
    observed = (e <= d_end).to_numpy()
    if not 0 < test_fraction < 1:
        raise SplitError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    if cutoff is None:
        starts = np.sort(s[observed].to_numpy())
        if len(starts) < min_rows:
            raise SplitError(f"only {len(starts)} row(s) with an observed label; need at least {min_rows}")
        cut = pd.Timestamp(starts[int(len(starts) * (1 - test_fraction))]).normalize()
    else:
        cut = pd.Timestamp(cutoff)
    train = (e < cut).to_numpy() & observed
    test = (s >= cut).to_numpy() & observed
    split = TimeSplit(cutoff=cut.date(), data_end=d_end.date(), train=train, test=test)
    if split.n_train < min_rows or split.n_test < min_rows:
        raise SplitError(
            f"time split at {split.cutoff} leaves {split.n_train} training and {split.n_test} test rows "
            f"(need {min_rows} each); use more data or another cutoff"
        )
    return split


def assert_no_leakage(split: TimeSplit, start, end) -> None:
    """Raise AssertionError if any training label was resolved on or after the cutoff, any test
    row started before it, or a row is in both sets."""
    s, e = _dt(start), _dt(end)
    cut = pd.Timestamp(split.cutoff)
    if (split.train & split.test).any():
        raise AssertionError("rows in both training and test set")
    if (e[split.train] >= cut).any():
        raise AssertionError("a training label is resolved on or after the cutoff (future leakage)")
    if (s[split.test] < cut).any():
        raise AssertionError("a test row starts before the cutoff")
